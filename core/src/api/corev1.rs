//! `v1` (the core group): Namespace, Node, Pod, Service, Endpoints.

use std::collections::BTreeMap;

use serde::Serialize;

use super::decode::read_struct;
use super::intstr::IntOrString;
use super::metav1::{ConditionStatus, ObjectMeta, wire_enum};
use super::quantity::Quantity;
use super::resource::impl_resource;
use super::wire::{is_default, is_false};

wire_enum! {
    /// A transport protocol (`v1.Protocol`). Absent means `TCP`.
    ///
    /// ```
    /// use svcroute::api::Protocol;
    /// assert_eq!(Protocol::default(), Protocol::TCP);
    /// assert_eq!("SCTP".parse::<Protocol>().unwrap().as_str(), "SCTP");
    /// ```
    Protocol ("protocol") {
        /// `TCP`.
        TCP = "TCP",
        /// `UDP`.
        UDP = "UDP",
        /// `SCTP`.
        SCTP = "SCTP",
    }
}

#[allow(clippy::derivable_impls)] // the enum is defined by a macro
impl Default for Protocol {
    fn default() -> Self {
        Protocol::TCP
    }
}

wire_enum! {
    /// An IP family (`v1.IPFamily`).
    IPFamily ("IP family") {
        /// `IPv4`.
        IPv4 = "IPv4",
        /// `IPv6`.
        IPv6 = "IPv6",
    }
}

/// A reference to another object (`v1.ObjectReference`), e.g. an endpoint's
/// `targetRef` naming its Pod.
///
/// ```
/// let r: svcroute::api::ObjectReference =
///     serde_json::from_str(r#"{"kind": "Pod", "name": "web-1"}"#).unwrap();
/// assert_eq!(r.namespace, None); // the referring object's namespace
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// `apiVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `kind`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `namespace`; absent means the referring object's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `name`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `uid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `resourceVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

// ---------------------------------------------------------------- Namespace

/// A `v1` Namespace. Only its name matters: a namespace exists iff a
/// Namespace object names it.
///
/// ```
/// let ns: svcroute::api::Namespace =
///     serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#).unwrap();
/// assert_eq!(ns.metadata.name.as_deref(), Some("shop"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `status`.
    pub status: NamespaceStatus,
}
impl_resource!(Namespace, "v1", "Namespace", namespaced: false,
    always: [], omit_default: [status => "status"]);

/// `status` of a Namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamespaceStatus {
    /// `phase`: `Active` or `Terminating` (kept as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

// ---------------------------------------------------------------- Node

/// A `v1` Node: its pod CIDRs, addresses, allocatable resources, readiness
/// and (through labels) its zone.
///
/// ```
/// use svcroute::api::Node;
///
/// let node: Node = serde_json::from_str(r#"{
///   "apiVersion": "v1", "kind": "Node",
///   "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "a"}},
///   "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
///   "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
///              "allocatable": {"cpu": "3500m"},
///              "conditions": [{"type": "Ready", "status": "True"}]}}"#).unwrap();
/// assert_eq!(node.status.allocatable["cpu"].millis(), Some(3500));
/// assert!(node.is_ready());
/// assert_eq!(node.status.addresses[0].type_, "InternalIP");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: NodeSpec,
    /// `status`.
    pub status: NodeStatus,
}
impl_resource!(Node, "v1", "Node", namespaced: false,
    always: [], omit_default: [spec => "spec", status => "status"]);

impl Node {
    /// Ready iff the `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == ConditionStatus::True)
    }
}

/// `spec` of a Node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// `podCIDR`: the first of `podCIDRs`.
    #[serde(rename = "podCIDR", skip_serializing_if = "Option::is_none")]
    pub pod_cidr: Option<String>,
    /// `podCIDRs`: one block per IP family.
    #[serde(rename = "podCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub pod_cidrs: Vec<String>,
    /// `unschedulable` (cordoned).
    #[serde(skip_serializing_if = "is_false")]
    pub unschedulable: bool,
    /// `taints`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// `providerID`.
    #[serde(rename = "providerID", skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
}

/// A Node taint (`v1.Taint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Taint {
    /// `key`.
    pub key: String,
    /// `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `effect`: `NoSchedule`, `PreferNoSchedule` or `NoExecute` (kept as text).
    pub effect: String,
}

