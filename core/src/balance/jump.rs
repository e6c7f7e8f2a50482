//! Jump consistent hash (Lamping & Veach, 2014).

use super::{Backend, BalanceError, Balancer, FlowHash, Request, Rng, key_hash};

/// The bucket in `0..buckets` for `key` (the paper's function, bit exact).
/// Growing `buckets` by one moves a key only into the new bucket.
/// Returns 0 when `buckets` is 0.
///
/// Up to 65,536 buckets the loop runs in fixed point: each step multiplies
/// the integer `b + 1` by the paper's double `2^31 / ((key >> 33) + 1)`
/// scaled by 2^31 (one integer multiply on the dependency chain instead of
/// two int/float conversions), and the first step is an exact integer
/// division. The fixed-point product is within 2^-16 of the paper's, so
/// whenever its fraction is at least 2^-14 away from an integer both
/// truncate to the same bucket; a step closer than that (about one pick in
/// 800) reruns the paper's double loop. Larger bucket counts always use it.
///
/// ```
/// use svcroute::balance::jump_consistent_hash;
/// let b = jump_consistent_hash(123_456_789, 10);
/// assert!(b < 10);
/// let c = jump_consistent_hash(123_456_789, 11);
/// assert!(c == b || c == 10);
/// ```
#[inline]
pub fn jump_consistent_hash(key: u64, buckets: u32) -> u32 {
    if buckets == 0 || buckets > FIXED_POINT_LIMIT {
        return jump_reference(key, buckets);
    }
    let n = u64::from(buckets);
    let mut k = lcg(key);
    // Step 1 (b = 0): trunc((double)2^31 / d) equals the integer quotient,
    // because a non-integer 2^31 / d is at least 1/d from an integer while
    // the double's rounding error is below 2^-22 / d.
    let j = u64::from((1u32 << 31) / ((k >> 33) as u32 + 1));
    if j >= n {
        return 0;
    }
    let mut x = j + 1; // b + 1
    let mut near = false;
    loop {
        k = lcg(k);
        let p = x * scaled_step(k);
        // Fraction (low 31 bits) within 2^-14 of an integer?
        near |= (p as u32).wrapping_add(1 << 17) & 0x7FFF_FFFF < (1 << 18);
        let j = p >> 31;
        if j >= n {
            break;
        }
        x = j + 1;
    }
    if near {
        return jump_reference(key, buckets);
    }
    (x - 1) as u32
}

/// The largest bucket count of the fixed-point loop: `b + 1 <= 2^16` keeps
/// `x * R <= 2^63` and the fixed-point error `x * 2^-32 <= 2^-16`.
const FIXED_POINT_LIMIT: u32 = 1 << 16;

/// The paper's linear congruential step.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn lcg(key: u64) -> u64 {
    key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1)
}

/// `R = round(2^31 * r)` for the paper's `r = (double)2^31 / ((key >> 33) +
/// 1)`, capped at 2^47 (an `r` above 2^16 ends the walk for any `b + 1`;
/// the cap makes the product an exact integer, which counts as near and
/// falls back). Both conversions use the 2^52 bit trick (exact below 2^52)
/// instead of `cvtsi2sd`/`cvttsd2si`; `2^62 / d` is `2^31 * r` exactly.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn scaled_step(key: u64) -> u64 {
    const TWO52: f64 = 4_503_599_627_370_496.0;
    const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
    let d = f64::from_bits(TWO52_BITS | (key >> 33)) - (TWO52 - 1.0);
    let r = (4_611_686_018_427_387_904.0 / d).min(140_737_488_355_328.0);
    (r + TWO52).to_bits() - TWO52_BITS
}

/// The paper's reference loop, in its double arithmetic.
fn jump_reference(mut key: u64, buckets: u32) -> u32 {
    let n = i64::from(buckets);
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < n {
        b = j;
        key = lcg(key);
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
        let mut new_index = super::key_index::KeyIndex::of_eligible(backends);
        // Old bucket order by key; None marks a hole left by a removal.
        let mut slots: Vec<Option<u32>> = self
            .buckets
            .iter()
            .map(|&i| new_index.take(&self.keys[i as usize]))
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
        let mut fresh: Vec<u32> = new_index.remaining().collect();
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
    fn fixed_point_matches_reference() {
        // Keys from a xorshift walk, bucket counts across the fixed-point
        // range and its edge, and the cases where the walk falls back.
        let mut t = 0x9E37_79B9_7F4A_7C15u64;
        let mut fallbacks = 0;
        for i in 0..400_000u32 {
            t ^= t << 13;
            t ^= t >> 7;
            t ^= t << 17;
            let n = match i % 4 {
                0 => (t >> 58) as u32,
                1 => (t >> 40) as u32 % 1000,
                2 => (t >> 40) as u32 % (FIXED_POINT_LIMIT + 10),
                _ => FIXED_POINT_LIMIT - (i % 3),
            };
            assert_eq!(jump_consistent_hash(t, n), jump_reference(t, n), "{t} {n}");
            fallbacks += usize::from(n > FIXED_POINT_LIMIT);
        }
        assert!(fallbacks > 0);
        // Keys whose first quotient is exact (d = 1, 2^k) and huge bucket counts.
        for key in [0u64, 1, 42, u64::MAX, 0x5555_5555_5555_5555] {
            for n in [1u32, 2, 3, 1 << 15, 1 << 16, (1 << 16) + 1, u32::MAX] {
                assert_eq!(jump_consistent_hash(key, n), jump_reference(key, n));
            }
        }
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
