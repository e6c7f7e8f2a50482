//! [`ClusterError`]: every problem of a refused call, each naming its object
//! and field.

use std::fmt;

use crate::ErrorKind;
use crate::api::ObjectKey;

/// What kind of problem a [`ClusterProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A field breaks a rule (an object without a name, a bad config value).
    Invalid,
    /// The object to delete does not exist.
    NotFound,
    /// The object clashes with the state (an address taken by another object).
    Conflict,
    /// A range or limit is exhausted.
    Limit,
    /// Something svcroute does not model.
    Unsupported,
}

impl ProblemKind {
    /// The crate-wide classification.
    ///
    /// ```
    /// use svcroute::{ErrorKind, cluster::ProblemKind};
    /// assert_eq!(ProblemKind::NotFound.error_kind(), ErrorKind::NotFound);
    /// ```
    pub fn error_kind(self) -> ErrorKind {
        match self {
            ProblemKind::Invalid => ErrorKind::Invalid,
            ProblemKind::NotFound => ErrorKind::NotFound,
            ProblemKind::Conflict => ErrorKind::Conflict,
            ProblemKind::Limit => ErrorKind::Limit,
            ProblemKind::Unsupported => ErrorKind::Unsupported,
        }
    }
}

/// One problem: which object (absent for configuration problems), which
/// field, what.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterProblem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The object it is about.
    pub object: Option<ObjectKey>,
    /// 0-based position of the object in the batch, when it came from one.
    pub index: Option<usize>,
    /// The field path (`metadata.name`, `maxEndpointsPerSlice`, ...).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ClusterProblem {
    /// A problem with one object of a call.
    ///
    /// ```
    /// use svcroute::api::{Kind, ObjectKey};
    /// use svcroute::cluster::{ClusterProblem, ProblemKind};
    /// let key = ObjectKey { kind: Kind::Pod, namespace: Some("a".into()), name: "p".into() };
    /// let p = ClusterProblem::object(ProblemKind::Invalid, key, Some(3), Some("spec.nodeName"), "bad");
    /// assert_eq!(p.to_string(), "item 3: Pod a/p: spec.nodeName: bad");
    /// ```
    pub fn object(
        kind: ProblemKind,
        object: ObjectKey,
        index: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        ClusterProblem {
            kind,
            object: Some(object),
            index,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub(crate) fn config(kind: ProblemKind, field: String, message: String) -> Self {
        ClusterProblem {
            kind,
            object: None,
            index: None,
            field: Some(field),
            message,
        }
    }
}

impl fmt::Display for ClusterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(i) = self.index {
            write!(f, "item {i}")?;
            sep = ": ";
        }
        if let Some(o) = &self.object {
            write!(f, "{sep}{o}")?;
            sep = ": ";
        }
        if let Some(field) = &self.field {
            write!(f, "{sep}{field}")?;
            sep = ": ";
        }
        write!(f, "{sep}{}", self.message)
    }
}

/// A call to the cluster was refused: one or more [`ClusterProblem`]s. A
/// refused call changes nothing.
///
/// ```
/// use svcroute::api::{Kind, ObjectKey};
/// use svcroute::cluster::{Cluster, ClusterConfig};
/// use svcroute::ErrorKind;
///
/// let mut cluster = Cluster::new(ClusterConfig::default())?;
/// let err = cluster
///     .delete(&ObjectKey { kind: Kind::Pod, namespace: Some("shop".into()), name: "nope".into() })
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(err.to_string(), "item 0: Pod shop/nope: not found");
/// # Ok::<(), svcroute::cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterError {
    problems: Vec<ClusterProblem>,
}

impl ClusterError {
    pub(crate) fn new(problems: Vec<ClusterProblem>) -> Self {
        debug_assert!(!problems.is_empty());
        ClusterError { problems }
    }

    /// The classification (that of the first problem).
    ///
    /// ```
    /// use svcroute::cluster::ClusterConfig;
    /// let err = ClusterConfig { cluster_domain: String::new(), ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.kind(), svcroute::ErrorKind::Invalid);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.problems
            .first()
            .map_or(ErrorKind::Invalid, |p| p.kind.error_kind())
    }

    /// Every problem, in input order (never empty).
    ///
    /// ```
    /// use svcroute::cluster::ClusterConfig;
    /// let err = ClusterConfig { cluster_domain: String::new(), ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.problems()[0].field.as_deref(), Some("clusterDomain"));
    /// ```
    pub fn problems(&self) -> &[ClusterProblem] {
        &self.problems
    }
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [] => f.write_str("cluster call refused"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ClusterError {}
