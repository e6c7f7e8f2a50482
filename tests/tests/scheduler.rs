//! The deterministic scheduler (issue 14 "Scheduling"): nodeName,
//! nodeSelector, required node affinity, taints and tolerations, cordoned
//! and not-ready nodes, spreading, and kube-scheduler's message for a pod
//! that fits nowhere.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use svcroute::api::{ConditionStatus, Kind, Object, ObjectKey, Pod, PodPhase};
use svcroute::cluster::{Cluster, ClusterConfig};

/// A distinct pod CIDR per node made in this test binary (node IPAM
/// refuses two nodes with one CIDR).
fn next_cidr() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("10.244.{}.0/24", NEXT.fetch_add(1, Ordering::Relaxed) % 256)
}

fn node(name: &str, zone: &str, extra: Value) -> Object {
    let mut n = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}},
        "spec": {"podCIDRs": [next_cidr()]},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}
    });
    merge(&mut n, extra);
    serde_json::from_value(n).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

/// A kubeadm-like set: a tainted control plane and two workers in two zones.
fn kubeadm3() -> Vec<Object> {
    vec![
        node(
            "cp-1",
            "a",
            json!({"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}},
                   "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
        ),
        node("worker-a", "a", json!({})),
        node("worker-b", "b", json!({})),
    ]
}

fn cluster(nodes: Vec<Object>) -> Cluster {
    let mut c = Cluster::new(ClusterConfig::default()).unwrap();
    c.apply_batch(nodes).unwrap();
    c
}

/// Applies a submitted pod (no node, no status) with this spec; returns
/// the stored pod.
fn submit(c: &mut Cluster, name: &str, spec: Value) -> Pod {
    let pod: Object = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": merge_into(json!({"containers": [{"name": "c", "image": "busybox"}]}), spec),
    }))
    .unwrap();
    c.apply(pod).unwrap();
    get(c, name)
}

fn merge_into(mut a: Value, b: Value) -> Value {
    merge(&mut a, b);
    a
}

fn get(c: &Cluster, name: &str) -> Pod {
    match c
        .get(&ObjectKey {
            kind: Kind::Pod,
            namespace: Some("default".into()),
            name: name.into(),
        })
        .as_deref()
    {
        Some(Object::Pod(p)) => p.clone(),
        other => panic!("{other:?}"),
    }
}

fn placed(c: &mut Cluster, name: &str, spec: Value) -> Option<String> {
    submit(c, name, spec).spec.node_name
}

fn unschedulable(c: &mut Cluster, name: &str, spec: Value) -> String {
    let p = submit(c, name, spec);
    assert_eq!(p.spec.node_name, None);
    assert_eq!(p.status.phase, Some(PodPhase::Pending));
    let cond = p
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(cond.status, ConditionStatus::False);
    assert_eq!(cond.reason.as_deref(), Some("Unschedulable"));
    cond.message.clone().unwrap()
}

fn affinity(terms: Value) -> Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}})
}

#[test]
fn the_scheduler_message_for_a_pod_that_fits_nowhere() {
    let mut c = cluster(kubeadm3());
    let msg = unschedulable(&mut c, "p", json!({"nodeSelector": {"disktype": "ssd"}}));
    assert_eq!(
        msg,
        "0/3 nodes are available: 1 node(s) had untolerated taint \
         {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node \
         affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful \
         for scheduling."
    );
}

#[test]
fn no_nodes_at_all() {
    let mut c = cluster(Vec::new());
    assert_eq!(
        unschedulable(&mut c, "p", json!({})),
        "no nodes available to schedule pods"
    );
}

#[test]
fn the_control_plane_taint_keeps_application_pods_off() {
    let mut c = cluster(kubeadm3());
    for i in 0..4 {
        let n = placed(&mut c, &format!("p{i}"), json!({})).unwrap();
        assert_ne!(n, "cp-1");
    }
    // A toleration with operator Exists and no key tolerates every taint;
    // cp-1 has the fewest pods, so the pod goes there.
    let n = placed(
        &mut c,
        "tolerant",
        json!({"tolerations": [{"operator": "Exists"}]}),
    );
    assert_eq!(n.as_deref(), Some("cp-1"));
    // Equal needs the value; the taint has none.
    let n = placed(
        &mut c,
        "equal",
        json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "", "effect": "NoSchedule"}],
               "nodeSelector": {"node-role.kubernetes.io/control-plane": ""}}),
    );
    assert_eq!(n.as_deref(), Some("cp-1"));
    // A toleration for another effect does not help.
    let msg = unschedulable(
        &mut c,
        "wrong-effect",
        json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoExecute"}],
               "nodeSelector": {"node-role.kubernetes.io/control-plane": ""}}),
    );
    assert!(
        msg.contains("1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }")
    );
    assert!(msg.contains("2 node(s) didn't match Pod's node affinity/selector"));
}

