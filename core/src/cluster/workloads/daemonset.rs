//! The DaemonSet controller: one Pod on every node it may run on,
//! following Nodes as they come and go.

use std::collections::BTreeMap;

use crate::api::{Kind, Node, Object, ObjectKey, Toleration};
use crate::labels::Selector;

use super::super::{Cluster, Tracker, scheduler};
use super::{
    CONTROLLER_REVISION_HASH_LABEL, delete_tree, deleted, generate_name, pods, statefulset,
};

/// The tolerations the DaemonSet controller adds to its pods (upstream
/// `AddOrUpdateDaemonPodTolerations`).
fn default_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut out: Vec<(&str, &str)> = vec![
        (scheduler::NOT_READY_TAINT, "NoExecute"),
        (scheduler::UNREACHABLE_TAINT, "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        (scheduler::UNSCHEDULABLE_TAINT, "NoSchedule"),
    ];
    if host_network {
        out.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    out.into_iter()
        .map(|(key, effect)| Toleration {
            key: key.to_owned(),
            operator: Some("Exists".to_owned()),
            effect: effect.to_owned(),
            ..Toleration::default()
        })
        .collect()
}

/// One pod per eligible node (the scheduler's filters with the
/// DaemonSet's tolerations, cordons ignored), none elsewhere.
pub(super) fn reconcile(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let ds = match c.stored_object(key) {
        Some(Object::DaemonSet(d)) => d.clone(),
        _ => {
            c.workloads.revisions.remove(key);
            deleted(c, t, key);
            return;
        }
    };
    let ns = key.namespace.clone().unwrap_or_default();
    let (rev, changed) = statefulset::revision(c, key, &ds.spec.template);
    let mut template = ds.spec.template.clone();
    for tol in default_tolerations(template.spec.host_network) {
        if !template.spec.tolerations.contains(&tol) {
            template.spec.tolerations.push(tol);
        }
    }
    let everything = Selector::everything();
    let eligible: Vec<String> = c
        .list_stored(Kind::Node, None, &everything)
        .into_iter()
        .filter_map(|o| match o {
            Object::Node(n) => Some(n),
            _ => None,
        })
        .filter(|n: &&Node| scheduler::fits(&template.spec, n).is_ok())
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let mut by_node: BTreeMap<String, Vec<ObjectKey>> = BTreeMap::new();
    for pod in c.workloads.children_of(key, Kind::Pod) {
        let node = match c.stored_pod(&pod) {
            Some(p) => {
                let stale = changed && p.labels().get(CONTROLLER_REVISION_HASH_LABEL) != Some(&rev);
                if stale {
                    None
                } else {
                    Some(p.node_name().unwrap_or_default().to_owned())
                }
            }
            _ => continue,
        };
        match node {
            Some(n) if eligible.contains(&n) => by_node.entry(n).or_default().push(pod),
            _ => delete_tree(c, t, &pod),
        }
    }
    for pods in by_node.values_mut() {
        crate::order::sort(pods);
        for extra in pods.drain(1..) {
            delete_tree(c, t, &extra);
        }
    }
    let owner = pods::owner_ref(c, Kind::DaemonSet, &ds.metadata);
    for node in eligible {
        if by_node.contains_key(&node) {
            continue;
        }
        let name = generate_name(c, key, &key.name);
        pods::create(
            c,
            t,
            pods::PodPlan {
                template: &template,
                namespace: &ns,
                name,
                generate_name: Some(format!("{}-", key.name)),
                owner: owner.clone(),
                labels: vec![(CONTROLLER_REVISION_HASH_LABEL.to_owned(), rev.clone())],
                hostname: None,
                subdomain: None,
                node: Some(node),
            },
        );
    }
}
