//! Backend selection: every algorithm that real proxies use to choose an
//! endpoint, deterministic and allocation-free per pick.
//!
//! This layer knows nothing about Kubernetes objects. A balancer is built
//! from a list of [`Backend`]s (a unique key, usually `"ip:port"`, and a
//! weight) and answers [`Balancer::pick`] with an index into that list.
//!
//! | family | types |
//! | --- | --- |
//! | turn-based | [`RoundRobin`], [`SmoothWeighted`] (nginx) |
//! | random | [`Random`], [`WeightedRandom`], [`IptablesChain`], [`NftablesNumgen`] |
//! | IPVS | [`Ipvs`] with [`IpvsScheduler`] `rr wrr lc wlc sed nq sh dh mh` |
//! | load-aware | [`LeastRequest`] (power of d choices), [`PeakEwma`] |
//! | consistent hashing | [`Maglev`], [`Ketama`], [`JumpHash`], [`Rendezvous`] |
//! | stickiness | [`ClientIpAffinity`] over any balancer |
//!
//! kube-proxy's data-plane renderings (iptables probabilities, nftables
//! `numgen`, IPVS real servers) are in [`kube`].
//!
//! ## Determinism
//!
//! Nothing here reads a clock or a global random source. Randomised
//! balancers own an [`Rng`] seeded by the caller; time (for affinity and
//! latency decay) is a `now_ms` argument. Hash functions and their seeds are
//! parameters (see [`hash`] and [`FlowHash`]), so that Envoy's and Cilium's
//! Maglev tables and nginx's ketama ring are reproduced bit for bit.
//!
//! ```
//! use svcroute::balance::{Backend, Balancer, Maglev, MaglevConfig, Request};
//! let backends: Vec<Backend> = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]
//!     .iter().map(|k| Backend::new(*k, 1)).collect();
//! let mut lb = Maglev::new(&backends, &MaglevConfig::default())?;
//! let i = lb.pick(&Request::hash(42)).unwrap();
//! assert_eq!(lb.pick(&Request::hash(42)), Some(i));
//! # Ok::<(), svcroute::balance::BalanceError>(())
//! ```

use crate::ErrorKind;
use std::net::IpAddr;

pub mod hash;
pub mod kube;

mod affinity;
mod any;
mod ipvs;
mod jump;
mod ketama;
mod key_index;
mod load;
mod maglev;
mod random;
mod rendezvous;
mod rng;
mod rr;
mod swrr;

pub use affinity::{ClientIpAffinity, DEFAULT_TIMEOUT_MS as CLIENT_IP_DEFAULT_TIMEOUT_MS};
pub use any::{Algorithm, AnyBalancer};
pub use ipvs::{Ipvs, IpvsScheduler, MH_TABLE_SIZE as IPVS_MH_TABLE_SIZE};
pub use jump::{JumpHash, jump_consistent_hash};
pub use ketama::{Ketama, KetamaConfig, KetamaPoints};
pub use kube::{IptablesChain, NftablesNumgen};
pub use load::{LeastRequest, PeakEwma, PeakEwmaConfig};
pub use maglev::{MAX_TABLE_SIZE as MAGLEV_MAX_TABLE_SIZE, Maglev, MaglevConfig, MaglevLayout};
pub use random::{Random, WeightedRandom};
pub use rendezvous::Rendezvous;
pub use rng::Rng;
pub use rr::RoundRobin;
pub use swrr::SmoothWeighted;

/// Errors of this layer.
///
/// ```
/// use svcroute::balance::{BalanceError, Maglev, MaglevConfig};
/// let cfg = MaglevConfig { table_size: 8, ..MaglevConfig::default() };
/// let err = Maglev::new(&[], &cfg).unwrap_err();
/// assert!(matches!(err, BalanceError::NotPrime { size: 8 }));
/// assert_eq!(err.kind(), svcroute::ErrorKind::Invalid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// A Maglev table size that is not a prime number.
    #[error("table size {size} is not a prime number")]
    NotPrime {
        /// The rejected size.
        size: u64,
    },
    /// More backends than the structure can hold (Maglev needs N <= M).
    #[error("{backends} backends do not fit a table of size {limit}")]
    TooManyBackends {
        /// How many backends were given.
        backends: usize,
        /// The limit that was exceeded.
        limit: u64,
    },
    /// Two backends share the same key.
    #[error("duplicate backend key {0:?}")]
    DuplicateKey(String),
    /// A parameter outside its allowed range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An event or query named a backend index that does not exist.
    #[error("no backend at index {0}")]
    NoSuchBackend(usize),
    /// [`Algorithm::from_name`] was given a name that is not in
    /// [`Algorithm::NAMES`].
    #[error("no balancing algorithm is named {name:?}; the names are {}", Algorithm::NAMES.join(", "))]
    UnknownAlgorithm {
        /// The rejected name.
        name: String,
    },
}

