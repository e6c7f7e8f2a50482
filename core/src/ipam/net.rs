//! Addresses, families, CIDR blocks and inclusive address ranges, on
//! `std::net` only.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::IpamError;

/// An IP family, spelled as Kubernetes spells it (`IPv4`, `IPv6`).
///
/// ```
/// use svcroute::ipam::IpFamily;
/// let f: IpFamily = "IPv6".parse()?;
/// assert_eq!(f, IpFamily::V6);
/// assert_eq!(IpFamily::V4.as_str(), "IPv4");
/// assert_eq!(IpFamily::of(&"fd00::1".parse()?), IpFamily::V6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpFamily {
    /// IPv4 (`IPv4`).
    V4,
    /// IPv6 (`IPv6`).
    V6,
}

impl IpFamily {
    /// The family of an address.
    ///
    /// ```
    /// use svcroute::ipam::IpFamily;
    /// assert_eq!(IpFamily::of(&"10.0.0.1".parse().unwrap()), IpFamily::V4);
    /// ```
    pub fn of(ip: &IpAddr) -> IpFamily {
        match ip {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }

    /// The Kubernetes spelling: `IPv4` or `IPv6`.
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::IpFamily::V6.as_str(), "IPv6");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    /// Address width in bits: 32 or 128.
    ///
    /// ```
    /// assert_eq!(svcroute::ipam::IpFamily::V4.bits(), 32);
    /// ```
    pub fn bits(self) -> u8 {
        match self {
            IpFamily::V4 => 32,
            IpFamily::V6 => 128,
        }
    }

    /// The other family.
    ///
    /// ```
    /// use svcroute::ipam::IpFamily;
    /// assert_eq!(IpFamily::V4.other(), IpFamily::V6);
    /// ```
    pub fn other(self) -> IpFamily {
        match self {
            IpFamily::V4 => IpFamily::V6,
            IpFamily::V6 => IpFamily::V4,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IpFamily {
    type Err = IpamError;
    fn from_str(s: &str) -> Result<IpFamily, IpamError> {
        match s {
            "IPv4" => Ok(IpFamily::V4),
            "IPv6" => Ok(IpFamily::V6),
            _ => Err(IpamError::invalid(
                s,
                "IP family must be \"IPv4\" or \"IPv6\"",
            )),
        }
    }
}

/// An address as an unsigned integer (IPv4 in the low 32 bits).
pub(crate) fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of `family` whose integer value is `v` (truncated to width).
pub(crate) fn u128_to_ip(family: IpFamily, v: u128) -> IpAddr {
    match family {
        IpFamily::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
        IpFamily::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

/// `2^bits - 1` for `bits <= 128`.
pub(crate) fn low_mask(bits: u8) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// A CIDR block: a network address and a prefix length, host bits all zero.
///
/// Parsing (`FromStr`) is strict: `"10.96.0.5/16"` is refused because host
/// bits are set, the way the `ServiceCIDR` API refuses non-canonical
/// prefixes. kube-apiserver and kube-controller-manager *flags* (and
/// `Node.spec.podCIDRs` as read by node IPAM) go through Go's
/// `net.ParseCIDR`, which silently clears host bits; [`IpNet::parse_truncating`]
/// does the same.
///
/// ```
/// use svcroute::ipam::{IpNet, IpFamily};
/// let net: IpNet = "10.96.0.0/16".parse()?;
/// assert_eq!(net.family(), IpFamily::V4);
/// assert!(net.contains("10.96.200.1".parse()?));
/// assert_eq!(net.first_usable(), Some("10.96.0.1".parse()?));
/// assert_eq!(net.last_usable(), Some("10.96.255.254".parse()?));
/// assert_eq!(net.usable_count(), 65534);
/// assert!("10.96.0.5/16".parse::<IpNet>().is_err());
/// assert_eq!(IpNet::parse_truncating("10.96.0.5/16")?, net);
/// assert_eq!("fd00::/108".parse::<IpNet>()?.usable_count(), (1 << 20) - 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// A block from its network address and prefix length; refuses a
    /// prefix longer than the family allows and set host bits.
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert!(IpNet::new("10.0.0.0".parse()?, 8).is_ok());
    /// assert!(IpNet::new("10.0.0.1".parse()?, 8).is_err());
    /// assert!(IpNet::new("10.0.0.0".parse()?, 33).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(addr: IpAddr, prefix: u8) -> Result<IpNet, IpamError> {
        let net = IpNet::new_truncating(addr, prefix)?;
        if net.network != addr {
            return Err(IpamError::invalid(
                format!("{addr}/{prefix}"),
                format!("host bits are set; the network address is {net}"),
            ));
        }
        Ok(net)
    }

    /// Like [`IpNet::new`] but clears host bits instead of refusing them
    /// (Go `net.ParseCIDR` semantics).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// let n = IpNet::new_truncating("10.1.2.3".parse()?, 16)?;
    /// assert_eq!(n.to_string(), "10.1.0.0/16");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new_truncating(addr: IpAddr, prefix: u8) -> Result<IpNet, IpamError> {
        let family = IpFamily::of(&addr);
        if prefix > family.bits() {
            return Err(IpamError::invalid(
                format!("{addr}/{prefix}"),
                format!(
                    "prefix length {prefix} is longer than {} bits",
                    family.bits()
                ),
            ));
        }
        let host = family.bits() - prefix;
        let v = ip_to_u128(addr) & !low_mask(host);
        Ok(IpNet {
            network: u128_to_ip(family, v),
            prefix,
        })
    }

    /// Parses `addr/len`, clearing host bits (Go `net.ParseCIDR`
    /// semantics, used for command-line flags and `Node.spec.podCIDRs`).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert_eq!(IpNet::parse_truncating("fd00::1/64")?.to_string(), "fd00::/64");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_truncating(s: &str) -> Result<IpNet, IpamError> {
        let (addr, prefix) = split_cidr(s)?;
        IpNet::new_truncating(addr, prefix)
    }

    /// The network address (host bits zero).
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.96.0.0/12".parse()?;
    /// assert_eq!(n.network().to_string(), "10.96.0.0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.96.0.0/12".parse()?;
    /// assert_eq!(n.prefix_len(), 12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// The family of the block.
    ///
    /// ```
    /// use svcroute::ipam::{IpFamily, IpNet};
    /// assert_eq!("fd00::/64".parse::<IpNet>()?.family(), IpFamily::V6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn family(&self) -> IpFamily {
        IpFamily::of(&self.network)
    }

