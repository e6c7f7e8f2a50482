//! The StatefulSet controller: Pods `<name>-<ordinal>` with a stable DNS
//! identity under the governing Service.

use std::collections::BTreeMap;

use crate::api::{Kind, Object, ObjectKey};

use super::super::{Cluster, Tracker};
use super::{
    CONTROLLER_REVISION_HASH_LABEL, POD_INDEX_LABEL, STATEFULSET_POD_NAME_LABEL, delete_tree,
    deleted, naming, pods,
};

/// The revision of a template, `<owner>-<hash>`, and whether pods of an
/// older revision are to be replaced: only when the template changed since
/// the controller last saw it (pods given in the input are kept).
pub(super) fn revision(
    c: &mut Cluster,
    key: &ObjectKey,
    template: &crate::api::PodTemplateSpec,
) -> (String, bool) {
    let current = format!("{}-{}", key.name, naming::template_hash(template, 0));
    let changed = c
        .workloads
        .revisions
        .insert(key.clone(), current.clone())
        .is_some_and(|old| old != current);
    (current, changed)
}

/// Keeps pods `<name>-<start>` … `<name>-<start+replicas-1>`, each with
/// `hostname` = its name and `subdomain` = `spec.serviceName`.
pub(super) fn reconcile(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let sts = match c.stored_object(key) {
        Some(Object::StatefulSet(s)) => s.clone(),
        _ => {
            c.workloads.revisions.remove(key);
            deleted(c, t, key);
            return;
        }
    };
    let ns = key.namespace.clone().unwrap_or_default();
    let start = sts.spec.ordinals.and_then(|o| o.start).unwrap_or(0).max(0);
    let replicas = sts.spec.replicas.unwrap_or(1).max(0);
    let (rev, changed) = revision(c, key, &sts.spec.template);
    let existing: BTreeMap<String, ObjectKey> = c
        .workloads
        .children_of(key, Kind::Pod)
        .into_iter()
        .map(|k| (k.name.clone(), k))
        .collect();
    let wanted: Vec<(i32, String)> = (start..start.saturating_add(replicas))
        .map(|i| (i, format!("{}-{i}", key.name)))
        .collect();
    for (name, pod) in &existing {
        if !wanted.iter().any(|(_, w)| w == name) {
            delete_tree(c, t, pod);
        }
    }
    let owner = pods::owner_ref(c, Kind::StatefulSet, &sts.metadata);
    for (ordinal, name) in wanted {
        let pod_key = ObjectKey {
            kind: Kind::Pod,
            namespace: Some(ns.clone()),
            name: name.clone(),
        };
        if let Some(k) = existing.get(&name) {
            let stale = changed
                && c.stored_pod(k)
                    .is_some_and(|p| p.labels().get(CONTROLLER_REVISION_HASH_LABEL) != Some(&rev));
            if !stale {
                continue;
            }
            delete_tree(c, t, k);
        } else if c.contains(&pod_key) {
            // Someone else's pod has the name: upstream's create fails too.
            continue;
        }
        pods::create(
            c,
            t,
            pods::PodPlan {
                template: &sts.spec.template,
                namespace: &ns,
                name: name.clone(),
                generate_name: None,
                owner: owner.clone(),
                labels: vec![
                    (CONTROLLER_REVISION_HASH_LABEL.to_owned(), rev.clone()),
                    (POD_INDEX_LABEL.to_owned(), ordinal.to_string()),
                    (STATEFULSET_POD_NAME_LABEL.to_owned(), name.clone()),
                ],
                hostname: Some(name),
                subdomain: sts.spec.service_name.clone(),
                node: None,
            },
        );
    }
}
