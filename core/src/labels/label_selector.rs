//! `metav1.LabelSelector` (struct form): validation, conversion to a
//! [`Selector`], and the conversions to and from the string and map forms
//! (`selectors.md#5`, `#6`).

use std::collections::BTreeMap;
use std::fmt;

use super::selector::{Operator, Requirement, RequirementProblem, Selector};
use super::validation::{ValidationError, validate_label_key, validate_label_value};
use super::{LabelError, LabelSelector, LabelSelectorRequirement};

/// One thing wrong with a [`LabelSelector`].
///
/// ```
/// use svcroute::labels::{LabelSelector, LabelSelectorProblem};
/// let ls: LabelSelector = serde_json::from_str(
///     r#"{"matchExpressions": [{"key": "x", "operator": "Gt", "values": ["1"]}]}"#).unwrap();
/// let err = ls.validate().unwrap_err();
/// assert_eq!(err.problems()[0].problem, LabelSelectorProblem::UnknownOperator("Gt".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelSelectorProblem {
    /// A key is not a valid label key.
    InvalidKey(ValidationError),
    /// A value is not a valid label value.
    InvalidValue(ValidationError),
    /// `In`/`NotIn` without values (absent, `null` or `[]`).
    ValuesRequired,
    /// `Exists`/`DoesNotExist` with values.
    ValuesForbidden,
    /// The operator is not `In`, `NotIn`, `Exists` or `DoesNotExist`
    /// (case-sensitive).
    UnknownOperator(String),
    /// The other form cannot express this requirement: a string selector
    /// with `!=`, `>` or `<` has no struct form; a struct selector with
    /// `NotIn`, `Exists`, `DoesNotExist` or a multi-value `In` has no map
    /// form. The text names the operator.
    Unrepresentable(String),
}

impl fmt::Display for LabelSelectorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelSelectorProblem::InvalidKey(e) | LabelSelectorProblem::InvalidValue(e) => {
                write!(f, "{e}")
            }
            LabelSelectorProblem::ValuesRequired => {
                f.write_str("values must be given when the operator is 'In' or 'NotIn'")
            }
            LabelSelectorProblem::ValuesForbidden => f.write_str(
                "values may not be given when the operator is 'Exists' or 'DoesNotExist'",
            ),
            LabelSelectorProblem::UnknownOperator(op) => write!(
                f,
                "{} is not a label selector operator (In, NotIn, Exists, DoesNotExist)",
                super::validation::Snippet(op)
            ),
            LabelSelectorProblem::Unrepresentable(op) => {
                write!(f, "operator '{op}' cannot be expressed in the target form")
            }
        }
    }
}

/// A [`LabelSelectorProblem`] and the field it is about
/// (`matchLabels`, `matchExpressions[1].values[0]`, ...).
///
/// ```
/// use svcroute::labels::LabelSelector;
/// let ls: LabelSelector = serde_json::from_str(
///     r#"{"matchExpressions": [{"key": "x", "operator": "In", "values": []}]}"#).unwrap();
/// assert_eq!(ls.validate().unwrap_err().problems()[0].field, "matchExpressions[0].values");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field path, relative to the selector.
    pub field: String,
    /// What is wrong there.
    pub problem: LabelSelectorProblem,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Why a [`LabelSelector`] is invalid or cannot be converted: every problem
/// found.
///
/// ```
/// use svcroute::labels::LabelSelector;
/// let ls: LabelSelector = serde_json::from_str(
///     r#"{"matchLabels": {"Example.com/a": "b", "ok": "-bad"}}"#).unwrap();
/// let err = ls.validate().unwrap_err();
/// assert_eq!(err.problems().len(), 2);
/// assert!(err.to_string().contains("matchLabels"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelectorError {
    problems: Vec<FieldProblem>,
}

impl LabelSelectorError {
    /// Every problem, in field order (never empty).
    ///
    /// ```
    /// use svcroute::labels::{LabelSelector, LabelSelectorProblem};
    /// let ls: LabelSelector = serde_json::from_str(
    ///     r#"{"matchExpressions": [{"key": "x", "operator": "Exists", "values": ["a"]}]}"#).unwrap();
    /// assert_eq!(ls.to_selector().unwrap_err().problems()[0].problem, LabelSelectorProblem::ValuesForbidden);
    /// ```
    pub fn problems(&self) -> &[FieldProblem] {
        &self.problems
    }

