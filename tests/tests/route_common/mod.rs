//! A small cluster for the routing tests: three nodes in two zones, pods,
//! and helpers to route from JSON-described requests.

#![allow(dead_code)]

use serde_json::{Value, json};
use svcroute::api::Object;
use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
use svcroute::dataplane::{
    Dataplane, Decision, Destination, Millis, Protocol, Request, RouteState, Source,
};

pub fn node(name: &str, zone: &str, ip: &str, cidr: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
           "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
           "status": {"addresses": [{"type": "InternalIP", "address": ip}],
                      "conditions": [{"type": "Ready", "status": "True"}]}})
}

pub fn pod(ns: &str, name: &str, app: &str, node: &str, ip: &str, ready: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
           "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
           "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                      "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
}

pub fn terminating(mut pod: Value) -> Value {
    pod["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    pod
}

pub fn service(ns: &str, name: &str, app: &str, ip: &str, extra: Value) -> Value {
    let mut spec = json!({"clusterIP": ip, "clusterIPs": [ip], "selector": {"app": app},
                          "ports": [{"name": "http", "port": 80, "targetPort": "http"}]});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// Nodes a (zone-a), b (zone-a), c (zone-b); namespace `shop`; clients on a and c.
pub fn base() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        node("node-a", "zone-a", "192.168.0.10", "10.244.0.0/24"),
        node("node-b", "zone-a", "192.168.0.11", "10.244.1.0/24"),
        node("node-c", "zone-b", "192.168.0.12", "10.244.2.0/24"),
        pod("shop", "client-a", "client", "node-a", "10.244.0.50", true),
        pod("shop", "client-c", "client", "node-c", "10.244.2.50", true),
    ]
}

pub fn cluster(objects: Vec<Value>) -> Cluster {
    cluster_with(
        objects,
        ClusterConfig {
            bootstrap: false,
            ..Default::default()
        },
    )
}

/// A cluster of `objects` under `config`.
pub fn cluster_with(objects: Vec<Value>, config: ClusterConfig) -> Cluster {
    let mut c = Cluster::new(config).expect("config");
    let objects: Vec<Object> = objects
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("object"))
        .collect();
    c.apply_batch(objects).expect("apply");
    c
}

pub fn from_pod(ns_name: &str) -> Source {
    let (ns, name) = ns_name.split_once('/').expect("ns/name");
    Source::Pod {
        namespace: ns.into(),
        name: name.into(),
    }
}

pub fn external(ip: &str, node: &str) -> Source {
    Source::External {
        ip: ip.parse().expect("ip"),
        arrives_at: Some(node.into()),
    }
}

pub fn to(addr: &str) -> Destination {
    Destination::Ip(addr.parse().expect("socket address"))
}

pub fn route(dp: &Dataplane, source: Source, destination: Destination) -> Decision {
    route_at(
        dp,
        &mut RouteState::new(1),
        source,
        destination,
        Protocol::Tcp,
        0,
    )
}

pub fn route_at(
    dp: &Dataplane,
    state: &mut RouteState,
    source: Source,
    destination: Destination,
    protocol: Protocol,
    secs: u64,
) -> Decision {
    dp.route(
        &Request {
            source,
            destination,
            protocol,
        },
        state,
        Millis::from_secs(secs),
    )
    .expect("route")
}

pub fn eps(d: &Decision) -> Vec<String> {
    d.endpoints.iter().map(ToString::to_string).collect()
}

pub fn compile(objects: Vec<Value>, mode: ProxyMode) -> Dataplane {
    Dataplane::compile(&cluster(objects), mode)
}
