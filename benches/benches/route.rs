//! Routing benches on the 10,000-Service synthetic cluster (5,000 nodes,
//! 150,000 pods; `svcroute_benches::synthetic_cluster`):
//!
//! * `route/clusterip_pick/<mode>`: [`Dataplane::pick`], a ClusterIP
//!   decision including the pick, over 1,024 Services in turn (target
//!   < 50 ns median);
//! * `route/clusterip_route`: the same question through
//!   [`Dataplane::route`], with its trace;
//! * `route/local_pick`: an internalTrafficPolicy Local Service from a node
//!   with a local endpoint;
//! * `route/nodeport_local`: an external client at `nodeIP:nodePort` of an
//!   externalTrafficPolicy Local Service (through `route`, with its trace);
//! * `route/ingress_match`: [`Dataplane::ingress_pick`], host + path over
//!   1,000 Ingress rules and the endpoint (target < 300 ns);
//!   `route/ingress_route`: the same through `route`, with its trace;
//! * `route/patch_one_pod/{clusterip,nodeport_5000_nodes}`:
//!   [`Dataplane::patch`] after one Pod's readiness flipped (the cluster's
//!   own apply is not timed), for a pod of a ClusterIP Service and for one
//!   that also backs a NodePort Service.
//!
//! * `route/clusterip_pick_one_service/<mode>`: one Service asked again and
//!   again (its tables stay in cache).
//! * `route/clusterip_decide/<mode>`, `route/clusterip_decide_one_service/<mode>`:
//!   the same flows through [`Dataplane::decide`] (the trace-free decision
//!   the C door uses: the pick with the masquerade rule, the Service and
//!   node, and the eligible set, in a small `Verdict`), over 1,024 Services
//!   in turn and for one Service (target < 50 ns median);
//!   `route/nodeport_local_decide`: the NodePort question above through
//!   `decide`.
//!
//! Before the criterion groups, the main paths print their CPU time per
//! call (`cpu-time …` lines, from `/proc/self/stat`): on a loaded shared
//! machine the wall-clock medians include time spent waiting for a core.
//!
//! Run: `cargo bench -p svcroute-benches --bench route -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use svcroute::api::Object;
use svcroute::cluster::{Cluster, ProxyMode};
use svcroute::dataplane::{
    Dataplane, Destination, Flow, IngressRequest, Millis, Protocol, Request, RouteState, Source,
    SourceRef,
};
use svcroute_benches::{Scale, config, pod, pod_slots, synthetic_cluster};

/// Node `n`'s name and InternalIP, as the generator writes them.
fn node_of(n: usize) -> (String, IpAddr) {
    (
        format!("node-{n:04}"),
        format!("192.168.{}.{}", n >> 8, n & 255).parse().unwrap(),
    )
}

/// CPU time this process has run (user + system), from `/proc/self/stat`
/// (clock ticks of 10 ms), in nanoseconds; `None` off Linux.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

/// Runs `f` until it has used about 2 s of CPU and prints the CPU time per
/// call: on a shared machine, criterion's wall-clock medians include the
/// time the bench waits for a core; this does not.
/// Skipped under `--profile-time`, so that a profile shows the bench alone.
fn cpu_per_call(name: &str, mut f: impl FnMut()) {
    if std::env::args().any(|a| a == "--profile-time") {
        return;
    }
    let Some(start) = cpu_ns() else { return };
    let mut calls = 0u64;
    let spent = loop {
        for _ in 0..100_000 {
            f();
        }
        calls += 100_000;
        let now = cpu_ns().unwrap_or(start);
        if now - start >= 2_000_000_000 {
            break now - start;
        }
    };
    println!(
        "cpu-time {name}: {:.1} ns/call over {calls} calls",
        spent as f64 / calls as f64
    );
}

fn object(v: serde_json::Value) -> Object {
    serde_json::from_value(v).expect("bench object")
}

