//! Labels, label selectors and the validation rules behind them, exactly as
//! the Kubernetes API server (kubernetes/apimachinery) reads them.
//!
//! This module answers three questions:
//!
//! * **Is this a valid label key, label value, DNS label or subdomain?**
//!   [`validate_label_key`], [`validate_label_value`],
//!   [`validate_dns1123_label`], [`validate_dns1123_subdomain`],
//!   [`validate_dns1035_label`], [`validate_label_map`]. Every broken rule
//!   is reported ([`ValidationError::violations`]).
//! * **What does this selector mean?** [`Selector::parse`] reads the string
//!   language (`kubectl get -l`, `labelSelector=` in list requests);
//!   [`LabelSelector::to_selector`] converts the struct form found in
//!   Deployments, NetworkPolicies and friends; [`service_selector`] gives a
//!   Service's `spec.selector` its own meaning. All three produce a
//!   [`Selector`], whose `Display` is the upstream canonical string.
//! * **Does this selector pick these labels?** [`Selector::matches`], generic
//!   over the [`Labels`] lookup trait, without allocating.
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use svcroute::labels::{Selector, SelectorErrorKind};
//!
//! let pod = BTreeMap::from([
//!     ("app".to_string(), "web".to_string()),
//!     ("tier".to_string(), "front".to_string()),
//! ]);
//!
//! let selector: Selector = "app=web, tier in (front,back), !canary".parse()?;
//! assert!(selector.matches(&pod));
//! // The canonical string: sorted by key, values sorted, no spaces.
//! assert_eq!(selector.to_string(), "app=web,!canary,tier in (back,front)");
//!
//! // Errors say where, what was found and what was expected.
//! let err = "app=web tier=front".parse::<Selector>().unwrap_err();
//! assert_eq!(err.kind(), SelectorErrorKind::Syntax);
//! assert_eq!(err.position(), 8);
//! assert_eq!(err.to_string(),
//!     "selector syntax error at byte 8: found \"tier\", expected ',' or end of input");
//! # Ok::<(), svcroute::labels::ParseError>(())
//! ```
//!
//! # The selector string language
//!
//! The lexer works on **bytes**, not characters:
//!
//! * *Whitespace* is exactly space, tab, CR and LF. It separates tokens and
//!   is otherwise ignored. Form feed, vertical tab, NBSP and other Unicode
//!   spaces are **not** whitespace: they become part of an identifier (which
//!   then fails key or value validation).
//! * *Special bytes* are `= ! ( ) , < >`. The longest operator wins and the
//!   rest is scanned again: `==` and `!=` are the only two-byte tokens, so
//!   `===` is `==` `=`, `!==` is `!=` `=`, `>=` is `>` `=`, `<>` is `<` `>`.
//! * An *identifier* is a maximal run of any other bytes: `a||b`, `a/b`,
//!   `é`, `$x` are each one identifier. Validation decides later whether it
//!   is a legal key or value.
//! * The words `in` and `notin` are operators only where an operator is
//!   expected. As a key, a value or a list item they are plain text:
//!   `in in (in)`, `x=in` and `notin=in` are valid.
//!
//! The grammar (`VALUE?` means the value may be left out, which means the
//! empty value `""`):
//!
//! ```text
//! selector    := <only whitespace>                 (matches everything)
//!              | requirement { "," requirement }
//! requirement := "!" KEY                           does not exist
//!              | KEY                               exists (KEY then "," or end)
//!              | KEY ( "in" | "notin" ) "(" list ")"
//!              | KEY ( "=" | "==" | "!=" ) VALUE?
//!              | KEY ( ">" | "<" ) VALUE?          VALUE must be a base-10 int64
//! list        := item { "," item }                 item: VALUE or nothing (= "")
//! ```
//!
//! * `,` only separates: `x,,y`, `,x`, `x,` and `x=a,` are errors.
//! * After `!` comes a key (`! x` is `!x`), and after `!KEY` only `,` or the
//!   end (`!x=a` is an error).
//! * `in`/`notin` need `(`; a list may not nest or hold operators; values are
//!   comma-separated (`(a b)` is an error). Empty items are the empty value:
//!   `()`, `( )` and `(,)` are all `{""}`, `(a,,b)` is `{"", a, b}`. A list
//!   is a set: `(abc,abc)` is `{abc}`.
//! * There is no OR and no grouping.
//! * After parsing, each requirement is checked: the key must be a valid
//!   label key (checked as soon as it is read, so it is reported before a
//!   later syntax error), every value a valid label value, and a `>`/`<`
//!   bound a base-10 signed 64-bit integer (`01` is fine and stays `01`;
//!   `1.5`, `0x10`, `""` and `2^63` are not; with the value rule, negative
//!   bounds are impossible).
//! * **NUL bytes are rejected.** Upstream's lexer treats a zero byte as the
//!   end of input (so `"\0x=a"` is the empty selector there, matching
//!   everything). svcroute refuses any string containing NUL with a
//!   [`SelectorErrorKind::Syntax`] error and [`Expected::NotNul`], so that a
//!   truncated or smuggled string can never silently widen a selector.
//!
//! Error classes ([`SelectorErrorKind`]) are `syntax`, `invalid_key`,
//! `invalid_value` and `gt_lt_value`; the first problem in upstream's order
//! is reported, with its byte position ([`ParseError::position`]).
//!
//! # Meaning
//!
//! All requirements must hold. For labels `L`:
//!
//! | requirement | holds when |
//! | --- | --- |
//! | `k=v`, `k==v`, `k in (v1,v2)` | `k` is present and `L[k]` is one of the values |
//! | `k!=v`, `k notin (v1,v2)` | `k` is **absent**, or `L[k]` is none of the values |
//! | `k` | `k` is present (any value, `""` included) |
//! | `!k` | `k` is absent |
//! | `k>n`, `k<n` | `k` is present, `L[k]` parses as a base-10 int64, and compares strictly |
//!
//! Pitfalls worth knowing (all tested in this module):
//!
//! 1. `!=` and `notin` match objects **without** the key. To require the key,
//!    say so: `k,k!=v`.
//! 2. `x=` and `x in ()` are legal and mean "the value is the empty
//!    string"; `x!=` means "absent or not empty".
//! 3. Empty list items are empty values, not syntax errors.
//! 4. `in`/`notin` are keywords only in operator position.
//! 5. `==` is kept in the canonical string (`x==a` prints `x==a`).
//! 6. `>`/`<` exist only in the string language; the struct form has no
//!    `Gt`/`Lt`. The label side is parsed like Go's `strconv.ParseInt`,
//!    which also accepts `+2`, `-3` and leading zeros; a label that does not
//!    parse (`v2`, `2.5`, `""`) never matches, nor does a missing key.
//! 7. Whitespace is exactly space, tab, CR, LF.
//! 8. NUL bytes (see above).
//! 9. The empty string matches everything; no string means "nothing".
//! 10. A Service's `spec.selector` that is absent **or empty** selects no
//!     pod ([`service_selector`]); a [`LabelSelector`] that is absent
//!     matches nothing but one that is empty matches everything
//!     ([`label_selector_as_selector`]).
//! 11. Repeated keys are legal and ANDed, never merged: `x,!x` and
//!     `x=a,x=b` are valid and match nothing.
//! 12. Values from the struct form keep their duplicates in the string form
//!     (`values: [b,a,b]` prints `x in (a,b,b)`).
//!
//! Keys and values compare byte for byte (case matters; the prefix is part
//! of the key). Matching never validates the labels it is given.
//!
//! # The canonical string
//!
//! `Display` of a [`Selector`] is apimachinery's `Selector.String()`:
//! requirements sorted by key in byte order (a **stable** sort, so equal keys
//! keep their input order — upstream agrees for up to 12 requirements, after
//! which Go's unstable sort may reorder equal keys), joined by `,` without
//! spaces; `k in (a,b)` with one space around the keyword and sorted values;
//! an empty value prints as nothing (`x=`, `x in (,a)`). Parsing the
//! canonical string gives back an equal selector. It is a syntactic normal
//! form, not a semantic one: `x=a`, `x==a` and `x in (a)` print differently.
//! [`Selector::nothing`] and [`Selector::everything`] both print `""`.
//!
//! # Performance
//!
//! Parsing is one pass with no recursion, so hostile input (megabytes of
//! `(` or `!`) costs linear time and constant stack; memory is proportional
//! to the number of requirements and values. A valid selector is read once,
//! byte by byte through a class table, with keys and values checked as they
//! are scanned and list values sorted on the stack; anything else (an
//! error) is read again by a token-by-token parser that reports the exact
//! position. What is left is allocation: one `String` per non-empty value
//! and one `Vec` for the requirements. Keys of up to 22 bytes and lists of
//! up to two values are held inside the requirement; a longer key or a
//! list of three or more values takes one block more.
//! `app=web,tier in (front,back),!canary` takes 4 allocations. Building a
//! [`Selector`] in code ([`Requirement::new`]) costs about the same
//! allocations plus validation.
//!
//! Matching does no allocation and no parsing (a `>`/`<` bound is parsed
//! once, at construction; the label side is parsed on each match, as
//! upstream does). Against the maps, slices, arrays and vectors of pairs
//! that [`Labels`] is implemented for here, it walks the labels once: a
//! label whose key length is not one of the selector's key lengths (a mask
//! kept in the [`Selector`]) is passed over without comparing bytes; any
//! other is compared only with the requirements whose keys have its length
//! (for up to 8 requirements, their key lengths are kept as the bytes of one
//! word, and one word operation picks them), a key that is found is tested
//! at once (the first failure ends the match), and
//! the requirements whose key never showed up are then tested as absent
//! (over a `BTreeMap`, whose keys come in order, the walk ends at the
//! selector's greatest key). Each requirement keeps a match plan made when
//! it is built: whether it holds on an absent key and, for `=`, `==`, `in`,
//! `!=` and `notin` with one or two values of at most 16 bytes, the values'
//! lengths and bytes as two machine words each, so that a present value is
//! tested with a few integer compares; `>`/`<` keep their parsed bound;
//! longer values and longer lists are compared as strings. Short keys
//! compare as machine words. Pod-sized label sets
//! take one walk; for a label set much larger than the selector (more than
//! 8 labels per requirement, plus 8) it looks each requirement's key up
//! instead, as it does for a [`Labels`] implementation of your own (which
//! only needs `get`).
//!
//! Labels matched against many selectors (a pod in a label index, in a
//! store that asks every Service whether it selects it) can be laid out
//! once as a [`LabelSet`]: each requirement's key is then found by
//! comparing the first 8 bytes of the keys as integers, and its value is
//! tested against the length and words the set keeps for it, without
//! reading the value's text.
//!
//! Measured medians (criterion, `benches/quiet selectors`: release build
//! pinned to one CPU, on the shared 2-core machine at load 7 to 9, session
//! 7): parsing the selector above 188–199 ns (kube-core, which has no
//! parser, needs 144–148 ns in the same runs just to build the same
//! selector from ready values; the first bench of a run sometimes reads
//! 300 ns for either build); matching it against a 10-label pod 16 ns with
//! a [`LabelSet`], 18 ns with a slice of pairs, 26–27 ns with a `HashMap`,
//! 23–25 ns with a `BTreeMap` (kube-core: 65–70 ns); a selector whose
//! first requirement fails 8.3–8.5 ns (kube-core 7 ns), 7 ns with a
//! [`LabelSet`]; printing the canonical string 168–171 ns (kube-core
//! 278–295 ns). Figures on this machine move by ±20% from run to run.
//!
//! Validation is hand-written byte loops (no regex engine), allocation-free
//! on success.
//!
//! # Sources
//!
//! The behaviour follows kubernetes/apimachinery at commit `eed236ce`
//! (`pkg/labels/selector.go`, `labels.go`, `pkg/api/validate/content`,
//! `pkg/apis/meta/v1/helpers.go`, `.../validation/validation.go`), written
//! anew from reading it and from the project's research note
//! (`selectors.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ErrorKind;