/// `status` of a Node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// `addresses`: `InternalIP`, `ExternalIP`, `Hostname`, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    /// `allocatable`: resource name → quantity (`cpu: 3500m`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub allocatable: BTreeMap<String, Quantity>,
    /// `capacity`: resource name → quantity.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, Quantity>,
    /// `conditions` (`Ready`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<NodeCondition>,
}

/// One of a Node's `status.addresses` (`v1.NodeAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeAddress {
    /// `type`: `InternalIP`, `ExternalIP`, `Hostname`, `InternalDNS`,
    /// `ExternalDNS` (kept as text).
    #[serde(rename = "type")]
    pub type_: String,
    /// `address`.
    pub address: String,
}

/// One of a Node's `status.conditions` (`v1.NodeCondition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCondition {
    /// `type`: `Ready`, `MemoryPressure`, ... (kept as text).
    #[serde(rename = "type")]
    pub type_: String,
    /// `status`.
    pub status: ConditionStatus,
    /// `lastTransitionTime` (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// `reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

// ---------------------------------------------------------------- Pod

wire_enum! {
    /// The phase of a Pod (`v1.PodPhase`). Absent means `Pending`.
    PodPhase ("pod phase") {
        /// `Pending`.
        Pending = "Pending",
        /// `Running`.
        Running = "Running",
        /// `Succeeded` (terminal).
        Succeeded = "Succeeded",
        /// `Failed` (terminal).
        Failed = "Failed",
        /// `Unknown`.
        Unknown = "Unknown",
    }
}

wire_enum! {
    /// A Pod's DNS policy (`v1.DNSPolicy`). Absent means `ClusterFirst`.
    DNSPolicy ("DNS policy") {
        /// `ClusterFirstWithHostNet`.
        ClusterFirstWithHostNet = "ClusterFirstWithHostNet",
        /// `ClusterFirst`.
        ClusterFirst = "ClusterFirst",
        /// `Default`: the node's resolver configuration.
        Default = "Default",
        /// `None`: only `dnsConfig`.
        None = "None",
    }
}

/// A `v1` Pod: labels, node, DNS identity, ports, and the status that
/// decides whether it is an endpoint.
///
/// ```
/// use svcroute::api::{Pod, PodPhase};
///
/// let pod: Pod = serde_json::from_str(r#"{
///   "apiVersion": "v1", "kind": "Pod",
///   "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
///   "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}]}],
///            "initContainers": [{"name": "proxy", "restartPolicy": "Always"}]},
///   "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
///              "conditions": [{"type": "Ready", "status": "True"}]}}"#).unwrap();
/// assert_eq!(pod.status.phase, Some(PodPhase::Running));
/// assert!(pod.is_ready());
/// assert!(pod.spec.init_containers[0].is_sidecar());
/// assert_eq!(pod.spec.containers[0].ports[0].container_port, 8080);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pod {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: PodSpec,
    /// `status`.
    pub status: PodStatus,
}
impl_resource!(Pod, "v1", "Pod", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

impl Pod {
    /// Ready iff the `Ready` condition is `True` (absent = not ready).
    pub fn is_ready(&self) -> bool {
        self.status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == ConditionStatus::True)
    }

    /// Terminating iff `metadata.deletionTimestamp` is set.
    pub fn is_terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }

    /// The phase, absent read as `Pending`.
    pub fn phase(&self) -> PodPhase {
        self.status.phase.unwrap_or(PodPhase::Pending)
    }
}

/// `spec` of a Pod (and of a workload's pod template).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// `containers`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// `initContainers`; one with `restartPolicy: Always` is a sidecar.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// `nodeName`: the node the pod is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `nodeSelector` (string values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// `hostname`: the pod's hostname (DNS `<hostname>.<subdomain>...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `subdomain`: a headless Service's name, for per-pod DNS records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// `setHostnameAsFQDN`.
    #[serde(rename = "setHostnameAsFQDN", skip_serializing_if = "Option::is_none")]
    pub set_hostname_as_fqdn: Option<bool>,
    /// `hostNetwork`: the pod uses the node's network namespace.
    #[serde(skip_serializing_if = "is_false")]
    pub host_network: bool,
    /// `dnsPolicy`; absent = `ClusterFirst`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<DNSPolicy>,
    /// `dnsConfig`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<PodDNSConfig>,
    /// `tolerations`: the node taints the pod accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// `affinity` (only `nodeAffinity`'s required terms are read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
}

