//! Cluster IP allocation from a service CIDR (ALLOC-1 … ALLOC-7).

use std::net::IpAddr;

use super::intervals::IntervalSet;
use super::net::u128_to_ip;
use super::{IpFamily, IpNet, IpRange, IpamError};
use crate::balance::Rng;

/// The static-band size of a service CIDR (ALLOC-4, KEP-3070):
/// `clamp(size / 16, 16, 256)`, or 0 (no split) when `size <= 16`.
///
/// `size` is the raw block size the way upstream's `RangeSize` computes it:
/// `2^hostbits`, capped at `2^63 - 1`, and **0 for IPv4 /0 and /1** (and
/// IPv6 /0 and /1, which ALLOC-1 refuses anyway). So an IPv4 /0 or /1
/// service CIDR gets no band split, like upstream.
fn static_band_size(cidr: &IpNet) -> u128 {
    let h = cidr.host_bits();
    let raw: u128 = match cidr.family() {
        IpFamily::V4 if h >= 31 => 0,
        IpFamily::V6 if h >= 127 => 0,
        _ if h >= 63 => i64::MAX as u128,
        _ => 1u128 << h,
    };
    if raw <= 16 {
        0
    } else {
        (raw / 16).clamp(16, 256)
    }
}

/// Hands out cluster IPs from one service CIDR (one family), the way
/// kube-apiserver's allocator does.
///
/// * Usable addresses (ALLOC-2): the network address never; the IPv4
///   broadcast never; the last IPv6 address yes.
/// * IPv6 prefixes up to /64 are accepted, shorter ones refused (ALLOC-1).
/// * Bands (ALLOC-4): the first `clamp(size/16, 16, 256)` usable addresses
///   are the static band, the rest the dynamic band; no split when the
///   block has 16 addresses or fewer.
/// * [`allocate_next`](Self::allocate_next) (ALLOC-5): a uniformly random
///   start in the dynamic band from the seeded [`Rng`], scan upward with
///   wrap; when the dynamic band is full, the same in the static band; then
///   "range is full".
/// * [`allocate`](Self::allocate) (ALLOC-6): a specific address anywhere in
///   the usable range, else not-in-range / already-allocated.
///
/// Memory is proportional to the number of allocated *runs*, never to the
/// block size: a /64 costs nothing until used.
///
/// ```
/// use svcroute::ipam::ClusterIpAllocator;
/// let mut a = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 42)?;
/// a.allocate(a.cidr().first_usable().unwrap())?; // default/kubernetes (ALLOC-3)
/// let ip = a.allocate_next()?;
/// assert!(a.dynamic_band().unwrap().contains(ip)); // 10.96.1.1 ..= 10.96.255.254
/// assert_eq!(a.used(), 2);
/// assert!(a.release(ip));
/// // Same seed, same answers.
/// let mut b = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 42)?;
/// b.allocate("10.96.0.1".parse()?)?;
/// assert_eq!(b.allocate_next()?, ip);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIpAllocator {
    cidr: IpNet,
    /// Usable offsets from the network address, inclusive.
    usable: Option<(u128, u128)>,
    /// Size of the static band (0 = no split).
    band: u128,
    used: IntervalSet,
    rng: Rng,
}