impl BalanceError {
    /// The classification of this error.
    ///
    /// ```
    /// use svcroute::balance::BalanceError;
    /// let e = BalanceError::TooManyBackends { backends: 10, limit: 7 };
    /// assert_eq!(e.kind(), svcroute::ErrorKind::Limit);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            BalanceError::TooManyBackends { .. } => ErrorKind::Limit,
            BalanceError::NoSuchBackend(_) | BalanceError::UnknownAlgorithm { .. } => {
                ErrorKind::NotFound
            }
            BalanceError::NotPrime { .. }
            | BalanceError::DuplicateKey(_)
            | BalanceError::InvalidParameter { .. } => ErrorKind::Invalid,
        }
    }
}

/// One backend: a unique key and a weight. Weight 0 means "present but not
/// eligible" (IPVS quiescing, drained endpoints): it is never picked.
///
/// The key is what hashing algorithms hash to place the backend, usually the
/// endpoint's `"ip:port"` (`"[v6]:port"` for IPv6), as Envoy and kube-proxy
/// write it.
///
/// ```
/// let b = svcroute::balance::Backend::new("10.244.0.11:8080", 3);
/// assert_eq!(b.weight, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Backend {
    /// Unique identity, hashed by consistent-hashing algorithms.
    pub key: String,
    /// Relative weight; 0 = never chosen.
    pub weight: u32,
}

impl Backend {
    /// A backend with a key and a weight.
    ///
    /// ```
    /// let b = svcroute::balance::Backend::new("a", 1);
    /// assert_eq!(b.key, "a");
    /// ```
    pub fn new(key: impl Into<String>, weight: u32) -> Backend {
        Backend {
            key: key.into(),
            weight,
        }
    }

    /// Backends of weight 1 from a list of keys.
    ///
    /// ```
    /// let v = svcroute::balance::Backend::list(["a", "b"]);
    /// assert_eq!(v.len(), 2);
    /// assert_eq!(v[1].weight, 1);
    /// ```
    pub fn list<I, S>(keys: I) -> Vec<Backend>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        keys.into_iter().map(|k| Backend::new(k, 1)).collect()
    }
}

/// IANA protocol numbers used in flow keys.
pub mod proto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// The 5-tuple of a connection.
///
/// ```
/// use svcroute::balance::{FlowKey, proto};
/// let f = FlowKey::new("10.0.0.9".parse().unwrap(), 40000,
///                      "10.96.0.10".parse().unwrap(), 80, proto::TCP);
/// assert_eq!(f.src_port, 40000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// Source address.
    pub src: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dst_port: u16,
    /// IANA protocol number ([`proto`]).
    pub protocol: u8,
}

fn ip_words(ip: &IpAddr) -> (u64, u64) {
    match ip {
        IpAddr::V4(a) => (u64::from(u32::from(*a)), 0),
        IpAddr::V6(a) => {
            let v = u128::from(*a);
            ((v >> 64) as u64, v as u64 ^ 0x6000_0000)
        }
    }
}

impl FlowKey {
    /// A flow key from its parts.
    ///
    /// ```
    /// use svcroute::balance::FlowKey;
    /// let f = FlowKey::new("::1".parse().unwrap(), 1, "::2".parse().unwrap(), 2, 17);
    /// assert_eq!(f.protocol, 17);
    /// ```
    pub fn new(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16, protocol: u8) -> FlowKey {
        FlowKey {
            src,
            src_port,
            dst,
            dst_port,
            protocol,
        }
    }

