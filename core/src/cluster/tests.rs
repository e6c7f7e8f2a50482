//! Unit tests of the store and the controllers.

use super::*;

fn objects(json: &str) -> Vec<Object> {
    serde_json::from_str(json).expect("test objects")
}

fn bare() -> Cluster {
    Cluster::new(ClusterConfig {
        bootstrap: false,
        ..ClusterConfig::default()
    })
    .expect("config")
}

#[test]
fn bootstrap_creates_namespaces_and_kubernetes() {
    let c = Cluster::new(ClusterConfig::default()).unwrap();
    assert_eq!(c.len(), 5);
}

fn pod(name: &str, ip: &str, node: &str, ready: bool, labels: &str) -> Object {
    let json = format!(
        r#"{{"apiVersion": "v1", "kind": "Pod",
        "metadata": {{"name": "{name}", "namespace": "shop", "labels": {labels}}},
        "spec": {{"nodeName": "{node}", "containers": [{{"name": "c", "ports": [{{"name": "http", "containerPort": 8080}}]}}]}},
        "status": {{"phase": "Running", "podIP": "{ip}", "podIPs": [{{"ip": "{ip}"}}],
                   "conditions": [{{"type": "Ready", "status": "{}"}}]}}}}"#,
        if ready { "True" } else { "False" }
    );
    serde_json::from_str(&json).expect("pod")
}

const BASE: &str = r#"[
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "a"}}},
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
   "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
]"#;

fn addresses(c: &Cluster, svc: &str) -> Vec<String> {
    let mut out: Vec<String> = c
        .endpoint_slices("shop", svc)
        .iter()
        .flat_map(|s| s.endpoints.iter().map(|e| e.addresses[0].clone()))
        .collect();
    out.sort();
    out
}

#[test]
fn fresh_service_gets_a_placeholder_then_endpoints() {
    let mut c = bare();
    let changes = c.apply_batch(objects(BASE)).unwrap();
    let slices = c.endpoint_slices("shop", "web");
    assert_eq!(slices.len(), 1);
    assert!(slices[0].endpoints.is_empty() && slices[0].ports.is_empty());
    assert_eq!(changes.of_kind(Kind::EndpointSlice).created.len(), 1);
    let name = slices[0].metadata.name.clone().unwrap();
    assert!(name.starts_with("web-") && name.len() == 9);

    // The first pod turns the placeholder into a real slice (an update).
    let changes = c
        .apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    let slices = c.endpoint_slices("shop", "web");
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0].metadata.name.as_deref(), Some(name.as_str()));
    assert_eq!(slices[0].ports[0].port, Some(8080));
    assert_eq!(changes.of_kind(Kind::EndpointSlice).updated.len(), 1);
    assert_eq!(slices[0].endpoints[0].zone.as_deref(), Some("a"));
}

