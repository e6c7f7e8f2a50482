//! The Deployment controller: one ReplicaSet per pod template, and the
//! rollout between them.

use std::collections::BTreeSet;

use crate::api::{
    IntOrString, Kind, Object, ObjectKey, ObjectMeta, PodTemplateSpec, ReplicaSet, ReplicaSetSpec,
    WorkloadStatus,
};

use super::super::{Cluster, Tracker};
use super::{POD_TEMPLATE_HASH_LABEL, deleted, naming, pods};

/// Annotation of a Deployment that holds its rollout after this many
/// controller syncs (`"1"`: the new ReplicaSet's first scale-up only), so
/// that a Service sees both versions. See the [module docs](super).
///
/// ```
/// assert_eq!(svcroute::cluster::ROLLOUT_STEPS_ANNOTATION, "svcroute.io/rollout-steps");
/// ```
pub const ROLLOUT_STEPS_ANNOTATION: &str = "svcroute.io/rollout-steps";

fn strip_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = template.clone();
    t.metadata.labels.remove(POD_TEMPLATE_HASH_LABEL);
    t
}

/// A count or a percentage of `replicas` (rounded up for `maxSurge`, down
/// for `maxUnavailable`, as upstream); `default` percent when absent or
/// unreadable.
fn resolve(v: Option<&IntOrString>, replicas: i32, round_up: bool) -> i32 {
    let pct = |p: i64| {
        let total = p * i64::from(replicas);
        let n = if round_up {
            (total + 99) / 100
        } else {
            total / 100
        };
        n.clamp(0, i64::from(i32::MAX)) as i32
    };
    match v {
        Some(IntOrString::Int(n)) => (*n).max(0),
        Some(IntOrString::String(s)) => match s.strip_suffix('%').map(str::parse::<i64>) {
            Some(Ok(p)) => pct(p.max(0)),
            _ => pct(25),
        },
        None => pct(25),
    }
}

/// The rollout's shape: `Recreate`, or rolling with (maxSurge,
/// maxUnavailable), never both 0 (upstream's `ResolveFenceposts`).
enum Strategy {
    Recreate,
    Rolling(i32, i32),
}

/// One controller sync with instantly available pods: scale the new
/// ReplicaSet up, else scale old ones down (oldest first). `false` when
/// there is nothing to do.
fn sync_step(replicas: i32, strategy: &Strategy, new: &mut i32, olds: &mut [i32]) -> bool {
    let old_total: i32 = olds.iter().sum();
    if old_total == 0 {
        if *new != replicas {
            *new = replicas;
            return true;
        }
        return false;
    }
    let (surge, unavailable) = match strategy {
        Strategy::Recreate => {
            olds.iter_mut().for_each(|o| *o = 0);
            return true;
        }
        Strategy::Rolling(s, u) => (*s, *u),
    };
    if *new > replicas {
        *new = replicas;
        return true;
    }
    let total = *new + old_total;
    let max_total = replicas + surge;
    if *new < replicas && total < max_total {
        *new = replicas.min(*new + (max_total - total));
        return true;
    }
    let mut budget = total - (replicas - unavailable);
    if budget <= 0 {
        return false;
    }
    for o in olds.iter_mut() {
        let cut = budget.min(*o);
        *o -= cut;
        budget -= cut;
    }
    true
}

