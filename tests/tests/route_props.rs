//! Property tests of `route`: it never panics, never offers an endpoint that
//! is neither ready nor allowed by the terminating fallback (KP-4, KP-11),
//! never crosses namespaces through a selector (EP-2), and Local policies
//! never leave the node (KP-7, KP-8).

mod route_common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proptest::prelude::*;
use route_common::*;
use serde_json::json;
use svcroute::cluster::ProxyMode;
use svcroute::dataplane::{Destination, Millis, Protocol, Request, RouteState, Source};

/// (node index, ready, terminating) per pod, and the Service's policies.
fn scenario() -> impl Strategy<Value = (Vec<(usize, bool, bool)>, bool, bool, usize)> {
    (
        proptest::collection::vec((0..3usize, any::<bool>(), any::<bool>()), 0..8),
        any::<bool>(),
        any::<bool>(),
        0..3usize,
    )
}

const NODES: [&str; 3] = ["node-a", "node-b", "node-c"];

fn build(pods: &[(usize, bool, bool)], itp: bool, etp: bool) -> Vec<serde_json::Value> {
    let mut o = base();
    o.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}));
    // A decoy in another namespace with the same labels (EP-2).
    o.push(pod("other", "decoy", "web", "node-a", "10.244.0.99", true));
    for (i, (n, ready, term)) in pods.iter().enumerate() {
        let p = pod(
            "shop",
            &format!("web-{i}"),
            "web",
            NODES[*n],
            &format!("10.244.{n}.{}", 10 + i),
            *ready,
        );
        o.push(if *term { terminating(p) } else { p });
    }
    let mut extra = json!({"type": "LoadBalancer",
                           "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]});
    if itp {
        extra["internalTrafficPolicy"] = json!("Local");
    }
    if etp {
        extra["externalTrafficPolicy"] = json!("Local");
    }
    let mut svc = service("shop", "web", "web", "10.96.0.20", extra);
    svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
    o.push(svc);
    o
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn route_never_panics_on_arbitrary_destinations(
        a in any::<u32>(), port in any::<u16>(), proto in 0..4u8, v6 in any::<bool>(),
        src in 0..4u8, mode in 0..3usize, secs in any::<u32>(),
    ) {
        let o = build(&[(0, true, false), (1, false, true)], false, false);
        let modes = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];
        let dp = compile(o, modes[mode]);
        let ip: IpAddr = if v6 {
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) << 64 | u128::from(a)))
        } else {
            IpAddr::V4(Ipv4Addr::from(a))
        };
        let protocol = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp, Protocol::Http][proto as usize];
        let source = match src {
            0 => from_pod("shop/client-a"),
            1 => Source::Node("node-b".into()),
            2 => Source::External { ip, arrives_at: None },
            _ => external("198.51.100.7", "node-c"),
        };
        let mut st = RouteState::new(u64::from(a));
        for destination in [
            Destination::Ip(SocketAddr::new(ip, port)),
            Destination::Ip(SocketAddr::new("10.96.0.20".parse().unwrap(), port)),
            Destination::Ip(SocketAddr::new("192.168.0.11".parse().unwrap(), port)),
            Destination::Dns { name: format!("x{a}.shop"), port, family: None },
        ] {
            let _ = dp.route(&Request { source: source.clone(), destination, protocol }, &mut st, Millis(u64::from(secs)));
        }
    }

    #[test]
    fn eligible_endpoints_obey_readiness_namespace_and_locality(
        (pods, itp, etp, client) in scenario(), mode in 0..3usize,
    ) {
        let o = build(&pods, itp, etp);
        let modes = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];
        let dp = compile(o, modes[mode]);
        let any_ready = pods.iter().any(|p| p.1 && !p.2);
        let sources = [
            (from_pod(["shop/client-a", "shop/client-c", "shop/client-a"][client]), "10.96.0.20:80", false),
            (external("198.51.100.7", NODES[client]), "203.0.113.10:80", true),
        ];
        for (source, dest, is_external) in sources {
            let node = match &source {
                Source::Pod { name, .. } => if name == "client-a" { 0 } else { 2 },
                _ => client,
            };
            let d = dp.route(
                &Request { source, destination: to(dest), protocol: Protocol::Tcp },
                &mut RouteState::new(9),
                Millis(0),
            ).unwrap();
            for ep in &d.endpoints {
                let i = pods.iter().enumerate().position(|(i, (n, _, _))| {
                    ep.ip().to_string() == format!("10.244.{n}.{}", 10 + i)
                });
                // EP-2: never the decoy of another namespace.
                prop_assert!(i.is_some(), "endpoint {ep} is not a pod of shop/web");
                let (n, ready, term) = pods[i.unwrap_or(0)];
                // KP-4/KP-11: ready, or serving-terminating when nothing is
                // ready (cluster-wide, or on the node for a local set).
                let local = if is_external { etp } else { itp };
                let ready_on_node = pods.iter().any(|p| p.0 == node && p.1 && !p.2);
                prop_assert!((ready && !term) || (ready && term && (!any_ready || (local && !ready_on_node))));
                // KP-7/KP-8: Local policies never leave the node (iptables/nftables).
                if local && mode != 2 {
                    prop_assert_eq!(n, node);
                }
            }
        }
    }
}

