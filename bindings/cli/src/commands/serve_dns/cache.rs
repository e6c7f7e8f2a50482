//! Responses already encoded, per UDP worker, bounded in entries.

use std::collections::HashMap;

use svcroute::dns::{Dns, Transport};

/// The most octets of a query or of a response that the cache keeps; larger
/// ones (rare: big headless answers, EDNS options) are answered afresh.
const MAX_CACHED_OCTETS: usize = 512;

/// Octets a cache may hold per entry of its capacity, on average: keys,
/// responses and the table's own cost (64 per entry, counted). A typical
/// cluster question and answer cost about 200 (260 with the table, as
/// measured), so this bound bites when clients send long questions with
/// long answers.
pub(super) const OCTETS_PER_ENTRY: usize = 256;

/// What an entry is counted as, beyond its key and response: the table slot
/// and two allocations' headers.
const ENTRY_OVERHEAD: usize = 64;

/// Responses already encoded, keyed by the query message less its ID.
///
/// Between reloads the served [`Dns`] never changes (the cache is cleared
/// when a reload swaps it), and a response is a function of the query's
/// octets alone (the ID is copied back), so a hit is the response
/// [`Dns::answer_wire_into`] would write, for the price of a hash probe and
/// a copy.
///
/// Bounded: at most `capacity` entries and `capacity` ×
/// [`OCTETS_PER_ENTRY`] octets, each entry at most [`MAX_CACHED_OCTETS`]
/// each way, so what it holds is a fixed cost of the server, not a cost per
/// name (a client asking every name of a large cluster does not grow it
/// past that). Two generations: new entries go to `recent`; when it holds
/// half the capacity (in entries or in octets) it becomes `older` (the
/// previous `older` is dropped), and a hit in `older` moves the entry back
/// to `recent`. Names asked again and again stay; names asked once age out.
pub(super) struct AnswerCache {
    recent: Generation,
    older: Generation,
    /// Octets counted in `recent`.
    recent_octets: usize,
    /// Entries per generation; 0 turns the cache off.
    per_generation: usize,
}

/// Query less its ID -> response less its ID (`None`: the query is dropped).
type Generation = HashMap<Box<[u8]>, Option<Box<[u8]>>>;

impl AnswerCache {
    /// A cache of at most `capacity` responses (0: none are kept).
    pub(super) fn new(capacity: usize) -> AnswerCache {
        AnswerCache {
            recent: HashMap::new(),
            older: HashMap::new(),
            recent_octets: 0,
            per_generation: capacity / 2 + capacity % 2,
        }
    }

    /// Forgets every response (the index changed) and gives the memory back.
    pub(super) fn clear(&mut self) {
        self.recent = HashMap::new();
        self.older = HashMap::new();
        self.recent_octets = 0;
    }

    /// Responses held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }

    /// Writes the UDP response to `query` into `out` (empty); `false` when
    /// there is none.
    pub(super) fn answer(&mut self, dns: &Dns, query: &[u8], out: &mut Vec<u8>) -> bool {
        if self.per_generation == 0 || query.len() < 12 || query.len() > MAX_CACHED_OCTETS {
            return dns.answer_wire_into(query, Transport::Udp, out);
        }
        let (id, key) = query.split_at(2);
        if let Some(hit) = self.recent.get(key) {
            return copy_out(id, hit.as_deref(), out);
        }
        if let Some((key, hit)) = self.older.remove_entry(key) {
            let answered = copy_out(id, hit.as_deref(), out);
            self.keep(key, hit);
            return answered;
        }
        let answered = dns.answer_wire_into(query, Transport::Udp, out);
        if answered && out.len() > MAX_CACHED_OCTETS {
            return true;
        }
        let value = answered.then(|| Box::<[u8]>::from(&out[2..]));
        self.keep(key.into(), value);
        answered
    }

    /// Files an entry in `recent`, turning generations over when it is full.
    fn keep(&mut self, key: Box<[u8]>, value: Option<Box<[u8]>>) {
        let octets = key.len() + value.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD;
        if self.recent.len() >= self.per_generation
            || self.recent_octets + octets > self.per_generation * OCTETS_PER_ENTRY
        {
            self.older = std::mem::take(&mut self.recent);
            self.recent_octets = 0;
        }
        self.recent_octets += octets;
        self.recent.insert(key, value);
    }
}

