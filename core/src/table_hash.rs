//! The hasher of the crate's internal hash maps (the dataplane's lookup
//! tables, the cluster store's indexes and interner): a multiply-rotate
//! word hash (FxHash's shape) with a final avalanche, several times cheaper
//! than the standard SipHash on the short keys hashed here (an address, a
//! port, a node name, an interned id). Keys come from the cluster's own
//! objects, not from packets, so flooding resistance is not needed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hashes the words it is given; see the [module documentation](self).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableHasher(u64);

impl TableHasher {
    #[inline(always)]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for TableHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let z = (self.0 ^ (self.0 >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
        z ^ (z >> 29)
    }
}

/// A hash map with [`TableHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<TableHasher>>;

/// A `(namespace, name)` pair, so that tables keyed by `(String, String)`
/// can be asked with borrowed `(&str, &str)` without allocating.
pub(crate) trait NamePair {
    fn first(&self) -> &str;
    fn second(&self) -> &str;
}

impl NamePair for (String, String) {
    fn first(&self) -> &str {
        &self.0
    }
    fn second(&self) -> &str {
        &self.1
    }
}

impl NamePair for (&str, &str) {
    fn first(&self) -> &str {
        self.0
    }
    fn second(&self) -> &str {
        self.1
    }
}

impl<'a> std::borrow::Borrow<dyn NamePair + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn NamePair + 'a) {
        self
    }
}

/// Hashes as `(String, String)` does: the two strings in turn.
impl std::hash::Hash for dyn NamePair + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.first().hash(state);
        self.second().hash(state);
    }
}

impl PartialEq for dyn NamePair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.first() == other.first() && self.second() == other.second()
    }
}

impl Eq for dyn NamePair + '_ {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn borrowed_pairs_find_owned_keys() {
        let mut m: FastMap<(String, String), u8> = FastMap::default();
        m.insert(("shop".into(), "web".into()), 7);
        assert_eq!(m.get(&("shop", "web") as &dyn NamePair), Some(&7));
        assert_eq!(m.get(&("shop", "we") as &dyn NamePair), None);
        assert_eq!(m.get(&("sho", "pweb") as &dyn NamePair), None);
    }

    #[test]
    fn spreads_short_keys_over_the_low_bits() {
        let b = BuildHasherDefault::<TableHasher>::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..4096u32 {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from(0xac10_0000 + i));
            seen.insert(b.hash_one((ip, 80u16)) & 0xfff);
        }
        // 4,096 keys into 4,096 buckets: a good hash fills about 63%.
        assert!(seen.len() > 2400, "{}", seen.len());
    }
}
