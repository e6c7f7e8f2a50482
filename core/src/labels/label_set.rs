//! [`LabelSet`]: one object's labels, laid out once for many selector
//! matches.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use super::plan::{Form, short_form};
use super::selector::{Labels, Scan, key_word};

/// A set of labels stored for fast matching: one sorted array of entries
/// over one text buffer, with the first 8 bytes of every key also kept as
/// a number, in an array of their own, and every value of up to 16 bytes
/// kept as two numbers.
///
/// [`Selector::matches`](super::Selector::matches) against a `LabelSet`
/// finds each requirement's key by comparing integers (one forward pass
/// over the keys' first 8 bytes for all requirements, which come sorted
/// by key; binary search in a large set), and reads key bytes only past
/// the first 8. A requirement on one or two short values (`k=v`,
/// `k in (a,b)`, `k!=v`, …) tests the value by its length and numbers,
/// without reading its text. It does not allocate.
///
/// **When to use it.** Building a `LabelSet` costs three allocations and
/// a sort, about what cloning a small map costs, so it pays off when the same
/// labels are matched against several selectors: a pod held by a label
/// index, a cluster store that asks every Service, NetworkPolicy and
/// workload whether it selects a new pod, a proxy that keeps its endpoints'
/// labels. To match one selector against one map, once, pass the map
/// itself ([`Labels`] is implemented for `BTreeMap`, `HashMap` and slices
/// of pairs).
///
/// Matching gives exactly what the same labels in a `BTreeMap` give,
/// including the absent-key rules of `!=`, `notin` and `!key`
/// (`selectors.md#3`). Building from pairs with a repeated key keeps the
/// last value, as collecting into a map does.
///
/// ```
/// use std::collections::BTreeMap;
/// use svcroute::labels::{LabelSet, Selector};
///
/// let pod = BTreeMap::from([
///     ("app".to_string(), "web".to_string()),
///     ("tier".to_string(), "front".to_string()),
/// ]);
/// let labels = LabelSet::from(&pod);
/// let services: Vec<Selector> = ["app=web", "app=db", "tier in (front,back),!canary"]
///     .iter()
///     .map(|s| s.parse())
///     .collect::<Result<_, _>>()?;
/// let picked: Vec<bool> = services.iter().map(|s| s.matches(&labels)).collect();
/// assert_eq!(picked, [true, false, true]);
/// # Ok::<(), svcroute::labels::ParseError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSet {
    /// Each entry's key then value, back to back, in entry order.
    text: String,
    /// Sorted by key (byte order), keys unique.
    entries: Vec<Entry>,
    /// `entries[i].word`, side by side, for the branch-free count.
    words: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Entry {
    /// [`key_word`] of the key.
    word: u64,
    /// The key is `text[key..value]`, the value `text[value..end]`.
    key: usize,
    value: usize,
    end: usize,
    /// [`short_form`] of the value (zeros past 16 bytes), so that most
    /// requirements test the value without reading it.
    value_form: Form,
}

/// Up to this many labels, a key's place is found by counting (no
/// branches to mispredict); beyond, by binary search.
const COUNT_MAX: usize = 32;

impl LabelSet {
    /// The empty label set.
    ///
    /// ```
    /// use svcroute::labels::{LabelSet, Selector};
    /// let none = LabelSet::new();
    /// assert!(none.is_empty());
    /// assert!(Selector::parse("!app")?.matches(&none));
    /// # Ok::<(), svcroute::labels::ParseError>(())
    /// ```
    pub fn new() -> LabelSet {
        LabelSet::default()
    }

    /// Builds from pairs in any order; for a repeated key the last value
    /// wins.
    fn build<K: AsRef<str>, V: AsRef<str>>(mut pairs: Vec<(K, V)>) -> LabelSet {
        fn key<K: AsRef<str>, V>(p: &(K, V)) -> &[u8] {
            p.0.as_ref().as_bytes()
        }
        if !pairs.is_sorted_by(|a, b| key(a) <= key(b)) {
            // Stable: of equal keys, the last given stays last.
            crate::order::sort_by(&mut pairs, |a, b| key(a).cmp(key(b)));
        }
        let size = pairs
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len())
            .sum();
        let mut text = String::with_capacity(size);
        let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
        for (i, (k, v)) in pairs.iter().enumerate() {
            let (k, v) = (k.as_ref(), v.as_ref());
            if <[(K, V)]>::get(&pairs, i + 1).is_some_and(|next| next.0.as_ref() == k) {
                continue; // a later pair has the same key
            }
            let start = text.len();
            text.push_str(k);
            text.push_str(v);
            entries.push(Entry {
                word: key_word(k),
                key: start,
                value: start + k.len(),
                end: text.len(),
                value_form: short_form(v.as_bytes()).unwrap_or_default(),
            });
        }
        let words = entries.iter().map(|e| e.word).collect();
        LabelSet {
            text,
            entries,
            words,
        }
    }

    /// How many labels.
    ///
    /// ```
    /// use svcroute::labels::LabelSet;
    /// let labels: LabelSet = [("a", "1"), ("b", "2"), ("a", "3")].into_iter().collect();
    /// assert_eq!(labels.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No labels at all?
    ///
    /// ```
    /// assert!(svcroute::labels::LabelSet::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of label `key` (`Some("")` for an empty value), or `None`.
    ///
    /// ```
    /// use svcroute::labels::LabelSet;
    /// let labels: LabelSet = [("a", "1"), ("a", "3"), ("e", "")].into_iter().collect();
    /// assert_eq!(labels.get("a"), Some("3")); // the last pair wins
    /// assert_eq!(labels.get("e"), Some(""));
    /// assert_eq!(labels.get("z"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        let word = key_word(key);
        let i = self
            .entries
            .binary_search_by(|e| self.compare(e, word, key.len(), || key.as_bytes()))
            .ok()?;
        self.entries.get(i).map(|e| self.value_of(e))
    }

    /// The labels as `(key, value)` pairs, sorted by key.
    ///
    /// ```
    /// use svcroute::labels::LabelSet;
    /// let labels: LabelSet = [("b", "2"), ("a", "1")].into_iter().collect();
    /// assert_eq!(labels.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (self.key_of(e), self.value_of(e)))
    }

    fn key_of(&self, e: &Entry) -> &str {
        self.text.get(e.key..e.value).unwrap_or_default()
    }

    fn value_of(&self, e: &Entry) -> &str {
        self.text.get(e.value..e.end).unwrap_or_default()
    }

    /// Orders entry `e`'s key against a key of `len` bytes (whose
    /// [`key_word`] is `word`, and whose bytes `key` gives) as `str` does,
    /// reading bytes only when the first 8 are equal and a key is longer.
    #[inline(always)]
    fn compare<'k>(
        &self,
        e: &Entry,
        word: u64,
        len: usize,
        key: impl FnOnce() -> &'k [u8],
    ) -> Ordering {
        match e.word.cmp(&word) {
            Ordering::Equal => {
                let mine = e.value - e.key;
                if mine <= 8 && len <= 8 {
                    // All bytes of the shorter agree with the longer, whose
                    // remaining bytes are zeros: the shorter sorts first.
                    mine.cmp(&len)
                } else {
                    let mine = self.text.as_bytes().get(e.key..e.value);
                    mine.unwrap_or_default().cmp(key())
                }
            }
            order => order,
        }
    }
}

