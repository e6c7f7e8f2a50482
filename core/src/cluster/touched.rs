//! The keys one call touched, each with whether its object existed before
//! the call: the change tracker behind [`Changes`](super::Changes).
//!
//! A call that changes one pod touches a handful of keys, a batch that
//! builds a cluster hundreds of thousands. The keys are kept in arrival
//! order; a handful are searched in place, more through a hash index
//! built once they pass [`SMALL`]. Key order, which the returned changes
//! and the workload step read, is made at the end by [`sort_keys`], which
//! compares a batch's many keys by a prefix held beside each instead of
//! following every key's pointer (the store's ordered index takes a
//! batch's new keys sorted the same way).

use super::intern::FxMap;
use super::store_key::{KeyView, StoreKey};

/// Up to this many keys are searched without a hash index.
const SMALL: usize = 16;

/// Touched keys → did the object exist before the call.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    entries: Vec<(StoreKey, bool)>,
    /// Key → position in `entries`, once there are more than [`SMALL`].
    index: FxMap<StoreKey, u32>,
}

impl Touched {
    fn position(&self, key: &dyn KeyView) -> Option<usize> {
        if self.entries.len() <= SMALL {
            self.entries
                .iter()
                .position(|(k, _)| (k as &dyn KeyView) == key)
        } else {
            self.index.get(key).map(|&i| i as usize)
        }
    }

    /// Did the object with this key exist before the call (`None`: not
    /// touched)?
    pub(crate) fn get(&self, key: &dyn KeyView) -> Option<bool> {
        self.position(key).map(|i| self.entries[i].1)
    }

    /// Room for `more` keys (a batch's), so that the list and its index
    /// do not grow by doubling.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.entries.reserve(more);
        if self.entries.len() + more > SMALL {
            self.index.reserve(more);
        }
    }

    /// Notes a touched key; the first note of a key is the one kept.
    pub(crate) fn note(&mut self, key: &StoreKey, existed: bool) {
        let at = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        if self.entries.len() > SMALL {
            // Indexed: one hash finds the key or its place.
            if let std::collections::hash_map::Entry::Vacant(e) = self.index.entry(key.clone()) {
                e.insert(at);
                self.entries.push((key.clone(), existed));
            }
            return;
        }
        if self.position(key).is_some() {
            return;
        }
        self.entries.push((key.clone(), existed));
        if self.entries.len() == SMALL + 1 {
            // Into the index as it is (it may have room reserved).
            let keys = self.entries.iter().enumerate();
            self.index
                .extend(keys.map(|(i, (k, _))| (k.clone(), i as u32)));
        }
    }

    /// Notes every key of `other` (a nested write's), first notes kept.
    pub(crate) fn absorb(&mut self, other: Touched) {
        for (k, existed) in other.entries {
            self.note(&k, existed);
        }
    }

    /// The touched keys that pass `keep`, in key order (kind, namespace,
    /// name). Filtering first spares sorting the keys no one reads.
    pub(crate) fn sorted_keys_where(&self, keep: impl FnMut(&&StoreKey) -> bool) -> Vec<&StoreKey> {
        let mut keys: Vec<&StoreKey> = self.entries.iter().map(|(k, _)| k).filter(keep).collect();
        sort_keys(&mut keys, |k| k);
        keys
    }

    /// Every touched key with whether it existed, in key order.
    pub(crate) fn into_sorted(self) -> Vec<(StoreKey, bool)> {
        let mut entries = self.entries;
        sort_keys(&mut entries, |e| &e.0);
        entries
    }
}

/// Below this many items, keys are compared directly.
const DIRECT: usize = 64;