/// One change to the cluster.
#[derive(Debug, Clone)]
enum Op {
    Pod {
        i: usize,
        node: usize,
        ready: bool,
        term: bool,
        app: usize,
    },
    DeletePod(usize),
    Service {
        s: usize,
        kind: usize,
        itp: bool,
        etp: bool,
    },
    DeleteService(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            0..6usize,
            0..3usize,
            any::<bool>(),
            any::<bool>(),
            0..2usize
        )
            .prop_map(|(i, node, ready, term, app)| Op::Pod {
                i,
                node,
                ready,
                term,
                app
            }),
        (0..6usize).prop_map(Op::DeletePod),
        (0..2usize, 0..3usize, any::<bool>(), any::<bool>())
            .prop_map(|(s, kind, itp, etp)| Op::Service { s, kind, itp, etp }),
        (0..2usize).prop_map(Op::DeleteService),
    ]
}

fn apply_op(c: &mut svcroute::cluster::Cluster, op: &Op) -> svcroute::cluster::Changes {
    use svcroute::api::{Kind, Object, ObjectKey};
    let obj = |v: serde_json::Value| serde_json::from_value::<Object>(v).unwrap();
    let key = |kind, name: String| ObjectKey {
        kind,
        namespace: Some("shop".into()),
        name,
    };
    match op {
        Op::Pod {
            i,
            node,
            ready,
            term,
            app,
        } => {
            let p = pod(
                "shop",
                &format!("p{i}"),
                ["web", "api"][*app],
                NODES[*node],
                &format!("10.244.{node}.{}", 10 + i),
                *ready,
            );
            c.apply(obj(if *term { terminating(p) } else { p }))
                .unwrap()
        }
        Op::DeletePod(i) => c
            .delete(&key(Kind::Pod, format!("p{i}")))
            .unwrap_or_default(),
        Op::Service { s, kind, itp, etp } => {
            let app = ["web", "api"][*s];
            let ty = ["ClusterIP", "NodePort", "LoadBalancer"][*kind];
            let mut extra =
                json!({"type": ty, "internalTrafficPolicy": if *itp {"Local"} else {"Cluster"}});
            if *kind > 0 {
                extra["externalTrafficPolicy"] = json!(if *etp { "Local" } else { "Cluster" });
                extra["ports"] = json!([{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080 + *s}]);
            }
            let mut svc = service("shop", app, app, &format!("10.96.0.{}", 20 + s), extra);
            if *kind == 2 {
                svc["status"] =
                    json!({"loadBalancer": {"ingress": [{"ip": format!("203.0.113.{}", 10 + s)}]}});
            }
            c.apply(obj(svc)).unwrap()
        }
        Op::DeleteService(s) => c
            .delete(&key(Kind::Service, ["web", "api"][*s].into()))
            .unwrap_or_default(),
    }
}

