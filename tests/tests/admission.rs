//! Service and Node admission (`svcroute::cluster::admission`): defaulting,
//! validation with field paths, allocation, rollback, node IPAM. Test names
//! and comments cite the rules of `shared/reference/services.md`.

use proptest::prelude::*;
use serde_json::{Value, json};
use svcroute::ErrorKind;
use svcroute::api::{IPFamily, IPFamilyPolicy, IntOrString, Node, Protocol, Service};
use svcroute::cluster::admission::{
    AdmissionError, FieldReason, NodeIpam, ServiceAdmission, ServiceAdmissionConfig,
    kubernetes_service,
};
use svcroute::ipam::{IpNet, NodeCidrConfig};

fn admission(cidrs: &[&str]) -> ServiceAdmission {
    admission_seeded(cidrs, 7)
}

fn admission_seeded(cidrs: &[&str], seed: u64) -> ServiceAdmission {
    let mut a = ServiceAdmission::new(&ServiceAdmissionConfig {
        service_cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        seed,
        ..ServiceAdmissionConfig::default()
    })
    .unwrap();
    a.reserve_kubernetes_service_ip().unwrap();
    a
}

fn svc(value: Value) -> Service {
    serde_json::from_value(value).unwrap()
}

fn create(a: &mut ServiceAdmission, value: Value) -> Result<Service, AdmissionError> {
    a.create(svc(value))
}

fn err(a: &mut ServiceAdmission, value: Value) -> AdmissionError {
    match create(a, value) {
        Ok(s) => panic!("created: {}", serde_json::to_string(&s).unwrap()),
        Err(e) => e,
    }
}

fn ip(s: &Service, i: usize) -> std::net::IpAddr {
    s.spec.cluster_ips.as_ref().unwrap()[i].parse().unwrap()
}

/// Allocator state that a failed create must leave untouched.
fn snapshot(a: &ServiceAdmission) -> (Vec<std::net::IpAddr>, Vec<u16>, Vec<String>) {
    let mut ips = Vec::new();
    for family in a.ip_allocator().families() {
        ips.extend(a.ip_allocator().get(family).unwrap().allocated());
    }
    let ports = a.node_port_allocator().allocated().collect();
    let rngs = a
        .ip_allocator()
        .rng_states()
        .iter()
        .chain([a.node_port_allocator().rng()])
        .map(|r| format!("{r:?}"))
        .collect();
    (ips, ports, rngs)
}

// ---------------------------------------------------------------- kubectl

// `kubectl create service ... --dry-run=client -o json` (kubectl v1.32.4),
// as a user submits them.
const KUBECTL_CLUSTERIP: &str = r#"{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
  "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
           "selector": {"app": "web"}, "type": "ClusterIP"},
  "status": {"loadBalancer": {}}}"#;
const KUBECTL_NODEPORT: &str = r#"{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "np", "creationTimestamp": null, "labels": {"app": "np"}},
  "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                     {"name": "443-8443", "protocol": "TCP", "port": 443, "targetPort": 8443}],
           "selector": {"app": "np"}, "type": "NodePort"},
  "status": {"loadBalancer": {}}}"#;
const KUBECTL_LOADBALANCER: &str = r#"{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "lb", "creationTimestamp": null, "labels": {"app": "lb"}},
  "spec": {"ports": [{"name": "80", "protocol": "TCP", "port": 80, "targetPort": 80}],
           "selector": {"app": "lb"}, "type": "LoadBalancer"},
  "status": {"loadBalancer": {}}}"#;
const KUBECTL_EXTERNALNAME: &str = r#"{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "ext", "creationTimestamp": null, "labels": {"app": "ext"}},
  "spec": {"selector": {"app": "ext"}, "type": "ExternalName", "externalName": "db.example.com"},
  "status": {"loadBalancer": {}}}"#;
const KUBECTL_HEADLESS: &str = r#"{"kind": "Service", "apiVersion": "v1",
  "metadata": {"name": "hl", "creationTimestamp": null, "labels": {"app": "hl"}},
  "spec": {"selector": {"app": "hl"}, "clusterIP": "None", "type": "ClusterIP"},
  "status": {"loadBalancer": {}}}"#;

fn kubectl(text: &str) -> Service {
    serde_json::from_str(text).unwrap()
}

// ALLOC-1, ALLOC-4, ALLOC-5, ALLOC-7, ALLOC-11, ALLOC-17: a kubectl
// ClusterIP Service gets a dynamic-band IP and the defaults.
#[test]
fn kubectl_clusterip() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = a.create(kubectl(KUBECTL_CLUSTERIP)).unwrap();
    assert_eq!(s.metadata.namespace.as_deref(), Some("default"));
    let band = a.ip_allocator().primary().dynamic_band().unwrap();
    assert!(band.contains(ip(&s, 0)));
    assert_eq!(s.spec.cluster_ip, Some(ip(&s, 0).to_string()));
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4]);
    assert_eq!(s.spec.ip_family_policy, Some(IPFamilyPolicy::SingleStack));
    assert_eq!(
        s.spec.ports[0].target_port,
        Some(IntOrString::Int(8080)),
        "kept"
    );
    assert_eq!(s.spec.session_affinity.unwrap().as_str(), "None");
    assert_eq!(s.spec.internal_traffic_policy.unwrap().as_str(), "Cluster");
    assert_eq!(s.spec.external_traffic_policy, None);
    assert_eq!(s.spec.ports[0].node_port, None);
}

