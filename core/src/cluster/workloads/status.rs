//! The `status` counters the controllers write on their workloads, so that
//! `kubectl get deployments` reads `READY 3/3`.

use crate::api::{DaemonSetStatus, Kind, Object, ObjectKey, PodPhase, WorkloadStatus};

use super::super::{Cluster, Tracker};

/// (active, ready) pods a workload owns (terminating pods are not active).
fn counts(c: &Cluster, key: &ObjectKey) -> (i32, i32) {
    let mut active = 0;
    let mut ready = 0;
    for pod in c.workloads.children_of(key, Kind::Pod) {
        if let Some(p) = c.stored_pod(&pod)
            && !p.is_terminating()
            && !matches!(p.phase(), PodPhase::Succeeded | PodPhase::Failed)
        {
            active += 1;
            if p.is_ready() {
                ready += 1;
            }
        }
    }
    (active, ready)
}

fn some(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

/// Recomputes the status of one workload from what it owns, and writes it
/// when it changed. ReplicaSets before their Deployment.
pub(super) fn refresh(c: &mut Cluster, t: &mut Tracker, key: &ObjectKey) {
    let Some(mut object) = c.stored_object(key).cloned() else {
        return;
    };
    match &mut object {
        Object::ReplicaSet(rs) => {
            let (active, ready) = counts(c, key);
            rs.status = WorkloadStatus {
                replicas: Some(active),
                ready_replicas: some(ready),
                available_replicas: some(ready),
                observed_generation: rs.status.observed_generation,
            };
        }
        Object::StatefulSet(s) => {
            let (active, ready) = counts(c, key);
            s.status = WorkloadStatus {
                replicas: Some(active),
                ready_replicas: some(ready),
                available_replicas: some(ready),
                observed_generation: s.status.observed_generation,
            };
        }
        Object::DaemonSet(d) => {
            let (active, ready) = counts(c, key);
            d.status = DaemonSetStatus {
                current_number_scheduled: Some(active),
                desired_number_scheduled: Some(active),
                number_ready: Some(ready),
            };
        }
        Object::Deployment(d) => {
            let (mut active, mut ready) = (0, 0);
            for rs in c.workloads.children_of(key, Kind::ReplicaSet) {
                let (a, r) = counts(c, &rs);
                active += a;
                ready += r;
            }
            d.status = WorkloadStatus {
                replicas: some(active),
                ready_replicas: some(ready),
                available_replicas: some(ready),
                observed_generation: d.status.observed_generation,
            };
        }
        _ => return,
    }
    if c.stored_object(key) != Some(&object) {
        c.write(object, t);
    }
}
