//! KP-16 with one random draw per pick.
//!
//! kube-proxy's iptables chain for `n` endpoints has `n - 1` conditional
//! rules: rule `k` fires when a fresh 31-bit random number is below its
//! threshold `t_k` (the printed probability `1/(n-k)`, rounded as the kernel
//! rounds it); the last rule takes the rest. Walking it costs one draw per
//! rule tried. The chain's outcome has the distribution
//! `P(k) = t_k/2^31 · Π_{j<k} (1 - t_j/2^31)`, so one 64-bit draw `r`
//! mapped through the cumulative bounds `B_k = ⌊2^64 · Σ_{j≤k} P(j)⌋`
//! (the smallest `k` with `r < B_k`, else the last rule) picks with that
//! same distribution, within `2^-64` per endpoint, including the tiny
//! non-uniformity the printed probabilities carry.
//!
//! Determinism is kept: a [`RouteState`](super::RouteState) made from a
//! seed gives the same picks every run. The sequence differs from walking
//! the chain with the same seed (one draw per pick instead of one per rule
//! tried); the rendering ([`render`](super::render)) still prints the chain.

use crate::balance::kube::ChainTable;

/// The cumulative bounds of the chain of every set size in use (sparse: a
/// size no set has holds nothing, so memory follows the sets compiled).
#[derive(Debug, Clone, Default)]
pub(super) struct ChainBounds {
    /// `by_len[n]`: the `n - 1` bounds of the chain of `n` endpoints.
    by_len: Vec<Box<[u64]>>,
}

impl ChainBounds {
    /// Makes the bounds of the chain of `n` endpoints available (`chains`
    /// must hold chains of `n`).
    pub(super) fn ensure(&mut self, chains: &ChainTable, n: usize) {
        if n < 2 {
            return;
        }
        if self.by_len.len() <= n {
            self.by_len.resize_with(n + 1, Default::default);
        }
        if self.by_len[n].is_empty() {
            self.by_len[n] = bounds_of(chains.chain(n));
        }
    }

    /// The chain position a draw `r` lands on for a set of `n` endpoints.
    /// Sizes never [`ensure`](Self::ensure)d (not reached: every compiled set
    /// is) fall back to the uniform `⌊r·n/2^64⌋`.
    #[inline]
    pub(super) fn pick(&self, n: usize, r: u64) -> usize {
        // The bounds are within a hair of k/n: start there, step at most
        // once or twice.
        let mut k = ((u128::from(r) * n as u128) >> 64) as usize;
        let Some(b) = self.by_len.get(n).filter(|b| b.len() + 1 == n) else {
            return k;
        };
        while k > 0 && r < b[k - 1] {
            k -= 1;
        }
        while k < b.len() && r >= b[k] {
            k += 1;
        }
        k
    }
}

/// `B_k` for a chain with `thresholds` (see the module documentation),
/// computed in 96-bit fixed point.
fn bounds_of(thresholds: &[u32]) -> Box<[u64]> {
    let mut rest: u128 = 1 << 96;
    let mut cum: u128 = 0;
    thresholds
        .iter()
        .map(|&t| {
            let p = (rest * u128::from(t)) >> 31;
            rest -= p.min(rest);
            cum += p;
            u64::try_from(cum >> 32).unwrap_or(u64::MAX)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_chain_distribution() {
        // KP-16: exact chain probabilities in f64, against the bounds.
        let mut chains = ChainTable::default();
        chains.ensure(40);
        for n in 2..=40usize {
            let t = chains.chain(n);
            let b = bounds_of(t);
            assert_eq!(b.len(), n - 1);
            let mut rest = 1.0f64;
            let mut cum = 0.0f64;
            for (k, &tk) in t.iter().enumerate() {
                let p = rest * f64::from(tk) / f64::from(1u32 << 31);
                rest -= p;
                cum += p;
                let got = b[k] as f64 / 2f64.powi(64);
                assert!((got - cum).abs() < 1e-12, "n={n} k={k} {got} {cum}");
                assert!((p - 1.0 / n as f64).abs() < 1e-9, "near uniform");
            }
        }
    }

    #[test]
    fn a_draw_lands_on_the_smallest_bound_above_it() {
        let mut chains = ChainTable::default();
        chains.ensure(7);
        let mut cb = ChainBounds::default();
        cb.ensure(&chains, 7);
        let b = bounds_of(chains.chain(7));
        let probe = |r: u64| b.iter().position(|&x| r < x).unwrap_or(6);
        for r in [0, 1, u64::MAX, b[0] - 1, b[0], b[3], b[5] - 1, b[5]] {
            assert_eq!(cb.pick(7, r), probe(r), "r={r}");
        }
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            assert_eq!(cb.pick(7, x), probe(x));
        }
        assert_eq!(cb.pick(1, 12345), 0);
    }
}
