//! `apps/v1`: Deployment, ReplicaSet, StatefulSet, DaemonSet — the
//! workloads that make Pods.

use serde::Serialize;

use super::corev1::PodSpec;
use super::decode::read_struct;
use super::intstr::IntOrString;
use super::metav1::{ObjectMeta, wire_enum};
use super::resource::impl_resource;
use super::wire::is_default;
use crate::labels::LabelSelector;

/// A pod template (`v1.PodTemplateSpec`): the metadata and spec of the
/// Pods a workload makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodTemplateSpec {
    /// `metadata` (labels of the Pods).
    #[serde(skip_serializing_if = "is_default")]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(skip_serializing_if = "is_default")]
    pub spec: PodSpec,
}

/// Status counters shared by the workload kinds (the fields the controllers
/// report; each kind's status has more).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    /// `replicas` (for a DaemonSet: `currentNumberScheduled` is not read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// `readyReplicas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// `availableReplicas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    /// `observedGeneration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// An `apps/v1` Deployment.
///
/// ```
/// use svcroute::api::Deployment;
///
/// let d: Deployment = serde_json::from_str(r#"{
///   "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
///   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
///            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
///            "template": {"metadata": {"labels": {"app": "web"}},
///                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}"#).unwrap();
/// assert_eq!(d.spec.replicas, Some(3));
/// assert_eq!(d.spec.template.metadata.labels["app"], "web");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: DeploymentSpec,
    /// `status`.
    pub status: WorkloadStatus,
}
impl_resource!(Deployment, "apps/v1", "Deployment", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

/// `spec` of a Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    /// `replicas`; absent = 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// `selector` (required by the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `template`.
    pub template: PodTemplateSpec,
    /// `strategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    /// `minReadySeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
}

/// `spec.strategy` of a Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStrategy {
    /// `type`: `RollingUpdate` or `Recreate` (kept as text).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `rollingUpdate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdate>,
}

/// `rollingUpdate` of a Deployment or DaemonSet strategy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    /// `maxUnavailable`: a count or a percentage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    /// `maxSurge`: a count or a percentage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
}

/// An `apps/v1` ReplicaSet.
///
/// ```
/// let rs: svcroute::api::ReplicaSet = serde_json::from_str(r#"{"metadata": {"name": "web-5d8f"},
///   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}}"#).unwrap();
/// assert_eq!(rs.spec.replicas, Some(2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSet {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: ReplicaSetSpec,
    /// `status`.
    pub status: WorkloadStatus,
}
impl_resource!(ReplicaSet, "apps/v1", "ReplicaSet", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

/// `spec` of a ReplicaSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetSpec {
    /// `replicas`; absent = 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// `selector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `template`.
    pub template: PodTemplateSpec,
    /// `minReadySeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
}

wire_enum! {
    /// `spec.podManagementPolicy` of a StatefulSet.
    PodManagementPolicyType ("pod management policy") {
        /// `OrderedReady`: one pod at a time, in order.
        OrderedReady = "OrderedReady",
        /// `Parallel`.
        Parallel = "Parallel",
    }
}

/// An `apps/v1` StatefulSet: Pods `<name>-<ordinal>` with stable DNS names
/// under the governing headless Service `serviceName`.
///
/// ```
/// let sts: svcroute::api::StatefulSet = serde_json::from_str(r#"{"metadata": {"name": "zk"},
///   "spec": {"serviceName": "zk-hs", "replicas": 3, "ordinals": {"start": 1},
///            "selector": {"matchLabels": {"app": "zk"}}}}"#).unwrap();
/// assert_eq!(sts.spec.service_name.as_deref(), Some("zk-hs"));
/// assert_eq!(sts.spec.ordinals.unwrap().start, Some(1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSet {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: StatefulSetSpec,
    /// `status`.
    pub status: WorkloadStatus,
}
impl_resource!(StatefulSet, "apps/v1", "StatefulSet", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

/// `spec` of a StatefulSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    /// `replicas`; absent = 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// `selector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `template`.
    pub template: PodTemplateSpec,
    /// `serviceName`: the governing (headless) Service; Pods get it as
    /// their `subdomain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// `podManagementPolicy`; absent = `OrderedReady`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_management_policy: Option<PodManagementPolicyType>,
    /// `updateStrategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<UpdateStrategy>,
    /// `ordinals`: the first ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinals: Option<StatefulSetOrdinals>,
}

