//! # ipam: cluster IPs, node ports, pod CIDRs
//!
//! The allocators of a cluster, modelled on what kube-apiserver and
//! kube-controller-manager do (`services.md` section 1, rules `ALLOC-1` …
//! `ALLOC-18`). They work on addresses, CIDR blocks and port numbers only;
//! the cluster layer drives them from Service and Node objects.
//!
//! | type | models | rules |
//! | --- | --- | --- |
//! | [`IpNet`], [`IpRange`], [`IpFamily`] | CIDR blocks, `"a-b"` ranges, families | ALLOC-2 |
//! | [`ClusterIpAllocator`] | one service CIDR (`--service-cluster-ip-range`) | ALLOC-1 … ALLOC-6 |
//! | [`DualStackIpAllocator`] | the one or two service CIDRs, primary first | ALLOC-1, ALLOC-7 |
//! | [`NodePortAllocator`] | `--service-node-port-range` | ALLOC-8 … ALLOC-10, ALLOC-12, ALLOC-15 |
//! | [`NodeCidrAllocator`] | node IPAM (`--allocate-node-cidrs`) | ALLOC-18 |
//! | [`PodIpAllocator`] | pod IPs inside a node's pod CIDR (CNI `host-local`) | — |
//!
//! ## Bands
//!
//! Cluster IPs and node ports are split into a **static band** at the low
//! end, meant for addresses/ports users choose, and a **dynamic band**
//! (the rest), where automatic allocation goes first (KEP-3070 for IPs,
//! KEP-3668 for ports). Automatic allocation picks a uniformly random start
//! in the dynamic band, scans upward and wraps; only when the dynamic band
//! is full does it do the same in the static band, and only then is the
//! range full. Requests for a specific value may be in either band.
//!
//! | range | static band size | default example |
//! | --- | --- | --- |
//! | service CIDR of `2^h` addresses | `clamp(2^h / 16, 16, 256)`; none if `2^h <= 16` | `10.96.0.0/16`: static `10.96.0.1-10.96.1.0`, dynamic `10.96.1.1-10.96.255.254` |
//! | node-port range of `n` ports | `clamp(n / 32, 16, 128)`; none if `n <= 16` | `30000-32767`: static `30000-30085`, dynamic `30086-32767` |
//!
//! ```
//! use svcroute::ipam::{ClusterIpAllocator, NodePortAllocator};
//! let mut ips = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 7)?;
//! let ip = ips.allocate_next()?;
//! assert!(ips.dynamic_band().unwrap().contains(ip));
//! let mut ports = NodePortAllocator::new(Default::default(), 7);
//! assert!(ports.dynamic_band().contains(ports.allocate_next()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Families
//!
//! A cluster has one service CIDR per family; the first configured is the
//! *primary* family, which single-stack Services get by default.
//! [`DualStackIpAllocator`] holds the per-family allocators and allocates
//! the addresses of one Service atomically. Usable addresses differ by
//! family (ALLOC-2): the network address is never handed out, the IPv4
//! broadcast address neither, but the last IPv6 address is.
//!
//! ```
//! use svcroute::ipam::{DualStackIpAllocator, IpFamily, IpRequest};
//! let cidrs = ["fd00:10:96::/112".parse()?, "10.96.0.0/16".parse()?];
//! let mut ips = DualStackIpAllocator::new(&cidrs, 1)?;
//! assert_eq!(ips.primary_family(), IpFamily::V6);
//! let got = ips.allocate_service(&[IpRequest::Next(IpFamily::V6), IpRequest::Next(IpFamily::V4)])?;
//! assert_eq!(got.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Why sparse
//!
//! An IPv6 service CIDR may be as large as a /64: 2^64 addresses. A bitmap
//! (what upstream's old allocator kept, capped at 65536 entries) is out of
//! the question, and so is iterating such a range. Every allocator here
//! records what is taken as a set of maximal runs of consecutive values in
//! a B-tree: memory grows with the number of runs (at most the number of
//! allocations, and a pre-allocated `"a-b"` range is one run), and "first
//! free value at or after `x`" is one lookup (the value after a run is
//! always free), so the random-start-then-scan of ALLOC-5 costs
//! `O(log runs)` however full the range is.
//!
//! ```
//! use svcroute::ipam::ClusterIpAllocator;
//! let mut ips = ClusterIpAllocator::new("fd00::/64".parse()?, 1)?;
//! // Take the whole dynamic band but one address: one run, instantly.
//! let dynamic = ips.dynamic_band().unwrap();
//! ips.allocate_range(svcroute::ipam::IpRange::new(dynamic.first(), "fd00::ffff:ffff:ffff:fffe".parse()?)?)?;
//! assert_eq!(ips.allocate_next()?, "fd00::ffff:ffff:ffff:ffff".parse::<std::net::IpAddr>()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Randomness and determinism
//!
//! Random starts come from [`crate::balance::Rng`], seeded by the caller:
//! the same seed and the same calls give the same allocations. A failed
//! allocation changes nothing, not even the random state; to roll back a
//! batch, save [`ClusterIpAllocator::rng`] (or clone the allocator) first.
//! Node IPAM and pod IPs are not random at all.
//!
//! ## Node IPAM
//!
//! [`NodeCidrAllocator`] cuts each cluster CIDR into blocks of the node
//! mask size and gives each new node the first free block at or after a
//! moving pointer (not random), one per family; it refuses configurations
//! the controller manager refuses (`invalid-config`) and answers
//! `cidr-not-available` when a cluster CIDR is exhausted.
//!
//! ```
//! use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig, PodIpAllocator};
//! let mut nodes = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
//! let cidr = nodes.allocate("node-1")?[0];
//! assert_eq!(cidr.to_string(), "10.244.0.0/24");
//! let mut pods = PodIpAllocator::new(cidr);
//! assert_eq!(pods.allocate_next()?.to_string(), "10.244.0.2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors
//!
//! [`IpamError`] names the address, port or CIDR at fault;
//! [`IpamError::code`] is the conformance vocabulary (`not-in-range`,
//! `already-allocated`, `range-full`, `invalid`, `cidr-not-available`,
//! `invalid-config`) and [`IpamError::kind`] the crate-wide
//! [`ErrorKind`](crate::ErrorKind).