impl ClusterIpAllocator {
    /// An allocator for `cidr`, drawing randomness from `Rng::new(seed)`.
    ///
    /// Fails with `invalid-config` for an IPv6 prefix shorter than /64
    /// (ALLOC-1).
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// assert!(ClusterIpAllocator::new("fd00::/64".parse()?, 0).is_ok());
    /// let err = ClusterIpAllocator::new("fd00::/48".parse()?, 0).unwrap_err();
    /// assert_eq!(err.code(), "invalid-config");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(cidr: IpNet, seed: u64) -> Result<ClusterIpAllocator, IpamError> {
        if cidr.family() == IpFamily::V6 && cidr.prefix_len() < 64 {
            return Err(IpamError::config(format!(
                "shortest allowed prefix length for an IPv6 service CIDR is 64, got {cidr}"
            )));
        }
        let usable = cidr.usable_offsets();
        let band = static_band_size(&cidr);
        Ok(ClusterIpAllocator {
            cidr,
            usable,
            band,
            used: IntervalSet::new(),
            rng: Rng::new(seed),
        })
    }

    /// The service CIDR.
    ///
    /// ```
    /// # let a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/12".parse()?, 0)?;
    /// assert_eq!(a.cidr().to_string(), "10.96.0.0/12");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The family of the range.
    ///
    /// ```
    /// # use svcroute::ipam::{ClusterIpAllocator, IpFamily};
    /// let a = ClusterIpAllocator::new("fd00::/108".parse()?, 0)?;
    /// assert_eq!(a.family(), IpFamily::V6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn family(&self) -> IpFamily {
        self.cidr.family()
    }

    fn ip(&self, offset: u128) -> IpAddr {
        u128_to_ip(self.family(), self.cidr.base() + offset)
    }

    /// The usable addresses (ALLOC-2), if any.
    ///
    /// ```
    /// # let a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/24".parse()?, 0)?;
    /// assert_eq!(a.usable_range().unwrap().to_string(), "10.96.0.1-10.96.0.254");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn usable_range(&self) -> Option<IpRange> {
        let (lo, hi) = self.usable?;
        Some(IpRange {
            first: self.ip(lo),
            last: self.ip(hi),
        })
    }

    /// The static band (ALLOC-4), or `None` when the range is not split.
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// let a = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// assert_eq!(a.static_band().unwrap().to_string(), "10.96.0.1-10.96.1.0");
    /// let b = ClusterIpAllocator::new("10.96.0.0/24".parse()?, 0)?;
    /// assert_eq!(b.static_band().unwrap().to_string(), "10.96.0.1-10.96.0.16");
    /// let c = ClusterIpAllocator::new("10.96.0.0/28".parse()?, 0)?;
    /// assert_eq!(c.static_band(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn static_band(&self) -> Option<IpRange> {
        let (lo, _) = self.usable?;
        (self.band > 0).then(|| IpRange {
            first: self.ip(lo),
            last: self.ip(lo + self.band - 1),
        })
    }

    /// The dynamic band (ALLOC-4): the usable range minus the static band
    /// (the whole usable range when there is no split).
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// let a = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// assert_eq!(a.dynamic_band().unwrap().to_string(), "10.96.1.1-10.96.255.254");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dynamic_band(&self) -> Option<IpRange> {
        let (lo, hi) = self.usable?;
        Some(IpRange {
            first: self.ip(lo + self.band),
            last: self.ip(hi),
        })
    }

    /// How many addresses can be allocated in total (ALLOC-2).
    ///
    /// ```
    /// # let a = svcroute::ipam::ClusterIpAllocator::new("fd00::/64".parse()?, 0)?;
    /// assert_eq!(a.size(), u64::MAX);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size(&self) -> u64 {
        self.usable.map_or(0, |(lo, hi)| (hi - lo + 1) as u64)
    }

    /// How many addresses are allocated.
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/24".parse()?, 0)?;
    /// a.allocate_next()?;
    /// assert_eq!(a.used(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn used(&self) -> u64 {
        self.used.len() as u64
    }

    /// How many addresses are still free.
    ///
    /// ```
    /// # let a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/24".parse()?, 0)?;
    /// assert_eq!(a.free(), 254);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn free(&self) -> u64 {
        self.size() - self.used()
    }

    /// How many addresses of the dynamic band are allocated.
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/24".parse()?, 0)?;
    /// a.allocate("10.96.0.5".parse()?)?;
    /// a.allocate("10.96.0.50".parse()?)?;
    /// assert_eq!(a.used_in_dynamic_band(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn used_in_dynamic_band(&self) -> u64 {
        self.usable
            .map_or(0, |(lo, hi)| self.used.count_in(lo + self.band, hi) as u64)
    }

    /// The offset of `ip` if it is usable (ALLOC-2).
    fn usable_offset(&self, ip: IpAddr) -> Option<u128> {
        let (lo, hi) = self.usable?;
        let off = self.cidr.offset_of(ip)?;
        (lo..=hi).contains(&off).then_some(off)
    }

    /// Whether `ip` may be allocated here at all (inside the usable range).
    ///
    /// ```
    /// # let a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// assert!(a.in_range("10.96.0.1".parse()?));
    /// assert!(!a.in_range("10.96.0.0".parse()?));
    /// assert!(!a.in_range("10.96.255.255".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_range(&self, ip: IpAddr) -> bool {
        self.usable_offset(ip).is_some()
    }

    /// Whether `ip` is allocated.
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// a.allocate("10.96.0.10".parse()?)?;
    /// assert!(a.is_allocated("10.96.0.10".parse()?));
    /// assert!(!a.is_allocated("10.96.0.11".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_allocated(&self, ip: IpAddr) -> bool {
        self.usable_offset(ip)
            .is_some_and(|off| self.used.contains(off))
    }

    /// Allocates a specific address (ALLOC-5: static requests may be in
    /// either band). Errors (ALLOC-6): not-in-range outside the usable range
    /// or of the other family; already-allocated.
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// let mut a = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// a.allocate("10.96.0.10".parse()?)?;
    /// assert_eq!(a.allocate("10.96.0.10".parse()?).unwrap_err().code(), "already-allocated");
    /// assert_eq!(a.allocate("10.97.0.5".parse()?).unwrap_err().code(), "not-in-range");
    /// assert_eq!(a.allocate("10.96.0.0".parse()?).unwrap_err().code(), "not-in-range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&mut self, ip: IpAddr) -> Result<(), IpamError> {
        let off = self.usable_offset(ip).ok_or(IpamError::IpNotInRange {
            ip,
            range: self.cidr,
        })?;
        if self.used.insert(off) {
            Ok(())
        } else {
            Err(IpamError::IpAlreadyAllocated { ip })
        }
    }

    /// Allocates a free address (ALLOC-5): random start in the dynamic band,
    /// scan upward with wrap; then the static band the same way; else
    /// range-full. A failed call changes nothing (not even the random
    /// state).
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// let mut a = ClusterIpAllocator::new("10.96.0.0/29".parse()?, 7)?;
    /// for _ in 0..6 {
    ///     a.allocate_next()?;
    /// }
    /// assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_next(&mut self) -> Result<IpAddr, IpamError> {
        let full = IpamError::IpRangeFull { range: self.cidr };
        let Some((lo, hi)) = self.usable else {
            return Err(full);
        };
        if self.used.len() > hi - lo {
            return Err(full);
        }
        let saved = self.rng.clone();
        let dyn_lo = lo + self.band;
        let mut found = self.scan(dyn_lo, hi);
        if found.is_none() && self.band > 0 {
            found = self.scan(lo, dyn_lo - 1);
        }
        match found {
            Some(off) => {
                self.used.insert(off);
                Ok(self.ip(off))
            }
            None => {
                self.rng = saved;
                Err(full)
            }
        }
    }

    /// Random start in `lo ..= hi`, first free at or after it, wrapping.
    fn scan(&mut self, lo: u128, hi: u128) -> Option<u128> {
        let n = hi - lo + 1; // <= 2^64 - 1: IPv6 ranges are at most /64
        let start = lo + u128::from(self.rng.below(n as u64));
        self.used.first_free_in(start, hi).or_else(|| {
            start
                .checked_sub(1)
                .and_then(|end| self.used.first_free_in(lo, end))
        })
    }

    /// Releases `ip`; `false` if it was not allocated (or not in range),
    /// which, as upstream, is not an error.
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// a.allocate("10.96.0.10".parse()?)?;
    /// assert!(a.release("10.96.0.10".parse()?));
    /// assert!(!a.release("10.96.0.10".parse()?));
    /// a.allocate("10.96.0.10".parse()?)?; // reusable
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&mut self, ip: IpAddr) -> bool {
        self.usable_offset(ip)
            .is_some_and(|off| self.used.remove(off))
    }

    /// Marks every address of `range` allocated (the conformance
    /// `allocated` config, e.g. `"10.96.0.17-10.96.0.254"`). Addresses
    /// already allocated are fine; returns how many were newly marked.
    /// Fails (changing nothing) with not-in-range when either end is
    /// outside the usable range.
    ///
    /// ```
    /// use svcroute::ipam::ClusterIpAllocator;
    /// let mut a = ClusterIpAllocator::new("10.96.0.0/24".parse()?, 3)?;
    /// assert_eq!(a.allocate_range("10.96.0.17-10.96.0.254".parse()?)?, 238);
    /// // The dynamic band is full: allocation falls back to the static band.
    /// let ip = a.allocate_next()?;
    /// assert!(a.static_band().unwrap().contains(ip));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_range(&mut self, range: IpRange) -> Result<u64, IpamError> {
        let lo = self
            .usable_offset(range.first)
            .ok_or(IpamError::IpNotInRange {
                ip: range.first,
                range: self.cidr,
            })?;
        let hi = self
            .usable_offset(range.last)
            .ok_or(IpamError::IpNotInRange {
                ip: range.last,
                range: self.cidr,
            })?;
        Ok(self.used.insert_range(lo, hi) as u64)
    }

    /// The allocated addresses, ascending.
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// a.allocate("10.96.0.9".parse()?)?;
    /// a.allocate("10.96.0.3".parse()?)?;
    /// let ips: Vec<String> = a.allocated().map(|ip| ip.to_string()).collect();
    /// assert_eq!(ips, ["10.96.0.3", "10.96.0.9"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocated(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let family = self.family();
        let base = self.cidr.base();
        self.used
            .iter()
            .map(move |off| u128_to_ip(family, base + off))
    }

    /// The random state (to save before a batch that may be rolled back).
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// let saved = a.rng().clone();
    /// let ip = a.allocate_next()?;
    /// a.release(ip);
    /// a.set_rng(saved);
    /// assert_eq!(a.allocate_next()?, ip);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Restores a random state saved with [`rng`](Self::rng).
    ///
    /// ```
    /// # let mut a = svcroute::ipam::ClusterIpAllocator::new("10.96.0.0/16".parse()?, 0)?;
    /// a.set_rng(svcroute::balance::Rng::new(9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }
}

