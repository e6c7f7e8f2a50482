//! Plain label maps used as selectors: a Service's `spec.selector`, the
//! `k=v,...` map-string form, and `Set.String` printing (`selectors.md#7`).

use std::collections::BTreeMap;
use std::fmt;

use super::selector::Selector;
use super::validation::{Snippet, ValidationError, validate_label_key, validate_label_value};

/// The selector a Service uses to pick its pods, from its `spec.selector`.
///
/// **Absent or empty selects no pod** (the Service has no selector: its
/// endpoints are managed by someone else), unlike a `LabelSelector`, where
/// empty selects everything (`selectors.md#5`, `#7`; kubernetes/kubernetes
/// #25836). Otherwise a pod is selected iff every entry is among its labels
/// with exactly that value.
///
/// The map is taken as stored: like the EndpointSlice controller, this does
/// not re-validate it (the API server did when the Service was created; use
/// [`validate_label_map`](super::validate_label_map) for input from
/// elsewhere). Matching is exact whatever the keys and values are; only the
/// printed form of an invalid key or value may fail to parse back.
/// `ExternalName` Services ignore their selector: that is the caller's call.
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::service_selector;
///
/// let pod = [("app", "web"), ("tier", "fe")];
/// assert!(!service_selector(None).matches(&pod));
/// assert!(!service_selector(Some(&BTreeMap::new())).matches(&pod));
///
/// let spec = BTreeMap::from([("app".to_string(), "web".to_string())]);
/// let s = service_selector(Some(&spec));
/// assert!(s.matches(&pod));
/// assert_eq!(s.to_string(), "app=web");
/// ```
pub fn service_selector(selector: Option<&BTreeMap<String, String>>) -> Selector {
    match selector {
        Some(map) if !map.is_empty() => {
            Selector::from_trusted_set(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        }
        _ => Selector::nothing(),
    }
}

/// What is wrong with one piece of a map string.
///
/// ```
/// use svcroute::labels::{parse_selector_map, SelectorMapProblem};
/// let err = parse_selector_map("x==y").unwrap_err();
/// assert_eq!(err.problem(), &SelectorMapProblem::NotOneEquals { count: 2 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectorMapProblem {
    /// A piece must contain exactly one `=`.
    NotOneEquals {
        /// How many it has.
        count: usize,
    },
    /// The trimmed key is not a valid label key.
    InvalidKey(ValidationError),
    /// The trimmed value is not a valid label value.
    InvalidValue(ValidationError),
}

/// Why [`parse_selector_map`] refused a string: the first bad
/// comma-separated piece, its byte offset, and the problem.
///
/// ```
/// use svcroute::labels::parse_selector_map;
/// let err = parse_selector_map("x=a,y").unwrap_err();
/// assert_eq!((err.position(), err.piece()), (4, "y"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorMapError {
    position: usize,
    piece: String,
    problem: SelectorMapProblem,
}

impl SelectorMapError {
    /// Byte offset of the piece in the input.
    ///
    /// ```
    /// assert_eq!(svcroute::labels::parse_selector_map("a=b,").unwrap_err().position(), 4);
    /// ```
    pub fn position(&self) -> usize {
        self.position
    }

    /// The piece, as it appears between the commas.
    ///
    /// ```
    /// assert_eq!(svcroute::labels::parse_selector_map("a=b, c").unwrap_err().piece(), " c");
    /// ```
    pub fn piece(&self) -> &str {
        &self.piece
    }

    /// What is wrong with it.
    ///
    /// ```
    /// use svcroute::labels::{parse_selector_map, SelectorMapProblem};
    /// let err = parse_selector_map("x=a b").unwrap_err();
    /// assert!(matches!(err.problem(), SelectorMapProblem::InvalidValue(_)));
    /// ```
    pub fn problem(&self) -> &SelectorMapProblem {
        &self.problem
    }