mod cluster_ip;
mod error;
mod intervals;
mod net;
mod node_cidr;
mod node_port;
mod pod_ip;

pub use cluster_ip::{ClusterIpAllocator, DualStackIpAllocator, IpRequest};
pub use error::IpamError;
pub use net::{IpFamily, IpIter, IpNet, IpRange};
pub use node_cidr::{NodeCidrAllocator, NodeCidrConfig};
pub use node_port::{NodePortAllocator, PortRange, ServicePortRequest};
pub use pod_ip::PodIpAllocator;

/// The allocator side of the conformance vectors (`allocation.json`,
/// `nodecidr.json`): what the cluster layer will ask, step by step.
#[cfg(test)]
mod vectors {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A cluster's service allocators with the section 7 defaults:
    /// `kubernetesServiceIP` reserved.
    fn service_ips(cidrs: &[&str], seed: u64) -> DualStackIpAllocator {
        let cidrs: Vec<IpNet> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
        let mut a = DualStackIpAllocator::new(&cidrs, seed).unwrap();
        let k8s = a.kubernetes_service_ip().unwrap();
        a.allocate(k8s).unwrap();
        a
    }

    // ALC-001 (ALLOC-1, ALLOC-4, ALLOC-5): dynamic ClusterIP in 10.96.1.1-10.96.255.254.
    // ALC-020 step 2: the same band.
    #[test]
    fn alc_001_dynamic_band_of_a_slash_16() {
        for seed in 0..50 {
            let mut a = service_ips(&["10.96.0.0/16"], seed);
            let got = a
                .allocate_service(&[IpRequest::Next(IpFamily::V4)])
                .unwrap()[0];
            assert!(
                "10.96.1.1-10.96.255.254"
                    .parse::<IpRange>()
                    .unwrap()
                    .contains(got)
            );
        }
    }

    // ALC-003 (ALLOC-3, ALLOC-6): 10.96.0.1 is held by default/kubernetes.
    #[test]
    fn alc_003_first_usable_is_taken() {
        let mut a = service_ips(&["10.96.0.0/16"], 0);
        let err = a
            .allocate_service(&[IpRequest::Specific(ip("10.96.0.1"))])
            .unwrap_err();
        assert_eq!(err.code(), "already-allocated");
    }

    // ALC-004 (ALLOC-1, ALLOC-2, ALLOC-6): outside, network, broadcast.
    #[test]
    fn alc_004_not_in_range() {
        let mut a = service_ips(&["10.96.0.0/16"], 0);
        for bad in ["10.97.0.5", "10.96.0.0", "10.96.255.255"] {
            let err = a
                .allocate_service(&[IpRequest::Specific(ip(bad))])
                .unwrap_err();
            assert_eq!(err.code(), "not-in-range", "{bad}");
        }
    }

    // ALC-006 (ALLOC-4): a /24 has a 16-address static band.
    #[test]
    fn alc_006_slash_24_band() {
        for seed in 0..50 {
            let mut a = service_ips(&["10.96.0.0/24"], seed);
            let got = a
                .allocate_service(&[IpRequest::Next(IpFamily::V4)])
                .unwrap()[0];
            assert!(
                "10.96.0.17-10.96.0.254"
                    .parse::<IpRange>()
                    .unwrap()
                    .contains(got)
            );
        }
    }

    // ALC-015 (ALLOC-8, ALLOC-9, ALLOC-10).
    #[test]
    fn alc_015_node_ports() {
        type P = ServicePortRequest;
        let mut a = NodePortAllocator::new(Default::default(), 3);
        let got = a.allocate_service_ports(&[P::new(80)], true).unwrap();
        assert!((30086..=32767).contains(&got[0].unwrap()));
        let got = a
            .allocate_service_ports(&[P::new(80).with_node_port(30010)], true)
            .unwrap();
        assert_eq!(got, vec![Some(30010)]);
        let err = a
            .allocate_service_ports(&[P::new(81).with_node_port(30010)], true)
            .unwrap_err();
        assert_eq!(
            (err.code(), err.port_index()),
            ("already-allocated", Some(0))
        );
        let err = a
            .allocate_service_ports(&[P::new(80).with_node_port(29999)], true)
            .unwrap_err();
        assert_eq!((err.code(), err.port_index()), ("not-in-range", Some(0)));
    }

