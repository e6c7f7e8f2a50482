//! Finding a backend's position by its key when a balancer's backend list
//! is replaced: the balancers carry their per-backend state (IPVS counters,
//! active requests, latency estimates, hash slots) over to the backends
//! that stay. One sorted list of `(key, position)` serves every balancer,
//! instead of a map type per state type (issue 8: each map type is a
//! separate copy of the map's code in the WASM module).

/// Positions by key, sorted by key; a taken entry is marked [`TAKEN`].
pub(crate) struct KeyIndex<'a> {
    entries: Vec<(&'a str, u32)>,
}

/// The position of an entry that [`KeyIndex::take`] has returned.
const TAKEN: u32 = u32::MAX;

impl<'a> KeyIndex<'a> {
    /// Indexes `entries`; when a key is given twice, the last position
    /// counts (as it would when collected into a map).
    pub(crate) fn new(mut entries: Vec<(&'a str, u32)>) -> Self {
        crate::order::sort_by(&mut entries, |a, b| a.0.cmp(b.0));
        // The sort is stable: of equal keys, the last given is the last.
        let mut kept: Vec<(&'a str, u32)> = Vec::with_capacity(entries.len());
        for e in entries {
            match kept.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => kept.push(e),
            }
        }
        KeyIndex { entries: kept }
    }

    /// Indexes `keys` by their place in the list.
    pub(crate) fn of_keys(keys: &'a [String]) -> Self {
        Self::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.as_str(), i as u32))
                .collect(),
        )
    }

    /// Indexes the backends that can be picked (weight above zero) by
    /// their place in `backends`.
    pub(crate) fn of_eligible(backends: &'a [super::Backend]) -> Self {
        Self::new(
            backends
                .iter()
                .enumerate()
                .filter(|(_, b)| b.weight > 0)
                .map(|(i, b)| (b.key.as_str(), i as u32))
                .collect(),
        )
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (*k).cmp(key))
    }

    /// The position of `key`, unless it is absent or taken.
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        let at = self.find(key).ok()?;
        Some(self.entries[at].1).filter(|&p| p != TAKEN)
    }

    /// The position of `key`, which is then taken: later calls for the
    /// same key return `None` (a map's `remove`).
    pub(crate) fn take(&mut self, key: &str) -> Option<u32> {
        let at = self.find(key).ok()?;
        let p = std::mem::replace(&mut self.entries[at].1, TAKEN);
        Some(p).filter(|&p| p != TAKEN)
    }

    /// The positions not taken, in key order.
    pub(crate) fn remaining(self) -> impl Iterator<Item = u32> + 'a {
        self.entries
            .into_iter()
            .map(|(_, p)| p)
            .filter(|&p| p != TAKEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_takes_and_keeps_the_last_duplicate() {
        let mut ix = KeyIndex::new(vec![("b", 0), ("a", 1), ("c", 2), ("a", 3)]);
        assert_eq!(ix.get("a"), Some(3));
        assert_eq!(ix.get("z"), None);
        assert_eq!(ix.take("b"), Some(0));
        assert_eq!(ix.take("b"), None);
        assert_eq!(ix.get("b"), None);
        assert_eq!(ix.remaining().collect::<Vec<_>>(), vec![3, 2]);
        let keys = vec!["x".to_owned(), "w".to_owned()];
        assert_eq!(KeyIndex::of_keys(&keys).get("w"), Some(1));
    }
}
