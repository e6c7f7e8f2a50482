//! Nothing lost (issue 13): random sequences of valid and invalid batches
//! (Services of every type with and without requested cluster IPs and
//! nodePorts, Pods, Nodes, Deployments, Endpoints, EndpointSlices, deletes)
//! applied to a [`Cluster`].
//!
//! * After every refused batch the whole state is identical to before: the
//!   canonical JSON of every object of every kind (EndpointSlices and
//!   controller output included), the allocators (observable: the next
//!   Service with nothing requested gets the same cluster IP and nodePort
//!   as on a clone taken before the batch), the DNS answers for every
//!   Service name, and the route decisions for every (cluster IP, port).
//! * Incremental equals from scratch: after the sequence, the DNS kept up
//!   to date with `Dns::update` answers like `Dns::new` on the final
//!   cluster, the Dataplane kept up to date with `Dataplane::patch` routes
//!   like `Dataplane::compile`, and a cluster built in one batch from the
//!   final objects publishes the same endpoints, DNS answers and routes.
//!
//! The from-scratch cluster is fed the stored objects as they are (Services
//! with their allocated IPs and nodePorts, the ReplicaSets and Pods the
//! workload controllers made), minus the EndpointSlices the slice
//! controller wrote: allocation order and generated slice names may differ
//! legitimately between the two paths, so slices are compared by what they
//! publish (endpoint, conditions, placement, ports), not by name.
//!
//! "Valid" batches may still be refused (an update may touch an immutable
//! field such as a Service's cluster IP); those are held to the same rule.
//! The deliberately invalid batches must be refused.
//!
//! `cargo test -p svcroute-tests --test nothing_lost` (`NOTHING_LOST_DEBUG=1`
//! with `--nocapture` prints why each batch was refused).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::SocketAddr;

use proptest::prelude::*;
use serde_json::{Value, json};
use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::cluster::{CONTROLLER_NAME, Cluster, ClusterConfig, ProxyMode};
use svcroute::dataplane::{Dataplane, Destination, Millis, Protocol, Request, RouteState, Source};
use svcroute::dns::{Dns, DnsConfig, RecordType};
use svcroute::labels::Selector;

const NS: [&str; 2] = ["a", "b"];
const APPS: [&str; 2] = ["web", "db"];

#[derive(Debug, Clone)]
enum Op {
    Pod(usize, usize, usize, usize, bool),
    /// ns, name, type (0 ClusterIP, 1 NodePort, 2 LoadBalancer,
    /// 3 ExternalName, 4 headless, 5 no selector), app, request IP,
    /// request nodePort.
    Service(usize, usize, usize, usize, bool, bool),
    Node(usize),
    Deployment(usize, usize, usize, usize),
    Endpoints(usize, usize, usize),
    EndpointSlice(usize, usize, usize),
    Delete(usize, usize, usize, usize),
    /// A batch with a deliberate error: which error, and valid ops in front
    /// (whose allocations must be rolled back).
    Invalid(usize, Vec<Op>),
}

fn valid_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..2usize, 0..6usize, 0..2usize, 0..3usize, any::<bool>())
            .prop_map(|(n, p, a, node, r)| Op::Pod(n, p, a, node, r)),
        4 => (0..2usize, 0..4usize, 0..6usize, 0..2usize, any::<bool>(), any::<bool>())
            .prop_map(|(n, s, t, a, ip, np)| Op::Service(n, s, t, a, ip, np)),
        1 => (1..3usize).prop_map(Op::Node),
        2 => (0..2usize, 0..2usize, 0..2usize, 0..3usize).prop_map(|(n, d, a, r)| Op::Deployment(n, d, a, r)),
        1 => (0..2usize, 0..4usize, 0..3usize).prop_map(|(n, s, c)| Op::Endpoints(n, s, c)),
        1 => (0..2usize, 0..4usize, 0..3usize).prop_map(|(n, s, c)| Op::EndpointSlice(n, s, c)),
        3 => (0..5usize, 0..2usize, 0..6usize, 1..3usize).prop_map(|(k, n, x, node)| Op::Delete(k, n, x, node)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => valid_op(),
        2 => (0..6usize, proptest::collection::vec(valid_op(), 0..3)).prop_map(|(e, v)| Op::Invalid(e, v)),
    ]
}

