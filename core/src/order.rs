//! Sorting for small builds. With the `compact` feature (the WASM
//! package's), [`sort_by`] and the others sort a permutation of indices
//! with a `dyn` comparator and then move the elements, so that every call
//! site shares one compiled sort instead of instantiating the standard
//! library's (about 4 KB of WASM per element type and comparator; issue 8's
//! size budget). Without it they are the standard sorts. The results are
//! the same either way: stable sorts stay stable, and [`sort_unstable`] is
//! only used where equal elements are identical.

use std::cmp::Ordering;

/// Sorts `v` stably by `compare`: the same order as `v.sort_by(compare)`.
pub(crate) fn sort_by<T>(v: &mut [T], compare: impl FnMut(&T, &T) -> Ordering) {
    if cfg!(feature = "compact") {
        sort_by_indices(v, compare);
    } else {
        v.sort_by(compare);
    }
}

/// `sort_by` through the shared index sort.
fn sort_by_indices<T>(v: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    // Short lists (label values, ports) keep their permutation on the
    // stack, so that sorting them allocates nothing, as the standard
    // library's sort of a short slice does not.
    let mut stack = [0usize; SHORT];
    let mut heap = Vec::new();
    let order: &mut [usize] = if v.len() <= SHORT {
        &mut stack[..v.len()]
    } else {
        heap.resize(v.len(), 0);
        &mut heap
    };
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    sort_indices(order, &mut |a, b| compare(&v[a], &v[b]));
    permute(v, order);
}

/// The longest list whose permutation is kept on the stack.
const SHORT: usize = 64;

/// Sorts `v` stably by the key `key` gives: `v.sort_by_key(key)`.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably in its natural order: `v.sort()`.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// `v.sort_unstable()`, for elements where equal means identical (numbers,
/// strings, tuples of them), so that a stable sort gives the same result.
pub(crate) fn sort_unstable<T: Ord>(v: &mut [T]) {
    if cfg!(feature = "compact") {
        sort_by_indices(v, T::cmp);
    } else {
        v.sort_unstable();
    }
}

/// The one instantiated sort: indices, compared through `compare`.
#[inline(never)]
fn sort_indices(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Rearranges `v` so that `v[i]` becomes the old `v[order[i]]`, one cycle
/// of the permutation at a time (`order` is consumed).
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != at {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_order_as_the_standard_stable_sort() {
        // Pairs compared by their first element only: ties keep their order.
        let mut seed = 7u64;
        for len in [0, 1, 2, 3, 5, 17, 100, 513] {
            let input: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 59) as u8, i)
                })
                .collect();
            let mut ours = input.clone();
            let mut std = input;
            sort_by_indices(&mut ours, |a, b| a.0.cmp(&b.0));
            std.sort_by_key(|a| a.0);
            assert_eq!(ours, std, "len {len}");
        }
    }

    #[test]
    fn by_key_and_natural_order() {
        let mut words = vec!["pear", "fig", "apple", "kiwi"];
        sort_by_key(&mut words, |w| w.len());
        assert_eq!(words, ["fig", "pear", "kiwi", "apple"]);
        sort(&mut words);
        assert_eq!(words, ["apple", "fig", "kiwi", "pear"]);
        let mut numbers = vec![5, 1, 4, 1, 3];
        sort_unstable(&mut numbers);
        assert_eq!(numbers, [1, 1, 3, 4, 5]);
        sort_by_indices(&mut numbers, |a, b| b.cmp(a));
        assert_eq!(numbers, [5, 4, 3, 1, 1]);
        let mut reversed = vec![3, 1, 2];
        sort_by(&mut reversed, |a, b| b.cmp(a));
        assert_eq!(reversed, [3, 2, 1]);
    }
}
