//! Pods as the controllers make them: from a template, with an owner,
//! placed by the [scheduler](crate::cluster::scheduler), with an IP from
//! the node's pod CIDR, Running and Ready.

use crate::cluster::PodView;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::api::{
    ConditionStatus, HostIP, Kind, Node, Object, ObjectKey, ObjectMeta, OwnerReference, Pod,
    PodCondition, PodIP, PodPhase, PodStatus, PodTemplateSpec,
};
use crate::ipam::{IpNet, PodIpAllocator};
use crate::labels::Selector;

use super::super::{Cluster, Tracker, scheduler};
use super::naming;

/// What a controller asks for: the template, the pod's name and owner,
/// labels to add, and (StatefulSet) its DNS identity or (DaemonSet) its
/// node.
pub(super) struct PodPlan<'a> {
    pub template: &'a PodTemplateSpec,
    pub namespace: &'a str,
    pub name: String,
    pub generate_name: Option<String>,
    pub owner: OwnerReference,
    pub labels: Vec<(String, String)>,
    pub hostname: Option<String>,
    pub subdomain: Option<String>,
    pub node: Option<String>,
}

/// The owner reference a controller writes into what it makes.
pub(super) fn owner_ref(c: &Cluster, kind: Kind, meta: &ObjectMeta) -> OwnerReference {
    let ns = meta.namespace.as_deref().unwrap_or("default");
    let name = meta.name.clone().unwrap_or_default();
    OwnerReference {
        api_version: kind.api_version().to_owned(),
        kind: kind.as_str().to_owned(),
        uid: meta
            .uid
            .clone()
            .unwrap_or_else(|| naming::uid(c.config.seed, kind.as_str(), ns, &name)),
        name,
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Builds, places and writes one pod; returns its key.
pub(super) fn create(c: &mut Cluster, t: &mut Tracker, plan: PodPlan<'_>) -> ObjectKey {
    let mut labels = plan.template.metadata.labels.clone();
    labels.extend(plan.labels);
    let mut spec = plan.template.spec.clone();
    spec.node_name = plan.node;
    if plan.hostname.is_some() {
        spec.hostname = plan.hostname;
        spec.subdomain = plan.subdomain;
    }
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(plan.name.clone()),
            generate_name: plan.generate_name,
            namespace: Some(plan.namespace.to_owned()),
            uid: Some(naming::uid(
                c.config.seed,
                "Pod",
                plan.namespace,
                &plan.name,
            )),
            labels,
            annotations: plan.template.metadata.annotations.clone(),
            owner_references: vec![plan.owner.clone()],
            ..ObjectMeta::default()
        },
        spec,
        status: PodStatus::default(),
    };
    let key = ObjectKey {
        kind: Kind::Pod,
        namespace: Some(plan.namespace.to_owned()),
        name: plan.name,
    };
    let owner = ObjectKey {
        kind: Kind::from_type(&plan.owner.api_version, &plan.owner.kind).unwrap_or(Kind::Pod),
        namespace: Some(plan.namespace.to_owned()),
        name: plan.owner.name,
    };
    let pending = place(c, &mut pod);
    c.write(Object::Pod(pod), t);
    c.workloads.set_owner(&key, Some(owner));
    if pending {
        c.workloads.pending.insert(key.clone());
    }
    key
}

/// Schedules and starts a submitted bare Pod, or one left Pending (no node
/// fits, or its `nodeName` names no Node yet), and writes it.
pub(super) fn schedule_existing(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let Some(pod) = c.stored_pod(key) else {
        c.workloads.pending.remove(key);
        return;
    };
    if !c.workloads.pending.contains(key) && !is_submitted(pod) {
        return;
    }
    let mut pod = pod.to_pod().into_owned();
    pod.status = PodStatus::default();
    if place(c, &mut pod) {
        c.workloads.pending.insert(key.clone());
    } else {
        c.workloads.pending.remove(key);
    }
    c.write(Object::Pod(pod), t);
}

/// Is this Pod as a manifest submits it (no status): one for the
/// scheduler (without `nodeName`) and the kubelet?
pub(super) fn is_submitted(pod: PodView<'_>) -> bool {
    pod.status_is_default() && !pod.is_terminating()
}

fn condition(type_: &str, ok: bool) -> PodCondition {
    PodCondition {
        type_: type_.to_owned(),
        status: if ok {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        },
        last_transition_time: None,
        reason: None,
        message: None,
    }
}