    /// Number of host bits (`32 - prefix` or `128 - prefix`).
    ///
    /// ```
    /// assert_eq!("10.0.0.0/24".parse::<svcroute::ipam::IpNet>()?.host_bits(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn host_bits(&self) -> u8 {
        self.family().bits() - self.prefix
    }

    /// Number of addresses in the block, network and broadcast included;
    /// `None` only for `::/0` (2^128 does not fit).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert_eq!("10.0.0.0/24".parse::<IpNet>()?.address_count(), Some(256));
    /// assert_eq!("::/0".parse::<IpNet>()?.address_count(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn address_count(&self) -> Option<u128> {
        1u128.checked_shl(u32::from(self.host_bits()))
    }

    pub(crate) fn base(&self) -> u128 {
        ip_to_u128(self.network)
    }

    /// `address_count() - 1` without overflow.
    pub(crate) fn max_offset(&self) -> u128 {
        low_mask(self.host_bits())
    }

    /// The last address of the block (all host bits one: the IPv4 broadcast).
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.96.0.0/16".parse()?;
    /// assert_eq!(n.last_address().to_string(), "10.96.255.255");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_address(&self) -> IpAddr {
        u128_to_ip(self.family(), self.base() | self.max_offset())
    }

    /// Whether `ip` lies in the block (any address, network and broadcast
    /// included). An address of the other family is never contained.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.96.0.0/16".parse()?;
    /// assert!(n.contains("10.96.0.0".parse()?));
    /// assert!(!n.contains("10.97.0.0".parse()?));
    /// assert!(!n.contains("::1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        IpFamily::of(&ip) == self.family() && self.offset_of(ip).is_some()
    }

    /// Whether `other` lies entirely inside this block.
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// let big: IpNet = "10.0.0.0/8".parse()?;
    /// assert!(big.contains_net(&"10.1.0.0/16".parse()?));
    /// assert!(!big.contains_net(&"0.0.0.0/0".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains_net(&self, other: &IpNet) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }

    /// Whether the two blocks share at least one address (then one
    /// contains the other).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// let a: IpNet = "10.0.0.0/8".parse()?;
    /// assert!(a.overlaps(&"10.96.0.0/12".parse()?));
    /// assert!(!a.overlaps(&"11.0.0.0/8".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn overlaps(&self, other: &IpNet) -> bool {
        self.contains_net(other) || other.contains_net(self)
    }

    /// The position of `ip` in the block (0 = network address), if inside.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.96.0.0/16".parse()?;
    /// assert_eq!(n.offset_of("10.96.1.0".parse()?), Some(256));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset_of(&self, ip: IpAddr) -> Option<u128> {
        if IpFamily::of(&ip) != self.family() {
            return None;
        }
        let v = ip_to_u128(ip);
        let base = self.base();
        (v & !self.max_offset() == base).then(|| v - base)
    }

    /// The `n`-th address of the block (0 = network address), if it exists.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "fd00::/120".parse()?;
    /// assert_eq!(n.nth(10), Some("fd00::a".parse()?));
    /// assert_eq!(n.nth(256), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nth(&self, n: u128) -> Option<IpAddr> {
        (n <= self.max_offset()).then(|| u128_to_ip(self.family(), self.base() + n))
    }

    /// Offsets of the usable part (ALLOC-2): `1 ..= size-2` for IPv4,
    /// `1 ..= size-1` for IPv6; `None` when nothing is usable.
    pub(crate) fn usable_offsets(&self) -> Option<(u128, u128)> {
        let last = match self.family() {
            IpFamily::V4 => self.max_offset().checked_sub(1)?,
            IpFamily::V6 => self.max_offset(),
        };
        (last >= 1).then_some((1, last))
    }

    /// The first address a Service may get (ALLOC-2): network + 1.
    /// `None` for blocks without usable addresses (IPv4 /31, /32, IPv6 /128).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert_eq!("10.96.0.0/16".parse::<IpNet>()?.first_usable(), Some("10.96.0.1".parse()?));
    /// assert_eq!("10.0.0.0/31".parse::<IpNet>()?.first_usable(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_usable(&self) -> Option<IpAddr> {
        let (lo, _) = self.usable_offsets()?;
        self.nth(lo)
    }

    /// The last address a Service may get (ALLOC-2): the IPv4 broadcast is
    /// excluded, the last IPv6 address is not.
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert_eq!("10.96.0.0/24".parse::<IpNet>()?.last_usable(), Some("10.96.0.254".parse()?));
    /// assert_eq!("fd00::/120".parse::<IpNet>()?.last_usable(), Some("fd00::ff".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_usable(&self) -> Option<IpAddr> {
        let (_, hi) = self.usable_offsets()?;
        self.nth(hi)
    }

    /// How many usable addresses (ALLOC-2): `2^h - 2` for IPv4, `2^h - 1`
    /// for IPv6 (0 when none).
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// assert_eq!("10.0.0.0/24".parse::<IpNet>()?.usable_count(), 254);
    /// assert_eq!("fd00::/64".parse::<IpNet>()?.usable_count(), u128::from(u64::MAX));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn usable_count(&self) -> u128 {
        self.usable_offsets().map_or(0, |(lo, hi)| hi - lo + 1)
    }

    /// Every address of the block, network address first.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.0.0.0/30".parse()?;
    /// let all: Vec<String> = n.iter().map(|a| a.to_string()).collect();
    /// assert_eq!(all, ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> IpIter {
        IpIter::new(self.family(), self.base(), self.base() | self.max_offset())
    }

    /// The usable addresses (ALLOC-2), in order.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.0.0.0/30".parse()?;
    /// let hosts: Vec<String> = n.hosts().map(|a| a.to_string()).collect();
    /// assert_eq!(hosts, ["10.0.0.1", "10.0.0.2"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hosts(&self) -> IpIter {
        match self.usable_offsets() {
            Some((lo, hi)) => IpIter::new(self.family(), self.base() + lo, self.base() + hi),
            None => IpIter::empty(self.family()),
        }
    }

    /// The usable addresses as an inclusive range, if any.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.0.0.0/24".parse()?;
    /// assert_eq!(n.usable_range().unwrap().to_string(), "10.0.0.1-10.0.0.254");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn usable_range(&self) -> Option<IpRange> {
        let (lo, hi) = self.usable_offsets()?;
        Some(IpRange {
            first: self.nth(lo)?,
            last: self.nth(hi)?,
        })
    }

    /// The `index`-th sub-block of prefix `prefix` (blocks numbered from 0
    /// at the network address), if `prefix` is not shorter than this
    /// block's and the index exists.
    ///
    /// ```
    /// let n: svcroute::ipam::IpNet = "10.244.0.0/16".parse()?;
    /// assert_eq!(n.subnet(24, 3).unwrap().to_string(), "10.244.3.0/24");
    /// assert_eq!(n.subnet(24, 256), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subnet(&self, prefix: u8, index: u128) -> Option<IpNet> {
        if prefix < self.prefix || prefix > self.family().bits() {
            return None;
        }
        let count_bits = prefix - self.prefix;
        if index > low_mask(count_bits) {
            return None;
        }
        let shift = u32::from(self.family().bits() - prefix);
        let offset = index.checked_shl(shift).unwrap_or(0);
        Some(IpNet {
            network: u128_to_ip(self.family(), self.base() | offset),
            prefix,
        })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for IpNet {
    type Err = IpamError;
    /// Strict: host bits must be zero.
    fn from_str(s: &str) -> Result<IpNet, IpamError> {
        let (addr, prefix) = split_cidr(s)?;
        IpNet::new(addr, prefix)
    }
}