/// Reconciles one Deployment: its ReplicaSet for the current template
/// (found by template, else created), and `limit` syncs of the rollout
/// (`None`: to the end, or as the hold annotation says).
pub(super) fn reconcile(
    c: &mut Cluster,
    t: &mut Tracker,
    key: &ObjectKey,
    replicasets: &mut BTreeSet<ObjectKey>,
    forced: Option<u32>,
) {
    let d = match c.stored_object(key) {
        Some(Object::Deployment(d)) => d.clone(),
        _ => {
            deleted(c, t, key);
            return;
        }
    };
    let ns = key.namespace.clone().unwrap_or_default();
    let replicas = d.spec.replicas.unwrap_or(1).max(0);
    let mut owned: Vec<ReplicaSet> = c
        .workloads
        .children_of(key, Kind::ReplicaSet)
        .iter()
        .filter_map(|k| match c.stored_object(k) {
            Some(Object::ReplicaSet(rs)) => Some(rs.clone()),
            _ => None,
        })
        .collect();
    crate::order::sort_by(&mut owned, |a, b| a.metadata.name.cmp(&b.metadata.name));
    let wanted = strip_hash(&d.spec.template);
    let (new_rs, created) = match owned
        .iter()
        .position(|rs| strip_hash(&rs.spec.template) == wanted)
    {
        Some(i) => (owned.remove(i), false),
        None => (new_replicaset(c, key, &d), true),
    };
    let annotation: Option<u32> = d
        .metadata
        .annotations
        .get(ROLLOUT_STEPS_ANNOTATION)
        .and_then(|v| v.trim().parse().ok());
    let limit = match (forced, annotation) {
        (Some(n), _) => Some(n),
        (None, Some(n)) if created => Some(n),
        (None, Some(_)) if c.workloads.held.contains(key) => Some(0),
        _ => None,
    };
    let strategy = match d.spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) {
        Some("Recreate") => Strategy::Recreate,
        _ => {
            let ru = d
                .spec
                .strategy
                .as_ref()
                .and_then(|s| s.rolling_update.as_ref());
            let surge = resolve(ru.and_then(|r| r.max_surge.as_ref()), replicas, true);
            let unavailable = resolve(ru.and_then(|r| r.max_unavailable.as_ref()), replicas, false);
            if surge == 0 && unavailable == 0 {
                Strategy::Rolling(0, 1)
            } else {
                Strategy::Rolling(surge, unavailable)
            }
        }
    };
    let mut new = if created {
        0
    } else {
        new_rs.spec.replicas.unwrap_or(1).max(0)
    };
    let mut olds: Vec<i32> = owned
        .iter()
        .map(|rs| rs.spec.replicas.unwrap_or(1).max(0))
        .collect();
    let mut steps = 0u32;
    while limit.is_none_or(|l| steps < l) && steps < 100_000 {
        if !sync_step(replicas, &strategy, &mut new, &mut olds) {
            break;
        }
        steps += 1;
    }
    if olds.iter().all(|&o| o == 0) && new == replicas {
        c.workloads.held.remove(key);
    } else {
        c.workloads.held.insert(key.clone());
    }
    let mut writes: Vec<ReplicaSet> = Vec::new();
    if created || new_rs.spec.replicas != Some(new) {
        let mut rs = new_rs;
        rs.spec.replicas = Some(new);
        writes.push(rs);
    }
    for (mut rs, n) in owned.into_iter().zip(olds) {
        if rs.spec.replicas != Some(n) {
            rs.spec.replicas = Some(n);
            writes.push(rs);
        }
    }
    for rs in writes {
        let rs_key = ObjectKey {
            kind: Kind::ReplicaSet,
            namespace: Some(ns.clone()),
            name: rs.metadata.name.clone().unwrap_or_default(),
        };
        c.write(Object::ReplicaSet(rs), t);
        c.workloads.set_owner(&rs_key, Some(key.clone()));
        replicasets.insert(rs_key);
    }
}

/// The ReplicaSet `<deployment>-<pod-template-hash>` for the Deployment's
/// template (a name taken by another owner's object bumps the collision
/// count, as upstream).
fn new_replicaset(c: &Cluster, key: &ObjectKey, d: &crate::api::Deployment) -> ReplicaSet {
    let ns = key.namespace.clone().unwrap_or_default();
    let mut collisions = 0;
    let (name, hash) = loop {
        let hash = naming::template_hash(&d.spec.template, collisions);
        let name = format!("{}-{hash}", key.name);
        let taken = c.stored_object(&ObjectKey {
            kind: Kind::ReplicaSet,
            namespace: Some(ns.clone()),
            name: name.clone(),
        });
        if taken.is_none() || collisions >= 100 {
            break (name, hash);
        }
        collisions += 1;
    };
    let mut template = d.spec.template.clone();
    template
        .metadata
        .labels
        .insert(POD_TEMPLATE_HASH_LABEL.to_owned(), hash.clone());
    let mut selector = d.spec.selector.clone().unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .insert(POD_TEMPLATE_HASH_LABEL.to_owned(), hash);
    ReplicaSet {
        metadata: ObjectMeta {
            uid: Some(naming::uid(c.config.seed, "ReplicaSet", &ns, &name)),
            name: Some(name),
            namespace: Some(ns),
            labels: template.metadata.labels.clone(),
            owner_references: vec![pods::owner_ref(c, Kind::Deployment, &d.metadata)],
            ..ObjectMeta::default()
        },
        spec: ReplicaSetSpec {
            replicas: Some(0),
            selector: Some(selector),
            template,
            min_ready_seconds: d.spec.min_ready_seconds,
        },
        status: WorkloadStatus::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_update_with_defaults_for_three_replicas() {
        // maxSurge 25% of 3 rounds up to 1, maxUnavailable rounds down to 0.
        let s = Strategy::Rolling(resolve(None, 3, true), resolve(None, 3, false));
        let (mut new, mut olds) = (0, vec![3]);
        let mut seen = Vec::new();
        while sync_step(3, &s, &mut new, &mut olds) {
            seen.push((new, olds[0]));
        }
        assert_eq!(seen, [(1, 3), (1, 2), (2, 2), (2, 1), (3, 1), (3, 0)]);
    }

    #[test]
    fn recreate_scales_down_first() {
        let (mut new, mut olds) = (0, vec![2, 1]);
        assert!(sync_step(2, &Strategy::Recreate, &mut new, &mut olds));
        assert_eq!((new, olds.as_slice()), (0, [0, 0].as_slice()));
        assert!(sync_step(2, &Strategy::Recreate, &mut new, &mut olds));
        assert_eq!(new, 2);
    }
}
