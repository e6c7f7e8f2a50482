//! Changing what a running cluster would change by itself: a pod's
//! readiness, its termination, a workload's scale, a held rollout's next
//! step. Each goes through the same write path as [`Cluster::apply`], so
//! the controllers settle and the [`Changes`] are returned.

use crate::api::{ConditionStatus, Kind, Object, ObjectKey, PodCondition};

use super::error::{ClusterError, ClusterProblem, ProblemKind};
use super::{Changes, Cluster, Tracker, workloads};

/// The `deletionTimestamp` [`Cluster::set_pod_terminating`] writes (the
/// core has no clock; only its presence matters).
///
/// ```
/// assert_eq!(svcroute::cluster::TERMINATING_SINCE, "1970-01-01T00:00:00Z");
/// ```
pub const TERMINATING_SINCE: &str = "1970-01-01T00:00:00Z";

fn not_found(kind: Kind, ns: &str, name: &str) -> ClusterError {
    ClusterError::new(vec![ClusterProblem::object(
        ProblemKind::NotFound,
        ObjectKey {
            kind,
            namespace: Some(ns.to_owned()),
            name: name.to_owned(),
        },
        None,
        None,
        "not found",
    )])
}

fn key(kind: Kind, ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        namespace: Some(ns.to_owned()),
        name: name.to_owned(),
    }
}

impl Cluster {
    /// Sets a pod's `Ready` (and `ContainersReady`) condition, as a
    /// readiness probe would: the EndpointSlices follow (EP-3).
    ///
    /// ```
    /// use svcroute::api::{Kind, Object, ObjectKey};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// c.apply(serde_json::from_str::<Object>(r#"{"apiVersion": "v1", "kind": "Pod",
    ///   "metadata": {"name": "p"}, "spec": {"nodeName": "n1"},
    ///   "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.9"}]}}"#).unwrap())?;
    /// let changes = c.set_pod_ready("default", "p", true)?;
    /// assert_eq!(changes.updated.len(), 1);
    /// assert!(c.set_pod_ready("default", "nope", true).is_err());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn set_pod_ready(
        &mut self,
        namespace: &str,
        name: &str,
        ready: bool,
    ) -> Result<Changes, ClusterError> {
        let Some(pod) = self.stored_pod(&key(Kind::Pod, namespace, name)) else {
            return Err(not_found(Kind::Pod, namespace, name));
        };
        let mut pod = pod.to_pod().into_owned();
        let status = if ready {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        };
        for type_ in ["Ready", "ContainersReady"] {
            match pod.status.conditions.iter_mut().find(|c| c.type_ == type_) {
                Some(c) => c.status = status,
                None if type_ == "Ready" => pod.status.conditions.push(PodCondition {
                    type_: type_.to_owned(),
                    status,
                    last_transition_time: None,
                    reason: None,
                    message: None,
                }),
                None => {}
            }
        }
        self.apply(Object::Pod(pod))
    }

    /// Marks a pod terminating (sets `metadata.deletionTimestamp` to
    /// [`TERMINATING_SINCE`]), as `kubectl delete` does during the grace
    /// period: its endpoint is no longer ready, and serving as long as its
    /// `Ready` condition holds (EP-3). A ReplicaSet or DaemonSet no longer
    /// counts it and makes a replacement. [`Cluster::delete`] removes it.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// c.apply(serde_json::from_str::<Object>(r#"{"apiVersion": "v1", "kind": "Pod",
    ///   "metadata": {"name": "p"}, "spec": {"nodeName": "n1"},
    ///   "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.9"}]}}"#).unwrap())?;
    /// c.set_pod_terminating("default", "p")?;
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn set_pod_terminating(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Result<Changes, ClusterError> {
        let Some(pod) = self.stored_pod(&key(Kind::Pod, namespace, name)) else {
            return Err(not_found(Kind::Pod, namespace, name));
        };
        let mut pod = pod.to_pod().into_owned();
        pod.metadata.deletion_timestamp = Some(TERMINATING_SINCE.to_owned());
        self.apply(Object::Pod(pod))
    }

    /// Sets `spec.replicas` of a Deployment, ReplicaSet or StatefulSet, as
    /// `kubectl scale` does; the controllers make or delete pods (see
    /// [`workloads`]).
    ///
    /// ```
    /// use svcroute::api::{Kind, Object};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// c.apply_batch(svcroute::cluster::default_nodes(2).into_iter().map(Object::Node).collect())?;
    /// c.apply(serde_json::from_str::<Object>(r#"{"apiVersion": "apps/v1", "kind": "Deployment",
    ///   "metadata": {"name": "web"},
    ///   "spec": {"selector": {"matchLabels": {"app": "web"}},
    ///            "template": {"metadata": {"labels": {"app": "web"}}}}}"#).unwrap())?;
    /// let changes = c.scale(Kind::Deployment, "default", "web", 3)?;
    /// assert_eq!(changes.of_kind(Kind::Pod).created.len(), 2);
    /// assert!(c.scale(Kind::Service, "default", "kubernetes", 3).is_err());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn scale(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        replicas: i32,
    ) -> Result<Changes, ClusterError> {
        let k = key(kind, namespace, name);
        let mut object = match self.stored_object(&k) {
            Some(o) => o.clone(),
            None => return Err(not_found(kind, namespace, name)),
        };
        match &mut object {
            Object::Deployment(d) => d.spec.replicas = Some(replicas),
            Object::ReplicaSet(r) => r.spec.replicas = Some(replicas),
            Object::StatefulSet(s) => s.spec.replicas = Some(replicas),
            _ => {
                return Err(ClusterError::new(vec![ClusterProblem::object(
                    ProblemKind::Unsupported,
                    k,
                    None,
                    Some("spec.replicas"),
                    format!("a {} cannot be scaled", kind.as_str()),
                )]));
            }
        }
        self.apply(object)
    }

    /// Runs one more sync of a Deployment's held rollout (see
    /// [`ROLLOUT_STEPS_ANNOTATION`](super::ROLLOUT_STEPS_ANNOTATION)): the
    /// new ReplicaSet scales up, or the old ones down. Nothing changes when
    /// the rollout is complete.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// assert!(c.rollout_step("default", "nope").is_err());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn rollout_step(&mut self, namespace: &str, name: &str) -> Result<Changes, ClusterError> {
        let k = key(Kind::Deployment, namespace, name);
        if !matches!(self.stored_object(&k), Some(Object::Deployment(_))) {
            return Err(not_found(Kind::Deployment, namespace, name));
        }
        let mut t = Tracker::default();
        workloads::rollout_step(self, &mut t, &k);
        Ok(self.settle(t))
    }

    /// Is a Deployment's rollout held half way (by
    /// [`ROLLOUT_STEPS_ANNOTATION`](super::ROLLOUT_STEPS_ANNOTATION))?
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let c = Cluster::new(ClusterConfig::default())?;
    /// assert!(!c.rollout_held("default", "web"));
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn rollout_held(&self, namespace: &str, name: &str) -> bool {
        workloads::is_held(self, &key(Kind::Deployment, namespace, name))
    }
}
