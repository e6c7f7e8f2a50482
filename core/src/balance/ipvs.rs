//! The Linux IPVS schedulers, modelled on `net/netfilter/ipvs/ip_vs_*.c`.

use super::hash::{hash_32, hsiphash_u32};
use super::{Backend, BalanceError, Balancer, Event, Key, Request, Rng};
use std::net::IpAddr;

/// An IPVS scheduler, by its `ipvsadm -s` name.
///
/// ```
/// use svcroute::balance::IpvsScheduler;
/// assert_eq!(IpvsScheduler::parse("wlc"), Some(IpvsScheduler::Wlc));
/// assert_eq!(IpvsScheduler::Wlc.name(), "wlc");
/// assert_eq!(IpvsScheduler::default(), IpvsScheduler::Rr);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IpvsScheduler {
    /// Round robin (kube-proxy's default).
    #[default]
    Rr,
    /// Weighted round robin (interleaved, gcd stepping).
    Wrr,
    /// Least connections: `256 * active + inactive`.
    Lc,
    /// Weighted least connections: `(256 * active + inactive) / weight`.
    Wlc,
    /// Shortest expected delay: `(active + 1) / weight`.
    Sed,
    /// Never queue: an idle server if any, else `sed`.
    Nq,
    /// Source hashing: 256 buckets keyed by `hash_32` of the source address.
    Sh,
    /// Destination hashing: 256 buckets keyed by the destination address.
    Dh,
    /// Maglev hashing of the source address (kernel table of 4093 slots,
    /// `hsiphash` placement).
    Mh,
}

impl IpvsScheduler {
    /// All schedulers.
    pub const ALL: [IpvsScheduler; 9] = [
        IpvsScheduler::Rr,
        IpvsScheduler::Wrr,
        IpvsScheduler::Lc,
        IpvsScheduler::Wlc,
        IpvsScheduler::Sed,
        IpvsScheduler::Nq,
        IpvsScheduler::Sh,
        IpvsScheduler::Dh,
        IpvsScheduler::Mh,
    ];

