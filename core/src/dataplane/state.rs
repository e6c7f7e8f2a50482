//! Per-pick state, owned by the caller: ClientIP affinity memory (rule
//! KP-19), IPVS round-robin cursors and the seeded random source.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use super::Millis;

/// The state that changes with every pick. A [`Dataplane`](super::Dataplane)
/// is immutable and shareable; this is what a caller keeps beside it (one per
/// worker, or one shared behind a lock). It survives recompiling the
/// dataplane, as kernel state survives a kube-proxy sync.
///
/// ```
/// use svcroute::dataplane::RouteState;
/// let s = RouteState::new(7);
/// assert_eq!(s.affinity_entries(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct RouteState {
    rng: u64,
    /// (node, scope, client) → (endpoint, last seen).
    affinity: HashMap<(u64, u64, IpAddr), (SocketAddr, Millis)>,
    /// (node, virtual server) → next index.
    cursors: HashMap<(u64, u64), usize>,
}

impl RouteState {
    /// Fresh state whose random picks follow `seed`.
    ///
    /// ```
    /// let s = svcroute::dataplane::RouteState::new(42);
    /// assert_eq!(s.affinity_entries(), 0);
    /// ```
    pub fn new(seed: u64) -> RouteState {
        RouteState {
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
            affinity: HashMap::new(),
            cursors: HashMap::new(),
        }
    }

    /// How many affinity entries are remembered (expired ones included).
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::RouteState::new(0).affinity_entries(), 0);
    /// ```
    pub fn affinity_entries(&self) -> usize {
        self.affinity.len()
    }

    /// Forgets every affinity entry (kernel state lost).
    ///
    /// ```
    /// let mut s = svcroute::dataplane::RouteState::new(0);
    /// s.clear_affinity();
    /// assert_eq!(s.affinity_entries(), 0);
    /// ```
    pub fn clear_affinity(&mut self) {
        self.affinity.clear();
    }

    /// splitmix64.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn round_robin(&mut self, node: u64, vs: u64, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let c = self.cursors.entry((node, vs)).or_insert(0);
        let i = *c % n;
        *c = c.wrapping_add(1);
        i
    }

    /// The remembered endpoint if it was seen within `timeout`.
    pub(crate) fn sticky(
        &self,
        key: (u64, u64, IpAddr),
        now: Millis,
        timeout: Millis,
    ) -> Option<SocketAddr> {
        let (ep, seen) = self.affinity.get(&key)?;
        (now.0.saturating_sub(seen.0) <= timeout.0).then_some(*ep)
    }

    pub(crate) fn remember(&mut self, key: (u64, u64, IpAddr), ep: SocketAddr, now: Millis) {
        self.affinity.insert(key, (ep, now));
    }
}

/// FNV-1a over the parts, separated: stable keys that survive recompiles.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
