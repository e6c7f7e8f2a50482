//! Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4), with
//! the weighted turn rules and hash layouts of Envoy and Cilium.
//!
//! Each backend, identified by its key, gets `offset = h1(key) mod M` and
//! `skip = h2(key) mod (M-1) + 1`; its preference list is `offset + j*skip
//! (mod M)`, a permutation of the table because M is prime. Backends, sorted
//! by key, take turns claiming their next free preferred slot until all M
//! slots are filled. Weights change how often a backend takes a turn.
//!
//! The preference lists are walked on the fly (no N x M matrix) with an
//! add-and-subtract step instead of a modulo, and lookups reduce the hash
//! with a precomputed reciprocal instead of a division.

use super::hash::{murmur3_x64_128, xxhash64};
use super::{Backend, BalanceError, Balancer, FastMod, FlowHash, Request, Rng, key_hash};

/// How backends are placed: which hash gives offset and skip, and which
/// weighted turn rule fills the table. Keys are always sorted bytewise
/// first, so the table does not depend on the input order.
///
/// ```
/// use svcroute::balance::MaglevLayout;
/// let seeds = MaglevLayout::cilium_seeds("JLfvgnHc2kaSUFaI").unwrap();
/// assert_eq!(seeds.0, 0x24B7_EF82);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MaglevLayout {
    /// Envoy's `MAGLEV` policy: `offset = xxHash64(key, 0) mod M`, `skip =
    /// xxHash64(key, 1) mod (M-1) + 1`; a host takes a turn in iteration
    /// `t` (from 1) when `t * w >= target`, then `target += max weight`,
    /// with weights normalised to sum 1 in double precision, exactly as
    /// Envoy computes them. The key is the host's `"ip:port"` (or its
    /// hostname with `use_hostname_for_hashing`).
    #[default]
    Envoy,
    /// Cilium's control plane (`pkg/maglev` with weights, PR 18306, before the
    /// 2024 rewrite; the newer byte format is not reproduced): `(h1, h2)
    /// = MurmurHash3_x64_128(key, seed)`, `offset = h1 mod M`, `skip = h2 mod
    /// (M-1) + 1`; fill step `n` starts at backend `n mod N` and, when
    /// weights are in use (`sum / N > 1`), skips backends whose counter is
    /// ahead. The seed is the first four bytes of the decoded
    /// `--bpf-lb-maglev-hash-seed` ([`MaglevLayout::cilium_seeds`]).
    Cilium {
        /// MurmurHash3 seed.
        seed: u32,
    },
    /// Generic: xxHash64 with the two given seeds and Envoy's turn rule.
    XxHash64 {
        /// Seed of the offset hash.
        offset_seed: u64,
        /// Seed of the skip hash.
        skip_seed: u64,
    },
}

impl MaglevLayout {
    /// Cilium's default `--bpf-lb-maglev-hash-seed`.
    pub const CILIUM_DEFAULT_SEED: &'static str = "JLfvgnHc2kaSUFaI";

    /// Decodes a Cilium hash seed (base64 of 12 bytes) into its murmur3
    /// seed and the two datapath jhash seeds, each read big-endian.
    /// `None` if the string is not base64 of exactly 12 bytes.
    ///
    /// ```
    /// use svcroute::balance::MaglevLayout;
    /// assert!(MaglevLayout::cilium_seeds("short").is_none());
    /// let (m, _, _) = MaglevLayout::cilium_seeds(MaglevLayout::CILIUM_DEFAULT_SEED).unwrap();
    /// let layout = MaglevLayout::Cilium { seed: m };
    /// # let _ = layout;
    /// ```
    pub fn cilium_seeds(b64: &str) -> Option<(u32, u32, u32)> {
        let bytes = base64_decode(b64)?;
        if bytes.len() != 12 {
            return None;
        }
        let w = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        Some((w(0), w(4), w(8)))
    }