// ALLOC-8, ALLOC-9, ALLOC-16, ALLOC-17: two ports, two distinct dynamic
// node ports; externalTrafficPolicy defaults to Cluster.
#[test]
fn kubectl_nodeport() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = a.create(kubectl(KUBECTL_NODEPORT)).unwrap();
    let (p0, p1) = (
        s.spec.ports[0].node_port.unwrap(),
        s.spec.ports[1].node_port.unwrap(),
    );
    assert!((30086..=32767).contains(&p0) && (30086..=32767).contains(&p1));
    assert_ne!(p0, p1);
    assert_eq!(s.spec.external_traffic_policy.unwrap().as_str(), "Cluster");
    assert_eq!(a.node_port_allocator().used(), 2);
}

// ALLOC-12: a LoadBalancer gets node ports and allocateLoadBalancerNodePorts: true.
#[test]
fn kubectl_loadbalancer() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = a.create(kubectl(KUBECTL_LOADBALANCER)).unwrap();
    assert_eq!(s.spec.allocate_load_balancer_node_ports, Some(true));
    assert!(s.spec.ports[0].node_port.is_some());
    assert_eq!(s.spec.health_check_node_port, None);
    assert_eq!(s.spec.external_traffic_policy.unwrap().as_str(), "Cluster");
}

// ALLOC-7: ExternalName gets no cluster IP, no families, no policy, and no
// internalTrafficPolicy.
#[test]
fn kubectl_externalname() {
    let mut a = admission(&["10.96.0.0/16", "fd00:10:96::/112"]);
    let s = a.create(kubectl(KUBECTL_EXTERNALNAME)).unwrap();
    assert_eq!(s.spec.cluster_ip, None);
    assert_eq!(s.spec.cluster_ips, None);
    assert!(s.spec.ip_families.is_empty());
    assert_eq!(s.spec.ip_family_policy, None);
    assert_eq!(s.spec.internal_traffic_policy, None);
    assert_eq!(s.spec.external_name.as_deref(), Some("db.example.com"));
}

// ALLOC-7: headless with a selector and no ports is fine; families default
// to the primary one.
#[test]
fn kubectl_headless() {
    let mut a = admission(&["fd00:10:96::/112", "10.96.0.0/16"]);
    let s = a.create(kubectl(KUBECTL_HEADLESS)).unwrap();
    assert_eq!(s.spec.cluster_ips, Some(vec!["None".to_string()]));
    assert_eq!(s.spec.ip_families, [IPFamily::IPv6]);
    assert_eq!(s.spec.ip_family_policy, Some(IPFamilyPolicy::SingleStack));
}

// ---------------------------------------------------------------- ALLOC-7

#[test]
fn alloc_7_prefer_dual_stack_orders_by_given_family() {
    let mut a = admission(&["10.96.0.0/16", "fd00:10:96::/112"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"ipFamilyPolicy": "PreferDualStack",
               "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4, IPFamily::IPv6]);
    assert!(ip(&s, 0).is_ipv4() && ip(&s, 1).is_ipv6());
    assert_eq!(s.spec.cluster_ip.as_deref(), Some(&*ip(&s, 0).to_string()));
    let s = create(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"ipFamilyPolicy": "RequireDualStack",
               "ipFamilies": ["IPv6"], "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ip_families, [IPFamily::IPv6, IPFamily::IPv4]);
    assert!(ip(&s, 0).is_ipv6() && ip(&s, 1).is_ipv4());
}

#[test]
fn alloc_7_prefer_dual_stack_on_single_stack_cluster() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"ipFamilyPolicy": "PreferDualStack",
               "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4]);
    assert_eq!(s.spec.cluster_ips.unwrap().len(), 1);
    assert_eq!(
        s.spec.ip_family_policy,
        Some(IPFamilyPolicy::PreferDualStack)
    );
}

#[test]
fn alloc_7_errors_with_field_paths() {
    let mut a = admission(&["10.96.0.0/16"]);
    let cases = [
        // RequireDualStack on a single-stack cluster.
        (
            json!({"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 80}]}),
            "spec.ipFamilyPolicy",
        ),
        // Two families without a policy: SingleStack since v1.23, rejected.
        (
            json!({"ipFamilies": ["IPv4", "IPv6"], "ports": [{"port": 80}]}),
            "spec.ipFamilyPolicy",
        ),
        // A family the cluster does not have.
        (
            json!({"ipFamilies": ["IPv6"], "ports": [{"port": 80}]}),
            "spec.ipFamilies[0]",
        ),
        // clusterIPs without clusterIP.
        (
            json!({"clusterIPs": ["10.96.0.20"], "ports": [{"port": 80}]}),
            "spec.clusterIPs",
        ),
        // clusterIP and clusterIPs[0] disagree.
        (
            json!({"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.21"], "ports": [{"port": 80}]}),
            "spec.clusterIPs",
        ),
        // Not an IP.
        (
            json!({"clusterIP": "10.96.0.300", "ports": [{"port": 80}]}),
            "spec.clusterIPs[0]",
        ),
        // An IPv6 address on an IPv4-only cluster.
        (
            json!({"clusterIP": "fd00::5", "ports": [{"port": 80}]}),
            "spec.clusterIPs[0]",
        ),
        // Family and address disagree.
        (
            json!({"clusterIP": "10.96.0.20", "ipFamilies": ["IPv6"], "ipFamilyPolicy": "SingleStack",
                   "ports": [{"port": 80}]}),
            "spec.clusterIPs[0]",
        ),
    ];
    for (spec, field) in cases {
        let before = snapshot(&a);
        let e = err(&mut a, json!({"metadata": {"name": "x"}, "spec": spec}));
        assert_eq!(
            (e.code(), e.field()),
            ("invalid", Some(field)),
            "{spec}: {e}"
        );
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(snapshot(&a), before, "{spec}: nothing changes");
    }
}

// ALLOC-7: headless without a selector and without a policy is
// RequireDualStack with both families, even on a single-stack cluster.
#[test]
fn alloc_7_headless_selectorless() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(
        s.spec.ip_family_policy,
        Some(IPFamilyPolicy::RequireDualStack)
    );
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4, IPFamily::IPv6]);
    // With SingleStack asked for, one family.
    let s = create(
        &mut a,
        json!({"metadata": {"name": "h2"}, "spec": {"clusterIP": "None",
               "ipFamilyPolicy": "SingleStack"}}),
    )
    .unwrap();
    assert_eq!(s.spec.ip_families, [IPFamily::IPv4]);
}