#[cfg(not(feature = "compact"))]
mod fast_parse;
mod key;
mod label_selector;
mod label_set;
mod lexer;
mod parser;
mod plan;
mod scan;
mod selector;
mod service;
mod validation;

#[cfg(test)]
mod tests;

pub use label_selector::{
    FieldProblem, LabelSelectorError, LabelSelectorProblem, label_selector_as_selector,
};
pub use label_set::LabelSet;
pub use parser::{Expected, Found, ParseError, SelectorErrorKind};
pub use selector::{Labels, Operator, Requirement, RequirementError, RequirementProblem, Selector};
pub use service::{
    SelectorMapError, SelectorMapProblem, format_label_set, parse_selector_map, service_selector,
};
pub use validation::{
    DNS_LABEL_MAX_LEN, DNS_SUBDOMAIN_MAX_LEN, Format, KeyPart, LABEL_NAME_MAX_LEN, LabelMapError,
    Pattern, Rule, ValidationError, Violation, validate_dns1035_label, validate_dns1123_label,
    validate_dns1123_subdomain, validate_label_key, validate_label_map, validate_label_value,
};

/// Errors of the labels layer: one variant per error type of this module.
/// [`LabelError::kind`] classifies them for the doors.
///
/// Every error type of the module converts into it, and into
/// [`crate::Error`], so `?` works in either.
///
/// ```
/// use svcroute::{Error, ErrorKind, labels::{LabelError, Selector}};
/// let err: LabelError = "x in a".parse::<Selector>().unwrap_err().into();
/// assert_eq!(err.kind(), ErrorKind::Parse);
/// let err: Error = "x=-a".parse::<Selector>().unwrap_err().into();
/// assert_eq!(err.kind(), ErrorKind::Invalid); // read fine, but the value is invalid
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// A selector string was rejected.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A key, value or DNS name is invalid.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A label map has invalid keys or values.
    #[error(transparent)]
    LabelMap(#[from] LabelMapError),
    /// A requirement could not be built.
    #[error(transparent)]
    Requirement(#[from] RequirementError),
    /// A `LabelSelector` is invalid or not convertible.
    #[error(transparent)]
    LabelSelector(#[from] LabelSelectorError),
    /// A `k=v,...` map string was rejected.
    #[error(transparent)]
    SelectorMap(#[from] SelectorMapError),
}

impl LabelError {
    /// The classification of this error: [`ErrorKind::Parse`] when the text
    /// could not be read (selector syntax, a map piece without exactly one
    /// `=`), [`ErrorKind::Invalid`] when it was read but breaks a rule (bad
    /// key, value, bound, operator, value count).
    ///
    /// ```
    /// use svcroute::{ErrorKind, labels::{parse_selector_map, LabelError}};
    /// let e: LabelError = parse_selector_map("x").unwrap_err().into();
    /// assert_eq!(e.kind(), ErrorKind::Parse);
    /// let e: LabelError = parse_selector_map("x=a b").unwrap_err().into();
    /// assert_eq!(e.kind(), ErrorKind::Invalid);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            LabelError::Parse(e) if e.kind() == SelectorErrorKind::Syntax => ErrorKind::Parse,
            LabelError::SelectorMap(e) if e.is_syntax() => ErrorKind::Parse,
            _ => ErrorKind::Invalid,
        }
    }
}

macro_rules! into_crate_error {
    ($($t:ty),*) => {$(
        impl From<$t> for crate::Error {
            fn from(e: $t) -> Self {
                crate::Error::Labels(e.into())
            }
        }
    )*};
}

into_crate_error!(
    ParseError,
    ValidationError,
    LabelMapError,
    RequirementError,
    LabelSelectorError,
    SelectorMapError
);

/// `metav1.LabelSelector` in its wire shape: `matchLabels` and
/// `matchExpressions`, all ANDed.
///
/// Deserialising never fails on content: operators are kept as text and
/// keys/values unchecked, so that [`LabelSelector::validate`] reports them as
/// the API server would. Whether an *absent* selector means nothing or
/// everything depends on the field that holds it (`selectors.md#5`); see
/// [`label_selector_as_selector`] for the generic rule.
///
/// ```
/// use svcroute::labels::LabelSelector;
/// let ls: LabelSelector = serde_json::from_str(r#"{
///     "matchLabels": {"app": "db"},
///     "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]
/// }"#).unwrap();
/// let s = ls.to_selector()?;
/// assert_eq!(s.to_string(), "app=db,env notin (prod)");
/// assert!(s.matches(&[("app", "db")]));
/// # Ok::<(), svcroute::labels::LabelSelectorError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`: each entry is a `key=value` requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// `matchExpressions`: set-based requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// One entry of `matchExpressions`.
///
/// ```
/// use svcroute::labels::LabelSelectorRequirement;
/// let r: LabelSelectorRequirement =
///     serde_json::from_str(r#"{"key": "tier", "operator": "Exists"}"#).unwrap();
/// assert_eq!((r.key.as_str(), r.operator.as_str(), r.values), ("tier", "Exists", None));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist` (kept as text so that a bad
    /// operator is a validation error, as on the API server).
    #[serde(default)]
    pub operator: String,
    /// The values; absent, `null` and `[]` are told apart only as `None`
    /// versus `Some(vec![])`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
