//! The v1 Endpoints controller beside the EndpointSlice controller
//! (issue 15, "The Endpoints object"): one `Endpoints` per Service with a
//! selector, subsets repacked by port set, ready / not-ready addresses,
//! terminating pods left out, hostname / nodeName / targetRef, the
//! 1000-address cap, labels, deletion with the Service, changes reported.
//!
//! `cargo test -p svcroute-tests --test endpoints_controller`

use serde_json::{Value, json};
use std::borrow::Cow;
use svcroute::api::corev1::EndpointPort;
use svcroute::api::{EndpointAddress, EndpointSubset, Endpoints, Kind, Object, ObjectKey};
use svcroute::cluster::{
    Cluster, ClusterConfig, ENDPOINTS_OVER_CAPACITY_ANNOTATION, HEADLESS_LABEL, repack_subsets,
};

fn obj(v: Value) -> Object {
    serde_json::from_value(v).unwrap()
}

fn cluster() -> Cluster {
    Cluster::new(ClusterConfig {
        bootstrap: false,
        ..ClusterConfig::default()
    })
    .unwrap()
}

/// A pod `name` with labels `app: web`, on node `n1`, at `ip`, with a
/// container port `http` = `port`.
fn pod(name: &str, ip: &str, ready: bool, port: i32) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
           "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}]},
           "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                      "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