    // ALC-017 (ALLOC-10), steps 1 and 2 (step 0 is API validation).
    #[test]
    fn alc_017_sharing_by_port_number() {
        type P = ServicePortRequest;
        let mut a = NodePortAllocator::new(Default::default(), 3);
        let err = a
            .allocate_service_ports(
                &[
                    P::new(80).with_node_port(30020),
                    P::new(81).with_node_port(30020),
                ],
                true,
            )
            .unwrap_err();
        assert_eq!(
            (err.code(), err.port_index()),
            ("already-allocated", Some(1))
        );
        let got = a
            .allocate_service_ports(
                &[
                    P::new(80).with_node_port(30020),
                    P::new(80).with_node_port(30020),
                ],
                true,
            )
            .unwrap();
        assert_eq!(got, vec![Some(30020), Some(30020)]);
    }

    // ALC-018 (ALLOC-12) and ALC-019 (ALLOC-15).
    #[test]
    fn alc_018_019_load_balancers() {
        type P = ServicePortRequest;
        let mut a = NodePortAllocator::new(Default::default(), 3);
        let got = a.allocate_service_ports(&[P::new(80)], true).unwrap();
        assert!((30086..=32767).contains(&got[0].unwrap()));
        assert_eq!(
            a.allocate_service_ports(&[P::new(80)], false).unwrap(),
            vec![None]
        );
        let got = a
            .allocate_service_ports(&[P::new(80).with_node_port(30100), P::new(443)], false)
            .unwrap();
        assert_eq!(got, vec![Some(30100), None]);
        let hc = a.allocate_health_check(None).unwrap();
        assert!((30086..=32767).contains(&hc));
    }

    // NCIDR-003 (ALLOC-18): wrap-around reuses the lowest free block after the pointer.
    #[test]
    fn ncidr_003() {
        let config = NodeCidrConfig {
            cluster_cidrs: vec!["10.244.0.0/22".parse().unwrap()],
            service_cidrs: vec!["10.96.0.0/16".parse().unwrap()],
            ..NodeCidrConfig::default()
        };
        let mut a = NodeCidrAllocator::new(&config).unwrap();
        for (n, want) in [
            ("n1", "10.244.0.0/24"),
            ("n2", "10.244.1.0/24"),
            ("n3", "10.244.2.0/24"),
            ("n4", "10.244.3.0/24"),
        ] {
            assert_eq!(a.allocate(n).unwrap()[0].to_string(), want);
        }
        a.release_node("n2");
        assert_eq!(a.allocate("n5").unwrap()[0].to_string(), "10.244.1.0/24");
    }

    // NCIDR-006 (ALLOC-18): custom node mask.
    #[test]
    fn ncidr_006() {
        let config = NodeCidrConfig {
            node_mask_ipv4: 26,
            ..NodeCidrConfig::default()
        };
        let mut a = NodeCidrAllocator::new(&config).unwrap();
        assert_eq!(a.allocate("n1").unwrap()[0].to_string(), "10.244.0.0/26");
        assert_eq!(a.allocate("n2").unwrap()[0].to_string(), "10.244.0.64/26");
    }

    // NCIDR-007 (ALLOC-18): IPv6 node mask more than 16 bits longer.
    // The vector writes the cluster CIDR with host bits set
    // (fd00:10:244::/40); like the flag, the config is read truncating.
    #[test]
    fn ncidr_007() {
        let config = NodeCidrConfig {
            cluster_cidrs: vec![IpNet::parse_truncating("fd00:10:244::/40").unwrap()],
            service_cidrs: vec!["fd00:10:96::/112".parse().unwrap()],
            ..NodeCidrConfig::default()
        };
        assert!("fd00:10:244::/40".parse::<IpNet>().is_err());
        assert_eq!(
            NodeCidrAllocator::new(&config).unwrap_err().code(),
            "invalid-config"
        );
    }

    // Section 7 `allocated`: single values and inclusive ranges.
    #[test]
    fn allocated_config_entries() {
        let mut a = service_ips(&["10.96.0.0/24"], 0);
        for entry in ["10.96.0.17-10.96.0.254", "10.96.0.5"] {
            a.allocate_range(entry.parse().unwrap()).unwrap();
        }
        let got = a
            .allocate_service(&[IpRequest::Next(IpFamily::V4)])
            .unwrap()[0];
        assert!(a.primary().static_band().unwrap().contains(got));
        let mut p = NodePortAllocator::new(Default::default(), 0);
        for entry in ["30000-30008", "30010"] {
            p.allocate_range(entry.parse().unwrap()).unwrap();
        }
        assert_eq!(p.used(), 10);
    }
}