/// Writes a cached response with the query's ID; `false` for a dropped query.
fn copy_out(id: &[u8], response: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
    match response {
        Some(resp) => {
            out.extend_from_slice(id);
            out.extend_from_slice(resp);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use svcroute::dns::wire::{self, Message};
    use svcroute::dns::{DnsConfig, RecordType};

    fn dns() -> Dns {
        let cluster = svcroute::cluster::Cluster::new(Default::default()).unwrap();
        Dns::new(&cluster, DnsConfig::default()).unwrap()
    }

    fn query(id: u16, name: &str) -> Vec<u8> {
        wire::encode(&Message::query(id, name, RecordType::A)).unwrap()
    }

    #[test]
    fn cached_responses_equal_fresh_ones_with_the_new_id() {
        let dns = dns();
        let mut cache = AnswerCache::new(16);
        for name in [
            "kubernetes.default.svc.cluster.local.",
            "nope.default.svc.cluster.local.",
        ] {
            for id in [1u16, 2, 3] {
                let q = query(id, name);
                let (mut cached, mut fresh) = (Vec::new(), Vec::new());
                assert!(cache.answer(&dns, &q, &mut cached));
                assert!(dns.answer_wire_into(&q, Transport::Udp, &mut fresh));
                assert_eq!(cached, fresh);
                assert_eq!(wire::decode(&cached).unwrap().header.id, id);
            }
        }
        // Dropped queries stay dropped (a response, QR set).
        let mut q = query(4, "a.");
        q[2] |= 0x80;
        let mut out = Vec::new();
        assert!(!cache.answer(&dns, &q, &mut out));
        assert!(!cache.answer(&dns, &q, &mut out));
        assert!(out.is_empty());
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_client_asking_every_name_does_not_grow_it_past_its_capacity() {
        let dns = dns();
        let mut cache = AnswerCache::new(10);
        let mut out = Vec::new();
        for n in 0..1000u16 {
            let q = query(n, &format!("nope-{n}.default.svc.cluster.local."));
            out.clear();
            assert!(cache.answer(&dns, &q, &mut out));
            let mut fresh = Vec::new();
            assert!(dns.answer_wire_into(&q, Transport::Udp, &mut fresh));
            assert_eq!(out, fresh);
            assert!(cache.len() <= 10, "{} entries", cache.len());
        }
    }

    #[test]
    fn long_entries_are_bounded_in_octets_too() {
        let dns = dns();
        let mut cache = AnswerCache::new(100);
        let mut out = Vec::new();
        for n in 0..1000u16 {
            // 200-octet names: about 470 octets an entry, counted.
            let label = "x".repeat(60);
            let name = format!("{label}.{label}.{label}.n{n}.cluster.local.");
            out.clear();
            let _ = cache.answer(&dns, &query(n, &name), &mut out);
            let held: usize = [&cache.recent, &cache.older]
                .iter()
                .flat_map(|g| g.iter())
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD)
                .sum();
            assert!(held <= 100 * OCTETS_PER_ENTRY, "{held} octets held");
        }
        assert!(cache.len() < 100);
    }

    #[test]
    fn a_name_asked_again_and_again_stays_among_names_asked_once() {
        let dns = dns();
        let mut cache = AnswerCache::new(8);
        let hot = query(0, "kubernetes.default.svc.cluster.local.");
        let mut out = Vec::new();
        for n in 0..100u16 {
            let q = query(n, &format!("once-{n}.default.svc.cluster.local."));
            assert!(cache.answer(&dns, &q, &mut out));
            assert!(cache.answer(&dns, &hot, &mut out));
            let key = &hot[2..];
            assert!(cache.recent.contains_key(key) || cache.older.contains_key(key));
        }
    }

    #[test]
    fn capacity_zero_keeps_nothing_and_still_answers() {
        let dns = dns();
        let mut cache = AnswerCache::new(0);
        let q = query(7, "kubernetes.default.svc.cluster.local.");
        let (mut cached, mut fresh) = (Vec::new(), Vec::new());
        assert!(cache.answer(&dns, &q, &mut cached));
        assert!(dns.answer_wire_into(&q, Transport::Udp, &mut fresh));
        assert_eq!(cached, fresh);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn clear_forgets_everything() {
        let dns = dns();
        let mut cache = AnswerCache::new(4);
        let mut out = Vec::new();
        assert!(cache.answer(&dns, &query(1, "a.default.svc.cluster.local."), &mut out));
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
