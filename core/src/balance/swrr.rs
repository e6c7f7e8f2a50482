//! nginx's smooth weighted round robin, exact sequence, without the O(n)
//! scan per pick.
//!
//! nginx keeps a `current` value per peer; each pick adds every peer's weight
//! to its `current`, takes the largest (first in list order on ties) and
//! subtracts the total weight `W` from it. With static weights, after `t`
//! picks of which peer `i` won `c_i`, its value is `t*w_i - W*c_i`.
//!
//! Peers of equal weight are interchangeable except for list order: among
//! them the one with the fewest wins (then the lowest index) has the largest
//! value, and they win in index order, cyclically. So peers are grouped by
//! weight; each group is one candidate line `w*(t+1) - W*floor(k/m)` (k = wins
//! of the group, m = its size) whose next winner is member `k mod m`. A pick
//! takes the best group, which costs O(G) for G distinct weights with a scan,
//! or O(log G) amortised with a kinetic tournament tree when G is large. The
//! state repeats after W picks (every value is 0 again), so counters reset
//! then and never overflow.

use super::{Backend, BalanceError, Balancer, Request};

#[derive(Debug, Clone)]
struct Group {
    weight: u64,
    members: Vec<u32>,
    /// Wins of this group in the current period.
    wins: u64,
    /// `wins / members.len()`, kept incrementally.
    rounds: u64,
    /// `wins % members.len()`, kept incrementally.
    next: usize,
    /// `weight * (t + 1) - W * rounds`, kept incrementally for the scan.
    current: i64,
}

