//! Admission on the cluster's write path: Services and Nodes applied to a
//! `Cluster` are defaulted, validated and allocated (rules `ALLOC-*` of
//! `shared/reference/services.md`), stored objects keep what is set (D7),
//! a refused batch leaves every allocator as it was, and the
//! load-balancer providers write LoadBalancer statuses.
//!
//! `cargo test -p svcroute-tests --test cluster_admission`

use std::path::Path;

use serde_json::{Value, json};
use svcroute::api::{
    self, IPFamily, IPFamilyPolicy, IntOrString, Kind, Object, ObjectKey, Service,
};
use svcroute::cluster::{Cluster, ClusterConfig, ClusterError, LoadBalancerProvider, ProblemKind};
use svcroute::ipam::IpNet;

fn fixture(name: &str) -> Object {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/kubectl")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    api::load(&text).unwrap().objects.remove(0).value
}

fn obj(v: Value) -> Object {
    serde_json::from_value(v).unwrap()
}

fn cluster() -> Cluster {
    Cluster::new(ClusterConfig {
        seed: 11,
        ..ClusterConfig::default()
    })
    .unwrap()
}

fn with(config: ClusterConfig) -> Cluster {
    Cluster::new(config).unwrap()
}

fn key(kind: Kind, ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        namespace: if kind.is_namespaced() {
            Some(ns.to_owned())
        } else {
            None
        },
        name: name.to_owned(),
    }
}

fn service(c: &Cluster, ns: &str, name: &str) -> Service {
    match c.get(&key(Kind::Service, ns, name)).as_deref() {
        Some(Object::Service(s)) => s.clone(),
        other => panic!("no Service {ns}/{name}: {other:?}"),
    }
}

fn node(c: &Cluster, name: &str) -> api::Node {
    match c.get(&key(Kind::Node, "", name)).as_deref() {
        Some(Object::Node(n)) => n.clone(),
        other => panic!("no Node {name}: {other:?}"),
    }
}

fn svc_json(name: &str, spec: Value) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "shop"}, "spec": spec}))
}

fn ip_of(s: &Service) -> String {
    s.spec.cluster_ip.clone().unwrap_or_default()
}

fn one_problem(e: &ClusterError) -> (ProblemKind, Option<usize>, Option<&str>) {
    let p = &e.problems()[0];
    (p.kind, p.index, p.field.as_deref())
}

// ------------------------------------------------------------ Services

// ALLOC-1, ALLOC-5, ALLOC-8, ALLOC-11: a kubectl-made NodePort manifest gets
// a cluster IP from the service CIDR, keeps its requested node port, and
// is defaulted as the API server defaults it.
#[test]
fn kubectl_nodeport_manifest_is_allocated_and_defaulted() {
    let mut c = cluster();
    c.apply(fixture("service-nodeport.yaml")).unwrap();
    let s = service(&c, "default", "web-np");
    let ip: std::net::IpAddr = ip_of(&s).parse().unwrap();
    assert!(
        IpNet::parse_truncating("10.96.0.0/16")
            .unwrap()
            .contains(ip)
    );
    assert_ne!(ip_of(&s), "10.96.0.1"); // ALLOC-3: reserved for kubernetes
    assert_eq!(s.spec.cluster_ips.as_deref(), Some(&[ip_of(&s)][..]));
    assert_eq!(s.spec.ports[0].node_port, Some(30080));
    assert_eq!(s.spec.ports[0].target_port, Some(IntOrString::Int(8080)));
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4]);
    assert_eq!(s.spec.ip_family_policy, Some(IPFamilyPolicy::SingleStack));
    assert_eq!(
        s.spec.external_traffic_policy.map(|p| p.as_str()),
        Some("Cluster")
    );
}

// ALLOC-5: allocation is random from the seed: the same seed and the same
// calls give the same addresses and ports.
#[test]
fn same_seed_same_allocations() {
    let run = |seed| {
        let mut c = with(ClusterConfig {
            seed,
            ..ClusterConfig::default()
        });
        c.apply(fixture("service-loadbalancer.yaml")).unwrap();
        let s = service(&c, "default", "web-lb");
        (
            ip_of(&s),
            s.spec.ports[0].node_port,
            s.spec.ports[1].node_port,
        )
    };
    assert_eq!(run(3), run(3));
    let (_, a, b) = run(3);
    assert!(a.is_some() && b.is_some() && a != b); // ALLOC-12
}

