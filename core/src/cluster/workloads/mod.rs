//! # workloads: the controllers that make Pods
//!
//! With [`ClusterConfig::workloads`](super::ClusterConfig::workloads) on (the
//! default), the cluster runs the workload controllers of
//! kube-controller-manager and the scheduler inside every call, before the
//! EndpointSlice controller settles, so a bundle of Deployments and
//! Services gives the Pods, and then the endpoints, a real cluster would.
//! Their writes are reported in the call's [`Changes`](super::Changes) and
//! are part of its atomic batch (a workload the API server would refuse
//! fails the whole batch before anything is written).
//!
//! | kind | makes | names |
//! | --- | --- | --- |
//! | Deployment | a ReplicaSet per pod template, rolled out | `<deployment>-<pod-template-hash>` |
//! | ReplicaSet | `replicas` Pods | `<replicaset>-<5 chars>` |
//! | StatefulSet | Pods with ordinals, `hostname` and `subdomain` | `<name>-0`, `<name>-1`, … |
//! | DaemonSet | one Pod per node it may run on | `<daemonset>-<5 chars>` |
//! | Pod (submitted: no status) | scheduled (unless `nodeName` binds it) and started in place | its own |
//!
//! The 5 characters come from upstream's alphabet
//! (`bcdfghjklmnpqrstvwxz2456789`), derived from the cluster seed, the
//! owner's name and a per-owner serial: the same calls give the same names.
//! The `pod-template-hash` is a stable hash of the template (not upstream's
//! exact value).
//!
//! ## Pods
//!
//! Generated pods carry the template's labels (plus `pod-template-hash`,
//! or the StatefulSet labels), its annotations and spec, a controller
//! `ownerReference`, and the status of a started pod: `Running`, `Ready`
//! (change it with [`Cluster::set_pod_ready`](super::Cluster::set_pod_ready)),
//! `hostIP` the node's InternalIP, and a pod IP from the node's
//! `spec.podCIDRs` (one per family; the next free address after the highest
//! in use on that node). `hostNetwork` pods take the node's addresses. A
//! node without a pod CIDR gives `Pending` pods without an IP, as a CNI
//! without an address range does, until the Node gets one. Placement is the
//! [scheduler](super::scheduler)'s; a pod that fits nowhere stays `Pending`
//! with `PodScheduled=False` and is scheduled again whenever Nodes change.
//!
//! ## Inputs that already hold the pods
//!
//! Controllers own what carries their controller `ownerReference`, so a
//! `kubectl get -o json` dump is not doubled: a ReplicaSet whose Pods are
//! in the input (with `ownerReferences` naming it) makes no new ones, and a
//! Deployment whose ReplicaSet is in the input (with the same template,
//! `pod-template-hash` aside, as upstream's `FindNewReplicaSet`) keeps it.
//! A Pod that has a status is stored as given, and Pods naming an owner
//! that is not in the input are kept. Turn the controllers off
//! (`workloads: false`) to store workload objects only.
//!
//! ## Rollouts
//!
//! Changing a Deployment's template creates a new ReplicaSet and runs the
//! rolling update (`maxSurge` and `maxUnavailable`, default 25%, or
//! `Recreate`) to its end within the call: pods are ready at once, so each
//! controller sync either scales the new ReplicaSet up or the old ones
//! down, as upstream's `rolloutRolling`. Old ReplicaSets stay, at 0.
//!
//! To watch a rollout half way, give the Deployment the annotation
//! [`ROLLOUT_STEPS_ANNOTATION`] (`svcroute.io/rollout-steps: "1"`): the
//! rollout stops after that many syncs, so a Service selecting the app sees
//! both versions (for 3 replicas and the defaults, step 1 adds one new pod
//! next to the three old ones). [`Cluster::rollout_step`](super::Cluster::rollout_step)
//! runs one more sync; applying the Deployment without the annotation
//! finishes the rollout. While held, changes of `replicas` wait too.
//!
//! ## Deletion and scale down
//!
//! Deleting a workload deletes what it owns (ReplicaSets, Pods), as the
//! garbage collector does. Scaling down deletes first the pods that are
//! unscheduled, then not running, then not ready, then those on the node
//! with most pods of the same owner, then by name, last first (upstream
//! ranks the same way, then by age and at random). A deleted Pod of a
//! ReplicaSet is replaced by a new one; a terminating one
//! ([`Cluster::set_pod_terminating`](super::Cluster::set_pod_terminating))
//! no longer counts, so it is replaced too, as upstream. When a Node goes,
//! the controllers' pods bound to it are deleted (pod garbage collection)
//! and made again elsewhere; a bare Pod bound to it is kept.
//!
//! Not modelled: `minReadySeconds`, `progressDeadlineSeconds`, revision
//! history limits, `OrderedReady` waiting (pods are ready at once), PVCs.
//! The controllers keep the `status` counters of their workloads
//! (`replicas`, `readyReplicas`, `availableReplicas`; a DaemonSet's
//! scheduled and ready counts), not `observedGeneration` or conditions.
//!
//! ## Example
//!
//! ```
//! use svcroute::api::{Kind, Object};
//! use svcroute::cluster::{Cluster, ClusterConfig, default_nodes};
//!
//! let mut cluster = Cluster::new(ClusterConfig::default())?;
//! cluster.apply_batch(default_nodes(3).into_iter().map(Object::Node).collect())?;
//! let app: Vec<Object> = serde_json::from_str(r#"[
//!   {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
//!    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
//!             "template": {"metadata": {"labels": {"app": "web"}},
//!                          "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80}]}]}}}},
//!   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
//!    "spec": {"clusterIP": "10.96.0.10", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
//! ]"#).unwrap();
//! let changes = cluster.apply_batch(app)?;
//! assert_eq!(changes.of_kind(Kind::ReplicaSet).created.len(), 1);
//! assert_eq!(changes.of_kind(Kind::Pod).created.len(), 3);
//! // One pod on each node, each an endpoint of the Service.
//! let slices = cluster.endpoint_slices("default", "web");
//! assert_eq!(slices[0].endpoints.len(), 3);
//! # Ok::<(), svcroute::cluster::ClusterError>(())
//! ```