/// A pod toleration (`v1.Toleration`).
///
/// ```
/// let t: svcroute::api::Toleration = serde_json::from_str(
///     r#"{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}"#).unwrap();
/// assert_eq!(t.operator.as_deref(), Some("Exists"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    /// `key`; empty with `Exists` tolerates every taint.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `operator`: `Equal` (absent) or `Exists` (kept as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `effect`: empty matches every effect.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub effect: String,
    /// `tolerationSeconds` (not modelled: evictions are not simulated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

/// A pod's `affinity` (`v1.Affinity`): only node affinity is modelled.
///
/// ```
/// let a: svcroute::api::Affinity = serde_json::from_str(r#"{"nodeAffinity": {
///   "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
///     {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]}]}}}"#).unwrap();
/// let terms = &a.node_affinity.unwrap().required_during_scheduling_ignored_during_execution.unwrap().node_selector_terms;
/// assert_eq!(terms[0].match_expressions[0].operator, "In");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    /// `nodeAffinity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
}

/// `v1.NodeAffinity`: the required part (the preferred part is not read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
}

/// `v1.NodeSelector`: terms, ORed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelector {
    /// `nodeSelectorTerms`.
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

/// `v1.NodeSelectorTerm`: requirements, ANDed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorTerm {
    /// `matchExpressions`, on the node's labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// `matchFields`, on the node's fields (only `metadata.name`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<NodeSelectorRequirement>,
}

/// `v1.NodeSelectorRequirement`: `key`, `operator` (`In`, `NotIn`,
/// `Exists`, `DoesNotExist`, `Gt`, `Lt`, kept as text) and `values`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeSelectorRequirement {
    /// `key`.
    pub key: String,
    /// `operator`.
    pub operator: String,
    /// `values`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A container (`v1.Container`): its name, ports and restart policy.
///
/// ```
/// let c: svcroute::api::Container =
///     serde_json::from_str(r#"{"name": "envoy", "restartPolicy": "Always"}"#).unwrap();
/// assert!(c.is_sidecar());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// `name`.
    pub name: String,
    /// `image` (not used; kept so that written Pods are complete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `ports`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// `restartPolicy`: only for init containers; `Always` makes a sidecar
    /// (kept as text: the set of values grows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
}

impl Container {
    /// An init container with `restartPolicy: Always` is a sidecar: it
    /// keeps running, and its ports count as the pod's.
    pub fn is_sidecar(&self) -> bool {
        self.restart_policy.as_deref() == Some("Always")
    }
}

/// A container port (`v1.ContainerPort`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// `name`: what a Service's `targetPort` may refer to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `containerPort`.
    pub container_port: i32,
    /// `protocol`; absent = `TCP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// `hostPort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,
    /// `hostIP`.
    #[serde(rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
}

/// A Pod's `dnsConfig` (`v1.PodDNSConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodDNSConfig {
    /// `nameservers`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// `searches`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub searches: Vec<String>,
    /// `options` (`ndots`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PodDNSConfigOption>,
}

/// One resolver option (`v1.PodDNSConfigOption`), e.g. `ndots: "2"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodDNSConfigOption {
    /// `name`.
    pub name: String,
    /// `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `status` of a Pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    /// `phase`; absent = `Pending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<PodPhase>,
    /// `conditions` (`Ready`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<PodCondition>,
    /// `hostIP`.
    #[serde(rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// `hostIPs`.
    #[serde(rename = "hostIPs", skip_serializing_if = "Vec::is_empty")]
    pub host_ips: Vec<HostIP>,
    /// `podIP`: equals the first of `podIPs`.
    #[serde(rename = "podIP", skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    /// `podIPs`: one per family; absent = no IP yet.
    #[serde(rename = "podIPs", skip_serializing_if = "Vec::is_empty")]
    pub pod_ips: Vec<PodIP>,
}

/// One of a Pod's `status.podIPs` (`v1.PodIP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodIP {
    /// `ip`.
    pub ip: String,
}