// ALLOC-3, D7: the bootstrap `kubernetes` Service holds 10.96.0.1; asking for
// it is a conflict naming object, document index and field.
#[test]
fn kubernetes_service_ip_is_reserved() {
    let mut c = cluster();
    let err = c
        .apply_batch(vec![
            svc_json("ok", json!({"ports": [{"port": 80}]})),
            svc_json(
                "dup",
                json!({"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}),
            ),
        ])
        .unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Conflict, Some(1), Some("spec.clusterIPs[0]"))
    );
    assert_eq!(
        err.problems()[0].object,
        Some(key(Kind::Service, "shop", "dup"))
    );
    assert!(c.get(&key(Kind::Service, "shop", "ok")).is_none());
}

// D7: a stored Service keeps its cluster IP and node port; another stored
// Service with the same values is refused, in the same batch or later.
#[test]
fn stored_services_keep_their_values_and_clash() {
    let mut c = cluster();
    let stored = |name: &str, port: i32| {
        svc_json(
            name,
            json!({"type": "NodePort", "clusterIP": "10.96.5.5", "clusterIPs": ["10.96.5.5"],
                   "ports": [{"port": 80, "nodePort": port}]}),
        )
    };
    c.apply(stored("a", 30500)).unwrap();
    let a = service(&c, "shop", "a");
    assert_eq!(ip_of(&a), "10.96.5.5");
    assert_eq!(a.spec.ports[0].node_port, Some(30500));

    let err = c.apply(stored("b", 30501)).unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Conflict, Some(0), Some("spec.clusterIPs[0]"))
    );
    let other_ip = svc_json(
        "b",
        json!({"type": "NodePort", "clusterIP": "10.96.5.6", "ports": [{"port": 80, "nodePort": 30500}]}),
    );
    let err = c.apply(other_ip).unwrap_err();
    assert_eq!(
        one_problem(&err),
        (
            ProblemKind::Conflict,
            Some(0),
            Some("spec.ports[0].nodePort")
        )
    );
    // In one batch: the second of two is refused, and nothing is applied.
    let mut fresh = cluster();
    let err = fresh
        .apply_batch(vec![stored("x", 30600), stored("y", 30601)])
        .unwrap_err();
    assert_eq!(one_problem(&err).1, Some(1));
    assert!(fresh.get(&key(Kind::Service, "shop", "x")).is_none());
}

// D7: stored values outside the configured ranges are kept as they are.
#[test]
fn stored_values_out_of_range_are_kept() {
    let mut c = cluster();
    c.apply(svc_json(
        "old",
        json!({"type": "NodePort", "clusterIP": "172.20.0.10", "ports": [{"port": 80, "nodePort": 80}]}),
    ))
    .unwrap();
    let s = service(&c, "shop", "old");
    assert_eq!(ip_of(&s), "172.20.0.10");
    assert_eq!(s.spec.ports[0].node_port, Some(80));
}

// Atomic batches: a batch with one bad Service leaves the allocators as
// they were, so the next apply gets what it would have got without it.
#[test]
fn refused_batch_leaves_allocations_untouched() {
    let good = || svc_json("good", json!({"type": "NodePort", "ports": [{"port": 80}]}));
    let mut reference = cluster();
    reference.apply(good()).unwrap();
    let expected = service(&reference, "shop", "good");

    let mut c = cluster();
    let err = c
        .apply_batch(vec![
            svc_json("first", json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                     "ports": [{"name": "https", "port": 443}, {"name": "http", "port": 80}]})),
            svc_json("Bad_Name", json!({"ports": [{"port": 80}]})),
        ])
        .unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Invalid, Some(1), Some("metadata.name"))
    );
    c.apply(good()).unwrap();
    let got = service(&c, "shop", "good");
    assert_eq!(ip_of(&got), ip_of(&expected));
    assert_eq!(
        got.spec.ports[0].node_port,
        expected.spec.ports[0].node_port
    );
}

// ALLOC-6 / validation: errors are Cluster problems with object, index and
// field.
#[test]
fn validation_errors_name_object_and_field() {
    let mut c = cluster();
    let err = c
        .apply(svc_json(
            "web",
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 29999}]}),
        ))
        .unwrap_err();
    assert_eq!(one_problem(&err).2, Some("spec.ports[0].nodePort"));
    let err = c.apply(svc_json("web", json!({}))).unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Invalid, Some(0), Some("spec.ports"))
    );
    assert!(err.to_string().contains("Service shop/web"), "{err}");
}

