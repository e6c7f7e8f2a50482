//! The typed selector: [`Operator`], [`Requirement`], [`Selector`], and the
//! [`Labels`] lookup trait that matching runs against.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::str::FromStr;

use super::key::Key;
use super::parser::{self, ParseError};
use super::plan::{Form, Present, short_form, short_holds};
pub use super::scan::Scan;
use super::scan::Walk;
use super::validation::{ValidationError, validate_label_key, validate_label_value};

/// Read access to a set of labels, as matching needs it: one lookup by key.
///
/// Implemented for `BTreeMap` and `HashMap` (keys anything that borrows as
/// `str`, values anything that is `AsRef<str>`), for slices, arrays and
/// vectors of `(key, value)` pairs (a linear scan; the first pair with the
/// key wins), for `Option` (`None` has no labels) and for references. A
/// label store of your own (interned strings, an arena) only has to say how
/// to find one key.
///
/// ```
/// use svcroute::labels::{Labels, Selector};
///
/// /// Labels kept as one sorted list of pairs.
/// struct Sorted(Vec<(String, String)>);
///
/// impl Labels for Sorted {
///     fn get(&self, key: &str) -> Option<&str> {
///         let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
///         Some(&self.0[i].1)
///     }
/// }
///
/// let pod = Sorted(vec![("app".into(), "web".into()), ("tier".into(), "fe".into())]);
/// let selector: Selector = "app=web,tier!=db".parse()?;
/// assert!(selector.matches(&pod));
/// # Ok::<(), svcroute::labels::ParseError>(())
/// ```
pub trait Labels {
    /// The value of label `key`, or `None` when the key is absent. An
    /// empty value is present (`Some("")`).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use svcroute::labels::Labels;
    /// let map = BTreeMap::from([("a".to_string(), String::new())]);
    /// assert_eq!(Labels::get(&map, "a"), Some(""));
    /// assert_eq!(Labels::get(&map, "b"), None);
    /// ```
    fn get(&self, key: &str) -> Option<&str>;

    /// Matches all of `scan`'s requirements in one walk over the labels,
    /// when this label set can do that faster than one [`Labels::get`] per
    /// requirement. `None` (the default) means "use `get`", which is always
    /// right: implement only `get`. The maps, slices, arrays and vectors of
    /// this crate override it.
    ///
    /// ```
    /// use svcroute::labels::{Labels, Selector};
    /// struct One;
    /// impl Labels for One {
    ///     fn get(&self, key: &str) -> Option<&str> { (key == "app").then_some("web") }
    /// }
    /// assert!(Selector::parse("app=web,!canary")?.matches(&One));
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    #[doc(hidden)]
    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        let _ = scan;
        None
    }
}

impl<L: Labels + ?Sized> Labels for &L {
    fn get(&self, key: &str) -> Option<&str> {
        (**self).get(key)
    }

    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        (**self).scan(scan)
    }
}

impl<L: Labels> Labels for Option<L> {
    fn get(&self, key: &str) -> Option<&str> {
        self.as_ref().and_then(|l| l.get(key))
    }

    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        match self {
            Some(l) => l.scan(scan),
            None => Some(scan.requirements().iter().all(|r| r.holds(None))),
        }
    }
}

impl<K, V> Labels for BTreeMap<K, V>
where
    K: Borrow<str> + Ord,
    V: AsRef<str>,
{
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(AsRef::as_ref)
    }

    #[inline]
    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        scan.worth_walking(self.len())
            .then(|| scan.walk::<true>(self.iter().map(|(k, v)| (k.borrow(), v.as_ref()))))
    }
}

impl<K, V, S> Labels for HashMap<K, V, S>
where
    K: Borrow<str> + Eq + Hash,
    V: AsRef<str>,
    S: BuildHasher,
{
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(AsRef::as_ref)
    }

    #[inline]
    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        scan.worth_walking(self.len())
            .then(|| scan.walk::<false>(self.iter().map(|(k, v)| (k.borrow(), v.as_ref()))))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Labels for [(K, V)] {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v.as_ref())
    }

    #[inline]
    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        scan.worth_walking(self.len())
            .then(|| scan.walk::<false>(self.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))))
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Labels for [(K, V); N] {
    fn get(&self, key: &str) -> Option<&str> {
        Labels::get(self.as_slice(), key)
    }

    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        Labels::scan(self.as_slice(), scan)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Labels for Vec<(K, V)> {
    fn get(&self, key: &str) -> Option<&str> {
        Labels::get(self.as_slice(), key)
    }

    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        Labels::scan(self.as_slice(), scan)
    }
}

