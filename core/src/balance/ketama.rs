//! Ring hash / ketama (Karger et al.), with the point layouts of nginx's
//! `hash $key consistent` (= pingora-ketama) and of libketama (memcached).
//!
//! Points are sorted by `(hash, backend key)` and a colliding point goes to
//! the smallest key, so the ring does not depend on input order and removing
//! a backend moves only the keys it owned (nginx and pingora's default use
//! an unstable sort there, which can move a few other keys).
//!
//! Lookups find the first point at or after the key's 32-bit hash through a
//! radix index on the top bits of the hash (about one point per index
//! bucket), so a pick is O(1) expected instead of a binary search.

use super::hash::{Crc32, crc32, md5};
use super::{Backend, BalanceError, Balancer, FlowHash, Request, Rng, key_hash};

/// Which points a backend puts on the ring.
///
/// ```
/// use svcroute::balance::KetamaPoints;
/// assert_eq!(KetamaPoints::default(), KetamaPoints::Nginx);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KetamaPoints {
    /// nginx `hash ... consistent` and pingora-ketama: `160 * weight` points;
    /// the base is CRC-32 over `host`, a NUL byte and `port` (the key split
    /// at its last `:`, brackets of an IPv6 host removed); point `j` is that
    /// CRC continued with the previous point's hash as 4 little-endian bytes
    /// (starting from 0). Keys hash with CRC-32.
    #[default]
    Nginx,
    /// libketama: `floor(40 * n * w/W)` MD5 digests of `"key-i"` (computed
    /// in single precision as libketama does), four little-endian points per
    /// digest. Keys hash to the first four bytes of their MD5, little-endian.
    Libketama,
}

/// Ring parameters.
///
/// ```
/// use svcroute::balance::{KetamaConfig, KetamaPoints};
/// let cfg = KetamaConfig { points: KetamaPoints::Libketama, ..KetamaConfig::default() };
/// # let _ = cfg;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KetamaConfig {
    /// Point layout.
    pub points: KetamaPoints,
    /// How [`Key::Flow`](super::Key::Flow) keys are hashed (its low 32 bits
    /// are the ring position).
    pub flow_hash: FlowHash,
    /// Seed of the random source used for keyless picks.
    pub seed: u64,
}

/// A ketama ring.
///
/// ```
/// use svcroute::balance::{Backend, Ketama, KetamaConfig};
/// let ring = Ketama::new(&Backend::list(["127.0.0.1:7777", "127.0.0.1:7778"]),
///                        &KetamaConfig::default())?;
/// // pingora-ketama's "matches_nginx_sample" test.
/// assert_eq!(ring.lookup_bytes(b"/some/path"), Some(1));
/// assert_eq!(ring.lookup_bytes(b"/some/longer/path"), Some(0));
/// # Ok::<(), svcroute::balance::BalanceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ketama {
    hashes: Vec<u32>,
    owners: Vec<u32>,
    /// `index[j]` = first point whose hash has top bits >= j; len 2^bits + 1.
    index: Vec<u32>,
    shift: u32,
    config: KetamaConfig,
    len: usize,
    rng: Rng,
}

