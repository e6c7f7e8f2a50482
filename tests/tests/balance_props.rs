//! Properties of the backend-selection algorithms (reference note
//! `balancers.md`, section 4): determinism, eligibility, balance bounds,
//! minimal disruption, exact shares and goldens.

use proptest::prelude::*;
use svcroute::balance::hash::crc32;
use svcroute::balance::kube::{iptables_probability, render_iptables};
use svcroute::balance::{
    Algorithm, Backend, Balancer, ClientIpAffinity, Event, FlowHash, FlowKey, Ipvs, IpvsScheduler,
    JumpHash, Ketama, KetamaConfig, KetamaPoints, LeastRequest, Maglev, MaglevConfig, MaglevLayout,
    PeakEwma, PeakEwmaConfig, Random, Rendezvous, Request, Rng, RoundRobin, SmoothWeighted,
    WeightedRandom, jump_consistent_hash,
};

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

/// Backends "10.<i/250>.<i%250>.1:8080" with the given weights.
fn backends(weights: &[u32]) -> Vec<Backend> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| Backend::new(format!("10.{}.{}.1:8080", i / 250, i % 250), w))
        .collect()
}

fn all_algorithms(seed: u64) -> Vec<Algorithm> {
    let mut v = vec![
        Algorithm::RoundRobin,
        Algorithm::SmoothWeighted,
        Algorithm::Random { seed },
        Algorithm::WeightedRandom { seed },
        Algorithm::Iptables { seed },
        Algorithm::Nftables { seed },
        Algorithm::LeastRequest {
            choice_count: 2,
            seed,
        },
        Algorithm::PeakEwma(PeakEwmaConfig {
            seed,
            ..PeakEwmaConfig::default()
        }),
        Algorithm::Maglev(MaglevConfig {
            table_size: 251,
            seed,
            ..MaglevConfig::default()
        }),
        Algorithm::Ketama(KetamaConfig {
            seed,
            ..KetamaConfig::default()
        }),
        Algorithm::Jump {
            flow_hash: FlowHash::Fast,
            seed,
        },
        Algorithm::Rendezvous {
            flow_hash: FlowHash::Fast,
            seed,
        },
    ];
    for s in IpvsScheduler::ALL {
        if s != IpvsScheduler::Sh && s != IpvsScheduler::Dh {
            v.push(Algorithm::Ipvs { scheduler: s, seed });
        }
    }
    v
}

fn flow(i: u64) -> FlowKey {
    let src = std::net::Ipv4Addr::from(
        (0x0A00_0000u32).wrapping_add((i as u32).wrapping_mul(2_654_435_761)),
    );
    FlowKey::new(
        src.into(),
        (i % 50_000) as u16 + 1024,
        "10.96.0.10".parse().unwrap(),
        80,
        6,
    )
}

/// Pearson chi-square statistic of counts against expected shares.
fn chi_square(counts: &[u64], expected: &[f64]) -> f64 {
    counts
        .iter()
        .zip(expected)
        .filter(|(_, e)| **e > 0.0)
        .map(|(&c, &e)| (c as f64 - e).powi(2) / e)
        .sum()
}

/// Critical chi-square value at p = 0.001 (Wilson-Hilferty approximation).
fn chi_critical(df: usize) -> f64 {
    chi_critical_z(df, 3.090_232) // upper 0.001 quantile of N(0, 1)
}

/// The chi-square critical value for `df` degrees of freedom at the level
/// whose standard normal upper quantile is `z` (Wilson-Hilferty).
fn chi_critical_z(df: usize, z: f64) -> f64 {
    let k = df.max(1) as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + z * a.sqrt()).powi(3)
}

// ---------- 4.1 all algorithms ----------

