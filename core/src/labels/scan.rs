//! One walk over a label map for all of a selector's requirements
//! ([`Labels::scan`]): most labels are passed over on their key length
//! alone, and a label whose key length is one of the requirements' is
//! compared only with the requirements whose keys have that length.
//!
//! [`Labels::scan`]: super::Labels::scan

use super::selector::Requirement;

/// Up to this many requirements, each has a byte of [`Walk::packed`] and
/// its "seen" bit is the high bit of that byte (its *slot*); beyond, its
/// slot is bit `i` and every requirement is a candidate for every label
/// that passes the length filter.
const PACKED: usize = 8;

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// What a walk needs to know of a selector's requirements (sorted by
/// key), worked out once when the selector is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(super) struct Walk {
    /// Bit `len % 64` is set for the key length of every requirement: a
    /// label whose bit is clear is none of their keys.
    lengths: u64,
    /// With at most [`PACKED`] requirements: byte `i` is requirement `i`'s
    /// key length modulo 256.
    packed: u64,
    /// The slots of the requirements that hold on an absent key
    /// (`selectors.md#3`: `!=`, `notin`, `!k`).
    absent: u64,
    /// The slots of all requirements (at most 64).
    all: u64,
    /// The slot of the last requirement (the greatest key).
    last: u64,
}

impl Walk {
    /// The walk of these requirements (sorted by key; at most 64 take part,
    /// see [`Scan::worth_walking`]).
    pub(super) fn new(requirements: &[Requirement]) -> Walk {
        let n = requirements.len().min(64);
        let mut w = Walk::default();
        for (i, r) in requirements.iter().take(64).enumerate() {
            let slot = slot(i, n);
            w.lengths |= 1u64 << (r.key_len() % 64);
            if n <= PACKED {
                w.packed |= u64::from(r.key_len() as u8) << (8 * i);
            }
            if r.holds_absent() {
                w.absent |= slot;
            }
            w.all |= slot;
            w.last = slot;
        }
        w
    }

    /// The slots of the requirements whose key may be a key of `len`
    /// bytes: a superset, never missing one (the walk compares the keys).
    #[inline(always)]
    fn candidates(&self, len: usize, small: bool) -> u64 {
        if small {
            // The bytes of `packed` equal to `len % 256` are the zero
            // bytes of `x`. This test finds every zero byte; it may also
            // flag a byte 0x01 just above one (a borrow), which the key
            // comparison then turns down.
            let x = self.packed ^ u64::from(len as u8).wrapping_mul(ONES);
            x.wrapping_sub(ONES) & !x & self.all
        } else {
            self.all
        }
    }
}

/// The slot of requirement `i` of `n`.
#[inline(always)]
fn slot(i: usize, n: usize) -> u64 {
    if n <= PACKED {
        1u64 << (8 * i + 7)
    } else {
        1u64 << i
    }
}

/// The requirement of a slot bit (`bit` has one bit set).
#[inline(always)]
fn index(bit: u64, small: bool) -> usize {
    let at = bit.trailing_zeros() as usize;
    if small { at / 8 } else { at }
}

/// The requirements of one [`Selector::matches`] call, prepared for a walk
/// over a label set ([`Labels::scan`]).
///
/// [`Selector::matches`]: super::Selector::matches
/// [`Labels::scan`]: super::Labels::scan
#[doc(hidden)]
#[derive(Debug)]
pub struct Scan<'r> {
    requirements: &'r [Requirement],
    walk: &'r Walk,
}

