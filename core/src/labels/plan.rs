//! A requirement's match plan: how [`Selector::matches`] tests a present
//! label, worked out once when the requirement is built, so that the common
//! requirements (`k=v`, `k in (a,b)`, `k!=v`, `k`, `!k` with values of at
//! most 16 bytes) are tested by comparing integers, without reading the
//! value's bytes twice or dispatching on the operator and the value list.
//!
//! [`Selector::matches`]: super::Selector::matches

use super::selector::Operator;

/// Values up to this many bytes have a [`short_form`].
pub(super) const SHORT: usize = 16;

/// A string of at most [`SHORT`] bytes as two numbers, such that two strings
/// **of the same length** are equal exactly when their forms are: every
/// byte is in the form (up to 3 bytes one by one, up to 7 as two
/// overlapping 4-byte words, up to 16 as two overlapping 8-byte words).
/// Strings of different lengths may share a form; compare lengths too.
/// `None` past [`SHORT`] bytes. (Checked byte by byte, for every length,
/// in this module's tests.)
#[inline(always)]
pub(super) fn short_form(s: &[u8]) -> Option<Form> {
    fn word<const W: usize>(s: &[u8], at: usize) -> [u8; W] {
        let mut w = [0u8; W];
        if let Some(part) = s.get(at..at + W) {
            w.copy_from_slice(part);
        }
        w
    }
    let n = s.len();
    Some(match n {
        0 => [0, 0],
        1..=3 => {
            let b = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
            [b(0) | b(n / 2) << 8 | b(n - 1) << 16, 0]
        }
        4..=7 => [
            u64::from(u32::from_le_bytes(word(s, 0))),
            u64::from(u32::from_le_bytes(word(s, n - 4))),
        ],
        8..=SHORT => [
            u64::from_le_bytes(word(s, 0)),
            u64::from_le_bytes(word(s, n - 8)),
        ],
        _ => return None,
    })
}

/// A [`short_form`]: two words (8-byte aligned, so that a requirement
/// stays small enough to be moved without a `memcpy` call).
pub(super) type Form = [u64; 2];

/// How a requirement tests a label that is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Present {
    /// Holds when the value's length and [`short_form`] are one of the two
    /// pairs (a one-value list is held twice), or, with `negate`, when
    /// they are neither (`!=`, `notin`). Every listed value is at most
    /// [`SHORT`] bytes, so a longer value is never one of them.
    ///
    /// `k` and `!k` (whatever the value: holds, fails) are this test with
    /// no value listed ([`Present::ANY`], [`Present::NONE`]), so that the
    /// walks test the common requirements without a dispatch.
    Short {
        lengths: [u8; 2],
        negate: bool,
        forms: [Form; 2],
    },
    /// `>` (`greater`) or `<`: the value is a base-10 int64 greater
    /// (less) than `bound`. (One variant for both, so that the test of a
    /// present value is a two-way branch and a rare third case.)
    Compare { greater: bool, bound: i64 },
    /// Anything else (long values, more than two values): a look at the
    /// requirement's value list.
    General,
}

/// A length no short value has, with a form no value of that length has
/// (a value past [`SHORT`] bytes has no form, and is given zeros): the
/// pair of a [`Present::Short`] that lists nothing.
const UNLISTED: (u8, Form) = (u8::MAX, [u64::MAX; 2]);

impl Present {
    /// `k`: holds whatever the value.
    pub(super) const ANY: Present = Present::unlisted(true);
    /// `!k`: fails whatever the value.
    pub(super) const NONE: Present = Present::unlisted(false);

    /// The short test that lists no value: holds when `negate`.
    const fn unlisted(negate: bool) -> Present {
        Present::Short {
            lengths: [UNLISTED.0; 2],
            negate,
            forms: [UNLISTED.1; 2],
        }
    }

