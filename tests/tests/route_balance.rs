//! The dataplane picks through `svcroute::balance`: what kube-proxy renders
//! (KP-16 iptables chain, KP-17 nftables numgen, KP-18 IPVS scheduler) is
//! what the route picks.

mod route_common;

use std::net::SocketAddr;

use route_common::*;
use serde_json::{Value, json};
use svcroute::balance::Rng;
use svcroute::balance::kube::{iptables_threshold, pick_chain, pick_numgen};
use svcroute::cluster::{ClusterConfig, ProxyConfig, ProxyMode};
use svcroute::dataplane::{Dataplane, Millis, Pick, Protocol, Render, RouteState};

/// Four ready endpoints of `shop/web` (cluster IP 10.96.0.20:80).
fn web() -> Vec<Value> {
    let mut o = base();
    o.push(pod("shop", "web-1", "web", "node-a", "10.244.0.11", true));
    o.push(pod("shop", "web-2", "web", "node-b", "10.244.1.12", true));
    o.push(pod("shop", "web-3", "web", "node-c", "10.244.2.13", true));
    o.push(pod("shop", "web-4", "web", "node-c", "10.244.2.14", true));
    o.push(service("shop", "web", "web", "10.96.0.20", json!({})));
    o
}

fn compile_with(objects: Vec<Value>, mode: ProxyMode, scheduler: &str) -> Dataplane {
    let config = ClusterConfig {
        bootstrap: false,
        proxy: ProxyConfig {
            ipvs_scheduler: scheduler.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    Dataplane::compile(&cluster_with(objects, config), mode)
}

fn vip() -> SocketAddr {
    "10.96.0.20:80".parse().unwrap()
}

fn pick(dp: &Dataplane, client: &str, st: &mut RouteState) -> SocketAddr {
    match dp.pick(
        client.parse().unwrap(),
        "node-a",
        vip(),
        Protocol::Tcp,
        st,
        Millis(0),
    ) {
        Pick::Endpoint(e) => e,
        other => panic!("no endpoint: {other:?}"),
    }
}

fn render_of(dp: &Dataplane) -> Render {
    let d = route(dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    d.render.expect("a forward decision is rendered")
}

/// KP-16: the chain's outcome distribution, from the printed
/// probabilities: `P(k) = t_k/2^31 · Π_{j<k} (1 - t_j/2^31)`, cumulated.
fn chain_cdf(thresholds: &[u32]) -> Vec<f64> {
    let (mut rest, mut cum) = (1.0f64, 0.0f64);
    thresholds
        .iter()
        .map(|&t| {
            let p = rest * f64::from(t) / f64::from(1u32 << 31);
            rest -= p;
            cum += p;
            cum
        })
        .collect()
}

#[test]
fn kp16_iptables_picks_follow_the_rendered_chain_with_one_draw() {
    // One 64-bit draw per pick, mapped through the chain's cumulative
    // distribution (the chain walk would draw once per rule tried): the
    // same distribution, the same seed determinism.
    let dp = compile_with(web(), ProxyMode::Iptables, "rr");
    let Render::Iptables {
        endpoint_order,
        probabilities,
    } = render_of(&dp)
    else {
        panic!("iptables render")
    };
    // The kernel thresholds of the printed probabilities, in chain order.
    let thresholds: Vec<u32> = probabilities
        .iter()
        .flatten()
        .map(|p| iptables_threshold(p))
        .collect();
    assert_eq!(thresholds.len(), endpoint_order.len() - 1);
    let cdf = chain_cdf(&thresholds);
    for seed in 0..20u64 {
        let mut st = RouteState::new(seed);
        let mut rng = Rng::new(seed);
        for _ in 0..50 {
            let r = rng.next_u64() as f64 / 2f64.powi(64);
            let k = cdf.iter().position(|&c| r < c).unwrap_or(thresholds.len());
            assert_eq!(
                pick(&dp, "10.244.0.50", &mut st).to_string(),
                endpoint_order[k]
            );
        }
    }
    // The walk of the chain lands with the same shares (1/4 each here).
    let mut rng = Rng::new(11);
    let mut walked = [0u32; 4];
    for _ in 0..40_000 {
        walked[pick_chain(&thresholds, &mut rng)] += 1;
    }
    assert!(
        walked.iter().all(|&c| (9_400..10_600).contains(&c)),
        "{walked:?}"
    );
}

#[test]
fn kp16_iptables_chain_shares_are_uniform() {
    let dp = compile_with(web(), ProxyMode::Iptables, "rr");
    let mut st = RouteState::new(7);
    let mut counts = std::collections::BTreeMap::<SocketAddr, u32>::new();
    let n = 40_000;
    for _ in 0..n {
        *counts.entry(pick(&dp, "10.244.0.50", &mut st)).or_default() += 1;
    }
    assert_eq!(counts.len(), 4);
    // chi-square, 3 degrees of freedom, p = 0.001: 16.27.
    let e = f64::from(n) / 4.0;
    let chi: f64 = counts
        .values()
        .map(|&c| (f64::from(c) - e).powi(2) / e)
        .sum();
    assert!(chi < 16.27, "{counts:?} chi² {chi}");
}

#[test]
fn kp17_nftables_picks_index_the_rendered_vmap() {
    let dp = compile_with(web(), ProxyMode::Nftables, "rr");
    let Render::Nftables {
        numgen_mod,
        vmap_order,
    } = render_of(&dp)
    else {
        panic!("nftables render")
    };
    assert_eq!(numgen_mod, 4);
    for seed in 0..20u64 {
        let mut st = RouteState::new(seed);
        let mut rng = Rng::new(seed);
        for _ in 0..50 {
            let want = &vmap_order[pick_numgen(numgen_mod, &mut rng)];
            assert_eq!(pick(&dp, "10.244.0.50", &mut st).to_string(), *want);
        }
    }
}

#[test]
fn kp18_ipvs_rr_and_weight_one_schedulers_take_turns() {
    for sched in ["rr", "wrr", "lc", "wlc", "sed", "nq"] {
        let dp = compile_with(web(), ProxyMode::Ipvs, sched);
        let Render::Ipvs {
            scheduler,
            real_server_weights,
        } = render_of(&dp)
        else {
            panic!("ipvs render")
        };
        assert_eq!(scheduler, sched);
        assert!(real_server_weights.iter().all(|(_, w)| *w == 1));
        // Every routed connection stays open: the least-connection
        // schedulers, over equal weights, also go round in list order.
        let mut st = RouteState::new(1);
        let got: Vec<String> = (0..8)
            .map(|_| pick(&dp, "10.244.0.50", &mut st).to_string())
            .collect();
        let order: Vec<&String> = real_server_weights.iter().map(|(e, _)| e).collect();
        let want: Vec<&String> = (0..8).map(|i| order[i % 4]).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{sched}");
    }
}

#[test]
fn kp18_ipvs_source_hashing_schedulers_stick_to_the_client() {
    for sched in ["sh", "mh"] {
        let dp = compile_with(web(), ProxyMode::Ipvs, sched);
        let mut st = RouteState::new(1);
        let mut seen = std::collections::BTreeSet::new();
        for k in 0..64 {
            let client = format!("10.244.0.{}", 100 + k);
            let first = pick(&dp, &client, &mut st);
            for _ in 0..3 {
                assert_eq!(pick(&dp, &client, &mut st), first, "{sched} {client}");
            }
            seen.insert(first);
        }
        assert!(seen.len() >= 3, "{sched}: sources spread over {seen:?}");
    }
    // dh hashes the destination: one endpoint for every client.
    let dp = compile_with(web(), ProxyMode::Ipvs, "dh");
    let mut st = RouteState::new(1);
    let first = pick(&dp, "10.244.0.100", &mut st);
    for k in 0..32 {
        assert_eq!(pick(&dp, &format!("10.244.0.{}", 101 + k), &mut st), first);
    }
}

#[test]
fn kp18_ipvs_scheduler_state_is_per_node_and_survives_a_recompile() {
    let dp = compile_with(web(), ProxyMode::Ipvs, "rr");
    let mut st = RouteState::new(1);
    let a0 = pick(&dp, "10.244.0.50", &mut st);
    // Another node's kube-proxy has its own virtual server: it starts over.
    let Pick::Endpoint(c0) = dp.pick(
        "10.244.2.50".parse().unwrap(),
        "node-c",
        vip(),
        Protocol::Tcp,
        &mut st,
        Millis(0),
    ) else {
        panic!()
    };
    assert_eq!(a0, c0);
    let a1 = pick(&dp, "10.244.0.50", &mut st);
    assert_ne!(a0, a1);
    // Same endpoints after a recompile: the kernel keeps its position.
    let again = compile_with(web(), ProxyMode::Ipvs, "rr");
    let a2 = pick(&again, "10.244.0.50", &mut st);
    assert_ne!(a2, a1);
    assert_ne!(a2, a0);
}