/// Splits and parses `addr/len`. The length must be plain decimal digits
/// without a sign or leading zeros (as Go's `netip.ParsePrefix`); zones
/// (`%eth0`) are not accepted.
fn split_cidr(s: &str) -> Result<(IpAddr, u8), IpamError> {
    let (a, p) = s
        .split_once('/')
        .ok_or_else(|| IpamError::invalid(s, "not in CIDR notation (missing \"/\")"))?;
    let addr: IpAddr = a
        .parse()
        .map_err(|_| IpamError::invalid(s, format!("{a:?} is not an IP address")))?;
    let digits_ok = !p.is_empty()
        && p.len() <= 3
        && p.bytes().all(|b| b.is_ascii_digit())
        && !(p.len() > 1 && p.starts_with('0'));
    let prefix: u8 = if digits_ok { p.parse().ok() } else { None }
        .ok_or_else(|| IpamError::invalid(s, format!("{p:?} is not a prefix length")))?;
    Ok((addr, prefix))
}

/// An iterator over consecutive addresses of one family. It is lazy: a
/// `/64` is fine to iterate partially (its `size_hint` has no upper bound
/// when the count does not fit a `usize`).
///
/// ```
/// let n: svcroute::ipam::IpNet = "fd00::/126".parse()?;
/// assert_eq!(n.iter().count(), 4);
/// assert_eq!(n.iter().size_hint(), (4, Some(4)));
/// let big: svcroute::ipam::IpNet = "fd00::/64".parse()?;
/// assert_eq!(big.hosts().nth(1_000_000).unwrap().to_string(), "fd00::f:4241");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct IpIter {
    family: IpFamily,
    next: u128,
    last: u128,
    done: bool,
}

