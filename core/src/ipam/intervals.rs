//! A sparse set of integers stored as disjoint, non-adjacent inclusive runs.
//!
//! Every allocator in this module records what is taken in one of these: a
//! `/64` service range or a pre-allocated `"a-b"` span costs one map entry,
//! not a bitmap of the whole range. Lookups and "first free at or after `x`"
//! are `O(log runs)`.

use std::collections::BTreeMap;

/// A set of `u128` values kept as maximal runs `start ..= end`.
///
/// Invariant: runs are disjoint and never touch (`end + 1 < next.start`), so
/// the value right after a run is always free.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IntervalSet {
    runs: BTreeMap<u128, u128>,
    len: u128,
}

impl IntervalSet {
    /// An empty set.
    pub(crate) fn new() -> IntervalSet {
        IntervalSet::default()
    }

    /// How many values the set holds (saturating at `u128::MAX`).
    pub(crate) fn len(&self) -> u128 {
        self.len
    }

    /// The run that contains `x`, if any.
    fn run_containing(&self, x: u128) -> Option<(u128, u128)> {
        let (&start, &end) = self.runs.range(..=x).next_back()?;
        (end >= x).then_some((start, end))
    }

    /// Whether `x` is in the set.
    pub(crate) fn contains(&self, x: u128) -> bool {
        self.run_containing(x).is_some()
    }

    /// Adds `x`; `false` if it was already there. No allocation beyond
    /// the map's own (the hot path of every allocator).
    pub(crate) fn insert(&mut self, x: u128) -> bool {
        let left = self.runs.range(..=x).next_back().map(|(&s, &e)| (s, e));
        if let Some((_, e)) = left
            && e >= x
        {
            return false;
        }
        let joins_left = left.filter(|&(_, e)| x.checked_sub(1) == Some(e));
        let right = x
            .checked_add(1)
            .and_then(|n| self.runs.get(&n).map(|&e| (n, e)));
        match (joins_left, right) {
            (Some((s, _)), Some((rs, re))) => {
                self.runs.remove(&rs);
                self.runs.insert(s, re);
            }
            (Some((s, _)), None) => {
                self.runs.insert(s, x);
            }
            (None, Some((rs, re))) => {
                self.runs.remove(&rs);
                self.runs.insert(x, re);
            }
            (None, None) => {
                self.runs.insert(x, x);
            }
        }
        self.len = self.len.saturating_add(1);
        true
    }

    /// Adds every value of `lo ..= hi` and returns how many were new.
    /// Nothing happens when `lo > hi`.
    pub(crate) fn insert_range(&mut self, lo: u128, hi: u128) -> u128 {
        if lo > hi {
            return 0;
        }
        let mut new_start = lo;
        let mut new_end = hi;
        // Runs that overlap or touch `lo ..= hi` are absorbed.
        let reach_lo = lo.saturating_sub(1);
        let reach_hi = hi.saturating_add(1);
        let mut absorbed: Vec<(u128, u128)> = Vec::new();
        if let Some((&s, &e)) = self.runs.range(..reach_lo).next_back()
            && e >= reach_lo
        {
            absorbed.push((s, e));
        }
        for (&s, &e) in self.runs.range(reach_lo..=reach_hi) {
            absorbed.push((s, e));
        }
        let mut already = 0u128;
        for &(s, e) in &absorbed {
            self.runs.remove(&s);
            // Count the overlap of [s, e] with [lo, hi].
            let os = s.max(lo);
            let oe = e.min(hi);
            if os <= oe {
                already = already.saturating_add(span(os, oe));
            }
            new_start = new_start.min(s);
            new_end = new_end.max(e);
        }
        self.runs.insert(new_start, new_end);
        let added = span(lo, hi).saturating_sub(already);
        self.len = self.len.saturating_add(added);
        added
    }

    /// Removes `x`; `false` if it was not there.
    pub(crate) fn remove(&mut self, x: u128) -> bool {
        let Some((s, e)) = self.run_containing(x) else {
            return false;
        };
        if s == x {
            self.runs.remove(&s);
        } else {
            self.runs.insert(s, x - 1);
        }
        if e > x {
            self.runs.insert(x + 1, e);
        }
        self.len = self.len.saturating_sub(1);
        true
    }

    /// Removes every value of `lo ..= hi` and returns how many were present.
    pub(crate) fn remove_range(&mut self, lo: u128, hi: u128) -> u128 {
        if lo > hi {
            return 0;
        }
        let mut hit: Vec<(u128, u128)> = Vec::new();
        if let Some((&s, &e)) = self.runs.range(..lo).next_back()
            && e >= lo
        {
            hit.push((s, e));
        }
        for (&s, &e) in self.runs.range(lo..=hi) {
            hit.push((s, e));
        }
        let mut removed = 0u128;
        for (s, e) in hit {
            self.runs.remove(&s);
            let os = s.max(lo);
            let oe = e.min(hi);
            removed = removed.saturating_add(span(os, oe));
            if s < lo {
                self.runs.insert(s, lo - 1);
            }
            if e > hi {
                self.runs.insert(hi + 1, e);
            }
        }
        self.len = self.len.saturating_sub(removed);
        removed
    }