/// One of a Pod's `status.hostIPs` (`v1.HostIP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostIP {
    /// `ip`.
    pub ip: String,
}

/// One of a Pod's `status.conditions` (`v1.PodCondition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    /// `type`: `Ready`, `ContainersReady`, `PodScheduled`, ... (kept as text).
    #[serde(rename = "type")]
    pub type_: String,
    /// `status`.
    pub status: ConditionStatus,
    /// `lastTransitionTime` (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// `reason` (e.g. `Unschedulable` for `PodScheduled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `message`: the human-readable detail (the scheduler's verdict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

// ---------------------------------------------------------------- Service

wire_enum! {
    /// A Service's `spec.type` (`v1.ServiceType`). Absent means `ClusterIP`.
    ///
    /// ```
    /// use svcroute::api::ServiceType;
    /// assert_eq!("NodePort".parse::<ServiceType>().unwrap(), ServiceType::NodePort);
    /// assert!("Nodeport".parse::<ServiceType>().is_err());
    /// ```
    ServiceType ("Service type") {
        /// `ClusterIP`.
        ClusterIP = "ClusterIP",
        /// `NodePort`.
        NodePort = "NodePort",
        /// `LoadBalancer`.
        LoadBalancer = "LoadBalancer",
        /// `ExternalName`: a DNS CNAME, no proxying.
        ExternalName = "ExternalName",
    }
}

wire_enum! {
    /// `spec.ipFamilyPolicy` (`v1.IPFamilyPolicy`).
    IPFamilyPolicy ("IP family policy") {
        /// `SingleStack`.
        SingleStack = "SingleStack",
        /// `PreferDualStack`.
        PreferDualStack = "PreferDualStack",
        /// `RequireDualStack`.
        RequireDualStack = "RequireDualStack",
    }
}

wire_enum! {
    /// `spec.sessionAffinity` (`v1.ServiceAffinity`). Absent means `None`.
    ServiceAffinity ("session affinity") {
        /// `ClientIP`: stick to one endpoint per client IP.
        ClientIP = "ClientIP",
        /// `None`.
        None = "None",
    }
}

wire_enum! {
    /// `spec.externalTrafficPolicy` (`v1.ServiceExternalTrafficPolicy`).
    ServiceExternalTrafficPolicy ("external traffic policy") {
        /// `Cluster`: any ready endpoint.
        Cluster = "Cluster",
        /// `Local`: only endpoints on the receiving node.
        Local = "Local",
    }
}

wire_enum! {
    /// `spec.internalTrafficPolicy` (`v1.ServiceInternalTrafficPolicy`).
    ServiceInternalTrafficPolicy ("internal traffic policy") {
        /// `Cluster`: any ready endpoint.
        Cluster = "Cluster",
        /// `Local`: only endpoints on the client's node.
        Local = "Local",
    }
}

wire_enum! {
    /// `status.loadBalancer.ingress[].ipMode` (`v1.LoadBalancerIPMode`).
    /// Absent means `VIP`.
    LoadBalancerIPMode ("load balancer IP mode") {
        /// `VIP`: traffic arrives with the load balancer IP as destination.
        VIP = "VIP",
        /// `Proxy`: the load balancer proxies to the nodes.
        Proxy = "Proxy",
    }
}