fn observe(dp: &svcroute::dataplane::Dataplane) -> Vec<String> {
    let mut out = Vec::new();
    let sources = [
        from_pod("shop/client-a"),
        Source::Node("node-b".into()),
        external("198.51.100.7", "node-c"),
    ];
    let dests = [
        "10.96.0.20:80",
        "10.96.0.21:80",
        "192.168.0.10:30080",
        "192.168.0.12:30081",
        "203.0.113.10:80",
        "203.0.113.11:80",
        "10.96.0.20:81",
    ];
    for s in &sources {
        for dst in dests {
            let r = dp.route(
                &Request {
                    source: s.clone(),
                    destination: to(dst),
                    protocol: Protocol::Tcp,
                },
                &mut RouteState::new(5),
                Millis(0),
            );
            out.push(match r {
                Ok(d) => format!(
                    "{:?} {:?} {:?} {:?} {:?}",
                    d.outcome, d.endpoints, d.masquerade, d.packet_fate, d.chosen
                ),
                Err(e) => e.to_string(),
            });
        }
        let d = dp.route(
            &Request {
                source: s.clone(),
                destination: Destination::Dns {
                    name: "web.shop.svc.cluster.local".into(),
                    port: 80,
                    family: None,
                },
                protocol: Protocol::Tcp,
            },
            &mut RouteState::new(5),
            Millis(0),
        );
        out.push(format!("{:?}", d.map(|d| (d.outcome, d.dns_answers))));
    }
    // The hot path reads the VIP records and their flat cluster sets, which
    // a patch rewrites: it too must answer as after a fresh compile.
    for dst in ["10.96.0.20:80", "10.96.0.21:80", "10.96.0.20:81"] {
        for node in ["node-a", "node-c"] {
            let pick = dp.pick(
                "10.244.0.50".parse().unwrap(),
                node,
                dst.parse().unwrap(),
                Protocol::Tcp,
                &mut RouteState::new(5),
                Millis(0),
            );
            out.push(format!("pick {dst} from {node}: {pick:?}"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `patch` after every change routes exactly as a fresh `compile`.
    #[test]
    fn patched_equals_recompiled(ops in proptest::collection::vec(op(), 1..24), mode in 0..3usize) {
        let modes = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];
        let mut c = cluster(base());
        let mut dp = svcroute::dataplane::Dataplane::compile(&c, modes[mode]);
        for op in &ops {
            let changes = apply_op(&mut c, op);
            dp.patch(&c, &changes);
            let fresh = svcroute::dataplane::Dataplane::compile(&c, modes[mode]);
            prop_assert_eq!(observe(&dp), observe(&fresh), "after {:?}", op);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// HTTP front doors and DNS names take any text without panicking.
    #[test]
    fn http_and_dns_destinations_never_panic(
        host in "\\PC{0,24}", path in "\\PC{0,24}", controller in "[a-z./-]{0,12}",
        gw in "\\PC{0,12}", name in "\\PC{0,40}", port in any::<u16>(),
    ) {
        let dp = compile(build(&[(0, true, false)], false, false), ProxyMode::Iptables);
        let mut st = RouteState::new(0);
        let src = from_pod("shop/client-a");
        let dests = [
            Destination::Ingress(svcroute::dataplane::IngressRequest {
                controller, scheme: "https".into(), host: host.clone(), path: path.clone(),
            }),
            Destination::HttpRoute(svcroute::dataplane::GatewayRequest {
                gateway: gw, host, path, ..Default::default()
            }),
            Destination::Dns { name, port, family: None },
        ];
        for destination in dests {
            let _ = dp.route(&Request { source: src.clone(), destination, protocol: Protocol::Http }, &mut st, Millis(0));
        }
    }
}

#[test]
fn a_dataplane_is_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<svcroute::dataplane::Dataplane>();
    shareable::<RouteState>();
}

/// A ClusterIP-only `shop/web` (optionally internalTrafficPolicy Local and
/// ClientIP affinity) over `pods`, compiled for `mode` with `scheduler`.
fn cluster_ip_only(
    pods: &[(usize, bool, bool)],
    itp: bool,
    affinity: bool,
    mode: ProxyMode,
    scheduler: &str,
) -> svcroute::dataplane::Dataplane {
    let mut o = build(pods, false, false);
    let mut extra = json!({"type": "ClusterIP"});
    if itp {
        extra["internalTrafficPolicy"] = json!("Local");
    }
    if affinity {
        extra["sessionAffinity"] = json!("ClientIP");
    }
    let last = o.len() - 1;
    o[last] = service("shop", "web", "web", "10.96.0.20", extra);
    let c = cluster_with(
        o,
        svcroute::cluster::ClusterConfig {
            bootstrap: false,
            proxy: svcroute::cluster::ProxyConfig {
                ipvs_scheduler: scheduler.into(),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    svcroute::dataplane::Dataplane::compile(&c, mode)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// What is *chosen* (by `route` through an address or a DNS name, and
    /// by the `pick` hot path, over many picks with one `RouteState`) obeys
    /// the same rules as the eligible set, in every mode and IPVS
    /// scheduler: ready unless the terminating fallback allows it (KP-4,
    /// KP-11), never another namespace's pod (EP-2), and an
    /// internalTrafficPolicy Local Service never leaves the client's node
    /// (KP-7; IPVS rejects instead, KP-12).
    #[test]
    fn chosen_endpoints_obey_readiness_namespace_and_locality(
        (pods, itp, _etp, client) in scenario(), mode in 0..3usize, sched in 0..6usize,
        affinity in any::<bool>(), seed in any::<u64>(),
    ) {
        let modes = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];
        let scheduler = ["rr", "wrr", "lc", "sh", "mh", "sed"][sched];
        let dp = cluster_ip_only(&pods, itp, affinity, modes[mode], scheduler);
        let (pod_name, node, client_ip) = [
            ("client-a", 0usize, "10.244.0.50"),
            ("client-c", 2, "10.244.2.50"),
            ("client-a", 0, "10.244.0.50"),
        ][client];
        let any_ready = pods.iter().any(|p| p.1 && !p.2);
        let ready_on_node = pods.iter().any(|p| p.0 == node && p.1 && !p.2);
        let check = |ep: SocketAddr| -> Result<(), TestCaseError> {
            let i = pods.iter().enumerate().position(|(i, (n, _, _))| {
                ep.ip().to_string() == format!("10.244.{n}.{}", 10 + i)
            });
            prop_assert!(i.is_some(), "endpoint {ep} is not a pod of shop/web");
            let (n, ready, term) = pods[i.unwrap_or(0)];
            let allowed = (ready && !term)
                || (ready && term && (!any_ready || (itp && !ready_on_node)));
            prop_assert!(allowed, "{ep}: ready {ready} terminating {term}");
            if itp {
                prop_assert_eq!(n, node, "{} left node {}", ep, node);
            }
            Ok(())
        };
        let mut st = RouteState::new(seed);
        let vip: SocketAddr = "10.96.0.20:80".parse().unwrap();
        for (k, destination) in [
            to("10.96.0.20:80"),
            Destination::Dns { name: "web".into(), port: 80, family: None },
            Destination::Dns { name: "web.shop.svc.cluster.local.".into(), port: 80, family: None },
        ].into_iter().cycle().take(9).enumerate() {
            let d = dp.route(
                &Request { source: from_pod(&format!("shop/{pod_name}")), destination, protocol: Protocol::Tcp },
                &mut st,
                Millis(1000 * k as u64),
            ).unwrap();
            if let Some(ep) = d.chosen {
                prop_assert!(d.endpoints.contains(&ep), "chosen {} outside {:?}", ep, d.endpoints);
                check(ep)?;
            }
            for &ep in &d.endpoints {
                check(ep)?;
            }
            let picked = dp.pick(client_ip.parse().unwrap(), NODES[node], vip, Protocol::Tcp, &mut st, Millis(1000 * k as u64));
            if let svcroute::dataplane::Pick::Endpoint(ep) = picked {
                check(ep)?;
            }
        }
    }
}