proptest! {
    #![proptest_config(cases(40))]

    /// Never a weight-0 or out-of-range backend; None only when nothing is
    /// eligible; a single eligible backend is always returned.
    #[test]
    fn eligibility(weights in prop::collection::vec(0u32..4, 0..12), seed in any::<u64>()) {
        let b = backends(&weights);
        let eligible: Vec<usize> = (0..b.len()).filter(|&i| b[i].weight > 0).collect();
        for alg in all_algorithms(seed) {
            let mut lb = alg.build(&b).unwrap();
            for k in 0..40u64 {
                let req = match k % 3 {
                    0 => Request::none(),
                    1 => Request::hash(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                    _ => Request::flow(flow(k)),
                };
                let got = lb.pick(&req);
                match got {
                    None => prop_assert!(eligible.is_empty(), "{} gave None", alg.name()),
                    Some(i) => {
                        prop_assert!(eligible.contains(&i), "{} picked {i}", alg.name());
                        lb.observe(Event::Opened(i));
                    }
                }
                if eligible.len() == 1 {
                    prop_assert_eq!(got, Some(eligible[0]));
                }
            }
        }
    }

    /// Same inputs and seed, same answers.
    #[test]
    fn determinism(weights in prop::collection::vec(1u32..5, 1..10), seed in any::<u64>()) {
        let b = backends(&weights);
        for alg in all_algorithms(seed) {
            let mut x = alg.build(&b).unwrap();
            let mut y = alg.build(&b).unwrap();
            for k in 0..30u64 {
                let req = if k % 2 == 0 { Request::none().at(k) } else { Request::flow(flow(k)).at(k) };
                let (a, c) = (x.pick(&req), y.pick(&req));
                prop_assert_eq!(a, c, "{}", alg.name());
                if let Some(i) = a {
                    x.observe(Event::Latency { backend: i, micros: 100 * k, now_ms: k });
                    y.observe(Event::Latency { backend: i, micros: 100 * k, now_ms: k });
                }
            }
        }
    }

    /// Hashing algorithms do not depend on the input order of backends.
    #[test]
    fn hashing_ignores_input_order(n in 1usize..20, shift in 0usize..20) {
        let b = backends(&vec![1; n]);
        let mut rotated = b.clone();
        rotated.rotate_left(shift % n);
        let hashers = [
            Algorithm::Maglev(MaglevConfig { table_size: 509, ..MaglevConfig::default() }),
            Algorithm::Ketama(KetamaConfig::default()),
            Algorithm::Rendezvous { flow_hash: FlowHash::Fast, seed: 0 },
        ];
        for alg in hashers {
            let mut x = alg.build(&b).unwrap();
            let mut y = alg.build(&rotated).unwrap();
            for k in 0..50u64 {
                let h = k.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let a = x.pick(&Request::hash(h)).map(|i| b[i].key.clone());
                let c = y.pick(&Request::hash(h)).map(|i| rotated[i].key.clone());
                prop_assert_eq!(a, c, "{}", alg.name());
            }
        }
    }
}

// ---------- 4.2 round robin ----------

proptest! {
    #![proptest_config(cases(64))]

    /// Every window of n consecutive picks holds each backend once.
    #[test]
    fn round_robin_windows(n in 1usize..30, offset in 0usize..30) {
        let mut lb = RoundRobin::new(&backends(&vec![1; n]));
        for _ in 0..offset { lb.next(); }
        let picks: Vec<usize> = (0..3 * n).map(|_| lb.next().unwrap()).collect();
        for w in picks.windows(n) {
            let mut s = w.to_vec();
            s.sort_unstable();
            prop_assert_eq!(s, (0..n).collect::<Vec<_>>());
        }
    }
}

// ---------- 4.3 smooth WRR ----------

/// nginx's O(n) loop, as the oracle.
fn nginx_swrr(weights: &[u32], picks: usize) -> Vec<usize> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut cur = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(picks);
    for _ in 0..picks {
        let mut best: Option<usize> = None;
        for (i, &w) in weights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            cur[i] += i64::from(w);
            if best.is_none_or(|b| cur[i] > cur[b]) {
                best = Some(i);
            }
        }
        let Some(b) = best else { break };
        cur[b] -= total;
        out.push(b);
        assert_eq!(cur.iter().sum::<i64>(), 0, "sum of current values is 0");
    }
    out
}

#[test]
fn smooth_wrr_golden_5_1_1() {
    let mut lb = SmoothWeighted::new(&[
        Backend::new("a", 5),
        Backend::new("b", 1),
        Backend::new("c", 1),
    ]);
    let s: String = (0..14)
        .map(|_| ["a", "b", "c"][lb.next().unwrap()])
        .collect();
    assert_eq!(s, "aabacaaaabacaa");
}

proptest! {
    #![proptest_config(cases(64))]

    /// Our sequence is nginx's, each backend gets exactly w_i picks per
    /// period W, and |picks_i(t) - t w_i / W| < 2 at every t.
    #[test]
    fn smooth_wrr_exact(weights in prop::collection::vec(0u32..30, 1..40)) {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        prop_assume!(total > 0);
        let b = backends(&weights);
        let mut lb = SmoothWeighted::new(&b);
        let picks = 2 * total as usize;
        let ours: Vec<usize> = (0..picks).map(|_| lb.next().unwrap()).collect();
        prop_assert_eq!(&ours, &nginx_swrr(&weights, picks));
        for period in ours.chunks(total as usize) {
            let mut c = vec![0u32; weights.len()];
            for &i in period { c[i] += 1; }
            prop_assert_eq!(&c, &weights);
        }
        let mut c = vec![0f64; weights.len()];
        for (t, &i) in ours.iter().enumerate() {
            c[i] += 1.0;
            for (k, &w) in weights.iter().enumerate() {
                let ideal = (t + 1) as f64 * f64::from(w) / total as f64;
                prop_assert!((c[k] - ideal).abs() < 2.0);
            }
        }
    }
}

// ---------- 4.4 random, weighted random, iptables, nftables ----------