/// A `v1` Service.
///
/// ```
/// use svcroute::api::{IntOrString, Service, ServiceType};
///
/// let svc: Service = serde_json::from_str(r#"{
///   "apiVersion": "v1", "kind": "Service",
///   "metadata": {"name": "web", "namespace": "shop"},
///   "spec": {"type": "NodePort", "selector": {"app": "web"},
///            "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
///            "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}}"#).unwrap();
/// assert_eq!(svc.spec.type_, Some(ServiceType::NodePort));
/// assert_eq!(svc.spec.ports[0].target_port, Some(IntOrString::String("http".into())));
/// assert!(svc.spec.selector.is_some());
/// assert!(!svc.is_headless());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: ServiceSpec,
    /// `status`.
    pub status: ServiceStatus,
}
impl_resource!(Service, "v1", "Service", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

impl Service {
    /// The type, absent read as `ClusterIP`.
    pub fn service_type(&self) -> ServiceType {
        self.spec.type_.unwrap_or(ServiceType::ClusterIP)
    }

    /// Headless: `clusterIP` (or `clusterIPs[0]`) is `None`.
    pub fn is_headless(&self) -> bool {
        self.spec.cluster_ip.as_deref() == Some("None")
            || self
                .spec
                .cluster_ips
                .as_ref()
                .and_then(|ips| ips.first())
                .map(String::as_str)
                == Some("None")
    }
}

/// `spec` of a Service: every field of the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `type`; absent = `ClusterIP`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ServiceType>,
    /// `selector`: absent and `{}` both select no pods, but are kept apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    /// `ports`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    /// `clusterIP`: an IP, `None` (headless), or absent (to be allocated).
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    /// `clusterIPs`: one per family; `clusterIPs[0]` equals `clusterIP`.
    #[serde(rename = "clusterIPs", skip_serializing_if = "Option::is_none")]
    pub cluster_ips: Option<Vec<String>>,
    /// `ipFamilies`, in the order of `clusterIPs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_families: Vec<IPFamily>,
    /// `ipFamilyPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<IPFamilyPolicy>,
    /// `externalName`: the CNAME target of an `ExternalName` Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    /// `externalIPs`: extra destination IPs kube-proxy captures.
    #[serde(rename = "externalIPs", skip_serializing_if = "Vec::is_empty")]
    pub external_ips: Vec<String>,
    /// `externalTrafficPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<ServiceExternalTrafficPolicy>,
    /// `internalTrafficPolicy`; absent = `Cluster`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<ServiceInternalTrafficPolicy>,
    /// `healthCheckNodePort` (LoadBalancer with `externalTrafficPolicy: Local`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_node_port: Option<i32>,
    /// `allocateLoadBalancerNodePorts`; absent = `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Option<bool>,
    /// `loadBalancerIP` (deprecated by the API, still read).
    #[serde(rename = "loadBalancerIP", skip_serializing_if = "Option::is_none")]
    pub load_balancer_ip: Option<String>,
    /// `loadBalancerSourceRanges`: CIDRs allowed through the load balancer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_source_ranges: Vec<String>,
    /// `loadBalancerClass`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
    /// `sessionAffinity`; absent = `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<ServiceAffinity>,
    /// `sessionAffinityConfig`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_affinity_config: Option<SessionAffinityConfig>,
    /// `publishNotReadyAddresses`; absent = `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_not_ready_addresses: Option<bool>,
    /// `trafficDistribution`: `PreferClose`, `PreferSameZone`,
    /// `PreferSameNode` (kept as text: newer releases add values, and
    /// consumers ignore values they do not know).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_distribution: Option<String>,
}

/// One of a Service's `spec.ports` (`v1.ServicePort`).
///
/// ```
/// let p: svcroute::api::ServicePort = serde_json::from_str(r#"{"port": 53, "protocol": "UDP"}"#).unwrap();
/// assert_eq!(p.name, ""); // absent name is ""
/// assert_eq!(p.target_port, None); // absent = the port itself
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// `name`; absent = `""` (allowed for a single port).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `protocol`; absent = `TCP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// `appProtocol` (kept as text: an open vocabulary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    /// `port`: the Service's port.
    pub port: i32,
    /// `targetPort`: a number or a container port name; absent = `port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// `nodePort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
}

/// `spec.sessionAffinityConfig` (`v1.SessionAffinityConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionAffinityConfig {
    /// `clientIP`.
    #[serde(rename = "clientIP", skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<ClientIPConfig>,
}

/// `sessionAffinityConfig.clientIP` (`v1.ClientIPConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientIPConfig {
    /// `timeoutSeconds`; absent = 10800.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
}

/// `status` of a Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// `loadBalancer`.
    #[serde(skip_serializing_if = "is_default")]
    pub load_balancer: LoadBalancerStatus,
}

/// `status.loadBalancer` (`v1.LoadBalancerStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadBalancerStatus {
    /// `ingress`: the load balancer's addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<LoadBalancerIngress>,
}

/// One load balancer address (`v1.LoadBalancerIngress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerIngress {
    /// `ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `ipMode`; absent = `VIP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_mode: Option<LoadBalancerIPMode>,
}

// ---------------------------------------------------------------- Endpoints