    /// The test of a requirement with this operator, these values and
    /// (for `>` and `<`) this bound.
    pub(super) fn new(operator: Operator, values: &[String], bound: i64) -> Present {
        let negate = match operator {
            Operator::Exists => return Present::ANY,
            Operator::DoesNotExist => return Present::NONE,
            Operator::GreaterThan => {
                return Present::Compare {
                    greater: true,
                    bound,
                };
            }
            Operator::LessThan => {
                return Present::Compare {
                    greater: false,
                    bound,
                };
            }
            Operator::Equals | Operator::DoubleEquals | Operator::In => false,
            Operator::NotEquals | Operator::NotIn => true,
        };
        // At most SHORT (16) bytes, so the length fits a byte.
        let short = |v: &String| Some((v.len() as u8, short_form(v.as_bytes())?));
        let pair = match values {
            [a] => short(a).map(|a| [a, a]),
            [a, b] => short(a).zip(short(b)).map(|(a, b)| [a, b]),
            _ => None,
        };
        match pair {
            Some([(la, fa), (lb, fb)]) => Present::Short {
                lengths: [la, lb],
                negate,
                forms: [fa, fb],
            },
            None => Present::General,
        }
    }
}

/// The [`Present::Short`] test of a value given by its length and a
/// function that gives its form (called only when the length is one of
/// the listed ones, so at most [`SHORT`]).
#[inline(always)]
pub(super) fn short_holds(
    lengths: [u8; 2],
    forms: &[Form; 2],
    negate: bool,
    length: usize,
    form: impl FnOnce() -> Form,
) -> bool {
    let (a, b) = (usize::from(lengths[0]), usize::from(lengths[1]));
    let listed = if length == a || length == b {
        let f = form();
        (length == a && f == forms[0]) || (length == b && f == forms[1])
    } else {
        false
    };
    listed != negate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_tell_every_byte_apart() {
        for n in 0..=SHORT {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let fa = short_form(&a).unwrap();
            for at in 0..n {
                let mut b = a.clone();
                b[at] = b'#';
                assert_ne!(short_form(&b), Some(fa), "n={n} at={at}");
                b[at] = 0;
                assert_ne!(short_form(&b), Some(fa), "n={n} at={at} nul");
            }
        }
        assert_eq!(short_form(&[b'x'; SHORT + 1]), None);
    }

    #[test]
    fn present_tests_follow_the_operator() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Present::new(Operator::Exists, &[], 0), Present::ANY);
        assert_eq!(Present::new(Operator::DoesNotExist, &[], 0), Present::NONE);
        // Whatever the value (of any length, its form given as the walks
        // give it: zeros past 16 bytes), `k` holds and `!k` fails.
        for n in [0, 1, 5, 16, 17, 254, 255, 256] {
            let v = "v".repeat(n);
            for (present, holds) in [(Present::ANY, true), (Present::NONE, false)] {
                let Present::Short {
                    lengths,
                    forms,
                    negate,
                } = present
                else {
                    panic!("short");
                };
                let form = || short_form(v.as_bytes()).unwrap_or_default();
                assert_eq!(short_holds(lengths, &forms, negate, n, form), holds, "{n}");
            }
        }
        assert_eq!(
            Present::new(Operator::GreaterThan, &v(&["1"]), 1),
            Present::Compare {
                greater: true,
                bound: 1
            }
        );
        assert_eq!(
            Present::new(Operator::In, &v(&["a", "b", "c"]), 0),
            Present::General
        );
        assert_eq!(
            Present::new(Operator::Equals, &v(&["0123456789abcdefg"]), 0),
            Present::General
        );
        let Present::Short {
            lengths,
            forms,
            negate,
        } = Present::new(Operator::NotIn, &v(&["front", "0123456789abcdef"]), 0)
        else {
            panic!("two short values");
        };
        assert!(negate);
        let holds = |s: &str| {
            short_holds(lengths, &forms, negate, s.len(), || {
                short_form(s.as_bytes()).unwrap_or_default()
            })
        };
        assert!(!holds("front") && !holds("0123456789abcdef"));
        assert!(holds("fronT") && holds("back") && holds("0123456789abcdef0"));
    }
}
