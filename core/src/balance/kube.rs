//! kube-proxy's backend selection, as its data planes express it.
//!
//! * **iptables**: the service chain has one rule per endpoint, in
//!   [`endpoint_order`]; rule `i` of `n` jumps with `statistic --mode random
//!   --probability 1/(n-i)` printed with ten decimals, the last rule is
//!   unconditional. The kernel compares a 31-bit random number with
//!   `lround(p * 2^31)` ([`iptables_threshold`]).
//! * **nftables**: `numgen random mod n` indexes a verdict map in the same
//!   order; the kernel scales a 32-bit random number with a multiply-high.
//! * **IPVS**: one virtual server per service address with scheduler
//!   `--ipvs-scheduler` (default `rr`); every real server has weight 1, and
//!   weight 0 only for removed endpoints that still carry connections.
//!
//! The `render_*` functions produce exactly what the conformance cases'
//! `render` expectations hold; [`IptablesChain`] and [`NftablesNumgen`] are
//! the matching balancers (seeded).

use super::{Backend, BalanceError, Balancer, IpvsScheduler, Request, Rng};

/// The order kube-proxy writes endpoints in: lexicographic order of the
/// `ip:port` strings (duplicates dropped).
///
/// ```
/// use svcroute::balance::kube::endpoint_order;
/// assert_eq!(endpoint_order(&["10.244.2.13:8080", "10.244.10.5:8080"]),
///            ["10.244.10.5:8080", "10.244.2.13:8080"]);
/// ```
pub fn endpoint_order<S: AsRef<str>>(endpoints: &[S]) -> Vec<String> {
    let mut v: Vec<String> = endpoints.iter().map(|s| s.as_ref().to_string()).collect();
    crate::order::sort_unstable(&mut v);
    v.dedup();
    v
}

/// `1/n` printed as Go's `fmt.Sprintf("%0.10f", 1.0/float64(n))`: the exact
/// binary value of the double rounded to ten decimals, ties to even.
///
/// ```
/// use svcroute::balance::kube::iptables_probability;
/// assert_eq!(iptables_probability(3), "0.3333333333");
/// assert_eq!(iptables_probability(2), "0.5000000000");
/// assert_eq!(iptables_probability(2048), "0.0004882812");
/// ```
pub fn iptables_probability(n: usize) -> String {
    format_fixed10(1.0 / n.max(1) as f64)
}

/// Formats a double in [0, 1] with exactly ten decimals, rounding the exact
/// binary value half to even (as Go's strconv does).
fn format_fixed10(p: f64) -> String {
    // p = m * 2^e exactly; scaled = p * 10^10 = m * 10^10 * 2^e.
    let bits = p.to_bits();
    let exp = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    let scaled_num = u128::from(m) * 10_000_000_000u128;
    let (q, exact_half, above_half) = if e >= 0 {
        (scaled_num << e, false, false)
    } else {
        let sh = (-e) as u32;
        if sh >= 128 {
            (0, false, scaled_num != 0)
        } else {
            let q = scaled_num >> sh;
            let rem = scaled_num - (q << sh);
            let half = 1u128 << (sh - 1);
            (q, rem == half, rem > half)
        }
    };
    let q = if above_half || (exact_half && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    let int = q / 10_000_000_000;
    let dec = q % 10_000_000_000;
    format!("{int}.{dec:010}")
}

/// The 31-bit threshold the kernel's `statistic` match compares with, for a
/// printed probability (`lround(p * 2^31)`, as iptables' extension parses
/// it). The rule fires when a 31-bit random number is below it.
///
/// ```
/// use svcroute::balance::kube::iptables_threshold;
/// assert_eq!(iptables_threshold("0.5000000000"), 1 << 30);
/// assert_eq!(iptables_threshold("0.3333333333"), 715_827_883);
/// ```
pub fn iptables_threshold(printed: &str) -> u32 {
    let p: f64 = printed.parse().unwrap_or(0.0);
    let t = (p * 2_147_483_648.0).round();
    t.clamp(0.0, 2_147_483_648.0) as u32
}

/// The iptables rendering of a service's endpoint chain.
///
/// ```
/// use svcroute::balance::kube::render_iptables;
/// let r = render_iptables(&["10.244.1.12:8080", "10.244.0.11:8080", "10.244.2.13:8080"]);
/// assert_eq!(r.endpoint_order[0], "10.244.0.11:8080");
/// assert_eq!(r.probabilities, [Some("0.3333333333".to_string()),
///                              Some("0.5000000000".to_string()), None]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IptablesRender {
    /// Endpoints in chain order.
    pub endpoint_order: Vec<String>,
    /// One entry per rule: the printed probability, `None` for the
    /// unconditional last rule.
    pub probabilities: Vec<Option<String>>,
}