/// A `v1` Endpoints object (the legacy endpoints API): subsets of ready and
/// not-ready addresses with their ports.
///
/// ```
/// let ep: svcroute::api::Endpoints = serde_json::from_str(r#"{
///   "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext", "namespace": "shop"},
///   "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "notReadyAddresses": [{"ip": "192.0.2.11"}],
///                "ports": [{"port": 443}]}]}"#).unwrap();
/// assert_eq!(ep.subsets[0].not_ready_addresses[0].ip, "192.0.2.11");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `subsets`.
    pub subsets: Vec<EndpointSubset>,
}
impl_resource!(Endpoints, "v1", "Endpoints", namespaced: true,
    always: [], omit_default: [subsets => "subsets"]);

/// One of an Endpoints object's `subsets` (`v1.EndpointSubset`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    /// `addresses`: ready.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<EndpointAddress>,
    /// `notReadyAddresses`: not ready.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ready_addresses: Vec<EndpointAddress>,
    /// `ports`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<EndpointPort>,
}

/// One address of an Endpoints subset (`v1.EndpointAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    /// `ip`.
    pub ip: String,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `nodeName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `targetRef`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<ObjectReference>,
}

/// One port of an Endpoints subset (`v1.EndpointPort`; not the
/// EndpointSlice port, which is [`crate::api::discoveryv1::EndpointPort`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    /// `name`; absent = `""`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `port`.
    pub port: i32,
    /// `protocol`; absent = `TCP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// `appProtocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(ObjectReference {
    api_version: "apiVersion" => or_default,
    kind: "kind" => null_default,
    name: "name" => null_default,
    namespace: "namespace" => or_default,
    resource_version: "resourceVersion" => or_default,
    uid: "uid" => or_default,
});
read_struct!(Namespace {
    metadata: "metadata" => null_default,
    status: "status" => null_default,
});
read_struct!(NamespaceStatus {
    phase: "phase" => or_default,
});
read_struct!(Node {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(NodeSpec {
    pod_cidr: "podCIDR" => or_default,
    pod_cidrs: "podCIDRs" => null_default,
    provider_id: "providerID" => or_default,
    taints: "taints" => null_default,
    unschedulable: "unschedulable" => null_default,
});
read_struct!(Taint {
    effect: "effect" => null_default,
    key: "key" => null_default,
    value: "value" => or_default,
});
read_struct!(NodeStatus {
    addresses: "addresses" => null_default,
    allocatable: "allocatable" => null_default,
    capacity: "capacity" => null_default,
    conditions: "conditions" => null_default,
});
read_struct!(NodeAddress {
    address: "address" => null_default,
    type_: "type" => null_default,
});
read_struct!(direct NodeCondition {
    last_transition_time: "lastTransitionTime" => or_default,
    reason: "reason" => or_default,
    status: "status" => required,
    type_: "type" => required,
});
read_struct!(Pod {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(PodSpec {
    affinity: "affinity" => or_default,
    containers: "containers" => null_default,
    dns_config: "dnsConfig" => or_default,
    dns_policy: "dnsPolicy" => or_default,
    host_network: "hostNetwork" => null_default,
    hostname: "hostname" => or_default,
    init_containers: "initContainers" => null_default,
    node_name: "nodeName" => or_default,
    node_selector: "nodeSelector" => opt_strict_map,
    set_hostname_as_fqdn: "setHostnameAsFQDN" => or_default,
    subdomain: "subdomain" => or_default,
    tolerations: "tolerations" => null_default,
});
read_struct!(Toleration {
    effect: "effect" => null_default,
    key: "key" => null_default,
    operator: "operator" => or_default,
    toleration_seconds: "tolerationSeconds" => or_default,
    value: "value" => or_default,
});
read_struct!(Affinity {
    node_affinity: "nodeAffinity" => or_default,
});
read_struct!(NodeAffinity {
    required_during_scheduling_ignored_during_execution: "requiredDuringSchedulingIgnoredDuringExecution" => or_default,
});
read_struct!(NodeSelector {
    node_selector_terms: "nodeSelectorTerms" => null_default,
});
read_struct!(NodeSelectorTerm {
    match_expressions: "matchExpressions" => null_default,
    match_fields: "matchFields" => null_default,
});
read_struct!(NodeSelectorRequirement {
    key: "key" => null_default,
    operator: "operator" => null_default,
    values: "values" => null_default,
});
read_struct!(Container {
    image: "image" => or_default,
    name: "name" => null_default,
    ports: "ports" => null_default,
    restart_policy: "restartPolicy" => or_default,
});
read_struct!(ContainerPort {
    container_port: "containerPort" => required,
    host_ip: "hostIP" => or_default,
    host_port: "hostPort" => or_default,
    name: "name" => or_default,
    protocol: "protocol" => or_default,
});
read_struct!(PodDNSConfig {
    nameservers: "nameservers" => null_default,
    options: "options" => null_default,
    searches: "searches" => null_default,
});
read_struct!(PodDNSConfigOption {
    name: "name" => null_default,
    value: "value" => or_default,
});
read_struct!(PodStatus {
    conditions: "conditions" => null_default,
    host_ip: "hostIP" => or_default,
    host_ips: "hostIPs" => null_default,
    phase: "phase" => or_default,
    pod_ip: "podIP" => or_default,
    pod_ips: "podIPs" => null_default,
});
read_struct!(PodIP {
    ip: "ip" => null_default,
});
read_struct!(HostIP {
    ip: "ip" => null_default,
});
read_struct!(direct PodCondition {
    last_transition_time: "lastTransitionTime" => or_default,
    message: "message" => or_default,
    reason: "reason" => or_default,
    status: "status" => required,
    type_: "type" => required,
});
read_struct!(Service {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(ServiceSpec {
    allocate_load_balancer_node_ports: "allocateLoadBalancerNodePorts" => or_default,
    cluster_ip: "clusterIP" => or_default,
    cluster_ips: "clusterIPs" => or_default,
    external_ips: "externalIPs" => null_default,
    external_name: "externalName" => or_default,
    external_traffic_policy: "externalTrafficPolicy" => or_default,
    health_check_node_port: "healthCheckNodePort" => or_default,
    internal_traffic_policy: "internalTrafficPolicy" => or_default,
    ip_families: "ipFamilies" => null_default,
    ip_family_policy: "ipFamilyPolicy" => or_default,
    load_balancer_class: "loadBalancerClass" => or_default,
    load_balancer_ip: "loadBalancerIP" => or_default,
    load_balancer_source_ranges: "loadBalancerSourceRanges" => null_default,
    ports: "ports" => null_default,
    publish_not_ready_addresses: "publishNotReadyAddresses" => or_default,
    selector: "selector" => opt_strict_map,
    session_affinity: "sessionAffinity" => or_default,
    session_affinity_config: "sessionAffinityConfig" => or_default,
    traffic_distribution: "trafficDistribution" => or_default,
    type_: "type" => or_default,
});
read_struct!(ServicePort {
    app_protocol: "appProtocol" => or_default,
    name: "name" => null_default,
    node_port: "nodePort" => or_default,
    port: "port" => required,
    protocol: "protocol" => or_default,
    target_port: "targetPort" => or_default,
});
read_struct!(SessionAffinityConfig {
    client_ip: "clientIP" => or_default,
});
read_struct!(ClientIPConfig {
    timeout_seconds: "timeoutSeconds" => or_default,
});
read_struct!(ServiceStatus {
    load_balancer: "loadBalancer" => null_default,
});
read_struct!(LoadBalancerStatus {
    ingress: "ingress" => null_default,
});
read_struct!(LoadBalancerIngress {
    hostname: "hostname" => or_default,
    ip: "ip" => or_default,
    ip_mode: "ipMode" => or_default,
});
read_struct!(Endpoints {
    metadata: "metadata" => null_default,
    subsets: "subsets" => null_default,
});
read_struct!(EndpointSubset {
    addresses: "addresses" => null_default,
    not_ready_addresses: "notReadyAddresses" => null_default,
    ports: "ports" => null_default,
});
read_struct!(EndpointAddress {
    hostname: "hostname" => or_default,
    ip: "ip" => null_default,
    node_name: "nodeName" => or_default,
    target_ref: "targetRef" => or_default,
});
read_struct!(EndpointPort {
    app_protocol: "appProtocol" => or_default,
    name: "name" => null_default,
    port: "port" => required,
    protocol: "protocol" => or_default,
});
