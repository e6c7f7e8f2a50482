//! Per-pick state, owned by the caller: ClientIP affinity memory (rule
//! KP-19), the IPVS virtual servers' scheduler state (KP-18) and the seeded
//! random source of the iptables and nftables picks (KP-16, KP-17).

use crate::table_hash::FastMap;
use std::net::{IpAddr, SocketAddr};

use super::Millis;
use crate::balance::{Backend, Balancer, Event, FlowKey, Ipvs, IpvsScheduler, Request, Rng};

/// The state that changes with every pick. A [`Dataplane`](super::Dataplane)
/// is immutable and shareable; this is what a caller keeps beside it (one per
/// worker, or one shared behind a lock). It survives recompiling the
/// dataplane, as kernel state survives a kube-proxy sync.
///
/// ```
/// use svcroute::dataplane::RouteState;
/// let s = RouteState::new(7);
/// assert_eq!(s.affinity_entries(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct RouteState {
    rng: Rng,
    /// (node, scope, client) → (endpoint, last seen).
    affinity: FastMap<(u64, u64, IpAddr), (SocketAddr, Millis)>,
    /// (node, virtual server) → its slot in `servers`.
    ipvs: FastMap<(u64, u64), u32>,
    /// The kernel's scheduler state of every virtual server seen.
    servers: Vec<VirtualServer>,
    /// The virtual server picked last and its slot: flows to one Service
    /// from one node skip the map.
    last_server: Option<((u64, u64), u32)>,
    /// The index of the node a call named last, in whichever dataplane
    /// answered it: checked by name before use (see [`Self::last_node`]).
    last_node: Option<u32>,
}

/// One IPVS virtual server on one node: its real servers (identified by a
/// fingerprint of the endpoint set) and the scheduler over them.
#[derive(Debug, Clone)]
struct VirtualServer {
    fingerprint: u64,
    lb: Ipvs,
    /// `rr`'s position, kept here: every real server has weight 1 and none
    /// is overloaded, so the kernel's round robin is the next in the list
    /// (`None`: the list head, as after `ip_vs_rr_init_svc` or a change of
    /// the real servers).
    rr: Option<usize>,
}

impl VirtualServer {
    /// The round robin's next real server, advancing the position
    /// (`None` without real servers).
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn rr_next(&mut self) -> Option<usize> {
        let n = self.lb.len();
        let i = match self.rr {
            _ if n == 0 => return None,
            Some(c) if c + 1 < n => c + 1,
            _ => 0,
        };
        self.rr = Some(i);
        Some(i)
    }
}

impl RouteState {
    /// Fresh state whose random picks follow `seed`.
    ///
    /// ```
    /// let s = svcroute::dataplane::RouteState::new(42);
    /// assert_eq!(s.affinity_entries(), 0);
    /// ```
    pub fn new(seed: u64) -> RouteState {
        RouteState {
            rng: Rng::new(seed),
            affinity: FastMap::default(),
            ipvs: FastMap::default(),
            servers: Vec::new(),
            last_server: None,
            last_node: None,
        }
    }

