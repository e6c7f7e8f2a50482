//! Property tests of the cluster engine: any sequence of applies and
//! deletes of Pods, Services and Nodes leaves the same endpoints as building
//! the final objects from scratch; a refused batch changes nothing; nothing
//! panics.
//!
//! `cargo test -p svcroute-tests --test cluster_props`

use std::borrow::Cow;
use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::cluster::{CONTROLLER_NAME, Cluster, ClusterConfig};
use svcroute::labels::Selector;

const NAMESPACES: [&str; 2] = ["shop", "other"];

#[derive(Debug, Clone)]
enum Op {
    Pod {
        ns: usize,
        name: usize,
        app: Option<usize>,
        tier: Option<usize>,
        node: usize,
        ready: bool,
        terminating: bool,
        terminal: bool,
        ips: usize,
        port_name: usize,
        hostname: bool,
    },
    DeletePod(usize, usize),
    Service {
        ns: usize,
        name: usize,
        app: Option<usize>,
        tier: Option<usize>,
        named_target: bool,
        publish_not_ready: bool,
        dual: bool,
        two_ports: bool,
        traffic: usize,
        label: Option<usize>,
    },
    DeleteService(usize, usize),
    Node(usize, Option<usize>, usize),
    DeleteNode(usize),
    Endpoints(usize, usize, usize),
    BadBatch(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0..2usize, 0..12usize, proptest::option::weighted(0.9, 0..2usize), proptest::option::weighted(0.3, 0..2usize),
              0..4usize, any::<bool>(), any::<bool>(), any::<bool>(), 0..6usize, 0..3usize, any::<bool>())
            .prop_map(|(ns, name, app, tier, node, ready, terminating, terminal, ips, port_name, hostname)| {
                let (terminating, terminal) = (terminating && name % 3 == 0, terminal && name % 4 == 1);
                Op::Pod { ns, name, app, tier, node, ready, terminating, terminal, ips, port_name, hostname }
            }),
        3 => (0..2usize, 0..12usize).prop_map(|(a, b)| Op::DeletePod(a, b)),
        2 => (0..2usize, 0..3usize, proptest::option::weighted(0.9, 0..2usize), proptest::option::weighted(0.2, 0..2usize),
              any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), 0..5usize, proptest::option::of(0..2usize))
            .prop_map(|(ns, name, app, tier, named_target, publish_not_ready, dual, two_ports, traffic, label)| {
                Op::Service { ns, name, app, tier, named_target, publish_not_ready, dual, two_ports, traffic, label }
            }),
        1 => (0..2usize, 0..3usize).prop_map(|(a, b)| Op::DeleteService(a, b)),
        2 => (0..3usize, proptest::option::weighted(0.8, 0..2usize), 0..3usize).prop_map(|(n, z, cpu)| Op::Node(n, z, cpu)),
        1 => (0..3usize).prop_map(Op::DeleteNode),
        1 => (0..2usize, 0..3usize, 0..4usize).prop_map(|(a, b, c)| Op::Endpoints(a, b, c)),
        1 => (0..8usize).prop_map(Op::BadBatch),
    ]
}

fn obj(v: serde_json::Value) -> Object {
    serde_json::from_value(v).expect("generated object")
}

fn pod_object(op: &Op) -> Object {
    let Op::Pod {
        ns,
        name,
        app,
        tier,
        node,
        ready,
        terminating,
        terminal,
        ips,
        port_name,
        hostname,
    } = op.clone()
    else {
        unreachable!()
    };
    let mut labels = serde_json::Map::new();
    if let Some(a) = app {
        labels.insert("app".into(), json!(["web", "db"][a]));
    }
    if let Some(t) = tier {
        labels.insert("tier".into(), json!(["fe", "be"][t]));
    }
    let n = name as u8 + 10 * ns as u8;
    let pod_ips: Vec<serde_json::Value> = match ips {
        0 => vec![],
        1 => vec![json!({"ip": format!("10.244.0.{n}")})],
        2 => vec![
            json!({"ip": format!("10.244.0.{n}")}),
            json!({"ip": format!("fd00::{n}")}),
        ],
        _ => vec![json!({"ip": format!("fd00::{n}")})],
    };
    let mut meta =
        json!({"name": format!("p{name}"), "namespace": NAMESPACES[ns], "labels": labels});
    if terminating {
        meta["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    }
    let mut spec = json!({
        "nodeName": format!("n{node}"),
        "containers": [{"name": "c", "ports": [{"name": (["http", "http", "metrics"][port_name]), "containerPort": 8080 + port_name % 2}]}],
    });
    if hostname {
        spec["hostname"] = json!(format!("h{name}"));
        spec["subdomain"] = json!("s0");
    }
    obj(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
        "status": {
            "phase": if terminal { "Succeeded" } else { "Running" },
            "podIPs": pod_ips,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
        },
    }))
}