#[test]
fn noexecute_blocks_and_prefernoschedule_does_not() {
    let mut c = cluster(vec![
        node(
            "n1",
            "a",
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]}}),
        ),
        node(
            "n2",
            "a",
            json!({"spec": {"taints": [{"key": "spot", "effect": "PreferNoSchedule"}]}}),
        ),
    ]);
    assert_eq!(placed(&mut c, "a", json!({})).as_deref(), Some("n2"));
    let n = placed(
        &mut c,
        "b",
        json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}),
    );
    assert_eq!(n.as_deref(), Some("n1"));
}

#[test]
fn required_node_affinity_operators() {
    let mut c = cluster(vec![
        node(
            "n1",
            "a",
            json!({"metadata": {"labels": {"gen": "3", "ssd": "yes"}}}),
        ),
        node("n2", "b", json!({"metadata": {"labels": {"gen": "5"}}})),
        node("n3", "c", json!({})),
    ]);
    let expr = |k: &str, op: &str, v: Value| json!([{"matchExpressions": [{"key": k, "operator": op, "values": v}]}]);
    let cases = [
        (
            expr("topology.kubernetes.io/zone", "In", json!(["b", "c"])),
            Some("n2"),
        ),
        (
            expr("topology.kubernetes.io/zone", "NotIn", json!(["a", "b"])),
            Some("n3"),
        ),
        (expr("ssd", "Exists", json!(null)), Some("n1")),
        (expr("gen", "Gt", json!(["4"])), Some("n2")),
        (expr("gen", "Lt", json!(["4"])), Some("n1")),
        (expr("gen", "Gt", json!(["9"])), None),
        // Terms are ORed.
        (
            json!([{"matchExpressions": [{"key": "gen", "operator": "In", "values": ["7"]}]},
                   {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n3"]}]}]),
            Some("n3"),
        ),
        // Expressions are ANDed.
        (
            json!([{"matchExpressions": [{"key": "gen", "operator": "Exists"},
                                         {"key": "ssd", "operator": "DoesNotExist"}]}]),
            Some("n2"),
        ),
    ];
    for (i, (terms, want)) in cases.into_iter().enumerate() {
        let name = format!("p{i}");
        let got = submit(&mut c, &name, affinity(terms.clone()))
            .spec
            .node_name;
        assert_eq!(got.as_deref(), want, "{terms}");
        // Keep the counts equal so that spreading does not decide.
        c.delete(&ObjectKey {
            kind: Kind::Pod,
            namespace: Some("default".into()),
            name,
        })
        .unwrap();
    }
}

#[test]
fn cordoned_and_not_ready_nodes() {
    let mut c = cluster(vec![
        node("n1", "a", json!({"spec": {"unschedulable": true}})),
        node(
            "n2",
            "a",
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ),
        node(
            "n3",
            "a",
            json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
        ),
    ]);
    let msg = unschedulable(&mut c, "p", json!({}));
    assert_eq!(
        msg,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, \
         1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were \
         unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for \
         scheduling."
    );
    // Uncordoning n1 schedules the pending pod.
    let Some(Object::Node(n1)) = c
        .get(&ObjectKey {
            kind: Kind::Node,
            namespace: None,
            name: "n1".into(),
        })
        .map(Cow::into_owned)
    else {
        panic!()
    };
    let mut n1 = n1.clone();
    n1.spec.unschedulable = false;
    let changes = c.apply(Object::Node(n1)).unwrap();
    assert_eq!(changes.of_kind(Kind::Pod).updated.len(), 1);
    assert_eq!(get(&c, "p").spec.node_name.as_deref(), Some("n1"));
    assert_eq!(get(&c, "p").status.phase, Some(PodPhase::Running));
}

#[test]
fn spread_fewest_pods_first_ties_by_name() {
    let mut c = cluster(vec![
        node("b", "a", json!({})),
        node("a", "a", json!({})),
        node("c", "a", json!({})),
    ]);
    let order: Vec<String> = (0..6)
        .map(|i| placed(&mut c, &format!("p{i}"), json!({})).unwrap())
        .collect();
    assert_eq!(order, ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn stored_pods_are_kept_as_given() {
    // A pod with a node or a status is stored state (a dump): not scheduled.
    let mut c = cluster(kubeadm3());
    let pod: Object = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stored"},
        "status": {"phase": "Pending"}
    }))
    .unwrap();
    c.apply(pod).unwrap();
    assert_eq!(get(&c, "stored").spec.node_name, None);
    assert!(get(&c, "stored").status.conditions.is_empty());

    // nodeName binds without the scheduler, even to the tainted node.
    let n = placed(&mut c, "bound", json!({"nodeName": "cp-1"}));
    assert_eq!(n.as_deref(), Some("cp-1"));

    // With the controllers off, nothing is scheduled.
    let mut off = Cluster::new(ClusterConfig {
        workloads: false,
        ..ClusterConfig::default()
    })
    .unwrap();
    off.apply_batch(kubeadm3()).unwrap();
    assert_eq!(submit(&mut off, "p", json!({})).spec.node_name, None);
}

#[test]
fn a_submitted_pod_gets_an_ip_from_its_node() {
    let mut c = cluster(kubeadm3());
    let p = submit(&mut c, "p", json!({}));
    assert_eq!(p.spec.node_name.as_deref(), Some("worker-a"));
    assert!(p.is_ready());
    let Some(Object::Node(n)) = c
        .get(&ObjectKey {
            kind: Kind::Node,
            namespace: None,
            name: "worker-a".into(),
        })
        .map(Cow::into_owned)
    else {
        panic!()
    };
    // The node's pod CIDR, first address after the gateway (.1).
    let base = n.spec.pod_cidrs[0].trim_end_matches("0/24").to_owned();
    assert_eq!(p.status.pod_ip, Some(format!("{base}2")));
    assert_eq!(p.status.host_ip.as_deref(), Some("10.0.0.1"));
    let q = submit(&mut c, "q", json!({"nodeName": "worker-a"}));
    assert_eq!(q.status.pod_ip, Some(format!("{base}3")));
    // Released on delete: the next pod reuses nothing below the highest in
    // use, then wraps (host-local's round robin).
    c.delete(&ObjectKey {
        kind: Kind::Pod,
        namespace: Some("default".into()),
        name: "p".into(),
    })
    .unwrap();
    let r = submit(&mut c, "r", json!({"nodeName": "worker-a"}));
    assert_eq!(r.status.pod_ip, Some(format!("{base}4")));
}

/// A pod written by hand on one node may carry an address from another
/// node's pod CIDR. The simulated IPAM steps over it: two pods with one IP
/// leave kube-proxy's choice between them undefined (EP-13), so the model
/// never makes that state itself. (Found by `nothing_lost`: a Deployment's
/// pod took the IP of a hand-written not-ready pod, and which copy kube-proxy
/// kept then depended on the order of the slice's endpoints.)
#[test]
fn a_simulated_pod_never_takes_an_ip_another_pod_holds() {
    let mut c = cluster(kubeadm3());
    let Some(Object::Node(n)) = c
        .get(&ObjectKey {
            kind: Kind::Node,
            namespace: None,
            name: "worker-b".into(),
        })
        .map(Cow::into_owned)
    else {
        panic!()
    };
    let base = n.spec.pod_cidrs[0].trim_end_matches("0/24").to_owned();
    // Hand-written pods on worker-a holding worker-b's first two addresses.
    for (name, last) in [("squat-2", 2), ("squat-3", 3)] {
        let ip = format!("{base}{last}");
        let pod: Object = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"nodeName": "worker-a", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
        }))
        .unwrap();
        c.apply(pod).unwrap();
    }
    let p = submit(&mut c, "p", json!({"nodeName": "worker-b"}));
    assert_eq!(p.status.pod_ip, Some(format!("{base}4")));
    // The next one continues the round robin after the highest in use.
    let q = submit(&mut c, "q", json!({"nodeName": "worker-b"}));
    assert_eq!(q.status.pod_ip, Some(format!("{base}5")));
}