proptest! {
    #![proptest_config(cases(12))]

    /// Counts over 2000 n draws pass chi-square and stay within 5 sigma of
    /// N w_i / W. A run makes 48 chi-square tests on fresh seeds, so each
    /// is at p = 1e-6 (at p = 0.001 a correct sampler failed about one run
    /// in twenty).
    #[test]
    fn random_goodness_of_fit(weights in prop::collection::vec(1u32..20, 2..16), seed in any::<u64>()) {
        let b = backends(&weights);
        let n = b.len();
        let draws = 2000 * n;
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        let uniform = vec![draws as f64 / n as f64; n];
        let weighted: Vec<f64> = weights.iter().map(|&w| draws as f64 * f64::from(w) / total).collect();
        let algs: [(Algorithm, &Vec<f64>); 4] = [
            (Algorithm::Random { seed }, &uniform),
            (Algorithm::Iptables { seed }, &uniform),
            (Algorithm::Nftables { seed }, &uniform),
            (Algorithm::WeightedRandom { seed }, &weighted),
        ];
        for (alg, expected) in algs {
            let mut lb = alg.build(&b).unwrap();
            let mut counts = vec![0u64; n];
            for _ in 0..draws { counts[lb.pick(&Request::none()).unwrap()] += 1; }
            let x2 = chi_square(&counts, expected);
            // 4.753424: upper 1e-6 quantile of N(0, 1).
            prop_assert!(x2 < chi_critical_z(n - 1, 4.753_424), "{}: chi2 {x2}", alg.name());
            for (c, e) in counts.iter().zip(expected.iter()) {
                let p = e / draws as f64;
                let sigma = (draws as f64 * p * (1.0 - p)).sqrt();
                prop_assert!((*c as f64 - e).abs() < 5.0 * sigma + 1.0, "{}", alg.name());
            }
        }
    }

    /// The alias table stores exactly w_i / W.
    #[test]
    fn weighted_random_exact_mass(weights in prop::collection::vec(0u32..100, 1..40)) {
        let lb = WeightedRandom::new(&backends(&weights), 0);
        let ne = weights.iter().filter(|&&w| w > 0).count() as u64;
        for (i, &w) in weights.iter().enumerate() {
            prop_assert_eq!(lb.mass(i), u64::from(w) * ne);
        }
    }
}

#[test]
fn iptables_rendering_and_shares() {
    let r = render_iptables(&["10.244.1.12:8080", "10.244.0.11:8080", "10.244.2.13:8080"]);
    assert_eq!(
        r.probabilities,
        [
            Some("0.3333333333".into()),
            Some("0.5000000000".into()),
            None
        ]
    );
    assert_eq!(iptables_probability(3), "0.3333333333");
    // Each endpoint's share after the 10-decimal print and 2^-31 quantization
    // is 1/n within 1e-6 relative, shares sum to 1 (n <= 2000).
    let mut worst = 0.0f64;
    for n in 1..=2000usize {
        let mut fall = 1.0f64;
        let mut sum = 0.0f64;
        for i in 0..n {
            let s = if i + 1 < n {
                let t = svcroute::balance::kube::iptables_threshold(&iptables_probability(n - i));
                let p = f64::from(t) / 2_147_483_648.0;
                let s = fall * p;
                fall *= 1.0 - p;
                s
            } else {
                fall
            };
            sum += s;
            worst = worst.max((s * n as f64 - 1.0).abs());
        }
        assert!((sum - 1.0).abs() < 1e-9);
    }
    assert!(worst < 1e-6, "worst relative deviation {worst}");
}

// ---------- 4.5 least connections family ----------

fn cost_lt(s: IpvsScheduler, a: (u32, u32, u32), b: (u32, u32, u32)) -> std::cmp::Ordering {
    // (active, inactive, weight); compare cost_a vs cost_b exactly.
    let oh = |x: (u32, u32, u32)| match s {
        IpvsScheduler::Lc | IpvsScheduler::Wlc => 256 * u128::from(x.0) + u128::from(x.1),
        _ => u128::from(x.0) + 1,
    };
    match s {
        IpvsScheduler::Lc => oh(a).cmp(&oh(b)),
        _ => (oh(a) * u128::from(b.2)).cmp(&(oh(b) * u128::from(a.2))),
    }
}