#[test]
fn pod_changes_touch_only_selecting_services() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    // A pod no Service selects changes nothing but itself.
    let changes = c
        .apply(pod("x", "10.244.0.9", "n1", true, r#"{"app": "db"}"#))
        .unwrap();
    assert_eq!(changes.created.len(), 1);
    assert!(changes.updated.is_empty());
    // Relabelling it into the Service adds it; readiness flips update it.
    c.apply(pod("x", "10.244.0.9", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    assert_eq!(addresses(&c, "web"), ["10.244.0.1", "10.244.0.9"]);
    c.apply(pod("x", "10.244.0.9", "n1", false, r#"{"app": "web"}"#))
        .unwrap();
    let slices = c.endpoint_slices("shop", "web");
    let ep = slices[0]
        .endpoints
        .iter()
        .find(|e| e.addresses[0] == "10.244.0.9")
        .unwrap();
    assert_eq!(ep.conditions.ready, Some(false));
    // Deleting the Service deletes its slices.
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Service,
            namespace: Some("shop".into()),
            name: "web".into(),
        })
        .unwrap();
    assert_eq!(changes.of_kind(Kind::EndpointSlice).deleted.len(), 1);
    assert!(c.endpoint_slices("shop", "web").is_empty());
}

#[test]
fn packing_respects_max_and_reuses_slices() {
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        max_endpoints_per_slice: 3,
        ..ClusterConfig::default()
    })
    .unwrap();
    let mut batch = objects(BASE);
    for i in 0..7 {
        batch.push(pod(
            &format!("p{i}"),
            &format!("10.244.0.{i}"),
            "n1",
            true,
            r#"{"app": "web"}"#,
        ));
    }
    c.apply_batch(batch).unwrap();
    let counts: Vec<usize> = c
        .endpoint_slices("shop", "web")
        .iter()
        .map(|s| s.endpoints.len())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 7);
    assert!(counts.iter().all(|&n| n <= 3));
    assert_eq!(counts.len(), 3);
    // One more pod goes into the slice with room (an update, no new slice).
    let changes = c
        .apply(pod("p9", "10.244.0.99", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    let s = changes.of_kind(Kind::EndpointSlice);
    assert_eq!((s.created.len(), s.updated.len()), (0, 1));
}

#[test]
fn missing_node_skips_unless_publish_not_ready() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    c.apply(pod("ghost", "10.244.9.1", "nx", true, r#"{"app": "web"}"#))
        .unwrap();
    assert!(addresses(&c, "web").is_empty());
    // The node appears: the pod is published.
    c.apply(
        serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "nx"}}"#)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(addresses(&c, "web"), ["10.244.9.1"]);
}

#[test]
fn named_ports_resolve_per_pod_including_sidecars() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let sidecar: Object = serde_json::from_str(
        r#"{"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "s", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "c"}],
                 "initContainers": [{"name": "proxy", "restartPolicy": "Always",
                                     "ports": [{"name": "http", "containerPort": 15001}]},
                                    {"name": "init", "ports": [{"name": "http", "containerPort": 1}]}]},
        "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.7"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}}"#,
    )
    .unwrap();
    c.apply(sidecar).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    let slices = c.endpoint_slices("shop", "web");
    let mut ports: Vec<Option<i32>> = slices.iter().map(|s| s.ports[0].port).collect();
    ports.sort();
    assert_eq!(ports, [Some(8080), Some(15001)]);
}

#[test]
fn failed_batch_changes_nothing() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let before = c.clone();
    let mut bad = pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#);
    bad.metadata_mut().name = None;
    let err = c
        .apply_batch(vec![
            pod("ok", "10.244.0.2", "n1", true, r#"{"app": "web"}"#),
            bad,
        ])
        .unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Invalid);
    assert_eq!(err.problems()[0].index, Some(1));
    assert_eq!(c.len(), before.len());
    assert_eq!(addresses(&c, "web"), addresses(&before, "web"));
}

#[test]
fn controller_off_keeps_slices_verbatim() {
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        endpoint_slice_controller: false,
        ..ClusterConfig::default()
    })
    .unwrap();
    c.apply_batch(objects(BASE)).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    assert!(c.endpoint_slices("shop", "web").is_empty());
}

#[test]
fn mirroring_follows_endpoints_and_selector() {
    let mut c = bare();
    c.apply_batch(objects(
        r#"[
      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
       "spec": {"clusterIP": "10.96.0.30", "ports": [{"port": 443}]}},
      {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext", "namespace": "shop"},
       "subsets": [{"addresses": [{"ip": "192.0.2.1"}, {"ip": "2001:db8::1"}],
                    "ports": [{"port": 443}]}]}
    ]"#,
    ))
    .unwrap();
    let slices = c.endpoint_slices("shop", "ext");
    assert_eq!(slices.len(), 2);
    assert!(
        slices.iter().all(
            |s| s.metadata.labels[EndpointSlice::MANAGED_BY_LABEL] == MIRRORING_CONTROLLER_NAME
        )
    );
    // Skip-mirror removes them.
    let mut eps = c
        .get(&ObjectKey {
            kind: Kind::Endpoints,
            namespace: Some("shop".into()),
            name: "ext".into(),
        })
        .unwrap()
        .into_owned();
    eps.metadata_mut()
        .labels
        .insert(SKIP_MIRROR_LABEL.into(), "true".into());
    let changes = c.apply(eps).unwrap();
    assert_eq!(changes.of_kind(Kind::EndpointSlice).deleted.len(), 2);
}