/// Two Services over the pods of `svc-1` (namespace `team-01`): one with
/// internalTrafficPolicy Local, one NodePort with externalTrafficPolicy
/// Local; an IngressClass and 1,000 Ingress rules (100 Ingresses of 10
/// hosts, three paths each) in `team-00`.
fn extras() -> Vec<Object> {
    let mut out = vec![
        object(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "local", "namespace": "team-01"},
            "spec": {"clusterIP": "172.17.0.10", "clusterIPs": ["172.17.0.10"],
                     "selector": {"app": "svc-1"}, "internalTrafficPolicy": "Local",
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})),
        object(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "np", "namespace": "team-01"},
            "spec": {"type": "NodePort", "clusterIP": "172.17.0.11", "clusterIPs": ["172.17.0.11"],
                     "selector": {"app": "svc-1"}, "externalTrafficPolicy": "Local",
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}})),
        object(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "k8s.io/ingress-nginx"}}),
        ),
    ];
    for i in 0..100 {
        let rules: Vec<serde_json::Value> = (0..10)
            .map(|h| {
                let svc = format!("svc-{}", 100 * ((i * 10 + h) % 100));
                let path = |p: &str, t: &str| {
                    json!({"path": p, "pathType": t,
                    "backend": {"service": {"name": svc, "port": {"number": 80}}}})
                };
                json!({"host": format!("app-{}.example.com", i * 10 + h),
                       "http": {"paths": [path("/", "Prefix"), path("/api/v1", "Prefix"),
                                          path("/healthz", "Exact")]}})
            })
            .collect();
        out.push(object(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": format!("ing-{i}"), "namespace": "team-00"},
            "spec": {"ingressClassName": "nginx", "rules": rules}}),
        ));
    }
    out
}