    fn offset_skip(&self, key: &[u8], m: u64) -> (u64, u64) {
        let (h1, h2) = match *self {
            MaglevLayout::Envoy => (xxhash64(key, 0), xxhash64(key, 1)),
            MaglevLayout::XxHash64 {
                offset_seed,
                skip_seed,
            } => (xxhash64(key, offset_seed), xxhash64(key, skip_seed)),
            MaglevLayout::Cilium { seed } => murmur3_x64_128(key, seed),
        };
        (h1 % m, h2 % (m - 1) + 1)
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Maglev parameters.
///
/// ```
/// use svcroute::balance::{MaglevConfig, MaglevLayout};
/// let cfg = MaglevConfig { table_size: 16381, layout: MaglevLayout::Cilium { seed: 1 },
///                          ..MaglevConfig::default() };
/// assert_eq!(MaglevConfig::default().table_size, 65537);
/// # let _ = cfg;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaglevConfig {
    /// Table size M: a prime, at least the number of eligible backends
    /// (default 65537, the paper's and Envoy's; Cilium defaults to 16381).
    pub table_size: u64,
    /// Placement hash and turn rule.
    pub layout: MaglevLayout,
    /// How [`Key::Flow`](super::Key::Flow) keys are hashed.
    pub flow_hash: FlowHash,
    /// Seed of the random source used for keyless picks.
    pub seed: u64,
    /// With unequal weights, order the turns by nginx's smooth weighted
    /// round robin instead of the layout's own rule: every backend then owns
    /// within 2 slots of `M * w / W` (Envoy's and Cilium's rules give each
    /// backend a free first turn, so a heavy backend among many light ones
    /// can fall up to about N slots short). Off by default, for fidelity.
    pub smooth_weights: bool,
}

impl Default for MaglevConfig {
    fn default() -> Self {
        MaglevConfig {
            table_size: 65537,
            layout: MaglevLayout::Envoy,
            flow_hash: FlowHash::Fast,
            seed: 0,
            smooth_weights: false,
        }
    }
}

/// Whether `n` is prime (deterministic Miller-Rabin for 64-bit integers).
///
/// ```
/// use svcroute::balance::Maglev;
/// assert!(Maglev::is_prime(65537));
/// assert!(!Maglev::is_prime(65535));
/// ```
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for p in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n % p == 0 {
            return n == p;
        }
    }
    let mulmod = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(n)) as u64;
    let powmod = |mut b: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, b);
            }
            b = mulmod(b, b);
            e >>= 1;
        }
        r
    };
    let mut d = n - 1;
    let mut s = 0;
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    'witness: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

const EMPTY: u32 = u32::MAX;

/// The largest table size accepted (Envoy's limit).
pub const MAX_TABLE_SIZE: u64 = 5_000_011;

/// A Maglev lookup table.
///
/// ```
/// use svcroute::balance::{Backend, Maglev, MaglevConfig};
/// let hosts = Backend::list((90..96).map(|p| format!("127.0.0.1:{p}")));
/// let cfg = MaglevConfig { table_size: 7, ..MaglevConfig::default() };
/// let lb = Maglev::new(&hosts, &cfg)?;
/// // Envoy's own unit test (maglev_lb_test.cc, "Basic") expects this table.
/// assert_eq!(lb.table(), [2, 4, 0, 1, 5, 0, 3]);
/// # Ok::<(), svcroute::balance::BalanceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Maglev {
    table: Vec<u32>,
    modulus: FastMod,
    config: MaglevConfig,
    len: usize,
    rng: Rng,
}

struct Entry {
    backend: u32,
    pos: u64,
    skip: u64,
    weight: u64,
    norm: f64,
    target: f64,
}

impl Maglev {
    /// Whether `n` is prime.
    ///
    /// ```
    /// assert!(svcroute::balance::Maglev::is_prime(16381));
    /// ```
    pub fn is_prime(n: u64) -> bool {
        is_prime(n)
    }