fn web(spec: Value) -> Value {
    let mut s = json!({"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]});
    for (k, v) in spec.as_object().unwrap() {
        s[k] = v.clone();
    }
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": "shop", "labels": {"tier": "front"}}, "spec": s})
}

fn eps(c: &Cluster) -> Endpoints {
    c.endpoints("shop", "web")
        .map(Cow::into_owned)
        .expect("an Endpoints object")
}

fn ips(addresses: &[EndpointAddress]) -> Vec<&str> {
    addresses.iter().map(|a| a.ip.as_str()).collect()
}

fn eps_key() -> ObjectKey {
    ObjectKey {
        kind: Kind::Endpoints,
        namespace: Some("shop".into()),
        name: "web".into(),
    }
}

// Ready pods in `addresses`, not-ready ones in `notReadyAddresses`, sorted
// by IP; nodeName, targetRef; labels copied from the Service.
#[test]
fn ready_and_not_ready() {
    let mut c = cluster();
    c.apply_batch(vec![
        obj(pod("b", "10.244.0.12", true, 8080)),
        obj(pod("a", "10.244.0.11", true, 8080)),
        obj(pod("c", "10.244.0.13", false, 8080)),
        obj(web(json!({}))),
    ])
    .unwrap();
    let e = eps(&c);
    assert_eq!(e.subsets.len(), 1);
    let s = &e.subsets[0];
    assert_eq!(ips(&s.addresses), ["10.244.0.11", "10.244.0.12"]);
    assert_eq!(ips(&s.not_ready_addresses), ["10.244.0.13"]);
    assert_eq!(
        s.ports,
        [EndpointPort {
            name: "http".into(),
            port: 8080,
            protocol: Some(svcroute::api::Protocol::TCP),
            app_protocol: None
        }]
    );
    let a = &s.addresses[0];
    assert_eq!(a.node_name.as_deref(), Some("n1"));
    let r = a.target_ref.as_ref().unwrap();
    assert_eq!(
        (
            r.kind.as_str(),
            r.namespace.as_deref(),
            r.name.as_str(),
            r.uid.as_deref()
        ),
        ("Pod", Some("shop"), "a", Some("uid-a"))
    );
    assert_eq!(
        e.metadata.labels.get("tier").map(String::as_str),
        Some("front")
    );
    assert!(!e.metadata.labels.contains_key(HEADLESS_LABEL));
    assert!(e.metadata.annotations.is_empty());
}

// publishNotReadyAddresses: every pod in `addresses`, terminating ones
// too; without it terminating pods are left out. Terminal pods and pods
// without an IP never appear.
#[test]
fn publish_not_ready_and_terminating() {
    let mut terminating = pod("t", "10.244.0.20", true, 8080);
    terminating["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    let mut failed = pod("f", "10.244.0.21", false, 8080);
    failed["status"]["phase"] = json!("Failed");
    let mut no_ip = pod("n", "", false, 8080);
    no_ip["status"] = json!({"phase": "Pending"});
    let objects = || {
        vec![
            obj(pod("a", "10.244.0.11", true, 8080)),
            obj(pod("c", "10.244.0.13", false, 8080)),
            obj(terminating.clone()),
            obj(failed.clone()),
            obj(no_ip.clone()),
        ]
    };
    let mut c = cluster();
    let mut batch = objects();
    batch.push(obj(web(json!({}))));
    c.apply_batch(batch).unwrap();
    let s = &eps(&c).subsets[0];
    assert_eq!(ips(&s.addresses), ["10.244.0.11"]);
    assert_eq!(ips(&s.not_ready_addresses), ["10.244.0.13"]);

    let mut p = cluster();
    let mut batch = objects();
    batch.push(obj(web(json!({"publishNotReadyAddresses": true}))));
    p.apply_batch(batch).unwrap();
    let s = &eps(&p).subsets[0];
    assert_eq!(
        ips(&s.addresses),
        ["10.244.0.11", "10.244.0.13", "10.244.0.20"]
    );
    assert!(s.not_ready_addresses.is_empty());
}

// Named target ports resolve per pod: pods serving different numbers land
// in different subsets; a pod without the port is left out of it.
#[test]
fn subsets_grouped_by_resolved_ports() {
    let mut c = cluster();
    c.apply_batch(vec![
        obj(pod("a", "10.244.0.11", true, 8080)),
        obj(pod("b", "10.244.0.12", true, 9090)),
        obj(pod("c", "10.244.0.13", true, 8080)),
        obj(web(json!({}))),
    ])
    .unwrap();
    let e = eps(&c);
    assert_eq!(e.subsets.len(), 2);
    let by_port: Vec<(i32, Vec<&str>)> = e
        .subsets
        .iter()
        .map(|s| (s.ports[0].port, ips(&s.addresses)))
        .collect();
    assert!(by_port.contains(&(8080, vec!["10.244.0.11", "10.244.0.13"])));
    assert!(by_port.contains(&(9090, vec!["10.244.0.12"])));
}

// Several Service ports served by the same pods: one subset with all the
// ports (RepackSubsets).
#[test]
fn multi_port_one_subset() {
    let mut c = cluster();
    c.apply_batch(vec![
        obj(pod("a", "10.244.0.11", true, 8080)),
        obj(pod("b", "10.244.0.12", false, 8080)),
        obj(web(json!({"ports": [
            {"name": "http", "port": 80, "targetPort": "http"},
            {"name": "metrics", "port": 9100, "targetPort": 9100}]}))),
    ])
    .unwrap();
    let e = eps(&c);
    assert_eq!(e.subsets.len(), 1);
    let ports: Vec<(&str, i32)> = e.subsets[0]
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port))
        .collect();
    assert_eq!(ports, [("http", 8080), ("metrics", 9100)]);
    assert_eq!(ips(&e.subsets[0].not_ready_addresses), ["10.244.0.12"]);
}

// RepackSubsets: an address not ready for one port is not ready for all
// ports it shares a subset with; identical address sets merge.
#[test]
fn repack_not_ready_trumps_ready() {
    let a = |ip: &str| EndpointAddress {
        ip: ip.into(),
        ..EndpointAddress::default()
    };
    let p = |n: i32| EndpointPort {
        port: n,
        ..EndpointPort::default()
    };
    let packed = repack_subsets(vec![
        EndpointSubset {
            addresses: vec![a("10.0.0.1")],
            ports: vec![p(80)],
            ..EndpointSubset::default()
        },
        EndpointSubset {
            not_ready_addresses: vec![a("10.0.0.1")],
            ports: vec![p(80)],
            ..EndpointSubset::default()
        },
        EndpointSubset {
            addresses: vec![a("10.0.0.2")],
            ports: vec![p(81)],
            ..EndpointSubset::default()
        },
        EndpointSubset {
            addresses: vec![a("10.0.0.2")],
            ports: vec![p(82)],
            ..EndpointSubset::default()
        },
    ]);
    assert_eq!(packed.len(), 2);
    let one = packed.iter().find(|s| s.ports == [p(80)]).unwrap();
    assert!(one.addresses.is_empty());
    assert_eq!(ips(&one.not_ready_addresses), ["10.0.0.1"]);
    let two = packed.iter().find(|s| s.ports.len() == 2).unwrap();
    assert_eq!(ips(&two.addresses), ["10.0.0.2"]);
}

// Hostname for pods whose subdomain is the Service; headless label; a
// headless Service without ports lists its pods without ports.
#[test]
fn hostname_and_headless() {
    let mut p = pod("db-0", "10.244.0.30", true, 5432);
    p["spec"]["hostname"] = json!("db-0");
    p["spec"]["subdomain"] = json!("web");
    let mut other = pod("db-1", "10.244.0.31", true, 5432);
    other["spec"]["hostname"] = json!("db-1");
    other["spec"]["subdomain"] = json!("elsewhere");
    let mut c = cluster();
    c.apply_batch(vec![
        obj(p),
        obj(other),
        obj(web(json!({"clusterIP": "None", "ports": []}))),
    ])
    .unwrap();
    let e = eps(&c);
    assert_eq!(
        e.metadata.labels.get(HEADLESS_LABEL).map(String::as_str),
        Some("")
    );
    assert_eq!(e.subsets.len(), 1);
    assert!(e.subsets[0].ports.is_empty());
    let host: Vec<Option<&str>> = e.subsets[0]
        .addresses
        .iter()
        .map(|a| a.hostname.as_deref())
        .collect();
    assert_eq!(host, [Some("db-0"), None]);
}

// More than 1000 addresses: truncated, annotated.
#[test]
fn over_capacity_truncated() {
    let mut objects: Vec<Object> = (0..1005)
        .map(|i| {
            obj(pod(
                &format!("p{i:04}"),
                &format!("10.244.{}.{}", i / 250, i % 250 + 1),
                i % 100 != 0,
                8080,
            ))
        })
        .collect();
    objects.push(obj(web(json!({}))));
    let mut c = cluster();
    c.apply_batch(objects).unwrap();
    let e = eps(&c);
    let total: usize = e
        .subsets
        .iter()
        .map(|s| s.addresses.len() + s.not_ready_addresses.len())
        .sum();
    assert_eq!(total, 1000);
    // 994 ready addresses (every 100th pod is not ready) fit; 6 of the
    // 11 not-ready ones fill up to 1000.
    assert_eq!(e.subsets[0].addresses.len(), 994);
    assert_eq!(e.subsets[0].not_ready_addresses.len(), 6);
    assert_eq!(
        e.metadata
            .annotations
            .get(ENDPOINTS_OVER_CAPACITY_ANNOTATION)
            .map(String::as_str),
        Some("truncated")
    );
    // Back under capacity: the annotation goes.
    let gone: Vec<ObjectKey> = (0..10)
        .map(|i| ObjectKey {
            kind: Kind::Pod,
            namespace: Some("shop".into()),
            name: format!("p{i:04}"),
        })
        .collect();
    c.delete_batch(&gone).unwrap();
    let e = eps(&c);
    assert!(e.metadata.annotations.is_empty());
    let total: usize = e
        .subsets
        .iter()
        .map(|s| s.addresses.len() + s.not_ready_addresses.len())
        .sum();
    assert_eq!(total, 995);
}

// Selector-less Services: the user's Endpoints are left alone (and
// mirrored to a slice, EP-12); ExternalName Services get none.
#[test]
fn user_endpoints_left_alone() {
    let mut c = cluster();
    let user = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "ext", "namespace": "shop"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]});
    c.apply_batch(vec![
        obj(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
                   "spec": {"ports": [{"port": 5432}]}})),
        obj(user.clone()),
        obj(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "xn", "namespace": "shop"},
                   "spec": {"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "web"}}})),
        obj(pod("a", "10.244.0.11", true, 8080)),
    ])
    .unwrap();
    assert_eq!(
        c.endpoints("shop", "ext").as_deref(),
        Some(&serde_json::from_value(user).unwrap())
    );
    assert_eq!(c.endpoint_slices("shop", "ext").len(), 1);
    assert!(c.endpoints("shop", "xn").is_none());
}