    /// The canonical byte encoding: source address octets, destination
    /// address octets, source port and destination port big-endian, then the
    /// protocol; 13 bytes for IPv4, 37 for IPv6. Returns the used prefix of
    /// `buf`.
    ///
    /// ```
    /// use svcroute::balance::FlowKey;
    /// let f = FlowKey::new("1.2.3.4".parse().unwrap(), 1, "5.6.7.8".parse().unwrap(), 2, 6);
    /// let mut buf = [0u8; 37];
    /// assert_eq!(f.encode(&mut buf), &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2, 6]);
    /// ```
    pub fn encode<'a>(&self, buf: &'a mut [u8; 37]) -> &'a [u8] {
        let mut n = 0;
        for ip in [&self.src, &self.dst] {
            match ip {
                IpAddr::V4(a) => {
                    buf[n..n + 4].copy_from_slice(&a.octets());
                    n += 4;
                }
                IpAddr::V6(a) => {
                    buf[n..n + 16].copy_from_slice(&a.octets());
                    n += 16;
                }
            }
        }
        buf[n..n + 2].copy_from_slice(&self.src_port.to_be_bytes());
        buf[n + 2..n + 4].copy_from_slice(&self.dst_port.to_be_bytes());
        buf[n + 4] = self.protocol;
        &buf[..n + 5]
    }

    /// svcroute's fast flow hash ([`FlowHash::Fast`]): a few folded
    /// multiplies over the packed tuple, stable on every target.
    ///
    /// ```
    /// use svcroute::balance::FlowKey;
    /// let f = FlowKey::new("1.2.3.4".parse().unwrap(), 1, "5.6.7.8".parse().unwrap(), 2, 6);
    /// assert_eq!(f.fast_hash(0), f.fast_hash(0));
    /// assert_ne!(f.fast_hash(0), f.fast_hash(1));
    /// ```
    #[inline]
    pub fn fast_hash(&self, seed: u64) -> u64 {
        let (s0, s1) = ip_words(&self.src);
        let (d0, d1) = ip_words(&self.dst);
        let ports = (u64::from(self.src_port) << 24)
            | (u64::from(self.dst_port) << 8)
            | u64::from(self.protocol);
        let a = s0 ^ (d0 << 32) ^ (d0 >> 32);
        let b = ports ^ s1.rotate_left(17) ^ d1.rotate_left(41);
        hash::mix64(a, b, seed)
    }
}

/// How a balancer turns a [`FlowKey`] into the 64-bit hash it indexes with.
///
/// ```
/// use svcroute::balance::{FlowHash, FlowKey};
/// let f = FlowKey::new("1.2.3.4".parse().unwrap(), 1, "5.6.7.8".parse().unwrap(), 2, 6);
/// assert_eq!(FlowHash::SourceAddress { seed: 0 }.hash(&f),
///            FlowHash::SourceAddress { seed: 0 }.hash(&FlowKey { src_port: 9, ..f }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FlowHash {
    /// svcroute's own fast hash over the whole 5-tuple ([`FlowKey::fast_hash`]).
    #[default]
    Fast,
    /// Fast hash with a seed.
    FastSeeded {
        /// The seed.
        seed: u64,
    },
    /// xxHash64 over the canonical byte encoding ([`FlowKey::encode`]).
    XxHash64 {
        /// The seed.
        seed: u64,
    },
    /// Only the source address (ClientIP-style stickiness): xxHash64 of its
    /// octets.
    SourceAddress {
        /// The seed.
        seed: u64,
    },
    /// Cilium's datapath: `jhash_3words(saddr, dport << 16 | sport, proto,
    /// seed)` for IPv4 (words as loaded from network-order packet fields on
    /// a little-endian host) and `hash_from_tuple_v6` for IPv6. The
    /// destination address is left out on purpose.
    CiliumJhash {
        /// The datapath seed (`SeedJhash0`).
        seed: u32,
    },
}

