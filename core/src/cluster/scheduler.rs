//! # scheduler: which node a pod goes to
//!
//! A deterministic model of kube-scheduler's default profile, reduced to
//! what decides placement in the clusters svcroute models. For each Node,
//! the filters run in upstream's order and the first that fails is the
//! node's reason, as in the real framework:
//!
//! 1. **NodeUnschedulable**: `spec.unschedulable` (cordoned) keeps pods
//!    off unless they tolerate `node.kubernetes.io/unschedulable:NoSchedule`
//!    ("node(s) were unschedulable").
//! 2. **TaintToleration**: every `NoSchedule` and `NoExecute` taint must be
//!    tolerated (`PreferNoSchedule` never blocks). A Node whose `Ready`
//!    condition is `False` carries `node.kubernetes.io/not-ready:NoSchedule`,
//!    one whose `Ready` is `Unknown` carries `node.kubernetes.io/unreachable:NoSchedule`,
//!    as the node lifecycle controller adds them ("node(s) had untolerated
//!    taint {key: value}", the first one in the node's order). A Node with no
//!    `Ready` condition at all (a hand-written manifest) counts as Ready.
//! 3. **NodeAffinity**: `nodeSelector` (every pair) and the required node
//!    affinity (terms ORed, expressions ANDed; `In`, `NotIn`, `Exists`,
//!    `DoesNotExist`, `Gt`, `Lt`; `matchFields` on `metadata.name`) ("node(s)
//!    didn't match Pod's node affinity/selector").
//!
//! Among the nodes that pass, the pod goes to the one with the fewest pods,
//! ties broken by node name (the real scheduler's scores spread pods
//! similarly, with randomness this model leaves out). A pod that fits
//! nowhere stays `Pending` with `PodScheduled=False`, reason
//! `Unschedulable`, and the scheduler's message, e.g.
//! `0/3 nodes are available: 1 node(s) had untolerated taint
//! {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's
//! node affinity/selector. preemption: 0/3 nodes are available: 3
//! Preemption is not helpful for scheduling.`
//!
//! **Not modelled:** resource requests and allocatable capacity, host
//! ports, volumes, topology spread constraints, pod (anti-)affinity,
//! preferred node affinity, priorities and preemption, and evictions by
//! `NoExecute` taints of pods already running.
//!
//! When the input has no Nodes, [`default_nodes`] is the documented set a
//! door may add.
//!
//! ```
//! use svcroute::api::{Object, ObjectKey, Kind};
//! use svcroute::cluster::{Cluster, ClusterConfig, default_nodes};
//!
//! let mut cluster = Cluster::new(ClusterConfig::default())?;
//! cluster.apply_batch(default_nodes(3).into_iter().map(Object::Node).collect())?;
//! let pod: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Pod",
//!   "metadata": {"name": "db"}, "spec": {"nodeSelector": {"disktype": "ssd"}}}"#).unwrap();
//! cluster.apply(pod)?;
//! let key = ObjectKey { kind: Kind::Pod, namespace: Some("default".into()), name: "db".into() };
//! let stored = cluster.get(&key);
//! let Some(Object::Pod(db)) = stored.as_deref() else { unreachable!() };
//! let scheduled = &db.status.conditions[0];
//! assert_eq!((scheduled.type_.as_str(), scheduled.reason.as_deref()), ("PodScheduled", Some("Unschedulable")));
//! assert_eq!(scheduled.message.as_deref(), Some(
//!     "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. \
//!      preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."));
//! # Ok::<(), svcroute::cluster::ClusterError>(())
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::api::{
    ConditionStatus, Node, NodeAddress, NodeCondition, NodeSelectorRequirement, NodeSpec,
    NodeStatus, ObjectMeta, PodSpec, Quantity, Taint, Toleration,
};

/// The taint of a kubeadm control-plane node.
///
/// ```
/// assert_eq!(svcroute::cluster::scheduler::CONTROL_PLANE_TAINT, "node-role.kubernetes.io/control-plane");
/// ```
pub const CONTROL_PLANE_TAINT: &str = "node-role.kubernetes.io/control-plane";
/// The taint of a cordoned node.
///
/// ```
/// assert_eq!(svcroute::cluster::scheduler::UNSCHEDULABLE_TAINT, "node.kubernetes.io/unschedulable");
/// ```
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
/// The taint of a node whose `Ready` condition is `False`.
///
/// ```
/// assert_eq!(svcroute::cluster::scheduler::NOT_READY_TAINT, "node.kubernetes.io/not-ready");
/// ```
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The taint of a node whose `Ready` condition is `Unknown`.
///
/// ```
/// assert_eq!(svcroute::cluster::scheduler::UNREACHABLE_TAINT, "node.kubernetes.io/unreachable");
/// ```
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

/// Why one node was filtered out (the upstream plugin's message).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Misfit {
    Unschedulable,
    Taint(String, String),
    Affinity,
}