fn benches(c: &mut Criterion) {
    let scale = Scale::LIMITS;
    let mut cluster = Cluster::new(config()).expect("config");
    cluster
        .apply_batch(synthetic_cluster(&scale))
        .expect("synthetic cluster applies");
    cluster.apply_batch(extras()).expect("extras apply");
    let slots = pod_slots(&scale);

    // 1,024 Services spread over the 10,000, their http port.
    let vips: Vec<SocketAddr> = (0..1024)
        .map(|k| {
            let i = (k * 9_973) % scale.services;
            format!("172.16.{}.{}:80", (i + 256) >> 8, (i + 256) & 255)
                .parse()
                .unwrap()
        })
        .collect();
    let (client_node, _) = node_of(1);
    let client: IpAddr = "10.0.1.250".parse().unwrap();

    let mut g = c.benchmark_group("route");
    for mode in [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs] {
        let dp = Dataplane::compile(&cluster, mode);
        let mut st = RouteState::new(1);
        let mut k = 0usize;
        cpu_per_call(&format!("clusterip_pick/{}", mode.as_str()), || {
            k = (k + 1) & 1023;
            black_box(dp.pick(
                black_box(client),
                &client_node,
                black_box(vips[k]),
                Protocol::Tcp,
                &mut st,
                Millis(0),
            ));
        });
        cpu_per_call(
            &format!("clusterip_pick_one_service/{}", mode.as_str()),
            || {
                black_box(dp.pick(
                    black_box(client),
                    &client_node,
                    black_box(vips[1]),
                    Protocol::Tcp,
                    &mut st,
                    Millis(0),
                ));
            },
        );
        g.bench_function(
            format!("clusterip_pick_one_service/{}", mode.as_str()),
            |b| {
                b.iter(|| {
                    black_box(dp.pick(
                        black_box(client),
                        &client_node,
                        black_box(vips[1]),
                        Protocol::Tcp,
                        &mut st,
                        Millis(0),
                    ))
                })
            },
        );
        g.bench_function(format!("clusterip_pick/{}", mode.as_str()), |b| {
            b.iter(|| {
                k = (k + 1) & 1023;
                black_box(dp.pick(
                    black_box(client),
                    &client_node,
                    black_box(vips[k]),
                    Protocol::Tcp,
                    &mut st,
                    Millis(0),
                ))
            })
        });
        // The trace-free decision the C door uses (`decide`): the same
        // flows as `clusterip_pick`, with the masquerade rule included.
        let flows: Vec<Flow<'_>> = vips
            .iter()
            .map(|&destination| Flow {
                source: SourceRef::External {
                    ip: client,
                    arrives_at: Some(&client_node),
                },
                destination,
                protocol: Protocol::Tcp,
            })
            .collect();
        cpu_per_call(&format!("clusterip_decide/{}", mode.as_str()), || {
            k = (k + 1) & 1023;
            let _ = black_box(dp.decide(black_box(&flows[k]), &mut st, Millis(0)));
        });
        g.bench_function(
            format!("clusterip_decide_one_service/{}", mode.as_str()),
            |b| b.iter(|| black_box(dp.decide(black_box(&flows[1]), &mut st, Millis(0)).is_ok())),
        );
        g.bench_function(format!("clusterip_decide/{}", mode.as_str()), |b| {
            b.iter(|| {
                k = (k + 1) & 1023;
                black_box(dp.decide(black_box(&flows[k]), &mut st, Millis(0)).is_ok())
            })
        });
    }

    let mut dp = Dataplane::compile(&cluster, ProxyMode::Iptables);
    let mut st = RouteState::new(1);
    let mut k = 0usize;
    g.bench_function("clusterip_route", |b| {
        b.iter(|| {
            k = (k + 1) & 1023;
            let req = Request {
                source: Source::Node(client_node.clone()),
                destination: Destination::Ip(vips[k]),
                protocol: Protocol::Tcp,
            };
            black_box(dp.route(&req, &mut st, Millis(0)).expect("routes"))
        })
    });

    // A node with a local endpoint of svc-1.
    let &(_, _, n) = slots.iter().find(|s| s.0 == 1).expect("pod of svc-1");
    let (local_node, local_ip) = node_of(n);
    let local_vip: SocketAddr = "172.17.0.10:80".parse().unwrap();
    g.bench_function("local_pick", |b| {
        b.iter(|| {
            black_box(dp.pick(
                black_box(client),
                &local_node,
                black_box(local_vip),
                Protocol::Tcp,
                &mut st,
                Millis(0),
            ))
        })
    });
    let np = Request {
        source: Source::External {
            ip: "203.0.113.9".parse().unwrap(),
            arrives_at: Some(local_node.clone()),
        },
        destination: Destination::Ip(SocketAddr::new(local_ip, 30080)),
        protocol: Protocol::Tcp,
    };
    g.bench_function("nodeport_local", |b| {
        b.iter(|| {
            black_box(
                dp.route(black_box(&np), &mut st, Millis(0))
                    .expect("routes"),
            )
        })
    });

    let np_flow = np.flow().expect("an address");
    cpu_per_call("nodeport_local_decide", || {
        let _ = black_box(dp.decide(black_box(&np_flow), &mut st, Millis(0)));
    });
    g.bench_function("nodeport_local_decide", |b| {
        b.iter(|| black_box(dp.decide(black_box(&np_flow), &mut st, Millis(0)).is_ok()))
    });

    let ingress: Vec<Request> = (0..64)
        .map(|h| Request {
            source: Source::External {
                ip: "203.0.113.9".parse().unwrap(),
                arrives_at: None,
            },
            destination: Destination::Ingress(IngressRequest {
                controller: "k8s.io/ingress-nginx".into(),
                scheme: "http".into(),
                host: format!("app-{}.example.com", (h * 157) % 1000),
                path: "/api/v1/users/42".into(),
            }),
            protocol: Protocol::Http,
        })
        .collect();
    let plain: Vec<IngressRequest> = ingress
        .iter()
        .filter_map(|r| match &r.destination {
            Destination::Ingress(i) => Some(i.clone()),
            _ => None,
        })
        .collect();
    let mut k = 0usize;
    cpu_per_call("ingress_match", || {
        k = (k + 1) & 63;
        black_box(dp.ingress_pick(black_box(&plain[k]), &mut st));
    });
    cpu_per_call("local_pick", || {
        black_box(dp.pick(
            black_box(client),
            &local_node,
            black_box(local_vip),
            Protocol::Tcp,
            &mut st,
            Millis(0),
        ));
    });
    g.bench_function("ingress_match", |b| {
        b.iter(|| {
            k = (k + 1) & 63;
            black_box(dp.ingress_pick(black_box(&plain[k]), &mut st))
        })
    });
    g.bench_function("ingress_route", |b| {
        b.iter(|| {
            k = (k + 1) & 63;
            black_box(dp.route(&ingress[k], &mut st, Millis(0)).expect("routes"))
        })
    });

    // One pod flips readiness; only the dataplane's patch is timed. A pod
    // of svc-2 (ClusterIP only), and one of svc-1, whose pods also back the
    // NodePort Service `np` (its entries on 5,000 node addresses are
    // re-indexed).
    for (what, service) in [("clusterip", 2usize), ("nodeport_5000_nodes", 1)] {
        let &(i, kk, n) = slots.iter().find(|s| s.0 == service).expect("pod");
        let flips = [
            Object::Pod(pod(&scale, i, kk, n, false, "1.3")),
            Object::Pod(pod(&scale, i, kk, n, true, "1.3")),
        ];
        let mut flip = 0usize;
        g.bench_function(format!("patch_one_pod/{what}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    flip += 1;
                    let changes = cluster.apply(flips[flip % 2].clone()).expect("applies");
                    let t = Instant::now();
                    dp.patch(&cluster, &changes);
                    total += t.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(route_benches, benches);
criterion_main!(route_benches);