/// Sorts items with distinct keys in key order (kind, namespace, name).
///
/// Many keys (a batch's hundreds of thousands) are sorted by a 128-bit
/// prefix held beside each item: the kind, the namespace's rank among the
/// namespaces present, and the name's first 12 bytes (zero-padded, which
/// orders as the strings do); only keys with equal prefixes are compared
/// in full. Comparing stored keys directly would follow each key's
/// pointer on every comparison.
pub(crate) fn sort_keys<T>(items: &mut Vec<T>, key: impl Fn(&T) -> &StoreKey) {
    if items.len() <= DIRECT {
        items.sort_unstable_by(|a, b| key(a).get().cmp(key(b).get()));
        return;
    }
    let mut ranks: FxMap<Option<&str>, u32> = FxMap::default();
    for item in items.iter() {
        ranks.entry(key(item).namespace.as_deref()).or_insert(0);
    }
    let mut namespaces: Vec<Option<&str>> = ranks.keys().copied().collect();
    namespaces.sort_unstable();
    for (rank, ns) in namespaces.iter().enumerate() {
        ranks.insert(*ns, rank as u32);
    }
    let mut order: Vec<(u128, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let k = key(item).get();
            let rank = ranks.get(&k.namespace.as_deref()).copied().unwrap_or(0);
            (prefix(k.kind as u8, rank, &k.name), i as u32)
        })
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            let (x, y) = (key(&items[a.1 as usize]), key(&items[b.1 as usize]));
            x.get().cmp(y.get())
        })
    });
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&(_, i)| slots[i as usize].take()));
}

/// The sort prefix of a key: kind (8 bits), namespace rank (24 bits, more
/// namespaces than that share the top rank and tie), the name's first 12
/// bytes. Keys with equal prefixes are compared in full (they differ past
/// the name's 12th byte, or share the top namespace rank).
fn prefix(kind: u8, rank: u32, name: &str) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[0] = kind;
    bytes[1..4].copy_from_slice(&rank.min(0xff_ffff).to_be_bytes()[1..]);
    let n = name.len().min(12);
    bytes[4..4 + n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Kind, ObjectKey};

    fn key(name: String) -> StoreKey {
        StoreKey::new(ObjectKey {
            kind: Kind::Pod,
            namespace: Some("shop".into()),
            name,
        })
    }

    #[test]
    fn first_note_kept_and_key_order_out() {
        for n in [3usize, 40] {
            let mut t = Touched::default();
            let keys: Vec<StoreKey> = (0..n).rev().map(|i| key(format!("p{i:03}"))).collect();
            for k in &keys {
                t.note(k, false);
            }
            for k in &keys {
                t.note(k, true);
                assert_eq!(t.get(k.get()), Some(false));
            }
            assert_eq!(t.get(key("other".into()).get()), None);
            let out = t.into_sorted();
            assert_eq!(out.len(), n);
            assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn many_keys_sort_as_object_keys_do() {
        // Past DIRECT the prefix sort runs: kinds, namespaces (and none),
        // names sharing 12 and more bytes, names that are prefixes of others.
        let mut keys = Vec::new();
        for (i, kind) in [Kind::Service, Kind::Pod, Kind::Namespace]
            .into_iter()
            .enumerate()
        {
            for ns in [None, Some("b"), Some("a"), Some("a-long-namespace")] {
                for name in [
                    "svc-1234-abcdef-00002",
                    "svc-1234-abcdef-00001",
                    "svc-1234-abc",
                    "svc",
                    "",
                    "z",
                    "svc-1234-abcd",
                    // Sharing 28 bytes and more.
                    "svc-1234-abcdef0123-00001-longer-b",
                    "svc-1234-abcdef0123-00001-longer-a",
                    "svc-1234-abcdef0123-00001-l",
                    "svc-1234-abcdef0123-00001-lo",
                    "svc-1234-abcdef0123-00001-lon",
                ] {
                    keys.push(StoreKey::new(ObjectKey {
                        kind,
                        namespace: ns.map(str::to_owned),
                        name: format!("{name}{}", if i == 2 { "x" } else { "" }),
                    }));
                }
            }
        }
        assert!(keys.len() > DIRECT);
        let mut want: Vec<ObjectKey> = keys.iter().map(|k| k.get().clone()).collect();
        want.sort();
        let mut t = Touched::default();
        for k in keys.iter().rev() {
            t.note(k, true);
        }
        let got: Vec<ObjectKey> = t
            .into_sorted()
            .into_iter()
            .map(|(k, _)| k.get().clone())
            .collect();
        assert_eq!(got, want);
    }
}