proptest! {
    #![proptest_config(cases(128))]

    /// lc/wlc/sed pick the first minimum of their cost; nq the first idle
    /// server if any, else sed; scaling weights never changes the answer;
    /// wlc with equal weights equals lc; weight 0 and overloaded never win.
    #[test]
    fn least_connections(servers in prop::collection::vec((0u32..6, 0u32..300, 0u32..5, any::<bool>()), 1..10), scale in 1u32..5) {
        let b: Vec<Backend> = servers.iter().enumerate().map(|(i, s)| Backend::new(format!("s{i}"), s.2)).collect();
        let scaled: Vec<Backend> = b.iter().map(|x| Backend::new(x.key.clone(), x.weight * scale)).collect();
        let setup = |bs: &[Backend], s: IpvsScheduler| {
            let mut lb = Ipvs::new(bs, s, 0);
            for (i, sv) in servers.iter().enumerate() {
                lb.set_counters(i, sv.0, sv.1).unwrap();
                lb.set_overloaded(i, sv.3).unwrap();
            }
            lb
        };
        let usable: Vec<usize> = (0..servers.len()).filter(|&i| servers[i].2 > 0 && !servers[i].3).collect();
        for s in [IpvsScheduler::Lc, IpvsScheduler::Wlc, IpvsScheduler::Sed, IpvsScheduler::Nq] {
            let got = setup(&b, s).pick(&Request::none());
            let got_scaled = setup(&scaled, s).pick(&Request::none());
            prop_assert_eq!(got, got_scaled);
            let idle = usable.iter().copied().find(|&i| servers[i].0 == 0);
            let want = if s == IpvsScheduler::Nq && idle.is_some() {
                idle
            } else {
                let eff = if s == IpvsScheduler::Nq { IpvsScheduler::Sed } else { s };
                let mut best: Option<usize> = None;
                for &i in &usable {
                    let x = (servers[i].0, servers[i].1, servers[i].2);
                    if best.is_none_or(|bi| cost_lt(eff, x, (servers[bi].0, servers[bi].1, servers[bi].2)).is_lt()) {
                        best = Some(i);
                    }
                }
                best
            };
            prop_assert_eq!(got, want, "{:?}", s);
        }
        let equal: Vec<Backend> = b.iter().map(|x| Backend::new(x.key.clone(), if x.weight > 0 { 3 } else { 0 })).collect();
        prop_assert_eq!(setup(&equal, IpvsScheduler::Wlc).pick(&Request::none()),
                        setup(&equal, IpvsScheduler::Lc).pick(&Request::none()));
    }
}

// ---------- 4.6 P2C and Peak-EWMA ----------

/// A closed-system simulation: `c` concurrent requests, each pick opens one
/// and closes a random earlier one. Returns the mean over time of the
/// max-min spread of active requests.
fn spread(lb: &mut dyn Balancer, n: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let mut open: Vec<usize> = Vec::new();
    let mut active = vec![0i64; n];
    let mut total = 0.0;
    let rounds = 20_000;
    for _ in 0..rounds {
        let i = lb.pick(&Request::none()).unwrap();
        lb.observe(Event::Opened(i));
        active[i] += 1;
        open.push(i);
        if open.len() > 5 * n {
            let k = rng.below(open.len() as u64) as usize;
            let j = open.swap_remove(k);
            lb.observe(Event::Closed(j));
            active[j] -= 1;
        }
        total += (active.iter().max().unwrap() - active.iter().min().unwrap()) as f64;
    }
    total / rounds as f64
}

#[test]
fn p2c_beats_random_and_degenerates() {
    let b = backends(&[1; 50]);
    let p1 = spread(&mut LeastRequest::new(&b, 1, 3), 50, 9);
    let p2 = spread(&mut LeastRequest::new(&b, 2, 3), 50, 9);
    let rnd = spread(&mut Random::new(&b, 3), 50, 9);
    assert!(p2 < rnd, "p2c {p2} vs random {rnd}");
    assert!(p2 < p1, "p2c {p2} vs p1c {p1}");
    // choice_count = n (with replacement) gets close to least-request.
    let pn = spread(&mut LeastRequest::new(&b, 200, 3), 50, 9);
    assert!(pn <= 2.0, "d = 200: {pn}");
}

proptest! {
    #![proptest_config(cases(64))]

    /// Peak-EWMA: a sample above the estimate replaces it; otherwise the
    /// estimate moves toward the sample without overshooting; cost is
    /// nondecreasing in pending requests.
    #[test]
    fn peak_ewma_update(start in 1u64..1_000_000, sample in 0u64..2_000_000, dt in 0u64..100_000, pending in 0u32..5) {
        let cfg = PeakEwmaConfig { default_rtt_us: start, decay_ms: 10_000, seed: 0 };
        let mut lb = PeakEwma::new(&backends(&[1]), &cfg);
        lb.observe(Event::Latency { backend: 0, micros: sample, now_ms: dt });
        let e = lb.estimate_us(0).unwrap();
        if sample > start {
            prop_assert_eq!(e, sample as f64);
        } else {
            prop_assert!(e <= start as f64 && e >= sample as f64);
        }
        let c0 = lb.cost(0, dt).unwrap();
        for _ in 0..pending { lb.observe(Event::Opened(0)); }
        prop_assert!(lb.cost(0, dt).unwrap() >= c0);
    }
}

// ---------- 4.7 Maglev ----------

const PRIMES: [u64; 6] = [251, 509, 1021, 2039, 4093, 8191];