impl IpIter {
    fn new(family: IpFamily, first: u128, last: u128) -> IpIter {
        IpIter {
            family,
            next: first,
            last,
            done: first > last,
        }
    }

    fn empty(family: IpFamily) -> IpIter {
        IpIter {
            family,
            next: 1,
            last: 0,
            done: true,
        }
    }
}

impl Iterator for IpIter {
    type Item = IpAddr;
    fn next(&mut self) -> Option<IpAddr> {
        if self.done {
            return None;
        }
        let cur = self.next;
        if cur >= self.last {
            self.done = true;
        } else {
            self.next = cur + 1;
        }
        Some(u128_to_ip(self.family, cur))
    }

    fn nth(&mut self, n: usize) -> Option<IpAddr> {
        if self.done {
            return None;
        }
        match self.next.checked_add(n as u128) {
            Some(target) if target <= self.last => {
                self.next = target;
                self.next()
            }
            _ => {
                self.done = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let n = (self.last - self.next).checked_add(1);
        match n.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => (n, Some(n)),
            None => (usize::MAX, None),
        }
    }
}

/// An inclusive range of addresses of one family, `first ..= last`.
///
/// This is the form of the conformance `allocated` entries: a single
/// address (`"10.96.0.5"`) or `"a-b"` (`"10.96.0.17-10.96.0.254"`,
/// `"fd00::10-fd00::20"`).
///
/// ```
/// use svcroute::ipam::IpRange;
/// let r: IpRange = "10.96.0.17-10.96.0.254".parse()?;
/// assert_eq!(r.len(), 238);
/// assert!(r.contains("10.96.0.100".parse()?));
/// let one: IpRange = "fd00::5".parse()?;
/// assert_eq!(one.first(), one.last());
/// assert!("10.96.0.9-10.96.0.1".parse::<IpRange>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    pub(crate) first: IpAddr,
    pub(crate) last: IpAddr,
}