/// A requirement's operator: the nine forms of the selector string language.
///
/// `=` and `==` mean the same thing but are kept apart so that the canonical
/// string prints what was written (`selectors.md#4`). [`LabelSelector`]
/// (struct form) can only express `In`, `NotIn`, `Exists`, `DoesNotExist`
/// (and `=` through `matchLabels`).
///
/// [`LabelSelector`]: super::LabelSelector
///
/// ```
/// use svcroute::labels::{Operator, Selector};
/// let s: Selector = "x==a".parse()?;
/// assert_eq!(s.requirements()[0].operator(), Operator::DoubleEquals);
/// # Ok::<(), svcroute::labels::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `k=v`: present with value `v`.
    Equals,
    /// `k==v`: the same as `=`, printed as `==`.
    DoubleEquals,
    /// `k!=v`: absent, or a value other than `v`.
    NotEquals,
    /// `k in (v1,v2)`: present with one of the values.
    In,
    /// `k notin (v1,v2)`: absent, or a value that is none of them.
    NotIn,
    /// `k`: present (any value, `""` included).
    Exists,
    /// `!k`: absent.
    DoesNotExist,
    /// `k>n`: present, and its value is a base-10 int64 greater than `n`.
    GreaterThan,
    /// `k<n`: present, and its value is a base-10 int64 less than `n`.
    LessThan,
}

impl Operator {
    /// The name apimachinery gives the operator (`selection.Operator`):
    /// `=`, `==`, `!=`, `in`, `notin`, `exists`, `!`, `gt`, `lt`. (The
    /// string language spells the last two `>` and `<`.)
    ///
    /// ```
    /// use svcroute::labels::Operator;
    /// assert_eq!(Operator::NotIn.as_str(), "notin");
    /// assert_eq!(Operator::GreaterThan.as_str(), "gt");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a == b` for strings, without a `memcmp` call for the short ones that
/// label keys and values mostly are: up to 16 bytes are compared as two
/// (overlapping) words.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    fn word<const W: usize>(s: &[u8], at: usize) -> [u8; W] {
        let mut w = [0u8; W];
        w.copy_from_slice(&s[at..at + W]);
        w
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => {
            u32::from_ne_bytes(word(a, 0)) == u32::from_ne_bytes(word(b, 0))
                && u32::from_ne_bytes(word(a, n - 4)) == u32::from_ne_bytes(word(b, n - 4))
        }
        8..=16 => {
            u64::from_ne_bytes(word(a, 0)) == u64::from_ne_bytes(word(b, 0))
                && u64::from_ne_bytes(word(a, n - 8)) == u64::from_ne_bytes(word(b, n - 8))
        }
        _ => a == b,
    }
}

/// The first 8 bytes of `s` as a big-endian word, zero-padded. Two keys
/// whose words differ are ordered as their words are (byte order, as `str`
/// orders them: a shorter key that is a prefix of the other pads with 0,
/// which sorts before any byte it is compared with, unless that byte is 0
/// too, and then the words are equal). Equal words say nothing beyond the
/// first 8 bytes: compare the rest.
#[inline]
pub(super) fn key_word(s: impl AsRef<[u8]>) -> u64 {
    let b = s.as_ref();
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(w)
}

/// Zero, one, two or many values, without a heap block for up to two
/// (a matchLabels entry, `k=v`, `k in (a,b)`). Invariant: the variant is
/// chosen by the count (`Many` holds three or more), and once built the
/// values are sorted; so equal value lists are equal `Values`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Values {
    Zero,
    One(String),
    Two([String; 2]),
    Many(Vec<String>),
}

impl Values {
    fn as_slice(&self) -> &[String] {
        match self {
            Values::Zero => &[],
            Values::One(v) => std::slice::from_ref(v),
            Values::Two(v) => v,
            Values::Many(v) => v,
        }
    }

    /// Values already sorted (and deduplicated, as the parsers give them).
    fn from_sorted(v: Vec<String>) -> Values {
        Values::gather(v.into_iter())
    }