mod daemonset;
mod deployment;
mod naming;
mod pods;
mod replicaset;
mod statefulset;
mod status;

use std::collections::{BTreeMap, BTreeSet};

use crate::api::OwnerReference;
use crate::api::{Kind, Object, ObjectKey, PodTemplateSpec};
use crate::labels::LabelSelector;

use super::error::{ClusterProblem, ProblemKind};
use super::{Cluster, Tracker};

pub use deployment::ROLLOUT_STEPS_ANNOTATION;

/// Label added to the Pods (and selectors) of a Deployment's ReplicaSets.
///
/// ```
/// assert_eq!(svcroute::cluster::workloads::POD_TEMPLATE_HASH_LABEL, "pod-template-hash");
/// ```
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// Label of StatefulSet and DaemonSet pods: the revision of their template.
///
/// ```
/// assert_eq!(svcroute::cluster::workloads::CONTROLLER_REVISION_HASH_LABEL, "controller-revision-hash");
/// ```
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// Label of a StatefulSet pod: its own name.
///
/// ```
/// assert_eq!(svcroute::cluster::workloads::STATEFULSET_POD_NAME_LABEL, "statefulset.kubernetes.io/pod-name");
/// ```
pub const STATEFULSET_POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label of a StatefulSet pod: its ordinal.
///
/// ```
/// assert_eq!(svcroute::cluster::workloads::POD_INDEX_LABEL, "apps.kubernetes.io/pod-index");
/// ```
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// What the controllers remember between calls.
#[derive(Debug, Clone, Default)]
pub(super) struct Workloads {
    /// Owner → what it owns (controller ownerReferences).
    children: BTreeMap<ObjectKey, BTreeSet<ObjectKey>>,
    /// Owned object → its owner.
    owner_of: BTreeMap<ObjectKey, ObjectKey>,
    /// Pods that no node fits.
    pending: BTreeSet<ObjectKey>,
    /// Deployments whose rollout is held half way.
    held: BTreeSet<ObjectKey>,
    /// Per owner, how many names it has generated.
    serial: BTreeMap<ObjectKey, u64>,
    /// StatefulSet and DaemonSet: the template revision last seen.
    revisions: BTreeMap<ObjectKey, String>,
}