// A stored object replacing a stored one (a dump of a Service recreated
// since) takes its new values; the old ones are free again.
#[test]
fn stored_replacement_moves() {
    let mut c = cluster();
    let at = |ip: &str, np: i32| {
        svc_json(
            "a",
            json!({"type": "NodePort", "clusterIP": ip, "clusterIPs": [ip],
                             "ports": [{"port": 80, "nodePort": np}]}),
        )
    };
    c.apply(at("10.96.7.7", 31000)).unwrap();
    c.apply(at("10.96.7.8", 31001)).unwrap();
    assert_eq!(ip_of(&service(&c, "shop", "a")), "10.96.7.8");
    let mut other = at("10.96.7.7", 31000);
    other.metadata_mut().name = Some("b".into());
    c.apply(other).unwrap();
}

// Release on delete: the address and node port can be taken again.
#[test]
fn delete_releases() {
    let mut c = cluster();
    let stored = svc_json(
        "a",
        json!({"type": "NodePort", "clusterIP": "10.96.7.7", "ports": [{"port": 80, "nodePort": 31000}]}),
    );
    c.apply(stored.clone()).unwrap();
    c.delete(&key(Kind::Service, "shop", "a")).unwrap();
    let mut again = stored;
    again.metadata_mut().name = Some("b".into());
    c.apply(again).unwrap();
    assert_eq!(
        service(&c, "shop", "b").spec.ports[0].node_port,
        Some(31000)
    );
}

// Updates go through the API server's update: allocated values the
// manifest leaves out are kept, the update is validated, and a type
// change to ClusterIP releases the node ports.
#[test]
fn updates_keep_allocations_and_release_on_type_change() {
    let mut c = cluster();
    c.apply(fixture("service-loadbalancer.yaml")).unwrap();
    let before = service(&c, "default", "web-lb");
    // Re-applying the same manifest changes nothing.
    assert!(
        c.apply(fixture("service-loadbalancer.yaml"))
            .unwrap()
            .of_kind(Kind::Service)
            .is_empty()
    );
    assert_eq!(service(&c, "default", "web-lb"), before);

    // A submitted update is validated as the API server validates it.
    let mut dual = fixture("service-loadbalancer.yaml");
    if let Object::Service(s) = &mut dual {
        s.spec.ip_family_policy = Some(IPFamilyPolicy::RequireDualStack);
    }
    let err = c.apply(dual).unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Invalid, Some(0), Some("spec.ipFamilyPolicy"))
    );

    let mut cip = fixture("service-loadbalancer.yaml");
    if let Object::Service(s) = &mut cip {
        s.spec.type_ = Some(api::ServiceType::ClusterIP);
    }
    c.apply(cip).unwrap();
    let after = service(&c, "default", "web-lb");
    assert_eq!(ip_of(&after), ip_of(&before));
    assert!(after.spec.ports.iter().all(|p| p.node_port.is_none()));
    // The released node port is free for a stored Service.
    let np = before.spec.ports[0].node_port.unwrap();
    c.apply(svc_json(
        "taker",
        json!({"type": "NodePort", "clusterIP": "10.96.8.8", "ports": [{"port": 80, "nodePort": np}]}),
    ))
    .unwrap();
}

// ALLOC-15: LoadBalancer with externalTrafficPolicy Local gets a
// health-check node port; a stored one keeps its own.
#[test]
fn health_check_node_port() {
    let mut c = cluster();
    c.apply(svc_json(
        "lb",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                   "ports": [{"port": 443}]}),
    ))
    .unwrap();
    let hc = service(&c, "shop", "lb")
        .spec
        .health_check_node_port
        .unwrap();
    assert!((30000..=32767).contains(&hc));
    c.apply(svc_json(
        "lb2",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                                    "clusterIP": "10.96.3.3", "healthCheckNodePort": 32000,
                                    "ports": [{"port": 443, "nodePort": 31443}]}),
    ))
    .unwrap();
    assert_eq!(
        service(&c, "shop", "lb2").spec.health_check_node_port,
        Some(32000)
    );
}