impl Ketama {
    /// Build the ring for `backends` (weight 0 = no points).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&[Backend::new("10.0.0.1:80", 2)], &KetamaConfig::default())?;
    /// assert_eq!(ring.point_count(), 320);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn new(backends: &[Backend], config: &KetamaConfig) -> Result<Ketama, BalanceError> {
        let mut k = Ketama {
            hashes: Vec::new(),
            owners: Vec::new(),
            index: Vec::new(),
            shift: 31,
            config: *config,
            len: 0,
            rng: Rng::new(config.seed),
        };
        k.rebuild(backends)?;
        Ok(k)
    }

    fn rebuild(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        super::check_unique(backends)?;
        self.len = backends.len();
        let mut by_key: Vec<u32> = (0..backends.len() as u32)
            .filter(|&i| backends[i as usize].weight > 0)
            .collect();
        crate::order::sort_by(&mut by_key, |&a, &b| {
            backends[a as usize].key.cmp(&backends[b as usize].key)
        });
        // Composite sort key: hash in the high half, key rank in the low half.
        let mut points: Vec<u64> = Vec::new();
        let total: u64 = by_key
            .iter()
            .map(|&i| u64::from(backends[i as usize].weight))
            .sum();
        for (rank, &i) in by_key.iter().enumerate() {
            let b = &backends[i as usize];
            let mut push = |h: u32| points.push((u64::from(h) << 32) | rank as u64);
            match self.config.points {
                KetamaPoints::Nginx => nginx_points(&b.key, b.weight, &mut push),
                KetamaPoints::Libketama => {
                    libketama_points(&b.key, b.weight, total, by_key.len(), &mut push)
                }
            }
        }
        // Points were pushed in rank order, so a stable sort on the hash
        // alone gives the (hash, rank) order.
        sort_points(&mut points);
        points.dedup_by_key(|p| *p >> 32);
        self.hashes = points.iter().map(|&p| (p >> 32) as u32).collect();
        self.owners = points
            .iter()
            .map(|&p| by_key[(p & 0xFFFF_FFFF) as usize])
            .collect();
        // Radix index with about one point per bucket.
        let bits = (usize::BITS - self.hashes.len().max(2).next_power_of_two().leading_zeros() - 1)
            .clamp(1, 24);
        self.shift = 32 - bits;
        let buckets = 1usize << bits;
        self.index = vec![0; buckets + 1];
        let mut p = 0usize;
        for (j, slot) in self.index.iter_mut().enumerate() {
            while p < self.hashes.len() && ((self.hashes[p] >> self.shift) as usize) < j {
                p += 1;
            }
            *slot = p as u32;
        }
        self.index[buckets] = self.hashes.len() as u32;
        Ok(())
    }

    /// Number of distinct points on the ring.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&Backend::list(["a:1", "b:1"]), &KetamaConfig::default())?;
    /// assert!(ring.point_count() <= 320);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn point_count(&self) -> usize {
        self.hashes.len()
    }

    /// The exact share of the 2^32 key space each backend index owns (the
    /// arcs ending at its points).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&Backend::list(["a:1", "b:1"]), &KetamaConfig::default())?;
    /// let s = ring.shares();
    /// assert!((s[0] + s[1] - 1.0).abs() < 1e-12);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn shares(&self) -> Vec<f64> {
        let mut owned = vec![0u64; self.len];
        let n = self.hashes.len();
        for p in 0..n {
            let prev = if p == 0 {
                u64::from(self.hashes[n - 1]) as i128 - (1i128 << 32)
            } else {
                i128::from(self.hashes[p - 1])
            };
            owned[self.owners[p] as usize] += (i128::from(self.hashes[p]) - prev) as u64;
        }
        owned
            .iter()
            .map(|&o| o as f64 / (1u64 << 32) as f64)
            .collect()
    }

    /// The position of the first point at or after `h` (wrapping), if any.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn point_at(&self, h: u32) -> Option<usize> {
        if self.hashes.is_empty() {
            return None;
        }
        let j = (h >> self.shift) as usize;
        let mut p = self.index[j] as usize;
        let end = self.index[j + 1] as usize;
        while p < end && self.hashes[p] < h {
            p += 1;
        }
        Some(if p == self.hashes.len() { 0 } else { p })
    }

    /// The backend owning ring position `h` (the first point at or after it,
    /// wrapping to the first point).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&Backend::list(["a:1"]), &KetamaConfig::default())?;
    /// assert_eq!(ring.lookup(u32::MAX), Some(0));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    #[inline]
    pub fn lookup(&self, h: u32) -> Option<usize> {
        self.point_at(h).map(|p| self.owners[p] as usize)
    }

    /// The backend for a byte key hashed the way the layout's origin does
    /// (CRC-32 for nginx/pingora, MD5 for libketama): the same answer as
    /// nginx's `hash $key consistent` or pingora's `Continuum::node`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&Backend::list(["127.0.0.1:7777", "127.0.0.1:7778"]),
    ///                        &KetamaConfig::default())?;
    /// assert_eq!(ring.lookup_bytes(b"/g"), Some(0));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    #[inline]
    pub fn lookup_bytes(&self, key: &[u8]) -> Option<usize> {
        self.lookup(self.key_position(key))
    }

    /// The ring position of a byte key under this layout's key hash.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig, hash::crc32};
    /// let ring = Ketama::new(&[], &KetamaConfig::default())?;
    /// assert_eq!(ring.key_position(b"x"), crc32(b"x"));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    #[inline]
    pub fn key_position(&self, key: &[u8]) -> u32 {
        match self.config.points {
            KetamaPoints::Nginx => crc32(key),
            KetamaPoints::Libketama => {
                let d = md5(key);
                u32::from_le_bytes([d[0], d[1], d[2], d[3]])
            }
        }
    }

    /// Backends in ring order starting at the owner of `h`: the failover
    /// walk (repeats allowed, as nginx and pingora walk points).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ketama, KetamaConfig};
    /// let ring = Ketama::new(&Backend::list(["a:1", "b:1"]), &KetamaConfig::default())?;
    /// assert_eq!(ring.walk(7).take(3).count(), 3);
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn walk(&self, h: u32) -> impl Iterator<Item = usize> + '_ {
        let start = self.point_at(h).unwrap_or(0);
        let n = self.hashes.len();
        (0..n).map(move |k| self.owners[(start + k) % n] as usize)
    }
}