impl<'r> Scan<'r> {
    /// The scan of these requirements (sorted by key) and their walk.
    #[inline(always)]
    pub(super) fn new(requirements: &'r [Requirement], walk: &'r Walk) -> Scan<'r> {
        Scan { requirements, walk }
    }

    /// The selector's requirements, sorted by key (stably).
    #[inline]
    pub(super) fn requirements(&self) -> &'r [Requirement] {
        self.requirements
    }

    /// Is one walk over `labels` entries cheaper than one lookup per
    /// requirement? (A walk costs a few ns per label; a lookup a few string
    /// compares.) At most 64 requirements (one slot bit each). Never in
    /// the compact build, which keeps to lookups: smaller code.
    #[inline]
    pub(super) fn worth_walking(&self, labels: usize) -> bool {
        !cfg!(feature = "compact")
            && self.requirements.len() <= 64
            && labels <= 8 * self.requirements.len() + 8
    }

    /// Evaluates every requirement from one pass over `entries` (each key
    /// once, or the first pair of a key counts, as [`Labels::get`] on a
    /// slice): a requirement whose key is seen is tested on its value at
    /// once; one whose key never appears is tested as absent at the end
    /// (`selectors.md#3`: `!=`, `notin` and `!k` hold, the others fail).
    ///
    /// `SORTED`: the entries come in key order with each key once (a
    /// `BTreeMap`). Then the walk ends at the last requirement's key (the
    /// greatest): any requirement key not seen by then is absent.
    ///
    /// [`Labels::get`]: super::Labels::get
    #[inline]
    pub(super) fn walk<'l, const SORTED: bool>(
        &self,
        entries: impl Iterator<Item = (&'l str, &'l str)>,
    ) -> bool {
        if self.requirements.len() <= PACKED {
            self.walk_with::<SORTED, true>(entries)
        } else {
            self.walk_with::<SORTED, false>(entries)
        }
    }

    /// [`Scan::walk`], with the slots of the packed (`SMALL`) or the
    /// general layout.
    #[inline(always)]
    fn walk_with<'l, const SORTED: bool, const SMALL: bool>(
        &self,
        entries: impl Iterator<Item = (&'l str, &'l str)>,
    ) -> bool {
        let w = *self.walk;
        let small = SMALL;
        let mut seen = 0u64;
        'labels: for (key, value) in entries {
            let key = key.as_bytes();
            if w.lengths >> (key.len() % 64) & 1 == 0 {
                continue;
            }
            // Lowest slot first, so that the last requirement (the
            // highest slot) is tested after any other of the same key.
            let mut maybe = w.candidates(key.len(), small) & !seen;
            while maybe != 0 {
                let bit = maybe & maybe.wrapping_neg();
                maybe ^= bit;
                if let Some(r) = self.requirements.get(index(bit, small))
                    && r.has_key(key)
                {
                    seen |= bit;
                    if !r.holds_on(value) {
                        return false;
                    }
                    if SORTED && bit == w.last {
                        break 'labels;
                    }
                    if seen == w.all {
                        return true;
                    }
                }
            }
        }
        (seen | w.absent) & w.all == w.all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Operator, Requirement};

    fn exists(key: &str) -> Requirement {
        Requirement::new(key, Operator::Exists, [""; 0]).unwrap()
    }

    /// A valid label key of `len` bytes (up to 317) made of `c`.
    fn key(len: usize, c: char) -> String {
        if len <= 63 {
            return c.to_string().repeat(len);
        }
        let name = c.to_string().repeat(63);
        let prefix: String = (0..len - 64)
            .map(|i| if i % 50 == 49 { '.' } else { c })
            .collect();
        format!("{prefix}/{name}")
    }

    #[test]
    fn candidates_are_the_requirements_of_that_key_length() {
        // Lengths that differ in one bit, or by 256, and long ones.
        let keys = [
            key(1, 'a'),
            key(2, 'b'),
            key(3, 'c'),
            key(129, 'd'),
            key(257, 'e'),
            key(300, 'f'),
            key(44, 'g'),
        ];
        assert_eq!(keys.clone().map(|k| k.len()), [1, 2, 3, 129, 257, 300, 44]);
        let requirements: Vec<Requirement> = keys.iter().map(|k| exists(k)).collect();
        let n = requirements.len();
        let w = Walk::new(&requirements);
        for len in 0..400usize {
            let got = w.candidates(len, true);
            let mut lowest_hit = None;
            for (i, r) in requirements.iter().enumerate() {
                let same = r.key_len() % 256 == len % 256;
                if same {
                    lowest_hit.get_or_insert(i);
                    assert_ne!(got & slot(i, n), 0, "len {len}: requirement {i} missed");
                } else if got & slot(i, n) != 0 {
                    // The only false hits: a length one off (a byte 0x01
                    // of the difference) above a true hit.
                    assert_eq!((r.key_len() as u8) ^ (len as u8), 1, "len {len}: {i}");
                    assert!(lowest_hit.is_some_and(|h| h < i), "len {len}: {i}");
                }
            }
            assert_eq!(w.candidates(len, false), w.all);
        }
        assert_eq!(w.all.count_ones(), 7);
        assert_eq!(index(w.last, true), 6);
    }

    #[test]
    fn slots_past_eight_requirements_are_single_bits() {
        let requirements: Vec<Requirement> = (0..64).map(|i| exists(&format!("k{i:02}"))).collect();
        let w = Walk::new(&requirements);
        assert_eq!(w.all, u64::MAX);
        assert_eq!(w.last, 1 << 63);
        assert_eq!(index(1 << 9, false), 9);
        assert_eq!(Walk::new(&requirements[..8]).all, 0x8080_8080_8080_8080);
    }
}