// ALLOC-12: allocateLoadBalancerNodePorts false leaves ports without node
// ports.
#[test]
fn load_balancer_without_node_ports() {
    let mut c = cluster();
    c.apply(svc_json(
        "lb",
        json!({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false,
                                   "ports": [{"port": 443}]}),
    ))
    .unwrap();
    assert_eq!(service(&c, "shop", "lb").spec.ports[0].node_port, None);
}

// ALLOC-7: dual-stack policies on a dual-stack cluster.
#[test]
fn dual_stack_policies() {
    let mut c = with(ClusterConfig {
        service_cidrs: vec![
            IpNet::parse_truncating("10.96.0.0/16").unwrap(),
            IpNet::parse_truncating("fd00:10:96::/112").unwrap(),
        ],
        cluster_cidrs: vec![
            IpNet::parse_truncating("10.244.0.0/16").unwrap(),
            IpNet::parse_truncating("fd00:10:244::/56").unwrap(),
        ],
        ..ClusterConfig::default()
    });
    c.apply(svc_json(
        "dual",
        json!({"ipFamilyPolicy": "PreferDualStack", "ports": [{"port": 80}]}),
    ))
    .unwrap();
    let s = service(&c, "shop", "dual");
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4, IPFamily::IPv6]);
    let ips = s.spec.cluster_ips.unwrap();
    assert_eq!(ips.len(), 2);
    assert!(ips[1].contains(':'));
    c.apply(svc_json(
        "v6",
        json!({"ipFamilies": ["IPv6"], "ports": [{"port": 80}]}),
    ))
    .unwrap();
    assert!(ip_of(&service(&c, "shop", "v6")).contains(':'));
    // RequireDualStack on a single-stack cluster is refused.
    let mut single = cluster();
    let err = single
        .apply(svc_json(
            "d",
            json!({"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 80}]}),
        ))
        .unwrap_err();
    assert_eq!(one_problem(&err).2, Some("spec.ipFamilyPolicy"));
}

// ------------------------------------------------------------ Nodes

// ALLOC-18: Nodes without pod CIDRs get the next block; stored ones keep
// theirs; a changed pod CIDR is refused; re-applying without it keeps it.
#[test]
fn nodes_get_pod_cidrs() {
    let mut c = cluster();
    let n =
        |name: &str| obj(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}));
    c.apply(obj(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "old"},
                       "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}}),
    ))
    .unwrap();
    c.apply_batch(vec![n("n1"), n("n2")]).unwrap();
    assert_eq!(node(&c, "old").spec.pod_cidrs, ["10.244.0.0/24"]);
    assert_eq!(node(&c, "n1").spec.pod_cidrs, ["10.244.1.0/24"]);
    assert_eq!(
        node(&c, "n2").spec.pod_cidr.as_deref(),
        Some("10.244.2.0/24")
    );
    // Re-applying a Node without podCIDRs keeps its own.
    c.apply(n("n1")).unwrap();
    assert_eq!(node(&c, "n1").spec.pod_cidrs, ["10.244.1.0/24"]);
    let err = c
        .apply(obj(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                          "spec": {"podCIDRs": ["10.244.9.0/24"]}}),
        ))
        .unwrap_err();
    assert_eq!(
        one_problem(&err),
        (ProblemKind::Invalid, Some(0), Some("spec.podCIDRs"))
    );
}

// A refused batch leaves node IPAM as it was.
#[test]
fn refused_batch_leaves_node_ipam_untouched() {
    let mut c = cluster();
    let n =
        |name: &str| obj(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}));
    let bad = svc_json("Bad", json!({"ports": [{"port": 80}]}));
    assert!(c.apply_batch(vec![n("a"), bad]).is_err());
    c.apply(n("b")).unwrap();
    assert_eq!(node(&c, "b").spec.pod_cidrs, ["10.244.0.0/24"]);
}

// ------------------------------------------------------------ load balancers