    /// Build the table for `backends` (weight 0 = left out).
    ///
    /// Errors: the size is not a prime >= 2 ([`BalanceError::NotPrime`]),
    /// above 5,000,011 or below the number of eligible backends
    /// ([`BalanceError::TooManyBackends`]), or two keys are equal.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Maglev, MaglevConfig};
    /// let lb = Maglev::new(&Backend::list(["a", "b"]), &MaglevConfig::default())?;
    /// assert_eq!(lb.slot_counts().iter().sum::<u64>(), 65537);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn new(backends: &[Backend], config: &MaglevConfig) -> Result<Maglev, BalanceError> {
        let m = config.table_size;
        if !is_prime(m) {
            return Err(BalanceError::NotPrime { size: m });
        }
        if m > MAX_TABLE_SIZE {
            return Err(BalanceError::InvalidParameter {
                name: "table_size",
                reason: "at most 5000011",
            });
        }
        let mut lb = Maglev {
            table: Vec::new(),
            modulus: FastMod::new(m),
            config: *config,
            len: 0,
            rng: Rng::new(config.seed),
        };
        lb.rebuild(backends)?;
        Ok(lb)
    }

    fn rebuild(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        super::check_unique(backends)?;
        let m = self.config.table_size;
        let mut order: Vec<u32> = (0..backends.len() as u32)
            .filter(|&i| backends[i as usize].weight > 0)
            .collect();
        if order.len() as u64 > m {
            return Err(BalanceError::TooManyBackends {
                backends: order.len(),
                limit: m,
            });
        }
        self.len = backends.len();
        self.table.clear();
        if order.is_empty() {
            return Ok(());
        }
        crate::order::sort_by(&mut order, |&a, &b| {
            backends[a as usize]
                .key
                .as_bytes()
                .cmp(backends[b as usize].key.as_bytes())
        });
        let sum: u64 = order
            .iter()
            .map(|&i| u64::from(backends[i as usize].weight))
            .sum();
        let mut entries: Vec<Entry> = order
            .iter()
            .map(|&i| {
                let b = &backends[i as usize];
                let (offset, skip) = self.config.layout.offset_skip(b.key.as_bytes(), m);
                Entry {
                    backend: i,
                    pos: offset,
                    skip,
                    weight: u64::from(b.weight),
                    norm: f64::from(b.weight) * 1.0 / sum as f64,
                    target: 0.0,
                }
            })
            .collect();
        self.table = vec![EMPTY; m as usize];
        let equal = entries.iter().all(|e| e.weight == entries[0].weight);
        match self.config.layout {
            _ if equal => fill_turns(&mut self.table, &mut entries, m),
            _ if self.config.smooth_weights => fill_smooth(&mut self.table, &mut entries, m),
            MaglevLayout::Cilium { .. } => fill_cilium(&mut self.table, &mut entries, m, sum),
            _ => fill_envoy(&mut self.table, &mut entries, m),
        }
        Ok(())
    }

    /// The backend for a 64-bit hash: `table[hash mod M]`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Maglev, MaglevConfig};
    /// let lb = Maglev::new(&Backend::list(["a"]), &MaglevConfig::default())?;
    /// assert_eq!(lb.lookup(12345), Some(0));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    #[inline]
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        Some(self.table[self.modulus.rem(hash) as usize] as usize)
    }

    /// The table: slot -> backend index.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Maglev, MaglevConfig};
    /// let lb = Maglev::new(&Backend::list(["a"]), &MaglevConfig { table_size: 5, ..Default::default() })?;
    /// assert_eq!(lb.table(), [0, 0, 0, 0, 0]);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn table(&self) -> &[u32] {
        &self.table
    }

    /// Slots owned by each backend index (0 for weight-0 ones).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Maglev, MaglevConfig};
    /// let lb = Maglev::new(&Backend::list(["a", "b"]), &MaglevConfig { table_size: 7, ..Default::default() })?;
    /// let c = lb.slot_counts();
    /// assert!(c == [3, 4] || c == [4, 3]);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn slot_counts(&self) -> Vec<u64> {
        let mut c = vec![0u64; self.len];
        for &b in &self.table {
            c[b as usize] += 1;
        }
        c
    }

    /// The configuration the table was built with.
    ///
    /// ```
    /// use svcroute::balance::{Maglev, MaglevConfig};
    /// let lb = Maglev::new(&[], &MaglevConfig::default())?;
    /// assert_eq!(lb.config().table_size, 65537);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn config(&self) -> &MaglevConfig {
        &self.config
    }
}

/// Claim the next free slot on `e`'s preference list.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn claim(table: &mut [u32], e: &mut Entry, m: u64) {
    let mut p = e.pos;
    while table[p as usize] != EMPTY {
        p += e.skip;
        if p >= m {
            p -= m;
        }
    }
    table[p as usize] = e.backend;
    p += e.skip;
    if p >= m {
        p -= m;
    }
    e.pos = p;
}

/// Every backend takes a turn in order (equal weights, all layouts).
fn fill_turns(table: &mut [u32], entries: &mut [Entry], m: u64) {
    let mut filled = 0u64;
    loop {
        for e in entries.iter_mut() {
            claim(table, e, m);
            filled += 1;
            if filled == m {
                return;
            }
        }
    }
}

/// Turns in nginx's smooth weighted round-robin order.
fn fill_smooth(table: &mut [u32], entries: &mut [Entry], m: u64) {
    let weights: Vec<Backend> = entries
        .iter()
        .map(|e| Backend::new(String::new(), e.weight as u32))
        .collect();
    let mut turns = super::SmoothWeighted::new(&weights);
    for _ in 0..m {
        let i = turns.next().unwrap_or(0);
        claim(table, &mut entries[i], m);
    }
}

