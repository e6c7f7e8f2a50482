//! Load-aware picks: least request with d random choices (Envoy) and
//! Peak-EWMA (Finagle, linkerd2-proxy through tower).

use super::{Backend, BalanceError, Balancer, Event, Request, Rng};

/// `e^x` for `x <= 0` from IEEE basic operations only, so the result is the
/// same on every target (std's `exp` defers to the platform's libm).
pub(crate) fn exp_neg(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= 0.0 {
        return 1.0;
    }
    if x < -745.0 {
        return 0.0;
    }
    let ln2_hi = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    let ln2_lo = f64::from_bits(0x3DEA_39EF_3579_3C76);
    let k = (x * std::f64::consts::LOG2_E - 0.5).trunc();
    let r = (x - k * ln2_hi) - k * ln2_lo;
    // Taylor series of e^r, |r| <= ln2/2: 16 terms reach full precision.
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for i in 1..=16 {
        term = term * r / f64::from(i);
        sum += term;
    }
    let k = k as i64;
    // Scale by 2^k in two steps to stay in the normal range.
    let half = k / 2;
    let p = |e: i64| -> f64 {
        if e < -1022 {
            0.0
        } else {
            f64::from_bits(((e + 1023) as u64) << 52)
        }
    };
    sum * p(half) * p(k - half)
}

/// Least request with `choice_count` random choices (Envoy's
/// `LEAST_REQUEST`, power of two choices by default): sample that many
/// eligible backends with replacement and take the one with the fewest
/// active requests, the earliest sample on ties. `choice_count` 1 is plain
/// random; large counts approach full least-request.
///
/// With unequal weights it is Envoy's earliest-deadline-first schedule over
/// dynamic weights `w / (active + 1)^bias` (`active_request_bias`, default
/// 1.0): the entry with the earliest deadline is picked (the earliest
/// inserted on ties) and re-inserted at `deadline + 1 / weight`, its weight
/// computed at that moment. (Envoy also makes a random number of warm-up
/// picks when it builds the schedule; this starts from a fresh schedule.)
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Event, LeastRequest, Request};
/// let mut lb = LeastRequest::new(&Backend::list(["a", "b"]), 2, 7);
/// lb.observe(Event::Opened(0));
/// lb.observe(Event::Opened(0));
/// // Over many picks "b" (idle) wins every comparison it enters.
/// let b_picks = (0..100).filter(|_| lb.pick(&Request::none()) == Some(1)).count();
/// assert!(b_picks > 60);
/// ```
#[derive(Debug, Clone)]
pub struct LeastRequest {
    weights: Vec<u32>,
    keys: Vec<String>,
    active: Vec<u32>,
    eligible: Vec<u32>,
    edf: Option<Edf>,
    bias: f64,
    choices: u32,
    rng: Rng,
}

/// An EDF entry: (deadline, insertion sequence, backend), min-first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Deadline(f64, u64, u32);

impl Eq for Deadline {}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap, the earliest deadline must win.
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

#[derive(Debug, Clone)]
struct Edf {
    heap: std::collections::BinaryHeap<Deadline>,
    seq: u64,
}

impl LeastRequest {
    /// A least-request balancer over `backends` with `choice_count` choices
    /// (at least 1), seeded with `seed`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, LeastRequest};
    /// let lb = LeastRequest::new(&Backend::list(["a"]), 2, 0);
    /// assert_eq!(lb.active(0), Some(0));
    /// ```
    pub fn new(backends: &[Backend], choice_count: u32, seed: u64) -> LeastRequest {
        let mut lb = LeastRequest {
            weights: Vec::new(),
            keys: Vec::new(),
            active: Vec::new(),
            eligible: Vec::new(),
            edf: None,
            bias: 1.0,
            choices: choice_count.max(1),
            rng: Rng::new(seed),
        };
        lb.install(backends);
        lb
    }