    /// Values already sorted and deduplicated, copied; no vector for up to
    /// two. (Only the fast parser, which the compact build leaves out.)
    #[cfg(not(feature = "compact"))]
    pub(super) fn from_sorted_strs(v: &[&str]) -> Values {
        match *v {
            [] => Values::Zero,
            [one] => Values::One(one.to_owned()),
            [a, b] => Values::Two([a.to_owned(), b.to_owned()]),
            _ => Values::Many(v.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    /// In the given order (not yet sorted); no vector for up to two values.
    fn gather(mut values: impl Iterator<Item = String>) -> Values {
        let Some(first) = values.next() else {
            return Values::Zero;
        };
        let Some(second) = values.next() else {
            return Values::One(first);
        };
        let Some(third) = values.next() else {
            return Values::Two([first, second]);
        };
        let mut many = Vec::with_capacity(3 + values.size_hint().0);
        many.push(first);
        many.push(second);
        many.push(third);
        many.extend(values);
        Values::Many(many)
    }

    /// Restores the order after [`Values::gather`].
    fn sorted(mut self) -> Values {
        match &mut self {
            Values::Two(v) if v[0] > v[1] => v.swap(0, 1),
            Values::Many(v) => crate::order::sort_unstable(v),
            _ => {}
        }
        self
    }

    #[inline(always)]
    fn contains(&self, value: &str) -> bool {
        match self {
            Values::Zero => false,
            Values::One(v) => same_bytes(v.as_bytes(), value.as_bytes()),
            Values::Two([a, b]) => {
                same_bytes(a.as_bytes(), value.as_bytes())
                    || same_bytes(b.as_bytes(), value.as_bytes())
            }
            Values::Many(v) if v.len() <= 8 => {
                v.iter().any(|x| same_bytes(x.as_bytes(), value.as_bytes()))
            }
            Values::Many(v) => v.binary_search_by(|x| x.as_str().cmp(value)).is_ok(),
        }
    }
}

/// One `key operator values` condition of a selector. Always valid: the key
/// is a valid label key, every value a valid label value, the value count
/// fits the operator, and a `>`/`<` bound is a base-10 int64.
///
/// Values are kept sorted (that is how the canonical string prints them).
/// Values that came from the string parser are also deduplicated; values
/// given to [`Requirement::new`] keep their duplicates, as upstream does for
/// the struct form (`selectors.md#4`).
///
/// ```
/// use svcroute::labels::{Operator, Requirement};
/// let r = Requirement::new("tier", Operator::In, ["front", "back"])?;
/// assert_eq!(r.to_string(), "tier in (back,front)");
/// assert_eq!(r.values(), ["back", "front"]);
/// # Ok::<(), svcroute::labels::RequirementError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: Key,
    /// [`key_word`] of `key`: orders and tells keys apart without reading
    /// their bytes in most cases ([`super::LabelSet`]'s merge walk).
    key_word: u64,
    operator: Operator,
    values: Values,
    /// Does the requirement hold when the key is absent (`selectors.md#3`)?
    absent: bool,
    /// How a present value is tested (the parsed bound of `>`/`<` is
    /// here), worked out from the fields above when built
    /// ([`Requirement::assemble`]).
    present: Present,
}

/// One reason a [`Requirement`] cannot be built (apimachinery
/// `NewRequirement`'s checks, `selectors.md#2.3`).
///
/// ```
/// use svcroute::labels::{Operator, Requirement, RequirementProblem};
/// let err = Requirement::new("x", Operator::In, Vec::<String>::new()).unwrap_err();
/// assert_eq!(err.problems(), [RequirementProblem::NoValues]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequirementProblem {
    /// The key is not a valid label key.
    InvalidKey(ValidationError),
    /// `in`/`notin` need at least one value.
    NoValues,
    /// `=`, `==`, `!=`, `>`, `<` need exactly one value.
    NotOneValue {
        /// How many were given.
        count: usize,
    },
    /// Exists and does-not-exist take no values.
    UnexpectedValues {
        /// How many were given.
        count: usize,
    },
    /// A `>`/`<` value is not a base-10 signed 64-bit integer.
    NotAnInteger {
        /// Position of the value in the given list.
        index: usize,
        /// The value.
        value: String,
    },
    /// A value is not a valid label value.
    InvalidValue {
        /// Position of the value in the given list.
        index: usize,
        /// What is wrong with it.
        error: ValidationError,
    },
}

impl fmt::Display for RequirementProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequirementProblem::InvalidKey(e) => write!(f, "{e}"),
            RequirementProblem::NoValues => f.write_str("'in' and 'notin' need at least one value"),
            RequirementProblem::NotOneValue { count } => {
                write!(
                    f,
                    "'=', '==', '!=', '>' and '<' need exactly one value, got {count}"
                )
            }
            RequirementProblem::UnexpectedValues { count } => {
                write!(f, "exists and does-not-exist take no values, got {count}")
            }
            RequirementProblem::NotAnInteger { index, value } => write!(
                f,
                "values[{index}]: the bound of '>' or '<' must be a base-10 64-bit integer, got {}",
                super::validation::Snippet(value)
            ),
            RequirementProblem::InvalidValue { index, error } => {
                write!(f, "values[{index}]: {error}")
            }
        }
    }
}