/// Envoy's weighted turns, in the same double arithmetic as Envoy.
fn fill_envoy(table: &mut [u32], entries: &mut [Entry], m: u64) {
    let max = entries.iter().map(|e| e.norm).fold(0.0f64, f64::max);
    let mut filled = 0u64;
    let mut iteration: u32 = 1;
    while filled < m {
        for e in entries.iter_mut() {
            if filled == m {
                break;
            }
            if f64::from(iteration) * e.norm < e.target {
                continue;
            }
            e.target += max;
            claim(table, e, m);
            filled += 1;
        }
        iteration = iteration.wrapping_add(1);
    }
}

/// Cilium's weighted turns (`GetLookupTable`), counters in doubles as there.
fn fill_cilium(table: &mut [u32], entries: &mut [Entry], m: u64, sum: u64) {
    let l = entries.len() as u64;
    let weighted = sum / l > 1;
    for e in entries.iter_mut() {
        e.target = e.weight as f64 / l as f64;
    }
    for n in 0..m {
        let mut i = (n % l) as usize;
        if weighted {
            while (n + 1) * entries[i].weight < entries[i].target as u64 {
                i = (i + 1) % entries.len();
            }
            entries[i].target += sum as f64;
        }
        claim(table, &mut entries[i], m);
    }
}

impl Balancer for Maglev {
    #[inline]
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let h = key_hash(&req.key, &self.config.flow_hash, &mut self.rng);
        self.lookup(h)
    }

    /// Rebuilds the table; Maglev's construction itself limits disruption
    /// (a removed backend's slots move, plus a small share of others').
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

    fn hosts(ports: std::ops::Range<u32>) -> Vec<Backend> {
        Backend::list(ports.map(|p| format!("127.0.0.1:{p}")))
    }

    #[test]
    fn envoy_golden_basic() {
        let cfg = MaglevConfig {
            table_size: 7,
            ..MaglevConfig::default()
        };
        let lb = Maglev::new(&hosts(90..96), &cfg).unwrap();
        assert_eq!(lb.table(), [2, 4, 0, 1, 5, 0, 3]);
        // Input order does not matter.
        let mut rev = hosts(90..96);
        rev.reverse();
        let lb = Maglev::new(&rev, &cfg).unwrap();
        let t: Vec<u32> = lb.table().iter().map(|&i| 5 - i).collect();
        assert_eq!(t, [2, 4, 0, 1, 5, 0, 3]);
    }

    #[test]
    fn envoy_golden_hostnames() {
        let cfg = MaglevConfig {
            table_size: 7,
            ..MaglevConfig::default()
        };
        let lb = Maglev::new(&Backend::list((90..96).map(|p| p.to_string())), &cfg).unwrap();
        assert_eq!(lb.table(), [2, 5, 0, 3, 4, 1, 0]);
    }

    #[test]
    fn envoy_golden_weighted() {
        let cfg = MaglevConfig {
            table_size: 17,
            ..MaglevConfig::default()
        };
        let b = vec![
            Backend::new("127.0.0.1:90", 1),
            Backend::new("127.0.0.1:91", 2),
        ];
        let lb = Maglev::new(&b, &cfg).unwrap();
        assert_eq!(
            lb.table(),
            [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1]
        );
        let lb = Maglev::new(&b, &MaglevConfig::default()).unwrap();
        assert_eq!(lb.slot_counts(), [21846, 43691]);
    }

    #[test]
    fn cilium_golden_weighted() {
        let (seed, _, _) = MaglevLayout::cilium_seeds(MaglevLayout::CILIUM_DEFAULT_SEED).unwrap();
        let cfg = MaglevConfig {
            table_size: 1021,
            layout: MaglevLayout::Cilium { seed },
            ..MaglevConfig::default()
        };
        let b = vec![
            Backend::new("one", 2),
            Backend::new("three", 13),
            Backend::new("two", 111),
            Backend::new("tzwe", 10),
        ];
        let lb = Maglev::new(&b, &cfg).unwrap();
        assert_eq!(lb.slot_counts(), [16, 98, 832, 75]);
    }

    #[test]
    fn rejects_bad_sizes() {
        let b = Backend::list(["a", "b", "c"]);
        for m in [0, 1, 4, 65535] {
            let cfg = MaglevConfig {
                table_size: m,
                ..MaglevConfig::default()
            };
            assert!(matches!(
                Maglev::new(&b, &cfg),
                Err(BalanceError::NotPrime { .. })
            ));
        }
        let cfg = MaglevConfig {
            table_size: 2,
            ..MaglevConfig::default()
        };
        assert!(matches!(
            Maglev::new(&b, &cfg),
            Err(BalanceError::TooManyBackends { .. })
        ));
        assert!(is_prime(5_000_011));
        assert!(!is_prime(3_215_031_751));
    }
}
