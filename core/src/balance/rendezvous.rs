//! Rendezvous (highest random weight) hashing, Thaler & Ravishankar 1998.

use super::hash::{mix64, xxhash64};
use super::{Backend, BalanceError, Balancer, FlowHash, Request, Rng, key_hash};

/// `ln(u)` for `u` in (0, 1] from IEEE basic operations only (target
/// independent): `u = m * 2^e` with `m` in [sqrt(1/2), sqrt(2)), then
/// `ln m = 2 atanh((m-1)/(m+1))` by its series.
pub(crate) fn ln_unit(u: f64) -> f64 {
    let bits = u.to_bits();
    let mut e = ((bits >> 52) & 0x7FF) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..24 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * std::f64::consts::LN_2
}

/// Rendezvous hashing: for a key hash `h`, every eligible backend scores
/// `-w / ln(u)` with `u = mix(h, id)` mapped into (0, 1), and the highest
/// score wins (ties: the smaller key). Removing a backend moves only the
/// keys it won; an added backend takes only keys it now wins; backend `i`
/// wins a share `w_i / W`. O(n) per pick.
///
/// Each backend's id is xxHash64 of its key, so placement does not depend on
/// list order.
///
/// ```
/// use svcroute::balance::{Backend, Balancer, FlowHash, Rendezvous, Request};
/// let mut lb = Rendezvous::new(&Backend::list(["a", "b", "c"]), FlowHash::Fast, 0)?;
/// let i = lb.pick(&Request::hash(7)).unwrap();
/// assert_eq!(lb.lookup(7), Some(i));
/// # Ok::<(), svcroute::balance::BalanceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rendezvous {
    /// (id, weight, backend index, key rank) of eligible backends.
    nodes: Vec<(u64, f64, u32)>,
    len: usize,
    flow_hash: FlowHash,
    weighted: bool,
    rng: Rng,
}

impl Rendezvous {
    /// Build over `backends` (weight 0 = never chosen).
    ///
    /// ```
    /// use svcroute::balance::{Backend, FlowHash, Rendezvous};
    /// assert!(Rendezvous::new(&Backend::list(["a", "a"]), FlowHash::Fast, 0).is_err());
    /// ```
    pub fn new(
        backends: &[Backend],
        flow_hash: FlowHash,
        seed: u64,
    ) -> Result<Rendezvous, BalanceError> {
        let mut r = Rendezvous {
            nodes: Vec::new(),
            len: 0,
            flow_hash,
            weighted: false,
            rng: Rng::new(seed),
        };
        r.rebuild(backends)?;
        Ok(r)
    }

    fn rebuild(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        super::check_unique(backends)?;
        let mut order: Vec<u32> = (0..backends.len() as u32)
            .filter(|&i| backends[i as usize].weight > 0)
            .collect();
        // Sorted by key so that the first maximum is the smallest key.
        crate::order::sort_by(&mut order, |&a, &b| {
            backends[a as usize].key.cmp(&backends[b as usize].key)
        });
        self.nodes = order
            .iter()
            .map(|&i| {
                let b = &backends[i as usize];
                (xxhash64(b.key.as_bytes(), 0), f64::from(b.weight), i)
            })
            .collect();
        let first = self.nodes.first().map(|n| n.1);
        self.weighted = self.nodes.iter().any(|n| Some(n.1) != first);
        self.len = backends.len();
        Ok(())
    }

    /// The backend for a 64-bit key hash.
    ///
    /// ```
    /// use svcroute::balance::{Backend, FlowHash, Rendezvous};
    /// let lb = Rendezvous::new(&Backend::list(["a"]), FlowHash::Fast, 0)?;
    /// assert_eq!(lb.lookup(1), Some(0));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn lookup(&self, h: u64) -> Option<usize> {
        if !self.weighted {
            // Equal weights: the largest raw hash wins (same order as the
            // score, no logarithm needed).
            let mut best: Option<(u64, u32)> = None;
            for &(id, _, i) in &self.nodes {
                let s = mix64(h, id, 0);
                if best.is_none_or(|(bs, _)| s > bs) {
                    best = Some((s, i));
                }
            }
            return best.map(|b| b.1 as usize);
        }
        let mut best: Option<(f64, u32)> = None;
        for &(id, w, i) in &self.nodes {
            let s = mix64(h, id, 0);
            // u in (0, 1]: 53 high bits, never 0.
            let u = ((s >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let score = -w / ln_unit(u);
            if best.is_none_or(|(bs, _)| score > bs) {
                best = Some((score, i));
            }
        }
        best.map(|b| b.1 as usize)
    }
}

impl Balancer for Rendezvous {
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let h = key_hash(&req.key, &self.flow_hash, &mut self.rng);
        self.lookup(h)
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.rebuild(backends)
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_is_accurate() {
        let mut r = Rng::new(2);
        for _ in 0..10_000 {
            let u = ((r.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
            let ours = ln_unit(u);
            assert!(
                (ours - u.ln()).abs() <= 1e-14 * u.ln().abs().max(1e-300) + 1e-16,
                "{u}"
            );
        }
        assert_eq!(ln_unit(1.0), 0.0);
    }
}
