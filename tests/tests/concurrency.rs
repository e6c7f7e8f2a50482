//! Route decisions from 8 threads at once while another thread applies
//! changes (issue 13, "Concurrency").
//!
//! # The model a Rust user follows
//!
//! A [`Dataplane`] is an immutable snapshot: `route` and `pick` take
//! `&self`, so any number of threads share one through an `Arc<Dataplane>`.
//! The mutable parts of routing (affinity memory, round-robin cursors, the
//! random source) live in a [`RouteState`], one per thread (or per worker):
//! it is never shared. The single writer owns the [`Cluster`]; for each
//! batch it calls `apply_batch` (all or nothing), builds the next snapshot
//! off to the side (`Dataplane::patch` on a clone of the current one, or
//! `Dataplane::compile`), and publishes it by swapping the `Arc` inside a
//! `RwLock<Arc<Dataplane>>`. A reader holds the read lock only long enough
//! to clone the `Arc`; it then routes on a snapshot that no one changes.
//! Readers therefore see the state before a batch or after it, never a
//! half-applied batch; a refused batch publishes nothing.
//!
//! The tests check exactly that: a batch moves a Service's only ready
//! endpoint from pod A to pod B (and back), and a third pod that is never
//! ready sits behind the same selector; every decision of every reader is
//! A or B, never "no endpoint", never the never-ready pod (KP-4, KP-12).
//!
//! `cargo test -p svcroute-tests --test concurrency`

mod route_common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;

use route_common::*;
use serde_json::Value;
use svcroute::api::Object;
use svcroute::cluster::{Cluster, ProxyMode};
use svcroute::dataplane::{
    Dataplane, Destination, Millis, Outcome, Pick, Protocol, Request, RouteState,
};

const READERS: usize = 8;
const BATCHES: usize = 150;
const VIP: &str = "10.96.0.20:80";
const POD_A: &str = "10.244.0.10:8080";
const POD_B: &str = "10.244.1.11:8080";
const NEVER_READY: &str = "10.244.2.12:8080";

fn objects(v: Vec<Value>) -> Vec<Object> {
    v.into_iter()
        .map(|o| serde_json::from_value(o).expect("object"))
        .collect()
}

/// The batch that makes `a` (or else B) the only ready endpoint.
fn move_to(a: bool) -> Vec<Object> {
    objects(vec![
        pod("shop", "web-a", "web", "node-a", "10.244.0.10", a),
        pod("shop", "web-b", "web", "node-b", "10.244.1.11", !a),
    ])
}

fn start() -> Cluster {
    let mut o = base();
    o.push(service(
        "shop",
        "web",
        "web",
        "10.96.0.20",
        serde_json::json!({}),
    ));
    o.push(pod("shop", "web-a", "web", "node-a", "10.244.0.10", true));
    o.push(pod("shop", "web-b", "web", "node-b", "10.244.1.11", false));
    o.push(pod("shop", "web-c", "web", "node-c", "10.244.2.12", false));
    cluster(o)
}

/// The shared handle: readers clone the `Arc`, the writer swaps it.
type Published = RwLock<Arc<Dataplane>>;

fn snapshot(p: &Published) -> Arc<Dataplane> {
    Arc::clone(&p.read().expect("not poisoned"))
}