fn obj(v: Value) -> Object {
    serde_json::from_value(v).expect("generated object")
}

fn pod(ns: usize, name: usize, app: usize, node: usize, ready: bool) -> Value {
    let ip = format!("10.244.{}.{}", ns + 1, 10 + name);
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("p{name}"), "namespace": NS[ns], "labels": {"app": APPS[app]}},
        "spec": {"nodeName": format!("n{node}"), "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

fn service(ns: usize, name: usize, kind: usize, app: usize, ip: bool, np: bool) -> Value {
    let id = ns * 10 + name;
    let mut port = json!({"name": "http", "port": 80, "targetPort": "http"});
    let mut spec = json!({"selector": {"app": APPS[app]}});
    match kind {
        1 | 2 => {
            spec["type"] = json!(if kind == 1 {
                "NodePort"
            } else {
                "LoadBalancer"
            });
            if np {
                port["nodePort"] = json!(30_100 + id);
            }
        }
        3 => {
            spec = json!({"type": "ExternalName", "externalName": format!("db{id}.example.com")});
        }
        4 => spec["clusterIP"] = json!("None"),
        5 => spec = json!({}),
        _ => {}
    }
    if ip && matches!(kind, 0 | 1 | 2 | 5) {
        let a = format!("10.96.100.{}", 10 + id);
        spec["clusterIP"] = json!(a);
        spec["clusterIPs"] = json!([a]);
    }
    if kind != 3 {
        spec["ports"] = json!([port]);
    }
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("s{name}"), "namespace": NS[ns]}, "spec": spec})
}

fn deployment(ns: usize, name: usize, app: usize, replicas: usize, template_app: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("d{name}"), "namespace": NS[ns]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": APPS[app]}},
                 "template": {"metadata": {"labels": {"app": APPS[template_app]}},
                              "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]}}}})
}

fn objects_of(op: &Op) -> Vec<Object> {
    let v = match *op {
        Op::Pod(n, p, a, node, r) => pod(n, p, a, node, r),
        Op::Service(n, s, t, a, ip, np) => service(n, s, t, a, ip, np),
        Op::Node(n) => {
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("n{n}")},
            "status": {"allocatable": {"cpu": "4", "pods": "20"}, "conditions": [{"type": "Ready", "status": "True"}]}})
        }
        Op::Deployment(n, d, a, r) => deployment(n, d, a, r, a),
        Op::Endpoints(n, s, c) => {
            let addresses: Vec<Value> = (0..c)
                .map(|i| json!({"ip": format!("192.0.2.{i}")}))
                .collect();
            json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": format!("s{s}"), "namespace": NS[n]},
                "subsets": [{"addresses": addresses, "ports": [{"name": "http", "port": 443}]}]})
        }
        Op::EndpointSlice(n, s, c) => {
            let endpoints: Vec<Value> = (0..c)
                .map(|i| json!({"addresses": [format!("198.51.100.{i}")], "conditions": {"ready": true}}))
                .collect();
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": format!("s{s}-manual"), "namespace": NS[n],
                             "labels": {"kubernetes.io/service-name": format!("s{s}"),
                                        "endpointslice.kubernetes.io/managed-by": "nothing-lost-test"}},
                "addressType": "IPv4", "endpoints": endpoints,
                "ports": [{"name": "http", "port": 8443, "protocol": "TCP"}]})
        }
        Op::Delete(..) | Op::Invalid(..) => unreachable!("not an object"),
    };
    vec![obj(v)]
}

