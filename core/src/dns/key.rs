//! The flat key of the Service index: `<service>.<namespace>`, lower case.
//!
//! A Service name is written `<service>.<namespace>.svc.<zone>`, so its key
//! is the name's first two labels as they stand: one hash of one slice of
//! the question and one probe find the Service, with no per-namespace map
//! in between. Short keys (most) are kept inline, so the key compare reads
//! the table's own memory rather than a separate heap string.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Keys up to this many octets are stored inline.
const INLINE: usize = 30;

/// A Service's key (see the [module documentation](self)).
#[derive(Clone)]
pub(super) enum SvcKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl SvcKey {
    /// The key of `service` in `namespace` (both lower case).
    pub(super) fn new(service: &str, namespace: &str) -> SvcKey {
        let len = service.len() + 1 + namespace.len();
        if len <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..service.len()].copy_from_slice(service.as_bytes());
            bytes[service.len()] = b'.';
            bytes[service.len() + 1..len].copy_from_slice(namespace.as_bytes());
            // `len` is at most INLINE (30), so it fits a u8.
            SvcKey::Inline {
                len: len as u8,
                bytes,
            }
        } else {
            let mut v = Vec::with_capacity(len);
            v.extend_from_slice(service.as_bytes());
            v.push(b'.');
            v.extend_from_slice(namespace.as_bytes());
            SvcKey::Heap(v.into_boxed_slice())
        }
    }

    /// The key's octets.
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            SvcKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            SvcKey::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for SvcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl PartialEq for SvcKey {
    fn eq(&self, other: &SvcKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SvcKey {}

/// Hashes as its octets do, so a map keyed by `SvcKey` is probed with a
/// plain `&[u8]`.
impl Hash for SvcKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl Borrow<[u8]> for SvcKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The key of `service` in `namespace` put together on the stack, for a
/// lookup from labels that are not adjacent in a name; `None` when longer
/// than any legal key (two labels of at most 63 octets).
pub(super) struct KeyBuf {
    bytes: [u8; 128],
    len: usize,
}

impl KeyBuf {
    pub(super) fn new(service: &str, namespace: &str) -> Option<KeyBuf> {
        let len = service.len() + 1 + namespace.len();
        let mut k = KeyBuf {
            bytes: [0; 128],
            len,
        };
        k.bytes
            .get_mut(..service.len())?
            .copy_from_slice(service.as_bytes());
        *k.bytes.get_mut(service.len())? = b'.';
        k.bytes
            .get_mut(service.len() + 1..len)?
            .copy_from_slice(namespace.as_bytes());
        Some(k)
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn inline_and_heap_keys_probe_with_plain_bytes() {
        let long = "n".repeat(40);
        let mut map: HashMap<SvcKey, u32> = HashMap::new();
        map.insert(SvcKey::new("web", "shop"), 1);
        map.insert(SvcKey::new("web", &long), 2);
        assert!(matches!(SvcKey::new("web", "shop"), SvcKey::Inline { .. }));
        assert!(matches!(SvcKey::new("web", &long), SvcKey::Heap(_)));
        assert_eq!(map.get(&b"web.shop"[..]), Some(&1));
        assert_eq!(map.get(format!("web.{long}").as_bytes()), Some(&2));
        assert_eq!(map.get(&b"web.sho"[..]), None);
        let k = KeyBuf::new("web", "shop").expect("fits");
        assert_eq!(map.get(k.as_bytes()), Some(&1));
        assert!(KeyBuf::new(&"s".repeat(64), &"n".repeat(64)).is_none());
        assert_eq!(format!("{:?}", SvcKey::new("a", "b")), "\"a.b\"");
    }
}