/// Runs `READERS` readers against a writer that moves the endpoint
/// `BATCHES` times, publishing with `next` (patch or compile). Returns the
/// decisions made and the problems seen.
fn run(
    next: fn(&Dataplane, &Cluster, &svcroute::cluster::Changes) -> Dataplane,
) -> (u64, Vec<String>) {
    let mut cluster = start();
    let published: Arc<Published> = Arc::new(RwLock::new(Arc::new(Dataplane::compile(
        &cluster,
        ProxyMode::Nftables,
    ))));
    let done = Arc::new(AtomicBool::new(false));
    let decisions = Arc::new(AtomicU64::new(0));
    let vip: SocketAddr = VIP.parse().expect("vip");
    let (a, b): (SocketAddr, SocketAddr) = (POD_A.parse().expect("a"), POD_B.parse().expect("b"));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (published, done, decisions) = (
                Arc::clone(&published),
                Arc::clone(&done),
                Arc::clone(&decisions),
            );
            thread::spawn(move || {
                let mut state = RouteState::new(r as u64);
                let client: IpAddr = "10.244.0.50".parse().expect("client");
                let mut problems = Vec::new();
                let mut n = 0u64;
                // At least a few rounds even if the writer is quick.
                while !done.load(Ordering::Acquire) || n < 200 {
                    let dp = snapshot(&published);
                    // KP-4, KP-12: only a ready endpoint, and there always is one.
                    match dp.pick(client, "node-a", vip, Protocol::Tcp, &mut state, Millis(n)) {
                        Pick::Endpoint(e) if e == a || e == b => {}
                        other => problems.push(format!("reader {r}: pick {other:?}")),
                    }
                    if n.is_multiple_of(16) {
                        let d = dp
                            .route(
                                &Request {
                                    source: from_pod("shop/client-a"),
                                    destination: Destination::Ip(vip),
                                    protocol: Protocol::Tcp,
                                },
                                &mut state,
                                Millis(n),
                            )
                            .expect("route");
                        if d.outcome != Outcome::Forward
                            || !matches!(d.chosen, Some(e) if e == a || e == b)
                            || d.endpoints.len() != 1
                        {
                            problems.push(format!(
                                "reader {r}: route {:?} chose {:?} of {:?}",
                                d.outcome, d.chosen, d.endpoints
                            ));
                        }
                    }
                    n += 1;
                    if problems.len() > 10 {
                        break;
                    }
                }
                decisions.fetch_add(n, Ordering::Relaxed);
                problems
            })
        })
        .collect();

    let mut problems = Vec::new();
    for i in 0..BATCHES {
        let changes = cluster
            .apply_batch(move_to(i % 2 == 1))
            .expect("valid batch");
        let current = snapshot(&published);
        let fresh = Arc::new(next(&current, &cluster, &changes));
        *published.write().expect("not poisoned") = fresh;
        // A refused batch (a second Service claiming the same cluster IP,
        // with the move) publishes nothing and changes nothing.
        let mut bad = move_to(i % 2 == 0);
        bad.extend(objects(vec![service(
            "shop",
            "thief",
            "web",
            "10.96.0.20",
            serde_json::json!({}),
        )]));
        if cluster.apply_batch(bad).is_ok() {
            problems.push(format!("batch {i}: a conflicting cluster IP was accepted"));
        }
    }
    done.store(true, Ordering::Release);
    for r in readers {
        problems.extend(r.join().expect("reader"));
    }
    (decisions.load(Ordering::Relaxed), problems)
}

fn patched(
    current: &Dataplane,
    cluster: &Cluster,
    changes: &svcroute::cluster::Changes,
) -> Dataplane {
    let mut next = current.clone();
    next.patch(cluster, changes);
    next
}

fn compiled(_: &Dataplane, cluster: &Cluster, _: &svcroute::cluster::Changes) -> Dataplane {
    Dataplane::compile(cluster, ProxyMode::Nftables)
}

#[test]
fn readers_never_see_a_half_applied_batch_with_patched_snapshots() {
    let (n, problems) = run(patched);
    assert!(
        problems.is_empty(),
        "{} problems: {problems:#?}",
        problems.len()
    );
    assert!(n >= (READERS * 200) as u64);
}

#[test]
fn readers_never_see_a_half_applied_batch_with_compiled_snapshots() {
    let (n, problems) = run(compiled);
    assert!(
        problems.is_empty(),
        "{} problems: {problems:#?}",
        problems.len()
    );
    assert!(n >= (READERS * 200) as u64);
}

#[test]
fn the_never_ready_pod_is_never_picked_and_the_move_is_seen() {
    // Sequentially: after each batch the snapshot answers exactly the
    // endpoint the batch made ready (EP-3: only ready pods serve).
    let mut cluster = start();
    let mut dp = Dataplane::compile(&cluster, ProxyMode::Nftables);
    let vip: SocketAddr = VIP.parse().expect("vip");
    let never: SocketAddr = NEVER_READY.parse().expect("c");
    let mut state = RouteState::new(7);
    for i in 0..20 {
        let to_a = i % 2 == 1;
        let changes = cluster.apply_batch(move_to(to_a)).expect("batch");
        dp = patched(&dp, &cluster, &changes);
        let want: SocketAddr = if to_a { POD_A } else { POD_B }.parse().expect("addr");
        for t in 0..8 {
            let got = dp.pick(
                "10.244.0.50".parse().expect("ip"),
                "node-a",
                vip,
                Protocol::Tcp,
                &mut state,
                Millis(t),
            );
            assert_eq!(got, Pick::Endpoint(want), "batch {i}");
            assert_ne!(got, Pick::Endpoint(never));
        }
    }
}