// Changes: created with the Service, updated by a readiness flip, deleted
// with the Service; an unrelated pod leaves it alone; resync is quiet.
#[test]
fn changes_are_reported_incrementally() {
    let mut c = cluster();
    let changes = c
        .apply_batch(vec![
            obj(pod("a", "10.244.0.11", true, 8080)),
            obj(web(json!({}))),
        ])
        .unwrap();
    assert_eq!(changes.of_kind(Kind::Endpoints).created, [eps_key()]);
    assert_eq!(
        c.list(
            Kind::Endpoints,
            Some("shop"),
            &svcroute::labels::Selector::everything()
        )
        .len(),
        1
    );

    let changes = c.apply(obj(pod("a", "10.244.0.11", false, 8080))).unwrap();
    assert_eq!(changes.of_kind(Kind::Endpoints).updated, [eps_key()]);
    assert_eq!(
        ips(&eps(&c).subsets[0].not_ready_addresses),
        ["10.244.0.11"]
    );

    let mut other = pod("z", "10.244.0.99", true, 8080);
    other["metadata"]["labels"] = json!({"app": "other"});
    let changes = c.apply(obj(other)).unwrap();
    assert!(changes.of_kind(Kind::Endpoints).is_empty());
    assert!(c.resync().is_empty());

    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Service,
            namespace: Some("shop".into()),
            name: "web".into(),
        })
        .unwrap();
    assert_eq!(changes.of_kind(Kind::Endpoints).deleted, [eps_key()]);
    assert!(c.endpoints("shop", "web").is_none());
}