    /// The `ipvsadm` name.
    ///
    /// ```
    /// assert_eq!(svcroute::balance::IpvsScheduler::Mh.name(), "mh");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            IpvsScheduler::Rr => "rr",
            IpvsScheduler::Wrr => "wrr",
            IpvsScheduler::Lc => "lc",
            IpvsScheduler::Wlc => "wlc",
            IpvsScheduler::Sed => "sed",
            IpvsScheduler::Nq => "nq",
            IpvsScheduler::Sh => "sh",
            IpvsScheduler::Dh => "dh",
            IpvsScheduler::Mh => "mh",
        }
    }

    /// The scheduler with this `ipvsadm` name.
    ///
    /// ```
    /// assert!(svcroute::balance::IpvsScheduler::parse("lblc").is_none());
    /// ```
    pub fn parse(name: &str) -> Option<IpvsScheduler> {
        IpvsScheduler::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Dest {
    weight: u32,
    active: u32,
    inactive: u32,
    overloaded: bool,
}

impl Dest {
    fn usable(&self) -> bool {
        self.weight > 0 && !self.overloaded
    }
}

const TAB: usize = 256;
/// The `mh` table size (kernel default, `CONFIG_IP_VS_MH_TAB_INDEX` 12).
pub const MH_TABLE_SIZE: u64 = 4093;

/// An IPVS virtual service: its real servers (the backends, in list order,
/// which is the kernel's destination list order), their connection counters
/// and the chosen scheduler.
///
/// Counters follow [`Event::Opened`] (active + 1) and [`Event::Closed`]
/// (active - 1, inactive + 1: the connection lingers in TIME_WAIT); exact
/// values can be set with [`Ipvs::set_counters`], overload flags with
/// [`Ipvs::set_overloaded`].
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Event, Ipvs, IpvsScheduler, Request};
/// let mut lb = Ipvs::new(&Backend::list(["a", "b"]), IpvsScheduler::Lc, 0);
/// let first = lb.pick(&Request::none()).unwrap();
/// lb.observe(Event::Opened(first));
/// assert_ne!(lb.pick(&Request::none()), Some(first));
/// ```
#[derive(Debug, Clone)]
pub struct Ipvs {
    scheduler: IpvsScheduler,
    dests: Vec<Dest>,
    keys: Vec<String>,
    /// rr/wrr position: last chosen destination, `None` = list head.
    cursor: Option<usize>,
    cw: i64,
    mw: i64,
    di: i64,
    buckets: Vec<u32>,
    /// `mh` lookup table (destination index per slot), empty when no
    /// destination has weight.
    mh: Vec<u32>,
    sh_port: bool,
    fallback: bool,
    rng: Rng,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The kernel's address fold: IPv4 as a host-order word, IPv6 as the XOR of
/// its four words.
fn fold(ip: &IpAddr) -> u32 {
    match ip {
        IpAddr::V4(a) => u32::from(*a),
        IpAddr::V6(a) => {
            let o = a.octets();
            (0..4).fold(0u32, |x, k| {
                x ^ u32::from_be_bytes([o[4 * k], o[4 * k + 1], o[4 * k + 2], o[4 * k + 3]])
            })
        }
    }
}

impl Ipvs {
    /// A virtual service over `backends` with `scheduler`; `seed` drives
    /// keyless picks of the hashing schedulers.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ipvs, IpvsScheduler};
    /// let lb = Ipvs::new(&Backend::list(["a"]), IpvsScheduler::Sh, 0);
    /// assert_eq!(lb.scheduler(), IpvsScheduler::Sh);
    /// ```
    pub fn new(backends: &[Backend], scheduler: IpvsScheduler, seed: u64) -> Ipvs {
        let mut lb = Ipvs {
            scheduler,
            dests: Vec::new(),
            keys: Vec::new(),
            cursor: None,
            cw: 0,
            mw: 0,
            di: 1,
            buckets: Vec::new(),
            mh: Vec::new(),
            sh_port: false,
            fallback: false,
            rng: Rng::new(seed),
        };
        lb.install(backends, true);
        lb
    }

    /// The `sh-port`/`mh-port` flag (hash the source port too) and the
    /// `sh-fallback`/`mh-fallback` flag (probe other buckets when the
    /// hashed destination is unavailable).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ipvs, IpvsScheduler};
    /// let lb = Ipvs::new(&Backend::list(["a"]), IpvsScheduler::Sh, 0).with_flags(true, true);
    /// # let _ = lb;
    /// ```
    pub fn with_flags(mut self, port: bool, fallback: bool) -> Ipvs {
        self.sh_port = port;
        self.fallback = fallback;
        self
    }

    /// The scheduler.
    ///
    /// ```
    /// use svcroute::balance::{Ipvs, IpvsScheduler};
    /// assert_eq!(Ipvs::new(&[], IpvsScheduler::Nq, 0).scheduler(), IpvsScheduler::Nq);
    /// ```
    pub fn scheduler(&self) -> IpvsScheduler {
        self.scheduler
    }

    /// Set a destination's active and inactive connection counters.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Balancer, Ipvs, IpvsScheduler, Request};
    /// let mut lb = Ipvs::new(&Backend::list(["a", "b"]), IpvsScheduler::Lc, 0);
    /// lb.set_counters(0, 1, 0)?;
    /// assert_eq!(lb.pick(&Request::none()), Some(1));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn set_counters(
        &mut self,
        backend: usize,
        active: u32,
        inactive: u32,
    ) -> Result<(), BalanceError> {
        let d = self
            .dests
            .get_mut(backend)
            .ok_or(BalanceError::NoSuchBackend(backend))?;
        d.active = active;
        d.inactive = inactive;
        Ok(())
    }