impl Group {
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn value(&self, t: u64, total: u64) -> i128 {
        // Values stay within (-W, W] but t*w can reach W*maxw; use i128.
        i128::from(self.weight) * i128::from(t) - i128::from(total) * i128::from(self.rounds)
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn candidate(&self) -> u32 {
        self.members[self.next]
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn win(&mut self) {
        self.wins += 1;
        self.next += 1;
        if self.next == self.members.len() {
            self.next = 0;
            self.rounds += 1;
        }
    }

    fn reset(&mut self) {
        self.wins = 0;
        self.rounds = 0;
        self.next = 0;
        self.current = self.weight as i64;
    }
}

/// Groups above which the kinetic tournament replaces the linear scan.
const SCAN_LIMIT: usize = 16;

/// nginx's smooth weighted round robin (static weights): the exact nginx
/// sequence, e.g. weights 5, 1, 1 give `a a b a c a a`, each backend chosen
/// exactly `w_i` times in every `W` consecutive picks from the start.
///
/// Cost per pick is O(G) for G distinct weight values (G <= 16), else
/// O(log G) amortised through a kinetic tournament tree; never O(n) in the
/// number of backends. With the tree, the first period (W picks, if
/// W <= 2^20) is recorded and later periods replay it in O(1).
///
/// ```
/// use svcroute::balance::{Backend, Balancer, Request, SmoothWeighted};
/// let mut lb = SmoothWeighted::new(&[Backend::new("a", 5), Backend::new("b", 1), Backend::new("c", 1)]);
/// let seq: String = (0..7).map(|_| ["a", "b", "c"][lb.pick(&Request::none()).unwrap()]).collect();
/// assert_eq!(seq, "aabacaa");
/// ```
#[derive(Debug, Clone)]
pub struct SmoothWeighted {
    groups: Vec<Group>,
    total: u64,
    /// Picks made in the current period, in 0..total.
    t: u64,
    len: usize,
    tree: Option<Kinetic>,
    /// The period, recorded during the first pass when the kinetic tree is
    /// in use and `W <= CACHE_LIMIT`; replayed afterwards in O(1).
    schedule: Vec<u32>,
    cached: bool,
}

/// Largest period recorded for replay (4 MiB of `u32`).
const CACHE_LIMIT: u64 = 1 << 20;

impl SmoothWeighted {
    /// Build from `backends`; weight-0 backends are never picked.
    ///
    /// ```
    /// use svcroute::balance::{Backend, SmoothWeighted};
    /// let lb = SmoothWeighted::new(&Backend::list(["a", "b"]));
    /// assert_eq!(lb.period(), 2);
    /// ```
    pub fn new(backends: &[Backend]) -> SmoothWeighted {
        let mut by_weight: Vec<(u32, u32)> = backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weight > 0)
            .map(|(i, b)| (b.weight, i as u32))
            .collect();
        crate::order::sort_unstable(&mut by_weight);
        let mut groups: Vec<Group> = Vec::new();
        for (w, i) in by_weight {
            match groups.last_mut() {
                Some(g) if g.weight == u64::from(w) => g.members.push(i),
                _ => groups.push(Group {
                    weight: u64::from(w),
                    members: vec![i],
                    wins: 0,
                    rounds: 0,
                    next: 0,
                    current: i64::from(w),
                }),
            }
        }
        let total = backends.iter().map(|b| u64::from(b.weight)).sum();
        let tree = (groups.len() > SCAN_LIMIT).then(|| Kinetic::new(&groups, total));
        SmoothWeighted {
            groups,
            total,
            t: 0,
            len: backends.len(),
            tree,
            schedule: Vec::new(),
            cached: false,
        }
    }

    /// The period of the schedule: the total weight `W`.
    ///
    /// ```
    /// use svcroute::balance::{Backend, SmoothWeighted};
    /// let lb = SmoothWeighted::new(&[Backend::new("a", 3), Backend::new("b", 4)]);
    /// assert_eq!(lb.period(), 7);
    /// ```
    pub fn period(&self) -> u64 {
        self.total
    }

    /// The next backend index.
    ///
    /// ```
    /// use svcroute::balance::{Backend, SmoothWeighted};
    /// let mut lb = SmoothWeighted::new(&[Backend::new("a", 2), Backend::new("b", 1)]);
    /// assert_eq!([lb.next(), lb.next(), lb.next()], [Some(0), Some(1), Some(0)]);
    /// ```
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<usize> {
        if self.groups.is_empty() {
            return None;
        }
        if self.cached {
            let chosen = self.schedule[self.t as usize];
            self.t += 1;
            if self.t == self.total {
                self.t = 0;
            }
            return Some(chosen as usize);
        }
        let t1 = self.t + 1;
        let g = match &mut self.tree {
            Some(tree) => tree.best(&self.groups, t1, self.total),
            None => {
                // Values stay within (-2W, 2W): i64 is exact for W < 2^62.
                let mut best = 0;
                let mut best_v = self.groups[0].current;
                let mut best_i = self.groups[0].candidate();
                for (gi, g) in self.groups.iter().enumerate().skip(1) {
                    let v = g.current;
                    if v > best_v || (v == best_v && g.candidate() < best_i) {
                        best = gi;
                        best_v = v;
                        best_i = g.candidate();
                    }
                }
                best
            }
        };
        let chosen = self.groups[g].candidate();
        let rounds = self.groups[g].rounds;
        self.groups[g].win();
        if self.tree.is_none() {
            if self.groups[g].rounds != rounds {
                self.groups[g].current -= self.total as i64;
            }
            for grp in &mut self.groups {
                grp.current += grp.weight as i64;
            }
        }
        let record = self.tree.is_some() && self.total <= CACHE_LIMIT;
        if record {
            self.schedule.push(chosen);
        }
        if t1 == self.total {
            self.t = 0;
            if record {
                self.cached = true;
                return Some(chosen as usize);
            }
            for g in &mut self.groups {
                g.reset();
            }
            if let Some(tree) = &mut self.tree {
                *tree = Kinetic::new(&self.groups, self.total);
            }
        } else {
            self.t = t1;
            if let Some(tree) = &mut self.tree {
                tree.touched(&self.groups, g, t1 + 1, self.total);
            }
        }
        Some(chosen as usize)
    }
}

impl Balancer for SmoothWeighted {
    #[inline]
    fn pick(&mut self, _req: &Request) -> Option<usize> {
        self.next()
    }

    /// nginx rebuilds the peer list (all `current` values back to 0) when
    /// its upstream changes; so does this.
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        *self = SmoothWeighted::new(backends);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A kinetic tournament tree over the groups' value lines. Each internal
/// node caches its winner for the current time and the first time at which
/// that may change (`expiry`, the smallest crossing time in its subtree).
/// A query re-evaluates only expired nodes.
#[derive(Debug, Clone)]
struct Kinetic {
    /// Leaves at `size..size+G`; node `k` has children `2k`, `2k+1`.
    size: usize,
    winner: Vec<u32>,
    expiry: Vec<u64>,
}

const NEVER: u64 = u64::MAX;

impl Kinetic {
    fn new(groups: &[Group], total: u64) -> Kinetic {
        let size = groups.len().next_power_of_two();
        let mut k = Kinetic {
            size,
            winner: vec![u32::MAX; 2 * size],
            expiry: vec![NEVER; 2 * size],
        };
        for g in 0..groups.len() {
            k.winner[size + g] = g as u32;
        }
        for node in (1..size).rev() {
            k.recompute(groups, node, 1, total);
        }
        k
    }