    /// The smallest value `>= x` and `<= hi` that is *not* in the set.
    pub(crate) fn first_free_in(&self, x: u128, hi: u128) -> Option<u128> {
        if x > hi {
            return None;
        }
        match self.run_containing(x) {
            None => Some(x),
            Some((_, end)) => {
                // Runs never touch, so end + 1 is free (if it exists).
                let next = end.checked_add(1)?;
                (next <= hi).then_some(next)
            }
        }
    }

    /// How many members lie in `lo ..= hi`.
    pub(crate) fn count_in(&self, lo: u128, hi: u128) -> u128 {
        if lo > hi {
            return 0;
        }
        let mut total = 0u128;
        if let Some((_, &e)) = self.runs.range(..lo).next_back()
            && e >= lo
        {
            total = total.saturating_add(span(lo, e.min(hi)));
        }
        for (&s, &e) in self.runs.range(lo..=hi) {
            total = total.saturating_add(span(s, e.min(hi)));
        }
        total
    }

    /// Every member, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        self.runs.iter().flat_map(|(&s, &e)| RunIter {
            next: Some(s),
            end: e,
        })
    }

    /// The runs, ascending, as `(start, end)` inclusive pairs.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> impl Iterator<Item = (u128, u128)> + '_ {
        self.runs.iter().map(|(&s, &e)| (s, e))
    }
}

/// Number of values in `lo ..= hi` (`lo <= hi`), saturating.
fn span(lo: u128, hi: u128) -> u128 {
    (hi - lo).saturating_add(1)
}

struct RunIter {
    next: Option<u128>,
    end: u128,
}

impl Iterator for RunIter {
    type Item = u128;
    fn next(&mut self) -> Option<u128> {
        let cur = self.next?;
        self.next = if cur < self.end { Some(cur + 1) } else { None };
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_merges_neighbours() {
        let mut s = IntervalSet::new();
        assert!(s.insert(5));
        assert!(s.insert(7));
        assert!(!s.insert(5));
        assert_eq!(s.runs().collect::<Vec<_>>(), vec![(5, 5), (7, 7)]);
        assert!(s.insert(6));
        assert_eq!(s.runs().collect::<Vec<_>>(), vec![(5, 7)]);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn ranges_count_only_new_members() {
        let mut s = IntervalSet::new();
        assert_eq!(s.insert_range(10, 20), 11);
        assert_eq!(s.insert_range(15, 25), 5);
        assert_eq!(s.insert_range(0, 30), 15);
        assert_eq!(s.len(), 31);
        assert_eq!(s.runs().collect::<Vec<_>>(), vec![(0, 30)]);
        assert_eq!(s.remove_range(5, 9), 5);
        assert_eq!(s.runs().collect::<Vec<_>>(), vec![(0, 4), (10, 30)]);
        assert_eq!(s.len(), 26);
        assert!(s.remove(30));
        assert!(!s.remove(30));
        assert_eq!(s.count_in(3, 12), 5);
    }

    #[test]
    fn first_free_skips_runs() {
        let mut s = IntervalSet::new();
        s.insert_range(0, 9);
        s.insert_range(11, 19);
        assert_eq!(s.first_free_in(0, 100), Some(10));
        assert_eq!(s.first_free_in(11, 100), Some(20));
        assert_eq!(s.first_free_in(11, 19), None);
        assert_eq!(s.first_free_in(25, 30), Some(25));
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut s = IntervalSet::new();
        assert_eq!(s.insert_range(u128::MAX - 1, u128::MAX), 2);
        assert_eq!(s.first_free_in(u128::MAX - 1, u128::MAX), None);
        s.insert_range(0, u128::MAX);
        assert_eq!(s.len(), u128::MAX);
        assert_eq!(s.remove_range(0, 0), 1);
    }

    #[test]
    fn single_ops_match_a_model() {
        let mut s = IntervalSet::new();
        let mut model = std::collections::BTreeSet::new();
        let mut x: u64 = 12345;
        for _ in 0..4000 {
            // A small LCG: values 0..64 so runs merge and split often.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = u128::from((x >> 33) % 64);
            if (x >> 20) & 1 == 0 {
                assert_eq!(s.insert(v), model.insert(v));
            } else {
                assert_eq!(s.remove(v), model.remove(&v));
            }
            assert_eq!(s.len(), model.len() as u128);
            let runs: Vec<(u128, u128)> = s.runs().collect();
            assert!(runs.windows(2).all(|w| w[0].1 + 1 < w[1].0), "{runs:?}");
        }
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            model.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn iter_lists_members() {
        let mut s = IntervalSet::new();
        s.insert_range(3, 6);
        s.insert(9);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 4, 5, 6, 9]);
    }
}
