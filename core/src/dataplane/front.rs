//! The VIP table's key and record: one probe of `(address, port, protocol)`
//! gives the Service port and every fact the ClusterIP hot path needs, so a
//! pick reads the record, the port's endpoint set and nothing else.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use super::{FrontKind, Millis};
use crate::api::Protocol as L4;

/// `(VIP, port, protocol)` packed in three words, hashed as one word for
/// IPv4 (two for IPv6) instead of the tuple's five.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct VipKey {
    lo: u64,
    hi: u64,
    /// Family (bit 24), port (bits 8..24), protocol number (bits 0..8).
    tail: u32,
}

impl VipKey {
    #[inline]
    pub(super) fn new(ip: IpAddr, port: u16, l4: L4) -> VipKey {
        let proto: u32 = match l4 {
            L4::TCP => 6,
            L4::UDP => 17,
            L4::SCTP => 132,
        };
        let (lo, hi, fam) = match ip {
            IpAddr::V4(a) => (u64::from(u32::from(a)), 0, 0),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                (v as u64, (v >> 64) as u64, 1 << 24)
            }
        };
        VipKey {
            lo,
            hi,
            tail: fam | (u32::from(port) << 8) | proto,
        }
    }
}

impl Hash for VipKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.lo ^ (u64::from(self.tail) << 32));
        if self.hi != 0 {
            h.write_u64(self.hi);
        }
    }
}

/// What a VIP is: its Service port (index) and kind, with the Service's and
/// the port's facts the hot path asks, copied in at compile time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Front {
    /// Index of the Service port.
    pub(super) port: usize,
    pub(super) kind: FrontKind,
    /// KP-4.3: some endpoint is ready, or serving and terminating.
    pub(super) has_any: bool,
    /// internalTrafficPolicy Local.
    pub(super) itp_local: bool,
    /// NodePort, LoadBalancer or externalIPs (IPVS KP-9).
    pub(super) externally_accessible: bool,
    /// KP-6 hint sets exist (the cluster set depends on node and zone).
    pub(super) topology: bool,
    /// ClientIP affinity timeout (KP-19).
    pub(super) affinity: Option<Millis>,
    /// The affinity scope and IPVS virtual server of traffic to a cluster
    /// IP in this mode.
    pub(super) scope: u64,
}

/// One bit of a 64-bit filter for an endpoint IP: a port's filter is the OR
/// of its endpoints' bits, so a source whose bit is clear is no endpoint of
/// the port (the hairpin check of KP-20 skips the scan).
#[inline]
pub(super) fn ip_bit(ip: IpAddr) -> u64 {
    let w = match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            (v as u64) ^ ((v >> 64) as u64)
        }
    };
    1u64 << (w.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_family_port_and_protocol_apart() {
        let v4: IpAddr = "10.96.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.96.0.1".parse().unwrap();
        let k = VipKey::new(v4, 80, L4::TCP);
        assert_eq!(k, VipKey::new(v4, 80, L4::TCP));
        assert_ne!(k, VipKey::new(v4, 80, L4::UDP));
        assert_ne!(k, VipKey::new(v4, 81, L4::TCP));
        assert_ne!(k, VipKey::new(mapped, 80, L4::TCP));
        assert_ne!(
            VipKey::new("fd00::1".parse().unwrap(), 80, L4::SCTP),
            VipKey::new("fd00::2".parse().unwrap(), 80, L4::SCTP)
        );
    }

    #[test]
    fn ip_bits_are_single_bits() {
        for ip in ["10.0.0.1", "10.0.0.2", "fd00::1"] {
            assert_eq!(ip_bit(ip.parse().unwrap()).count_ones(), 1);
        }
    }
}