/// Why [`Requirement::new`] refused: every problem found, in upstream order
/// (key, value count, integer bound, value syntax).
///
/// ```
/// use svcroute::labels::{Operator, Requirement};
/// let err = Requirement::new("-k", Operator::GreaterThan, ["x"]).unwrap_err();
/// assert_eq!(err.key(), "-k");
/// assert_eq!(err.problems().len(), 2); // bad key, and "x" is not an integer
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementError {
    key: String,
    operator: Operator,
    problems: Vec<RequirementProblem>,
}

impl RequirementError {
    /// The key of the refused requirement.
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement};
    /// assert_eq!(Requirement::new("a b", Operator::Exists, [""; 0]).unwrap_err().key(), "a b");
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Its operator.
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement};
    /// let err = Requirement::new("a", Operator::Exists, ["v"]).unwrap_err();
    /// assert_eq!(err.operator(), Operator::Exists);
    /// ```
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// What is wrong (never empty).
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement, RequirementProblem};
    /// let err = Requirement::new("a", Operator::Equals, ["v", "w"]).unwrap_err();
    /// assert_eq!(err.problems(), [RequirementProblem::NotOneValue { count: 2 }]);
    /// ```
    pub fn problems(&self) -> &[RequirementProblem] {
        &self.problems
    }
}

impl fmt::Display for RequirementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid requirement on key {} with operator '{}': ",
            super::validation::Snippet(&self.key),
            self.operator
        )?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RequirementError {}