    /// Mark a destination overloaded (its upper connection threshold hit).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Balancer, Ipvs, IpvsScheduler, Request};
    /// let mut lb = Ipvs::new(&Backend::list(["a", "b"]), IpvsScheduler::Rr, 0);
    /// lb.set_overloaded(0, true)?;
    /// assert_eq!(lb.pick(&Request::none()), Some(1));
    /// assert_eq!(lb.pick(&Request::none()), Some(1));
    /// # Ok::<(), svcroute::balance::BalanceError>(())
    /// ```
    pub fn set_overloaded(&mut self, backend: usize, overloaded: bool) -> Result<(), BalanceError> {
        self.dests
            .get_mut(backend)
            .ok_or(BalanceError::NoSuchBackend(backend))?
            .overloaded = overloaded;
        Ok(())
    }

    /// The 256-bucket table of `sh`/`dh` (destination index per bucket).
    ///
    /// ```
    /// use svcroute::balance::{Backend, Ipvs, IpvsScheduler};
    /// let lb = Ipvs::new(&[Backend::new("a", 2), Backend::new("b", 1)], IpvsScheduler::Sh, 0);
    /// assert_eq!(&lb.buckets()[..4], &[0, 0, 1, 0]);
    /// ```
    pub fn buckets(&self) -> &[u32] {
        &self.buckets
    }

    fn install(&mut self, backends: &[Backend], fresh: bool) {
        let old = super::key_index::KeyIndex::of_keys(&self.keys);
        let dests: Vec<Dest> = backends
            .iter()
            .map(|b| {
                let prev = old
                    .get(&b.key)
                    .and_then(|i| self.dests.get(i as usize).copied())
                    .unwrap_or_default();
                Dest {
                    weight: b.weight,
                    ..prev
                }
            })
            .collect();
        self.dests = dests;
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        // wrr marks (ip_vs_wrr_init_svc / ip_vs_wrr_dest_changed).
        self.cursor = None;
        let g = self
            .dests
            .iter()
            .map(|d| i64::from(d.weight))
            .filter(|&w| w > 0)
            .fold(0, gcd);
        self.di = if g > 0 { g } else { 1 };
        let max = self
            .dests
            .iter()
            .map(|d| i64::from(d.weight))
            .max()
            .unwrap_or(0);
        self.mw = max - (self.di - 1);
        if fresh || self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
        // sh/dh tables (ip_vs_sh_reassign / ip_vs_dh_reassign).
        self.buckets.clear();
        if !self.dests.is_empty() {
            let n = self.dests.len();
            let (mut p, mut count) = (0usize, 0u32);
            for _ in 0..TAB {
                self.buckets.push(p as u32);
                count += 1;
                let moves = match self.scheduler {
                    IpvsScheduler::Sh => count >= self.dests[p].weight,
                    _ => true,
                };
                if moves {
                    p = (p + 1) % n;
                    count = 0;
                }
            }
        }
        self.mh.clear();
        if self.scheduler == IpvsScheduler::Mh {
            self.mh = mh_table(backends);
        }
    }

    fn rr(&mut self) -> Option<usize> {
        let n = self.dests.len();
        let start = self.cursor.map_or(0, |c| c + 1);
        for k in 0..n {
            let i = (start + k) % n;
            if self.dests[i].usable() {
                self.cursor = Some(i);
                return Some(i);
            }
        }
        None
    }

    fn wrr(&mut self) -> Option<usize> {
        if self.mw <= 0 {
            return None;
        }
        let n = self.dests.len();
        let last = self.cursor;
        let mut pos = self.cursor;
        let mut stop: Option<usize> = None;
        let (mut last_pass, mut restarted) = (false, false);
        loop {
            let start = pos.map_or(0, |p| p + 1);
            for i in start..n {
                let d = &self.dests[i];
                if !d.overloaded && i64::from(d.weight) >= self.cw {
                    self.cursor = Some(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    self.cursor = Some(i);
                    return None;
                }
            }
            pos = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cursor = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                stop = last;
            }
        }
    }