fn service_object(op: &Op) -> Object {
    let Op::Service {
        ns,
        name,
        app,
        tier,
        named_target,
        publish_not_ready,
        dual,
        two_ports,
        traffic,
        label,
    } = op.clone()
    else {
        unreachable!()
    };
    let mut selector = serde_json::Map::new();
    if let Some(a) = app {
        selector.insert("app".into(), json!((["web", "db"][a])));
    }
    if let Some(t) = tier {
        selector.insert("tier".into(), json!(["fe", "be"][t]));
    }
    let mut ports = vec![json!({"name": "http", "port": 80,
        "targetPort": if named_target { json!("http") } else { json!(8080) }})];
    if two_ports {
        ports.push(json!({"name": "m", "port": 9090, "targetPort": "metrics"}));
    }
    let mut spec = json!({"selector": selector, "ports": ports,
        "clusterIP": format!("10.96.0.{}", 10 + name + 10 * ns),
        "publishNotReadyAddresses": publish_not_ready});
    if dual {
        spec["ipFamilies"] = json!(["IPv4", "IPv6"]);
    }
    if let Some(td) = [
        None,
        Some("PreferClose"),
        Some("PreferSameNode"),
        Some("Bogus"),
        Some("PreferClose"),
    ][traffic]
    {
        spec["trafficDistribution"] = json!(td);
    }
    let mut meta = json!({"name": format!("s{name}"), "namespace": NAMESPACES[ns]});
    if traffic == 4 {
        // topology-mode Auto wins over trafficDistribution (EP-10, EP-11).
        meta["annotations"] = json!({"service.kubernetes.io/topology-mode": "Auto"});
    }
    if let Some(l) = label {
        meta["labels"] = json!({"team": (["x", "y"][l])});
    }
    obj(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}))
}

fn key(kind: Kind, ns: Option<&str>, name: String) -> ObjectKey {
    ObjectKey {
        kind,
        namespace: ns.map(str::to_owned),
        name,
    }
}

fn config() -> ClusterConfig {
    ClusterConfig {
        bootstrap: false,
        max_endpoints_per_slice: 3,
        ..ClusterConfig::default()
    }
}

/// Runs one op; deletes of missing objects are skipped.
fn run(c: &mut Cluster, op: &Op) {
    let result = match op {
        Op::Pod { .. } => c.apply(pod_object(op)),
        Op::Service { .. } => c.apply(service_object(op)),
        Op::DeletePod(ns, name) => {
            let k = key(Kind::Pod, Some(NAMESPACES[*ns]), format!("p{name}"));
            if c.get(&k).is_none() {
                return;
            }
            c.delete(&k)
        }
        Op::DeleteService(ns, name) => {
            let k = key(Kind::Service, Some(NAMESPACES[*ns]), format!("s{name}"));
            if c.get(&k).is_none() {
                return;
            }
            c.delete(&k)
        }
        Op::Node(n, zone, cpu) => {
            let mut meta = json!({"name": format!("n{n}")});
            if let Some(z) = zone {
                meta["labels"] = json!({"topology.kubernetes.io/zone": (["a", "b"][*z])});
            }
            c.apply(obj(
                json!({"apiVersion": "v1", "kind": "Node", "metadata": meta,
                "status": {"allocatable": {"cpu": (["0", "1", "2500m"][*cpu])},
                           "conditions": [{"type": "Ready", "status": "True"}]}}),
            ))
        }
        Op::DeleteNode(n) => {
            let k = key(Kind::Node, None, format!("n{n}"));
            if c.get(&k).is_none() {
                return;
            }
            c.delete(&k)
        }
        Op::Endpoints(ns, name, count) => {
            let addresses: Vec<_> = (0..*count)
                .map(|i| json!({"ip": format!("192.0.2.{i}")}))
                .collect();
            c.apply(obj(json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": format!("s{name}"), "namespace": NAMESPACES[*ns]},
                "subsets": [{"addresses": addresses, "notReadyAddresses": [{"ip": "2001:db8::1"}],
                             "ports": [{"port": 443}]}]})))
        }
        Op::BadBatch(n) => {
            let before = snapshot(c);
            let good = pod_object(&Op::Pod {
                ns: 0,
                name: *n,
                app: Some(0),
                tier: None,
                node: 0,
                ready: true,
                terminating: false,
                terminal: false,
                ips: 1,
                port_name: 0,
                hostname: false,
            });
            let mut bad = good.clone();
            bad.metadata_mut().name = None;
            let err = c
                .apply_batch(vec![good, bad.clone(), bad])
                .expect_err("nameless objects are refused");
            assert_eq!(err.problems().len(), 2);
            assert_eq!(snapshot(c), before, "a refused batch changed the state");
            return;
        }
    };
    result.expect("generated op applies");
}