    fn install(&mut self, backends: &[Backend]) {
        let old = super::key_index::KeyIndex::of_keys(&self.keys);
        let active: Vec<u32> = backends
            .iter()
            .map(|b| {
                old.get(&b.key)
                    .and_then(|i| self.active.get(i as usize).copied())
                    .unwrap_or(0)
            })
            .collect();
        self.active = active;
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        self.weights = backends.iter().map(|b| b.weight).collect();
        self.eligible = (0..backends.len() as u32)
            .filter(|&i| backends[i as usize].weight > 0)
            .collect();
        let first = self.eligible.first().map(|&i| self.weights[i as usize]);
        let equal = self
            .eligible
            .iter()
            .all(|&i| Some(self.weights[i as usize]) == first);
        self.edf = None;
        if !equal {
            let mut edf = Edf {
                heap: std::collections::BinaryHeap::with_capacity(self.eligible.len()),
                seq: 0,
            };
            for k in 0..self.eligible.len() {
                let i = self.eligible[k];
                let w = self.dynamic_weight(i as usize);
                edf.heap.push(Deadline(1.0 / w, edf.seq, i));
                edf.seq += 1;
            }
            self.edf = Some(edf);
        }
    }

    /// Set Envoy's `active_request_bias` (default 1.0; 0 ignores load).
    /// Negative or non-finite values are treated as 1.0.
    ///
    /// ```
    /// use svcroute::balance::{Backend, LeastRequest};
    /// let lb = LeastRequest::new(&[Backend::new("a", 1), Backend::new("b", 3)], 2, 0)
    ///     .with_active_request_bias(0.5);
    /// # let _ = lb;
    /// ```
    pub fn with_active_request_bias(mut self, bias: f64) -> LeastRequest {
        self.bias = if bias.is_finite() && bias >= 0.0 {
            bias
        } else {
            1.0
        };
        let backends: Vec<Backend> = self
            .keys
            .iter()
            .zip(&self.weights)
            .map(|(k, &w)| Backend::new(k.clone(), w))
            .collect();
        self.install(&backends);
        self
    }

    /// `w / (active + 1)^bias`, from IEEE basic operations only.
    fn dynamic_weight(&self, i: usize) -> f64 {
        let w = f64::from(self.weights[i]);
        let a = f64::from(self.active[i]) + 1.0;
        if self.bias == 0.0 || a == 1.0 {
            w
        } else if self.bias == 1.0 {
            w / a
        } else {
            // a^-bias = e^(-bias ln a) = e^(bias ln(1/a)).
            w * exp_neg(self.bias * super::rendezvous::ln_unit(1.0 / a))
        }
    }

    /// Active requests of a backend.
    ///
    /// ```
    /// use svcroute::balance::{Backend, LeastRequest};
    /// assert_eq!(LeastRequest::new(&[], 2, 0).active(3), None);
    /// ```
    pub fn active(&self, backend: usize) -> Option<u32> {
        self.active.get(backend).copied()
    }

    /// Draw one candidate.
    #[inline]
    fn sample(&mut self) -> usize {
        let k = self.rng.below(self.eligible.len() as u64) as usize;
        self.eligible[k] as usize
    }
}

impl Balancer for LeastRequest {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        if self.eligible.is_empty() {
            return None;
        }
        if let Some(mut edf) = self.edf.take() {
            let Deadline(now, _, i) = edf.heap.pop()?;
            let w = self.dynamic_weight(i as usize);
            edf.heap.push(Deadline(now + 1.0 / w, edf.seq, i));
            edf.seq += 1;
            self.edf = Some(edf);
            return Some(i as usize);
        }
        let mut best = self.sample();
        for _ in 1..self.choices {
            let c = self.sample();
            if self.active[c] < self.active[best] {
                best = c;
            }
        }
        Some(best)
    }

    fn observe(&mut self, event: Event) {
        match event {
            Event::Opened(i) => {
                if let Some(a) = self.active.get_mut(i) {
                    *a += 1;
                }
            }
            Event::Closed(i) => {
                if let Some(a) = self.active.get_mut(i) {
                    *a = a.saturating_sub(1);
                }
            }
            Event::Latency { .. } => {}
        }
    }

    /// Active counts carry over by key.
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.install(backends);
        Ok(())
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Peak-EWMA parameters.
///
/// ```
/// let c = svcroute::balance::PeakEwmaConfig::default();
/// assert_eq!((c.default_rtt_us, c.decay_ms), (30_000, 10_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakEwmaConfig {
    /// Initial RTT estimate in microseconds (linkerd2-proxy: 30 ms).
    pub default_rtt_us: u64,
    /// Decay time constant tau in milliseconds (linkerd2-proxy: 10 s).
    pub decay_ms: u64,
    /// Seed of the sampling random source.
    pub seed: u64,
}