    /// lc / wlc / sed / nq: first destination of least cost, compared by
    /// cross-multiplication as the kernel does.
    fn least(&self) -> Option<usize> {
        let overhead = |d: &Dest| -> i64 {
            match self.scheduler {
                IpvsScheduler::Lc | IpvsScheduler::Wlc => {
                    (i64::from(d.active) << 8) + i64::from(d.inactive)
                }
                _ => i64::from(d.active) + 1,
            }
        };
        let mut least: Option<usize> = None;
        for (i, d) in self.dests.iter().enumerate() {
            if !d.usable() {
                continue;
            }
            if self.scheduler == IpvsScheduler::Nq && d.active == 0 {
                return Some(i);
            }
            let Some(l) = least else {
                least = Some(i);
                continue;
            };
            let ld = &self.dests[l];
            let better = match self.scheduler {
                IpvsScheduler::Lc => overhead(d) < overhead(ld),
                _ => overhead(ld) * i64::from(d.weight) > overhead(d) * i64::from(ld.weight),
            };
            if better {
                least = Some(i);
            }
        }
        least
    }

    fn hashed(&mut self, key: &Key) -> Option<usize> {
        if self.dests.is_empty() {
            return None;
        }
        let word = match (key, self.scheduler) {
            (Key::Flow(f), IpvsScheduler::Dh) => fold(&f.dst),
            (Key::Flow(f), _) => {
                let port = if self.sh_port {
                    u32::from(f.src_port)
                } else {
                    0
                };
                fold(&f.src).wrapping_add(port)
            }
            (Key::Hash(h), _) => *h as u32,
            (Key::None, _) => self.rng.next_u64() as u32,
        };
        if self.scheduler == IpvsScheduler::Mh {
            if self.mh.is_empty() {
                return None;
            }
            let m = MH_TABLE_SIZE as u32;
            let slot = |offset: u32| hsiphash_u32(offset.wrapping_add(word), MH_KEY1, MH_KEY1) % m;
            let ihash = slot(0);
            let i = self.mh[ihash as usize] as usize;
            if self.dests[i].usable() {
                return Some(i);
            }
            if !self.fallback {
                return None;
            }
            // ip_vs_mh_get_fallback: rehash with offsets from ihash on.
            for offset in 0..m {
                let i = self.mh[slot((offset + ihash) % m) as usize] as usize;
                if self.dests[i].usable() {
                    return Some(i);
                }
            }
            return None;
        }
        let bucket = hash_32(word, 8) as usize;
        let i = self.buckets[bucket] as usize;
        if self.dests[i].usable() {
            return Some(i);
        }
        if self.scheduler == IpvsScheduler::Sh && self.fallback {
            for off in 0..TAB as u32 {
                let b = (hash_32(word, 8) + (off + bucket as u32) % TAB as u32) as usize % TAB;
                let i = self.buckets[b] as usize;
                if self.dests[i].usable() {
                    return Some(i);
                }
            }
        }
        None
    }
}

/// The `hsiphash` keys of `ip_vs_mh` (`generate_hash_secret`).
const MH_KEY1: u64 = 2_654_435_761;
const MH_KEY2: u64 = 2_654_446_892;
/// `IP_VS_MH_TAB_BITS` for the default table index 12.
const MH_TAB_BITS: u32 = 6;

/// The word `ip_vs_mh_hashkey` hashes for a destination key `ip:port`
/// (`port + ntohl(addr_fold)`); keys that are not socket addresses hash
/// their bytes instead.
fn mh_dest_word(key: &str) -> u32 {
    match key.parse::<std::net::SocketAddr>() {
        Ok(sa) => u32::from(sa.port()).wrapping_add(fold(&sa.ip())),
        Err(_) => super::hash::xxhash64(key.as_bytes(), 0) as u32,
    }
}

