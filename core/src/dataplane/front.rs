//! The VIP table's key and record: one probe of `(address, port, protocol)`
//! gives the Service port and every fact the ClusterIP hot path needs, so a
//! pick reads the record, the port's endpoint set and nothing else.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

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
    /// Index of its Service.
    pub(super) svc: u32,
    pub(super) kind: FrontKind,
    /// KP-4.3: some endpoint is ready, or serving and terminating.
    pub(super) has_any: bool,
    /// internalTrafficPolicy Local.
    pub(super) itp_local: bool,
    /// NodePort, LoadBalancer or externalIPs (IPVS KP-9).
    pub(super) externally_accessible: bool,
    /// KP-6 hint sets exist (the cluster set depends on node and zone).
    pub(super) topology: bool,
    /// The cluster set is the terminating fallback (KP-11).
    pub(super) fallback: bool,
    /// The port's filter of endpoint IPs ([`ip_bit`]; the hairpin check).
    pub(super) ip_filter: u64,
    /// ClientIP affinity timeout (KP-19).
    pub(super) affinity: Option<Millis>,
    /// The affinity scope and IPVS virtual server of traffic to a cluster
    /// IP in this mode.
    pub(super) scope: u64,
    /// The port's cluster set in [`Flat`]: start and length.
    pub(super) cluster: (u32, u32),
}

/// The cluster sets of every port, back to back. A patch appends the sets
/// of the Services it re-reads and leaves the old ones as garbage;
/// [`Flat::compact`] rewrites the array from the live records once the
/// garbage outgrows what was live (amortised O(1) per appended endpoint).
#[derive(Debug, Clone, Default)]
pub(super) struct Flat {
    pub(super) addrs: Vec<SocketAddr>,
    /// Length after the last compile or compaction.
    base: usize,
}

impl Flat {
    /// Appends `set`; its (start, length).
    pub(super) fn push(&mut self, set: &[SocketAddr]) -> (u32, u32) {
        let start = u32::try_from(self.addrs.len()).unwrap_or(u32::MAX);
        self.addrs.extend_from_slice(set);
        (start, u32::try_from(set.len()).unwrap_or(u32::MAX))
    }

    /// The set at `range`.
    #[inline]
    pub(super) fn get(&self, (start, len): (u32, u32)) -> &[SocketAddr] {
        let start = start as usize;
        self.addrs
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    /// Marks the current contents as live (after a full compile).
    pub(super) fn settle(&mut self) {
        self.base = self.addrs.len();
    }

    /// Whether enough garbage piled up to compact.
    pub(super) fn wants_compaction(&self) -> bool {
        self.addrs.len() > 2 * self.base + 4096
    }

    /// Rewrites the array with only the sets `records` point at (each port
    /// once), and points them at their new place.
    pub(super) fn compact<'a>(&mut self, records: impl Iterator<Item = &'a mut Front>) {
        let mut moved: crate::table_hash::FastMap<(u32, u32), u32> = Default::default();
        let mut addrs = Vec::with_capacity(self.base.max(16));
        for f in records {
            let old = f.cluster;
            let start = *moved.entry(old).or_insert_with(|| {
                let start = u32::try_from(addrs.len()).unwrap_or(u32::MAX);
                let s = old.0 as usize;
                addrs.extend_from_slice(self.addrs.get(s..s + old.1 as usize).unwrap_or_default());
                start
            });
            f.cluster = (start, old.1);
        }
        self.addrs = addrs;
        self.base = self.addrs.len();
    }
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
    fn compaction_keeps_what_records_point_at() {
        let a: Vec<SocketAddr> = (1..=3)
            .map(|i| format!("10.0.0.{i}:80").parse().unwrap())
            .collect();
        let mut flat = Flat::default();
        let garbage = flat.push(&a[..1]);
        let live = flat.push(&a);
        let record = |cluster| Front {
            port: 0,
            svc: 0,
            kind: FrontKind::ClusterIp,
            has_any: true,
            itp_local: false,
            externally_accessible: false,
            topology: false,
            fallback: false,
            ip_filter: 0,
            affinity: None,
            scope: 0,
            cluster,
        };
        // Two records of one port (a cluster IP and an externalIP).
        let mut records = [record(live), record(live)];
        assert_eq!(flat.get(garbage), &a[..1]);
        flat.compact(records.iter_mut());
        assert_eq!(flat.addrs, a);
        assert!(records.iter().all(|r| flat.get(r.cluster) == a));
        assert!(!flat.wants_compaction());
        assert!(flat.get((7, 2)).is_empty());
    }

    #[test]
    fn ip_bits_are_single_bits() {
        for ip in ["10.0.0.1", "10.0.0.2", "fd00::1"] {
            assert_eq!(ip_bit(ip.parse().unwrap()).count_ones(), 1);
        }
    }
}