/// Render the iptables service chain for `endpoints`.
///
/// ```
/// let r = svcroute::balance::kube::render_iptables::<&str>(&[]);
/// assert!(r.probabilities.is_empty());
/// ```
pub fn render_iptables<S: AsRef<str>>(endpoints: &[S]) -> IptablesRender {
    let endpoint_order = endpoint_order(endpoints);
    let n = endpoint_order.len();
    let probabilities = (0..n)
        .map(|i| (i + 1 < n).then(|| iptables_probability(n - i)))
        .collect();
    IptablesRender {
        endpoint_order,
        probabilities,
    }
}

/// The nftables rendering: `numgen random mod n` over a verdict map.
///
/// ```
/// use svcroute::balance::kube::render_nftables;
/// let r = render_nftables(&["b:1", "a:1", "c:1", "a:1"]);
/// assert_eq!(r.numgen_mod, 3);
/// assert_eq!(r.vmap_order, ["a:1", "b:1", "c:1"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftablesRender {
    /// `n` of `numgen random mod n`.
    pub numgen_mod: usize,
    /// Endpoints by verdict-map index.
    pub vmap_order: Vec<String>,
}

/// Render the nftables service rule for `endpoints`.
///
/// ```
/// assert_eq!(svcroute::balance::kube::render_nftables(&["x:1"]).numgen_mod, 1);
/// ```
pub fn render_nftables<S: AsRef<str>>(endpoints: &[S]) -> NftablesRender {
    let vmap_order = endpoint_order(endpoints);
    NftablesRender {
        numgen_mod: vmap_order.len(),
        vmap_order,
    }
}

/// The IPVS rendering of one virtual server.
///
/// ```
/// use svcroute::balance::{IpvsScheduler, kube::render_ipvs};
/// let r = render_ipvs(&["10.0.0.2:80", "10.0.0.1:80"], &["10.0.0.9:80"], IpvsScheduler::Rr);
/// assert_eq!(r.scheduler, "rr");
/// assert_eq!(r.real_server_weights, [("10.0.0.1:80".to_string(), 1),
///     ("10.0.0.2:80".to_string(), 1), ("10.0.0.9:80".to_string(), 0)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsRender {
    /// The scheduler name (`rr`, `wrr`, `lc`, ...).
    pub scheduler: String,
    /// `(ip:port, weight)` per real server, in endpoint order.
    pub real_server_weights: Vec<(String, u32)>,
}

/// Render an IPVS virtual server: `endpoints` get weight 1, `draining`
/// (endpoints removed from the set that still carry connections, kept for
/// graceful termination) weight 0. An address in both lists counts as an
/// endpoint.
///
/// ```
/// use svcroute::balance::{IpvsScheduler, kube::render_ipvs};
/// assert_eq!(render_ipvs::<&str>(&[], &[], IpvsScheduler::Mh).scheduler, "mh");
/// ```
pub fn render_ipvs<S: AsRef<str>>(
    endpoints: &[S],
    draining: &[S],
    scheduler: IpvsScheduler,
) -> IpvsRender {
    let live = endpoint_order(endpoints);
    let mut all: Vec<(String, u32)> = live.iter().map(|e| (e.clone(), 1)).collect();
    for d in endpoint_order(draining) {
        if live.binary_search(&d).is_err() {
            all.push((d, 0));
        }
    }
    crate::order::sort(&mut all);
    IpvsRender {
        scheduler: scheduler.name().to_string(),
        real_server_weights: all,
    }
}

/// The kernel thresholds of every iptables chain up to some length, shared
/// by all the chains of a data plane: a chain of `n` rules uses the
/// thresholds of `1/n, 1/(n-1), …, 1/2` ([`ChainTable::chain`]), so one
/// table serves every endpoint set, and a pick allocates nothing.
///
/// ```
/// use svcroute::balance::{Rng, kube::{ChainTable, pick_chain}};
/// let mut t = ChainTable::default();
/// t.ensure(3);
/// assert_eq!(t.chain(3), [715_827_883, 1 << 30]);
/// assert_eq!(t.chain(2), [1 << 30]);
/// assert!(t.chain(1).is_empty());
/// assert!(pick_chain(t.chain(3), &mut Rng::new(1)) < 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainTable {
    /// Thresholds of `1/k` for `k = max, max-1, …, 2` (descending `k`).
    desc: Vec<u32>,
}

impl ChainTable {
    /// Makes room for chains of up to `n` rules (never shrinks).
    ///
    /// ```
    /// let mut t = svcroute::balance::kube::ChainTable::default();
    /// t.ensure(5);
    /// assert_eq!(t.max_len(), 5);
    /// ```
    pub fn ensure(&mut self, n: usize) {
        let have = self.max_len();
        if n <= have {
            return;
        }
        let mut desc: Vec<u32> = (have + 1..=n)
            .rev()
            .map(|k| iptables_threshold(&iptables_probability(k)))
            .collect();
        desc.extend_from_slice(&self.desc);
        self.desc = desc;
    }