proptest! {
    #![proptest_config(cases(48))]

    /// Full table; unweighted: every backend owns floor(M/N) or ceil(M/N)
    /// slots, in every layout.
    #[test]
    fn maglev_unweighted_balance(n in 1usize..120, pi in 0usize..6, layout in 0u8..3) {
        let m = PRIMES[pi];
        prop_assume!(n as u64 <= m);
        let layout = match layout {
            0 => MaglevLayout::Envoy,
            1 => MaglevLayout::Cilium { seed: 0x24B7_EF82 },
            _ => MaglevLayout::XxHash64 { offset_seed: 7, skip_seed: 8 },
        };
        let lb = Maglev::new(&backends(&vec![1; n]), &MaglevConfig { table_size: m, layout, ..MaglevConfig::default() }).unwrap();
        prop_assert_eq!(lb.table().len() as u64, m);
        let (lo, hi) = (m / n as u64, m.div_ceil(n as u64));
        for c in lb.slot_counts() {
            prop_assert!(c >= lo && c <= hi, "{c} not in {lo}..={hi}");
        }
    }

    /// Weighted: with smooth turns every backend is within 2 slots of
    /// M w / W; with Envoy's rule within max(1, N w / W) + 1 (each backend's
    /// free first turn); every positive weight owns at least one slot under
    /// Envoy's rule.
    #[test]
    fn maglev_weighted_balance(weights in prop::collection::vec(1u32..40, 1..16), pi in 2usize..6) {
        let m = PRIMES[pi];
        let b = backends(&weights);
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        let n = weights.len() as f64;
        let smooth = Maglev::new(&b, &MaglevConfig { table_size: m, smooth_weights: true, ..MaglevConfig::default() }).unwrap();
        let envoy = Maglev::new(&b, &MaglevConfig { table_size: m, ..MaglevConfig::default() }).unwrap();
        for (i, &w) in weights.iter().enumerate() {
            let ideal = m as f64 * f64::from(w) / total;
            let s = smooth.slot_counts()[i] as f64;
            prop_assert!((s - ideal).abs() <= 2.0, "smooth {s} vs {ideal}");
            let e = envoy.slot_counts()[i] as f64;
            let bound = (n * f64::from(w) / total).max(1.0) + 1.0;
            prop_assert!((e - ideal).abs() <= bound, "envoy {e} vs {ideal} (bound {bound})");
            prop_assert!(e >= 1.0);
        }
    }

    /// Removing one backend: its slots all change, it owns none after, and
    /// the extra churn among survivors stays within the reference's
    /// per-case bound (changed share <= 1/N + 5% for M >= 100 N).
    #[test]
    fn maglev_removal_disruption(n in 2usize..40, victim in 0usize..40, pi in 3usize..6) {
        let m = PRIMES[pi];
        prop_assume!(m >= 50 * n as u64);
        let b = backends(&vec![1; n]);
        let cfg = MaglevConfig { table_size: m, ..MaglevConfig::default() };
        let before = Maglev::new(&b, &cfg).unwrap();
        let v = victim % n;
        let mut after_b = b.clone();
        after_b.remove(v);
        let after = Maglev::new(&after_b, &cfg).unwrap();
        let key_before = |s: usize| &b[before.table()[s] as usize].key;
        let key_after = |s: usize| &after_b[after.table()[s] as usize].key;
        let mut changed = 0u64;
        for s in 0..m as usize {
            prop_assert_ne!(key_after(s), &b[v].key);
            if key_before(s) != key_after(s) { changed += 1; }
        }
        let share = changed as f64 / m as f64;
        prop_assert!(share <= 1.0 / n as f64 + 0.05, "changed {share}");
    }
}

/// Mean over many random sets, N = 100, M = 65537 (the reference's row):
/// removing one backend changes at most 1/N + 1.5% of slots on average;
/// adding one gives the newcomer floor/ceil(M / (N + 1)) slots.
#[test]
fn maglev_mean_disruption_at_65537() {
    let cfg = MaglevConfig::default();
    let mut rng = Rng::new(77);
    let trials = 6;
    let mut total = 0.0;
    for _ in 0..trials {
        let b: Vec<Backend> = (0..100)
            .map(|_| {
                Backend::new(
                    format!(
                        "10.{}.{}.{}:80",
                        rng.below(256),
                        rng.below(256),
                        rng.below(256)
                    ),
                    1,
                )
            })
            .collect();
        let before = Maglev::new(&b, &cfg).unwrap();
        let mut after_b = b.clone();
        after_b.remove(rng.below(100) as usize);
        let after = Maglev::new(&after_b, &cfg).unwrap();
        let changed = (0..65537usize)
            .filter(|&s| {
                b[before.table()[s] as usize].key != after_b[after.table()[s] as usize].key
            })
            .count();
        total += changed as f64 / 65537.0;
        let mut grown = b.clone();
        grown.push(Backend::new("192.168.0.1:80", 1));
        let g = Maglev::new(&grown, &cfg).unwrap();
        let newcomer = g.slot_counts()[100];
        assert!(newcomer == 65537 / 101 || newcomer == 65537 / 101 + 1);
    }
    let mean = total / trials as f64;
    assert!(mean <= 0.01 + 0.015, "mean changed share {mean}");
}