/// `ip_vs_mh_permutate` + `ip_vs_mh_populate`: destinations in list order
/// take `turns = (w / gcd) >> rshift` (at least 1) consecutive claims each.
fn mh_table(backends: &[Backend]) -> Vec<u32> {
    let m = MH_TABLE_SIZE;
    let g = backends
        .iter()
        .map(|b| i64::from(b.weight))
        .filter(|&w| w > 0)
        .fold(0, gcd);
    if g < 1 || backends.len() as u64 > m {
        return Vec::new();
    }
    let mw = backends
        .iter()
        .map(|b| i64::from(b.weight))
        .max()
        .unwrap_or(0)
        / g;
    let fls = 64 - (mw as u64).leading_zeros();
    let rshift = fls.saturating_sub(MH_TAB_BITS);
    struct Setup {
        perm: u64,
        skip: u64,
        turns: i64,
    }
    let mut setup: Vec<Setup> = backends
        .iter()
        .map(|b| {
            let w = mh_dest_word(&b.key);
            let offset = u64::from(hsiphash_u32(w, MH_KEY1, MH_KEY1)) % m;
            let skip = u64::from(hsiphash_u32(w, MH_KEY2, MH_KEY2)) % (m - 1) + 1;
            let lw = i64::from(b.weight);
            let t = (lw / g) >> rshift;
            Setup {
                perm: offset,
                skip,
                turns: if t != 0 { t } else { i64::from(lw != 0) },
            }
        })
        .collect();
    let mut table = vec![u32::MAX; m as usize];
    let mut n = 0u64;
    let mut dt_count = 0i64;
    loop {
        let mut d = 0usize;
        while d < setup.len() {
            let ds = &mut setup[d];
            if ds.turns < 1 {
                d += 1;
                continue;
            }
            while table[ds.perm as usize] != u32::MAX {
                ds.perm += ds.skip;
                if ds.perm >= m {
                    ds.perm -= m;
                }
            }
            table[ds.perm as usize] = d as u32;
            n += 1;
            if n == m {
                return table;
            }
            dt_count += 1;
            if dt_count >= ds.turns {
                dt_count = 0;
                d += 1;
            }
        }
    }
}

impl Balancer for Ipvs {
    fn pick(&mut self, req: &Request) -> Option<usize> {
        match self.scheduler {
            IpvsScheduler::Rr => self.rr(),
            IpvsScheduler::Wrr => self.wrr(),
            IpvsScheduler::Lc | IpvsScheduler::Wlc | IpvsScheduler::Sed | IpvsScheduler::Nq => {
                self.least()
            }
            IpvsScheduler::Sh | IpvsScheduler::Dh | IpvsScheduler::Mh => self.hashed(&req.key),
        }
    }

    fn observe(&mut self, event: Event) {
        match event {
            Event::Opened(i) => {
                if let Some(d) = self.dests.get_mut(i) {
                    d.active += 1;
                }
            }
            Event::Closed(i) => {
                if let Some(d) = self.dests.get_mut(i) {
                    d.active = d.active.saturating_sub(1);
                    d.inactive += 1;
                }
            }
            Event::Latency { .. } => {}
        }
    }