/// Sorts composite points (hash in the high half, key rank in the low half,
/// pushed in rank order) by `(hash, rank)`: an LSD radix sort on the hash,
/// three stable passes of 11 bits, for large rings; `sort_unstable` below.
fn sort_points(points: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    if points.len() < 4096 {
        points.sort_unstable();
        return;
    }
    let mut out = vec![0u64; points.len()];
    for shift in [32, 32 + BITS, 32 + 2 * BITS] {
        let digit = |p: u64| ((p >> shift) as usize) & (BUCKETS - 1);
        let mut start = vec![0usize; BUCKETS];
        for &p in points.iter() {
            start[digit(p)] += 1;
        }
        let mut sum = 0;
        for c in start.iter_mut() {
            let count = *c;
            *c = sum;
            sum += count;
        }
        for &p in points.iter() {
            let d = digit(p);
            out[start[d]] = p;
            start[d] += 1;
        }
        std::mem::swap(points, &mut out);
    }
}

/// Splits `ip:port` / `[v6]:port` into host and port text.
fn split_host_port(key: &str) -> (&str, &str) {
    match key.rfind(':') {
        Some(c) if key.starts_with('[') || !key[..c].contains(':') => {
            let host = &key[..c];
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            (host, &key[c + 1..])
        }
        _ => (key, ""),
    }
}

fn nginx_points(key: &str, weight: u32, push: &mut impl FnMut(u32)) {
    let (host, port) = split_host_port(key);
    let mut base = Crc32::new();
    base.update(host.as_bytes());
    base.update(b"\0");
    base.update(port.as_bytes());
    let mut prev: u32 = 0;
    for _ in 0..u64::from(weight) * 160 {
        let mut c = base;
        c.update(&prev.to_le_bytes());
        prev = c.finish();
        push(prev);
    }
}

fn libketama_points(key: &str, weight: u32, total: u64, n: usize, push: &mut impl FnMut(u32)) {
    let pct = weight as f32 / total as f32;
    let ks = (f64::from(pct) * 40.0 * f64::from(n as f32)) as f32;
    let ks = ks.floor() as u32;
    let mut buf = String::with_capacity(key.len() + 12);
    for k in 0..ks {
        buf.clear();
        buf.push_str(key);
        buf.push('-');
        buf.push_str(&k.to_string());
        let d = md5(buf.as_bytes());
        for h in 0..4 {
            push(u32::from_le_bytes([
                d[h * 4],
                d[h * 4 + 1],
                d[h * 4 + 2],
                d[h * 4 + 3],
            ]));
        }
    }
}