impl Labels for LabelSet {
    fn get(&self, key: &str) -> Option<&str> {
        LabelSet::get(self, key)
    }

    /// For each requirement, the place of its key among the entries is the
    /// number of entries whose first 8 bytes sort lower: counted without
    /// branches in a pod-sized set, found by binary search in a large one.
    /// Only entries with the same first 8 bytes are then compared further.
    /// A key not found is absent (`selectors.md#3`).
    fn scan(&self, scan: &Scan<'_>) -> Option<bool> {
        let (words, entries) = (self.words.as_slice(), self.entries.as_slice());
        // The requirements come sorted by key, in the order of the entries,
        // so one cursor walks forward over the entries for all of them (a
        // merge): each entry's word is passed over at most once.
        let mut i = 0;
        for r in scan.requirements() {
            let (word, len) = (r.key_word(), r.key_len());
            let rest = words.get(i..).unwrap_or_default();
            i += if rest.len() <= COUNT_MAX {
                rest.iter().take_while(|&&w| w < word).count()
            } else {
                rest.partition_point(|&w| w < word)
            };
            let mut found = None;
            while let Some(&w) = words.get(i)
                && w == word
                && let Some(e) = entries.get(i)
            {
                match self.compare(e, word, len, || r.key_bytes()) {
                    Ordering::Less => i += 1,
                    Ordering::Equal => {
                        found = Some(e);
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
            let holds = match found {
                None => r.holds_absent(),
                Some(e) => r.holds_present(e.end - e.value, || e.value_form, || self.value_of(e)),
            };
            if !holds {
                return Some(false);
            }
        }
        Some(true)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for LabelSet {
    /// Collects pairs in any order; for a repeated key the last value wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> LabelSet {
        LabelSet::build(pairs.into_iter().collect())
    }
}

impl<K: Borrow<str> + Ord, V: AsRef<str>> From<&BTreeMap<K, V>> for LabelSet {
    /// The labels of a map (already sorted, so no sort is needed).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use svcroute::labels::LabelSet;
    /// let map = BTreeMap::from([("app".to_string(), "web".to_string())]);
    /// assert_eq!(LabelSet::from(&map).get("app"), Some("web"));
    /// ```
    fn from(map: &BTreeMap<K, V>) -> LabelSet {
        LabelSet::build(map.iter().map(|(k, v)| (k.borrow(), v.as_ref())).collect())
    }
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Selector;

    #[test]
    fn keys_sharing_their_first_eight_bytes() {
        let labels: LabelSet = [
            ("app.kubernetes.io/name", "web"),
            ("app.kubernetes.io/component", "fe"),
            ("app.kube", "short"),
            ("app.kub", "shorter"),
            ("app.kube\0", "nul"),
            ("", "empty key"),
        ]
        .into_iter()
        .collect();
        for (k, v) in labels.iter() {
            assert_eq!(labels.get(k), Some(v), "{k:?}");
        }
        assert_eq!(labels.get("app.kubernetes.io/nam"), None);
        assert_eq!(labels.get("app.ku"), None);
        assert_eq!(labels.get("app.kube\0\0"), None);
        let keys: Vec<&str> = labels.iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn walk_past_many_labels() {
        // More than COUNT_MAX labels: keys are found by binary search.
        let labels: LabelSet = (0..100)
            .map(|i| (format!("k{i:03}"), format!("v{i}")))
            .collect();
        let s: Selector = "k000=v0,k050 in (v50),k051!=v51,!k0505,k099,k100!=x"
            .parse()
            .unwrap();
        assert!(!s.matches(&labels)); // k051 == v51
        let s: Selector = "k000=v0,k050 in (v50),k051!=v5,!k0505,k099,k100!=x"
            .parse()
            .unwrap();
        assert!(s.matches(&labels));
        assert!(!Selector::parse("k100").unwrap().matches(&labels));
    }
}