/// Sets node, IPs, phase and conditions. `true` when the pod must wait for
/// Nodes to change: no node fits, its node does not exist, or its node has
/// no pod CIDR (or no free address) to give it an IP.
fn place(c: &Cluster, pod: &mut Pod) -> bool {
    if pod.spec.node_name.as_deref().is_none_or(str::is_empty) {
        let everything = Selector::everything();
        let nodes: Vec<(&Node, usize)> = c
            .list_stored(Kind::Node, None, &everything)
            .into_iter()
            .filter_map(|o| match o {
                Object::Node(n) => Some((n, pods_on(c, n.metadata.name.as_deref()))),
                _ => None,
            })
            .collect();
        match scheduler::schedule(&pod.spec, nodes) {
            Ok(node) => pod.spec.node_name = Some(node),
            Err(message) => {
                pod.spec.node_name = None;
                pod.status = PodStatus {
                    phase: Some(PodPhase::Pending),
                    conditions: vec![PodCondition {
                        reason: Some("Unschedulable".to_owned()),
                        message: Some(message),
                        ..condition("PodScheduled", false)
                    }],
                    ..PodStatus::default()
                };
                return true;
            }
        }
    }
    let node_name = pod.spec.node_name.clone().unwrap_or_default();
    let node = match c.stored_object(&ObjectKey {
        kind: Kind::Node,
        namespace: None,
        name: node_name.clone(),
    }) {
        Some(Object::Node(n)) => Some(n),
        _ => None,
    };
    let host_ips = node.map(scheduler::internal_ips).unwrap_or_default();
    let pod_ips: Vec<IpAddr> = match node {
        None => Vec::new(),
        Some(_) if pod.spec.host_network => host_ips.clone(),
        Some(n) => allocate_ips(c, n, &node_name),
    };
    let waiting = pod_ips.is_empty();
    let running = !pod_ips.is_empty();
    pod.status = PodStatus {
        phase: Some(if running {
            PodPhase::Running
        } else {
            PodPhase::Pending
        }),
        conditions: vec![
            condition("Initialized", true),
            condition("Ready", running),
            condition("ContainersReady", running),
            condition("PodScheduled", true),
        ],
        host_ip: host_ips.first().map(IpAddr::to_string),
        host_ips: host_ips
            .iter()
            .map(|ip| HostIP { ip: ip.to_string() })
            .collect(),
        pod_ip: pod_ips.first().map(IpAddr::to_string),
        pod_ips: pod_ips
            .iter()
            .map(|ip| PodIP { ip: ip.to_string() })
            .collect(),
    };
    waiting
}

/// How many pods are bound to a node.
pub(super) fn pods_on(c: &Cluster, node: Option<&str>) -> usize {
    node.and_then(|n| c.strings.lookup(n))
        .and_then(|s| c.pods_by_node.get(&s))
        .map_or(0, Vec::len)
}

/// One address per pod CIDR of the node: the next free one after the
/// highest in use by the node's pods (the CNI `host-local` plugin's
/// round-robin, see [`PodIpAllocator`]). Addresses of deleted pods are free
/// again because the pods in use are read from the store.
///
/// An address that some other stored pod already holds is stepped over as
/// well, even when that pod sits on another node (a hand-written pod whose
/// IP lies in this node's CIDR): two pods with one IP are a state kube-proxy
/// resolves arbitrarily ("the result is undefined", `endpointslicecache.go`),
/// so the simulator never makes one itself.
fn allocate_ips(c: &Cluster, node: &Node, node_name: &str) -> Vec<IpAddr> {
    let cidrs: Vec<IpNet> = if node.spec.pod_cidrs.is_empty() {
        node.spec
            .pod_cidr
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    } else {
        node.spec
            .pod_cidrs
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    if cidrs.is_empty() {
        return Vec::new();
    }
    let mut used: Vec<IpAddr> = Vec::new();
    if let Some(ids) = c
        .strings
        .lookup(node_name)
        .and_then(|s| c.pods_by_node.get(&s))
    {
        for &id in ids {
            if let Some(p) = c.pod_view(id)
                && !p.host_network()
            {
                used.extend(p.pod_ips().filter_map(|ip| ip.parse::<IpAddr>().ok()));
            }
        }
    }
    crate::order::sort(&mut used);
    let mut out = Vec::new();
    for cidr in cidrs {
        let mut alloc = PodIpAllocator::new(cidr);
        for ip in used.iter().filter(|ip| cidr.contains(**ip)) {
            let _ = alloc.allocate(*ip);
        }
        while let Ok(ip) = alloc.allocate_next() {
            if c.pods_with_ip(&ip.to_string()) == 0 {
                out.push(ip);
                break;
            }
        }
    }
    out
}

/// The order in which a controller deletes pods on scale down (first to
/// go first): unscheduled before scheduled, not running before running,
/// not ready before ready, pods on nodes with more pods of the same owner
/// before the others, then by name, last first. Upstream's ranking is the
/// same up to its last step, which compares creation times and breaks ties
/// at random; svcroute has no clock, and the name stands in.
pub(super) fn deletion_order(c: &Cluster, pods: &mut [ObjectKey]) {
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    let info: BTreeMap<ObjectKey, (bool, bool, bool, String)> = pods
        .iter()
        .map(|k| {
            let (scheduled, running, ready, node) = match c.stored_pod(k) {
                Some(p) => (
                    p.node_name().is_some(),
                    p.phase() == PodPhase::Running,
                    p.is_ready(),
                    p.node_name().unwrap_or_default().to_owned(),
                ),
                _ => (false, false, false, String::new()),
            };
            *per_node.entry(node.clone()).or_default() += 1;
            (k.clone(), (scheduled, running, ready, node))
        })
        .collect();
    crate::order::sort_by(pods, |a, b| {
        let (sa, ra, ya, na) = &info[a];
        let (sb, rb, yb, nb) = &info[b];
        (sa, ra, ya)
            .cmp(&(sb, rb, yb))
            .then(per_node[nb].cmp(&per_node[na]))
            .then(b.name.cmp(&a.name))
    });
}