    /// The longest chain the table holds (at least 1).
    ///
    /// ```
    /// assert_eq!(svcroute::balance::kube::ChainTable::default().max_len(), 1);
    /// ```
    pub fn max_len(&self) -> usize {
        self.desc.len() + 1
    }

    /// The thresholds of the `n - 1` conditional rules of a chain of `n`
    /// endpoints, in chain order (empty for `n <= 1`, and when `n` is
    /// beyond [`max_len`](Self::max_len): call [`ensure`](Self::ensure)).
    ///
    /// ```
    /// let mut t = svcroute::balance::kube::ChainTable::default();
    /// t.ensure(4);
    /// assert_eq!(t.chain(4).len(), 3);
    /// ```
    pub fn chain(&self, n: usize) -> &[u32] {
        if n <= 1 || n > self.max_len() {
            return &[];
        }
        &self.desc[self.desc.len() + 1 - n..]
    }
}

/// Walks an iptables chain as the kernel does: rule `k` fires when a 31-bit
/// random number is below `thresholds[k]`; the unconditional last rule
/// takes the rest. Returns the chain position (`thresholds.len()` for the
/// last rule).
///
/// ```
/// use svcroute::balance::{Rng, kube::pick_chain};
/// assert_eq!(pick_chain(&[], &mut Rng::new(0)), 0);
/// assert_eq!(pick_chain(&[u32::MAX], &mut Rng::new(0)), 0);
/// assert_eq!(pick_chain(&[0, 0], &mut Rng::new(0)), 2);
/// ```
#[inline]
pub fn pick_chain(thresholds: &[u32], rng: &mut Rng) -> usize {
    for (k, &t) in thresholds.iter().enumerate() {
        if ((rng.next_u64() >> 33) as u32) < t {
            return k;
        }
    }
    thresholds.len()
}

/// `numgen random mod n` as the kernel computes it: a 32-bit random number
/// scaled by a multiply-high. Returns the verdict-map index (0 for `n == 0`).
///
/// ```
/// use svcroute::balance::{Rng, kube::pick_numgen};
/// assert!(pick_numgen(3, &mut Rng::new(9)) < 3);
/// assert_eq!(pick_numgen(1, &mut Rng::new(9)), 0);
/// ```
#[inline]
pub fn pick_numgen(n: usize, rng: &mut Rng) -> usize {
    let r = (rng.next_u64() >> 32) as u32;
    ((u64::from(r) * n as u64) >> 32) as usize
}

/// Sorts backend indices by key: kube-proxy's chain order.
fn chain_order(backends: &[Backend]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..backends.len() as u32)
        .filter(|&i| backends[i as usize].weight > 0)
        .collect();
    crate::order::sort_by(&mut order, |&a, &b| {
        backends[a as usize].key.cmp(&backends[b as usize].key)
    });
    order
}

/// kube-proxy's iptables chain as a balancer: rules in key order, rule `i`
/// fires when a 31-bit random number is below [`iptables_threshold`] of
/// its printed probability, the last rule always. Weight-0 backends are left
/// out of the chain (kube-proxy writes only usable endpoints).
///
/// ```
/// use svcroute::balance::{Backend, Balancer, IptablesChain, Request};
/// let mut lb = IptablesChain::new(&Backend::list(["10.0.0.2:80", "10.0.0.1:80"]), 1);
/// assert!(lb.pick(&Request::none()).unwrap() < 2);
/// ```
#[derive(Debug, Clone)]
pub struct IptablesChain {
    order: Vec<u32>,
    thresholds: Vec<u32>,
    len: usize,
    rng: Rng,
}

impl IptablesChain {
    /// The chain for `backends`, drawing from a generator seeded with `seed`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, IptablesChain};
    /// let lb = IptablesChain::new(&Backend::list(["a:1", "b:1", "c:1"]), 0);
    /// assert_eq!(lb.thresholds(), [715_827_883, 1 << 30]);
    /// ```
    pub fn new(backends: &[Backend], seed: u64) -> IptablesChain {
        let mut c = IptablesChain {
            order: Vec::new(),
            thresholds: Vec::new(),
            len: 0,
            rng: Rng::new(seed),
        };
        c.rebuild(backends);
        c
    }

    fn rebuild(&mut self, backends: &[Backend]) {
        self.order = chain_order(backends);
        let n = self.order.len();
        let mut table = ChainTable::default();
        table.ensure(n);
        self.thresholds = table.chain(n).to_vec();
        self.len = backends.len();
    }

    /// The kernel thresholds of the conditional rules, in chain order.
    ///
    /// ```
    /// use svcroute::balance::{Backend, IptablesChain};
    /// assert!(IptablesChain::new(&Backend::list(["a"]), 0).thresholds().is_empty());
    /// ```
    pub fn thresholds(&self) -> &[u32] {
        &self.thresholds
    }

