//! Errors of the manifest loader: every problem of every document.

use std::fmt;

use crate::ErrorKind;

/// What kind of problem a [`Problem`] is.
///
/// ```
/// use svcroute::api::{self, ProblemKind};
/// use svcroute::ErrorKind;
///
/// let err = api::load_json(r#"{"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress"}"#).unwrap_err();
/// assert_eq!(err.problems()[0].kind, ProblemKind::UnsupportedVersion);
/// assert_eq!(ProblemKind::UnsupportedVersion.error_kind(), ErrorKind::Unsupported);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not JSON/YAML (or not one of the shapes svcroute reads).
    Syntax,
    /// A field has the wrong type or an unknown value (`targetPort: true`,
    /// `type: Nodeport`, an unquoted `true` as a label value).
    Field,
    /// The document has no `apiVersion` or no `kind`.
    MissingTypeMeta,
    /// A kind svcroute models, in an `apiVersion` it does not read (e.g.
    /// `networking.k8s.io/v1beta1` Ingress).
    UnsupportedVersion,
    /// A size or nesting limit was reached (hostile input).
    Limit,
}

impl ProblemKind {
    /// The crate-wide classification of this problem.
    pub fn error_kind(self) -> ErrorKind {
        match self {
            ProblemKind::Syntax | ProblemKind::Field | ProblemKind::MissingTypeMeta => {
                ErrorKind::Parse
            }
            ProblemKind::UnsupportedVersion => ErrorKind::Unsupported,
            ProblemKind::Limit => ErrorKind::Limit,
        }
    }
}

/// The object a problem is about, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        })?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, " {ns}/{name}"),
            (None, Some(name)) => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

/// One problem found while loading: where (document, list item, line and
/// column), which object, which field, and what.
///
/// ```
/// let err = svcroute::api::load_json(
///     r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
///         "spec": {"ports": [{"port": 80, "targetPort": true}]}}"#,
/// ).unwrap_err();
/// let p = &err.problems()[0];
/// assert_eq!(p.document, 0);
/// assert_eq!(p.field.as_deref(), Some("spec.ports[0].targetPort"));
/// assert_eq!(p.object.as_ref().unwrap().to_string(), "Service shop/web");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// 0-based index of the document in the stream: YAML documents (empty
    /// ones included) or JSON values.
    pub document: usize,
    /// 0-based index in the `items` of a `List` document (the outermost
    /// one, for nested lists) or of a top-level array, or `None`.
    pub item: Option<usize>,
    /// 1-based line in the input: for YAML, of the offending node (or the
    /// nearest enclosing one that exists, e.g. the map missing a field); for
    /// JSON syntax errors, of the error; for other JSON problems, of the
    /// start of the document.
    pub line: Option<usize>,
    /// 1-based column in the input (YAML, and JSON syntax errors).
    pub column: Option<usize>,
    /// The object, when its `kind` is known.
    pub object: Option<ObjectRef>,
    /// The field path inside the object, e.g. `spec.ports[0].targetPort`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(kind: ProblemKind, document: usize, message: impl Into<String>) -> Self {
        Problem {
            kind,
            document,
            item: None,
            line: None,
            column: None,
            object: None,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " (line {l}, column {c})")?,
            (Some(l), None) => write!(f, " (line {l})")?,
            _ => {}
        }
        if let Some(object) = &self.object {
            write!(f, ": {object}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Loading failed: one or more [`Problem`]s, in input order. A failed load
/// returns no objects at all.
///
/// ```
/// use svcroute::ErrorKind;
/// let err = svcroute::api::load_json(r#"{"kind": "Pod"}"#).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Parse);
/// assert!(err.to_string().contains("apiVersion"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ApiError {
    problems: Vec<Problem>,
}

impl ApiError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty());
        ApiError { problems }
    }

    /// The classification of this error (that of its first problem).
    pub fn kind(&self) -> ErrorKind {
        self.problems
            .first()
            .map_or(ErrorKind::Parse, |p| p.kind.error_kind())
    }

    /// Every problem, in input order (never empty).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems, by value.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

impl ApiError {
    /// One problem as is; several as `N problems:` and one line each.
    fn render(&self) -> String {
        match self.problems.as_slice() {
            [] => "manifest could not be loaded".to_owned(),
            [one] => one.to_string(),
            many => {
                let mut out = format!("{} problems:", many.len());
                for p in many {
                    out.push_str("\n  ");
                    out.push_str(&p.to_string());
                }
                out
            }
        }
    }
}
