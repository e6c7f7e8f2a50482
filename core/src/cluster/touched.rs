//! The keys one call touched, each with whether its object existed before
//! the call: the change tracker behind [`Changes`](super::Changes).
//!
//! A call that changes one pod touches a handful of keys, a batch that
//! builds a cluster hundreds of thousands. The keys are kept in arrival
//! order; a handful are searched in place, more through a hash index
//! built once they pass [`SMALL`]. Key order, which the returned changes
//! and the workload step read, is made once at the end by a sort (the
//! keys of a batch mostly arrive in order, which the sort finds as runs).

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

    /// Notes a touched key; the first note of a key is the one kept.
    pub(crate) fn note(&mut self, key: &StoreKey, existed: bool) {
        if self.position(key).is_some() {
            return;
        }
        let at = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.entries.push((key.clone(), existed));
        if self.entries.len() == SMALL + 1 {
            self.index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i as u32))
                .collect();
        } else if self.entries.len() > SMALL + 1 {
            self.index.insert(key.clone(), at);
        }
    }

    /// Notes every key of `other` (a nested write's), first notes kept.
    pub(crate) fn absorb(&mut self, other: Touched) {
        for (k, existed) in other.entries {
            self.note(&k, existed);
        }
    }

    /// The touched keys in key order (kind, namespace, name).
    pub(crate) fn sorted_keys(&self) -> Vec<&StoreKey> {
        let mut keys: Vec<&StoreKey> = self.entries.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys
    }

    /// Every touched key with whether it existed, in key order.
    pub(crate) fn into_sorted(self) -> Vec<(StoreKey, bool)> {
        let mut entries = self.entries;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    }
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
}