impl Default for PeakEwmaConfig {
    fn default() -> Self {
        PeakEwmaConfig {
            default_rtt_us: 30_000,
            decay_ms: 10_000,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Ewma {
    rtt_us: f64,
    updated_ms: u64,
    pending: u32,
}

/// Peak-EWMA with power-of-two-choices selection (tower's `PeakEwma`
/// behind `p2c::Balance`, as linkerd2-proxy uses it).
///
/// Each backend keeps an RTT estimate: a latency above the estimate
/// replaces it (the peak); otherwise the estimate moves toward the sample by
/// `1 - e^(-dt/tau)`, dt being the time since the last update. Before
/// comparing, estimates decay toward 0 the same way (tower's `decay`). The
/// cost is `estimate * (pending + 1)`; a pick samples two distinct eligible
/// backends and takes the cheaper (the first on ties).
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Event, PeakEwma, PeakEwmaConfig, Request};
/// let mut lb = PeakEwma::new(&Backend::list(["fast", "slow"]), &PeakEwmaConfig::default());
/// lb.observe(Event::Latency { backend: 1, micros: 900_000, now_ms: 0 });
/// lb.observe(Event::Latency { backend: 0, micros: 1_000, now_ms: 0 });
/// assert_eq!(lb.pick(&Request::none().at(1)), Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct PeakEwma {
    state: Vec<Ewma>,
    keys: Vec<String>,
    eligible: Vec<u32>,
    config: PeakEwmaConfig,
    rng: Rng,
}

impl PeakEwma {
    /// A Peak-EWMA balancer; every backend starts at the default RTT.
    ///
    /// ```
    /// use svcroute::balance::{Backend, PeakEwma, PeakEwmaConfig};
    /// let lb = PeakEwma::new(&Backend::list(["a"]), &PeakEwmaConfig::default());
    /// assert_eq!(lb.estimate_us(0), Some(30_000.0));
    /// ```
    pub fn new(backends: &[Backend], config: &PeakEwmaConfig) -> PeakEwma {
        let mut lb = PeakEwma {
            state: Vec::new(),
            keys: Vec::new(),
            eligible: Vec::new(),
            config: *config,
            rng: Rng::new(config.seed),
        };
        lb.install(backends);
        lb
    }

    fn install(&mut self, backends: &[Backend]) {
        let fresh = Ewma {
            rtt_us: self.config.default_rtt_us as f64,
            updated_ms: 0,
            pending: 0,
        };
        let old = super::key_index::KeyIndex::of_keys(&self.keys);
        let state: Vec<Ewma> = backends
            .iter()
            .map(|b| {
                old.get(&b.key)
                    .and_then(|i| self.state.get(i as usize).copied())
                    .unwrap_or(fresh)
            })
            .collect();
        self.state = state;
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        self.eligible = (0..backends.len() as u32)
            .filter(|&i| backends[i as usize].weight > 0)
            .collect();
    }

    /// The current RTT estimate of a backend, in microseconds.
    ///
    /// ```
    /// use svcroute::balance::{Backend, PeakEwma, PeakEwmaConfig};
    /// assert_eq!(PeakEwma::new(&[], &PeakEwmaConfig::default()).estimate_us(0), None);
    /// ```
    pub fn estimate_us(&self, backend: usize) -> Option<f64> {
        self.state.get(backend).map(|s| s.rtt_us)
    }

    /// The cost `estimate * (pending + 1)` of a backend, after decaying its
    /// estimate to `now_ms`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Balancer, Event, PeakEwma, PeakEwmaConfig};
    /// let mut lb = PeakEwma::new(&Backend::list(["a"]), &PeakEwmaConfig::default());
    /// let idle = lb.cost(0, 0).unwrap();
    /// lb.observe(Event::Opened(0));
    /// assert_eq!(lb.cost(0, 0).unwrap(), 2.0 * idle);
    /// ```
    pub fn cost(&mut self, backend: usize, now_ms: u64) -> Option<f64> {
        let decay_ms = self.config.decay_ms;
        let s = self.state.get_mut(backend)?;
        Self::update(s, 0.0, now_ms, decay_ms);
        Some(s.rtt_us * f64::from(s.pending + 1))
    }