impl Requirement {
    /// Builds a requirement, checking everything apimachinery's
    /// `NewRequirement` checks (`selectors.md#2.3`) and collecting every
    /// problem. Values are sorted; duplicates are kept (as upstream keeps
    /// them, e.g. from `matchExpressions`).
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement};
    /// let r = Requirement::new("replicas", Operator::GreaterThan, ["01"])?;
    /// assert_eq!(r.to_string(), "replicas>01"); // the bound is printed as written
    /// assert!(Requirement::new("x", Operator::LessThan, ["1.5"]).is_err());
    /// assert!(Requirement::new("x", Operator::In, ["a", "a"])?.values().len() == 2);
    /// # Ok::<(), svcroute::labels::RequirementError>(())
    /// ```
    pub fn new<K, I>(key: K, operator: Operator, values: I) -> Result<Requirement, RequirementError>
    where
        K: Into<String>,
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let key = key.into();
        // In the given order until checked (problems name value indices).
        let values = Values::gather(values.into_iter().map(Into::into));
        let mut problems = Vec::new();
        if let Err(e) = validate_label_key(&key) {
            problems.push(RequirementProblem::InvalidKey(e));
        }
        let count = values.as_slice().len();
        match operator {
            Operator::In | Operator::NotIn => {
                if count == 0 {
                    problems.push(RequirementProblem::NoValues);
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if count != 1 {
                    problems.push(RequirementProblem::NotOneValue { count });
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if count != 0 {
                    problems.push(RequirementProblem::UnexpectedValues { count });
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if count != 1 {
                    problems.push(RequirementProblem::NotOneValue { count });
                }
                for (index, v) in values.as_slice().iter().enumerate() {
                    if parse_int(v).is_none() {
                        problems.push(RequirementProblem::NotAnInteger {
                            index,
                            value: v.clone(),
                        });
                    }
                }
            }
        }
        for (index, v) in values.as_slice().iter().enumerate() {
            if let Err(error) = validate_label_value(v) {
                problems.push(RequirementProblem::InvalidValue { index, error });
            }
        }
        if !problems.is_empty() {
            return Err(RequirementError {
                key,
                operator,
                problems,
            });
        }
        let bound = match operator {
            Operator::GreaterThan | Operator::LessThan => values
                .as_slice()
                .first()
                .and_then(|v| parse_int(v))
                .unwrap_or(0),
            _ => 0,
        };
        Ok(Requirement::assemble(
            Key::from_string(key),
            operator,
            values.sorted(),
            bound,
        ))
    }

    /// Builds a one-value requirement whose parts were checked by the
    /// caller (no vector is allocated).
    #[inline]
    pub(crate) fn from_checked_single(
        key: &str,
        operator: Operator,
        value: String,
        bound: i64,
    ) -> Self {
        Requirement::assemble(Key::new(key), operator, Values::One(value), bound)
    }

    /// Builds a requirement whose parts were checked by the caller; the
    /// values sorted and deduplicated.
    #[inline]
    pub(crate) fn from_checked(
        key: &str,
        operator: Operator,
        values: Vec<String>,
        bound: i64,
    ) -> Self {
        Requirement::assemble(Key::new(key), operator, Values::from_sorted(values), bound)
    }

    /// Builds a requirement without values (`k`, `!k`) whose key was
    /// checked by the caller.
    #[cfg(not(feature = "compact"))]
    #[inline]
    pub(crate) fn from_checked_key(key: &str, operator: Operator) -> Self {
        Requirement::assemble(Key::new(key), operator, Values::Zero, 0)
    }

    /// Builds a list requirement (`in`, `notin`) whose key and values were
    /// checked by the caller; the values sorted and deduplicated.
    #[cfg(not(feature = "compact"))]
    #[inline]
    pub(crate) fn from_checked_list(key: &str, operator: Operator, values: &[&str]) -> Self {
        Requirement::assemble(Key::new(key), operator, Values::from_sorted_strs(values), 0)
    }

    /// A requirement of these parts (already checked), with its key word
    /// and match plan.
    #[inline]
    fn assemble(key: Key, operator: Operator, values: Values, bound: i64) -> Requirement {
        Requirement {
            key_word: key_word(key.as_bytes()),
            absent: matches!(
                operator,
                Operator::NotEquals | Operator::NotIn | Operator::DoesNotExist
            ),
            present: Present::new(operator, values.as_slice(), bound),
            key,
            operator,
            values,
        }
    }

    /// [`key_word`] of the key.
    #[inline]
    pub(super) fn key_word(&self) -> u64 {
        self.key_word
    }

    /// The label key.
    ///
    /// ```
    /// let s: svcroute::labels::Selector = "!canary".parse()?;
    /// assert_eq!(s.requirements()[0].key(), "canary");
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// The key's bytes (no UTF-8 check, for the walks).
    #[inline]
    pub(super) fn key_bytes(&self) -> &[u8] {
        self.key.as_bytes()
    }

    /// The operator.
    ///
    /// ```
    /// use svcroute::labels::{Operator, Selector};
    /// let s: Selector = "!canary".parse()?;
    /// assert_eq!(s.requirements()[0].operator(), Operator::DoesNotExist);
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted (empty for exists and does-not-exist).
    ///
    /// ```
    /// let s: svcroute::labels::Selector = "x in (b,,a,b)".parse()?;
    /// assert_eq!(s.requirements()[0].values(), ["", "a", "b"]);
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn values(&self) -> &[String] {
        self.values.as_slice()
    }

    /// Does a set of labels satisfy this requirement? (`selectors.md#3`.)
    /// Never allocates.
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement};
    /// let r = Requirement::new("x", Operator::NotEquals, ["a"])?;
    /// assert!(r.matches(&[("y", "z")])); // absent key: `!=` matches
    /// assert!(!r.matches(&[("x", "a")]));
    /// # Ok::<(), svcroute::labels::RequirementError>(())
    /// ```
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.holds(labels.get(self.key.as_str()))
    }

    /// Does the requirement hold when its key has this value (`None`:
    /// absent)?
    #[inline(always)]
    pub(super) fn holds(&self, found: Option<&str>) -> bool {
        match found {
            None => self.absent,
            Some(value) => self.holds_on(value),
        }
    }

    /// Does the requirement hold when its key is absent?
    #[inline(always)]
    pub(super) fn holds_absent(&self) -> bool {
        self.absent
    }

    /// Does the requirement hold when its key has value `value`?
    #[inline(always)]
    pub(super) fn holds_on(&self, value: &str) -> bool {
        self.holds_present(
            value.len(),
            || short_form(value.as_bytes()).unwrap_or_default(),
            || value,
        )
    }

    /// Does the requirement hold when its key has a value of `length`
    /// bytes, whose [`short_form`] (when at most 16 bytes) `form` gives and
    /// whose text `text` gives? Most requirements need only the length and
    /// the form.
    #[inline(always)]
    pub(super) fn holds_present<'v>(
        &self,
        length: usize,
        form: impl FnOnce() -> Form,
        text: impl FnOnce() -> &'v str,
    ) -> bool {
        // The common case inline, the others out of line (one branch).
        match &self.present {
            Present::Short {
                lengths,
                negate,
                forms,
            } => short_holds(*lengths, forms, *negate, length, form),
            _ => self.holds_other(text()),
        }
    }

    /// [`Requirement::holds_present`] for the tests other than
    /// [`Present::Short`]: `>`, `<`, long values, long lists.
    #[inline(never)]
    fn holds_other(&self, value: &str) -> bool {
        match &self.present {
            Present::Short { .. } => self.holds_listed(value),
            Present::Compare { greater, bound } => {
                parse_int(value).is_some_and(|n| if *greater { n > *bound } else { n < *bound })
            }
            Present::General => self.holds_listed(value),
        }
    }

    /// The test of a present value against the value list (`=`, `==`,
    /// `in`: listed; `!=`, `notin`: not listed).
    fn holds_listed(&self, value: &str) -> bool {
        self.values.contains(value) != self.absent
    }

    /// Is `key` this requirement's key?
    #[inline(always)]
    pub(super) fn has_key(&self, key: &[u8]) -> bool {
        same_bytes(self.key.as_bytes(), key)
    }

    /// The key's length.
    #[inline(always)]
    pub(super) fn key_len(&self) -> usize {
        self.key.len()
    }
}