    /// The exact share of new connections that rule `i` (chain order)
    /// receives after both roundings.
    ///
    /// ```
    /// use svcroute::balance::{Backend, IptablesChain};
    /// let lb = IptablesChain::new(&Backend::list(["a", "b", "c"]), 0);
    /// let total: f64 = (0..3).map(|i| lb.share(i)).sum();
    /// assert!((total - 1.0).abs() < 1e-12);
    /// ```
    pub fn share(&self, i: usize) -> f64 {
        let mut fall = 1.0f64;
        for (k, &t) in self.thresholds.iter().enumerate() {
            let p = f64::from(t) / 2_147_483_648.0;
            if k == i {
                return fall * p;
            }
            fall *= 1.0 - p;
        }
        if i == self.thresholds.len() && !self.order.is_empty() {
            fall
        } else {
            0.0
        }
    }
}

impl Balancer for IptablesChain {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        if self.order.is_empty() {
            return None;
        }
        let k = pick_chain(&self.thresholds, &mut self.rng);
        Some(self.order[k] as usize)
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.rebuild(backends);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// kube-proxy's nftables rule as a balancer: `numgen random mod n` over the
/// backends in key order, the kernel's multiply-high scaling of a 32-bit
/// random number.
///
/// ```
/// use svcroute::balance::{Backend, Balancer, NftablesNumgen, Request};
/// let mut lb = NftablesNumgen::new(&Backend::list(["b:1", "a:1"]), 4);
/// assert!(lb.pick(&Request::none()).unwrap() < 2);
/// ```
#[derive(Debug, Clone)]
pub struct NftablesNumgen {
    order: Vec<u32>,
    len: usize,
    rng: Rng,
}

impl NftablesNumgen {
    /// The verdict map for `backends`, seeded with `seed`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, NftablesNumgen};
    /// assert_eq!(NftablesNumgen::new(&Backend::list(["a"]), 0).modulus(), 1);
    /// ```
    pub fn new(backends: &[Backend], seed: u64) -> NftablesNumgen {
        NftablesNumgen {
            order: chain_order(backends),
            len: backends.len(),
            rng: Rng::new(seed),
        }
    }

    /// `n` of `numgen random mod n`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, NftablesNumgen};
    /// assert_eq!(NftablesNumgen::new(&Backend::list(["a", "b"]), 0).modulus(), 2);
    /// ```
    pub fn modulus(&self) -> usize {
        self.order.len()
    }
}

impl Balancer for NftablesNumgen {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        if self.order.is_empty() {
            return None;
        }
        let k = pick_numgen(self.order.len(), &mut self.rng);
        Some(self.order[k] as usize)
    }

    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.order = chain_order(backends);
        self.len = backends.len();
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
    fn ten_decimals_like_go() {
        assert_eq!(iptables_probability(1), "1.0000000000");
        assert_eq!(iptables_probability(4), "0.2500000000");
        assert_eq!(iptables_probability(7), "0.1428571429");
        assert_eq!(iptables_probability(3), "0.3333333333");
        assert_eq!(iptables_probability(6), "0.1666666667");
        for n in 1..3000 {
            let ours = iptables_probability(n);
            let std = format!("{:.10}", 1.0 / n as f64);
            if n != 2048 {
                assert_eq!(ours, std, "n = {n}");
            }
        }
    }

    #[test]
    fn chain_table_matches_chains() {
        let mut t = ChainTable::default();
        t.ensure(7);
        t.ensure(40);
        for n in 1..=40usize {
            let backends: Vec<Backend> =
                (0..n).map(|i| Backend::new(format!("{i:03}"), 1)).collect();
            assert_eq!(
                t.chain(n),
                IptablesChain::new(&backends, 0).thresholds(),
                "n = {n}"
            );
        }
        assert!(t.chain(41).is_empty());
    }

    #[test]
    fn shares_within_bound() {
        for n in 1..=2000usize {
            let backends: Vec<Backend> =
                (0..n).map(|i| Backend::new(format!("{i:05}"), 1)).collect();
            let c = IptablesChain::new(&backends, 0);
            let mut sum = 0.0f64;
            let mut fall = 1.0f64;
            for i in 0..n {
                let s = match c.thresholds().get(i) {
                    Some(&t) => {
                        let p = f64::from(t) / 2_147_483_648.0;
                        let s = fall * p;
                        fall *= 1.0 - p;
                        s
                    }
                    None => fall,
                };
                sum += s;
                let rel = (s * n as f64 - 1.0).abs();
                assert!(rel < 1e-6, "n={n} i={i} rel={rel}");
            }
            assert!((sum - 1.0).abs() < 1e-9);
        }
    }
}
