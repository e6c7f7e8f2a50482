//! Jump consistent hash (Lamping & Veach, 2014).

use super::{Backend, BalanceError, Balancer, FlowHash, Request, Rng, key_hash};

/// The bucket in `0..buckets` for `key` (the paper's function, bit exact).
/// Growing `buckets` by one moves a key only into the new bucket.
/// Returns 0 when `buckets` is 0.
///
/// ```
/// use svcroute::balance::jump_consistent_hash;
/// let b = jump_consistent_hash(123_456_789, 10);
/// assert!(b < 10);
/// let c = jump_consistent_hash(123_456_789, 11);
/// assert!(c == b || c == 10);
/// ```
#[inline]
pub fn jump_consistent_hash(mut key: u64, buckets: u32) -> u32 {
    let n = i64::from(buckets);
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < n {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = (((b + 1) as f64) * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// Jump consistent hashing over the eligible backends. Bucket `b` is the
/// `b`-th backend in bucket order; weights other than 0 are ignored (jump
/// hash is unweighted).
///
/// Bucket order survives [`set_backends`](Balancer::set_backends): surviving
/// backends keep their buckets, new ones are appended (so an addition moves
/// keys only to the new backend), and a removed backend's bucket is taken
/// by the last one (removing the last bucket moves only its keys; removing
/// another also moves the last bucket's keys, about 2/n in total).
///
/// ```
/// use svcroute::balance::{Backend, Balancer, FlowHash, JumpHash, Request};
/// let mut lb = JumpHash::new(&Backend::list(["a", "b", "c"]), FlowHash::Fast, 0);
/// let i = lb.pick(&Request::hash(99)).unwrap();
/// assert_eq!(lb.lookup(99), Some(i));
/// ```
#[derive(Debug, Clone)]
pub struct JumpHash {
    /// Bucket -> backend index.
    buckets: Vec<u32>,
    keys: Vec<String>,
    flow_hash: FlowHash,
    rng: Rng,
}

impl JumpHash {
    /// Buckets in the order of the eligible `backends`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, FlowHash, JumpHash};
    /// let lb = JumpHash::new(&Backend::list(["a", "b"]), FlowHash::Fast, 0);
    /// assert_eq!(lb.bucket_count(), 2);
    /// ```
    pub fn new(backends: &[Backend], flow_hash: FlowHash, seed: u64) -> JumpHash {
        JumpHash {
            buckets: (0..backends.len() as u32)
                .filter(|&i| backends[i as usize].weight > 0)
                .collect(),
            keys: backends.iter().map(|b| b.key.clone()).collect(),
            flow_hash,
            rng: Rng::new(seed),
        }
    }

    /// Number of buckets (eligible backends).
    ///
    /// ```
    /// use svcroute::balance::{Backend, FlowHash, JumpHash};
    /// let lb = JumpHash::new(&[Backend::new("a", 0)], FlowHash::Fast, 0);
    /// assert_eq!(lb.bucket_count(), 0);
    /// ```
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The backend for a 64-bit key hash.
    ///
    /// ```
    /// use svcroute::balance::{Backend, FlowHash, JumpHash};
    /// let lb = JumpHash::new(&Backend::list(["a"]), FlowHash::Fast, 0);
    /// assert_eq!(lb.lookup(5), Some(0));
    /// ```
    #[inline]
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let b = jump_consistent_hash(hash, self.buckets.len() as u32);
        Some(self.buckets[b as usize] as usize)
    }
}

impl Balancer for JumpHash {
    #[inline]
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let h = key_hash(&req.key, &self.flow_hash, &mut self.rng);
        self.lookup(h)
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        super::check_unique(backends)?;
        let mut new_index: std::collections::BTreeMap<&str, u32> = backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weight > 0)
            .map(|(i, b)| (b.key.as_str(), i as u32))
            .collect();
        // Old bucket order by key; None marks a hole left by a removal.
        let mut slots: Vec<Option<u32>> = self
            .buckets
            .iter()
            .map(|&i| new_index.remove(self.keys[i as usize].as_str()))
            .collect();
        // Fill each hole with the last surviving bucket.
        let mut k = 0;
        while k < slots.len() {
            if slots[k].is_none() {
                while matches!(slots.last(), Some(None)) {
                    slots.pop();
                }
                if k < slots.len() {
                    let last = slots.pop().flatten();
                    if k < slots.len() {
                        slots[k] = last;
                    } else {
                        slots.push(last);
                    }
                }
            }
            k += 1;
        }
        // Append new backends in list order.
        let mut fresh: Vec<u32> = new_index.into_values().collect();
        crate::order::sort_unstable(&mut fresh);
        self.buckets = slots.into_iter().flatten().chain(fresh).collect();
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        Ok(())
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values() {
        // Published vectors of the reference function (go-jump's test table).
        assert_eq!(jump_consistent_hash(0, 1), 0);
        assert_eq!(jump_consistent_hash(0, 0), 0);
        assert_eq!(jump_consistent_hash(1, 1), 0);
        assert_eq!(jump_consistent_hash(0xDEAD_BEEF, 1), 0);
        assert_eq!(jump_consistent_hash(256, 1024), 520);
        assert_eq!(jump_consistent_hash(0xDEAD_10CC, 666), 361);
        assert_eq!(jump_consistent_hash(42, 57), 43);
        assert_eq!(jump_consistent_hash(0xDEAD_10CC, 1), 0);
    }

    #[test]
    fn remove_middle_fills_with_last() {
        let mut lb = JumpHash::new(&Backend::list(["a", "b", "c", "d"]), FlowHash::Fast, 0);
        lb.set_backends(&Backend::list(["a", "c", "d", "e"]))
            .unwrap();
        // "b" (bucket 1) removed: "d" takes bucket 1, then "e" appended.
        let names: Vec<&str> = lb
            .buckets
            .iter()
            .map(|&i| ["a", "c", "d", "e"][i as usize])
            .collect();
        assert_eq!(names, ["a", "d", "c", "e"]);
    }
}