#[test]
fn prefer_same_node_hints() {
    let mut c = bare();
    let mut base = objects(BASE);
    if let Object::Service(s) = &mut base[2] {
        s.spec.traffic_distribution = Some("PreferSameNode".into());
    }
    c.apply_batch(base).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    let slices = c.endpoint_slices("shop", "web");
    let hints = slices[0].endpoints[0].hints.clone().unwrap();
    assert_eq!(hints.for_zones[0].name, "a");
    assert_eq!(hints.for_nodes[0].name, "n1");
}

#[test]
fn list_filters_by_namespace_and_selector() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    c.apply(pod("p2", "10.244.0.2", "n1", true, r#"{"app": "db"}"#))
        .unwrap();
    let all = Selector::everything();
    assert_eq!(c.list(Kind::Pod, Some("shop"), &all).len(), 2);
    assert_eq!(c.list(Kind::Pod, Some("other"), &all).len(), 0);
    assert_eq!(c.list(Kind::Pod, None, &"app=db".parse().unwrap()).len(), 1);
    assert_eq!(c.list(Kind::Node, Some("shop"), &all).len(), 1);
}

#[test]
fn service_label_changes_update_slices() {
    let mut c = bare();
    let mut base = objects(BASE);
    c.apply_batch(base.clone()).unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    base[2]
        .metadata_mut()
        .labels
        .insert("team".into(), "x".into());
    let changes = c.apply(base[2].clone()).unwrap();
    assert_eq!(changes.of_kind(Kind::EndpointSlice).updated.len(), 1);
    let slices = c.endpoint_slices("shop", "web");
    assert_eq!(slices[0].metadata.labels["team"], "x");
    assert!(!slices[0].metadata.labels.contains_key(HEADLESS_LABEL));
}

#[test]
fn topology_auto_hints_follow_cpu_shares() {
    let mut c = bare();
    let node = |name: &str, zone: &str, cpu: &str| -> Object {
        serde_json::from_str(&format!(
            r#"{{"apiVersion": "v1", "kind": "Node",
               "metadata": {{"name": "{name}", "labels": {{"topology.kubernetes.io/zone": "{zone}"}}}},
               "status": {{"allocatable": {{"cpu": "{cpu}"}}, "conditions": [{{"type": "Ready", "status": "True"}}]}}}}"#
        ))
        .unwrap()
    };
    let mut base = objects(BASE);
    base.remove(1); // node n1 without CPU
    base[1]
        .metadata_mut()
        .annotations
        .insert(TOPOLOGY_MODE_ANNOTATION.into(), "Auto".into());
    base.push(node("na", "a", "2"));
    base.push(node("nb", "b", "1"));
    for i in 0..3 {
        base.push(pod(
            &format!("a{i}"),
            &format!("10.244.0.{i}"),
            "na",
            true,
            r#"{"app": "web"}"#,
        ));
        base.push(pod(
            &format!("b{i}"),
            &format!("10.244.1.{i}"),
            "nb",
            true,
            r#"{"app": "web"}"#,
        ));
    }
    c.apply_batch(base).unwrap();
    let hinted = |c: &Cluster| {
        let mut by_zone: BTreeMap<String, usize> = BTreeMap::new();
        for s in c.endpoint_slices("shop", "web") {
            for e in &s.endpoints {
                if let Some(h) = &e.hints {
                    *by_zone.entry(h.for_zones[0].name.clone()).or_default() += 1;
                }
            }
        }
        by_zone
    };
    // Shares 2/3 and 1/3 of 6 endpoints: zone a needs 4, b gives one.
    assert_eq!(
        hinted(&c),
        BTreeMap::from([("a".into(), 4), ("b".into(), 2)])
    );
    // A node of a third zone without CPU: not enough information, no hints.
    c.apply(node("nc", "c", "0")).unwrap();
    assert!(hinted(&c).is_empty());
    // Gone again: hints come back.
    c.delete(&ObjectKey {
        kind: Kind::Node,
        namespace: None,
        name: "nc".into(),
    })
    .unwrap();
    assert_eq!(hinted(&c).values().sum::<usize>(), 6);
}