fn lb(name: &str) -> Object {
    svc_json(
        name,
        json!({"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]}),
    )
}

fn ingress(c: &Cluster, name: &str) -> Vec<(Option<String>, Option<String>)> {
    service(c, "shop", name)
        .status
        .load_balancer
        .ingress
        .iter()
        .map(|i| (i.ip.clone(), i.hostname.clone()))
        .collect()
}

// Without a provider a LoadBalancer Service stays pending.
#[test]
fn no_provider_pending() {
    let mut c = cluster();
    c.apply(lb("edge")).unwrap();
    assert!(ingress(&c, "edge").is_empty());
}

// An address pool hands out the next free address, released on delete and
// on a type change (MetalLB).
#[test]
fn address_pool() {
    let mut c = with(ClusterConfig {
        load_balancer: LoadBalancerProvider::Pool(vec![
            IpNet::parse_truncating("192.168.10.0/31").unwrap(),
            IpNet::parse_truncating("192.168.20.0/32").unwrap(),
        ]),
        ..ClusterConfig::default()
    });
    c.apply_batch(vec![lb("a"), lb("b"), lb("c"), lb("d")])
        .unwrap();
    let ip = |c: &Cluster, n: &str| ingress(c, n).first().and_then(|i| i.0.clone());
    assert_eq!(ip(&c, "a").as_deref(), Some("192.168.10.0"));
    assert_eq!(ip(&c, "b").as_deref(), Some("192.168.10.1"));
    assert_eq!(ip(&c, "c").as_deref(), Some("192.168.20.0"));
    assert_eq!(ip(&c, "d"), None); // pool exhausted: pending
    c.delete(&key(Kind::Service, "shop", "a")).unwrap();
    c.apply(lb("e")).unwrap();
    assert_eq!(ip(&c, "e").as_deref(), Some("192.168.10.0"));
    // b stops being a LoadBalancer: its address is released, status cleared.
    c.apply(svc_json(
        "b",
        json!({"type": "ClusterIP", "selector": {"app": "b"}, "ports": [{"port": 80}]}),
    ))
    .unwrap();
    assert!(ingress(&c, "b").is_empty());
    c.apply(lb("f")).unwrap();
    assert_eq!(ip(&c, "f").as_deref(), Some("192.168.10.1"));
    // Re-applying a manifest keeps the assigned address.
    c.apply(lb("f")).unwrap();
    assert_eq!(ip(&c, "f").as_deref(), Some("192.168.10.1"));
}

// MetalLB honours a requested address (annotation, or the deprecated
// spec.loadBalancerIP) when it is in the pool and free; else pending.
#[test]
fn pool_requested_addresses() {
    let mut c = with(ClusterConfig {
        load_balancer: LoadBalancerProvider::Pool(vec![
            IpNet::parse_truncating("192.168.10.0/29").unwrap(),
        ]),
        ..ClusterConfig::default()
    });
    let asking = |name: &str, annotations: Value, spec_ip: Option<&str>| {
        let mut spec = json!({"type": "LoadBalancer", "ports": [{"port": 80}]});
        if let Some(ip) = spec_ip {
            spec["loadBalancerIP"] = json!(ip);
        }
        obj(json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": "shop", "annotations": annotations}, "spec": spec}))
    };
    c.apply(asking(
        "a",
        json!({"metallb.io/loadBalancerIPs": "192.168.10.5"}),
        None,
    ))
    .unwrap();
    c.apply(asking("b", json!({}), Some("192.168.10.6")))
        .unwrap();
    c.apply(asking("taken", json!({}), Some("192.168.10.5")))
        .unwrap();
    c.apply(asking("outside", json!({}), Some("10.0.0.1")))
        .unwrap();
    c.apply(lb("next")).unwrap();
    let ip = |n: &str| ingress(&c, n).first().and_then(|i| i.0.clone());
    assert_eq!(ip("a").as_deref(), Some("192.168.10.5"));
    assert_eq!(ip("b").as_deref(), Some("192.168.10.6"));
    assert_eq!(ip("taken"), None);
    assert_eq!(ip("outside"), None);
    assert_eq!(ip("next").as_deref(), Some("192.168.10.0"));
}

// A status given in the input is kept; a pool address held by another
// Service is a conflict.
#[test]
fn given_status_is_kept() {
    let mut c = with(ClusterConfig {
        load_balancer: LoadBalancerProvider::Pool(vec![
            IpNet::parse_truncating("192.168.10.0/30").unwrap(),
        ]),
        ..ClusterConfig::default()
    });
    let with_status = |name: &str, ip: &str| {
        obj(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"},
                   "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
                   "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}),
        )
    };
    c.apply(with_status("a", "192.168.10.2")).unwrap();
    assert_eq!(ingress(&c, "a")[0].0.as_deref(), Some("192.168.10.2"));
    let err = c.apply(with_status("b", "192.168.10.2")).unwrap_err();
    assert_eq!(
        one_problem(&err),
        (
            ProblemKind::Conflict,
            Some(0),
            Some("status.loadBalancer.ingress[0].ip")
        )
    );
    c.apply(with_status("outside", "203.0.113.7")).unwrap();
    assert_eq!(ingress(&c, "outside")[0].0.as_deref(), Some("203.0.113.7"));
    // Without a provider too.
    let mut none = cluster();
    none.apply(with_status("x", "203.0.113.8")).unwrap();
    assert_eq!(ingress(&none, "x")[0].0.as_deref(), Some("203.0.113.8"));
}

// AWS: an ELB hostname, deterministic from the seed, `internal-` for the
// internal scheme (and the legacy annotation), the configured region.
#[test]
fn aws_hostnames() {
    let aws = |region: &str| {
        with(ClusterConfig {
            load_balancer: LoadBalancerProvider::Aws {
                region: region.into(),
            },
            seed: 5,
            ..ClusterConfig::default()
        })
    };
    let mut c = aws("us-east-1");
    c.apply(lb("edge")).unwrap();
    let host = ingress(&c, "edge")[0].1.clone().unwrap();
    let (elb, rest) = host.split_once('-').unwrap();
    assert!(elb.starts_with('a') && elb.len() == 32, "{host}");
    assert!(elb[1..].chars().all(|c| c.is_ascii_hexdigit()), "{host}");
    let (digits, domain) = rest.split_once('.').unwrap();
    assert!(
        digits.len() == 10 && digits.chars().all(|c| c.is_ascii_digit()),
        "{host}"
    );
    assert_eq!(domain, "us-east-1.elb.amazonaws.com");
    // Deterministic.
    let mut again = aws("us-east-1");
    again.apply(lb("edge")).unwrap();
    assert_eq!(ingress(&again, "edge")[0].1.as_deref(), Some(host.as_str()));
    // Internal scheme, region.
    let mut west = aws("eu-west-1");
    let annotated = |name: &str, k: &str, v: &str| {
        obj(json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": "shop", "annotations": {k: v}},
                   "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}))
    };
    west.apply(annotated(
        "int",
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ))
    .unwrap();
    west.apply(annotated(
        "legacy",
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        "true",
    ))
    .unwrap();
    west.apply(annotated(
        "public",
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internet-facing",
    ))
    .unwrap();
    let h = |c: &Cluster, n: &str| ingress(c, n)[0].1.clone().unwrap();
    assert!(h(&west, "int").starts_with("internal-a"));
    assert!(h(&west, "legacy").starts_with("internal-a"));
    assert!(h(&west, "public").starts_with('a'));
    assert!(h(&west, "public").ends_with(".eu-west-1.elb.amazonaws.com"));
    assert_eq!(
        LoadBalancerProvider::aws(),
        LoadBalancerProvider::Aws {
            region: "us-east-1".into()
        }
    );
}

// A configuration the provider cannot use is refused.
#[test]
fn bad_provider_config() {
    let err = Cluster::new(ClusterConfig {
        load_balancer: LoadBalancerProvider::Pool(Vec::new()),
        ..ClusterConfig::default()
    })
    .unwrap_err();
    assert_eq!(
        err.problems()[0].field.as_deref(),
        Some("loadBalancer.pool")
    );
}

// ALLOC-18: a deleted Node's block is released and handed out again once
// the allocator wraps round; a full cluster CIDR leaves a new Node without
// pod CIDRs (the Node is still stored, as upstream).
#[test]
fn node_delete_releases_its_block() {
    let mut c = with(ClusterConfig {
        cluster_cidrs: vec![IpNet::parse_truncating("10.244.0.0/23").unwrap()],
        ..ClusterConfig::default()
    });
    let n =
        |name: &str| obj(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}));
    c.apply_batch(vec![n("n1"), n("n2")]).unwrap();
    c.apply(n("n3")).unwrap();
    assert!(node(&c, "n3").spec.pod_cidrs.is_empty());
    c.delete(&key(Kind::Node, "", "n1")).unwrap();
    c.apply(n("n4")).unwrap();
    assert_eq!(node(&c, "n4").spec.pod_cidrs, ["10.244.0.0/24"]);
}