// The Service's first IP family picks the pod address.
#[test]
fn address_family_of_the_service() {
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        service_cidrs: vec![
            "10.96.0.0/16".parse().unwrap(),
            "fd00:10:96::/112".parse().unwrap(),
        ],
        cluster_cidrs: vec![
            "10.244.0.0/16".parse().unwrap(),
            "fd00:10:244::/56".parse().unwrap(),
        ],
        ..ClusterConfig::default()
    })
    .unwrap();
    let mut p = pod("a", "10.244.0.11", true, 8080);
    p["status"]["podIPs"] = json!([{"ip": "10.244.0.11"}, {"ip": "fd00:10:244::b"}]);
    c.apply_batch(vec![obj(p), obj(web(json!({"ipFamilies": ["IPv6"]})))])
        .unwrap();
    assert_eq!(ips(&eps(&c).subsets[0].addresses), ["fd00:10:244::b"]);
}

// The controller can be turned off.
#[test]
fn controller_off() {
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        endpoints_controller: false,
        ..ClusterConfig::default()
    })
    .unwrap();
    c.apply_batch(vec![
        obj(pod("a", "10.244.0.11", true, 8080)),
        obj(web(json!({}))),
    ])
    .unwrap();
    assert!(c.endpoints("shop", "web").is_none());
    assert_eq!(c.endpoint_slices("shop", "web").len(), 1);
}

/// A small deterministic generator (xorshift), so the sequence test below
/// is the same on every run.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn all_endpoints(c: &Cluster) -> Vec<Object> {
    c.list(
        Kind::Endpoints,
        None,
        &svcroute::labels::Selector::everything(),
    )
    .into_iter()
    .map(Cow::into_owned)
    .collect()
}

// The one-pod fast path (an Endpoints object patched in place) writes
// exactly what the full computation writes, over long random sequences of
// pod changes (readiness, termination, ports, labels, IPs, deletions) and
// occasional Service changes; and a cluster built from the final objects
// has the same Endpoints.
#[test]
fn fast_path_equals_full_computation() {
    for seed in 1..=20u64 {
        let mut g = Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut fast = cluster();
        let mut full = cluster();
        full.set_fast_path(false);
        for step in 0..150 {
            let op: Object = match g.below(20) {
                0 => {
                    let publish = g.below(3) == 0;
                    let two = g.below(2) == 0;
                    let mut ports = vec![json!({"name": "http", "port": 80, "targetPort": "http"})];
                    if two {
                        ports.push(json!({"name": "m", "port": 9100, "targetPort": 9100}));
                    }
                    obj(web(
                        json!({"publishNotReadyAddresses": publish, "ports": ports}),
                    ))
                }
                1 | 2 => {
                    let name = format!("p{}", g.below(8));
                    let key = ObjectKey {
                        kind: Kind::Pod,
                        namespace: Some("shop".into()),
                        name,
                    };
                    if fast.get(&key).is_some() {
                        fast.delete(&key).unwrap();
                        full.delete(&key).unwrap();
                    }
                    continue;
                }
                _ => {
                    let i = g.below(8);
                    let ip = format!("10.244.0.{}", 10 + g.below(10));
                    let port = [8080, 8080, 8080, 9090][g.below(4) as usize];
                    let mut p = pod(&format!("p{i}"), &ip, g.below(3) != 0, port);
                    match g.below(10) {
                        0 => p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z"),
                        1 => p["status"]["phase"] = json!("Succeeded"),
                        2 => p["metadata"]["labels"] = json!({"app": "other"}),
                        3 => p["metadata"]["uid"] = Value::Null,
                        _ => {}
                    }
                    obj(p)
                }
            };
            fast.apply(op.clone()).unwrap();
            full.apply(op).unwrap();
            assert_eq!(
                all_endpoints(&fast),
                all_endpoints(&full),
                "seed {seed}, step {step}"
            );
        }
        assert!(fast.resync().is_empty(), "seed {seed}");
        let inputs: Vec<Object> = [Kind::Pod, Kind::Service]
            .iter()
            .flat_map(|&k| fast.list(k, None, &svcroute::labels::Selector::everything()))
            .map(Cow::into_owned)
            .collect();
        let mut fresh = cluster();
        fresh.apply_batch(inputs).unwrap();
        assert_eq!(all_endpoints(&fast), all_endpoints(&fresh), "seed {seed}");
    }
}