    /// Counters and overload flags carry over by key; `wrr` restarts at the
    /// list head with its current weight adjusted as the kernel does;
    /// `sh`/`dh` refill their buckets (not consistent: most sources move),
    /// `mh` rebuilds its Maglev table (consistent: mostly only the removed
    /// destination's slots move).
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.install(backends, false);
        Ok(())
    }

    fn len(&self) -> usize {
        self.dests.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(lb: &mut Ipvs, n: usize) -> Vec<usize> {
        (0..n).map_while(|_| lb.pick(&Request::none())).collect()
    }

    #[test]
    fn wrr_interleaves_like_lvs() {
        // Weights 4, 3, 2: cw = 4: a; 3: a b; 2: a b c; 1: a b c.
        let b = [
            Backend::new("a", 4),
            Backend::new("b", 3),
            Backend::new("c", 2),
        ];
        let mut lb = Ipvs::new(&b, IpvsScheduler::Wrr, 0);
        assert_eq!(picks(&mut lb, 9), [0, 0, 1, 0, 1, 2, 0, 1, 2]);
        assert_eq!(picks(&mut lb, 9), [0, 0, 1, 0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn wrr_gcd_steps() {
        let b = [Backend::new("a", 4), Backend::new("b", 2)];
        let mut lb = Ipvs::new(&b, IpvsScheduler::Wrr, 0);
        // di = 2, mw = 3: cw 3 -> a; cw 1 -> a b.
        assert_eq!(picks(&mut lb, 6), [0, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn weight_zero_never_chosen() {
        let b = [Backend::new("a", 0), Backend::new("b", 1)];
        for s in IpvsScheduler::ALL {
            let mut lb = Ipvs::new(&b, s, 0).with_flags(false, true);
            for _ in 0..20 {
                let got = lb.pick(&Request::none());
                if s == IpvsScheduler::Dh {
                    // dh has no fallback: a bucket of "a" finds no server.
                    assert_ne!(got, Some(0));
                } else {
                    assert_eq!(got, Some(1), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn nq_prefers_idle_then_sed() {
        let b = [
            Backend::new("a", 1),
            Backend::new("b", 3),
            Backend::new("c", 1),
        ];
        let mut lb = Ipvs::new(&b, IpvsScheduler::Nq, 0);
        lb.set_counters(0, 2, 0).unwrap();
        lb.set_counters(1, 3, 0).unwrap();
        assert_eq!(lb.pick(&Request::none()), Some(2));
        lb.set_counters(2, 1, 0).unwrap();
        // sed: (2+1)/1 = 3, (3+1)/3 = 1.33, (1+1)/1 = 2 -> b.
        assert_eq!(lb.pick(&Request::none()), Some(1));
    }

    #[test]
    fn mh_balance_weights_and_disruption() {
        let b = Backend::list((1..=7).map(|i| format!("10.0.0.{i}:80")));
        let t = mh_table(&b);
        let mut c = [0u32; 7];
        for &i in &t {
            c[i as usize] += 1;
        }
        assert!(c.iter().all(|&x| x == 584 || x == 585), "{c:?}");
        // Weight 2 takes two consecutive turns: about twice the slots.
        let mut w = b.clone();
        w[0].weight = 2;
        let mut c = [0u32; 7];
        for &i in &mh_table(&w) {
            c[i as usize] += 1;
        }
        assert!((c[0] as i64 - 2 * c[1] as i64).abs() <= 2, "{c:?}");
        // Removing the last destination moves its slots and few others.
        let smaller = mh_table(&b[..6]);
        let moved = t
            .iter()
            .zip(&smaller)
            .filter(|(x, y)| **x != 6 && x != y)
            .count();
        assert!(moved < 4093 / 20, "{moved}");
        // Same source, same destination; sources spread over all.
        let mut lb = Ipvs::new(&b, IpvsScheduler::Mh, 0);
        let mut seen = [false; 7];
        for s in 0..200u32 {
            let f = super::super::FlowKey::new(
                std::net::Ipv4Addr::from(0x0A01_0000 + s).into(),
                1,
                "10.96.0.1".parse().unwrap(),
                80,
                6,
            );
            let a = lb.pick(&Request::flow(f)).unwrap();
            assert_eq!(lb.pick(&Request::flow(f)), Some(a));
            seen[a] = true;
        }
        assert!(seen.iter().all(|&x| x));
    }

    #[test]
    fn sh_fill_by_weight() {
        let b = [
            Backend::new("a", 3),
            Backend::new("b", 0),
            Backend::new("c", 1),
        ];
        let lb = Ipvs::new(&b, IpvsScheduler::Sh, 0);
        assert_eq!(&lb.buckets()[..10], &[0, 0, 0, 1, 2, 0, 0, 0, 1, 2]);
    }
}
