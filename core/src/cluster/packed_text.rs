//! Several short strings of a compact record in one allocation.
//!
//! The compact records of the store (an Endpoints address in
//! `stored.rs`, a slice endpoint in `stored_slice.rs`) each hold a handful
//! of strings: an IP, a pod's name and uid, a hostname, a node name, a
//! zone. A [`PackedText`] keeps them one after the other in one
//! `Box<str>`, cut by `u16` lengths, with a bit per string telling an
//! absent string from an empty one.

/// `N` optional strings (at most 8) in one allocation, and the record's
/// own small field `extra`.
///
/// `extra` lives here, not beside the `PackedText` in the record, so
/// that it fills the room the lengths leave: a record of five or six
/// strings and a `u32` or `u16` of its own stays 32 bytes.
///
/// Two are equal when their strings (present or absent, in order) and
/// their `extra` are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackedText<const N: usize, T> {
    /// The present strings, one after the other.
    text: Box<str>,
    /// Each string's length (0 when absent).
    lens: [u16; N],
    /// Bit `i` set: string `i` is present.
    present: u8,
    /// The record's own field.
    pub(crate) extra: T,
}

impl<const N: usize, T> PackedText<N, T> {
    /// The strings `parts`, in order, with the record's field `extra`;
    /// `None` when a string is longer than `u16::MAX` bytes.
    pub(crate) fn new(parts: [Option<&str>; N], extra: T) -> Option<Self> {
        const { assert!(N <= 8, "one presence bit per string, in a u8") };
        let mut lens = [0; N];
        let mut present = 0;
        for (i, part) in parts.iter().enumerate() {
            if let Some(s) = part {
                lens[i] = u16::try_from(s.len()).ok()?;
                present |= 1 << i;
            }
        }
        let mut text = String::with_capacity(lens.iter().map(|&l| usize::from(l)).sum());
        for s in parts.iter().flatten() {
            text.push_str(s);
        }
        Some(PackedText {
            text: text.into_boxed_str(),
            lens,
            present,
            extra,
        })
    }

    /// String `i`; `None` when it is absent (or there is no string `i`).
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        (i < N && self.present & (1 << i) != 0).then(|| self.part(i))
    }

    /// String `i`, for a string that is always present (empty when it is
    /// absent, or there is no string `i`).
    pub(crate) fn part(&self, i: usize) -> &str {
        let Some(&len) = self.lens.get(i) else {
            return "";
        };
        let from: usize = self.lens[..i].iter().map(|&l| usize::from(l)).sum();
        self.text
            .get(from..from + usize::from(len))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Present, empty and absent strings come back as given, each in its
    // place.
    #[test]
    fn strings_come_back_as_given() {
        let parts = [Some("10.0.0.1"), None, Some(""), Some("web-1"), None];
        let p = PackedText::new(parts, 7u32).expect("short strings");
        for (i, want) in parts.iter().enumerate() {
            assert_eq!(p.get(i), *want);
            assert_eq!(p.part(i), want.unwrap_or_default());
        }
        assert_eq!(p.get(5), None);
        assert_eq!(p.part(5), "");
        assert_eq!(p.extra, 7);
        let all_absent = PackedText::new([None::<&str>; 3], ()).unwrap();
        assert_eq!([0, 1, 2].map(|i| all_absent.get(i)), [None; 3]);
    }

    // Equal strings and fields are equal; an empty string is not an
    // absent one.
    #[test]
    fn equality_tells_empty_from_absent() {
        let a = PackedText::new([Some("a"), Some("")], 1u16).unwrap();
        assert_eq!(a, PackedText::new([Some("a"), Some("")], 1u16).unwrap());
        assert_ne!(a, PackedText::new([Some("a"), None], 1u16).unwrap());
        assert_ne!(a, PackedText::new([Some(""), Some("a")], 1u16).unwrap());
        assert_ne!(a, PackedText::new([Some("a"), Some("")], 2u16).unwrap());
    }

    // A string longer than a u16 length is refused; one of exactly
    // u16::MAX bytes is held.
    #[test]
    fn a_too_long_string_is_refused() {
        let max = "x".repeat(usize::from(u16::MAX));
        let long = "x".repeat(usize::from(u16::MAX) + 1);
        let p = PackedText::new([Some("ip"), Some(max.as_str())], ()).unwrap();
        assert_eq!(p.get(1), Some(max.as_str()));
        assert!(PackedText::new([Some("ip"), Some(long.as_str())], ()).is_none());
        assert!(PackedText::new([None, Some(long.as_str())], ()).is_none());
    }
}