impl FlowHash {
    /// The 64-bit hash of `flow` under this scheme.
    ///
    /// ```
    /// use svcroute::balance::{FlowHash, FlowKey};
    /// let f = FlowKey::new("1.2.3.4".parse().unwrap(), 1, "5.6.7.8".parse().unwrap(), 2, 6);
    /// assert_eq!(FlowHash::Fast.hash(&f), f.fast_hash(0));
    /// ```
    #[inline]
    pub fn hash(&self, flow: &FlowKey) -> u64 {
        match *self {
            FlowHash::Fast => flow.fast_hash(0),
            FlowHash::FastSeeded { seed } => flow.fast_hash(seed),
            FlowHash::XxHash64 { seed } => {
                let mut buf = [0u8; 37];
                hash::xxhash64(flow.encode(&mut buf), seed)
            }
            FlowHash::SourceAddress { seed } => match flow.src {
                IpAddr::V4(a) => hash::xxhash64(&a.octets(), seed),
                IpAddr::V6(a) => hash::xxhash64(&a.octets(), seed),
            },
            FlowHash::CiliumJhash { seed } => {
                let sport = u32::from(flow.src_port.swap_bytes());
                let dport = u32::from(flow.dst_port.swap_bytes());
                let ports = (dport << 16) | sport;
                let proto = u32::from(flow.protocol);
                u64::from(match flow.src {
                    IpAddr::V4(a) => {
                        hash::jhash_3words(u32::from_le_bytes(a.octets()), ports, proto, seed)
                    }
                    IpAddr::V6(a) => {
                        let o = a.octets();
                        let w = |i: usize| u32::from_le_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
                        hash::jhash_v6_tuple([w(0), w(4), w(8), w(12)], ports, proto, seed)
                    }
                })
            }
        }
    }
}

/// What a pick is keyed on.
///
/// ```
/// use svcroute::balance::Key;
/// assert_eq!(Key::Hash(7), Key::Hash(7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Key {
    /// No key: hashing balancers fall back to their seeded random source.
    #[default]
    None,
    /// A connection's 5-tuple, hashed by the balancer's [`FlowHash`].
    Flow(FlowKey),
    /// A hash computed by the caller (an HTTP header hash, a cookie...).
    Hash(u64),
}

/// The input of one pick: a key and the caller's clock in milliseconds
/// (used only by time-aware balancers: affinity timeouts, latency decay).
///
/// ```
/// use svcroute::balance::{Key, Request};
/// let r = Request::hash(5).at(1_000);
/// assert_eq!(r.key, Key::Hash(5));
/// assert_eq!(r.now_ms, 1_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request {
    /// What the pick is keyed on.
    pub key: Key,
    /// The caller's monotonic clock, in milliseconds.
    pub now_ms: u64,
}

impl Request {
    /// A request with no key, at time 0.
    ///
    /// ```
    /// assert_eq!(svcroute::balance::Request::none().now_ms, 0);
    /// ```
    pub const fn none() -> Request {
        Request {
            key: Key::None,
            now_ms: 0,
        }
    }

    /// A request keyed by a caller-provided hash, at time 0.
    ///
    /// ```
    /// use svcroute::balance::{Key, Request};
    /// assert_eq!(Request::hash(9).key, Key::Hash(9));
    /// ```
    pub const fn hash(h: u64) -> Request {
        Request {
            key: Key::Hash(h),
            now_ms: 0,
        }
    }

    /// A request keyed by a flow, at time 0.
    ///
    /// ```
    /// use svcroute::balance::{FlowKey, Key, Request};
    /// let f = FlowKey::new("1.2.3.4".parse().unwrap(), 1, "5.6.7.8".parse().unwrap(), 2, 6);
    /// assert_eq!(Request::flow(f).key, Key::Flow(f));
    /// ```
    pub const fn flow(flow: FlowKey) -> Request {
        Request {
            key: Key::Flow(flow),
            now_ms: 0,
        }
    }

    /// The same request at time `now_ms`.
    ///
    /// ```
    /// assert_eq!(svcroute::balance::Request::none().at(5).now_ms, 5);
    /// ```
    pub const fn at(self, now_ms: u64) -> Request {
        Request { now_ms, ..self }
    }
}

/// What stateful balancers are told about the traffic they placed.
///
/// ```
/// use svcroute::balance::{Balancer, Backend, Event, LeastRequest, Request};
/// let mut lb = LeastRequest::new(&Backend::list(["a", "b"]), 2, 1);
/// let i = lb.pick(&Request::none()).unwrap();
/// lb.observe(Event::Opened(i));
/// lb.observe(Event::Closed(i));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A connection/request to this backend index started.
    Opened(usize),
    /// A connection/request to this backend index ended.
    Closed(usize),
    /// A response from this backend took `micros` microseconds, observed at
    /// `now_ms`.
    Latency {
        /// Backend index.
        backend: usize,
        /// Observed latency in microseconds.
        micros: u64,
        /// The caller's clock.
        now_ms: u64,
    },
}