/// `spec.ordinals` of a StatefulSet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatefulSetOrdinals {
    /// `start`; absent = 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<i32>,
}

/// `updateStrategy` of a StatefulSet or DaemonSet (minimal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategy {
    /// `type`: `RollingUpdate` or `OnDelete` (kept as text).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `rollingUpdate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdate>,
}

/// An `apps/v1` DaemonSet: one Pod per eligible Node.
///
/// ```
/// let ds: svcroute::api::DaemonSet = serde_json::from_str(r#"{"metadata": {"name": "agent"},
///   "spec": {"selector": {"matchLabels": {"app": "agent"}},
///            "template": {"spec": {"hostNetwork": true}}}}"#).unwrap();
/// assert!(ds.spec.template.spec.host_network);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSet {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: DaemonSetSpec,
    /// `status` (DaemonSets count differently; kept minimal).
    pub status: DaemonSetStatus,
}
impl_resource!(DaemonSet, "apps/v1", "DaemonSet", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

/// `spec` of a DaemonSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    /// `selector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `template`.
    pub template: PodTemplateSpec,
    /// `updateStrategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<UpdateStrategy>,
}

/// `status` of a DaemonSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetStatus {
    /// `currentNumberScheduled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_number_scheduled: Option<i32>,
    /// `desiredNumberScheduled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_number_scheduled: Option<i32>,
    /// `numberReady`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_ready: Option<i32>,
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(PodTemplateSpec {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
});
read_struct!(WorkloadStatus {
    available_replicas: "availableReplicas" => or_default,
    observed_generation: "observedGeneration" => or_default,
    ready_replicas: "readyReplicas" => or_default,
    replicas: "replicas" => or_default,
});
read_struct!(Deployment {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(DeploymentSpec {
    min_ready_seconds: "minReadySeconds" => or_default,
    replicas: "replicas" => or_default,
    selector: "selector" => or_default,
    strategy: "strategy" => or_default,
    template: "template" => null_default,
});
read_struct!(DeploymentStrategy {
    rolling_update: "rollingUpdate" => or_default,
    type_: "type" => or_default,
});
read_struct!(RollingUpdate {
    max_surge: "maxSurge" => or_default,
    max_unavailable: "maxUnavailable" => or_default,
});
read_struct!(ReplicaSet {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(ReplicaSetSpec {
    min_ready_seconds: "minReadySeconds" => or_default,
    replicas: "replicas" => or_default,
    selector: "selector" => or_default,
    template: "template" => null_default,
});
read_struct!(StatefulSet {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(StatefulSetSpec {
    ordinals: "ordinals" => or_default,
    pod_management_policy: "podManagementPolicy" => or_default,
    replicas: "replicas" => or_default,
    selector: "selector" => or_default,
    service_name: "serviceName" => or_default,
    template: "template" => null_default,
    update_strategy: "updateStrategy" => or_default,
});
read_struct!(StatefulSetOrdinals {
    start: "start" => or_default,
});
read_struct!(UpdateStrategy {
    rolling_update: "rollingUpdate" => or_default,
    type_: "type" => or_default,
});
read_struct!(DaemonSet {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(DaemonSetSpec {
    selector: "selector" => or_default,
    template: "template" => null_default,
    update_strategy: "updateStrategy" => or_default,
});
read_struct!(DaemonSetStatus {
    current_number_scheduled: "currentNumberScheduled" => or_default,
    desired_number_scheduled: "desiredNumberScheduled" => or_default,
    number_ready: "numberReady" => or_default,
});
