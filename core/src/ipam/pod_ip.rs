//! Pod IPs from a node's pod CIDR, for simulated pods.

use std::net::IpAddr;

use super::intervals::IntervalSet;
use super::net::u128_to_ip;
use super::{IpFamily, IpNet, IpRange, IpamError};

/// Hands out pod IPs from one node pod CIDR the way the CNI `host-local`
/// IPAM plugin does with its defaults (Kubernetes itself does not assign
/// pod IPs; this is the model's documented choice):
///
/// * the network address is never used; the **gateway** is the first
///   address after it (`.1`) and is never handed to a pod; for IPv4 the
///   broadcast address is never used; for IPv6 the last address is used.
///   So a `/24` gives `.2 ..= .254` (253 pods), a `/64` gives `::2 ..=
///   ::ffff:ffff:ffff:ffff`.
/// * Deterministic round-robin: the search starts right after the last
///   address handed out (by either method), scans upward and wraps, so a
///   released address is reused only after the others have been tried.
///
/// ```
/// use svcroute::ipam::PodIpAllocator;
/// let mut pods = PodIpAllocator::new("10.244.1.0/24".parse()?);
/// assert_eq!(pods.gateway(), Some("10.244.1.1".parse()?));
/// assert_eq!(pods.allocate_next()?, "10.244.1.2".parse::<std::net::IpAddr>()?);
/// assert_eq!(pods.allocate_next()?, "10.244.1.3".parse::<std::net::IpAddr>()?);
/// assert!(pods.release("10.244.1.2".parse()?));
/// assert_eq!(pods.allocate_next()?, "10.244.1.4".parse::<std::net::IpAddr>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIpAllocator {
    cidr: IpNet,
    /// Allocatable offsets, inclusive.
    range: Option<(u128, u128)>,
    used: IntervalSet,
    last_reserved: Option<u128>,
}

