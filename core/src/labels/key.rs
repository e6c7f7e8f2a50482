//! [`Key`]: a requirement's label key, held inside the requirement when it
//! is short, so that parsing a selector does not allocate for its keys.

use std::fmt;
use std::hash::{Hash, Hasher};

/// Keys up to this many bytes are held inline: `app.kubernetes.io/name`
/// fits, and so do most keys people write by hand. Chosen so that a `Key`
/// is as large as a `String` (24 bytes).
const INLINE: usize = 22;

/// A label key: its bytes inline when it has at most [`INLINE`] of them,
/// else a boxed `str`. Which one is decided by the length alone, so equal
/// keys are always held the same way; equality, hashing and order are
/// those of the text.
#[derive(Clone)]
pub(super) enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Key {
    #[inline]
    pub(super) fn new(key: &str) -> Key {
        let b = key.as_bytes();
        if b.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..b.len()].copy_from_slice(b);
            Key::Inline {
                // At most INLINE (22), so it fits.
                len: b.len() as u8,
                bytes,
            }
        } else {
            Key::Heap(key.into())
        }
    }

    /// From an owned string, keeping its heap block when the key is long.
    pub(super) fn from_string(key: String) -> Key {
        if key.len() <= INLINE {
            Key::new(&key)
        } else {
            Key::Heap(key.into_boxed_str())
        }
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Key::Heap(s) => s.as_bytes(),
        }
    }

    /// The key as text. An inline key was copied whole from a `str`, so
    /// the check cannot fail; it costs a pass over at most 22 bytes.
    #[inline]
    pub(super) fn as_str(&self) -> &str {
        match self {
            Key::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Key::Heap(s) => s,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        match self {
            Key::Inline { len, .. } => usize::from(*len),
            Key::Heap(s) => s.len(),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that the text decides.
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_boxed_keys_keep_their_text() {
        for n in [0, 1, 7, 8, 21, 22, 23, 64, 253] {
            let text: String = "ab.c/dé".chars().cycle().take(n).collect();
            let text = text.as_str();
            let key = Key::new(text);
            assert_eq!(key.as_str(), text);
            assert_eq!(key.as_bytes(), text.as_bytes());
            assert_eq!(key.len(), text.len());
            assert_eq!(Key::from_string(text.to_owned()), key);
            assert_eq!(format!("{key:?}"), format!("{text:?}"));
        }
        assert_ne!(Key::new("a"), Key::new("a\0"));
        assert!(matches!(Key::new(&"x".repeat(22)), Key::Inline { .. }));
        assert!(matches!(Key::new(&"x".repeat(23)), Key::Heap(_)));
    }
}
