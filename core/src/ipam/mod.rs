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
//! ips.allocate_range(svcroute::ipam::IpRange::new(dynamic.first, "fd00::ffff:ffff:ffff:fffe".parse()?)?)?;
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