impl PodIpAllocator {
    /// An allocator over a node's pod CIDR.
    ///
    /// ```
    /// let a = svcroute::ipam::PodIpAllocator::new("fd00:10:244:1::/64".parse()?);
    /// assert_eq!(a.range().unwrap().first().to_string(), "fd00:10:244:1::2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(cidr: IpNet) -> PodIpAllocator {
        let last = match cidr.family() {
            IpFamily::V4 => cidr.max_offset().checked_sub(1),
            IpFamily::V6 => Some(cidr.max_offset()),
        };
        let range = last.filter(|&hi| hi >= 2).map(|hi| (2, hi));
        PodIpAllocator {
            cidr,
            range,
            used: IntervalSet::new(),
            last_reserved: None,
        }
    }

    /// The node pod CIDR.
    ///
    /// ```
    /// let a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// assert_eq!(a.cidr().to_string(), "10.244.0.0/24");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The gateway address (network + 1), if the block has one.
    ///
    /// ```
    /// let a = svcroute::ipam::PodIpAllocator::new("10.0.0.0/32".parse()?);
    /// assert_eq!(a.gateway(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gateway(&self) -> Option<IpAddr> {
        self.cidr.nth(1)
    }

    /// The addresses pods may get, if any.
    ///
    /// ```
    /// let a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// assert_eq!(a.range().unwrap().to_string(), "10.244.0.2-10.244.0.254");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn range(&self) -> Option<IpRange> {
        let (lo, hi) = self.range?;
        Some(IpRange {
            first: self.ip(lo),
            last: self.ip(hi),
        })
    }

    fn ip(&self, offset: u128) -> IpAddr {
        u128_to_ip(self.cidr.family(), self.cidr.base() + offset)
    }

    fn offset(&self, ip: IpAddr) -> Option<u128> {
        let (lo, hi) = self.range?;
        let off = self.cidr.offset_of(ip)?;
        (lo..=hi).contains(&off).then_some(off)
    }

    /// How many pod addresses the block has (saturating).
    ///
    /// ```
    /// let a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// assert_eq!(a.size(), 253);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size(&self) -> u128 {
        self.range.map_or(0, |(lo, hi)| (hi - lo).saturating_add(1))
    }

    /// How many addresses are in use.
    ///
    /// ```
    /// let mut a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// a.allocate_next()?;
    /// assert_eq!(a.used(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn used(&self) -> u128 {
        self.used.len()
    }

    /// Whether `ip` is in use.
    ///
    /// ```
    /// let mut a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// let ip = a.allocate_next()?;
    /// assert!(a.is_allocated(ip));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_allocated(&self, ip: IpAddr) -> bool {
        self.offset(ip).is_some_and(|o| self.used.contains(o))
    }

    /// The next free address after the last one handed out, wrapping;
    /// range-full when none is left.
    ///
    /// ```
    /// let mut a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/30".parse()?);
    /// assert_eq!(a.allocate_next()?.to_string(), "10.244.0.2");
    /// assert_eq!(a.allocate_next().unwrap_err().code(), "range-full");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_next(&mut self) -> Result<IpAddr, IpamError> {
        let full = IpamError::IpRangeFull { range: self.cidr };
        let (lo, hi) = self.range.ok_or(full.clone())?;
        let start = match self.last_reserved {
            Some(last) if last < hi => last + 1,
            _ => lo,
        };
        let found = self.used.first_free_in(start, hi).or_else(|| {
            start
                .checked_sub(1)
                .and_then(|end| self.used.first_free_in(lo, end))
        });
        let off = found.ok_or(full)?;
        self.used.insert(off);
        self.last_reserved = Some(off);
        Ok(self.ip(off))
    }

    /// Takes a specific address (a pod with a fixed IP): not-in-range for
    /// the network, gateway, IPv4 broadcast or outside the block;
    /// already-allocated when taken.
    ///
    /// ```
    /// let mut a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// a.allocate("10.244.0.50".parse()?)?;
    /// assert_eq!(a.allocate("10.244.0.1".parse()?).unwrap_err().code(), "not-in-range");
    /// assert_eq!(a.allocate_next()?.to_string(), "10.244.0.51");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&mut self, ip: IpAddr) -> Result<(), IpamError> {
        let off = self.offset(ip).ok_or(IpamError::IpNotInRange {
            ip,
            range: self.cidr,
        })?;
        if !self.used.insert(off) {
            return Err(IpamError::IpAlreadyAllocated { ip });
        }
        self.last_reserved = Some(off);
        Ok(())
    }

    /// Releases a pod's address; `false` if it was not in use.
    ///
    /// ```
    /// let mut a = svcroute::ipam::PodIpAllocator::new("10.244.0.0/24".parse()?);
    /// let ip = a.allocate_next()?;
    /// assert!(a.release(ip));
    /// assert!(!a.release(ip));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release(&mut self, ip: IpAddr) -> bool {
        self.offset(ip).is_some_and(|o| self.used.remove(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn host_local_defaults() {
        let a = PodIpAllocator::new("10.244.3.0/24".parse().unwrap());
        assert_eq!(a.range().unwrap().to_string(), "10.244.3.2-10.244.3.254");
        let b = PodIpAllocator::new("fd00::/120".parse().unwrap());
        assert_eq!(b.range().unwrap().to_string(), "fd00::2-fd00::ff");
        assert_eq!(
            PodIpAllocator::new("10.0.0.0/31".parse().unwrap()).size(),
            0
        );
        assert_eq!(
            PodIpAllocator::new("10.0.0.0/30".parse().unwrap()).size(),
            1
        );
        assert_eq!(PodIpAllocator::new("fd00::/127".parse().unwrap()).size(), 0);
        assert_eq!(PodIpAllocator::new("fd00::/126".parse().unwrap()).size(), 2);
        assert_eq!(
            PodIpAllocator::new("::/0".parse().unwrap()).size(),
            u128::MAX - 1
        );
    }

    #[test]
    fn round_robin_and_wrap() {
        let mut a = PodIpAllocator::new("10.0.0.0/29".parse().unwrap()); // .2 ..= .6
        let got: Vec<IpAddr> = (0..5).map(|_| a.allocate_next().unwrap()).collect();
        assert_eq!(
            got,
            ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"].map(ip)
        );
        let err = a.allocate_next().unwrap_err();
        assert_eq!(err.code(), "range-full");
        assert!(a.release(ip("10.0.0.4")));
        assert!(a.release(ip("10.0.0.3")));
        assert_eq!(a.allocate_next().unwrap(), ip("10.0.0.3"));
        assert_eq!(a.allocate_next().unwrap(), ip("10.0.0.4"));
        assert_eq!(a.used(), 5);
    }

    #[test]
    fn specific_addresses() {
        let mut a = PodIpAllocator::new("10.0.0.0/24".parse().unwrap());
        for bad in ["10.0.0.0", "10.0.0.1", "10.0.0.255", "10.0.1.5", "fd00::5"] {
            assert_eq!(
                a.allocate(ip(bad)).unwrap_err().code(),
                "not-in-range",
                "{bad}"
            );
        }
        a.allocate(ip("10.0.0.254")).unwrap();
        assert_eq!(
            a.allocate(ip("10.0.0.254")).unwrap_err().code(),
            "already-allocated"
        );
        // The pointer follows the last reservation and wraps.
        assert_eq!(a.allocate_next().unwrap(), ip("10.0.0.2"));
        assert!(a.is_allocated(ip("10.0.0.254")));
    }

    #[test]
    fn ipv6_last_address_is_usable() {
        let mut a = PodIpAllocator::new("fd00::/126".parse().unwrap());
        assert_eq!(a.allocate_next().unwrap(), ip("fd00::2"));
        assert_eq!(a.allocate_next().unwrap(), ip("fd00::3"));
        assert!(a.allocate_next().is_err());
    }
}