    /// Is this a problem of form (not exactly one `=`) rather than of a
    /// key or value?
    ///
    /// ```
    /// use svcroute::labels::parse_selector_map;
    /// assert!(parse_selector_map("x").unwrap_err().is_syntax());
    /// assert!(!parse_selector_map("x=-").unwrap_err().is_syntax());
    /// ```
    pub fn is_syntax(&self) -> bool {
        matches!(self.problem, SelectorMapProblem::NotOneEquals { .. })
    }
}

impl fmt::Display for SelectorMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid selector map piece {} at byte {}: ",
            Snippet(&self.piece),
            self.position
        )?;
        match &self.problem {
            SelectorMapProblem::NotOneEquals { count } => {
                write!(f, "expected exactly one '=' (key=value), found {count}")
            }
            SelectorMapProblem::InvalidKey(e) | SelectorMapProblem::InvalidValue(e) => {
                write!(f, "{e}")
            }
        }
    }
}

impl std::error::Error for SelectorMapError {}

/// Reads the simple map-string form `k=v,k2=v2` (apimachinery
/// `ConvertSelectorToLabelsMap`): split on `,`, each piece must contain
/// exactly one `=`; key and value are trimmed of (Unicode) whitespace and
/// checked; a repeated key keeps its last value. `""` gives an empty map;
/// anything else that is not `k=v` pieces (`x`, `x==y`, `x!=y`,
/// `x in (y)`, a trailing comma) is an error.
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::parse_selector_map;
/// let m = parse_selector_map(" x = a , y = b ")?;
/// assert_eq!(m, BTreeMap::from([("x".into(), "a".into()), ("y".into(), "b".into())]));
/// assert!(parse_selector_map("")?.is_empty());
/// assert!(parse_selector_map("x!=y").is_err()); // key "x!" is invalid
/// # Ok::<(), svcroute::labels::SelectorMapError>(())
/// ```
pub fn parse_selector_map(selector: &str) -> Result<BTreeMap<String, String>, SelectorMapError> {
    let mut map = BTreeMap::new();
    if selector.is_empty() {
        return Ok(map);
    }
    let mut position = 0;
    for piece in selector.split(',') {
        let fail = |problem| SelectorMapError {
            position,
            piece: piece.to_owned(),
            problem,
        };
        let count = piece.bytes().filter(|&b| b == b'=').count();
        let Some((key, value)) = piece.split_once('=').filter(|_| count == 1) else {
            return Err(fail(SelectorMapProblem::NotOneEquals { count }));
        };
        let (key, value) = (key.trim(), value.trim());
        validate_label_key(key).map_err(|e| fail(SelectorMapProblem::InvalidKey(e)))?;
        validate_label_value(value).map_err(|e| fail(SelectorMapProblem::InvalidValue(e)))?;
        map.insert(key.to_owned(), value.to_owned());
        position += piece.len() + 1;
    }
    Ok(map)
}

/// Prints a label set as apimachinery's `Set.String` does: the `key=value`
/// texts sorted **as whole strings** and joined by `,`. When a key is a
/// prefix of another this differs from the key order a [`Selector`] prints
/// (`a.b=y,a=x` here, `a=x,a.b=y` there, since `.` sorts before `=`); both
/// parse to the same selector.
///
/// ```
/// use svcroute::labels::format_label_set;
/// assert_eq!(format_label_set([("a", "x"), ("a.b", "y")]), "a.b=y,a=x");
/// assert_eq!(format_label_set([("", ""); 0]), "");
/// ```
pub fn format_label_set<K, V>(labels: impl IntoIterator<Item = (K, V)>) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut pieces: Vec<String> = labels
        .into_iter()
        .map(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            let mut s = String::with_capacity(k.len() + 1 + v.len());
            s.push_str(k);
            s.push('=');
            s.push_str(v);
            s
        })
        .collect();
    crate::order::sort_unstable(&mut pieces);
    pieces.join(",")
}
