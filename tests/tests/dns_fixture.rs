//! The cluster the `dns_*` tests ask (shared with `#[path]`); as a test
//! target of its own it only checks that the fixture loads.

#![allow(dead_code)]

use svcroute::api::Object;
use svcroute::cluster::{Cluster, ClusterConfig};
use svcroute::dns::{Answer, Dns, DnsConfig, RecordType};

/// Namespaces `shop`, `payments`, `kube-system`, `com`; Services of every
/// kind with hand-written EndpointSlices (controller off).
pub const OBJECTS: &str = r#"[
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}},
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "com"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
  "spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "example", "namespace": "com"},
  "spec": {"clusterIPs": ["10.96.30.1"], "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
  "spec": {"clusterIPs": ["10.96.0.20"], "selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"port": 9000, "protocol": "UDP"}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dual", "namespace": "shop"},
  "spec": {"clusterIPs": ["10.96.0.21", "fd00::21"], "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty", "namespace": "shop"},
  "spec": {"clusterIPs": ["10.96.0.22"], "selector": {"app": "none"}, "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
  "spec": {"clusterIPs": ["None"], "selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bare", "namespace": "shop"},
  "spec": {"clusterIPs": ["None"], "selector": {"app": "bare"}}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gone", "namespace": "shop"},
  "spec": {"clusterIPs": ["None"], "selector": {"app": "gone"}, "ports": [{"name": "p", "port": 1}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
  "spec": {"type": "ExternalName", "externalName": "db.example.org"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "alias", "namespace": "shop"},
  "spec": {"type": "ExternalName", "externalName": "web.shop.svc.cluster.local"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dangling", "namespace": "shop"},
  "spec": {"type": "ExternalName", "externalName": "nope.shop.svc.cluster.local"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ip-alias", "namespace": "shop"},
  "spec": {"type": "ExternalName", "externalName": "192.0.2.10"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend", "namespace": "payments"},
  "spec": {"clusterIPs": ["10.96.20.1"], "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hidden", "namespace": "payments"},
  "spec": {"clusterIPs": ["10.96.20.2"], "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
  "status": {"phase": "Running", "podIP": "10.244.1.10", "podIPs": [{"ip": "10.244.1.10"}, {"ip": "fd00:244::10"}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "web-a", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": true}, "targetRef": {"kind": "Pod", "name": "web-1"}},
                {"addresses": ["10.244.1.11"], "conditions": {"ready": false}}],
  "ports": [{"name": "http", "port": 8080}]},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "db-a", "namespace": "shop", "labels": {"kubernetes.io/service-name": "db"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["10.244.1.50"], "hostname": "db-0", "conditions": {"ready": true}},
                {"addresses": ["10.244.2.51"], "hostname": "db-1"},
                {"addresses": ["10.244.3.52"], "hostname": "db-2", "conditions": {"ready": false}}],
  "ports": [{"name": "pg", "port": 5432}]},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "db-b", "namespace": "shop", "labels": {"kubernetes.io/service-name": "db"}},
  "addressType": "IPv6",
  "endpoints": [{"addresses": ["fd00:244::50"], "hostname": "db-0"}],
  "ports": [{"name": "pg", "port": 5432}]},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "bare-a", "namespace": "shop", "labels": {"kubernetes.io/service-name": "bare"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["10.244.4.1"]}], "ports": []},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "gone-a", "namespace": "shop", "labels": {"kubernetes.io/service-name": "gone"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["10.244.5.1"], "conditions": {"ready": false}}], "ports": [{"name": "p", "port": 1}]}
]"#;

/// The fixture cluster.
pub fn cluster() -> Cluster {
    let objects: Vec<Object> = serde_json::from_str(OBJECTS).expect("fixture");
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        endpoint_slice_controller: false,
        ..ClusterConfig::default()
    })
    .expect("config");
    c.apply_batch(objects).expect("objects");
    c
}

/// DNS over the fixture with these options.
pub fn dns_with(f: impl FnOnce(&mut DnsConfig)) -> Dns {
    let c = cluster();
    let mut cfg = DnsConfig::for_cluster(c.config());
    f(&mut cfg);
    Dns::new(&c, cfg).expect("dns")
}

/// DNS over the fixture with the defaults.
pub fn dns() -> Dns {
    dns_with(|_| {})
}

/// The records of an answer as strings.
pub fn strings(records: &[svcroute::dns::Record]) -> Vec<String> {
    let mut v: Vec<String> = records.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

/// Asks, panicking on an invalid name.
pub fn ask(dns: &Dns, name: &str, qtype: RecordType) -> Answer {
    dns.query(name, qtype).expect("valid name")
}

#[test]
fn fixture_loads() {
    let d = dns();
    assert_eq!(d.config().zone, "cluster.local.");
}