    fn one(field: impl Into<String>, problem: LabelSelectorProblem) -> Self {
        LabelSelectorError {
            problems: vec![FieldProblem {
                field: field.into(),
                problem,
            }],
        }
    }
}

impl fmt::Display for LabelSelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid label selector: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LabelSelectorError {}

struct Problems(Vec<FieldProblem>);

impl Problems {
    fn push(&mut self, field: String, problem: LabelSelectorProblem) {
        self.0.push(FieldProblem { field, problem });
    }

    fn finish(self) -> Result<(), LabelSelectorError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(LabelSelectorError { problems: self.0 })
        }
    }
}

fn struct_operator(op: &str) -> Option<Operator> {
    match op {
        "In" => Some(Operator::In),
        "NotIn" => Some(Operator::NotIn),
        "Exists" => Some(Operator::Exists),
        "DoesNotExist" => Some(Operator::DoesNotExist),
        _ => None,
    }
}

impl LabelSelector {
    /// Does this selector have no requirements (`{}`, `{"matchLabels": {}}`,
    /// `{"matchExpressions": []}`)? Such a selector matches everything.
    ///
    /// ```
    /// use svcroute::labels::LabelSelector;
    /// assert!(LabelSelector::default().is_empty());
    /// let ls: LabelSelector = serde_json::from_str(r#"{"matchLabels": {}}"#).unwrap();
    /// assert!(ls.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && self.match_expressions.as_ref().is_none_or(Vec::is_empty)
    }

    /// API validation, as apimachinery's `ValidateLabelSelector` with default
    /// options: every `matchLabels` key and value, and for each expression
    /// the operator (`In`/`NotIn` need values, `Exists`/`DoesNotExist` take
    /// none, nothing else is an operator), the key, and every value. All
    /// problems are collected. (An absent selector, `None`, is valid: check
    /// it with `Option::map`.)
    ///
    /// ```
    /// use svcroute::labels::LabelSelector;
    /// let ok: LabelSelector = serde_json::from_str(
    ///     r#"{"matchExpressions": [{"key": "x", "operator": "NotIn", "values": [""]}]}"#).unwrap();
    /// assert!(ok.validate().is_ok());
    /// let bad: LabelSelector = serde_json::from_str(
    ///     r#"{"matchExpressions": [{"key": "x", "operator": "in", "values": ["a"]}]}"#).unwrap();
    /// assert!(bad.validate().is_err()); // operators are case-sensitive
    /// ```
    pub fn validate(&self) -> Result<(), LabelSelectorError> {
        let mut problems = Problems(Vec::new());
        for (k, v) in self.match_labels.iter().flatten() {
            if let Err(e) = validate_label_key(k) {
                problems.push("matchLabels".into(), LabelSelectorProblem::InvalidKey(e));
            }
            if let Err(e) = validate_label_value(v) {
                problems.push("matchLabels".into(), LabelSelectorProblem::InvalidValue(e));
            }
        }
        for (i, expr) in self.match_expressions.iter().flatten().enumerate() {
            let at = |field: &str| format!("matchExpressions[{i}].{field}");
            let count = expr.values.as_ref().map_or(0, Vec::len);
            match struct_operator(&expr.operator) {
                Some(Operator::In | Operator::NotIn) if count == 0 => {
                    problems.push(at("values"), LabelSelectorProblem::ValuesRequired);
                }
                Some(Operator::Exists | Operator::DoesNotExist) if count > 0 => {
                    problems.push(at("values"), LabelSelectorProblem::ValuesForbidden);
                }
                Some(_) => {}
                None => problems.push(
                    at("operator"),
                    LabelSelectorProblem::UnknownOperator(expr.operator.clone()),
                ),
            }
            if let Err(e) = validate_label_key(&expr.key) {
                problems.push(at("key"), LabelSelectorProblem::InvalidKey(e));
            }
            for (j, v) in expr.values.iter().flatten().enumerate() {
                if let Err(e) = validate_label_value(v) {
                    problems.push(
                        at(&format!("values[{j}]")),
                        LabelSelectorProblem::InvalidValue(e),
                    );
                }
            }
        }
        problems.finish()
    }

    /// Converts to a [`Selector`], as apimachinery's
    /// `LabelSelectorAsSelector` does for a present selector: no
    /// requirements gives [`Selector::everything`]; each `matchLabels`
    /// entry becomes `key=value`, each expression its `in`, `notin`,
    /// exists or does-not-exist requirement, checked like any requirement;
    /// then all are sorted stably by key (`matchLabels` entries first among
    /// equal keys). Values print sorted but **duplicates are kept**
    /// (`values: [b,a,b]` prints `x in (a,b,b)`, `selectors.md#4`).
    ///
    /// For an optional field use [`label_selector_as_selector`], where
    /// `None` is [`Selector::nothing`].
    ///
    /// ```
    /// use svcroute::labels::LabelSelector;
    /// let ls: LabelSelector = serde_json::from_str(r#"{
    ///     "matchLabels": {"foo": "bar"},
    ///     "matchExpressions": [{"key": "baz", "operator": "In", "values": ["qux", "norf"]}]
    /// }"#).unwrap();
    /// let s = ls.to_selector()?;
    /// assert_eq!(s.to_string(), "baz in (norf,qux),foo=bar");
    /// assert!(s.matches(&[("foo", "bar"), ("baz", "qux")]));
    /// # Ok::<(), svcroute::labels::LabelSelectorError>(())
    /// ```
    pub fn to_selector(&self) -> Result<Selector, LabelSelectorError> {
        if self.is_empty() {
            return Ok(Selector::everything());
        }
        let mut problems = Problems(Vec::new());
        let mut requirements = Vec::new();
        for (k, v) in self.match_labels.iter().flatten() {
            match Requirement::new(k.as_str(), Operator::Equals, [v.as_str()]) {
                Ok(r) => requirements.push(r),
                Err(e) => {
                    for p in e.problems() {
                        let (_, problem) = convert_problem(p);
                        problems.push("matchLabels".into(), problem);
                    }
                }
            }
        }
        for (i, expr) in self.match_expressions.iter().flatten().enumerate() {
            let Some(op) = struct_operator(&expr.operator) else {
                problems.push(
                    format!("matchExpressions[{i}].operator"),
                    LabelSelectorProblem::UnknownOperator(expr.operator.clone()),
                );
                continue;
            };
            let values = expr.values.iter().flatten().map(String::as_str);
            match Requirement::new(expr.key.as_str(), op, values) {
                Ok(r) => requirements.push(r),
                Err(e) => {
                    for p in e.problems() {
                        let (field, problem) = convert_problem(p);
                        problems.push(format!("matchExpressions[{i}].{field}"), problem);
                    }
                }
            }
        }
        problems.finish()?;
        Ok(Selector::from_requirements(requirements))
    }

    /// Reads a selector string into the struct form (apimachinery
    /// `ParseToLabelSelector`): `=`/`==` go to `matchLabels` (a repeated
    /// key keeps its last value — which changes the meaning of `x=a,x=b`),
    /// `in`/`notin`/exists/does-not-exist to `matchExpressions` (values
    /// sorted and deduplicated); `!=`, `>` and `<` have no struct form and
    /// are refused. Empty parts are left `None`, so `""` gives the empty
    /// selector.
    ///
    /// ```
    /// use svcroute::labels::LabelSelector;
    /// let ls = LabelSelector::parse("app=web,tier in (fe,be),!canary")?;
    /// assert_eq!(serde_json::to_string(&ls).unwrap(),
    ///     r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"canary","operator":"DoesNotExist"},{"key":"tier","operator":"In","values":["be","fe"]}]}"#);
    /// assert!(LabelSelector::parse("x!=a").is_err());
    /// # Ok::<(), svcroute::labels::LabelError>(())
    /// ```
    pub fn parse(selector: &str) -> Result<LabelSelector, LabelError> {
        let parsed = Selector::parse(selector)?;
        let mut labels = BTreeMap::new();
        let mut expressions = Vec::new();
        for r in parsed.requirements() {
            let operator = match r.operator() {
                Operator::Equals | Operator::DoubleEquals => {
                    let value = r.values().first().cloned().unwrap_or_default();
                    labels.insert(r.key().to_owned(), value);
                    continue;
                }
                Operator::In => "In",
                Operator::NotIn => "NotIn",
                Operator::Exists => "Exists",
                Operator::DoesNotExist => "DoesNotExist",
                op @ (Operator::NotEquals | Operator::GreaterThan | Operator::LessThan) => {
                    return Err(LabelSelectorError::one(
                        r.key(),
                        LabelSelectorProblem::Unrepresentable(op.as_str().to_owned()),
                    )
                    .into());
                }
            };
            let values = r.values();
            expressions.push(LabelSelectorRequirement {
                key: r.key().to_owned(),
                operator: operator.to_owned(),
                values: (!values.is_empty()).then(|| values.to_vec()),
            });
        }
        Ok(LabelSelector {
            match_labels: (!labels.is_empty()).then_some(labels),
            match_expressions: (!expressions.is_empty()).then_some(expressions),
        })
    }

    /// The plain map form (apimachinery `LabelSelectorAsMap`): `matchLabels`
    /// plus every `In` with exactly one value; anything else is refused.
    /// Keys and values are not validated here.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use svcroute::labels::LabelSelector;
    /// let ls = LabelSelector::parse("a=1,b in (2)")?;
    /// assert_eq!(ls.to_map()?, BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]));
    /// assert!(LabelSelector::parse("b in (2,3)")?.to_map().is_err());
    /// # Ok::<(), svcroute::labels::LabelError>(())
    /// ```
    pub fn to_map(&self) -> Result<BTreeMap<String, String>, LabelSelectorError> {
        let mut map = self.match_labels.clone().unwrap_or_default();
        for (i, expr) in self.match_expressions.iter().flatten().enumerate() {
            let field = || format!("matchExpressions[{i}]");
            match (struct_operator(&expr.operator), expr.values.as_deref()) {
                (Some(Operator::In), Some([v])) => {
                    map.insert(expr.key.clone(), v.clone());
                }
                (Some(_), _) => {
                    let what = if expr.operator == "In" {
                        "In without exactly one value"
                    } else {
                        &expr.operator
                    };
                    return Err(LabelSelectorError::one(
                        field(),
                        LabelSelectorProblem::Unrepresentable(what.to_owned()),
                    ));
                }
                (None, _) => {
                    return Err(LabelSelectorError::one(
                        field(),
                        LabelSelectorProblem::UnknownOperator(expr.operator.clone()),
                    ));
                }
            }
        }
        Ok(map)
    }
}

