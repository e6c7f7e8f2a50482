//! The cluster's input limits (issue 13, hostile input): how many objects
//! one cluster stores and how many labels one object carries. Checked at
//! the start of every apply, before anything changes, so a batch over a
//! limit is refused whole with a [`ProblemKind::Limit`] problem that names
//! the limit. The loader's limits (input size, documents, depth, string
//! length) are [`LoadLimits`], kept here too as
//! [`ClusterLimits::load`].

use super::Cluster;
use super::error::{ClusterError, ClusterProblem, ProblemKind};
use crate::api::{LoadLimits, Object};

/// Limits of one cluster, part of [`ClusterConfig`](super::ClusterConfig).
///
/// ```
/// use svcroute::api::Object;
/// use svcroute::cluster::{Cluster, ClusterConfig, ClusterLimits};
/// let l = ClusterLimits::default();
/// assert_eq!((l.max_objects, l.max_labels_per_object), (1_000_000, 1_000));
///
/// let limits = ClusterLimits { max_labels_per_object: 2, ..ClusterLimits::default() };
/// let mut c = Cluster::new(ClusterConfig { limits, ..ClusterConfig::default() }).unwrap();
/// let ns: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace",
///   "metadata": {"name": "a", "labels": {"x": "1", "y": "2", "z": "3"}}}"#).unwrap();
/// let err = c.apply(ns).unwrap_err();
/// assert_eq!(err.kind(), svcroute::ErrorKind::Limit);
/// assert!(err.to_string().contains("maxLabelsPerObject"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterLimits {
    /// Objects stored at most, the controllers' included (1,000,000;
    /// `maxObjects`). A batch whose new objects would pass it is refused.
    pub max_objects: usize,
    /// Labels one object may carry (1,000; `maxLabelsPerObject`). The API
    /// server has no count limit, but its 256 KiB cap on annotations and
    /// 63-character label values keep real objects far below it.
    pub max_labels_per_object: usize,
    /// The loader's limits, for the doors that load text into this cluster
    /// (`api::load_with(text, &config.limits.load)`).
    pub load: LoadLimits,
}

impl Default for ClusterLimits {
    fn default() -> Self {
        ClusterLimits {
            max_objects: 1_000_000,
            max_labels_per_object: 1_000,
            load: LoadLimits::default(),
        }
    }
}

/// Refuses a batch that would break a limit of `cluster`, with every
/// problem; changes nothing. Passed, how many of the objects are new (not
/// stored): the room the batch's writes take.
pub(crate) fn check(cluster: &Cluster, objects: &[Object]) -> Result<usize, ClusterError> {
    let limits = cluster.config().limits;
    let mut problems = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let labels = object.metadata().labels.len();
        if labels > limits.max_labels_per_object {
            problems.push(ClusterProblem::object(
                ProblemKind::Limit,
                object.key(),
                Some(index),
                Some("metadata.labels"),
                format!(
                    "{labels} labels, over the limit of {} (maxLabelsPerObject)",
                    limits.max_labels_per_object
                ),
            ));
        }
    }
    // New objects only (a replaced one takes no new room); the namespaces
    // and objects the controllers add are bounded by the next batch.
    let new = objects.iter().filter(|o| !cluster.holds(o)).count();
    if cluster.len().saturating_add(new) > limits.max_objects {
        problems.push(ClusterProblem::config(
            ProblemKind::Limit,
            "maxObjects".to_owned(),
            format!(
                "the cluster holds {} objects and this batch adds {new}: over the limit of {} objects (maxObjects)",
                cluster.len(),
                limits.max_objects
            ),
        ));
    }
    if problems.is_empty() {
        Ok(new)
    } else {
        Err(ClusterError::new(problems))
    }
}