impl Workloads {
    fn set_owner(&mut self, child: &ObjectKey, owner: Option<ObjectKey>) {
        if let Some(old) = self.owner_of.remove(child)
            && let Some(set) = self.children.get_mut(&old)
        {
            set.remove(child);
            if set.is_empty() {
                self.children.remove(&old);
            }
        }
        if let Some(owner) = owner {
            self.children
                .entry(owner.clone())
                .or_default()
                .insert(child.clone());
            self.owner_of.insert(child.clone(), owner);
        }
    }

    fn children_of(&self, owner: &ObjectKey, kind: Kind) -> Vec<ObjectKey> {
        self.children
            .get(owner)
            .into_iter()
            .flatten()
            .filter(|k| k.kind == kind)
            .cloned()
            .collect()
    }

    fn next_serial(&mut self, owner: &ObjectKey) -> u64 {
        let s = self.serial.entry(owner.clone()).or_default();
        *s += 1;
        *s - 1
    }
}

/// The workload kinds.
fn is_workload(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::DaemonSet
    )
}

/// The controller owner of an object, if it is a workload kind.
fn controller_owner(owners: &[OwnerReference], key: &ObjectKey) -> Option<ObjectKey> {
    owners
        .iter()
        .find(|r| r.controller == Some(true))
        .and_then(|r| {
            let kind = Kind::from_type(&r.api_version, &r.kind)?;
            is_workload(kind).then(|| ObjectKey {
                kind,
                namespace: key.namespace.clone(),
                name: r.name.clone(),
            })
        })
}

/// A generated name `<prefix>-<5 chars>` not in use.
fn generate_name(c: &mut Cluster, owner: &ObjectKey, prefix: &str) -> String {
    let ns = owner.namespace.clone().unwrap_or_default();
    let base: String = prefix.chars().take(58).collect();
    loop {
        let serial = c.workloads.next_serial(owner);
        let name = format!(
            "{base}-{}",
            naming::suffix(c.config.seed, &ns, &owner.name, serial)
        );
        let key = ObjectKey {
            kind: Kind::Pod,
            namespace: Some(ns.clone()),
            name,
        };
        if !c.contains(&key) {
            return key.name;
        }
    }
}

/// Deletes an object the controllers own, and what it owns in turn.
fn delete_tree(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let children: Vec<ObjectKey> = c
        .workloads
        .children
        .get(key)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for child in children {
        delete_tree(c, t, &child);
    }
    c.workloads.children.remove(key);
    c.workloads.set_owner(key, None);
    c.workloads.pending.remove(key);
    c.workloads.held.remove(key);
    if c.contains(key) {
        c.remove(key, t);
    }
}

/// A workload that is not stored: if it was deleted in this call, what it
/// owns goes too (garbage collection). An owner that never existed (Pods
/// of a dump naming a ReplicaSet that is not in the input) deletes nothing.
fn deleted(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    if t.existed(key) == Some(true) {
        delete_tree(c, t, key);
    }
}