// ALLOC-7: a requested dual-stack pair.
#[test]
fn alloc_7_requested_pair() {
    let mut a = admission(&["10.96.0.0/16", "fd00:10:96::/112"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"ipFamilyPolicy": "RequireDualStack",
               "clusterIP": "fd00:10:96::5", "clusterIPs": ["fd00:10:96::5", "10.96.0.5"],
               "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ip_families, [IPFamily::IPv6, IPFamily::IPv4]);
    assert_eq!(s.spec.cluster_ips.unwrap(), ["fd00:10:96::5", "10.96.0.5"]);
}

// ---------------------------------------------------------- ALLOC-2 … 6

#[test]
fn alloc_2_6_requested_ips() {
    let mut a = admission(&["10.96.0.0/16", "fd00:10:96::/112"]);
    for (addr, code) in [
        ("10.97.0.5", "not-in-range"),
        ("10.96.0.0", "not-in-range"),
        ("10.96.255.255", "not-in-range"),
        ("10.96.0.1", "already-allocated"), // ALLOC-3: default/kubernetes
    ] {
        let e = err(
            &mut a,
            json!({"metadata": {"name": "x"}, "spec": {"clusterIP": addr, "ports": [{"port": 80}]}}),
        );
        assert_eq!(
            (e.code(), e.field()),
            (code, Some("spec.clusterIPs[0]")),
            "{addr}"
        );
    }
    // ALLOC-2: the last IPv6 address is usable.
    let s = create(
        &mut a,
        json!({"metadata": {"name": "v6"}, "spec": {"clusterIP": "fd00:10:96::ffff",
               "ipFamilies": ["IPv6"], "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.cluster_ip.as_deref(), Some("fd00:10:96::ffff"));
    // The second of a pair failing names its index.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "y"}, "spec": {"ipFamilyPolicy": "PreferDualStack",
               "clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9", "fd00:10:96::ffff"],
               "ports": [{"port": 80}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("already-allocated", Some("spec.clusterIPs[1]"))
    );
    assert!(!a.ip_allocator().is_allocated("10.96.0.9".parse().unwrap()));
}

// ALLOC-5, ALLOC-6: a full range is a limit error without a field.
#[test]
fn alloc_6_range_full() {
    let mut a = admission(&["10.96.0.0/29"]); // 6 usable, .1 taken
    for i in 0..5 {
        create(
            &mut a,
            json!({"metadata": {"name": format!("s{i}")}, "spec": {"ports": [{"port": 80}]}}),
        )
        .unwrap();
    }
    let e = err(
        &mut a,
        json!({"metadata": {"name": "full"}, "spec": {"ports": [{"port": 80}]}}),
    );
    assert_eq!((e.code(), e.field()), ("range-full", None));
    assert_eq!(e.kind(), ErrorKind::Limit);
}

// ALLOC-3: the default/kubernetes Service.
#[test]
fn alloc_3_kubernetes_service() {
    let mut a = ServiceAdmission::new(&ServiceAdmissionConfig::default()).unwrap();
    let s = a.bootstrap_kubernetes_service(6443).unwrap();
    assert_eq!(
        s.spec.cluster_ips.as_deref(),
        Some(&["10.96.0.1".to_string()][..])
    );
    assert_eq!(s.spec.ports[0].target_port, Some(IntOrString::Int(6443)));
    assert_eq!(s.spec.ports[0].name, "https");
    let built = kubernetes_service("fd00::1".parse().unwrap(), 443);
    assert_eq!(built.spec.cluster_ip.as_deref(), Some("fd00::1"));
}

// ---------------------------------------------------------- ALLOC-8 … 12

// ALLOC-10: 53/TCP and 53/UDP share one automatically allocated nodePort;
// a port without a nodePort inherits its twin's explicit one.
#[test]
fn alloc_10_sharing() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "dns"}, "spec": {"type": "NodePort", "ports": [
            {"name": "dns-tcp", "port": 53}, {"name": "dns-udp", "port": 53, "protocol": "UDP"}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ports[0].node_port, s.spec.ports[1].node_port);
    assert_eq!(s.spec.ports[1].protocol, Some(Protocol::UDP));
    let s = create(
        &mut a,
        json!({"metadata": {"name": "twin"}, "spec": {"type": "NodePort", "ports": [
            {"name": "a", "port": 80}, {"name": "b", "port": 80, "protocol": "UDP", "nodePort": 30050}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ports[0].node_port, Some(30050));
    assert_eq!(s.spec.ports[1].node_port, Some(30050));
}

// ALLOC-10 (conformance ALC-017 step 0): 80/TCP and 81/TCP both asking for
// 30020. Validation would call the second a duplicate (protocol, nodePort),
// but kube-apiserver allocates first (the generic store runs BeginCreate
// before the strategy's Validate), so the answer is "provided port is
// already allocated" on spec.ports[1].nodePort, and nothing stays taken.
#[test]
fn alloc_10_allocation_before_validation() {
    let mut a = admission(&["10.96.0.0/16"]);
    let before = snapshot(&a);
    let e = err(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"type": "NodePort", "ports": [
            {"name": "x", "port": 80, "nodePort": 30020}, {"name": "y", "port": 81, "nodePort": 30020}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("already-allocated", Some("spec.ports[1].nodePort"))
    );
    assert_eq!(snapshot(&a), before);
    // The duplicate check itself, where allocation lets it through: the
    // same nodePort and protocol on two entries sharing the port number.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"type": "NodePort", "ports": [
            {"name": "x", "port": 80, "nodePort": 30021}, {"name": "y", "port": 80, "nodePort": 30021}]}}),
    );
    assert_eq!(e.code(), "invalid");
    let fields: Vec<(&str, FieldReason)> = e
        .field_errors()
        .iter()
        .map(|f| (f.field.as_str(), f.reason))
        .collect();
    assert_eq!(
        fields,
        [
            ("spec.ports[1].nodePort", FieldReason::Duplicate),
            ("spec.ports[1]", FieldReason::Duplicate)
        ]
    );
    assert!(!a.node_port_allocator().is_allocated(30021));
}

// ALLOC-8, ALLOC-10: explicit node ports: out of range, taken, not a port.
#[test]
fn alloc_10_node_port_errors() {
    let mut a = admission(&["10.96.0.0/16"]);
    create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30010}]}}),
    )
    .unwrap();
    for (np, code) in [
        (json!(30010), "already-allocated"),
        (json!(29999), "not-in-range"),
        (json!(70000), "not-in-range"),
        (json!(-1), "not-in-range"),
    ] {
        let e = err(
            &mut a,
            json!({"metadata": {"name": "b"}, "spec": {"type": "LoadBalancer", "ports": [
                {"name": "p", "port": 81}, {"name": "q", "port": 82, "nodePort": np}]}}),
        );
        assert_eq!(
            (e.code(), e.field()),
            (code, Some("spec.ports[1].nodePort")),
            "{np}"
        );
        assert_eq!(a.node_port_allocator().used(), 1, "{np}: rolled back");
    }
    // ALLOC-8: no nodePort on a ClusterIP Service.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "c"}, "spec": {"ports": [{"port": 80, "nodePort": 30030}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("invalid", Some("spec.ports[0].nodePort"))
    );
    assert_eq!(e.field_errors()[0].reason, FieldReason::Forbidden);
}