/// Maps a requirement check failure to the struct form's terms: the field
/// under the expression, and the problem.
fn convert_problem(p: &RequirementProblem) -> (String, LabelSelectorProblem) {
    match p {
        RequirementProblem::InvalidKey(e) => {
            ("key".into(), LabelSelectorProblem::InvalidKey(e.clone()))
        }
        RequirementProblem::NoValues | RequirementProblem::NotOneValue { .. } => {
            ("values".into(), LabelSelectorProblem::ValuesRequired)
        }
        RequirementProblem::UnexpectedValues { .. } => {
            ("values".into(), LabelSelectorProblem::ValuesForbidden)
        }
        RequirementProblem::NotAnInteger { index, value } => (
            format!("values[{index}]"),
            LabelSelectorProblem::Unrepresentable(format!("integer bound {value:?}")),
        ),
        RequirementProblem::InvalidValue { index, error } => (
            format!("values[{index}]"),
            LabelSelectorProblem::InvalidValue(error.clone()),
        ),
    }
}

/// The selector of an optional `LabelSelector` field under the generic API
/// rule (apimachinery `LabelSelectorAsSelector`): absent (`None`, JSON
/// `null`) matches **nothing**, present-but-empty matches **everything**.
/// Some fields override the rule (a NetworkPolicy's absent `podSelector`
/// means all pods); the owning object decides (`selectors.md#5`).
///
/// ```
/// use svcroute::labels::{label_selector_as_selector, LabelSelector};
/// let absent = label_selector_as_selector(None)?;
/// assert!(absent.is_nothing() && !absent.matches(&[("a", "b")]));
/// let empty = label_selector_as_selector(Some(&LabelSelector::default()))?;
/// assert!(empty.is_everything() && empty.matches(&[("a", "b")]));
/// # Ok::<(), svcroute::labels::LabelSelectorError>(())
/// ```
pub fn label_selector_as_selector(
    selector: Option<&LabelSelector>,
) -> Result<Selector, LabelSelectorError> {
    match selector {
        None => Ok(Selector::nothing()),
        Some(ls) => ls.to_selector(),
    }
}