/// One cluster IP a Service asks for: a specific address or the next free
/// one of a family.
///
/// ```
/// use svcroute::ipam::{IpFamily, IpRequest};
/// let r = IpRequest::Specific("10.96.0.10".parse()?);
/// assert_eq!(r.family(), IpFamily::V4);
/// assert_eq!(IpRequest::Next(IpFamily::V6).family(), IpFamily::V6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpRequest {
    /// Any free address of this family (ALLOC-5).
    Next(IpFamily),
    /// This address (ALLOC-6).
    Specific(IpAddr),
}

impl IpRequest {
    /// The family asked for.
    ///
    /// ```
    /// use svcroute::ipam::{IpFamily, IpRequest};
    /// assert_eq!(IpRequest::Next(IpFamily::V4).family(), IpFamily::V4);
    /// ```
    pub fn family(&self) -> IpFamily {
        match self {
            IpRequest::Next(f) => *f,
            IpRequest::Specific(ip) => IpFamily::of(ip),
        }
    }
}

/// The cluster IP allocators of a cluster: one per configured service CIDR
/// (`--service-cluster-ip-range`, one or two of different families), the
/// first being the *primary* family (ALLOC-1, ALLOC-7).
///
/// The primary allocator is seeded with `seed` itself (so a single-stack
/// cluster allocates exactly like `ClusterIpAllocator::new(cidr, seed)`);
/// the secondary with a seed derived from it.
///
/// ```
/// use svcroute::ipam::{DualStackIpAllocator, IpFamily, IpRequest};
/// let cidrs = ["10.96.0.0/16".parse()?, "fd00:10:96::/112".parse()?];
/// let mut a = DualStackIpAllocator::new(&cidrs, 1)?;
/// assert_eq!(a.primary_family(), IpFamily::V4);
/// assert!(a.is_dual_stack());
/// let ips = a.allocate_service(&[IpRequest::Next(IpFamily::V6), IpRequest::Next(IpFamily::V4)])?;
/// assert!(ips[0].is_ipv6() && ips[1].is_ipv4());
/// // Atomic: the second request fails, so the first is undone.
/// let err = a
///     .allocate_service(&[IpRequest::Specific("10.96.0.10".parse()?), IpRequest::Specific(ips[0])])
///     .unwrap_err();
/// assert_eq!(err.code(), "already-allocated");
/// assert!(!a.is_allocated("10.96.0.10".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DualStackIpAllocator {
    allocators: Vec<ClusterIpAllocator>,
}

