//! The local-traffic detector of rule KP-20 (`--detect-local-mode`): the
//! cluster CIDRs, or a node's pod CIDRs, stored as (network, mask) words of
//! each family, so that "is this source a local pod?" is a mask and a
//! compare per CIDR on the decision path.

use std::net::IpAddr;

use crate::ipam::{IpFamily, IpNet};

/// CIDRs kept for matching addresses against them.
#[derive(Debug, Clone, Default)]
pub(super) struct Cidrs {
    /// IPv4 CIDRs: (network, mask).
    v4: Vec<(u32, u32)>,
    /// IPv6 CIDRs: (network, mask).
    v6: Vec<(u128, u128)>,
}

impl Cidrs {
    /// The CIDRs `nets`, in order.
    pub(super) fn new<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> Cidrs {
        let mut out = Cidrs::default();
        for net in nets {
            let host = u32::from(net.host_bits());
            match (net.family(), net.network()) {
                (IpFamily::V4, IpAddr::V4(a)) => {
                    let mask = u32::MAX.checked_shl(host).unwrap_or(0);
                    out.v4.push((u32::from(a) & mask, mask));
                }
                (_, a) => {
                    let mask = u128::MAX.checked_shl(host).unwrap_or(0);
                    let a = match a {
                        IpAddr::V6(a) => u128::from(a),
                        IpAddr::V4(a) => u128::from(u32::from(a)),
                    };
                    out.v6.push((a & mask, mask));
                }
            }
        }
        out
    }

    /// `None` when no CIDR is of `ip`'s family (the detector does not
    /// exist for it); otherwise whether one of them contains `ip`.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(super) fn matches(&self, ip: IpAddr) -> Option<bool> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                (!self.v4.is_empty()).then(|| self.v4.iter().any(|&(n, m)| a & m == n))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                (!self.v6.is_empty()).then(|| self.v6.iter().any(|&(n, m)| a & m == n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| IpNet::parse_truncating(s).unwrap())
            .collect()
    }

    #[test]
    fn matches_as_ipnet_contains_does() {
        let list = nets(&[
            "10.244.0.0/16",
            "192.168.7.0/24",
            "fd00:10::/64",
            "0.0.0.0/0",
        ]);
        for cidrs in [&list[..2], &list[2..3], &list[..3], &list[3..]] {
            let c = Cidrs::new(cidrs);
            for ip in [
                "10.244.3.4",
                "10.245.0.1",
                "192.168.7.255",
                "192.168.8.0",
                "fd00:10::9",
                "fd00:11::9",
                "::ffff:10.244.3.4",
            ] {
                let ip: IpAddr = ip.parse().unwrap();
                let fam = IpFamily::of(&ip);
                let of_family: Vec<&IpNet> = cidrs.iter().filter(|n| n.family() == fam).collect();
                let want =
                    (!of_family.is_empty()).then(|| of_family.iter().any(|n| n.contains(ip)));
                assert_eq!(c.matches(ip), want, "{ip} in {cidrs:?}");
            }
        }
        assert_eq!(Cidrs::default().matches("10.0.0.1".parse().unwrap()), None);
    }
}