impl Balancer for Ketama {
    #[inline]
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let h = key_hash(&req.key, &self.config.flow_hash, &mut self.rng);
        self.lookup(h as u32)
    }

    /// Rebuilds the ring; only the keys of removed backends move, and only
    /// keys won by added backends move to them.
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

    fn ring(keys: &[&str]) -> Ketama {
        Ketama::new(
            &Backend::list(keys.iter().copied()),
            &KetamaConfig::default(),
        )
        .unwrap()
    }

    #[test]
    fn pingora_nginx_samples() {
        let r = ring(&["127.0.0.1:7777", "127.0.0.1:7778"]);
        for (k, want) in [
            ("/some/path", 1),
            ("/some/longer/path", 0),
            ("/sad/zaidoon", 1),
            ("/g", 0),
            ("/pingora/team/is/cool/and/this/is/a/long/uri", 1),
            ("/i/am/not/confident/in/this/code", 0),
        ] {
            assert_eq!(r.lookup_bytes(k.as_bytes()), Some(want), "{k}");
        }
    }

    #[test]
    fn pingora_consistency_after_adding_host() {
        let keys: Vec<String> = (1..11).map(|u| format!("127.0.0.{u}:6443")).collect();
        let r = Ketama::new(&Backend::list(keys.clone()), &KetamaConfig::default()).unwrap();
        assert_eq!(keys[r.lookup_bytes(b"a").unwrap()], "127.0.0.10:6443");
        assert_eq!(keys[r.lookup_bytes(b"b").unwrap()], "127.0.0.5:6443");
    }

    #[test]
    fn pingora_walk_and_ipv6() {
        let keys = ["127.0.0.1:7777", "127.0.0.1:7778", "127.0.0.1:7779"];
        let r = ring(&keys);
        let h = crc32(b"doghash");
        let got: Vec<&str> = r.walk(h).take(8).map(|i| keys[i]).collect();
        assert_eq!(
            got,
            [
                "127.0.0.1:7778",
                "127.0.0.1:7779",
                "127.0.0.1:7779",
                "127.0.0.1:7777",
                "127.0.0.1:7777",
                "127.0.0.1:7778",
                "127.0.0.1:7778",
                "127.0.0.1:7779"
            ]
        );
        let keys = ["[::1]:7777", "[::1]:7778", "[::1]:7779"];
        let r = ring(&keys);
        let got: Vec<&str> = r.walk(h).take(7).map(|i| keys[i]).collect();
        assert_eq!(
            got,
            [
                "[::1]:7777",
                "[::1]:7778",
                "[::1]:7777",
                "[::1]:7778",
                "[::1]:7778",
                "[::1]:7777",
                "[::1]:7779"
            ]
        );
    }

    #[test]
    fn index_agrees_with_binary_search() {
        let keys: Vec<String> = (0..37).map(|i| format!("10.0.{i}.1:80")).collect();
        let r = Ketama::new(&Backend::list(keys), &KetamaConfig::default()).unwrap();
        let mut rng = Rng::new(5);
        for _ in 0..20_000 {
            let h = rng.next_u64() as u32;
            let p = r.hashes.partition_point(|&x| x < h);
            let p = if p == r.hashes.len() { 0 } else { p };
            assert_eq!(r.point_at(h), Some(p));
        }
        for h in [0, u32::MAX, r.hashes[0], *r.hashes.last().unwrap()] {
            let p = r.hashes.partition_point(|&x| x < h);
            let p = if p == r.hashes.len() { 0 } else { p };
            assert_eq!(r.point_at(h), Some(p));
        }
    }

    #[test]
    fn radix_sort_orders_by_hash_then_rank() {
        let mut rng = Rng::new(9);
        let mut points: Vec<u64> = Vec::new();
        for rank in 0..50u64 {
            for _ in 0..200 {
                // Few distinct hashes, so that ties between ranks occur.
                let h = ((rng.next_u64() >> 52) << 20) | (rng.next_u64() & 3);
                points.push((h << 32) | rank);
            }
        }
        let mut want = points.clone();
        want.sort_unstable();
        sort_points(&mut points);
        assert_eq!(points, want);
    }

    #[test]
    fn libketama_point_count() {
        let r = Ketama::new(
            &Backend::list(["10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11211"]),
            &KetamaConfig {
                points: KetamaPoints::Libketama,
                ..KetamaConfig::default()
            },
        )
        .unwrap();
        assert_eq!(r.point_count(), 3 * 160);
    }
}