fn snapshot(c: &Cluster) -> Vec<Object> {
    Kind::ALL
        .iter()
        .flat_map(|&k| c.list(k, None, &Selector::everything()))
        .map(Cow::into_owned)
        .collect()
}

/// Everything about the published endpoints that must not depend on
/// history (the endpoints, not how they are packed): per Service, per address type, each endpoint with its
/// conditions, placement and port list.
fn endpoint_view(c: &Cluster) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for o in c.list(Kind::EndpointSlice, None, &Selector::everything()) {
        let Object::EndpointSlice(s) = &*o else {
            continue;
        };
        let mut ports: Vec<String> = s
            .ports
            .iter()
            .map(|p| format!("{:?}/{:?}/{:?}", p.name, p.protocol, p.port))
            .collect();
        ports.sort();
        let owner = format!(
            "{}/{}/{}/{}",
            s.metadata.namespace.as_deref().unwrap_or(""),
            s.service_name().unwrap_or(""),
            s.metadata
                .labels
                .get("endpointslice.kubernetes.io/managed-by")
                .map_or("", String::as_str),
            s.address_type
        );
        // Placeholders are left out: whether one survives can depend on
        // history, upstream too (a port group that only pods on a missing
        // node produce keeps an existing placeholder "unchanged", while a
        // fresh controller creates none).
        // Under topology-mode Auto, which endpoint is re-hinted to a short
        // zone depends on history (upstream too); only whether hints are
        // given at all does not.
        let svc = key(
            Kind::Service,
            s.metadata.namespace.as_deref(),
            s.service_name().unwrap_or("").to_owned(),
        );
        let auto = c.get(&svc).is_some_and(|o| {
            o.metadata()
                .annotations
                .get("service.kubernetes.io/topology-mode")
                .is_some_and(|v| v == "Auto")
        });
        for ep in &s.endpoints {
            let hints = if auto {
                format!("auto:{}", ep.hints.is_some())
            } else {
                format!("{:?}", ep.hints)
            };
            out.insert(format!(
                "{owner} {:?} {:?} {:?} {:?} {:?} {hints} {:?} {ports:?}",
                ep.addresses,
                ep.conditions,
                ep.node_name,
                ep.zone,
                ep.hostname,
                ep.target_ref.as_ref().map(|r| &r.name)
            ));
        }
    }
    out
}