impl Misfit {
    fn message(&self) -> String {
        match self {
            Misfit::Unschedulable => "node(s) were unschedulable".to_owned(),
            Misfit::Taint(k, v) => format!("node(s) had untolerated taint {{{k}: {v}}}"),
            Misfit::Affinity => "node(s) didn't match Pod's node affinity/selector".to_owned(),
        }
    }
}

/// Does the toleration tolerate the taint (upstream `ToleratesTaint`)?
pub(crate) fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if !t.effect.is_empty() && t.effect != taint.effect {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

/// The taints that count for placement: the node's own plus the implicit
/// not-ready / unreachable taint.
fn placement_taints(node: &Node) -> Vec<Taint> {
    let mut taints: Vec<Taint> = node
        .spec
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .cloned()
        .collect();
    let implicit = node
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .and_then(|c| match c.status {
            ConditionStatus::True => None,
            ConditionStatus::False => Some(NOT_READY_TAINT),
            ConditionStatus::Unknown => Some(UNREACHABLE_TAINT),
        });
    if let Some(key) = implicit
        && !taints.iter().any(|t| t.key == key)
    {
        taints.push(Taint {
            key: key.to_owned(),
            value: None,
            effect: "NoSchedule".to_owned(),
        });
    }
    taints
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), [bound]) = (value, r.values.as_slice()) else {
                return false;
            };
            match (v.parse::<i64>(), bound.parse::<i64>()) {
                (Ok(v), Ok(b)) if r.operator == "Gt" => v > b,
                (Ok(v), Ok(b)) => v < b,
                _ => false,
            }
        }
        _ => false,
    }
}

/// `nodeSelector` and the required node affinity.
pub(crate) fn matches_affinity(spec: &PodSpec, node: &Node) -> bool {
    let labels = &node.metadata.labels;
    if let Some(sel) = &spec.node_selector
        && !sel.iter().all(|(k, v)| labels.get(k) == Some(v))
    {
        return false;
    }
    let Some(required) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    else {
        return true;
    };
    let name = node.metadata.name.as_deref().unwrap_or("");
    required.node_selector_terms.iter().any(|term| {
        (!term.match_expressions.is_empty() || !term.match_fields.is_empty())
            && term
                .match_expressions
                .iter()
                .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
            && term.match_fields.iter().all(|r| {
                r.key == "metadata.name"
                    && matches!(r.operator.as_str(), "In" | "NotIn")
                    && requirement_matches(r, Some(name))
            })
    })
}

/// The filters, in upstream order: `Ok` when the pod may run on the node.
pub(crate) fn fits(spec: &PodSpec, node: &Node) -> Result<(), Misfit> {
    if node.spec.unschedulable {
        let cordon = Taint {
            key: UNSCHEDULABLE_TAINT.to_owned(),
            value: None,
            effect: "NoSchedule".to_owned(),
        };
        if !spec.tolerations.iter().any(|t| tolerates(t, &cordon)) {
            return Err(Misfit::Unschedulable);
        }
    }
    for taint in placement_taints(node) {
        if !spec.tolerations.iter().any(|t| tolerates(t, &taint)) {
            return Err(Misfit::Taint(taint.key, taint.value.unwrap_or_default()));
        }
    }
    if !matches_affinity(spec, node) {
        return Err(Misfit::Affinity);
    }
    Ok(())
}

/// Picks a node: among `(node, pods on it)` the fitting one with the
/// fewest pods, ties by name; or the scheduler's message.
pub(crate) fn schedule<'a>(
    spec: &PodSpec,
    nodes: impl IntoIterator<Item = (&'a Node, usize)>,
) -> Result<String, String> {
    let mut best: Option<(usize, &str)> = None;
    let mut reasons: BTreeMap<Misfit, usize> = BTreeMap::new();
    let mut total = 0usize;
    for (node, pods) in nodes {
        total += 1;
        let name = node.metadata.name.as_deref().unwrap_or("");
        match fits(spec, node) {
            Ok(()) => {
                if best.is_none_or(|b| (pods, name) < b) {
                    best = Some((pods, name));
                }
            }
            Err(m) => *reasons.entry(m).or_default() += 1,
        }
    }
    if let Some((_, name)) = best {
        return Ok(name.to_owned());
    }
    Err(unschedulable_message(total, &reasons))
}

fn unschedulable_message(total: usize, reasons: &BTreeMap<Misfit, usize>) -> String {
    if total == 0 {
        return "no nodes available to schedule pods".to_owned();
    }
    let mut parts: Vec<String> = reasons
        .iter()
        .map(|(m, n)| format!("{n} {}", m.message()))
        .collect();
    crate::order::sort(&mut parts);
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: \
         {total} Preemption is not helpful for scheduling.",
        parts.join(", ")
    )
}