impl fmt::Display for Requirement {
    /// The upstream string form of one requirement (`selectors.md#4`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, op, parens) = match self.operator {
            Operator::Exists => return f.write_str(self.key.as_str()),
            Operator::DoesNotExist => {
                f.write_str("!")?;
                return f.write_str(self.key.as_str());
            }
            Operator::Equals => ("", "=", false),
            Operator::DoubleEquals => ("", "==", false),
            Operator::NotEquals => ("", "!=", false),
            Operator::GreaterThan => ("", ">", false),
            Operator::LessThan => ("", "<", false),
            Operator::In => (" ", "in ", true),
            Operator::NotIn => (" ", "notin ", true),
        };
        f.write_str(self.key.as_str())?;
        f.write_str(before)?;
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        for (i, v) in self.values().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(v)?;
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Parses like Go's `strconv.ParseInt(s, 10, 64)`: an optional `+` or `-`,
/// then one or more ASCII digits (leading zeros fine), within int64.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (negative, digits) = match b.split_first() {
        Some((b'+', rest)) => (false, rest),
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// Matches no set of labels.
    Nothing,
    /// Matches when every requirement does; sorted stably by key. Empty =
    /// matches everything.
    All {
        requirements: Vec<Requirement>,
        /// [`Walk::new`] of `requirements`, kept so that a match does not
        /// compute it.
        walk: Walk,
    },
}

/// Up to this many requirements, [`swap_sort`] sorts them.
const SWAP_SORT_MAX: usize = 8;