// ALLOC-12: allocateLoadBalancerNodePorts false keeps explicit ones only;
// the field is forbidden on other types.
#[test]
fn alloc_12_load_balancer_node_ports() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"type": "LoadBalancer",
               "allocateLoadBalancerNodePorts": false, "ports": [
                {"name": "x", "port": 80, "nodePort": 30100}, {"name": "y", "port": 443}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.ports[0].node_port, Some(30100));
    assert_eq!(s.spec.ports[1].node_port, None);
    let e = err(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"type": "NodePort",
               "allocateLoadBalancerNodePorts": false, "ports": [{"port": 80}]}}),
    );
    assert_eq!(e.field(), Some("spec.allocateLoadBalancerNodePorts"));
    assert_eq!(a.node_port_allocator().used(), 1);
}

// ALLOC-11: port validation with field paths.
#[test]
fn alloc_11_port_validation() {
    let mut a = admission(&["10.96.0.0/16"]);
    let cases = [
        (json!([]), "spec.ports", FieldReason::Required),
        (
            json!([{"port": 80}, {"port": 81}]),
            "spec.ports[0].name",
            FieldReason::Required,
        ),
        (
            json!([{"name": "a", "port": 80}, {"name": "a", "port": 81}]),
            "spec.ports[1].name",
            FieldReason::Duplicate,
        ),
        (
            json!([{"name": "Web", "port": 80}]),
            "spec.ports[0].name",
            FieldReason::Invalid,
        ),
        (
            json!([{"port": 0}]),
            "spec.ports[0].port",
            FieldReason::Invalid,
        ),
        (
            json!([{"port": 80, "targetPort": 70000}]),
            "spec.ports[0].targetPort",
            FieldReason::Invalid,
        ),
        (
            json!([{"port": 80, "targetPort": "http--x"}]),
            "spec.ports[0].targetPort",
            FieldReason::Invalid,
        ),
        (
            json!([{"port": 80, "targetPort": "a-very-long-port-name"}]),
            "spec.ports[0].targetPort",
            FieldReason::Invalid,
        ),
        (
            json!([{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
            "spec.ports[1]",
            FieldReason::Duplicate,
        ),
    ];
    for (ports, field, reason) in cases {
        let e = err(
            &mut a,
            json!({"metadata": {"name": "x"}, "spec": {"ports": ports}}),
        );
        assert_eq!(e.field(), Some(field), "{ports}: {e}");
        assert_eq!(e.field_errors()[0].reason, reason, "{ports}");
    }
    // Mixed protocols on one port number, and a named targetPort, are fine.
    let s = create(
        &mut a,
        json!({"metadata": {"name": "ok"}, "spec": {"type": "LoadBalancer", "ports": [
            {"name": "a", "port": 53, "targetPort": "dns"},
            {"name": "b", "port": 53, "protocol": "UDP", "targetPort": "dns"}]}}),
    )
    .unwrap();
    assert_eq!(
        s.spec.ports[0].target_port,
        Some(IntOrString::String("dns".into()))
    );
    assert_eq!(s.spec.ports[0].node_port, s.spec.ports[1].node_port);
}

// ------------------------------------------------------- ALLOC-15 … 17

#[test]
fn alloc_15_health_check_node_port() {
    let mut a = admission(&["10.96.0.0/16"]);
    let s = create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"type": "LoadBalancer",
               "externalTrafficPolicy": "Local", "healthCheckNodePort": 30500, "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.health_check_node_port, Some(30500));
    // Taken already.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"type": "LoadBalancer",
               "externalTrafficPolicy": "Local", "healthCheckNodePort": 30500, "ports": [{"port": 80}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("already-allocated", Some("spec.healthCheckNodePort"))
    );
    assert_eq!(a.node_port_allocator().used(), 2, "b's node port released");
    // Not needed: invalid.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "c"}, "spec": {"type": "NodePort",
               "externalTrafficPolicy": "Local", "healthCheckNodePort": 30600, "ports": [{"port": 80}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("invalid", Some("spec.healthCheckNodePort"))
    );
    assert!(!a.node_port_allocator().is_allocated(30600));
}

#[test]
fn alloc_16_17_traffic_policies_and_affinity() {
    let mut a = admission(&["10.96.0.0/16"]);
    // externalTrafficPolicy only for externally accessible Services.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"externalTrafficPolicy": "Local", "ports": [{"port": 80}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("invalid", Some("spec.externalTrafficPolicy"))
    );
    let s = create(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"externalIPs": ["192.168.0.200"], "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(s.spec.external_traffic_policy.unwrap().as_str(), "Cluster");
    // ClientIP: timeout defaults to 10800 and must be in (0, 86400].
    let s = create(
        &mut a,
        json!({"metadata": {"name": "c"}, "spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}),
    )
    .unwrap();
    let timeout = s
        .spec
        .session_affinity_config
        .unwrap()
        .client_ip
        .unwrap()
        .timeout_seconds;
    assert_eq!(timeout, Some(10800));
    for t in [0, 86401] {
        let e = err(
            &mut a,
            json!({"metadata": {"name": "d"}, "spec": {"sessionAffinity": "ClientIP",
                   "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": t}}, "ports": [{"port": 80}]}}),
        );
        assert_eq!(
            e.field(),
            Some("spec.sessionAffinityConfig.clientIP.timeoutSeconds"),
            "{t}"
        );
    }
    // Special external IPs are refused.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "e"}, "spec": {"externalIPs": ["10.0.0.1", "127.0.0.1"], "ports": [{"port": 80}]}}),
    );
    assert_eq!(e.field(), Some("spec.externalIPs[1]"));
}

#[test]
fn metadata_validation() {
    let mut a = admission(&["10.96.0.0/16"]);
    for (meta, field) in [
        (json!({}), "metadata.name"),
        (json!({"name": "1web"}), "metadata.name"), // DNS-1035 label
        (
            json!({"name": "web", "namespace": "Shop"}),
            "metadata.namespace",
        ),
        (
            json!({"name": "web", "labels": {"a": "-x"}}),
            "metadata.labels",
        ),
    ] {
        let e = err(
            &mut a,
            json!({"metadata": meta, "spec": {"ports": [{"port": 80}]}}),
        );
        assert_eq!(e.field(), Some(field), "{meta}");
    }
    assert_eq!(a.ip_allocator().primary().used(), 1, "only 10.96.0.1");
}

// ---------------------------------------------------------- rollback

// A failed create changes nothing, not even the random state: the next
// create allocates what it would have without the failure.
#[test]
fn rollback_is_complete() {
    let spec = json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                      "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]});
    let mut clean = admission(&["10.96.0.0/16", "fd00::/112"]);
    let expected = create(
        &mut clean,
        json!({"metadata": {"name": "ok"}, "spec": spec}),
    )
    .unwrap();
    let mut a = admission(&["10.96.0.0/16", "fd00::/112"]);
    // Fails in validation, after every allocation.
    let mut bad = spec.clone();
    bad["loadBalancerClass"] = json!("-bad-");
    let e = err(&mut a, json!({"metadata": {"name": "bad"}, "spec": bad}));
    assert_eq!(e.field(), Some("spec.loadBalancerClass"));
    let got = create(&mut a, json!({"metadata": {"name": "ok"}, "spec": spec})).unwrap();
    assert_eq!(got, expected);
}

// Stored objects occupy leniently and release exactly.
#[test]
fn occupy_and_release() {
    let mut a = admission(&["10.96.0.0/24"]);
    let stored = svc(json!({"metadata": {"name": "old", "namespace": "a"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10", "fd00::1"],
                 "healthCheckNodePort": 30500,
                 "ports": [{"port": 80, "nodePort": 30080}, {"port": 81, "nodePort": 99999}]}}));
    a.occupy(&stored); // an IPv6 IP on a v4 cluster and a bad port are ignored
    a.occupy(&stored); // twice is harmless
    assert!(a.ip_allocator().is_allocated("10.96.0.10".parse().unwrap()));
    assert!(a.node_port_allocator().is_allocated(30080));
    assert!(a.node_port_allocator().is_allocated(30500));
    let e = err(
        &mut a,
        json!({"metadata": {"name": "x"}, "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}}),
    );
    assert_eq!(e.code(), "already-allocated");
    a.release(&stored);
    assert_eq!(a.node_port_allocator().used(), 0);
    create(
        &mut a,
        json!({"metadata": {"name": "x"}, "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}}),
    )
    .unwrap();
}

// Same seed, same allocations.
#[test]
fn deterministic() {
    let run = |seed| {
        let mut a = admission_seeded(&["10.96.0.0/16"], seed);
        (0..5)
            .map(|i| {
                let s = create(
                    &mut a,
                    json!({"metadata": {"name": format!("s{i}")},
                           "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
                )
                .unwrap();
                (
                    s.spec.cluster_ip.unwrap(),
                    s.spec.ports[0].node_port.unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn invalid_config() {
    for cidrs in [
        vec![],
        vec!["10.0.0.0/16", "10.1.0.0/16"],
        vec!["fd00::/60"],
    ] {
        let config = ServiceAdmissionConfig {
            service_cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
            ..ServiceAdmissionConfig::default()
        };
        let e = ServiceAdmission::new(&config).unwrap_err();
        assert_eq!(e.code(), "invalid-config", "{cidrs:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    // Never panics; a failure changes nothing.
    #[test]
    fn never_panics_and_failure_is_atomic(
        ty in prop::sample::select(vec!["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
        cluster_ip in prop::option::of(prop::sample::select(vec![
            "None", "10.96.0.1", "10.96.0.7", "10.96.255.255", "fd00::7", "bogus", "",
        ])),
        policy in prop::option::of(prop::sample::select(vec![
            "SingleStack", "PreferDualStack", "RequireDualStack",
        ])),
        ports in prop::collection::vec((1i32..100, prop::option::of(29990i32..30020), any::<bool>()), 0..4),
        local in any::<bool>(),
        hc in prop::option::of(29995i32..30010),
    ) {
        let mut a = admission(&["10.96.0.0/28", "fd00::/124"]);
        let ports: Vec<Value> = ports.iter().enumerate().map(|(i, (p, np, udp))| {
            let mut v = json!({"name": format!("p{i}"), "port": p, "protocol": if *udp { "UDP" } else { "TCP" }});
            if let Some(np) = np { v["nodePort"] = json!(np); }
            v
        }).collect();
        let mut spec = json!({"type": ty, "ports": ports, "selector": {"app": "x"}});
        if let Some(ip) = cluster_ip { spec["clusterIP"] = json!(ip); }
        if let Some(p) = policy { spec["ipFamilyPolicy"] = json!(p); }
        if local { spec["externalTrafficPolicy"] = json!("Local"); }
        if let Some(hc) = hc { spec["healthCheckNodePort"] = json!(hc); }
        if ty == "ExternalName" { spec["externalName"] = json!("db.example.com"); }
        for round in 0..3 {
            let before = snapshot(&a);
            match a.create(svc(json!({"metadata": {"name": format!("s{round}")}, "spec": spec.clone()}))) {
                Ok(s) => {
                    // Stored objects re-occupy without change.
                    let after = snapshot(&a);
                    a.occupy(&s);
                    prop_assert_eq!(snapshot(&a).0, after.0);
                }
                Err(e) => {
                    prop_assert_eq!(snapshot(&a), before);
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}

// ---------------------------------------------------------- ALLOC-18

fn node(name: &str) -> Node {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
        .unwrap()
}

fn node_config(cluster: &[&str]) -> NodeCidrConfig {
    NodeCidrConfig {
        cluster_cidrs: cluster
            .iter()
            .map(|c| IpNet::parse_truncating(c).unwrap())
            .collect(),
        ..NodeCidrConfig::default()
    }
}

#[test]
fn alloc_18_dual_stack_nodes() {
    let mut ipam =
        NodeIpam::start(&node_config(&["10.244.0.0/16", "fd00:10:244::/56"]), &[]).unwrap();
    let mut n = node("n1");
    let got = ipam.add(&mut n).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(n.spec.pod_cidrs, ["10.244.0.0/24", "fd00:10:244::/64"]);
    assert_eq!(n.spec.pod_cidr.as_deref(), Some("10.244.0.0/24"));
}

#[test]
fn alloc_18_existing_nodes_and_exhaustion() {
    let existing: Node = serde_json::from_value(json!({"metadata": {"name": "old"},
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}}))
    .unwrap();
    let mut ipam = NodeIpam::start(&node_config(&["10.244.0.0/23"]), &[existing]).unwrap();
    let mut n1 = node("n1");
    assert_eq!(ipam.add(&mut n1).unwrap()[0].to_string(), "10.244.1.0/24");
    let mut n2 = node("n2");
    let e = ipam.add(&mut n2).unwrap_err();
    assert_eq!(e.code(), "cidr-not-available");
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert!(n2.spec.pod_cidrs.is_empty() && n2.spec.pod_cidr.is_none());
    // A Node added with its CIDRs occupies them.
    ipam.delete("old");
    let mut back: Node = serde_json::from_value(json!({"metadata": {"name": "back"},
        "spec": {"podCIDRs": ["10.244.0.0/24"]}}))
    .unwrap();
    ipam.add(&mut back).unwrap();
    assert_eq!(
        ipam.add(&mut node("n3")).unwrap_err().code(),
        "cidr-not-available"
    );
}

#[test]
fn alloc_18_refusals() {
    // A node mask shorter than the cluster mask.
    let mut c = node_config(&["10.244.0.0/16"]);
    c.node_mask_ipv4 = 15;
    assert_eq!(
        NodeIpam::start(&c, &[]).unwrap_err().code(),
        "invalid-config"
    );
    // IPv4 has no 16-bit limit.
    let mut c = node_config(&["10.0.0.0/8"]);
    c.node_mask_ipv4 = 25;
    assert!(NodeIpam::start(&c, &[]).is_ok());
    // An existing node outside the cluster CIDR stops the controller.
    let stray: Node = serde_json::from_value(json!({"metadata": {"name": "stray"},
        "spec": {"podCIDRs": ["10.99.0.0/24"]}}))
    .unwrap();
    let e = NodeIpam::start(&node_config(&["10.244.0.0/16"]), &[stray]).unwrap_err();
    assert_eq!(e.code(), "invalid-config");
    // A node needs a name.
    let mut ipam = NodeIpam::start(&node_config(&["10.244.0.0/16"]), &[]).unwrap();
    let e = ipam.add(&mut node("")).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid", Some("metadata.name")));
}

// ---------------------------------------------------------- updates

fn update(
    a: &mut ServiceAdmission,
    old: &Service,
    value: Value,
) -> Result<Service, AdmissionError> {
    a.update(old, svc(value))
}

// Resubmitting the manifest keeps what the server allocated.
#[test]
fn update_resubmit_keeps_allocations() {
    let mut a = admission(&["10.96.0.0/16"]);
    let manifest = json!({"metadata": {"name": "w"}, "spec": {"type": "LoadBalancer",
        "externalTrafficPolicy": "Local", "ports": [{"name": "http", "port": 80}]}});
    let v1 = create(&mut a, manifest.clone()).unwrap();
    let before = snapshot(&a);
    let v2 = update(&mut a, &v1, manifest).unwrap();
    assert_eq!(v2, v1);
    assert_eq!(snapshot(&a), before);
}

// ALLOC-8, ALLOC-12: NodePort → ClusterIP releases the node ports and
// clears them; ClusterIP → NodePort allocates.
#[test]
fn update_type_changes_node_ports() {
    let mut a = admission(&["10.96.0.0/16"]);
    let v1 = create(
        &mut a,
        json!({"metadata": {"name": "w"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
    )
    .unwrap();
    let np = v1.spec.ports[0].node_port.unwrap();
    let mut body = serde_json::to_value(&v1).unwrap();
    body["spec"]["type"] = json!("ClusterIP");
    let v2 = update(&mut a, &v1, body).unwrap();
    assert_eq!(v2.spec.ports[0].node_port, None);
    assert_eq!(v2.spec.external_traffic_policy, None);
    assert!(
        !a.node_port_allocator()
            .is_allocated(u16::try_from(np).unwrap())
    );
    assert_eq!(v2.spec.cluster_ip, v1.spec.cluster_ip);
    let mut body = serde_json::to_value(&v2).unwrap();
    body["spec"]["type"] = json!("NodePort");
    let v3 = update(&mut a, &v2, body).unwrap();
    assert!(v3.spec.ports[0].node_port.is_some());
    assert_eq!(a.node_port_allocator().used(), 1);
}

// ALLOC-7: ExternalName ↔ ClusterIP releases and allocates cluster IPs.
#[test]
fn update_external_name_round_trip() {
    let mut a = admission(&["10.96.0.0/16"]);
    let v1 = create(
        &mut a,
        json!({"metadata": {"name": "w"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .unwrap();
    let ip0 = ip(&v1, 0);
    let v2 = update(
        &mut a,
        &v1,
        json!({"metadata": {"name": "w"}, "spec": {"type": "ExternalName",
               "externalName": "db.example.com", "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(v2.spec.cluster_ips, None);
    assert!(v2.spec.ip_families.is_empty());
    assert!(!a.ip_allocator().is_allocated(ip0));
    let v3 = update(
        &mut a,
        &v2,
        json!({"metadata": {"name": "w"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert!(a.ip_allocator().is_allocated(ip(&v3, 0)));
    assert_eq!(v3.spec.ip_family_policy, Some(IPFamilyPolicy::SingleStack));
}

// ALLOC-7 and ALLOC-15: immutable primary IP and health-check port; a
// failed update changes nothing.
#[test]
fn update_immutables() {
    let mut a = admission(&["10.96.0.0/16", "fd00:10:96::/112"]);
    let v1 = create(
        &mut a,
        json!({"metadata": {"name": "w"}, "spec": {"type": "LoadBalancer",
               "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}}),
    )
    .unwrap();
    let before = snapshot(&a);
    let mut body = serde_json::to_value(&v1).unwrap();
    body["spec"]["clusterIP"] = json!("10.96.0.99");
    body["spec"]["clusterIPs"] = json!(["10.96.0.99"]);
    let e = update(&mut a, &v1, body).unwrap_err();
    assert_eq!(e.field(), Some("spec.clusterIPs[0]"));
    assert_eq!(snapshot(&a), before);
    let mut body = serde_json::to_value(&v1).unwrap();
    body["spec"]["healthCheckNodePort"] = json!(30555);
    let e = update(&mut a, &v1, body).unwrap_err();
    assert_eq!(e.field(), Some("spec.healthCheckNodePort"));
    assert_eq!(e.field_errors()[0].reason, FieldReason::Forbidden);
    assert_eq!(snapshot(&a), before);
    // Dropping the secondary family needs SingleStack.
    let v2 = update(
        &mut a,
        &v1,
        json!({"metadata": {"name": "w"}, "spec": {"type": "LoadBalancer",
               "ipFamilyPolicy": "PreferDualStack", "externalTrafficPolicy": "Local",
               "ports": [{"port": 80}]}}),
    )
    .unwrap();
    assert_eq!(v2.spec.ip_families.len(), 2);
    let mut body = serde_json::to_value(&v2).unwrap();
    body["spec"]["clusterIPs"] = json!([v2.spec.cluster_ips.as_ref().unwrap()[0]]);
    let e = update(&mut a, &v2, body).unwrap_err();
    assert_eq!(e.field(), Some("spec.ipFamilyPolicy"));
    // Local → Cluster releases the health-check port.
    let hc = u16::try_from(v2.spec.health_check_node_port.unwrap()).unwrap();
    let mut body = serde_json::to_value(&v2).unwrap();
    body["spec"]["externalTrafficPolicy"] = json!("Cluster");
    let v3 = update(&mut a, &v2, body).unwrap();
    assert_eq!(v3.spec.health_check_node_port, None);
    assert!(!a.node_port_allocator().is_allocated(hc));
}

// ALLOC-10: node ports are allocated in port order, so a value that is not
// even a port number is reported only when its entry is reached.
#[test]
fn alloc_10_error_order() {
    let mut a = admission(&["10.96.0.0/16"]);
    create(
        &mut a,
        json!({"metadata": {"name": "a"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30010}]}}),
    )
    .unwrap();
    let e = err(
        &mut a,
        json!({"metadata": {"name": "b"}, "spec": {"type": "NodePort", "ports": [
            {"name": "p", "port": 80, "nodePort": 30010}, {"name": "q", "port": 81, "nodePort": 70000}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("already-allocated", Some("spec.ports[0].nodePort"))
    );
    // A port without a nodePort inherits its twin's unusable value.
    let e = err(
        &mut a,
        json!({"metadata": {"name": "c"}, "spec": {"type": "NodePort", "ports": [
            {"name": "p", "port": 53}, {"name": "q", "port": 53, "protocol": "UDP", "nodePort": 70000}]}}),
    );
    assert_eq!(
        (e.code(), e.field()),
        ("not-in-range", Some("spec.ports[0].nodePort"))
    );
    assert!(e.to_string().contains("70000"), "{e}");
    assert_eq!(a.node_port_allocator().used(), 1);
}