/// Runs the workload controllers and the scheduler for what the call
/// touched: the first step of `settle`.
pub(super) fn settle(c: &mut Cluster, t: &mut Tracker) {
    if !c.config.workloads {
        return;
    }
    // A stored pod that no workload owns (none is known and it names no
    // controller) and that is no new submission asks nothing of them.
    let idle_pod = |k: &ObjectKey| {
        k.kind == Kind::Pod
            && c.workloads.owner_of.is_empty()
            && c.stored_pod(k).is_some_and(|p| {
                controller_owner(p.owner_references(), k).is_none() && !pods::is_submitted(p)
            })
    };
    let keys: Vec<super::StoreKey> = t
        .touched
        .sorted_keys_where(|k| {
            (is_workload(k.kind) || matches!(k.kind, Kind::Pod | Kind::Node)) && !idle_pod(k)
        })
        .into_iter()
        .cloned()
        .collect();
    if keys.is_empty() {
        return;
    }
    let mut dirty: BTreeSet<ObjectKey> = BTreeSet::new();
    let mut unscheduled: BTreeSet<ObjectKey> = BTreeSet::new();
    let mut gone_nodes: Vec<String> = Vec::new();
    let mut nodes_changed = false;
    for key in keys {
        let key: &ObjectKey = &key;
        match key.kind {
            Kind::Node => {
                nodes_changed = true;
                if c.stored_object(key).is_none() {
                    gone_nodes.push(key.name.clone());
                }
            }
            Kind::Pod | Kind::ReplicaSet => {
                let before = if c.workloads.owner_of.is_empty() {
                    None
                } else {
                    c.workloads.owner_of.get(key).cloned()
                };
                let (now, exists, submitted) = if key.kind == Kind::Pod {
                    match c.stored_pod(key) {
                        Some(p) => (
                            controller_owner(p.owner_references(), key),
                            true,
                            pods::is_submitted(p),
                        ),
                        None => (None, false, false),
                    }
                } else {
                    let stored = c.stored_object(key);
                    let now =
                        stored.and_then(|o| controller_owner(&o.metadata().owner_references, key));
                    (now, stored.is_some(), false)
                };
                if before != now {
                    c.workloads.set_owner(key, now.clone());
                }
                dirty.extend(before);
                dirty.extend(now);
                if key.kind == Kind::ReplicaSet {
                    if !exists {
                        // Deleted: its pods go with it (garbage collection).
                        deleted(c, t, key);
                    }
                    dirty.insert(key.clone());
                } else if submitted {
                    unscheduled.insert(key.clone());
                } else if !exists {
                    c.workloads.pending.remove(key);
                }
            }
            _ => {
                dirty.insert(key.clone());
            }
        }
    }
    if nodes_changed {
        for node in gone_nodes {
            let pods: Vec<ObjectKey> = c
                .strings
                .lookup(&node)
                .and_then(|s| c.pods_by_node.get(&s))
                .into_iter()
                .flatten()
                .filter_map(|&id| c.slot(id).map(|s| s.key.get().clone()))
                .collect();
            for pod in pods {
                if let Some(owner) = c.workloads.owner_of.get(&pod).cloned()
                    && c.contains(&owner)
                {
                    delete_tree(c, t, &pod);
                    dirty.insert(owner);
                }
            }
        }
        let everything = crate::labels::Selector::everything();
        let daemonsets: Vec<ObjectKey> = c
            .list_stored(Kind::DaemonSet, None, &everything)
            .into_iter()
            .map(Object::key)
            .collect();
        dirty.extend(daemonsets);
        unscheduled.extend(c.workloads.pending.iter().cloned());
    }
    let mut replicasets: BTreeSet<ObjectKey> = BTreeSet::new();
    for key in dirty.iter().filter(|k| k.kind == Kind::Deployment) {
        deployment::reconcile(c, t, key, &mut replicasets, None);
    }
    replicasets.extend(dirty.iter().filter(|k| k.kind == Kind::ReplicaSet).cloned());
    for key in &replicasets {
        replicaset::reconcile(c, t, key);
    }
    for key in dirty.iter().filter(|k| k.kind == Kind::StatefulSet) {
        statefulset::reconcile(c, t, key);
    }
    for key in dirty.iter().filter(|k| k.kind == Kind::DaemonSet) {
        daemonset::reconcile(c, t, key);
    }
    for key in &unscheduled {
        pods::schedule_existing(c, t, key);
    }
    refresh_status(c, t, dirty.into_iter().chain(replicasets));
}