#[test]
fn maglev_envoy_and_cilium_goldens() {
    let b = [
        Backend::new("127.0.0.1:90", 1),
        Backend::new("127.0.0.1:91", 2),
    ];
    let lb = Maglev::new(&b, &MaglevConfig::default()).unwrap();
    assert_eq!(lb.slot_counts(), [21846, 43691]);
    let hosts = Backend::list((90..96).map(|p| format!("127.0.0.1:{p}")));
    let lb = Maglev::new(
        &hosts,
        &MaglevConfig {
            table_size: 7,
            ..MaglevConfig::default()
        },
    )
    .unwrap();
    for i in 0..21u64 {
        assert_eq!(lb.lookup(i), Some([2, 4, 0, 1, 5, 0, 3][(i % 7) as usize]));
    }
    let (seed, _, _) = MaglevLayout::cilium_seeds(MaglevLayout::CILIUM_DEFAULT_SEED).unwrap();
    let c = [
        Backend::new("one", 2),
        Backend::new("three", 13),
        Backend::new("two", 111),
        Backend::new("tzwe", 10),
    ];
    let lb = Maglev::new(
        &c,
        &MaglevConfig {
            table_size: 1021,
            layout: MaglevLayout::Cilium { seed },
            ..MaglevConfig::default()
        },
    )
    .unwrap();
    assert_eq!(lb.slot_counts(), [16, 98, 832, 75]);
    // Reference 4.7: weights 1, 2, 3, 10 at M = 65537 land within 2 slots.
    let w = backends(&[1, 2, 3, 10]);
    let lb = Maglev::new(&w, &MaglevConfig::default()).unwrap();
    for (i, &c) in lb.slot_counts().iter().enumerate() {
        let ideal = 65537.0 * f64::from(w[i].weight) / 16.0;
        assert!((c as f64 - ideal).abs() <= 2.0, "{c} vs {ideal}");
    }
    // N = 1000, M = 65537: 65..66 slots each.
    let lb = Maglev::new(&backends(&[1; 1000]), &MaglevConfig::default()).unwrap();
    assert!(lb.slot_counts().iter().all(|&c| c == 65 || c == 66));
}

// ---------- 4.8 ketama ----------

fn owner_keys(ring: &Ketama, b: &[Backend], keys: &[u32]) -> Vec<String> {
    keys.iter()
        .map(|&h| b[ring.lookup(h).unwrap()].key.clone())
        .collect()
}

proptest! {
    #![proptest_config(cases(24))]

    /// Removing a backend moves only its keys; adding one moves keys only to
    /// it (exact, thanks to ties broken on the backend key).
    #[test]
    fn ketama_minimal_disruption(n in 2usize..50, victim in 0usize..50, libketama in any::<bool>(), seed in any::<u64>()) {
        let cfg = KetamaConfig {
            points: if libketama { KetamaPoints::Libketama } else { KetamaPoints::Nginx },
            ..KetamaConfig::default()
        };
        let b = backends(&vec![1; n]);
        let mut rng = Rng::new(seed);
        let keys: Vec<u32> = (0..3000).map(|_| rng.next_u64() as u32).collect();
        let ring = Ketama::new(&b, &cfg).unwrap();
        let before = owner_keys(&ring, &b, &keys);
        let v = victim % n;
        let mut smaller = b.clone();
        let gone = smaller.remove(v);
        let after = owner_keys(&Ketama::new(&smaller, &cfg).unwrap(), &smaller, &keys);
        for (x, y) in before.iter().zip(&after) {
            prop_assert!(x == y || *x == gone.key, "{x} -> {y}");
        }
        let mut bigger = b.clone();
        bigger.push(Backend::new("172.16.0.1:80", 1));
        let grown = owner_keys(&Ketama::new(&bigger, &cfg).unwrap(), &bigger, &keys);
        for (x, y) in before.iter().zip(&grown) {
            prop_assert!(x == y || y == "172.16.0.1:80");
        }
    }
}

#[test]
fn ketama_exact_at_scale_and_balance() {
    // N = 500 has colliding CRC points (pingora V1 moves keys there).
    let b = backends(&vec![1; 500]);
    let cfg = KetamaConfig::default();
    let ring = Ketama::new(&b, &cfg).unwrap();
    let mut rng = Rng::new(1);
    let keys: Vec<u32> = (0..20_000).map(|_| rng.next_u64() as u32).collect();
    let before = owner_keys(&ring, &b, &keys);
    for v in [0usize, 137, 499] {
        let mut smaller = b.clone();
        let gone = smaller.remove(v);
        let after = owner_keys(&Ketama::new(&smaller, &cfg).unwrap(), &smaller, &keys);
        assert!(
            before
                .iter()
                .zip(&after)
                .all(|(x, y)| x == y || *x == gone.key)
        );
    }
    // Balance with 160 points: max share / mean <= 1.5 (N = 100).
    let ring = Ketama::new(&backends(&vec![1; 100]), &cfg).unwrap();
    let s = ring.shares();
    let max = s.iter().cloned().fold(0.0, f64::max);
    assert!(max * 100.0 <= 1.5, "max/mean {}", max * 100.0);
    assert!(ring.point_count() <= 160 * 100);
    // pingora's nginx sample.
    let r = Ketama::new(&Backend::list(["127.0.0.1:7777", "127.0.0.1:7778"]), &cfg).unwrap();
    assert_eq!(r.lookup(crc32(b"/some/path")), Some(1));
}

