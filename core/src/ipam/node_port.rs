//! Node port allocation (ALLOC-8 … ALLOC-10, ALLOC-12, ALLOC-15).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::IpamError;
use super::intervals::IntervalSet;
use crate::balance::Rng;

/// An inclusive range of ports, `first ..= last`, as given to
/// `--service-node-port-range` (default `30000-32767`, ALLOC-8).
///
/// Parses like upstream's `PortRange`: `"a-b"`, a single port `"a"`, or
/// `"a+n"` (`a ..= a+n`); surrounding spaces are ignored. Also the form of
/// the conformance `allocated.nodePorts` entries.
///
/// ```
/// use svcroute::ipam::PortRange;
/// let r: PortRange = "30000-32767".parse()?;
/// assert_eq!(r.len(), 2768);
/// assert_eq!(r, PortRange::default());
/// assert_eq!("30000+9".parse::<PortRange>()?.to_string(), "30000-30009");
/// assert_eq!("30010".parse::<PortRange>()?.len(), 1);
/// assert!("32767-30000".parse::<PortRange>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub(crate) first: u16,
    pub(crate) last: u16,
}

impl PortRange {
    /// A range, refusing `first > last`.
    ///
    /// ```
    /// use svcroute::ipam::PortRange;
    /// assert!(PortRange::new(30000, 30010).is_ok());
    /// assert!(PortRange::new(30010, 30000).is_err());
    /// ```
    pub fn new(first: u16, last: u16) -> Result<PortRange, IpamError> {
        if first > last {
            return Err(IpamError::invalid(
                format!("{first}-{last}"),
                "end port cannot be less than start port",
            ));
        }
        Ok(PortRange { first, last })
    }

    /// The first port (inclusive).
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::PortRange::default().first(), 30000);
    /// ```
    pub fn first(&self) -> u16 {
        self.first
    }

    /// The last port (inclusive).
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::PortRange::default().last(), 32767);
    /// ```
    pub fn last(&self) -> u16 {
        self.last
    }

    /// Number of ports.
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::PortRange::new(1, 65535).unwrap().len(), 65535);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    /// Whether `port` is in the range.
    ///
    /// ```
    /// let r = svcroute::ipam::PortRange::default();
    /// assert!(r.contains(30000) && r.contains(32767) && !r.contains(29999));
    /// ```
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

impl Default for PortRange {
    /// `30000-32767`.
    fn default() -> PortRange {
        PortRange {
            first: 30000,
            last: 32767,
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = IpamError;
    fn from_str(s: &str) -> Result<PortRange, IpamError> {
        let t = s.trim();
        let num = |part: &str| -> Result<u32, IpamError> {
            let part = part.trim();
            if part.is_empty() || part.len() > 5 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(IpamError::invalid(
                    s,
                    format!("{part:?} is not a port number"),
                ));
            }
            part.parse::<u32>()
                .map_err(|_| IpamError::invalid(s, format!("{part:?} is not a port number")))
        };
        let (lo, hi) = if let Some((a, b)) = t.split_once('-') {
            (num(a)?, num(b)?)
        } else if let Some((a, n)) = t.split_once('+') {
            let lo = num(a)?;
            (lo, lo + num(n)?)
        } else {
            let p = num(t)?;
            (p, p)
        };
        if lo > 65535 || hi > 65535 {
            return Err(IpamError::invalid(
                s,
                "the port range cannot be greater than 65535",
            ));
        }
        PortRange::new(lo as u16, hi as u16)
            .map_err(|_| IpamError::invalid(s, "end port cannot be less than start port"))
    }
}

/// Static-band size of a node-port range (ALLOC-9, KEP-3668):
/// `clamp(size / 32, 16, 128)`, or 0 (no split) when `size <= 16`.
fn static_band_size(size: u32) -> u32 {
    if size <= 16 {
        0
    } else {
        (size / 32).clamp(16, 128)
    }
}

/// One entry of a Service's `spec.ports` as the node-port allocation sees
/// it: the Service port number and the nodePort the user asked for, if any.
///
/// ```
/// use svcroute::ipam::ServicePortRequest;
/// let p = ServicePortRequest::new(80).with_node_port(30080);
/// assert_eq!(p.port, 80);
/// assert_eq!(p.node_port, Some(30080));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServicePortRequest {
    /// `spec.ports[i].port`.
    pub port: i32,
    /// `spec.ports[i].nodePort`, when the user gave one.
    pub node_port: Option<u16>,
}