/// The node addresses of a family order: `InternalIP`s, first of each
/// family, in the node's order.
pub(crate) fn internal_ips(node: &Node) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in &node.status.addresses {
        if a.type_ == "InternalIP"
            && let Ok(ip) = a.address.parse::<IpAddr>()
            && !out.iter().any(|o| o.is_ipv4() == ip.is_ipv4())
        {
            out.push(ip);
        }
    }
    out
}

/// A documented default node set, for input that has none (the CLI's
/// `--nodes N`): `n` worker nodes `node-1` … `node-n` (at most 256), Ready,
/// spread over three zones `zone-a`, `zone-b`, `zone-c` of region
/// `region-1` in turn, each with pod CIDR `10.244.<i-1>.0/24` (the default
/// `--cluster-cidr` cut in `/24`s, as node IPAM hands them out), InternalIP
/// `172.18.0.<i+1>` (like kind's network), 4 CPUs, 16 GiB and 110 pods
/// allocatable, and the well-known labels (`kubernetes.io/hostname`,
/// `kubernetes.io/os`, `kubernetes.io/arch`, the topology labels).
///
/// ```
/// let nodes = svcroute::cluster::default_nodes(3);
/// assert_eq!(nodes.len(), 3);
/// assert_eq!(nodes[2].metadata.name.as_deref(), Some("node-3"));
/// assert_eq!(nodes[2].metadata.labels["topology.kubernetes.io/zone"], "zone-c");
/// assert_eq!(nodes[2].spec.pod_cidrs, ["10.244.2.0/24"]);
/// assert_eq!(nodes[2].status.addresses[0].address, "172.18.0.4");
/// assert!(nodes[2].is_ready());
/// ```
pub fn default_nodes(n: usize) -> Vec<Node> {
    (1..=n.min(256))
        .map(|i| {
            let name = format!("node-{i}");
            let zone = ["zone-a", "zone-b", "zone-c"][(i - 1) % 3];
            let cidr = format!("10.244.{}.0/24", i - 1);
            let labels = [
                ("kubernetes.io/arch", "amd64"),
                ("kubernetes.io/hostname", name.as_str()),
                ("kubernetes.io/os", "linux"),
                ("topology.kubernetes.io/region", "region-1"),
                ("topology.kubernetes.io/zone", zone),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            let quantity = |s: &str| s.parse::<Quantity>().ok();
            let allocatable = [("cpu", "4"), ("memory", "16Gi"), ("pods", "110")]
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), quantity(v)?)))
                .collect();
            Node {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    labels,
                    ..ObjectMeta::default()
                },
                spec: NodeSpec {
                    pod_cidr: Some(cidr.clone()),
                    pod_cidrs: vec![cidr],
                    ..NodeSpec::default()
                },
                status: NodeStatus {
                    addresses: vec![
                        NodeAddress {
                            type_: "InternalIP".to_owned(),
                            address: format!("172.18.0.{}", i + 1),
                        },
                        NodeAddress {
                            type_: "Hostname".to_owned(),
                            address: name,
                        },
                    ],
                    capacity: BTreeMap::clone(&allocatable),
                    allocatable,
                    conditions: vec![NodeCondition {
                        type_: "Ready".to_owned(),
                        status: ConditionStatus::True,
                        last_transition_time: None,
                        reason: Some("KubeletReady".to_owned()),
                    }],
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(json: &str) -> Node {
        serde_json::from_str(json).unwrap()
    }

    fn spec(json: &str) -> PodSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn toleration_rules() {
        let taint = Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoSchedule".into(),
        };
        let t = |j: &str| serde_json::from_str::<Toleration>(j).unwrap();
        assert!(tolerates(&t(r#"{"operator": "Exists"}"#), &taint));
        assert!(tolerates(&t(r#"{"key": "k", "value": "v"}"#), &taint));
        assert!(!tolerates(&t(r#"{"key": "k", "value": "w"}"#), &taint));
        assert!(!tolerates(
            &t(r#"{"key": "k", "operator": "Exists", "effect": "NoExecute"}"#),
            &taint
        ));
    }

    #[test]
    fn gt_lt_and_match_fields() {
        let n = node(r#"{"metadata": {"name": "n1", "labels": {"gen": "5"}}}"#);
        let s = spec(
            r#"{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
              {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]}],
                                       "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}"#,
        );
        assert_eq!(fits(&s, &n), Ok(()));
        let s = spec(
            r#"{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
              {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gen", "operator": "Lt", "values": ["5"]}]}]}}}}"#,
        );
        assert_eq!(fits(&s, &n), Err(Misfit::Affinity));
    }

    #[test]
    fn message_format() {
        let mut r = BTreeMap::new();
        r.insert(Misfit::Affinity, 2);
        r.insert(Misfit::Taint(CONTROL_PLANE_TAINT.into(), String::new()), 1);
        assert_eq!(
            unschedulable_message(3, &r),
            "0/3 nodes are available: 1 node(s) had untolerated taint \
             {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node \
             affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not \
             helpful for scheduling."
        );
    }
}