// ---------- 4.9 jump ----------

/// Bit-exact with the paper's loop: the go-jump vectors, and outputs of the
/// `jumphash` crate (0.1.9, `CustomJumpHasher` over an identity hasher, so
/// that the key is the raw 64-bit value) up to 4e9 buckets.
#[test]
fn jump_matches_published_and_jumphash_crate_outputs() {
    let golden: [(u64, u32, u32); 23] = [
        (0x1, 1, 0),
        (0x2a, 57, 43),
        (0xdead_10cc, 1, 0),
        (0xdead_10cc, 666, 361),
        (0x100, 1024, 520),
        (0x3f28_00d6_569e_01b4, 2, 0),
        (0x606f_949a_3ceb_d0b7, 2, 1),
        (0xc69b_ba40_dddc_cad6, 2, 0),
        (0xbdc1_62a6_bf89_06c3, 10, 3),
        (0xaccc_fee2_b873_c40e, 10, 2),
        (0x2208_ba58_d97f_e006, 10, 1),
        (0x7942_b05e_77b9_de46, 100, 86),
        (0xf7bf_d187_e61d_fc7a, 100, 5),
        (0x6ba9_915d_e325_9902, 100, 65),
        (0x0bf7_6c28_87c5_d2b0, 10_000, 9966),
        (0xd7ed_a3f8_77c2_f515, 10_000, 5887),
        (0x73e1_da3f_024c_95bf, 10_000, 1721),
        (0xa433_8db7_7b72_8354, 1_000_000, 145_213),
        (0x0417_5a80_ffea_3352, 1_000_000, 781_370),
        (0x7977_4e11_a59b_73b4, 1_000_000, 432_805),
        (0xb13b_0ca3_dedc_2853, 4_000_000_000, 2_920_742_799),
        (0x8223_7f55_62e7_e4c3, 4_000_000_000, 2_006_898_151),
        (0x6d4d_5a29_7ad7_7bca, 4_000_000_000, 2_173_231_425),
    ];
    for (key, n, want) in golden {
        assert_eq!(
            jump_consistent_hash(key, n),
            want,
            "key {key:#x}, {n} buckets"
        );
    }
}