#[test]
fn external_name_with_selector_is_neither_managed_nor_mirrored() {
    let mut c = bare();
    c.apply_batch(objects(
        r#"[
      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
       "spec": {"type": "ExternalName", "externalName": "example.com", "selector": {"app": "web"}}},
      {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext", "namespace": "shop"},
       "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 443}]}]}
    ]"#,
    ))
    .unwrap();
    c.apply(pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    assert!(c.endpoint_slices("shop", "ext").is_empty());
}

// The Endpoints fast path patches an address without a uid only when no
// other pod has its IP: two uid-less pods sharing an IP (hostNetwork pods
// on one node) share one address, not ready if either is not.
#[test]
fn endpoints_patch_keeps_shared_ip_addresses_exact() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    c.apply(pod("a", "10.0.0.9", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    c.apply(pod("b", "10.0.0.9", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    c.apply(pod("d", "10.0.0.7", "n1", true, r#"{"app": "web"}"#))
        .unwrap();
    let eps = |c: &Cluster| c.endpoints("shop", "web").unwrap().into_owned();
    let sorted = |e: &crate::api::Endpoints| {
        let s = &e.subsets[0];
        let ips =
            |l: &[crate::api::EndpointAddress]| l.iter().map(|a| a.ip.clone()).collect::<Vec<_>>();
        (ips(&s.addresses), ips(&s.not_ready_addresses))
    };
    assert_eq!(
        sorted(&eps(&c)),
        (vec!["10.0.0.7".into(), "10.0.0.9".into()], vec![])
    );
    // One of the two not ready: the shared address is not ready.
    c.apply(pod("b", "10.0.0.9", "n1", false, r#"{"app": "web"}"#))
        .unwrap();
    assert_eq!(
        sorted(&eps(&c)),
        (vec!["10.0.0.7".into()], vec!["10.0.0.9".into()])
    );
    // The unshared one patched in place, same as a full recompute.
    c.apply(pod("d", "10.0.0.7", "n1", false, r#"{"app": "web"}"#))
        .unwrap();
    assert_eq!(
        sorted(&eps(&c)),
        (vec![], vec!["10.0.0.7".into(), "10.0.0.9".into()])
    );
    c.delete(&ObjectKey {
        kind: Kind::Pod,
        namespace: Some("shop".into()),
        name: "b".into(),
    })
    .unwrap();
    assert_eq!(
        sorted(&eps(&c)),
        (vec!["10.0.0.9".into()], vec!["10.0.0.7".into()])
    );
    let before = eps(&c);
    assert!(c.resync().is_empty());
    assert_eq!(eps(&c), before);
}

/// The stored form of the object with this key.
fn stored_form<'a>(c: &'a Cluster, kind: Kind, name: &str) -> &'a Stored {
    c.lookup_stored(kind, Some("shop"), name)
        .map(|(_, s)| s)
        .expect("stored")
}

// What the controller builds from scratch is what the store gives back
// (same object, same JSON), for the hints and optional fields it writes.
#[test]
fn controller_slices_read_back_as_built() {
    let mut c = bare();
    let mut base = objects(BASE);
    if let Object::Service(s) = &mut base[2] {
        s.spec.traffic_distribution = Some("PreferSameNode".into());
    }
    c.apply_batch(base).unwrap();
    let mut with_hostname = pod("p2", "10.244.0.2", "n1", false, r#"{"app": "web"}"#);
    if let Object::Pod(p) = &mut with_hostname {
        p.spec.hostname = Some("db-0".into());
        p.spec.subdomain = Some("web".into());
        p.metadata.uid = Some("0b1c".into());
    }
    c.apply_batch(vec![
        pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#),
        with_hostname,
        pod("p3", "10.244.0.3", "gone", true, r#"{"app": "web"}"#),
    ])
    .unwrap();
    let Some((_, Object::Service(svc))) = c.lookup(Kind::Service, Some("shop"), "web") else {
        panic!("service");
    };
    let pods: Vec<Object> = ["p1", "p2"]
        .iter()
        .map(|n| {
            let key = ObjectKey {
                kind: Kind::Pod,
                namespace: Some("shop".into()),
                name: (*n).into(),
            };
            c.get(&key).unwrap().into_owned()
        })
        .collect();
    let Some((_, Object::Node(node))) = c.lookup(Kind::Node, None, "n1") else {
        panic!("node");
    };
    let with_nodes: Vec<endpointslice::PodAndNode<'_>> = pods
        .iter()
        .map(|p| match p {
            Object::Pod(p) => (PodView::given(p), Some(node)),
            _ => unreachable!(),
        })
        .collect();
    let ops =
        endpointslice::reconcile(svc, &with_nodes, &[], crate::ipam::IpFamily::V4, 100, &None);
    let [SliceOp::Create(built)] = ops.as_slice() else {
        panic!("one slice: {ops:?}");
    };
    let stored = c.endpoint_slices("shop", "web");
    let [read] = stored.as_slice() else {
        panic!("one slice");
    };
    let name = read.metadata.name.clone().unwrap();
    assert!(matches!(
        stored_form(&c, Kind::EndpointSlice, &name),
        Stored::Slice(_)
    ));
    let mut built = built.to_slice();
    built.metadata.name = Some(name.clone());
    assert_eq!(**read, built);
    assert_eq!(
        serde_json::to_value(&**read).unwrap(),
        serde_json::to_value(&built).unwrap()
    );
    let key = ObjectKey {
        kind: Kind::EndpointSlice,
        namespace: Some("shop".into()),
        name,
    };
    assert_eq!(*c.get(&key).unwrap(), Object::EndpointSlice(built));
}

// Slices the records cannot hold, and slices the controller did not
// write, stay as given and read back as written; a flip of a pod with two
// addresses edits the slice kept as given.
#[test]
fn other_slices_stay_as_given() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let mut two = pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#);
    if let Object::Pod(p) = &mut two {
        p.status.pod_ips.push(crate::api::PodIP {
            ip: "10.244.0.9".into(),
        });
    }
    c.apply(two.clone()).unwrap();
    let slice = c.endpoint_slices("shop", "web")[0].clone().into_owned();
    assert_eq!(slice.endpoints[0].addresses, ["10.244.0.1", "10.244.0.9"]);
    let name = slice.metadata.name.clone().unwrap();
    assert!(matches!(
        stored_form(&c, Kind::EndpointSlice, &name),
        Stored::Object(_)
    ));
    if let Object::Pod(p) = &mut two {
        p.status.conditions[0].status = crate::api::ConditionStatus::False;
    }
    c.apply(two).unwrap();
    assert_eq!(
        c.endpoint_slices("shop", "web")[0].endpoints[0]
            .conditions
            .ready,
        Some(false)
    );
    // A user's slice, even one a record could hold, is kept as written.
    let mut user = slice;
    user.metadata.name = Some("mine".into());
    user.metadata.labels.remove(EndpointSlice::MANAGED_BY_LABEL);
    user.endpoints[0].addresses.truncate(1);
    c.apply(Object::EndpointSlice(user.clone())).unwrap();
    assert!(matches!(
        stored_form(&c, Kind::EndpointSlice, "mine"),
        Stored::Object(_)
    ));
    let key = ObjectKey {
        kind: Kind::EndpointSlice,
        namespace: Some("shop".into()),
        name: "mine".into(),
    };
    assert_eq!(*c.get(&key).unwrap(), Object::EndpointSlice(user));
}

// A readiness flip and a pod leaving and joining edit the compact slice in
// place and leave what the full reconcile leaves.
#[test]
fn in_place_edits_match_the_full_reconcile() {
    let run = |fast: bool| {
        let mut c = bare();
        c.set_fast_path(fast);
        c.apply_batch(objects(BASE)).unwrap();
        let pods: Vec<Object> = (1..=5)
            .map(|i| {
                pod(
                    &format!("p{i}"),
                    &format!("10.244.0.{i}"),
                    "n1",
                    true,
                    r#"{"app": "web"}"#,
                )
            })
            .collect();
        c.apply_batch(pods).unwrap();
        let mut log = Vec::new();
        for step in [
            pod("p2", "10.244.0.2", "n1", false, r#"{"app": "web"}"#),
            pod("p3", "10.244.0.3", "n1", true, r#"{"app": "other"}"#),
            pod("p3", "10.244.0.3", "n1", true, r#"{"app": "web"}"#),
            pod("p2", "10.244.0.2", "n1", true, r#"{"app": "web"}"#),
        ] {
            let changes = c.apply(step).unwrap();
            log.push((
                changes,
                c.endpoint_slices("shop", "web")[0].clone().into_owned(),
            ));
        }
        let name = log[0].1.metadata.name.clone().unwrap();
        assert!(matches!(
            stored_form(&c, Kind::EndpointSlice, &name),
            Stored::Slice(_)
        ));
        log
    };
    assert_eq!(run(true), run(false));
}

// An in-place edit that brings an endpoint the records cannot hold (a pod
// gaining a second address) keeps the slice as given from then on, with
// what the full reconcile writes.
#[test]
fn an_endpoint_the_records_cannot_hold_is_kept_as_given() {
    let run = |fast: bool| {
        let mut c = bare();
        c.set_fast_path(fast);
        c.apply_batch(objects(BASE)).unwrap();
        c.apply_batch(vec![
            pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#),
            pod("p2", "10.244.0.2", "n1", true, r#"{"app": "web"}"#),
        ])
        .unwrap();
        let name = c.endpoint_slices("shop", "web")[0]
            .metadata
            .name
            .clone()
            .unwrap();
        assert!(matches!(
            stored_form(&c, Kind::EndpointSlice, &name),
            Stored::Slice(_)
        ));
        let mut two = pod("p1", "10.244.0.1", "n1", true, r#"{"app": "web"}"#);
        if let Object::Pod(p) = &mut two {
            p.status.pod_ips.push(crate::api::PodIP {
                ip: "10.244.0.9".into(),
            });
        }
        let changes = c.apply(two).unwrap();
        if fast {
            assert!(matches!(
                stored_form(&c, Kind::EndpointSlice, &name),
                Stored::Object(_)
            ));
        }
        (
            changes,
            c.endpoint_slices("shop", "web")[0].clone().into_owned(),
        )
    };
    let (fast, full) = (run(true), run(false));
    assert_eq!(fast, full);
    assert!(fast.1.endpoints.iter().any(|e| e.addresses.len() == 2));
}

/// Is the pod `shop/name` stored compact?
fn compact(c: &Cluster, name: &str) -> bool {
    matches!(
        c.lookup_stored(Kind::Pod, Some("shop"), name),
        Some((_, Stored::Pod(_)))
    )
}

// Pods are stored compact when the record holds them exactly, as given
// otherwise, and either way read back as written (get, list, JSON); the
// pods of one workload share one shape, which goes with the last of them.
#[test]
fn compact_pods_read_back_as_written() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let web = r#"{"app": "web"}"#;
    let mut all: Vec<Object> = (0..3)
        .map(|i| {
            pod(
                &format!("web-{i}"),
                &format!("10.244.0.{i}"),
                "n1",
                i != 1,
                web,
            )
        })
        .collect();
    let mut dual = pod("web-dual", "10.244.0.9", "n1", true, web);
    let mut upper = pod("web-upper", "10.244.0.8", "n1", true, web);
    let mut uid = pod("web-uid", "10.244.0.7", "n1", true, web);
    if let (Object::Pod(d), Object::Pod(u), Object::Pod(l)) = (&mut dual, &mut upper, &mut uid) {
        d.status.pod_ips.push(crate::api::PodIP {
            ip: "fd00::9".into(),
        });
        u.metadata.uid = Some("3F2A1C9E-07BD-4E51-9A6F-0C1D2E3F4A5B".into());
        l.metadata.uid = Some("3f2a1c9e-07bd-4e51-9a6f-0c1d2e3f4a5b".into());
    }
    all.extend([dual, upper, uid]);
    c.apply_batch(all.clone()).unwrap();
    for o in &all {
        let back = c.get(&o.key()).expect("stored");
        assert_eq!(&*back, o);
        assert_eq!(
            serde_json::to_value(&*back).unwrap(),
            serde_json::to_value(o).unwrap()
        );
    }
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.name().cmp(&b.name()));
    let listed: Vec<Object> = c
        .list(Kind::Pod, Some("shop"), &Selector::everything())
        .into_iter()
        .map(Cow::into_owned)
        .collect();
    assert_eq!(listed, sorted);
    for (name, is_compact) in [
        ("web-0", true),
        ("web-1", true),
        ("web-uid", true),
        ("web-dual", false),
        ("web-upper", false),
    ] {
        assert_eq!(compact(&c, name), is_compact, "{name}");
    }
    assert_eq!(c.pod_shapes(), 1);
    assert_eq!(addresses(&c, "web").len(), 6);

    // A readiness flip is a record update: the shape stays, the slice
    // follows.
    c.set_pod_ready("shop", "web-1", true).unwrap();
    assert!(compact(&c, "web-1"));
    assert_eq!(c.pod_shapes(), 1);
    let Some(Object::Pod(p)) = c.get(&all[1].key()).map(Cow::into_owned) else {
        unreachable!()
    };
    assert!(p.is_ready());
    let slices = c.endpoint_slices("shop", "web");
    assert!(
        slices[0]
            .endpoints
            .iter()
            .all(|e| e.conditions.ready == Some(true))
    );
    let mut flipped = all[1].clone();
    if let Object::Pod(f) = &mut flipped {
        f.status.conditions[0].status = crate::api::ConditionStatus::True;
    }
    assert_eq!(c.get(&all[1].key()).as_deref(), Some(&flipped));

    // A label change: a shape of its own, and the pod leaves the Service.
    let moved = pod("web-0", "10.244.0.0", "n1", true, r#"{"app": "api"}"#);
    c.apply(moved.clone()).unwrap();
    assert_eq!(c.get(&moved.key()).as_deref(), Some(&moved));
    assert_eq!(c.pod_shapes(), 2);
    assert_eq!(addresses(&c, "web").len(), 5);

    // Shapes go with their last pod.
    c.delete(&moved.key()).unwrap();
    assert_eq!(c.pod_shapes(), 1);
    c.delete_batch(&[all[1].key(), all[2].key(), all[5].key()])
        .unwrap();
    assert_eq!(c.pod_shapes(), 0);
    assert_eq!(addresses(&c, "web").len(), 2);
}

// A clone shares the compact pods' shapes: either cluster changes its own
// pods, and both read back as written.
#[test]
fn a_clone_shares_pod_shapes() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let web = r#"{"app": "web"}"#;
    let pods: Vec<Object> = (0..3)
        .map(|i| {
            pod(
                &format!("web-{i}"),
                &format!("10.244.0.{i}"),
                "n1",
                true,
                web,
            )
        })
        .collect();
    c.apply_batch(pods.clone()).unwrap();
    let mut d = c.clone();
    d.set_pod_ready("shop", "web-0", false).unwrap();
    d.delete(&pods[1].key()).unwrap();
    for o in &pods {
        assert_eq!(c.get(&o.key()).as_deref(), Some(o));
    }
    assert!(d.get(&pods[1].key()).is_none());
    assert_eq!(d.get(&pods[2].key()).as_deref(), Some(&pods[2]));
    let Some(Object::Pod(p)) = d.get(&pods[0].key()).map(Cow::into_owned) else {
        unreachable!()
    };
    assert!(!p.is_ready());
    assert_eq!(addresses(&c, "web").len(), 3);
    drop(c);
    d.delete_batch(&[pods[0].key(), pods[2].key()]).unwrap();
    assert_eq!(d.pod_shapes(), 0);
}

// Pods alike in all the shape fingerprint reads but each with its own
// `resourceVersion` (a dump's pods) are compact and read back as
// written, but the table keeps a bounded number of shapes for them, so
// interning a pod never compares it with every pod of its workload; all
// of them go with their pods.
#[test]
fn pods_that_differ_past_the_fingerprint_keep_the_table_bounded() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let n = 3 * stored_pod::SHAPES_PER_PRINT;
    let pods: Vec<Object> = (0..n)
        .map(|i| {
            let mut p = pod(
                &format!("web-{i}"),
                &format!("10.244.0.{i}"),
                "n1",
                true,
                r#"{"app": "web"}"#,
            );
            p.metadata_mut().resource_version = Some(format!("{}", 1000 + i));
            p
        })
        .collect();
    c.apply_batch(pods.clone()).unwrap();
    assert_eq!(c.pod_shapes(), stored_pod::SHAPES_PER_PRINT);
    for p in &pods {
        assert!(compact(&c, p.name().unwrap()));
        assert_eq!(c.get(&p.key()).as_deref(), Some(p));
    }
    assert_eq!(addresses(&c, "web").len(), n);
    let keys: Vec<ObjectKey> = pods.iter().map(Object::key).collect();
    c.delete_batch(&keys).unwrap();
    assert_eq!(c.pod_shapes(), 0);
}

// A clone and its original each count the pods using a shared shape: when
// both lose every pod, both tables are empty (neither keeps a shape
// alive for the other).
#[test]
fn a_clone_and_its_original_release_shapes_independently() {
    let mut a = bare();
    a.apply_batch(objects(BASE)).unwrap();
    let pods: Vec<Object> = (0..3)
        .map(|i| {
            pod(
                &format!("web-{i}"),
                &format!("10.244.0.{i}"),
                "n1",
                true,
                r#"{"app": "web"}"#,
            )
        })
        .collect();
    a.apply_batch(pods.clone()).unwrap();
    let mut b = a.clone();
    // A readiness flip keeps the shape, counted once more.
    b.set_pod_ready("shop", "web-0", false).unwrap();
    let keys: Vec<ObjectKey> = pods.iter().map(Object::key).collect();
    b.delete_batch(&keys[..2]).unwrap();
    assert_eq!((a.pod_shapes(), b.pod_shapes()), (1, 1));
    a.delete_batch(&keys).unwrap();
    assert_eq!((a.pod_shapes(), b.pod_shapes()), (0, 1));
    b.delete(&keys[2]).unwrap();
    assert_eq!(b.pod_shapes(), 0);
}

// Pods of one label set indexed in a row reuse the Services found for the
// first; a Service indexed or removed in between is seen by the next pod.
#[test]
fn pods_alike_in_a_row_see_services_that_come_and_go() {
    let mut c = bare();
    c.apply_batch(objects(BASE)).unwrap();
    let labels = r#"{"app": "web", "tier": "a"}"#;
    c.apply_batch(vec![
        pod("a1", "10.0.0.1", "n1", true, labels),
        pod("a2", "10.0.0.2", "n1", true, labels),
    ])
    .unwrap();
    assert_eq!(addresses(&c, "web"), ["10.0.0.1", "10.0.0.2"]);
    let tier: Object = serde_json::from_str(
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tier", "namespace": "shop"},
            "spec": {"clusterIP": "10.96.0.21", "selector": {"tier": "a"},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}"#,
    )
    .unwrap();
    // A Service between two pods alike, in one batch and across calls.
    c.apply_batch(vec![
        pod("a3", "10.0.0.3", "n1", true, labels),
        tier,
        pod("a4", "10.0.0.4", "n1", true, labels),
    ])
    .unwrap();
    c.apply(pod("a5", "10.0.0.5", "n1", true, labels)).unwrap();
    let all = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"];
    assert_eq!(addresses(&c, "tier"), all);
    assert_eq!(addresses(&c, "web"), all);
    let web = ObjectKey {
        kind: Kind::Service,
        namespace: Some("shop".into()),
        name: "web".into(),
    };
    c.delete(&web).unwrap();
    let changes = c.apply(pod("a6", "10.0.0.6", "n1", true, labels)).unwrap();
    assert!(changes.updated.iter().all(|k| k.name != "web"));
    assert_eq!(addresses(&c, "tier").len(), 6);
    assert!(c.endpoint_slices("shop", "web").is_empty());
}