impl DualStackIpAllocator {
    /// Allocators for one or two service CIDRs; two must be of different
    /// families, else `invalid-config`.
    ///
    /// ```
    /// use svcroute::ipam::DualStackIpAllocator;
    /// let same = ["10.96.0.0/16".parse()?, "10.97.0.0/16".parse()?];
    /// assert_eq!(DualStackIpAllocator::new(&same, 0).unwrap_err().code(), "invalid-config");
    /// assert!(DualStackIpAllocator::new(&[], 0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(cidrs: &[IpNet], seed: u64) -> Result<DualStackIpAllocator, IpamError> {
        match cidrs {
            [_] => {}
            [a, b] if a.family() != b.family() => {}
            [_, _] => {
                return Err(IpamError::config(
                    "the two service CIDRs must be of different IP families",
                ));
            }
            [] => return Err(IpamError::config("at least one service CIDR is required")),
            _ => {
                return Err(IpamError::config(
                    "at most two service CIDRs (one per IP family) are allowed",
                ));
            }
        }
        let allocators = cidrs
            .iter()
            .enumerate()
            .map(|(i, cidr)| ClusterIpAllocator::new(*cidr, derive_seed(seed, i as u64)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DualStackIpAllocator { allocators })
    }

    /// The primary family (that of the first service CIDR).
    ///
    /// ```
    /// # use svcroute::ipam::{DualStackIpAllocator, IpFamily};
    /// let a = DualStackIpAllocator::new(&["fd00::/108".parse()?], 0)?;
    /// assert_eq!(a.primary_family(), IpFamily::V6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn primary_family(&self) -> IpFamily {
        self.allocators[0].family()
    }

    /// The address kube-apiserver gives the `default/kubernetes` Service:
    /// the first usable address of the primary range (ALLOC-3; the
    /// conformance default of `kubernetesServiceIP`). Not allocated by this
    /// call.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?, "fd00::/112".parse()?], 0)?;
    /// assert_eq!(a.kubernetes_service_ip(), Some("10.96.0.1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kubernetes_service_ip(&self) -> Option<IpAddr> {
        self.primary().cidr().first_usable()
    }

    /// The configured families, primary first.
    ///
    /// ```
    /// # use svcroute::ipam::{DualStackIpAllocator, IpFamily};
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert_eq!(a.families(), vec![IpFamily::V4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn families(&self) -> Vec<IpFamily> {
        self.allocators.iter().map(|a| a.family()).collect()
    }

    /// Whether both families are configured.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert!(!a.is_dual_stack());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_dual_stack(&self) -> bool {
        self.allocators.len() == 2
    }

    /// The allocator of the primary family.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert_eq!(a.primary().cidr().to_string(), "10.96.0.0/16");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn primary(&self) -> &ClusterIpAllocator {
        &self.allocators[0]
    }

    /// The allocator of `family`, if configured.
    ///
    /// ```
    /// # use svcroute::ipam::{DualStackIpAllocator, IpFamily};
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert!(a.get(IpFamily::V6).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, family: IpFamily) -> Option<&ClusterIpAllocator> {
        self.allocators.iter().find(|a| a.family() == family)
    }

    /// The allocator of `family`, mutably.
    ///
    /// ```
    /// # use svcroute::ipam::{DualStackIpAllocator, IpFamily};
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// a.get_mut(IpFamily::V4).unwrap().allocate("10.96.0.1".parse()?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_mut(&mut self, family: IpFamily) -> Option<&mut ClusterIpAllocator> {
        self.allocators.iter_mut().find(|a| a.family() == family)
    }

    fn for_family(&mut self, family: IpFamily) -> Result<&mut ClusterIpAllocator, IpamError> {
        self.get_mut(family).ok_or_else(|| {
            IpamError::invalid(
                family.as_str(),
                format!("{family} is not configured on this cluster"),
            )
        })
    }

    /// Allocates one specific address in the allocator of its family.
    /// An address of an unconfigured family is `invalid`.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert_eq!(a.allocate("fd00::1".parse()?).unwrap_err().code(), "invalid");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&mut self, ip: IpAddr) -> Result<(), IpamError> {
        self.for_family(IpFamily::of(&ip))?.allocate(ip)
    }

    /// Allocates what one Service asks for, in order, atomically: if any
    /// request fails, the addresses taken by the earlier ones are released
    /// and the random state restored, and the error is returned.
    ///
    /// ```
    /// # use svcroute::ipam::{DualStackIpAllocator, IpFamily, IpRequest};
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// let err = a.allocate_service(&[IpRequest::Next(IpFamily::V6)]).unwrap_err();
    /// assert_eq!(err.code(), "invalid");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_service(&mut self, requests: &[IpRequest]) -> Result<Vec<IpAddr>, IpamError> {
        let saved: Vec<Rng> = self.allocators.iter().map(|a| a.rng().clone()).collect();
        let mut done: Vec<IpAddr> = Vec::with_capacity(requests.len());
        for request in requests {
            let result = match *request {
                IpRequest::Next(family) => self.for_family(family).and_then(|a| a.allocate_next()),
                IpRequest::Specific(ip) => self.allocate(ip).map(|()| ip),
            };
            match result {
                Ok(ip) => done.push(ip),
                Err(err) => {
                    for ip in done {
                        self.release(ip);
                    }
                    for (a, rng) in self.allocators.iter_mut().zip(saved) {
                        a.set_rng(rng);
                    }
                    return Err(err);
                }
            }
        }
        Ok(done)
    }

    /// Releases `ip` from the allocator of its family; `false` if it was
    /// not allocated.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// a.allocate("10.96.0.7".parse()?)?;
    /// assert!(a.release("10.96.0.7".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&mut self, ip: IpAddr) -> bool {
        self.get_mut(IpFamily::of(&ip))
            .is_some_and(|a| a.release(ip))
    }

    /// Whether `ip` is allocated.
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// assert!(!a.is_allocated("10.96.0.7".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_allocated(&self, ip: IpAddr) -> bool {
        self.get(IpFamily::of(&ip))
            .is_some_and(|a| a.is_allocated(ip))
    }

    /// Marks a range allocated in the allocator of its family (see
    /// [`ClusterIpAllocator::allocate_range`]).
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?, "fd00::/112".parse()?], 0)?;
    /// assert_eq!(a.allocate_range("fd00::10-fd00::1f".parse()?)?, 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_range(&mut self, range: IpRange) -> Result<u64, IpamError> {
        self.for_family(range.family())?.allocate_range(range)
    }

    /// The random states of the allocators, primary first (to save before
    /// a batch that may be rolled back).
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// let saved = a.rng_states();
    /// a.restore_rng_states(saved);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rng_states(&self) -> Vec<Rng> {
        self.allocators.iter().map(|a| a.rng().clone()).collect()
    }

    /// Restores states saved with [`rng_states`](Self::rng_states).
    ///
    /// ```
    /// # use svcroute::ipam::DualStackIpAllocator;
    /// let mut a = DualStackIpAllocator::new(&["10.96.0.0/16".parse()?], 0)?;
    /// a.restore_rng_states(vec![svcroute::balance::Rng::new(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore_rng_states(&mut self, states: Vec<Rng>) {
        for (a, rng) in self.allocators.iter_mut().zip(states) {
            a.set_rng(rng);
        }
    }
}