impl ServicePortRequest {
    /// A port without a requested nodePort.
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::ServicePortRequest::new(53).node_port, None);
    /// ```
    pub fn new(port: i32) -> ServicePortRequest {
        ServicePortRequest {
            port,
            node_port: None,
        }
    }

    /// The same port with a requested nodePort.
    ///
    /// ```
    /// let p = svcroute::ipam::ServicePortRequest::new(53).with_node_port(30053);
    /// assert_eq!(p.node_port, Some(30053));
    /// ```
    pub fn with_node_port(self, node_port: u16) -> ServicePortRequest {
        ServicePortRequest {
            node_port: Some(node_port),
            ..self
        }
    }
}

/// Hands out node ports from `--service-node-port-range`, as
/// kube-apiserver's port allocator does.
///
/// * One global set keyed by port number only, not by protocol: a number
///   has one owner cluster-wide (ALLOC-10).
/// * Bands (ALLOC-9, KEP-3668): the first `clamp(size/32, 16, 128)` ports
///   are the static band (no split when the range has 16 ports or fewer).
///   For the default range: static 30000-30085, dynamic 30086-32767.
/// * [`allocate_next`](Self::allocate_next): random start in the dynamic
///   band, scan upward with wrap, then the static band, then range-full.
/// * Health-check node ports (ALLOC-15) come from the same allocator:
///   [`allocate_health_check`](Self::allocate_health_check).
///
/// ```
/// use svcroute::ipam::NodePortAllocator;
/// let mut a = NodePortAllocator::new(Default::default(), 42);
/// assert_eq!(a.static_band().unwrap().to_string(), "30000-30085");
/// let p = a.allocate_next()?;
/// assert!((30086..=32767).contains(&p));
/// a.allocate(30010)?;
/// assert_eq!(a.allocate(30010).unwrap_err().code(), "already-allocated");
/// assert_eq!(a.allocate(29999).unwrap_err().code(), "not-in-range");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePortAllocator {
    range: PortRange,
    band: u32,
    used: IntervalSet,
    rng: Rng,
}

impl NodePortAllocator {
    /// An allocator over `range`, drawing randomness from `Rng::new(seed)`.
    ///
    /// ```
    /// use svcroute::ipam::{NodePortAllocator, PortRange};
    /// let a = NodePortAllocator::new(PortRange::new(30000, 30015)?, 0);
    /// assert_eq!(a.static_band(), None); // 16 ports: no split
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(range: PortRange, seed: u64) -> NodePortAllocator {
        NodePortAllocator {
            range,
            band: static_band_size(range.len()),
            used: IntervalSet::new(),
            rng: Rng::new(seed),
        }
    }

    /// The configured range.
    ///
    /// ```
    /// let a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// assert_eq!(a.range().to_string(), "30000-32767");
    /// ```
    pub fn range(&self) -> PortRange {
        self.range
    }