/// Sorts a few requirements by key, stably, with adjacent swaps (insertion
/// sort): a selector as written is mostly sorted already, and a swap moves
/// two requirements in registers, where the general sort copies them out
/// and back through `memcpy`.
fn swap_sort(requirements: &mut [Requirement]) {
    for i in 1..requirements.len() {
        let mut j = i;
        while j > 0 && by_key(&requirements[j - 1], &requirements[j]).is_gt() {
            requirements.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Orders requirements by key as `str` does, comparing the key words first
/// (most keys differ in their first 8 bytes).
fn by_key(a: &Requirement, b: &Requirement) -> std::cmp::Ordering {
    a.key_word
        .cmp(&b.key_word)
        .then_with(|| a.key.as_bytes().cmp(b.key.as_bytes()))
}

/// A label selector: either *nothing* (matches no object), or a list of
/// requirements that must all hold (an empty list matches every object).
///
/// Requirements are kept sorted by key with a stable sort, so the
/// [`Display`](fmt::Display) form is the upstream canonical string
/// (`Selector.String()`), and parsing that string gives back an equal
/// selector. (Two exceptions, both by design: duplicate values kept from the
/// struct form collapse when the string is parsed, and
/// [`service_selector`](super::service_selector) does not re-validate the
/// stored map it is given.) Equality compares that normal form: `x=a,y=b`
/// equals `y=b, x=a`, while `x=a` and `x==a` differ (they print
/// differently) and so do [`Selector::nothing`] and
/// [`Selector::everything`] (both print `""`).
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::Selector;
///
/// let s: Selector = "tier in (front,back), app = web, !canary".parse()?;
/// assert_eq!(s.to_string(), "app=web,!canary,tier in (back,front)");
/// assert_eq!(s.to_string().parse::<Selector>()?, s);
///
/// let pod = BTreeMap::from([("app".to_string(), "web".to_string()),
///                           ("tier".to_string(), "front".to_string())]);
/// assert!(s.matches(&pod));
/// # Ok::<(), svcroute::labels::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    repr: Repr,
}

impl Selector {
    /// Parses the selector string language exactly as apimachinery's
    /// `labels.Parse` (grammar in the [module docs](super)), except that a
    /// NUL byte anywhere is an error.
    ///
    /// ```
    /// use svcroute::labels::{Selector, SelectorErrorKind};
    /// assert!(Selector::parse("")?.is_everything());
    /// assert_eq!(Selector::parse("x notin (abc,,def),bar")?.to_string(), "bar,x notin (,abc,def)");
    /// let err = Selector::parse("x in a").unwrap_err();
    /// assert_eq!(err.kind(), SelectorErrorKind::Syntax);
    /// assert_eq!(err.position(), 5);
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Selector, ParseError> {
        parser::parse(input).map(Selector::from_sorted_or_not)
    }

    fn from_sorted_or_not(mut requirements: Vec<Requirement>) -> Selector {
        // Both sorts are stable: requirements with equal keys keep their
        // order.
        if requirements.len() <= SWAP_SORT_MAX {
            swap_sort(&mut requirements);
        } else if !requirements.is_sorted_by(|a, b| by_key(a, b).is_le()) {
            crate::order::sort_by(&mut requirements, by_key);
        }
        Selector::all(requirements)
    }

    /// The selector of requirements already sorted by key.
    fn all(requirements: Vec<Requirement>) -> Selector {
        Selector {
            repr: Repr::All {
                walk: Walk::new(&requirements),
                requirements,
            },
        }
    }

    /// The selector that matches every set of labels (no requirements; the
    /// string `""`).
    ///
    /// ```
    /// use svcroute::labels::Selector;
    /// let all = Selector::everything();
    /// assert!(all.matches(&[("a", "b")]) && all.matches(&[("", ""); 0]));
    /// assert_eq!(all.to_string(), "");
    /// ```
    pub fn everything() -> Selector {
        Selector::all(Vec::new())
    }

    /// The selector that matches nothing (upstream `labels.Nothing()`): what
    /// an absent `LabelSelector` or a Service without selector selects. It
    /// prints as `""` too; no string parses to it.
    ///
    /// ```
    /// use svcroute::labels::Selector;
    /// let none = Selector::nothing();
    /// assert!(!none.matches(&[("a", "b")]));
    /// assert!(none.is_nothing() && !none.is_everything());
    /// ```
    pub fn nothing() -> Selector {
        Selector {
            repr: Repr::Nothing,
        }
    }

    /// A selector of these requirements (sorted stably by key).
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement, Selector};
    /// let s = Selector::from_requirements([
    ///     Requirement::new("b", Operator::Exists, [""; 0])?,
    ///     Requirement::new("a", Operator::DoesNotExist, [""; 0])?,
    /// ]);
    /// assert_eq!(s.to_string(), "!a,b");
    /// # Ok::<(), svcroute::labels::RequirementError>(())
    /// ```
    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        Selector::from_sorted_or_not(requirements.into_iter().collect())
    }

    /// The equality selector of a label set (apimachinery
    /// `ValidatedSelectorFromSet`): one `key=value` per entry, every key and
    /// value checked. An empty set gives [`Selector::everything`] — for a
    /// Service's `spec.selector` use [`service_selector`](super::service_selector)
    /// instead, where empty means nothing.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use svcroute::labels::Selector;
    /// let set = BTreeMap::from([("a.b", "y"), ("a", "x")]);
    /// assert_eq!(Selector::from_set(&set)?.to_string(), "a=x,a.b=y");
    /// assert!(Selector::from_set([("a", "b,c")]).is_err());
    /// # Ok::<(), svcroute::labels::RequirementError>(())
    /// ```
    pub fn from_set<K, V>(
        set: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Selector, RequirementError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut requirements = Vec::new();
        for (k, v) in set {
            requirements.push(Requirement::new(
                k.as_ref(),
                Operator::Equals,
                [v.as_ref()],
            )?);
        }
        Ok(Selector::from_sorted_or_not(requirements))
    }

    /// Like [`Selector::from_set`] but without checking keys and values
    /// (apimachinery `SelectorFromValidatedSet`), for label sets that were
    /// validated when stored. Matching is exact either way; only the printed
    /// form of an invalid key or value may not parse back.
    pub(crate) fn from_trusted_set<'a>(
        set: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Selector {
        let requirements = set
            .into_iter()
            .map(|(k, v)| Requirement::from_checked_single(k, Operator::Equals, v.to_owned(), 0))
            .collect();
        Selector::from_sorted_or_not(requirements)
    }

    /// The same selector with one more requirement (inserted after the
    /// requirements with the same key). Adding to [`Selector::nothing`]
    /// leaves it nothing, as upstream.
    ///
    /// ```
    /// use svcroute::labels::{Operator, Requirement, Selector};
    /// let s = Selector::parse("b=1,a=2")?
    ///     .with(Requirement::new("a", Operator::Exists, [""; 0]).unwrap());
    /// assert_eq!(s.to_string(), "a=2,a,b=1");
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    #[must_use]
    pub fn with(self, requirement: Requirement) -> Selector {
        match self.repr {
            Repr::Nothing => self,
            Repr::All {
                mut requirements, ..
            } => {
                let at = requirements.partition_point(|r| by_key(r, &requirement).is_le());
                requirements.insert(at, requirement);
                Selector::all(requirements)
            }
        }
    }

    /// The requirements, sorted by key (empty for both nothing and
    /// everything).
    ///
    /// ```
    /// let s: svcroute::labels::Selector = "z,y,x".parse()?;
    /// let keys: Vec<&str> = s.requirements().iter().map(|r| r.key()).collect();
    /// assert_eq!(keys, ["x", "y", "z"]);
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn requirements(&self) -> &[Requirement] {
        match &self.repr {
            Repr::Nothing => &[],
            Repr::All { requirements, .. } => requirements,
        }
    }

    /// Is this the selector that matches nothing?
    ///
    /// ```
    /// use svcroute::labels::Selector;
    /// assert!(Selector::nothing().is_nothing());
    /// assert!(!Selector::parse("x,!x")?.is_nothing()); // contradictions are not detected
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn is_nothing(&self) -> bool {
        matches!(self.repr, Repr::Nothing)
    }

    /// Does this selector have no requirements (and so match everything)?
    /// Upstream `Selector.Empty()`; false for [`Selector::nothing`].
    ///
    /// ```
    /// use svcroute::labels::Selector;
    /// assert!(Selector::parse(" \t\r\n")?.is_everything());
    /// assert!(!Selector::nothing().is_everything());
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn is_everything(&self) -> bool {
        matches!(&self.repr, Repr::All { requirements, .. } if requirements.is_empty())
    }

    /// Do these labels satisfy the selector? All requirements are ANDed
    /// (`selectors.md#3`). Never allocates; labels are not validated.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use svcroute::labels::Selector;
    /// let s: Selector = "environment=production,tier!=frontend".parse()?;
    /// let pod: HashMap<&str, &str> = HashMap::from([("environment", "production")]);
    /// assert!(s.matches(&pod)); // no `tier` label: `!=` matches
    /// assert!(!s.matches(&[("environment", "production"), ("tier", "frontend")]));
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match &self.repr {
            Repr::Nothing => false,
            Repr::All { requirements, .. } if requirements.is_empty() => true,
            Repr::All { requirements, walk } => match labels.scan(&Scan::new(requirements, walk)) {
                Some(matched) => matched,
                None => by_lookups(requirements, labels),
            },
        }
    }

    /// If every match needs label `key` to have one specific value, that
    /// value (upstream `RequiresExactMatch`: the first requirement on `key`
    /// decides, and it must be `=`, `==` or a one-value `in`).
    ///
    /// ```
    /// let s: svcroute::labels::Selector = "app=web,tier in (fe)".parse()?;
    /// assert_eq!(s.requires_exact_match("tier"), Some("fe"));
    /// assert_eq!(s.requires_exact_match("zone"), None);
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let r = self
            .requirements()
            .iter()
            .find(|r| r.key.as_bytes() == key.as_bytes())?;
        match (r.operator, r.values()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [v]) => Some(v),
            _ => None,
        }
    }
}