/// The common interface of every balancer.
///
/// * [`pick`](Balancer::pick) returns an index into the backend list the
///   balancer was built (or last [updated](Balancer::set_backends)) with, or
///   `None` when no backend is eligible. It never allocates.
/// * [`observe`](Balancer::observe) feeds connection and latency events to
///   stateful balancers (others ignore them).
/// * [`set_backends`](Balancer::set_backends) replaces the backend set, with
///   each algorithm's minimal-disruption guarantee (state is carried over by
///   backend key).
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Request, RoundRobin};
/// let mut lb = RoundRobin::new(&Backend::list(["a", "b", "c"]));
/// let picks: Vec<_> = (0..4).map(|_| lb.pick(&Request::none()).unwrap()).collect();
/// assert_eq!(picks, [0, 1, 2, 0]);
/// lb.set_backends(&Backend::list(["a", "b"])).unwrap();
/// assert_eq!(lb.len(), 2);
/// ```
pub trait Balancer {
    /// Choose a backend for a new connection or request.
    fn pick(&mut self, req: &Request) -> Option<usize>;

    /// Tell the balancer about traffic it placed. The default ignores it.
    fn observe(&mut self, event: Event) {
        let _ = event;
    }

    /// Replace the backend set; later picks index into `backends`.
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError>;

    /// How many backends (eligible or not) the balancer holds.
    fn len(&self) -> usize;

    /// Whether the balancer holds no backend.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rejects duplicate keys; shared by constructors that hash keys.
pub(crate) fn check_unique(backends: &[Backend]) -> Result<(), BalanceError> {
    let mut keys: Vec<&str> = backends.iter().map(|b| b.key.as_str()).collect();
    crate::order::sort_unstable(&mut keys);
    for w in keys.windows(2) {
        if w[0] == w[1] {
            return Err(BalanceError::DuplicateKey(w[0].to_string()));
        }
    }
    Ok(())
}

/// Resolves a [`Key`] to a 64-bit hash, drawing from `rng` when there is none.
#[cfg_attr(not(feature = "compact"), inline(always))]
pub(crate) fn key_hash(key: &Key, flow_hash: &FlowHash, rng: &mut Rng) -> u64 {
    match key {
        Key::Hash(h) => *h,
        Key::Flow(f) => flow_hash.hash(f),
        Key::None => rng.next_u64(),
    }
}

/// `a mod d` without a division instruction (Lemire's direct remainder with
/// a 128-bit reciprocal); exact for every 64-bit `a` and `d >= 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FastMod {
    d: u64,
    c: u128,
}

impl FastMod {
    pub(crate) fn new(d: u64) -> FastMod {
        debug_assert!(d > 0);
        FastMod {
            d,
            c: (u128::MAX / u128::from(d)).wrapping_add(1),
        }
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn rem(&self, a: u64) -> u64 {
        if self.d == 1 {
            return 0;
        }
        let low = self.c.wrapping_mul(u128::from(a));
        let lo = (low as u64) as u128;
        let hi = (low >> 64) as u64 as u128;
        let d = u128::from(self.d);
        let t = (lo * d) >> 64;
        ((hi * d + t) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastmod_matches_remainder() {
        let mut r = Rng::new(1);
        for d in [1u64, 2, 3, 7, 17, 251, 65537, 5_000_011, u64::MAX, 1 << 40] {
            let fm = FastMod::new(d);
            for a in [0u64, 1, d - 1, d, d.wrapping_add(1), u64::MAX, u64::MAX - 1] {
                assert_eq!(fm.rem(a), a % d, "{a} % {d}");
            }
            for _ in 0..10_000 {
                let a = r.next_u64();
                assert_eq!(fm.rem(a), a % d, "{a} % {d}");
            }
        }
    }

    #[test]
    fn errors_classify() {
        assert_eq!(
            BalanceError::DuplicateKey("a".into()).kind(),
            ErrorKind::Invalid
        );
        assert_eq!(BalanceError::NoSuchBackend(3).kind(), ErrorKind::NotFound);
    }
}