    /// The static band (ALLOC-9), `None` when the range is not split.
    ///
    /// ```
    /// use svcroute::ipam::{NodePortAllocator, PortRange};
    /// let a = NodePortAllocator::new(PortRange::new(1, 65535)?, 0);
    /// assert_eq!(a.static_band().unwrap().to_string(), "1-128");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn static_band(&self) -> Option<PortRange> {
        (self.band > 0).then(|| PortRange {
            first: self.range.first,
            last: (u32::from(self.range.first) + self.band - 1) as u16,
        })
    }

    /// The dynamic band (ALLOC-9): the range minus the static band.
    ///
    /// ```
    /// let a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// assert_eq!(a.dynamic_band().to_string(), "30086-32767");
    /// ```
    pub fn dynamic_band(&self) -> PortRange {
        PortRange {
            first: (u32::from(self.range.first) + self.band) as u16,
            last: self.range.last,
        }
    }

    /// Number of ports in the range.
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::NodePortAllocator::new(Default::default(), 0).size(), 2768);
    /// ```
    pub fn size(&self) -> u32 {
        self.range.len()
    }

    /// Number of allocated ports.
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// a.allocate(30000)?;
    /// assert_eq!(a.used(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn used(&self) -> u32 {
        self.used.len() as u32
    }

    /// Number of free ports.
    ///
    /// ```
    /// let a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// assert_eq!(a.free(), 2768);
    /// ```
    pub fn free(&self) -> u32 {
        self.size() - self.used()
    }

    /// Whether `port` is allocated.
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// a.allocate(30500)?;
    /// assert!(a.is_allocated(30500));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_allocated(&self, port: u16) -> bool {
        self.used.contains(u128::from(port))
    }

    /// Allocates a specific port (ALLOC-10): not-in-range outside the
    /// range, already-allocated when taken (whatever the protocol).
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// a.allocate(32767)?;
    /// assert_eq!(a.allocate(32768).unwrap_err().code(), "not-in-range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&mut self, port: u16) -> Result<(), IpamError> {
        if !self.range.contains(port) {
            return Err(IpamError::PortNotInRange {
                port,
                range: self.range,
            });
        }
        if self.used.insert(u128::from(port)) {
            Ok(())
        } else {
            Err(IpamError::PortAlreadyAllocated { port })
        }
    }

    /// Allocates a free port (ALLOC-9): random start in the dynamic band,
    /// scan upward with wrap; then the static band; else range-full. A
    /// failed call changes nothing.
    ///
    /// ```
    /// use svcroute::ipam::{NodePortAllocator, PortRange};
    /// let mut a = NodePortAllocator::new(PortRange::new(30000, 30001)?, 0);
    /// a.allocate_next()?;
    /// a.allocate_next()?;
    /// assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_next(&mut self) -> Result<u16, IpamError> {
        let full = IpamError::PortRangeFull { range: self.range };
        if self.used() >= self.size() {
            return Err(full);
        }
        let saved = self.rng.clone();
        let lo = u128::from(self.range.first);
        let hi = u128::from(self.range.last);
        let dyn_lo = lo + u128::from(self.band);
        let mut found = self.scan(dyn_lo, hi);
        if found.is_none() && self.band > 0 {
            found = self.scan(lo, dyn_lo - 1);
        }
        match found {
            Some(p) => {
                self.used.insert(p);
                Ok(p as u16)
            }
            None => {
                self.rng = saved;
                Err(full)
            }
        }
    }

    fn scan(&mut self, lo: u128, hi: u128) -> Option<u128> {
        let n = (hi - lo + 1) as u64;
        let start = lo + u128::from(self.rng.below(n));
        self.used.first_free_in(start, hi).or_else(|| {
            start
                .checked_sub(1)
                .and_then(|end| self.used.first_free_in(lo, end))
        })
    }

    /// Releases `port`; `false` if it was not allocated (not an error).
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// a.allocate(30001)?;
    /// assert!(a.release(30001));
    /// assert!(!a.release(30001));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&mut self, port: u16) -> bool {
        self.used.remove(u128::from(port))
    }

    /// Marks a range of ports allocated (conformance `allocated.nodePorts`,
    /// e.g. `"30000-30008"`); returns how many were newly marked. Fails,
    /// changing nothing, when the range leaves the node-port range.
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// assert_eq!(a.allocate_range("30000-30008".parse()?)?, 9);
    /// assert_eq!(a.allocate_range("29990-30008".parse()?).unwrap_err().code(), "not-in-range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_range(&mut self, ports: PortRange) -> Result<u32, IpamError> {
        for port in [ports.first, ports.last] {
            if !self.range.contains(port) {
                return Err(IpamError::PortNotInRange {
                    port,
                    range: self.range,
                });
            }
        }
        Ok(self
            .used
            .insert_range(u128::from(ports.first), u128::from(ports.last)) as u32)
    }

    /// The allocated ports, ascending.
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 0);
    /// a.allocate(30002)?;
    /// a.allocate(30001)?;
    /// assert_eq!(a.allocated().collect::<Vec<_>>(), [30001, 30002]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocated(&self) -> impl Iterator<Item = u16> + '_ {
        self.used.iter().map(|p| p as u16)
    }

    /// Allocates the node ports of one Service being created, the way
    /// kube-apiserver does (ALLOC-10, ALLOC-12), atomically.
    ///
    /// Ports are handled in order. A port whose `port` number was already
    /// handled reuses that nodePort when it asked for none or for the same
    /// one, else its own request is allocated. Otherwise: the first nodePort
    /// requested by *any* entry with the same `port` number is allocated
    /// (so 53/TCP and 53/UDP share one, and a port without a nodePort
    /// inherits the one given to its twin), or a fresh one is drawn. With
    /// `allocate_missing == false` (`allocateLoadBalancerNodePorts: false`)
    /// ports that asked for nothing get nothing (`None`), and explicit ones
    /// are still honoured.
    ///
    /// On error nothing stays allocated (and the random state is restored);
    /// the error is [`IpamError::ServicePort`] naming the entry
    /// (`spec.ports[i].nodePort`). Protocol and duplicate `(nodePort,
    /// protocol)` validation (ALLOC-10) is API validation, done before.
    ///
    /// ```
    /// use svcroute::ipam::{NodePortAllocator, ServicePortRequest as P};
    /// let mut a = NodePortAllocator::new(Default::default(), 1);
    /// // 53/TCP and 53/UDP share one nodePort; 80 gets its own.
    /// let got = a.allocate_service_ports(&[P::new(53), P::new(53), P::new(80)], true)?;
    /// assert_eq!(got[0], got[1]);
    /// assert_ne!(got[0], got[2]);
    /// // 80 and 81 both asking for 30020: the second is already allocated.
    /// let err = a
    ///     .allocate_service_ports(&[P::new(80).with_node_port(30020), P::new(81).with_node_port(30020)], true)
    ///     .unwrap_err();
    /// assert_eq!((err.code(), err.port_index()), ("already-allocated", Some(1)));
    /// assert!(!a.is_allocated(30020));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_service_ports(
        &mut self,
        ports: &[ServicePortRequest],
        allocate_missing: bool,
    ) -> Result<Vec<Option<u16>>, IpamError> {
        let saved = self.rng.clone();
        let mut taken: Vec<u16> = Vec::new();
        let mut by_port: BTreeMap<i32, u16> = BTreeMap::new();
        let mut out: Vec<Option<u16>> = Vec::with_capacity(ports.len());
        let mut failure: Option<(usize, IpamError)> = None;
        for (i, req) in ports.iter().enumerate() {
            if req.node_port.is_none() && !allocate_missing {
                out.push(None);
                continue;
            }
            let step = match by_port.get(&req.port).copied() {
                None => {
                    let requested = ports
                        .iter()
                        .find(|p| p.port == req.port && p.node_port.is_some())
                        .and_then(|p| p.node_port);
                    let result = match requested {
                        Some(np) => self.allocate(np).map(|()| np),
                        None => self.allocate_next(),
                    };
                    result.inspect(|&np| {
                        taken.push(np);
                        by_port.insert(req.port, np);
                    })
                }
                Some(shared) => match req.node_port {
                    None => Ok(shared),
                    Some(np) if np == shared => Ok(shared),
                    Some(np) => self.allocate(np).map(|()| {
                        taken.push(np);
                        np
                    }),
                },
            };
            match step {
                Ok(np) => out.push(Some(np)),
                Err(err) => {
                    failure = Some((i, err));
                    break;
                }
            }
        }
        if let Some((index, err)) = failure {
            for np in taken {
                self.release(np);
            }
            self.rng = saved;
            return Err(IpamError::ServicePort {
                index,
                source: Box::new(err),
            });
        }
        Ok(out)
    }

    /// Allocates a health-check node port (ALLOC-15): the requested one, or
    /// one from the dynamic band first, exactly like any node port.
    /// Whether the Service needs one (type LoadBalancer with
    /// `externalTrafficPolicy: Local`) is the caller's decision.
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 3);
    /// let hc = a.allocate_health_check(None)?;
    /// assert!(a.dynamic_band().contains(hc));
    /// assert_eq!(a.allocate_health_check(Some(hc)).unwrap_err().code(), "already-allocated");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_health_check(&mut self, requested: Option<u16>) -> Result<u16, IpamError> {
        match requested {
            Some(port) => self.allocate(port).map(|()| port),
            None => self.allocate_next(),
        }
    }

    /// The random state (to save before a batch that may be rolled back).
    ///
    /// ```
    /// let a = svcroute::ipam::NodePortAllocator::new(Default::default(), 3);
    /// assert_eq!(a.rng(), &svcroute::balance::Rng::new(3));
    /// ```
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Restores a random state saved with [`rng`](Self::rng).
    ///
    /// ```
    /// let mut a = svcroute::ipam::NodePortAllocator::new(Default::default(), 3);
    /// a.set_rng(svcroute::balance::Rng::new(4));
    /// ```
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type P = ServicePortRequest;

    fn default_alloc(seed: u64) -> NodePortAllocator {
        NodePortAllocator::new(PortRange::default(), seed)
    }

    // ALLOC-8: default range 30000-32767 inclusive, size 2768.
    #[test]
    fn default_range() {
        let a = default_alloc(0);
        assert_eq!(
            a.range(),
            PortRange {
                first: 30000,
                last: 32767
            }
        );
        assert_eq!(a.size(), 2768);
    }

    #[test]
    fn port_range_parsing() {
        assert_eq!("1-65535".parse::<PortRange>().unwrap().len(), 65535);
        assert_eq!(" 30000 - 30005 ".parse::<PortRange>().unwrap().len(), 6);
        for bad in [
            "",
            "-",
            "30000-",
            "a-b",
            "30000-70000",
            "65536",
            "1+65535",
            "-1-5",
            "+5",
            "5--6",
            "30000-30001-30002",
        ] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
        assert_eq!("65535+0".parse::<PortRange>().unwrap().len(), 1);
        assert_eq!("0-0".parse::<PortRange>().unwrap().len(), 1);
    }

    // ALLOC-9: band split for node ports.
    #[test]
    fn bands() {
        let cases = [
            ((30000, 32767), Some((30000, 30085))),
            ((30000, 30015), None),
            ((30000, 30016), Some((30000, 30015))),
            ((30000, 30511), Some((30000, 30015))),
            ((1, 65535), Some((1, 128))),
            ((30000, 30000), None),
        ];
        for ((first, last), stat) in cases {
            let a = NodePortAllocator::new(PortRange::new(first, last).unwrap(), 0);
            assert_eq!(
                a.static_band().map(|r| (r.first, r.last)),
                stat,
                "{first}-{last}"
            );
            let dynamic_first = stat.map_or(first, |(_, e)| e + 1);
            assert_eq!(
                a.dynamic_band(),
                PortRange {
                    first: dynamic_first,
                    last
                }
            );
        }
    }

    // ALLOC-9: dynamic band first, then static band, then range-full.
    #[test]
    fn dynamic_then_static_then_full() {
        let mut a = NodePortAllocator::new(PortRange::new(30000, 30099).unwrap(), 5);
        let dynamic = a.dynamic_band();
        assert_eq!(dynamic.first, 30016);
        for _ in 0..84 {
            assert!(dynamic.contains(a.allocate_next().unwrap()));
        }
        for _ in 0..16 {
            assert!(
                a.static_band()
                    .unwrap()
                    .contains(a.allocate_next().unwrap())
            );
        }
        let err = a.allocate_next().unwrap_err();
        assert_eq!(err.code(), "range-full");
        assert_eq!(err.kind(), crate::ErrorKind::Limit);
    }

    // ALLOC-9: determinism for a seed.
    #[test]
    fn same_seed_same_ports() {
        let run = |seed| {
            let mut a = default_alloc(seed);
            (0..20)
                .map(|_| a.allocate_next().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    // ALLOC-10: one owner per number, whatever the protocol; errors.
    #[test]
    fn one_owner_per_number() {
        let mut a = default_alloc(0);
        a.allocate(30010).unwrap();
        let err = a.allocate(30010).unwrap_err();
        assert_eq!(err, IpamError::PortAlreadyAllocated { port: 30010 });
        assert!(err.to_string().contains("30010"));
        let err = a.allocate(29999).unwrap_err();
        assert_eq!(
            err,
            IpamError::PortNotInRange {
                port: 29999,
                range: PortRange::default()
            }
        );
        assert!(a.release(30010));
        a.allocate(30010).unwrap();
    }

    // ALLOC-10: sharing inside one Service.
    #[test]
    fn sharing_rules() {
        let mut a = default_alloc(0);
        // Same port number, different protocols, same explicit nodePort: shared.
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
        assert_eq!(a.used(), 1);
        // A port without nodePort inherits its twin's explicit one, even
        // when the twin comes later.
        let got = a
            .allocate_service_ports(&[P::new(53), P::new(53).with_node_port(30053)], true)
            .unwrap();
        assert_eq!(got, vec![Some(30053), Some(30053)]);
        // Twins with different explicit nodePorts: both allocated.
        let got = a
            .allocate_service_ports(
                &[
                    P::new(443).with_node_port(30443),
                    P::new(443).with_node_port(30444),
                ],
                true,
            )
            .unwrap();
        assert_eq!(got, vec![Some(30443), Some(30444)]);
        // Different port numbers asking for the same nodePort: second fails.
        let before = a.clone();
        let err = a
            .allocate_service_ports(
                &[
                    P::new(80).with_node_port(30030),
                    P::new(81).with_node_port(30030),
                ],
                true,
            )
            .unwrap_err();
        assert_eq!(err.code(), "already-allocated");
        assert_eq!(err.port_index(), Some(1));
        assert!(err.to_string().starts_with("spec.ports[1].nodePort"));
        assert_eq!(a, before, "failure leaves the allocator untouched");
        // Across Services a number has one owner.
        let err = a
            .allocate_service_ports(&[P::new(81).with_node_port(30020)], true)
            .unwrap_err();
        assert_eq!(err.code(), "already-allocated");
        // Out of range.
        let err = a
            .allocate_service_ports(&[P::new(81), P::new(82).with_node_port(29999)], true)
            .unwrap_err();
        assert_eq!((err.code(), err.port_index()), ("not-in-range", Some(1)));
        assert_eq!(a, before);
    }

    // ALLOC-12: allocateLoadBalancerNodePorts false keeps explicit ones only.
    #[test]
    fn load_balancer_without_node_ports() {
        let mut a = default_alloc(0);
        let got = a
            .allocate_service_ports(&[P::new(80).with_node_port(30100), P::new(443)], false)
            .unwrap();
        assert_eq!(got, vec![Some(30100), None]);
        let got = a.allocate_service_ports(&[P::new(80)], false).unwrap();
        assert_eq!(got, vec![None]);
        assert_eq!(a.used(), 1);
        // A port without nodePort does not inherit when allocation is off.
        let got = a
            .allocate_service_ports(&[P::new(53), P::new(53).with_node_port(30054)], false)
            .unwrap();
        assert_eq!(got, vec![None, Some(30054)]);
    }

    // ALLOC-15: health-check node ports share the allocator.
    #[test]
    fn health_check_ports() {
        let mut a = NodePortAllocator::new(PortRange::new(30000, 30020).unwrap(), 0);
        let dynamic = a.dynamic_band();
        let hc = a.allocate_health_check(None).unwrap();
        assert!(dynamic.contains(hc));
        assert!(a.is_allocated(hc));
        assert_eq!(a.allocate(hc).unwrap_err().code(), "already-allocated");
        assert_eq!(a.allocate_health_check(Some(30000)).unwrap(), 30000);
        assert_eq!(
            a.allocate_health_check(Some(40000)).unwrap_err().code(),
            "not-in-range"
        );
    }

    #[test]
    fn ranges_mark_in_bulk() {
        let mut a = default_alloc(0);
        assert_eq!(
            a.allocate_range(PortRange::new(30086, 32767).unwrap())
                .unwrap(),
            2682
        );
        let p = a.allocate_next().unwrap();
        assert!(a.static_band().unwrap().contains(p));
        assert_eq!(
            a.allocate_range(PortRange::new(30000, 30001).unwrap())
                .unwrap(),
            2 - u32::from(p <= 30001)
        );
    }
}
