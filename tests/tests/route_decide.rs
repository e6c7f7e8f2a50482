//! `Dataplane::decide` (the trace-free decision the C door uses) answers
//! exactly as `route` for every flow kind, in every mode, with the same
//! effect on the per-pick state, and allocates nothing.

mod route_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use route_common::*;
use serde_json::{Value, json};
use svcroute::api::Kind;
use svcroute::cluster::{Cluster, ProxyMode};
use svcroute::dataplane::{
    Dataplane, Decision, Destination, Flow, Millis, Protocol, Request, RouteState, Source, Verdict,
};
use svcroute::labels::Selector;

/// Counts the allocations of the threads that ask for it.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

const MODES: [ProxyMode; 3] = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];

/// Every flow kind: cluster IPs (affinity, internalTrafficPolicy Local,
/// topology, terminating fallback, no endpoints), NodePorts and a
/// load-balancer IP with externalTrafficPolicy Local and its health check,
/// source ranges, externalIPs.
fn objects() -> Vec<Value> {
    let mut o = base();
    o.push(pod("shop", "web-1", "web", "node-a", "10.244.0.11", true));
    o.push(pod("shop", "web-2", "web", "node-b", "10.244.1.12", true));
    o.push(pod("shop", "web-3", "web", "node-c", "10.244.2.13", false));
    o.push(terminating(pod(
        "shop",
        "old-1",
        "old",
        "node-a",
        "10.244.0.21",
        true,
    )));
    o.push(pod("shop", "near-1", "near", "node-a", "10.244.0.31", true));
    o.push(pod("shop", "near-2", "near", "node-c", "10.244.2.32", true));
    o.push(service(
        "shop",
        "web",
        "web",
        "10.96.0.20",
        json!({"sessionAffinity": "ClientIP", "externalIPs": ["198.51.100.20"]}),
    ));
    o.push(service(
        "shop",
        "local",
        "web",
        "10.96.0.21",
        json!({"internalTrafficPolicy": "Local"}),
    ));
    o.push(service("shop", "old", "old", "10.96.0.22", json!({})));
    o.push(service("shop", "none", "nothing", "10.96.0.23", json!({})));
    o.push(service(
        "shop",
        "near",
        "near",
        "10.96.0.24",
        json!({"trafficDistribution": "PreferClose"}),
    ));
    let mut lb = service(
        "shop",
        "front",
        "web",
        "10.96.0.25",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
               "loadBalancerSourceRanges": ["203.0.113.0/24", "10.244.0.0/16"],
               "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}),
    );
    lb["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
    o.push(lb);
    o.push(service(
        "shop",
        "np",
        "web",
        "10.96.0.26",
        json!({"type": "NodePort",
               "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30081}]}),
    ));
    o
}

fn sources() -> Vec<Source> {
    let mut s = vec![
        from_pod("shop/client-a"),
        from_pod("shop/client-c"),
        from_pod("shop/web-1"),
        Source::Node("node-b".into()),
        Source::External {
            ip: "203.0.113.7".parse().unwrap(),
            arrives_at: None,
        },
        Source::External {
            ip: "192.0.2.7".parse().unwrap(),
            arrives_at: None,
        },
    ];
    for n in ["node-a", "node-b", "node-c"] {
        s.push(external("203.0.113.7", n));
        s.push(external("10.244.0.50", n));
    }
    s
}

/// Every address and port the Services expose, read back from the
/// cluster, and a few that are nobody's.
fn destinations(c: &Cluster) -> Vec<SocketAddr> {
    let mut d: Vec<SocketAddr> = [
        "10.96.0.20:81",
        "10.96.9.9:80",
        "192.0.2.1:80",
        "127.0.0.1:30080",
        "127.0.0.1:30099",
        "192.168.0.10:30099",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let nodes = ["192.168.0.10", "192.168.0.11", "192.168.0.12"];
    for obj in c.list(Kind::Service, None, &Selector::everything()) {
        let v = serde_json::to_value(obj).unwrap();
        let spec = &v["spec"];
        let ports: Vec<&Value> = spec["ports"].as_array().into_iter().flatten().collect();
        let mut ips: Vec<String> = Vec::new();
        for key in ["clusterIPs", "externalIPs"] {
            for ip in spec[key].as_array().into_iter().flatten() {
                ips.extend(ip.as_str().map(str::to_owned));
            }
        }
        for ing in v["status"]["loadBalancer"]["ingress"]
            .as_array()
            .into_iter()
            .flatten()
        {
            ips.extend(ing["ip"].as_str().map(str::to_owned));
        }
        for p in &ports {
            let port = p["port"].as_u64().unwrap() as u16;
            for ip in &ips {
                d.push(SocketAddr::new(ip.parse().unwrap(), port));
            }
            if let Some(np) = p["nodePort"].as_u64() {
                for n in nodes {
                    d.push(SocketAddr::new(n.parse().unwrap(), np as u16));
                }
            }
        }
        if let Some(hc) = spec["healthCheckNodePort"].as_u64() {
            for n in nodes {
                d.push(SocketAddr::new(n.parse().unwrap(), hc as u16));
            }
        }
    }
    d
}

fn summary_of_verdict(v: &Verdict<'_>) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {} {}",
        v.outcome(),
        v.packet_fate(),
        v.chosen(),
        v.eligible(),
        v.masquerade(),
        v.service().map(|s| s.to_string()),
        v.http_status(),
        v.masquerades()
    )
}

fn summary_of_decision(d: &Decision, source_ip: Option<IpAddr>) -> String {
    let masquerades = match (d.masquerade, d.chosen, source_ip) {
        (Some(svcroute::dataplane::Masquerade::Yes), Some(_), _) => true,
        (Some(svcroute::dataplane::Masquerade::IfSelf), Some(c), Some(s)) => c.ip() == s,
        _ => false,
    };
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {} {}",
        d.outcome,
        d.packet_fate,
        d.chosen,
        d.endpoints,
        d.masquerade,
        d.service,
        d.http.as_ref().map_or(0, |h| h.status),
        masquerades
    )
}

/// `route` and `decide` from two states that start equal, in lockstep:
/// the same answers and the same state afterwards (the next answers agree).
fn lockstep(dp: &Dataplane, flows: &[(Source, SocketAddr, Protocol, u64)], seed: u64) {
    let mut for_route = RouteState::new(seed);
    let mut for_decide = RouteState::new(seed);
    for (source, dest, protocol, secs) in flows {
        let req = Request {
            source: source.clone(),
            destination: Destination::Ip(*dest),
            protocol: *protocol,
        };
        let now = Millis::from_secs(*secs);
        let d = dp.route(&req, &mut for_route, now);
        let v = dp.decide(&req.flow().unwrap(), &mut for_decide, now);
        match (d, v) {
            (Ok(d), Ok(v)) => assert_eq!(
                summary_of_verdict(&v),
                summary_of_decision(&d, v.hairpin().map(|h| h.ip())),
                "{req:?} in {:?}",
                dp.mode()
            ),
            (Err(a), Err(b)) => assert_eq!(a, b),
            (d, v) => panic!("{req:?}: route {d:?}, decide {v:?}"),
        }
    }
}

fn all_flows(c: &Cluster) -> Vec<(Source, SocketAddr, Protocol, u64)> {
    let mut flows = Vec::new();
    for (t, source) in sources().into_iter().enumerate() {
        for dest in destinations(c) {
            for protocol in [Protocol::Tcp, Protocol::Udp] {
                flows.push((source.clone(), dest, protocol, t as u64 * 5000));
            }
        }
    }
    flows
}

#[test]
fn decide_equals_route_for_every_flow_kind_and_mode() {
    // KP-3..KP-20: one decision function, two sinks.
    let c = cluster(objects());
    let flows = all_flows(&c);
    assert!(flows.len() > 500, "{} flows", flows.len());
    for mode in MODES {
        let dp = Dataplane::compile(&c, mode);
        lockstep(&dp, &flows, 7);
        // Twice through, so that affinity memory (KP-19) is consulted.
        let twice: Vec<_> = flows.iter().chain(flows.iter()).cloned().collect();
        lockstep(&dp, &twice, 8);
    }
}

#[test]
fn decide_covers_the_outcomes_c_needs() {
    let c = cluster(objects());
    let dp = Dataplane::compile(&c, ProxyMode::Iptables);
    let mut st = RouteState::new(1);
    let mut seen = std::collections::BTreeSet::new();
    for (source, dest, protocol, secs) in all_flows(&c) {
        let flow = Flow {
            source: source.as_ref(),
            destination: dest,
            protocol,
        };
        if let Ok(v) = dp.decide(&flow, &mut st, Millis::from_secs(secs)) {
            seen.insert(v.outcome().as_str());
            if v.outcome() == svcroute::dataplane::Outcome::Http {
                // KP-10: the health check answers 200 or 503.
                assert!([200, 503].contains(&v.http_status()));
            }
        }
    }
    for o in [
        "forward",
        "reject",
        "drop",
        "no-such-service",
        "port-not-exposed",
        "not-captured",
        "http",
    ] {
        assert!(seen.contains(o), "{o} not reached: {seen:?}");
    }
}

#[test]
fn decide_does_not_allocate() {
    // The counter sees allocations.
    assert_eq!(allocations(|| Vec::<u8>::with_capacity(8)).1, 1);
    let c = cluster(objects());
    let flows = all_flows(&c);
    for mode in MODES {
        let dp = Dataplane::compile(&c, mode);
        let mut st = RouteState::new(3);
        let ok: Vec<Flow<'_>> = flows
            .iter()
            .map(|(s, d, p, _)| Flow {
                source: s.as_ref(),
                destination: *d,
                protocol: *p,
            })
            .filter(|f| dp.decide(f, &mut st, Millis(0)).is_ok())
            .collect();
        // Warm: affinity entries and IPVS virtual servers now exist.
        for f in &ok {
            let _ = dp.decide(f, &mut st, Millis(0));
        }
        let (forwarded, n) = allocations(|| {
            ok.iter()
                .filter(|f| {
                    dp.decide(f, &mut st, Millis(1))
                        .is_ok_and(|v| v.chosen().is_some())
                })
                .count()
        });
        assert!(forwarded > 50, "{forwarded} forwarded");
        assert_eq!(
            n,
            0,
            "{} decisions allocated {n} times in {mode:?}",
            ok.len()
        );
    }
}

#[test]
fn one_state_serves_dataplanes_whose_node_lists_differ() {
    // The state remembers the node a flow named last, as an index into the
    // dataplane that answered; another dataplane (here without node-a, so
    // every index moved) must still find each node by its name. KP-7: a
    // Local Service picks the endpoint on the node the packet is on.
    let with_a = cluster(objects());
    let without_a = cluster(
        objects()
            .into_iter()
            .filter(|o| o["metadata"]["name"] != "node-a")
            .collect(),
    );
    for mode in MODES {
        let dps = [
            Dataplane::compile(&with_a, mode),
            Dataplane::compile(&without_a, mode),
        ];
        let mut st = RouteState::new(5);
        let local: SocketAddr = "10.96.0.21:80".parse().unwrap();
        for round in 0..4 {
            for dp in &dps {
                for (node, endpoint) in [
                    ("node-b", "10.244.1.12:8080"),
                    ("node-a", "10.244.0.11:8080"),
                ] {
                    let flow = Flow {
                        source: svcroute::dataplane::SourceRef::External {
                            ip: "10.244.2.50".parse().unwrap(),
                            arrives_at: Some(node),
                        },
                        destination: local,
                        protocol: Protocol::Tcp,
                    };
                    let known = dp.decide(&flow, &mut st, Millis(round));
                    if std::ptr::eq(dp, &dps[1]) && node == "node-a" {
                        assert!(known.is_err(), "node-a is gone in {mode:?}");
                        continue;
                    }
                    let v = known.expect("known node");
                    assert_eq!(v.node(), Some(node), "{mode:?}");
                    assert_eq!(
                        v.chosen(),
                        Some(endpoint.parse().unwrap()),
                        "{mode:?} at {node}"
                    );
                    let pick = dp.pick(
                        "10.244.2.50".parse().unwrap(),
                        node,
                        local,
                        Protocol::Tcp,
                        &mut st,
                        Millis(round),
                    );
                    assert_eq!(
                        pick,
                        svcroute::dataplane::Pick::Endpoint(endpoint.parse().unwrap())
                    );
                }
            }
        }
    }
}

#[test]
fn ipvs_round_robin_keeps_one_cursor_per_virtual_server_and_node() {
    // KP-18: rr walks each virtual server's real servers in turn, per node,
    // however the flows to different virtual servers and nodes interleave.
    let mut o = objects();
    o.push(service("shop", "web2", "web", "10.96.0.27", json!({})));
    let c = cluster(o);
    let dp = Dataplane::compile(&c, ProxyMode::Ipvs);
    let client: IpAddr = "10.244.2.50".parse().unwrap();
    // Two Services over web-1 and web-2, without affinity.
    let vips: [SocketAddr; 2] = [
        "10.96.0.26:80".parse().unwrap(),
        "10.96.0.27:80".parse().unwrap(),
    ];
    let nodes = ["node-a", "node-c"];
    // Alone: each (virtual server, node) from a fresh state.
    let alone = |vip: SocketAddr, node: &str| -> Vec<String> {
        let mut st = RouteState::new(1);
        (0..6)
            .map(|_| {
                format!(
                    "{:?}",
                    dp.pick(client, node, vip, Protocol::Tcp, &mut st, Millis(0))
                )
            })
            .collect()
    };
    let mut st = RouteState::new(1);
    let mut seen: std::collections::BTreeMap<(usize, usize), Vec<String>> = Default::default();
    for _ in 0..6 {
        for (v, &vip) in vips.iter().enumerate() {
            for (n, node) in nodes.iter().enumerate() {
                let p = dp.pick(client, node, vip, Protocol::Tcp, &mut st, Millis(0));
                seen.entry((v, n)).or_default().push(format!("{p:?}"));
            }
        }
    }
    for ((v, n), picks) in seen {
        assert_eq!(
            picks,
            alone(vips[v], nodes[n]),
            "{} from {}",
            vips[v],
            nodes[n]
        );
        assert_ne!(picks[0], picks[1], "rr alternates");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of flows, any seed and clock: `decide` equals `route`.
    #[test]
    fn decide_equals_route_on_any_sequence(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0..400u64), 1..60),
        seed in any::<u64>(),
        mode in 0..3usize,
    ) {
        let c = cluster(objects());
        let flows = all_flows(&c);
        let chosen: Vec<_> = picks
            .iter()
            .map(|(i, secs)| {
                let (s, d, p, _) = flows[i.index(flows.len())].clone();
                (s, d, p, *secs)
            })
            .collect();
        lockstep(&Dataplane::compile(&c, MODES[mode]), &chosen, seed);
    }
}

#[test]
fn kp20_a_backend_dialling_its_own_service_is_masqueraded_only_to_itself() {
    // KP-20: a pod that is an eligible endpoint of the Service it dials is
    // SNATed only when it picks itself (hairpin); the verdict names its
    // endpoint, and answers for endpoints another balancer picks.
    let c = cluster(objects());
    let me: IpAddr = "10.244.0.11".parse().unwrap(); // shop/web-1
    for mode in MODES {
        let dp = Dataplane::compile(&c, mode);
        let mut st = RouteState::new(3);
        let flow = Flow {
            source: svcroute::dataplane::SourceRef::Pod {
                namespace: "shop",
                name: "web-1",
            },
            destination: "10.96.0.26:80".parse().unwrap(),
            protocol: Protocol::Tcp,
        };
        let v = dp.decide(&flow, &mut st, Millis(0)).unwrap();
        assert_eq!(v.outcome(), svcroute::dataplane::Outcome::Forward);
        assert_eq!(
            v.masquerade(),
            Some(svcroute::dataplane::Masquerade::IfSelf),
            "{mode:?}"
        );
        let own = v.hairpin().expect("the source's own endpoint");
        assert_eq!(own.ip(), me);
        assert!(v.eligible().contains(&own));
        let other = *v.eligible().iter().find(|e| e.ip() != me).unwrap();
        assert!(v.masquerades_to(own));
        assert!(!v.masquerades_to(other));
        assert_eq!(v.masquerades(), v.chosen() == Some(own));
        assert_eq!(v.chosen(), v.chosen_index().map(|i| v.eligible()[i]));
        assert_eq!(v.node(), Some("node-a"));
        assert_eq!(v.service().unwrap().to_string(), "shop/np");
    }
}