    /// Whether group `a` beats group `b` at time `t`.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn beats(groups: &[Group], a: u32, b: u32, t: u64, total: u64) -> bool {
        let (ga, gb) = (&groups[a as usize], &groups[b as usize]);
        let (va, vb) = (ga.value(t, total), gb.value(t, total));
        va > vb || (va == vb && ga.candidate() < gb.candidate())
    }

    /// First time > t at which `loser` may overtake `winner` (they are
    /// lines in t with slopes = weights), or NEVER.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn crossing(groups: &[Group], winner: u32, loser: u32, t: u64, total: u64) -> u64 {
        let (gw, gl) = (&groups[winner as usize], &groups[loser as usize]);
        if gl.weight <= gw.weight {
            return NEVER;
        }
        // gap(t) = vw - vl >= 0 shrinks by (wl - ww) per step; the loser ties
        // at gap <= 0: after ceil(gap / dw) more steps.
        let gap = gw.value(t, total) - gl.value(t, total);
        let dw = i128::from(gl.weight - gw.weight);
        let steps = (gap + dw - 1) / dw;
        let steps = steps.max(1);
        t.saturating_add(u64::try_from(steps).unwrap_or(u64::MAX))
    }

    fn recompute(&mut self, groups: &[Group], node: usize, t: u64, total: u64) {
        let (l, r) = (2 * node, 2 * node + 1);
        let (wl, wr) = (self.winner[l], self.winner[r]);
        let (w, other) = if wr == u32::MAX {
            (wl, None)
        } else if wl == u32::MAX {
            (wr, None)
        } else if Self::beats(groups, wl, wr, t, total) {
            (wl, Some(wr))
        } else {
            (wr, Some(wl))
        };
        self.winner[node] = w;
        let own = match other {
            Some(o) => Self::crossing(groups, w, o, t, total),
            None => NEVER,
        };
        self.expiry[node] = own.min(self.expiry[l]).min(self.expiry[r]);
    }

    /// Re-evaluate every node that expired by time `t`.
    fn refresh(&mut self, groups: &[Group], node: usize, t: u64, total: u64) {
        if node >= self.size || self.expiry[node] > t {
            return;
        }
        self.refresh(groups, 2 * node, t, total);
        self.refresh(groups, 2 * node + 1, t, total);
        self.recompute(groups, node, t, total);
    }

    #[inline]
    fn best(&mut self, groups: &[Group], t: u64, total: u64) -> usize {
        self.refresh(groups, 1, t, total);
        self.winner[1] as usize
    }

    /// Group `g` changed (it just won); recompute its path for time `t`.
    fn touched(&mut self, groups: &[Group], g: usize, t: u64, total: u64) {
        let mut node = (self.size + g) / 2;
        while node >= 1 {
            // Children off the path may have expired too: refresh them first.
            self.refresh(groups, 2 * node, t, total);
            self.refresh(groups, 2 * node + 1, t, total);
            self.recompute(groups, node, t, total);
            node /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nginx's loop, verbatim in spirit: O(n) per pick.
    fn nginx(weights: &[u32], picks: usize) -> Vec<usize> {
        let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
        let mut cur = vec![0i64; weights.len()];
        let mut out = Vec::new();
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
        }
        out
    }

    fn ours(weights: &[u32], picks: usize) -> Vec<usize> {
        let backends: Vec<Backend> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Backend::new(format!("b{i}"), w))
            .collect();
        let mut lb = SmoothWeighted::new(&backends);
        (0..picks).map_while(|_| lb.next()).collect()
    }

    #[test]
    fn golden_5_1_1() {
        assert_eq!(
            ours(&[5, 1, 1], 14),
            [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]
        );
    }

    #[test]
    fn matches_nginx_small_and_kinetic() {
        let mut r = crate::balance::Rng::new(3);
        for case in 0..300 {
            let n = 1 + r.below(if case % 3 == 0 { 60 } else { 12 }) as usize;
            let weights: Vec<u32> = (0..n).map(|_| r.below(25) as u32).collect();
            let w: u64 = weights.iter().map(|&w| u64::from(w)).sum();
            let picks = (2 * w as usize + 7).min(3000);
            assert_eq!(ours(&weights, picks), nginx(&weights, picks), "{weights:?}");
        }
    }

    #[test]
    fn kinetic_many_distinct_weights() {
        let weights: Vec<u32> = (1..=200).collect();
        let w: usize = weights.iter().map(|&w| w as usize).sum();
        assert_eq!(ours(&weights, w + 500), nginx(&weights, w + 500));
    }
}
