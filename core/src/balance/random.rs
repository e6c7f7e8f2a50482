//! Uniform and weighted random choice from a seeded [`Rng`].

use super::{Backend, BalanceError, Balancer, Request, Rng};

/// Uniformly random among the eligible (weight > 0) backends, drawn with
/// Lemire's unbiased reduction from the owned [`Rng`].
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Random, Request};
/// let mut a = Random::new(&Backend::list(["a", "b", "c"]), 7);
/// let mut b = Random::new(&Backend::list(["a", "b", "c"]), 7);
/// for _ in 0..10 {
///     assert_eq!(a.pick(&Request::none()), b.pick(&Request::none()));
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Random {
    eligible: Vec<u32>,
    len: usize,
    rng: Rng,
}

impl Random {
    /// A uniform picker seeded with `seed`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Random};
    /// let mut r = Random::new(&Backend::list(["only"]), 1);
    /// assert_eq!(r.next(), Some(0));
    /// ```
    pub fn new(backends: &[Backend], seed: u64) -> Random {
        let mut r = Random {
            eligible: Vec::new(),
            len: 0,
            rng: Rng::new(seed),
        };
        r.rebuild(backends);
        r
    }

    fn rebuild(&mut self, backends: &[Backend]) {
        self.eligible = backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weight > 0)
            .map(|(i, _)| i as u32)
            .collect();
        self.len = backends.len();
    }

    /// The next random backend index.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Random};
    /// let mut r = Random::new(&Backend::list(["a", "b"]), 3);
    /// assert!(r.next().unwrap() < 2);
    /// ```
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<usize> {
        if self.eligible.is_empty() {
            return None;
        }
        let k = self.rng.below(self.eligible.len() as u64) as usize;
        Some(self.eligible[k] as usize)
    }
}

impl Balancer for Random {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        self.next()
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.rebuild(backends);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Weighted random choice with exact probabilities `w_i / W`, O(1) per pick
/// (Walker/Vose alias table in integer arithmetic: no floating point, so the
/// same seed gives the same picks on every target).
///
/// ```
/// use svcroute::balance::{Backend, WeightedRandom};
/// let mut r = WeightedRandom::new(&[Backend::new("a", 0), Backend::new("b", 5)], 9);
/// assert_eq!(r.next(), Some(1));
/// ```
#[derive(Debug, Clone)]
pub struct WeightedRandom {
    /// Column k keeps its own backend when the draw is below `keep[k]`
    /// (out of `total`), else goes to `alias[k]`.
    own: Vec<u32>,
    keep: Vec<u64>,
    alias: Vec<u32>,
    total: u64,
    len: usize,
    rng: Rng,
}

impl WeightedRandom {
    /// A weighted picker seeded with `seed`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, WeightedRandom};
    /// let r = WeightedRandom::new(&Backend::list(["a", "b"]), 1);
    /// assert_eq!(r.total_weight(), 2);
    /// ```
    pub fn new(backends: &[Backend], seed: u64) -> WeightedRandom {
        let mut r = WeightedRandom {
            own: Vec::new(),
            keep: Vec::new(),
            alias: Vec::new(),
            total: 0,
            len: 0,
            rng: Rng::new(seed),
        };
        r.rebuild(backends);
        r
    }

    /// The sum of weights.
    ///
    /// ```
    /// use svcroute::balance::{Backend, WeightedRandom};
    /// let r = WeightedRandom::new(&[Backend::new("a", 2), Backend::new("b", 3)], 1);
    /// assert_eq!(r.total_weight(), 5);
    /// ```
    pub fn total_weight(&self) -> u64 {
        self.total
    }

    fn rebuild(&mut self, backends: &[Backend]) {
        self.len = backends.len();
        let items: Vec<(u32, u64)> = backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weight > 0)
            .map(|(i, b)| (i as u32, u64::from(b.weight)))
            .collect();
        let n = items.len() as u64;
        let total: u64 = items.iter().map(|x| x.1).sum();
        self.total = total;
        self.own = items.iter().map(|x| x.0).collect();
        self.alias = self.own.clone();
        // Scaled weights: column mass w_i * n against a column height of W.
        let mut mass: Vec<u64> = items.iter().map(|x| x.1 * n).collect();
        self.keep = vec![total; items.len()];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..items.len()).partition(|&k| mass[k] < total);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            self.keep[s] = mass[s];
            self.alias[s] = self.own[l];
            mass[l] -= total - mass[s];
            if mass[l] < total {
                large.pop();
                small.push(l);
            }
        }
        for k in large.into_iter().chain(small) {
            self.keep[k] = total;
        }
    }

    /// The next weighted-random backend index.
    ///
    /// ```
    /// use svcroute::balance::{Backend, WeightedRandom};
    /// let mut r = WeightedRandom::new(&[Backend::new("a", 1), Backend::new("b", 3)], 5);
    /// assert!(r.next().unwrap() < 2);
    /// ```
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<usize> {
        if self.own.is_empty() {
            return None;
        }
        let k = self.rng.below(self.own.len() as u64) as usize;
        let r = self.rng.below(self.total);
        Some(if r < self.keep[k] {
            self.own[k]
        } else {
            self.alias[k]
        } as usize)
    }

    /// The exact probability mass of backend `i`, out of
    /// `n_eligible * total_weight`, as stored in the alias table (used by
    /// tests to prove exactness).
    ///
    /// ```
    /// use svcroute::balance::{Backend, WeightedRandom};
    /// let r = WeightedRandom::new(&[Backend::new("a", 1), Backend::new("b", 3)], 5);
    /// assert_eq!(r.mass(0) * 3, r.mass(1));
    /// ```
    pub fn mass(&self, i: usize) -> u64 {
        let mut m = 0;
        for k in 0..self.own.len() {
            if self.own[k] as usize == i {
                m += self.keep[k];
            }
            if self.alias[k] as usize == i {
                m += self.total - self.keep[k];
            }
        }
        m
    }
}

impl Balancer for WeightedRandom {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        self.next()
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.rebuild(backends);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_masses_are_exact() {
        let mut r = Rng::new(11);
        for _ in 0..200 {
            let n = 1 + r.below(30) as usize;
            let backends: Vec<Backend> = (0..n)
                .map(|i| Backend::new(format!("{i}"), r.below(50) as u32))
                .collect();
            let wr = WeightedRandom::new(&backends, 0);
            let ne = backends.iter().filter(|b| b.weight > 0).count() as u64;
            for (i, b) in backends.iter().enumerate() {
                assert_eq!(wr.mass(i), u64::from(b.weight) * ne, "{backends:?}");
            }
        }
    }
}
