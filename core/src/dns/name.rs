//! [`Name`]: a record's owner name, kept inline when short.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Names up to this many octets are stored inline.
const INLINE: usize = 62;

/// A domain name in presentation format, as a [`Record`](super::Record)
/// owns it: names of up to 62 octets (nearly every cluster name) are
/// stored in the value itself, so an answer costs no allocation per
/// record; longer ones on the heap. It reads as a `&str` (`Deref`) and
/// compares, hashes and orders as one.
///
/// ```
/// use svcroute::dns::Name;
/// let n = Name::from("web.shop.svc.cluster.local.");
/// assert_eq!(n, "web.shop.svc.cluster.local.");
/// assert!(n.ends_with(".svc.cluster.local."));
/// assert_eq!(n.to_string(), "web.shop.svc.cluster.local.");
/// let long = Name::from("x".repeat(100));
/// assert_eq!(long.len(), 100);
/// assert_eq!(String::from(long), "x".repeat(100));
/// ```
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Name {
    /// The name `s`.
    ///
    /// ```
    /// assert_eq!(svcroute::dns::Name::new("a.b.").as_str(), "a.b.");
    /// ```
    pub fn new(s: &str) -> Name {
        let mut n = Name(Repr::Inline {
            len: 0,
            bytes: [0; INLINE],
        });
        n.set(s);
        n
    }

    /// The name as a string slice.
    ///
    /// ```
    /// assert_eq!(svcroute::dns::Name::default().as_str(), "");
    /// ```
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only whole `&str`s are stored, so the octets are UTF-8.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }

    /// Replaces the name with `s`, reusing the inline room.
    pub(super) fn set(&mut self, s: &str) {
        match &mut self.0 {
            Repr::Inline { len, bytes } if s.len() <= INLINE => {
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                // At most INLINE (62), so it fits a u8.
                *len = s.len() as u8;
            }
            _ if s.len() <= INLINE => *self = Name::new(s),
            repr => *repr = Repr::Heap(s.into()),
        }
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::new("")
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::new(s)
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        if s.len() <= INLINE {
            Name::new(&s)
        } else {
            Name(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&Name> for Name {
    fn from(n: &Name) -> Name {
        n.clone()
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        match n.0 {
            Repr::Heap(s) => s.into_string(),
            Repr::Inline { .. } => n.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_heap_and_reuse() {
        let mut n = Name::new("a.b.");
        assert!(matches!(n.0, Repr::Inline { .. }));
        n.set(&"x".repeat(63));
        assert!(matches!(n.0, Repr::Heap(_)));
        assert_eq!(n, "x".repeat(63));
        n.set("c.");
        assert!(matches!(n.0, Repr::Inline { .. }));
        assert_eq!(n.as_str(), "c.");
        assert_eq!(Name::from("é.".to_owned()), "é.");
        assert!(Name::new("a.") < Name::new("b."));
        assert_eq!(format!("{:?}", Name::new("a.")), "\"a.\"");
        assert_eq!(std::mem::size_of::<Name>(), 64);
    }
}
