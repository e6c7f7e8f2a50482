//! Property tests of the allocators (`svcroute::ipam`): no double
//! allocation, exhaustion, reuse after release, band preference,
//! determinism, and no panic on arbitrary input.

use std::collections::BTreeSet;
use std::net::IpAddr;

use proptest::prelude::*;
use svcroute::ipam::{
    ClusterIpAllocator, DualStackIpAllocator, IpFamily, IpNet, IpRange, IpRequest,
    NodeCidrAllocator, NodeCidrConfig, NodePortAllocator, PodIpAllocator, PortRange,
    ServicePortRequest,
};

/// Small service CIDRs of both families, with and without a band split.
fn small_cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (22u8..=30).prop_map(|p| IpNet::parse_truncating(&format!("10.96.0.0/{p}")).unwrap()),
        (118u8..=126).prop_map(|p| IpNet::parse_truncating(&format!("fd00:10:96::/{p}")).unwrap()),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Next,
    /// Allocate the usable address at this position (mod size).
    Specific(u64),
    /// Release the allocated address at this position (mod count).
    Release(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(Op::Next),
            2 => any::<u64>().prop_map(Op::Specific),
            2 => any::<usize>().prop_map(Op::Release),
        ],
        0..300,
    )
}

/// Runs `ops` against the allocator and a model set, checking every step.
/// Returns the sequence of results for determinism checks.
fn run_cluster_ip(a: &mut ClusterIpAllocator, ops: &[Op]) -> Vec<Option<IpAddr>> {
    let mut model: BTreeSet<IpAddr> = BTreeSet::new();
    let usable: Vec<IpAddr> = a.cidr().hosts().collect();
    let dynamic = a.dynamic_band().unwrap();
    let dynamic_size = dynamic.len() as u64;
    let mut trace = Vec::new();
    for op in ops {
        match op {
            Op::Next => {
                let dynamic_had_room = a.used_in_dynamic_band() < dynamic_size;
                match a.allocate_next() {
                    Ok(ip) => {
                        assert!(model.insert(ip), "double allocation of {ip}");
                        assert!(usable.contains(&ip));
                        if dynamic_had_room {
                            assert!(dynamic.contains(ip), "{ip} outside dynamic band {dynamic}");
                        } else {
                            assert!(a.static_band().unwrap().contains(ip));
                        }
                        trace.push(Some(ip));
                    }
                    Err(err) => {
                        assert_eq!(err.code(), "range-full");
                        assert_eq!(model.len(), usable.len(), "range-full while free");
                        trace.push(None);
                    }
                }
            }
            Op::Specific(i) => {
                let ip = usable[(*i % usable.len() as u64) as usize];
                match a.allocate(ip) {
                    Ok(()) => assert!(model.insert(ip), "double allocation of {ip}"),
                    Err(err) => {
                        assert_eq!(err.code(), "already-allocated");
                        assert!(model.contains(&ip));
                    }
                }
                trace.push(Some(ip));
            }
            Op::Release(i) => {
                if model.is_empty() {
                    continue;
                }
                let ip = *model.iter().nth(*i % model.len()).unwrap();
                assert!(a.release(ip));
                model.remove(&ip);
                assert!(!a.is_allocated(ip));
                assert!(!a.release(ip));
            }
        }
        assert_eq!(a.used(), model.len() as u64);
    }
    assert_eq!(a.allocated().collect::<BTreeSet<_>>(), model);
    trace
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Never double-allocates; dynamic results stay in the dynamic band
    /// while it has room (ALLOC-4, ALLOC-5); full only when full.
    #[test]
    fn cluster_ip_model(cidr in small_cidr(), seed in any::<u64>(), ops in ops()) {
        let mut a = ClusterIpAllocator::new(cidr, seed).unwrap();
        run_cluster_ip(&mut a, &ops);
    }

    /// Same seed, same operations: same results.
    #[test]
    fn cluster_ip_deterministic(cidr in small_cidr(), seed in any::<u64>(), ops in ops()) {
        let mut a = ClusterIpAllocator::new(cidr, seed).unwrap();
        let mut b = ClusterIpAllocator::new(cidr, seed).unwrap();
        prop_assert_eq!(run_cluster_ip(&mut a, &ops), run_cluster_ip(&mut b, &ops));
        prop_assert_eq!(a, b);
    }

    /// Allocating everything yields every usable address once, then
    /// range-full; releasing one makes exactly it allocatable again.
    #[test]
    fn cluster_ip_allocate_all_then_full(cidr in small_cidr(), seed in any::<u64>(), pick in any::<usize>()) {
        let mut a = ClusterIpAllocator::new(cidr, seed).unwrap();
        let size = a.size() as usize;
        let got: BTreeSet<IpAddr> = (0..size).map(|_| a.allocate_next().unwrap()).collect();
        prop_assert_eq!(got.len(), size);
        prop_assert_eq!(&got, &cidr.hosts().collect::<BTreeSet<_>>());
        prop_assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
        prop_assert_eq!(a.free(), 0);
        let victim = *got.iter().nth(pick % size).unwrap();
        prop_assert!(a.release(victim));
        prop_assert_eq!(a.allocate_next().unwrap(), victim);
        prop_assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
    }

    /// Big IPv6 ranges: allocation stays in the dynamic band and never
    /// repeats, without touching memory proportional to the range.
    #[test]
    fn cluster_ip_large_ipv6(prefix in 64u8..=100, seed in any::<u64>(), n in 1usize..200) {
        let cidr = IpNet::parse_truncating(&format!("fd00:1:2:3::/{prefix}")).unwrap();
        let mut a = ClusterIpAllocator::new(cidr, seed).unwrap();
        let dynamic = a.dynamic_band().unwrap();
        let mut seen = BTreeSet::new();
        for _ in 0..n {
            let ip = a.allocate_next().unwrap();
            prop_assert!(dynamic.contains(ip));
            prop_assert!(seen.insert(ip));
        }
    }

    /// Pre-allocated ranges count only new addresses and are honoured.
    #[test]
    fn cluster_ip_ranges(seed in any::<u64>(), lo in 1u32..254, len in 0u32..254) {
        let cidr: IpNet = "10.96.0.0/24".parse().unwrap();
        let mut a = ClusterIpAllocator::new(cidr, seed).unwrap();
        let hi = (lo + len).min(254);
        let range = IpRange::new(cidr.nth(lo.into()).unwrap(), cidr.nth(hi.into()).unwrap()).unwrap();
        prop_assert_eq!(a.allocate_range(range).unwrap(), u64::from(hi - lo + 1));
        prop_assert_eq!(a.allocate_range(range).unwrap(), 0);
        for _ in 0..a.free() {
            let ip = a.allocate_next().unwrap();
            prop_assert!(!range.contains(ip));
        }
        prop_assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
    }

    /// Dual-stack service allocation is all-or-nothing.
    #[test]
    fn dual_stack_atomic(seed in any::<u64>(), specific in 1u8..=254, order in any::<bool>()) {
        let cidrs: [IpNet; 2] = ["10.96.0.0/24".parse().unwrap(), "fd00::/120".parse().unwrap()];
        let mut a = DualStackIpAllocator::new(&cidrs, seed).unwrap();
        let taken: IpAddr = format!("fd00::{specific:x}").parse().unwrap();
        a.allocate(taken).unwrap();
        let before = a.clone();
        let mut reqs = vec![IpRequest::Next(IpFamily::V4), IpRequest::Specific(taken)];
        if order {
            reqs.reverse();
        }
        prop_assert_eq!(a.allocate_service(&reqs).unwrap_err().code(), "already-allocated");
        prop_assert_eq!(&a, &before);
        let got = a.allocate_service(&[IpRequest::Next(IpFamily::V6), IpRequest::Next(IpFamily::V4)]).unwrap();
        prop_assert!(got[0].is_ipv6() && got[1].is_ipv4() && got[0] != taken);
    }
}