/// The seed of stream `i` derived from `seed`: stream 0 is `seed` itself.
pub(crate) fn derive_seed(seed: u64, stream: u64) -> u64 {
    if stream == 0 {
        seed
    } else {
        Rng::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::net::ip_to_u128;

    fn int(ip: &str) -> u128 {
        ip_to_u128(ip.parse().unwrap())
    }

    fn alloc(cidr: &str, seed: u64) -> ClusterIpAllocator {
        ClusterIpAllocator::new(cidr.parse().unwrap(), seed).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // ALLOC-1: IPv6 service CIDRs up to /64 accepted, shorter refused.
    #[test]
    fn ipv6_prefix_limit() {
        assert!(ClusterIpAllocator::new("fd00::/64".parse().unwrap(), 0).is_ok());
        assert!(ClusterIpAllocator::new("fd00::/108".parse().unwrap(), 0).is_ok());
        let err = ClusterIpAllocator::new("fd00::/63".parse().unwrap(), 0).unwrap_err();
        assert_eq!(err.code(), "invalid-config");
        assert!(ClusterIpAllocator::new("10.0.0.0/8".parse().unwrap(), 0).is_ok());
    }

    // ALLOC-1: a /64 must not cost a 2^64 bitmap; the sparse set works.
    #[test]
    fn huge_ipv6_range_is_sparse() {
        let mut a = alloc("fd00::/64", 5);
        assert_eq!(a.size(), u64::MAX);
        assert_eq!(a.static_band().unwrap().to_string(), "fd00::1-fd00::100");
        assert_eq!(
            a.dynamic_band().unwrap().last,
            ip("fd00::ffff:ffff:ffff:ffff")
        );
        for _ in 0..1000 {
            let got = a.allocate_next().unwrap();
            assert!(a.dynamic_band().unwrap().contains(got));
        }
        assert_eq!(a.used(), 1000);
        a.allocate(ip("fd00::ffff:ffff:ffff:ffff")).unwrap();
        // Mark all but one address of the dynamic band: still cheap.
        let dynamic = a.dynamic_band().unwrap();
        a.allocate_range(IpRange::new(dynamic.first, ip("fd00::ffff:ffff:ffff:fffd")).unwrap())
            .unwrap();
        assert_eq!(a.allocate_next().unwrap(), ip("fd00::ffff:ffff:ffff:fffe"));
        let next = a.allocate_next().unwrap();
        assert!(a.static_band().unwrap().contains(next));
    }

    // ALLOC-2: the network and the IPv4 broadcast are not in range, the
    // last IPv6 address is.
    #[test]
    fn usable_range_edges() {
        let mut a = alloc("10.96.0.0/16", 0);
        assert_eq!(
            a.allocate(ip("10.96.0.0")).unwrap_err().code(),
            "not-in-range"
        );
        assert_eq!(
            a.allocate(ip("10.96.255.255")).unwrap_err().code(),
            "not-in-range"
        );
        a.allocate(ip("10.96.255.254")).unwrap();
        a.allocate(ip("10.96.0.1")).unwrap();
        let mut b = alloc("fd00::/120", 0);
        assert_eq!(b.allocate(ip("fd00::")).unwrap_err().code(), "not-in-range");
        b.allocate(ip("fd00::ff")).unwrap();
        assert_eq!(b.size(), 255);
        assert_eq!(alloc("10.0.0.0/24", 0).size(), 254);
        let mut tiny = alloc("10.0.0.0/32", 0);
        assert_eq!(tiny.size(), 0);
        assert_eq!(tiny.allocate_next().unwrap_err().code(), "range-full");
        assert_eq!(
            tiny.allocate(ip("10.0.0.0")).unwrap_err().code(),
            "not-in-range"
        );
        let mut v6one = alloc("fd00::/127", 0);
        assert_eq!(v6one.allocate_next().unwrap(), ip("fd00::1"));
    }

    // ALLOC-3: default/kubernetes takes the first usable IP; a later request
    // for it is already-allocated.
    #[test]
    fn kubernetes_service_ip_is_a_normal_allocation() {
        let mut a = alloc("10.96.0.0/16", 0);
        let first = a.cidr().first_usable().unwrap();
        assert_eq!(first, ip("10.96.0.1"));
        a.allocate(first).unwrap();
        let err = a.allocate(first).unwrap_err();
        assert_eq!(err, IpamError::IpAlreadyAllocated { ip: first });
        assert_eq!(err.code(), "already-allocated");
    }

    // ALLOC-4: band sizes.
    #[test]
    fn band_offsets() {
        let cases = [
            (
                "10.96.0.0/16",
                Some("10.96.0.1-10.96.1.0"),
                "10.96.1.1-10.96.255.254",
            ),
            (
                "10.96.0.0/20",
                Some("10.96.0.1-10.96.1.0"),
                "10.96.1.1-10.96.15.254",
            ),
            (
                "10.96.0.0/21",
                Some("10.96.0.1-10.96.0.128"),
                "10.96.0.129-10.96.7.254",
            ),
            (
                "10.96.0.0/24",
                Some("10.96.0.1-10.96.0.16"),
                "10.96.0.17-10.96.0.254",
            ),
            (
                "10.96.0.0/27",
                Some("10.96.0.1-10.96.0.16"),
                "10.96.0.17-10.96.0.30",
            ),
            ("10.96.0.0/28", None, "10.96.0.1-10.96.0.14"),
            ("10.96.0.0/29", None, "10.96.0.1-10.96.0.6"),
            (
                "10.0.0.0/8",
                Some("10.0.0.1-10.0.1.0"),
                "10.0.1.1-10.255.255.254",
            ),
            (
                "fd00::/108",
                Some("fd00::1-fd00::100"),
                "fd00::101-fd00::f:ffff",
            ),
            ("fd00::/124", None, "fd00::1-fd00::f"),
            ("fd00::/123", Some("fd00::1-fd00::10"), "fd00::11-fd00::1f"),
            // Upstream RangeSize is 0 for IPv4 /1 and /0: no split.
            ("0.0.0.0/1", None, "0.0.0.1-127.255.255.254"),
        ];
        for (cidr, stat, dynamic) in cases {
            let a = alloc(cidr, 0);
            assert_eq!(
                a.static_band().map(|r| r.to_string()).as_deref(),
                stat,
                "{cidr}"
            );
            assert_eq!(a.dynamic_band().unwrap().to_string(), dynamic, "{cidr}");
        }
    }

    // ALLOC-5: dynamic results come from the dynamic band while it has
    // room, then from the static band, then range-full.
    #[test]
    fn dynamic_then_static_then_full() {
        let mut a = alloc("10.96.0.0/24", 11);
        let dynamic = a.dynamic_band().unwrap();
        let stat = a.static_band().unwrap();
        for _ in 0..238 {
            let got = a.allocate_next().unwrap();
            assert!(dynamic.contains(got), "{got}");
        }
        assert_eq!(a.used_in_dynamic_band(), 238);
        for _ in 0..16 {
            let got = a.allocate_next().unwrap();
            assert!(stat.contains(got), "{got}");
        }
        let saved = a.rng().clone();
        let err = a.allocate_next().unwrap_err();
        assert_eq!(err, IpamError::IpRangeFull { range: a.cidr() });
        assert_eq!(err.code(), "range-full");
        assert_eq!(
            a.rng(),
            &saved,
            "a failed allocation leaves the random state"
        );
    }

    // ALLOC-5: the start is random and the scan wraps inside the band.
    #[test]
    fn scan_wraps_within_the_band() {
        let mut a = alloc("10.96.0.0/24", 1);
        // Leave only the first dynamic address free: any start must wrap to it.
        a.allocate_range("10.96.0.18-10.96.0.254".parse().unwrap())
            .unwrap();
        assert_eq!(a.allocate_next().unwrap(), ip("10.96.0.17"));
        // Starts differ between seeds: not always the lowest free address.
        let firsts: std::collections::BTreeSet<IpAddr> = (0..20)
            .map(|seed| alloc("10.96.0.0/16", seed).allocate_next().unwrap())
            .collect();
        assert!(firsts.len() > 15);
        assert!(
            firsts
                .iter()
                .all(|ip| int(&ip.to_string()) >= int("10.96.1.1"))
        );
    }

    // ALLOC-5: same seed, same allocations.
    #[test]
    fn deterministic_for_a_seed() {
        let run = |seed| {
            let mut a = alloc("10.96.0.0/20", seed);
            (0..50)
                .map(|_| a.allocate_next().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    // ALLOC-5: static requests may land in either band.
    #[test]
    fn static_requests_anywhere() {
        let mut a = alloc("10.96.0.0/16", 0);
        a.allocate(ip("10.96.0.10")).unwrap();
        a.allocate(ip("10.96.200.10")).unwrap();
        assert!(a.is_allocated(ip("10.96.0.10")));
        assert_eq!(a.used(), 2);
        assert_eq!(a.free(), 65534 - 2);
    }

    // ALLOC-6: the error vocabulary and what the errors name.
    #[test]
    fn errors_name_what_failed() {
        let mut a = alloc("10.96.0.0/16", 0);
        let err = a.allocate(ip("10.97.0.5")).unwrap_err();
        assert_eq!(
            err,
            IpamError::IpNotInRange {
                ip: ip("10.97.0.5"),
                range: a.cidr()
            }
        );
        assert!(err.to_string().contains("10.97.0.5"));
        assert!(err.to_string().contains("10.96.0.0/16"));
        assert_eq!(err.kind(), crate::ErrorKind::Invalid);
        let err = a.allocate(ip("fd00::1")).unwrap_err();
        assert_eq!(err.code(), "not-in-range");
        a.allocate(ip("10.96.0.5")).unwrap();
        let err = a.allocate(ip("10.96.0.5")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Conflict);
        let mut full = alloc("10.96.0.0/30", 0);
        full.allocate_next().unwrap();
        full.allocate_next().unwrap();
        assert_eq!(
            full.allocate_next().unwrap_err().kind(),
            crate::ErrorKind::Limit
        );
    }

    #[test]
    fn release_and_ranges() {
        let mut a = alloc("10.96.0.0/24", 0);
        assert!(!a.release(ip("10.96.0.3")));
        assert!(!a.release(ip("10.1.0.3")));
        assert_eq!(
            a.allocate_range("10.96.0.1-10.96.0.10".parse().unwrap())
                .unwrap(),
            10
        );
        assert_eq!(
            a.allocate_range("10.96.0.5-10.96.0.12".parse().unwrap())
                .unwrap(),
            2
        );
        assert_eq!(
            a.allocate_range("10.96.0.0-10.96.0.12".parse().unwrap())
                .unwrap_err()
                .code(),
            "not-in-range"
        );
        assert_eq!(
            a.allocate_range("10.96.0.250-10.96.0.255".parse().unwrap())
                .unwrap_err()
                .code(),
            "not-in-range"
        );
        assert_eq!(a.used(), 12);
        assert!(a.release(ip("10.96.0.7")));
        assert_eq!(a.allocated().count(), 11);
        a.allocate(ip("10.96.0.7")).unwrap();
    }

    // ALLOC-7 (allocator side): primary family, per-family allocators.
    #[test]
    fn dual_stack_families() {
        let cidrs: Vec<IpNet> = vec![
            "fd00:10:96::/112".parse().unwrap(),
            "10.96.0.0/16".parse().unwrap(),
        ];
        let mut a = DualStackIpAllocator::new(&cidrs, 9).unwrap();
        assert_eq!(a.primary_family(), IpFamily::V6);
        assert_eq!(a.families(), vec![IpFamily::V6, IpFamily::V4]);
        let got = a
            .allocate_service(&[IpRequest::Next(IpFamily::V6), IpRequest::Next(IpFamily::V4)])
            .unwrap();
        assert!(
            a.get(IpFamily::V6)
                .unwrap()
                .dynamic_band()
                .unwrap()
                .contains(got[0])
        );
        assert!(
            a.get(IpFamily::V4)
                .unwrap()
                .dynamic_band()
                .unwrap()
                .contains(got[1])
        );
        // Single-stack wrapper = plain allocator with the same seed.
        let mut single = DualStackIpAllocator::new(&cidrs[1..], 4).unwrap();
        let mut plain = alloc("10.96.0.0/16", 4);
        assert_eq!(
            single
                .allocate_service(&[IpRequest::Next(IpFamily::V4)])
                .unwrap()[0],
            plain.allocate_next().unwrap()
        );
        let err = single
            .allocate_service(&[IpRequest::Next(IpFamily::V6)])
            .unwrap_err();
        assert_eq!(err.code(), "invalid");
        assert!(DualStackIpAllocator::new(&[cidrs[0], cidrs[0]], 0).is_err());
        assert!(DualStackIpAllocator::new(&[cidrs[0], cidrs[1], cidrs[0]], 0).is_err());
    }

    #[test]
    fn dual_stack_rollback_restores_everything() {
        let cidrs: Vec<IpNet> = vec![
            "10.96.0.0/16".parse().unwrap(),
            "fd00::/112".parse().unwrap(),
        ];
        let mut a = DualStackIpAllocator::new(&cidrs, 2).unwrap();
        let before = a.clone();
        a.allocate(ip("fd00::5")).unwrap();
        let mut expected = before.clone();
        expected.allocate(ip("fd00::5")).unwrap();
        let err = a
            .allocate_service(&[
                IpRequest::Next(IpFamily::V4),
                IpRequest::Specific(ip("fd00::5")),
            ])
            .unwrap_err();
        assert_eq!(err.code(), "already-allocated");
        assert_eq!(a, expected);
    }
}