/// Every requirement, each by one [`Labels::get`]: the match of a label set
/// that does not walk ([`Labels::scan`] gave `None`). Kept out of line, so
/// that [`Selector::matches`] stays a thin door to the walk.
#[inline(never)]
fn by_lookups<L: Labels + ?Sized>(requirements: &[Requirement], labels: &L) -> bool {
    requirements.iter().all(|r| r.matches(labels))
}

impl fmt::Display for Selector {
    /// The upstream canonical string: requirements by key, joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = ParseError;

    /// Same as [`Selector::parse`].
    fn from_str(s: &str) -> Result<Selector, ParseError> {
        Selector::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::{Requirement, same_bytes};

    #[test]
    fn a_requirement_moves_without_a_memcpy_call() {
        // Up to 128 bytes, LLVM moves a value with a few vector stores;
        // past it, parsing and sorting call `memcpy` for every move.
        assert!(
            size_of::<Requirement>() <= 128,
            "{}",
            size_of::<Requirement>()
        );
    }

    #[test]
    fn same_bytes_is_string_equality() {
        // Every length up to past the word paths, a difference at every
        // position, and unequal lengths.
        for n in 0..40usize {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same_bytes(a.as_bytes(), a.clone().as_bytes()));
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'#';
                let b = String::from_utf8(b).unwrap();
                assert!(!same_bytes(a.as_bytes(), b.as_bytes()), "{a} {b}");
            }
            assert!(!same_bytes(a.as_bytes(), format!("{a}x").as_bytes()));
        }
    }
}