/// The deliberately invalid objects of an `Invalid` batch against `c`.
fn invalid(which: usize, c: &Cluster) -> Vec<Object> {
    let taken = c
        .list(Kind::Service, None, &Selector::everything())
        .into_iter()
        .filter_map(|o| {
            let v = serde_json::to_value(o).ok()?;
            let ip = v["spec"]["clusterIP"].as_str()?.to_owned();
            (ip != "None").then_some(ip)
        })
        .next();
    match which {
        // A Service that allocates, then one asking for a cluster IP an
        // existing Service holds (ALLOC): the first allocation is undone.
        5 if taken.is_some() => {
            let mut fresh = service(1, 9, 1, 0, false, false);
            fresh["metadata"]["name"] = json!("fresh");
            let mut thief = service(0, 9, 0, 0, false, false);
            thief["metadata"]["name"] = json!("thief");
            thief["spec"]["clusterIP"] = json!(taken);
            vec![obj(fresh), obj(thief)]
        }
        // Two new Services asking for the same cluster IP (ALLOC).
        0 | 5 => {
            let mut a = service(0, 8, 0, 0, false, false);
            a["metadata"]["name"] = json!("clash-1");
            a["spec"]["clusterIP"] = json!("10.96.200.1");
            let mut b = a.clone();
            b["metadata"]["name"] = json!("clash-2");
            vec![obj(a), obj(b)]
        }
        // A nodePort outside the range.
        1 => {
            let mut s = service(1, 8, 1, 0, false, false);
            s["spec"]["ports"][0]["nodePort"] = json!(20_000);
            vec![obj(s)]
        }
        // A selector whose value is not a label value.
        2 => {
            let mut s = service(0, 9, 0, 0, false, false);
            s["spec"]["selector"] = json!({"app": "not a label value!"});
            vec![obj(s)]
        }
        // No name.
        3 => {
            let mut p = obj(pod(1, 9, 0, 0, true));
            p.metadata_mut().name = None;
            vec![p]
        }
        // A Deployment whose selector does not match its template.
        _ => vec![obj(deployment(0, 7, 0, 2, 1))],
    }
}

fn keys_of_delete(c: &Cluster, op: &Op) -> Option<ObjectKey> {
    let Op::Delete(k, n, x, node) = *op else {
        return None;
    };
    let kinds = [
        Kind::Pod,
        Kind::Service,
        Kind::Deployment,
        Kind::Endpoints,
        Kind::Node,
    ];
    let kind = kinds[k];
    let (ns, name) = match kind {
        Kind::Node => (None, format!("n{node}")),
        Kind::Deployment => (Some(NS[n]), format!("d{}", x % 2)),
        Kind::Pod => (Some(NS[n]), format!("p{x}")),
        _ => (Some(NS[n]), format!("s{}", x % 4)),
    };
    let key = ObjectKey {
        kind,
        namespace: ns.map(str::to_owned),
        name,
    };
    c.get(&key).is_some().then_some(key)
}

fn config() -> ClusterConfig {
    ClusterConfig {
        bootstrap: false,
        ..ClusterConfig::default()
    }
}

/// The fixed world every sequence starts from: a node and a client pod.
fn base() -> Vec<Object> {
    vec![
        obj(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n0"},
            "status": {"allocatable": {"cpu": "4", "pods": "20"}, "conditions": [{"type": "Ready", "status": "True"}]}}),
        ),
        obj(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "client", "namespace": "c", "labels": {"role": "client"}},
            "spec": {"nodeName": "n0", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "podIP": "10.244.9.9", "podIPs": [{"ip": "10.244.9.9"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}})),
    ]
}

fn all_objects(c: &Cluster) -> Vec<Object> {
    Kind::ALL
        .iter()
        .flat_map(|&k| c.list(k, None, &Selector::everything()))
        .map(Cow::into_owned)
        .collect()
}

/// Every object of every kind as canonical JSON.
fn canonical(c: &Cluster) -> Vec<String> {
    all_objects(c)
        .iter()
        .map(|o| serde_json::to_string(o).expect("serialize"))
        .collect()
}