fn port_range() -> impl Strategy<Value = PortRange> {
    (30000u16..30100, 0u16..600)
        .prop_map(|(first, len)| PortRange::new(first, first + len).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Node ports: no double allocation, dynamic band first (ALLOC-9),
    /// full only when full, same seed same ports.
    #[test]
    fn node_port_model(range in port_range(), seed in any::<u64>(), ops in ops()) {
        let mut a = NodePortAllocator::new(range, seed);
        let mut twin = NodePortAllocator::new(range, seed);
        let mut model = BTreeSet::new();
        let dynamic = a.dynamic_band();
        for op in &ops {
            match op {
                Op::Next => {
                    let dynamic_used = model.iter().filter(|p| dynamic.contains(**p)).count() as u32;
                    let got = a.allocate_next();
                    prop_assert_eq!(&got, &twin.allocate_next());
                    match got {
                        Ok(p) => {
                            prop_assert!(model.insert(p), "double allocation of {}", p);
                            prop_assert!(range.contains(p));
                            if dynamic_used < dynamic.len() {
                                prop_assert!(dynamic.contains(p));
                            }
                        }
                        Err(e) => {
                            prop_assert_eq!(e.code(), "range-full");
                            prop_assert_eq!(model.len() as u32, range.len());
                        }
                    }
                }
                Op::Specific(i) => {
                    let p = range.first() + (*i % u64::from(range.len())) as u16;
                    let got = a.allocate(p);
                    prop_assert_eq!(&got, &twin.allocate(p));
                    prop_assert_eq!(got.is_ok(), model.insert(p));
                }
                Op::Release(i) => {
                    if let Some(&p) = model.iter().nth(*i % model.len().max(1)) {
                        prop_assert!(a.release(p));
                        twin.release(p);
                        model.remove(&p);
                    }
                }
            }
            prop_assert_eq!(a.used() as usize, model.len());
        }
        prop_assert_eq!(a.allocated().collect::<BTreeSet<_>>(), model);
    }

    /// Node ports: allocate every port, then range-full; release reuses.
    #[test]
    fn node_port_allocate_all(range in port_range(), seed in any::<u64>(), pick in any::<u16>()) {
        let mut a = NodePortAllocator::new(range, seed);
        let got: BTreeSet<u16> = (0..range.len()).map(|_| a.allocate_next().unwrap()).collect();
        prop_assert_eq!(got.len() as u32, range.len());
        prop_assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
        let victim = range.first() + pick % range.len() as u16;
        prop_assert!(a.release(victim));
        prop_assert_eq!(a.allocate_next().unwrap(), victim);
    }

    /// Service port allocation: ports with the same number share a node
    /// port, different numbers never do, and a failure leaves no trace.
    #[test]
    fn service_ports(
        seed in any::<u64>(),
        ports in prop::collection::vec((1i32..6, prop::option::of(30000u16..30010)), 1..6),
        allocate_missing in any::<bool>(),
    ) {
        let mut a = NodePortAllocator::new(PortRange::default(), seed);
        a.allocate(30005).unwrap();
        let before = a.clone();
        let reqs: Vec<ServicePortRequest> = ports
            .iter()
            .map(|&(port, np)| ServicePortRequest { port, node_port: np })
            .collect();
        match a.allocate_service_ports(&reqs, allocate_missing) {
            Ok(got) => {
                prop_assert_eq!(got.len(), reqs.len());
                for (i, (r, g)) in reqs.iter().zip(&got).enumerate() {
                    if let Some(np) = r.node_port {
                        prop_assert_eq!(*g, Some(np), "explicit nodePort kept at {}", i);
                    }
                    if r.node_port.is_none() && !allocate_missing {
                        prop_assert_eq!(*g, None);
                    }
                    for (r2, g2) in reqs.iter().zip(&got) {
                        if let (Some(x), Some(y)) = (g, g2) && r.port != r2.port {
                            prop_assert_ne!(x, y, "different port numbers share a nodePort");
                        }
                    }
                }
                let distinct: BTreeSet<u16> = got.iter().flatten().copied().collect();
                prop_assert_eq!(a.used() as usize, before.used() as usize + distinct.len());
            }
            Err(err) => {
                prop_assert!(err.port_index().is_some());
                prop_assert_eq!(&a, &before);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Node IPAM: blocks are never handed out twice, every block is inside
    /// its cluster CIDR with the node mask, and a full set is
    /// cidr-not-available.
    #[test]
    fn node_cidr_model(
        cluster_prefix in 16u8..=22,
        extra in 0u8..=4,
        steps in prop::collection::vec((any::<bool>(), 0usize..40), 0..120),
    ) {
        let node_mask = cluster_prefix + extra;
        let config = NodeCidrConfig {
            cluster_cidrs: vec![
                IpNet::parse_truncating(&format!("10.244.0.0/{cluster_prefix}")).unwrap(),
                IpNet::parse_truncating(&format!("fd00:10:244::/{}", 48 + u16::from(extra) * 2)).unwrap(),
            ],
            node_mask_ipv4: node_mask,
            node_mask_ipv6: 48 + extra * 2 + extra,
            service_cidrs: vec![],
        };
        let mut a = NodeCidrAllocator::new(&config).unwrap();
        let mut held: std::collections::BTreeMap<String, Vec<IpNet>> = Default::default();
        for (add, n) in steps {
            let name = format!("n{n}");
            if add {
                match a.allocate(&name) {
                    Ok(cidrs) => {
                        prop_assert_eq!(cidrs.len(), 2);
                        for (c, cluster) in cidrs.iter().zip(&config.cluster_cidrs) {
                            prop_assert!(cluster.contains_net(c));
                            prop_assert_eq!(c.prefix_len(), config.node_mask(c.family()));
                        }
                        if let Some(prev) = held.get(&name) {
                            prop_assert_eq!(prev, &cidrs);
                        }
                        for (other, theirs) in &held {
                            if other != &name {
                                for c in &cidrs {
                                    prop_assert!(!theirs.contains(c), "{} handed twice", c);
                                }
                            }
                        }
                        held.insert(name, cidrs);
                    }
                    Err(err) => prop_assert_eq!(err.code(), "cidr-not-available"),
                }
            } else {
                let released = a.release_node(&name);
                prop_assert_eq!(released, held.remove(&name).unwrap_or_default());
            }
        }
    }

    /// Pod IPs: unique, inside the node CIDR, never network/gateway/IPv4
    /// broadcast; full when full.
    #[test]
    fn pod_ips(prefix in 24u8..=30, v6 in any::<bool>(), steps in prop::collection::vec(any::<Option<usize>>(), 0..300)) {
        let cidr = if v6 {
            IpNet::parse_truncating(&format!("fd00::/{}", prefix + 96)).unwrap()
        } else {
            IpNet::parse_truncating(&format!("10.244.1.0/{prefix}")).unwrap()
        };
        let mut a = PodIpAllocator::new(cidr);
        let mut model = BTreeSet::new();
        for step in steps {
            match step {
                None => match a.allocate_next() {
                    Ok(ip) => {
                        prop_assert!(model.insert(ip));
                        prop_assert!(a.range().unwrap().contains(ip));
                        prop_assert!(Some(ip) != a.gateway() && ip != cidr.network());
                        if !v6 {
                            prop_assert!(ip != cidr.last_address());
                        }
                    }
                    Err(e) => {
                        prop_assert_eq!(e.code(), "range-full");
                        prop_assert_eq!(model.len() as u128, a.size());
                    }
                },
                Some(i) => {
                    if let Some(&ip) = model.iter().nth(i % model.len().max(1)) {
                        prop_assert!(a.release(ip));
                        model.remove(&ip);
                    }
                }
            }
        }
    }
}

/// Strings that look roughly like CIDRs, ranges and port ranges.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-F:./+ %-]{0,48}",
        (any::<[u8; 4]>(), 0u16..300)
            .prop_map(|(o, p)| format!("{}.{}.{}.{}/{p}", o[0], o[1], o[2], o[3])),
        (any::<u128>(), 0u16..300)
            .prop_map(|(a, p)| format!("{}/{p}", std::net::Ipv6Addr::from(a))),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| format!("{a}-{b}")),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}+{b}")),
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| format!(
            "{}-{}",
            std::net::Ipv4Addr::from(a),
            std::net::Ipv4Addr::from(b)
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No parser panics, and whatever parses round-trips and builds
    /// allocators without panicking.
    #[test]
    fn parsers_never_panic(s in junk()) {
        if let Ok(net) = s.parse::<IpNet>() {
            prop_assert_eq!(net.to_string().parse::<IpNet>().unwrap(), net);
            let _ = net.first_usable();
            let _ = net.last_usable();
            let _ = net.usable_count();
            let _ = net.hosts().next();
            if let Ok(mut a) = ClusterIpAllocator::new(net, 1) {
                let _ = a.allocate_next();
                let _ = a.static_band();
            }
            let mut pods = PodIpAllocator::new(net);
            let _ = pods.allocate_next();
        }
        if let Ok(net) = IpNet::parse_truncating(&s) {
            prop_assert!(net.contains(net.network()));
        }
        if let Ok(r) = s.parse::<IpRange>() {
            prop_assert!(r.len() >= 1);
            prop_assert!(r.contains(r.first()) && r.contains(r.last()));
        }
        if let Ok(r) = s.parse::<PortRange>() {
            prop_assert!(r.first() <= r.last());
            let mut a = NodePortAllocator::new(r, 0);
            prop_assert!(a.allocate_next().is_ok());
        }
        let _ = s.parse::<IpFamily>();
    }

    /// Arbitrary prefixes build allocators that behave at the edges.
    #[test]
    fn any_prefix_allocates_sanely(addr in any::<u128>(), prefix in 0u8..=128, v4 in any::<bool>(), seed in any::<u64>()) {
        let (ip, prefix): (IpAddr, u8) = if v4 {
            (std::net::Ipv4Addr::from(addr as u32).into(), prefix % 33)
        } else {
            (std::net::Ipv6Addr::from(addr).into(), prefix)
        };
        let net = IpNet::new_truncating(ip, prefix).unwrap();
        match ClusterIpAllocator::new(net, seed) {
            Ok(mut a) => {
                for _ in 0..3 {
                    match a.allocate_next() {
                        Ok(got) => prop_assert!(a.dynamic_band().unwrap().contains(got) || a.static_band().is_some_and(|s| s.contains(got))),
                        Err(e) => prop_assert_eq!(e.code(), "range-full"),
                    }
                }
                prop_assert!(!a.in_range(net.network()));
            }
            Err(e) => {
                prop_assert_eq!(e.code(), "invalid-config");
                prop_assert!(!v4 && prefix < 64);
            }
        }
    }
}