    /// How many affinity entries are remembered (expired ones included).
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::RouteState::new(0).affinity_entries(), 0);
    /// ```
    pub fn affinity_entries(&self) -> usize {
        self.affinity.len()
    }

    /// Forgets every affinity entry (kernel state lost).
    ///
    /// ```
    /// let mut s = svcroute::dataplane::RouteState::new(0);
    /// s.clear_affinity();
    /// assert_eq!(s.affinity_entries(), 0);
    /// ```
    pub fn clear_affinity(&mut self) {
        self.affinity.clear();
    }

    /// The random source of iptables and nftables picks.
    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// A uniform index below `n` (0 when `n == 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    /// KP-18: the real server the kernel's `scheduler` gives a new
    /// connection of `flow` on virtual server `vs` (node, scope), whose real
    /// servers are `eps` (weight 1 each, as kube-proxy writes them), known
    /// by `fingerprint`. The scheduler state is rebuilt only when the
    /// fingerprint changed (counters carry over by address); a steady set
    /// allocates nothing. Returns the position in `eps`. `flow` is asked
    /// only by the schedulers that read it (not `rr`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ipvs_pick<I, F>(
        &mut self,
        vs: (u64, u64),
        scheduler: IpvsScheduler,
        fp: u64,
        eps: I,
        flow: F,
        now: Millis,
    ) -> Option<usize>
    where
        I: Iterator<Item = SocketAddr> + Clone,
        F: FnOnce() -> FlowKey,
    {
        let backends = || -> Vec<Backend> {
            eps.clone()
                .map(|e| Backend::new(e.to_string(), 1))
                .collect()
        };
        let slot = match self.last_server {
            Some((key, slot)) if key == vs => slot,
            _ => {
                let slot = match self.ipvs.get(&vs) {
                    Some(&slot) => slot,
                    None => {
                        let slot = u32::try_from(self.servers.len()).unwrap_or(u32::MAX);
                        self.servers.push(VirtualServer {
                            fingerprint: fp,
                            lb: Ipvs::new(&backends(), scheduler, self.rng.next_u64()),
                            rr: None,
                        });
                        self.ipvs.insert(vs, slot);
                        slot
                    }
                };
                self.last_server = Some((vs, slot));
                slot
            }
        };
        let server = self.servers.get_mut(slot as usize)?;
        if server.lb.scheduler() != scheduler {
            server.lb = Ipvs::new(&backends(), scheduler, self.rng.next_u64());
            server.fingerprint = fp;
            server.rr = None;
        } else if server.fingerprint != fp {
            // Weights are all 1: set_backends cannot fail.
            let _ = server.lb.set_backends(&backends());
            server.fingerprint = fp;
            server.rr = None;
        }
        if scheduler == IpvsScheduler::Rr {
            // What `Ipvs`'s rr answers when every destination is usable,
            // without its bookkeeping (no division, no counters: rr reads
            // none).
            return server.rr_next();
        }
        let i = server.lb.pick(&Request::flow(flow()).at(now.0))?;
        server.lb.observe(Event::Opened(i));
        Some(i)
    }

    /// KP-18, the steady case of [`ipvs_pick`](Self::ipvs_pick) inline:
    /// `rr` on the virtual server picked last, whose real servers are still
    /// the set `fp` names. `None` (nothing changed) for anything else.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn ipvs_rr_steady(
        &mut self,
        vs: (u64, u64),
        scheduler: IpvsScheduler,
        fp: u64,
    ) -> Option<usize> {
        let (key, slot) = self.last_server?;
        if key != vs || scheduler != IpvsScheduler::Rr {
            return None;
        }
        let server = self.servers.get_mut(slot as usize)?;
        if server.fingerprint != fp || server.lb.scheduler() != scheduler {
            return None;
        }
        server.rr_next()
    }

    /// The node index a previous call stored ([`Self::set_last_node`]):
    /// a hint only, the caller checks that it still names the node asked
    /// for (in the dataplane asking now, which may not be the one that
    /// stored it).
    #[inline]
    pub(crate) fn last_node(&self) -> Option<usize> {
        self.last_node.map(|i| i as usize)
    }

    /// Remembers the node index a lookup found.
    #[inline]
    pub(crate) fn set_last_node(&mut self, i: usize) {
        self.last_node = u32::try_from(i).ok();
    }

    /// The remembered endpoint if it was seen within `timeout`.
    pub(crate) fn sticky(
        &self,
        key: (u64, u64, IpAddr),
        now: Millis,
        timeout: Millis,
    ) -> Option<SocketAddr> {
        let (ep, seen) = self.affinity.get(&key)?;
        (now.0.saturating_sub(seen.0) <= timeout.0).then_some(*ep)
    }

    pub(crate) fn remember(&mut self, key: (u64, u64, IpAddr), ep: SocketAddr, now: Millis) {
        self.affinity.insert(key, (ep, now));
    }
}

/// A stable key of the IPVS virtual server `ip:port/protocol`, computed
/// without allocating.
pub(crate) fn vs_hash(ip: IpAddr, port: u16, protocol: crate::api::Protocol) -> u64 {
    use crate::api::Protocol as L4;
    use crate::balance::hash::mix64;
    let (hi, lo) = match ip {
        IpAddr::V4(a) => (0, u64::from(u32::from(a))),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            ((v >> 64) as u64, v as u64)
        }
    };
    let proto: u64 = match protocol {
        L4::TCP => 6,
        L4::UDP => 17,
        L4::SCTP => 132,
    };
    mix64(
        mix64(hi, lo, 0x5653),
        (u64::from(port) << 8) | proto,
        0x7673,
    )
}

/// FNV-1a over the parts, separated: stable keys that survive recompiles.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kp18_the_steady_rr_path_answers_as_the_full_scheduler() {
        // The inline rr path must pick what `ipvs_pick` picks, and decline
        // when the virtual server or its real servers changed.
        let eps: Vec<SocketAddr> = (1..=3)
            .map(|i| format!("10.0.0.{i}:80").parse().unwrap())
            .collect();
        let flow = || {
            FlowKey::new(
                "10.1.0.1".parse().unwrap(),
                0,
                "10.96.0.1".parse().unwrap(),
                80,
                6,
            )
        };
        let (mut fast, mut full) = (RouteState::new(1), RouteState::new(1));
        for round in 0..24 {
            let vs = (7, if round % 8 < 6 { 1 } else { 2 });
            let (set, fp) = if round < 12 {
                (&eps[..], 1)
            } else {
                (&eps[..2], 2)
            };
            let a = fast.ipvs_rr_steady(vs, IpvsScheduler::Rr, fp).or_else(|| {
                fast.ipvs_pick(
                    vs,
                    IpvsScheduler::Rr,
                    fp,
                    set.iter().copied(),
                    flow,
                    Millis(0),
                )
            });
            let b = full.ipvs_pick(
                vs,
                IpvsScheduler::Rr,
                fp,
                set.iter().copied(),
                flow,
                Millis(0),
            );
            assert_eq!(a, b, "round {round}");
        }
        let mut st = RouteState::new(1);
        assert_eq!(st.ipvs_rr_steady((7, 1), IpvsScheduler::Rr, 1), None);
        st.ipvs_pick(
            (7, 1),
            IpvsScheduler::Rr,
            1,
            eps.iter().copied(),
            flow,
            Millis(0),
        );
        assert_eq!(st.ipvs_rr_steady((7, 1), IpvsScheduler::Rr, 2), None);
        assert_eq!(st.ipvs_rr_steady((7, 1), IpvsScheduler::Wrr, 1), None);
        assert_eq!(st.ipvs_rr_steady((7, 1), IpvsScheduler::Rr, 1), Some(1));
    }
}