/// What the allocators hand out next: the cluster IP and nodePort of a
/// fresh NodePort Service that asks for neither.
fn next_allocation(c: &Cluster) -> (Value, Value) {
    let mut c = c.clone();
    let mut s = service(0, 0, 1, 0, false, false);
    s["metadata"]["name"] = json!("probe");
    s["metadata"]["namespace"] = json!("probe");
    c.apply(obj(s)).expect("probe Service");
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some("probe".into()),
        name: "probe".into(),
    };
    let v = serde_json::to_value(c.get(&key).expect("probe stored")).expect("json");
    (
        v["spec"]["clusterIP"].clone(),
        v["spec"]["ports"][0]["nodePort"].clone(),
    )
}

/// Service names and (cluster IP, port) pairs of every Service in `c`.
fn services(c: &Cluster) -> (Vec<String>, Vec<SocketAddr>) {
    let mut names = Vec::new();
    let mut vips = Vec::new();
    for o in c.list(Kind::Service, None, &Selector::everything()) {
        let v = serde_json::to_value(o).expect("json");
        let (ns, name) = (
            v["metadata"]["namespace"].as_str().unwrap_or(""),
            v["metadata"]["name"].as_str().unwrap_or(""),
        );
        names.push(format!("{name}.{ns}.svc.cluster.local."));
        if let Some(ip) = v["spec"]["clusterIP"].as_str().and_then(|s| s.parse().ok()) {
            for p in v["spec"]["ports"].as_array().into_iter().flatten() {
                if let Some(port) = p["port"].as_u64() {
                    vips.push(SocketAddr::new(ip, port as u16));
                }
            }
        }
    }
    names.push("nope.a.svc.cluster.local.".into());
    (names, vips)
}

fn dns_answers(dns: &Dns, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        for (q, t) in [
            (n.clone(), RecordType::A),
            (n.clone(), RecordType::Aaaa),
            (format!("_http._tcp.{n}"), RecordType::Srv),
        ] {
            let mut a = format!("{:?}", dns.query(&q, t));
            // Record order within an answer is not part of the contract.
            if let Ok(ans) = dns.query(&q, t) {
                let mut recs: Vec<String> = ans.answer.iter().map(|r| format!("{r:?}")).collect();
                recs.sort();
                a = format!("{:?} {recs:?}", ans.outcome);
            }
            out.push(format!("{q} {t:?}: {a}"));
        }
    }
    out
}

/// Every route decision's outcome and endpoint set, from the client pod.
fn routes(dp: &Dataplane, vips: &[SocketAddr]) -> Vec<String> {
    vips.iter()
        .map(|vip| {
            let d = dp.route(
                &Request {
                    source: Source::Pod {
                        namespace: "c".into(),
                        name: "client".into(),
                    },
                    destination: Destination::Ip(*vip),
                    protocol: Protocol::Tcp,
                },
                &mut RouteState::new(1),
                Millis(0),
            );
            match d {
                Ok(d) => {
                    let mut eps: Vec<String> =
                        d.endpoints.iter().map(ToString::to_string).collect();
                    eps.sort();
                    format!("{vip}: {:?} {eps:?}", d.outcome)
                }
                Err(e) => format!("{vip}: error {e}"),
            }
        })
        .collect()
}

/// What the published endpoints say, independent of slice names and of
/// how endpoints are packed into slices.
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
        for ep in &s.endpoints {
            out.insert(format!(
                "{}/{} {} {:?} {:?} {:?} {ports:?}",
                s.metadata.namespace.as_deref().unwrap_or(""),
                s.service_name().unwrap_or(""),
                s.address_type,
                ep.addresses,
                ep.conditions,
                ep.node_name,
            ));
        }
    }
    for o in c.list(Kind::Endpoints, None, &Selector::everything()) {
        out.insert(format!(
            "{}",
            serde_json::to_value(o).expect("json")["subsets"]
        ));
    }
    out
}