impl IpRange {
    /// A range, refusing mixed families and `first > last`.
    ///
    /// ```
    /// use svcroute::ipam::IpRange;
    /// assert!(IpRange::new("10.0.0.1".parse()?, "10.0.0.9".parse()?).is_ok());
    /// assert!(IpRange::new("10.0.0.1".parse()?, "::9".parse()?).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(first: IpAddr, last: IpAddr) -> Result<IpRange, IpamError> {
        if IpFamily::of(&first) != IpFamily::of(&last) {
            return Err(IpamError::invalid(
                format!("{first}-{last}"),
                "the two ends are of different IP families",
            ));
        }
        if ip_to_u128(first) > ip_to_u128(last) {
            return Err(IpamError::invalid(
                format!("{first}-{last}"),
                "the first address is after the last",
            ));
        }
        Ok(IpRange { first, last })
    }

    /// The first address (inclusive).
    ///
    /// ```
    /// let r: svcroute::ipam::IpRange = "10.0.0.1-10.0.0.9".parse()?;
    /// assert_eq!(r.first().to_string(), "10.0.0.1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first(&self) -> IpAddr {
        self.first
    }

    /// The last address (inclusive).
    ///
    /// ```
    /// let r: svcroute::ipam::IpRange = "10.0.0.1-10.0.0.9".parse()?;
    /// assert_eq!(r.last().to_string(), "10.0.0.9");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last(&self) -> IpAddr {
        self.last
    }

    /// A range of one address.
    ///
    /// ```
    /// let r = svcroute::ipam::IpRange::single("10.0.0.1".parse()?);
    /// assert_eq!(r.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn single(ip: IpAddr) -> IpRange {
        IpRange {
            first: ip,
            last: ip,
        }
    }

    /// The family of both ends.
    ///
    /// ```
    /// use svcroute::ipam::{IpFamily, IpRange};
    /// assert_eq!("fd00::1-fd00::2".parse::<IpRange>()?.family(), IpFamily::V6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn family(&self) -> IpFamily {
        IpFamily::of(&self.first)
    }

    /// Whether `ip` is inside the range.
    ///
    /// ```
    /// let r: svcroute::ipam::IpRange = "10.0.0.1-10.0.0.3".parse()?;
    /// assert!(!r.contains("10.0.0.4".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        IpFamily::of(&ip) == self.family()
            && (ip_to_u128(self.first)..=ip_to_u128(self.last)).contains(&ip_to_u128(ip))
    }

    /// Number of addresses (saturating at `u128::MAX` for all of IPv6).
    ///
    /// ```
    /// let r: svcroute::ipam::IpRange = "10.0.0.0-10.0.1.255".parse()?;
    /// assert_eq!(r.len(), 512);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u128 {
        (ip_to_u128(self.last) - ip_to_u128(self.first)).saturating_add(1)
    }

    /// The addresses of the range, in order.
    ///
    /// ```
    /// let r: svcroute::ipam::IpRange = "10.0.0.1-10.0.0.3".parse()?;
    /// assert_eq!(r.iter().count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> IpIter {
        IpIter::new(self.family(), ip_to_u128(self.first), ip_to_u128(self.last))
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl FromStr for IpRange {
    type Err = IpamError;
    /// `"a"` or `"a-b"` (inclusive); spaces around either end are ignored.
    fn from_str(s: &str) -> Result<IpRange, IpamError> {
        let parse = |part: &str| -> Result<IpAddr, IpamError> {
            part.trim().parse().map_err(|_| {
                IpamError::invalid(s, format!("{:?} is not an IP address", part.trim()))
            })
        };
        match s.split_once('-') {
            None => Ok(IpRange::single(parse(s)?)),
            Some((a, b)) => IpRange::new(parse(a)?, parse(b)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    // ALLOC-2: usable addresses exclude the network address, and for IPv4
    // the broadcast address.
    #[test]
    fn usable_bounds_per_family() {
        let v4 = net("10.96.0.0/16");
        assert_eq!(v4.first_usable().unwrap().to_string(), "10.96.0.1");
        assert_eq!(v4.last_usable().unwrap().to_string(), "10.96.255.254");
        assert_eq!(v4.usable_count(), (1 << 16) - 2);
        let v6 = net("fd00::/108");
        assert_eq!(v6.first_usable().unwrap().to_string(), "fd00::1");
        assert_eq!(v6.last_usable().unwrap().to_string(), "fd00::f:ffff");
        assert_eq!(v6.usable_count(), (1 << 20) - 1);
        assert_eq!(net("10.0.0.0/30").usable_count(), 2);
        assert_eq!(net("10.0.0.0/31").usable_count(), 0);
        assert_eq!(net("10.0.0.0/32").usable_count(), 0);
        assert_eq!(net("fd00::/127").usable_count(), 1);
        assert_eq!(net("fd00::/128").usable_count(), 0);
        assert_eq!(net("::/0").usable_count(), u128::MAX);
        assert_eq!(net("0.0.0.0/0").usable_count(), (1u128 << 32) - 2);
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "10.0.0.0/-1",
            "x/8",
            "10.0.0.0/8/8",
            "fe80::1%eth0/64",
            "10.0.0.0 /8",
            "10.0.0.1/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        assert_eq!(net("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(net("::/0").prefix_len(), 0);
    }

    #[test]
    fn host_bits_errors_name_the_network() {
        let err = "10.96.0.5/16".parse::<IpNet>().unwrap_err();
        assert_eq!(err.code(), "invalid");
        assert!(err.to_string().contains("10.96.0.0/16"), "{err}");
    }

    #[test]
    fn contains_and_offsets() {
        let n = net("10.96.0.0/16");
        assert!(n.contains("10.96.255.255".parse().unwrap()));
        assert!(!n.contains("10.95.255.255".parse().unwrap()));
        assert_eq!(n.offset_of("10.96.0.10".parse().unwrap()), Some(10));
        assert_eq!(n.nth(65535).unwrap().to_string(), "10.96.255.255");
        assert_eq!(n.nth(65536), None);
        assert!(net("::/0").contains("fd00::1".parse().unwrap()));
        assert!(!net("::/0").contains("10.0.0.1".parse().unwrap()));
        assert!(net("10.0.0.0/8").overlaps(&net("10.0.0.0/8")));
    }

    #[test]
    fn subnets_and_iterators() {
        let n = net("fd00:10:244::/56");
        assert_eq!(n.subnet(64, 1).unwrap().to_string(), "fd00:10:244:1::/64");
        assert_eq!(
            n.subnet(64, 255).unwrap().to_string(),
            "fd00:10:244:ff::/64"
        );
        assert_eq!(n.subnet(48, 0), None);
        assert_eq!(net("::/0").subnet(0, 0), Some(net("::/0")));
        assert_eq!(net("10.0.0.0/32").hosts().count(), 0);
        assert_eq!(net("10.0.0.0/32").iter().count(), 1);
        assert_eq!(
            net("255.255.255.252/30").iter().last().unwrap().to_string(),
            "255.255.255.255"
        );
        let all6 = net("::/0");
        assert_eq!(all6.iter().size_hint().1, None);
        let mut it = net("10.0.0.0/30").iter();
        assert_eq!(it.nth(2).unwrap().to_string(), "10.0.0.2");
        assert_eq!(it.next().unwrap().to_string(), "10.0.0.3");
        assert_eq!(it.next(), None);
        assert_eq!(net("10.0.0.0/30").iter().nth(4), None);
        assert_eq!(
            all6.iter().nth(usize::MAX).unwrap(),
            all6.nth(usize::MAX as u128).unwrap()
        );
    }

    #[test]
    fn ranges_parse() {
        let r: IpRange = " 10.0.0.1 - 10.0.0.2 ".parse().unwrap();
        assert_eq!(r.to_string(), "10.0.0.1-10.0.0.2");
        assert!("10.0.0.1-fd00::1".parse::<IpRange>().is_err());
        assert!("10.0.0.1-".parse::<IpRange>().is_err());
        assert!("-".parse::<IpRange>().is_err());
        assert_eq!(
            "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                .parse::<IpRange>()
                .unwrap()
                .len(),
            u128::MAX
        );
    }
}
