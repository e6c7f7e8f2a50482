//! [`Name`]: the owner name a record carries, kept inline when short so
//! that making an answer record allocates nothing.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// Names up to this many octets are kept inline: a Service's name in a
/// usual zone (`<service>.<namespace>.svc.cluster.local.`) fits.
const INLINE: usize = 54;

/// A domain name in presentation format (fully qualified, trailing dot),
/// as a [`Record`](super::Record) owns it.
///
/// It reads as a `&str` (it dereferences to one, and compares, hashes,
/// orders and prints as one). Names of up to 54 octets are stored inline,
/// longer ones on the heap shared between clones, so a record of a usual
/// cluster name costs no allocation.
///
/// ```
/// use svcroute::dns::Name;
/// let n = Name::from("web.shop.svc.cluster.local.");
/// assert_eq!(n, "web.shop.svc.cluster.local.");
/// assert_eq!(n.len(), 27);
/// assert!(n.ends_with(".cluster.local."));
/// assert_eq!(n.to_string(), "web.shop.svc.cluster.local.");
/// assert_eq!(Name::from(String::from("a.")).as_str(), "a.");
/// ```
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    /// The first `len` octets of `buf` (whole UTF-8 text).
    Inline {
        len: u8,
        buf: [u8; INLINE],
    },
    Heap(Arc<str>),
}

impl Name {
    /// The name as text.
    ///
    /// ```
    /// use svcroute::dns::Name;
    /// assert_eq!(Name::from("x.").as_str(), "x.");
    /// ```
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only whole `&str`s are stored, so the octets are UTF-8.
            Repr::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }

    /// Replaces the name with `s`, reusing the inline storage.
    pub(super) fn set(&mut self, s: &str) {
        if let Repr::Inline { len, buf } = &mut self.0
            && let Some(dst) = buf.get_mut(..s.len())
        {
            dst.copy_from_slice(s.as_bytes());
            *len = s.len() as u8;
            return;
        }
        *self = Name::from(s);
    }
}

impl Default for Name {
    /// The empty name (not a legal domain name: a placeholder).
    fn default() -> Name {
        Name(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        let mut buf = [0u8; INLINE];
        match buf.get_mut(..s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                Name(Repr::Inline {
                    len: s.len() as u8,
                    buf,
                })
            }
            None => Name(Repr::Heap(Arc::from(s))),
        }
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::from(s.as_str())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        if s.len() <= INLINE {
            Name::from(s.as_str())
        } else {
            Name(Repr::Heap(Arc::from(s)))
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
        n.as_str().to_owned()
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

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

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

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back() {
        for len in [0, 1, INLINE - 1, INLINE, INLINE + 1, 255] {
            let s = "a".repeat(len);
            assert_eq!(Name::from(s.as_str()).as_str(), s);
            assert_eq!(Name::from(s.clone()).as_str(), s);
            let mut n = Name::from("x.");
            n.set(&s);
            assert_eq!(n, s);
            let mut n = Name::from("b".repeat(300));
            n.set(&s);
            assert_eq!(n, s);
        }
        assert_eq!(
            format!("{:?}", Name::from("a\"b.")),
            format!("{:?}", "a\"b.")
        );
        assert!(Name::from("a.") < Name::from("b."));
    }
}