fn check_invariants(c: &Cluster) {
    for o in c.list(Kind::EndpointSlice, None, &Selector::everything()) {
        let Object::EndpointSlice(s) = &*o else {
            continue;
        };
        let managed = s
            .metadata
            .labels
            .get("endpointslice.kubernetes.io/managed-by")
            .map(String::as_str);
        if managed == Some(CONTROLLER_NAME) {
            assert!(s.endpoints.len() <= 3, "slice over the max: {s:?}");
            let svc = key(
                Kind::Service,
                s.metadata.namespace.as_deref(),
                s.service_name().unwrap_or("").to_owned(),
            );
            assert!(
                c.get(&svc).is_some(),
                "managed slice without its Service: {s:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_from_scratch(ops in proptest::collection::vec(op(), 1..80)) {
        let mut c = Cluster::new(config()).unwrap();
        let mut full = Cluster::new(config()).unwrap();
        full.set_fast_path(false);
        for op in &ops {
            run(&mut c, op);
            run(&mut full, op);
            check_invariants(&c);
            // The one-pod fast path writes exactly what the full reconcile writes.
            prop_assert_eq!(snapshot(&c), snapshot(&full), "after {:?}", op);
        }
        // Settled: a resync changes nothing.
        let resynced = c.resync();
        prop_assert!(resynced.is_empty(), "resync changed {:?}", resynced);
        let inputs: Vec<Object> = snapshot(&c)
            .into_iter()
            .filter(|o| o.kind() != Kind::EndpointSlice)
            .collect();
        let mut fresh = Cluster::new(config()).unwrap();
        fresh.apply_batch(inputs).unwrap();
        prop_assert_eq!(endpoint_view(&c), endpoint_view(&fresh));
        prop_assert!(fresh.resync().is_empty());
    }

    // A batch lent (`apply_batch_borrowed`) is the batch given: the same
    // result (changes or problems) and state, in two batches (the second
    // updating what the first wrote), and the lent objects untouched.
    #[test]
    fn a_lent_batch_is_a_given_batch(ops in proptest::collection::vec(op(), 1..60), cut in 0..60usize) {
        let objects: Vec<Object> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Pod { .. } => Some(pod_object(op)),
                Op::Service { .. } => Some(service_object(op)),
                // Now and then a nameless object: both batches refused.
                Op::BadBatch(n) if *n < 2 => {
                    let mut bad = pod_object(&Op::Pod {
                        ns: 0, name: *n, app: Some(0), tier: None, node: 0, ready: true,
                        terminating: false, terminal: false, ips: 1, port_name: 0, hostname: false,
                    });
                    bad.metadata_mut().name = (*n == 1).then(String::new);
                    Some(bad)
                }
                _ => None,
            })
            .collect();
        let cut = cut.min(objects.len());
        let mut given = Cluster::new(config()).unwrap();
        let mut lent = Cluster::new(config()).unwrap();
        for part in [&objects[..cut], &objects[cut..]] {
            let kept = part.to_vec();
            let want = given.apply_batch(part.to_vec());
            let got = lent.apply_batch_borrowed(part);
            prop_assert_eq!(got, want);
            prop_assert_eq!(part, &kept[..]);
            prop_assert_eq!(snapshot(&lent), snapshot(&given));
        }
    }

    #[test]
    fn arbitrary_json_objects_never_panic(name in "[a-z]{0,3}", ns in proptest::option::of("[a-z]{0,3}"),
                                          labels in proptest::collection::btree_map("[a-z]{1,2}", "[a-z]{0,2}", 0..3),
                                          kind in 0..6usize) {
        let kinds = ["Pod", "Service", "Node", "Endpoints", "Namespace", "EndpointSlice"];
        let mut v = json!({"apiVersion": if kind == 5 { "discovery.k8s.io/v1" } else { "v1" },
                           "kind": kinds[kind], "metadata": {"name": name, "labels": labels}});
        if let Some(ns) = ns { v["metadata"]["namespace"] = json!(ns); }
        if kind == 5 { v["addressType"] = json!("IPv4"); v["metadata"]["labels"]["kubernetes.io/service-name"] = json!("x"); }
        if kind == 1 { v["spec"] = json!({"selector": labels}); }
        let Ok(o) = serde_json::from_value::<Object>(v) else { return Ok(()) };
        let mut c = Cluster::new(ClusterConfig::default()).unwrap();
        let _ = c.apply(o.clone());
        let _ = c.apply_event(svcroute::api::WatchEvent::Deleted(o));
    }
}

/// One change to a pod of a large Service (the position index's cases).
#[derive(Debug, Clone)]
enum PodChange {
    /// Readiness flip (EP-4).
    Ready(usize, bool),
    /// Label change: `version` only (the Service still selects it), or
    /// `app` off the selector and back (EP-1).
    Version(usize, u8),
    Selected(usize, bool),
    /// A new pod IP (the endpoint's identity changes).
    Ip(usize, u8),
    Delete(usize),
    Terminating(usize, bool),
}

fn pod_change() -> impl Strategy<Value = PodChange> {
    prop_oneof![
        4 => (0..24usize, any::<bool>()).prop_map(|(p, r)| PodChange::Ready(p, r)),
        2 => (0..24usize, 0..3u8).prop_map(|(p, v)| PodChange::Version(p, v)),
        2 => (0..24usize, any::<bool>()).prop_map(|(p, s)| PodChange::Selected(p, s)),
        1 => (0..24usize, 0..3u8).prop_map(|(p, v)| PodChange::Ip(p, v)),
        1 => (0..24usize).prop_map(PodChange::Delete),
        1 => (0..24usize, any::<bool>()).prop_map(|(p, t)| PodChange::Terminating(p, t)),
    ]
}

/// The state of pod `i` in [`pods_stay_patched_like_a_fresh_build`].
#[derive(Debug, Clone, Copy)]
struct PodState {
    exists: bool,
    ready: bool,
    version: u8,
    selected: bool,
    ip: u8,
    terminating: bool,
}