fn dns_config() -> DnsConfig {
    DnsConfig::for_cluster(&config())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn refused_batches_change_nothing_and_incremental_equals_from_scratch(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let mut c = Cluster::new(config()).unwrap();
        c.apply_batch(base()).unwrap();
        let mut dns = Dns::new(&c, dns_config()).unwrap();
        let mut dp = Dataplane::compile(&c, ProxyMode::Nftables);
        let mut refused_invalid = 0;
        let mut refused_valid = 0;
        for op in &ops {
            let before = c.clone();
            let result = match op {
                Op::Delete(..) => match keys_of_delete(&c, op) {
                    Some(k) => c.delete(&k),
                    None => continue,
                },
                Op::Invalid(which, valid) => {
                    let mut batch: Vec<Object> = valid
                        .iter()
                        .filter(|v| !matches!(v, Op::Delete(..)))
                        .flat_map(objects_of)
                        .collect();
                    let bad = invalid(*which, &c);
                    if *which == 5 {
                        // The thief goes before the valid objects: one of
                        // them may legitimately release the IP it asks for
                        // (a Service turned ExternalName).
                        batch.splice(0..0, bad);
                    } else {
                        batch.extend(bad);
                    }
                    let r = c.apply_batch(batch);
                    prop_assert!(r.is_err(), "invalid batch {} accepted", which);
                    if let (Err(e), Ok(_)) = (&r, std::env::var("NOTHING_LOST_DEBUG")) {
                        eprintln!("invalid {which}: {e}");
                    }
                    refused_invalid += 1;
                    r
                }
                v => c.apply_batch(objects_of(v)),
            };
            match result {
                Ok(changes) => {
                    dns.update(&c, &changes);
                    dp.patch(&c, &changes);
                }
                Err(e) => {
                    if !matches!(op, Op::Invalid(..)) {
                        refused_valid += 1;
                        if std::env::var("NOTHING_LOST_DEBUG").is_ok() {
                            eprintln!("refused {op:?}: {e}");
                        }
                    }
                    // Objects, slices and controller output: identical.
                    prop_assert_eq!(canonical(&c), canonical(&before), "after refused {:?}", op);
                    // Allocators: the next allocation is the same.
                    prop_assert_eq!(next_allocation(&c), next_allocation(&before));
                    // DNS and routes: what the cluster publishes now equals
                    // what was published before the batch.
                    let (names, vips) = services(&before);
                    prop_assert_eq!(
                        dns_answers(&Dns::new(&c, dns_config()).unwrap(), &names),
                        dns_answers(&dns, &names)
                    );
                    prop_assert_eq!(
                        routes(&Dataplane::compile(&c, ProxyMode::Nftables), &vips),
                        routes(&dp, &vips)
                    );
                }
            }
        }
        if std::env::var("NOTHING_LOST_DEBUG").is_ok() {
            eprintln!("ops {} refused-invalid {refused_invalid} refused-valid {refused_valid} objects {} vips {}",
                ops.len(), all_objects(&c).len(), services(&c).1.len());
        }

        // Incremental (update/patch along the way) equals built at the end.
        let (names, vips) = services(&c);
        let dns_now = dns_answers(&dns, &names);
        let routes_now = routes(&dp, &vips);
        prop_assert_eq!(&dns_now, &dns_answers(&Dns::new(&c, dns_config()).unwrap(), &names));
        prop_assert_eq!(&routes_now, &routes(&Dataplane::compile(&c, ProxyMode::Nftables), &vips));

        // And equals a cluster built from the final objects in one batch.
        let inputs: Vec<Object> = all_objects(&c)
            .into_iter()
            .filter(|o| {
                !(o.kind() == Kind::EndpointSlice
                    && o.metadata().labels.get("endpointslice.kubernetes.io/managed-by").map(String::as_str)
                        == Some(CONTROLLER_NAME))
            })
            .collect();
        let mut fresh = Cluster::new(config()).unwrap();
        fresh.apply_batch(inputs).unwrap();
        prop_assert_eq!(endpoint_view(&fresh), endpoint_view(&c));
        prop_assert_eq!(&dns_answers(&Dns::new(&fresh, dns_config()).unwrap(), &names), &dns_now);
        prop_assert_eq!(&routes(&Dataplane::compile(&fresh, ProxyMode::Nftables), &vips), &routes_now);
    }
}