/// Lamping & Veach's published C++ loop, transcribed: the oracle for the
/// fixed-point walk of `jump_consistent_hash`.
fn jump_paper(mut key: u64, num_buckets: u32) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < i64::from(num_buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

proptest! {
    #![proptest_config(cases(2048))]

    /// Bit-exact with the paper's double arithmetic for every key and
    /// bucket count, inside (n <= 65,536) and beyond the fixed-point range.
    #[test]
    fn jump_is_bit_exact_with_the_paper(
        key in any::<u64>(),
        n in prop_oneof![1u32..=300, 1u32..=65_536, 65_530u32..=65_540, any::<u32>()],
    ) {
        prop_assert_eq!(jump_consistent_hash(key, n), jump_paper(key, n));
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Output in range, and growing n -> n+1 moves keys only to bucket n.
    #[test]
    fn jump_moves_only_to_new_bucket(key in any::<u64>(), n in 1u32..5000) {
        let a = jump_consistent_hash(key, n);
        let b = jump_consistent_hash(key, n + 1);
        prop_assert!(a < n);
        prop_assert!(b == a || b == n);
    }
}

#[test]
fn jump_balance_and_moved_share() {
    let n = 100u32;
    let mut rng = Rng::new(5);
    let draws = 200_000;
    let mut counts = vec![0u64; n as usize];
    let mut moved = 0u64;
    for _ in 0..draws {
        let k = rng.next_u64();
        let b = jump_consistent_hash(k, n);
        counts[b as usize] += 1;
        if jump_consistent_hash(k, n + 1) != b {
            moved += 1;
        }
    }
    let exp = vec![draws as f64 / f64::from(n); n as usize];
    assert!(chi_square(&counts, &exp) < chi_critical(n as usize - 1));
    let share = moved as f64 / draws as f64;
    assert!((share - 1.0 / 101.0).abs() < 0.002, "{share}");
    // The balancer appends new backends as new buckets.
    let b = backends(&[1; 10]);
    let mut lb = JumpHash::new(&b, FlowHash::Fast, 0);
    let before: Vec<String> = (0..2000u64)
        .map(|h| b[lb.lookup(h * 7919).unwrap()].key.clone())
        .collect();
    let mut grown = b.clone();
    grown.push(Backend::new("new:1", 1));
    lb.set_backends(&grown).unwrap();
    for (h, x) in before.iter().enumerate() {
        let y = &grown[lb.lookup(h as u64 * 7919).unwrap()].key;
        assert!(y == x || y == "new:1");
    }
}

// ---------- 4.10 rendezvous ----------

proptest! {
    #![proptest_config(cases(24))]

    /// Exact minimal disruption on removal and addition.
    #[test]
    fn rendezvous_minimal_disruption(weights in prop::collection::vec(1u32..4, 2..30), victim in 0usize..30) {
        let b = backends(&weights);
        let lb = Rendezvous::new(&b, FlowHash::Fast, 0).unwrap();
        let v = victim % b.len();
        let mut smaller = b.clone();
        let gone = smaller.remove(v);
        let s = Rendezvous::new(&smaller, FlowHash::Fast, 0).unwrap();
        let mut bigger = b.clone();
        bigger.push(Backend::new("new:1", 2));
        let g = Rendezvous::new(&bigger, FlowHash::Fast, 0).unwrap();
        for k in 0..1500u64 {
            let h = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let x = &b[lb.lookup(h).unwrap()].key;
            let y = &smaller[s.lookup(h).unwrap()].key;
            prop_assert!(x == y || *x == gone.key);
            let z = &bigger[g.lookup(h).unwrap()].key;
            prop_assert!(z == x || z == "new:1");
        }
    }
}

#[test]
fn rendezvous_weighted_shares() {
    let weights = [1u32, 2, 3, 4, 10];
    let b = backends(&weights);
    let lb = Rendezvous::new(&b, FlowHash::Fast, 0).unwrap();
    let draws = 100_000u64;
    let mut counts = [0u64; 5];
    for k in 0..draws {
        counts[lb.lookup(k.wrapping_mul(0x2545_F491_4F6C_DD1D)).unwrap()] += 1;
    }
    for (i, &w) in weights.iter().enumerate() {
        let p = f64::from(w) / 20.0;
        let e = draws as f64 * p;
        let sigma = (draws as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (counts[i] as f64 - e).abs() < 5.0 * sigma,
            "{i}: {} vs {e}",
            counts[i]
        );
    }
}

// ---------- 4.11 IPVS sh / dh ----------

proptest! {
    #![proptest_config(cases(64))]

    /// All 256 buckets assigned; with weights, destination i receives w_i
    /// buckets per fill cycle in list order (weight 0 takes one); the same
    /// source gets the same destination while the set is unchanged.
    #[test]
    fn ipvs_sh_buckets(weights in prop::collection::vec(0u32..6, 1..10), src in any::<u32>()) {
        let b = backends(&weights);
        let lb = Ipvs::new(&b, IpvsScheduler::Sh, 0);
        let buckets = lb.buckets().to_vec();
        prop_assert_eq!(buckets.len(), 256);
        let mut expected = Vec::new();
        'fill: loop {
            for (i, &w) in weights.iter().enumerate() {
                for _ in 0..w.max(1) {
                    if expected.len() == 256 { break 'fill; }
                    expected.push(i as u32);
                }
            }
        }
        prop_assert_eq!(buckets, expected);
        let mut lb = Ipvs::new(&b, IpvsScheduler::Sh, 0);
        let f = FlowKey::new(std::net::Ipv4Addr::from(src).into(), 1, "10.0.0.1".parse().unwrap(), 80, 6);
        let a = lb.pick(&Request::flow(f));
        let c = lb.pick(&Request::flow(FlowKey { src_port: 2, ..f }));
        prop_assert_eq!(a, c);
    }
}

// ---------- ClientIP affinity ----------

#[test]
fn client_ip_affinity_semantics() {
    let b = backends(&[1; 8]);
    let mut lb = ClientIpAffinity::with_backends(Random::new(&b, 4), &b, 10_000);
    let f = flow(3);
    let first = lb.pick(&Request::flow(f).at(0)).unwrap();
    // Refreshed by every new connection: stays for 10 s after the latest.
    for t in [5_000u64, 14_000, 23_000] {
        assert_eq!(
            lb.pick(
                &Request::flow(FlowKey {
                    src_port: t as u16,
                    ..f
                })
                .at(t)
            ),
            Some(first)
        );
    }
    // After the timeout a fresh random choice is made (and remembered).
    let mut changed = false;
    let mut t = 23_000;
    for _ in 0..20 {
        t += 10_001;
        let got = lb.pick(&Request::flow(f).at(t)).unwrap();
        assert_eq!(lb.pick(&Request::flow(f).at(t + 1)), Some(got));
        changed |= got != first;
    }
    assert!(changed);
    // Removing the remembered backend forgets the client.
    let now = t + 2;
    let stuck = lb.pick(&Request::flow(f).at(now)).unwrap();
    let smaller: Vec<Backend> = b
        .iter()
        .filter(|x| x.key != b[stuck].key)
        .cloned()
        .collect();
    lb.set_backends(&smaller).unwrap();
    let got = lb.pick(&Request::flow(f).at(now + 1)).unwrap();
    assert!(got < smaller.len());
    // Other clients are independent.
    assert!(lb.pick(&Request::flow(flow(99)).at(now + 2)).is_some());
}