    fn update(s: &mut Ewma, sample_us: f64, now_ms: u64, decay_ms: u64) {
        if s.rtt_us < sample_us {
            s.rtt_us = sample_us;
        } else {
            let dt = now_ms.saturating_sub(s.updated_ms) as f64;
            let decay = if decay_ms == 0 {
                0.0
            } else {
                exp_neg(-dt / decay_ms as f64)
            };
            s.rtt_us = s.rtt_us * decay + sample_us * (1.0 - decay);
        }
        s.updated_ms = s.updated_ms.max(now_ms);
    }
}

impl Balancer for PeakEwma {
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let n = self.eligible.len() as u64;
        match n {
            0 => None,
            1 => Some(self.eligible[0] as usize),
            _ => {
                let a = self.rng.below(n);
                let mut b = self.rng.below(n - 1);
                if b >= a {
                    b += 1;
                }
                let (a, b) = (
                    self.eligible[a as usize] as usize,
                    self.eligible[b as usize] as usize,
                );
                let ca = self.cost(a, req.now_ms).unwrap_or(f64::INFINITY);
                let cb = self.cost(b, req.now_ms).unwrap_or(f64::INFINITY);
                Some(if cb < ca { b } else { a })
            }
        }
    }

    fn observe(&mut self, event: Event) {
        match event {
            Event::Opened(i) => {
                if let Some(s) = self.state.get_mut(i) {
                    s.pending += 1;
                }
            }
            Event::Closed(i) => {
                if let Some(s) = self.state.get_mut(i) {
                    s.pending = s.pending.saturating_sub(1);
                }
            }
            Event::Latency {
                backend,
                micros,
                now_ms,
            } => {
                let decay_ms = self.config.decay_ms;
                if let Some(s) = self.state.get_mut(backend) {
                    Self::update(s, micros as f64, now_ms, decay_ms);
                }
            }
        }
    }

    /// Estimates and pending counts carry over by key.
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.install(backends);
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
    fn exp_is_accurate() {
        for k in 0..2000 {
            let x = -(k as f64) * 0.0173;
            let ours = exp_neg(x);
            let std = x.exp();
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std,
                "{x}: {ours} vs {std}"
            );
        }
        assert_eq!(exp_neg(0.0), 1.0);
        assert_eq!(exp_neg(-800.0), 0.0);
    }

    #[test]
    fn edf_follows_weights_and_load() {
        let b = [Backend::new("a", 1), Backend::new("b", 3)];
        let mut lb = LeastRequest::new(&b, 2, 0);
        let mut c = [0; 2];
        for _ in 0..400 {
            c[lb.pick(&Request::none()).unwrap()] += 1;
        }
        assert_eq!(c, [100, 300]);
        // Load on "b" lowers its dynamic weight: 3 / (2 + 1) = 1 = "a".
        lb.observe(Event::Opened(1));
        lb.observe(Event::Opened(1));
        let mut c = [0i32; 2];
        for _ in 0..400 {
            c[lb.pick(&Request::none()).unwrap()] += 1;
        }
        assert!((c[0] - c[1]).abs() <= 2, "{c:?}");
    }

    #[test]
    fn half_life() {
        let cfg = PeakEwmaConfig {
            default_rtt_us: 1000,
            decay_ms: 10_000,
            seed: 0,
        };
        let mut lb = PeakEwma::new(&Backend::list(["a"]), &cfg);
        // Steady sample of 0 after tau * ln 2: half of the gap is gone.
        let t = (10_000.0 * std::f64::consts::LN_2).round() as u64;
        lb.observe(Event::Latency {
            backend: 0,
            micros: 0,
            now_ms: t,
        });
        let e = lb.estimate_us(0).unwrap();
        assert!((e - 500.0).abs() < 0.1, "{e}");
    }
}