fn big_pod(i: usize, s: &PodState) -> Object {
    let mut labels = serde_json::Map::new();
    labels.insert("app".into(), json!(if s.selected { "web" } else { "off" }));
    labels.insert("version".into(), json!(format!("1.{}", s.version)));
    let mut meta = json!({"name": format!("web-{i:02}"), "namespace": "shop", "labels": labels,
                          "uid": format!("uid-{i}")});
    if s.terminating {
        meta["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    }
    obj(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"nodeName": format!("n{}", i % 3),
                 "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"phase": "Running",
                   "podIPs": [{"ip": format!("10.244.{}.{}", s.ip, 10 + i)}],
                   "conditions": [{"type": "Ready", "status": if s.ready { "True" } else { "False" }}]},
    }))
}

fn big_setup(pods: &[PodState]) -> Vec<Object> {
    let mut out: Vec<Object> = (0..3)
        .map(|n| {
            obj(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("n{n}")}}))
        })
        .collect();
    for (name, extra) in [("web", None), ("web-v1", Some("1.1"))] {
        let mut selector = json!({"app": "web"});
        if let Some(v) = extra {
            selector["version"] = json!(v);
        }
        out.push(obj(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"selector": selector, "clusterIP": if extra.is_some() { "10.96.0.11" } else { "10.96.0.10" },
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})));
    }
    out.extend(
        pods.iter()
            .enumerate()
            .filter(|(_, s)| s.exists)
            .map(|(i, s)| big_pod(i, s)),
    );
    out
}

fn big_config() -> ClusterConfig {
    ClusterConfig {
        bootstrap: false,
        max_endpoints_per_slice: 7,
        ..ClusterConfig::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    // EP-1, EP-3, EP-4 and the v1 Endpoints: one-pod changes to Services
    // of up to 24 pods over several slices, patched in place through the
    // position index (`core/src/cluster/positions.rs`), write exactly what
    // the full reconcile writes, and end as a fresh build of the same pods.
    #[test]
    fn pods_stay_patched_like_a_fresh_build(changes in proptest::collection::vec(pod_change(), 1..60)) {
        let mut pods = [PodState { exists: true, ready: true, version: 1, selected: true, ip: 0, terminating: false }; 24];
        let mut c = Cluster::new(big_config()).unwrap();
        let mut full = Cluster::new(big_config()).unwrap();
        full.set_fast_path(false);
        c.apply_batch(big_setup(&pods)).unwrap();
        full.apply_batch(big_setup(&pods)).unwrap();
        for change in &changes {
            let (i, s) = match *change {
                PodChange::Ready(i, r) => (i, PodState { ready: r, exists: true, ..pods[i] }),
                PodChange::Version(i, v) => (i, PodState { version: v, exists: true, ..pods[i] }),
                PodChange::Selected(i, on) => (i, PodState { selected: on, exists: true, ..pods[i] }),
                PodChange::Ip(i, v) => (i, PodState { ip: v, exists: true, ..pods[i] }),
                PodChange::Terminating(i, on) => (i, PodState { terminating: on, exists: true, ..pods[i] }),
                PodChange::Delete(i) => (i, PodState { exists: !pods[i].exists, ..pods[i] }),
            };
            pods[i] = s;
            let mut returned = Vec::new();
            for cluster in [&mut c, &mut full] {
                returned.push(if s.exists {
                    cluster.apply(big_pod(i, &s)).unwrap()
                } else {
                    cluster.delete(&key(Kind::Pod, Some("shop"), format!("web-{i:02}"))).unwrap()
                });
            }
            // The same state, and the same changes returned (a label change
            // that keeps a Service's selection marks nothing on the fast
            // path; the full reconcile finds nothing to change).
            prop_assert_eq!(snapshot(&c), snapshot(&full), "after {:?}", change);
            prop_assert_eq!(&returned[0], &returned[1], "changes after {:?}", change);
        }
        prop_assert!(c.resync().is_empty());
        let mut fresh = Cluster::new(big_config()).unwrap();
        fresh.apply_batch(big_setup(&pods)).unwrap();
        prop_assert_eq!(endpoint_view(&c), endpoint_view(&fresh));
        for name in ["web", "web-v1"] {
            prop_assert_eq!(
                c.endpoints("shop", name).map(|e| e.subsets.clone()),
                fresh.endpoints("shop", name).map(|e| e.subsets.clone())
            );
        }
    }
}