/// Writes the status of these workloads and of the Deployments owning
/// those that are ReplicaSets.
fn refresh_status(c: &mut Cluster, t: &mut Tracker, keys: impl Iterator<Item = ObjectKey>) {
    let mut keys: BTreeSet<ObjectKey> = keys.collect();
    let owners: Vec<ObjectKey> = keys
        .iter()
        .filter(|k| k.kind == Kind::ReplicaSet)
        .filter_map(|k| c.workloads.owner_of.get(k).cloned())
        .collect();
    keys.extend(owners);
    for key in keys.iter().filter(|k| k.kind != Kind::Deployment) {
        status::refresh(c, t, key);
    }
    for key in keys.iter().filter(|k| k.kind == Kind::Deployment) {
        status::refresh(c, t, key);
    }
}

/// One more sync of a Deployment's held rollout (see the module docs).
pub(super) fn rollout_step(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let mut replicasets = BTreeSet::new();
    deployment::reconcile(c, t, key, &mut replicasets, Some(1));
    for rs in &replicasets {
        replicaset::reconcile(c, t, rs);
    }
    refresh_status(c, t, replicasets.into_iter());
}

/// Is this Deployment's rollout held half way?
pub(super) fn is_held(c: &Cluster, key: &ObjectKey) -> bool {
    c.workloads.held.contains(key)
}

/// Go's `%#v` of a label map, as the API server's messages print it.
fn go_map(labels: &BTreeMap<String, String>) -> String {
    let body: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// The API server's checks of a workload (`apps/v1` validation): a
/// selector is required, not empty, valid, and matches the template's
/// labels; `replicas` is not negative.
pub(super) fn validate(
    c: &Cluster,
    object: &Object,
    index: usize,
    problems: &mut Vec<ClusterProblem>,
) {
    if !c.config.workloads {
        return;
    }
    let (selector, template, replicas): (Option<&LabelSelector>, &PodTemplateSpec, Option<i32>) =
        match object {
            Object::Deployment(d) => (d.spec.selector.as_ref(), &d.spec.template, d.spec.replicas),
            Object::ReplicaSet(r) => (r.spec.selector.as_ref(), &r.spec.template, r.spec.replicas),
            Object::StatefulSet(s) => (s.spec.selector.as_ref(), &s.spec.template, s.spec.replicas),
            Object::DaemonSet(d) => (d.spec.selector.as_ref(), &d.spec.template, None),
            _ => return,
        };
    let key = object.key();
    let mut bad = |field: &str, message: String| {
        problems.push(ClusterProblem::object(
            ProblemKind::Invalid,
            key.clone(),
            Some(index),
            Some(field),
            message,
        ));
    };
    if let Some(r) = replicas
        && r < 0
    {
        bad(
            "spec.replicas",
            format!("Invalid value: {r}: must be greater than or equal to 0"),
        );
    }
    match selector {
        None => bad("spec.selector", "Required value".to_owned()),
        Some(s) if s.is_empty() => bad(
            "spec.selector",
            "Invalid value: {}: empty selector is invalid for deployment".to_owned(),
        ),
        Some(s) => match s.to_selector() {
            Err(e) => bad("spec.selector", format!("Invalid value: {e}")),
            Ok(sel) if !sel.matches(&template.metadata.labels) => bad(
                "spec.template.metadata.labels",
                format!(
                    "Invalid value: {}: `selector` does not match template `labels`",
                    go_map(&template.metadata.labels)
                ),
            ),
            Ok(_) => {}
        },
    }
}
