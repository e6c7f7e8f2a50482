//! The ReplicaSet controller: `replicas` Pods from the template.

use crate::api::{Kind, Object, ObjectKey};

use super::super::{Cluster, Tracker};
use super::{delete_tree, deleted, generate_name, pods};

/// Makes or deletes Pods until the ReplicaSet owns `replicas` active ones
/// (terminating pods do not count); a deleted ReplicaSet takes its Pods.
pub(super) fn reconcile(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let rs = match c.stored_object(key) {
        Some(Object::ReplicaSet(rs)) => rs.clone(),
        _ => {
            deleted(c, t, key);
            return;
        }
    };
    let want = rs.spec.replicas.unwrap_or(1).max(0) as usize;
    let mut active: Vec<ObjectKey> = c
        .workloads
        .children_of(key, Kind::Pod)
        .into_iter()
        .filter(|k| c.stored_pod(k).is_some_and(|p| !p.is_terminating()))
        .collect();
    if active.len() > want {
        pods::deletion_order(c, &mut active);
        let extra = active.len() - want;
        for pod in active.into_iter().take(extra) {
            delete_tree(c, t, &pod);
        }
        return;
    }
    let ns = key.namespace.clone().unwrap_or_default();
    let owner = pods::owner_ref(c, Kind::ReplicaSet, &rs.metadata);
    for _ in active.len()..want {
        let name = generate_name(c, key, &key.name);
        pods::create(
            c,
            t,
            pods::PodPlan {
                template: &rs.spec.template,
                namespace: &ns,
                name,
                generate_name: Some(format!("{}-", key.name)),
                owner: owner.clone(),
                labels: Vec::new(),
                hostname: None,
                subdomain: None,
                node: None,
            },
        );
    }
}
