//! ClientIP session affinity (kube-proxy's `sessionAffinity: ClientIP`).

use super::{Backend, BalanceError, Balancer, Event, Key, Request};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Sticks each client source address to the backend it got last, for
/// `timeout_ms` after the client's **latest** new connection (iptables
/// `recent --rcheck --seconds T --reap` plus `--set` on every connection,
/// nftables sets with `update`). A remembered backend that disappears or is
/// no longer eligible is forgotten and a fresh choice is made by the inner
/// balancer.
///
/// Only [`Key::Flow`] requests carry a client address; other keys go
/// straight to the inner balancer. The clock is the request's `now_ms`.
/// Memory grows with distinct clients; [`expire`](ClientIpAffinity::expire)
/// drops entries older than the timeout. A pick allocates only when it
/// records a client never seen before.
///
/// ```
/// use svcroute::balance::{Backend, Balancer, ClientIpAffinity, FlowKey, Random, Request};
/// let backends = Backend::list(["a", "b", "c", "d"]);
/// let mut lb = ClientIpAffinity::new(Random::new(&backends, 1), 10_800_000);
/// let f = FlowKey::new("10.0.0.7".parse().unwrap(), 5000, "10.96.0.1".parse().unwrap(), 80, 6);
/// let first = lb.pick(&Request::flow(f).at(0)).unwrap();
/// let again = lb.pick(&Request::flow(FlowKey { src_port: 5001, ..f }).at(60_000)).unwrap();
/// assert_eq!(first, again);
/// ```
#[derive(Debug, Clone)]
pub struct ClientIpAffinity<B> {
    inner: B,
    timeout_ms: u64,
    /// client -> (backend index, last new connection in ms)
    table: BTreeMap<IpAddr, (u32, u64)>,
    keys: Vec<String>,
    eligible: Vec<bool>,
}

/// Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds`
/// (10800 s), in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_800_000;

impl<B: Balancer> ClientIpAffinity<B> {
    /// Affinity over `inner` with a timeout in milliseconds. The inner
    /// balancer's backend list is learned on the first
    /// [`set_backends`](Balancer::set_backends); until then every index the
    /// inner balancer returns is trusted.
    ///
    /// ```
    /// use svcroute::balance::{Backend, ClientIpAffinity, RoundRobin};
    /// let lb = ClientIpAffinity::new(RoundRobin::new(&Backend::list(["a"])), 1000);
    /// assert_eq!(lb.timeout_ms(), 1000);
    /// ```
    pub fn new(inner: B, timeout_ms: u64) -> ClientIpAffinity<B> {
        ClientIpAffinity {
            inner,
            timeout_ms,
            table: BTreeMap::new(),
            keys: Vec::new(),
            eligible: Vec::new(),
        }
    }

    /// Affinity over a balancer built from `backends`, remembering their
    /// keys (so later updates can carry stickiness over).
    ///
    /// ```
    /// use svcroute::balance::{Backend, ClientIpAffinity, RoundRobin};
    /// let b = Backend::list(["a", "b"]);
    /// let lb = ClientIpAffinity::with_backends(RoundRobin::new(&b), &b, 5);
    /// assert_eq!(lb.clients(), 0);
    /// ```
    pub fn with_backends(inner: B, backends: &[Backend], timeout_ms: u64) -> ClientIpAffinity<B> {
        let mut a = ClientIpAffinity::new(inner, timeout_ms);
        a.keys = backends.iter().map(|b| b.key.clone()).collect();
        a.eligible = backends.iter().map(|b| b.weight > 0).collect();
        a
    }

    /// The timeout in milliseconds.
    ///
    /// ```
    /// use svcroute::balance::{ClientIpAffinity, RoundRobin};
    /// assert_eq!(ClientIpAffinity::new(RoundRobin::new(&[]), 7).timeout_ms(), 7);
    /// ```
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// Clients currently remembered (expired ones included until
    /// [`expire`](ClientIpAffinity::expire)).
    ///
    /// ```
    /// use svcroute::balance::{ClientIpAffinity, RoundRobin};
    /// assert_eq!(ClientIpAffinity::new(RoundRobin::new(&[]), 7).clients(), 0);
    /// ```
    pub fn clients(&self) -> usize {
        self.table.len()
    }

    /// The backend a client is stuck to at `now_ms`, if any.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Balancer, ClientIpAffinity, FlowKey, Request, RoundRobin};
    /// let mut lb = ClientIpAffinity::new(RoundRobin::new(&Backend::list(["a", "b"])), 1000);
    /// let f = FlowKey::new("10.0.0.7".parse().unwrap(), 1, "10.0.0.1".parse().unwrap(), 80, 6);
    /// let i = lb.pick(&Request::flow(f).at(0));
    /// assert_eq!(lb.sticky(f.src, 1000), i);
    /// assert_eq!(lb.sticky(f.src, 1001), None);
    /// ```
    pub fn sticky(&self, client: IpAddr, now_ms: u64) -> Option<usize> {
        let &(i, last) = self.table.get(&client)?;
        (now_ms.saturating_sub(last) <= self.timeout_ms && self.usable(i as usize))
            .then_some(i as usize)
    }

    fn usable(&self, i: usize) -> bool {
        self.eligible.is_empty() || self.eligible.get(i).copied().unwrap_or(false)
    }

    /// Forget clients whose last connection is older than the timeout.
    ///
    /// ```
    /// use svcroute::balance::{Backend, Balancer, ClientIpAffinity, FlowKey, Request, RoundRobin};
    /// let mut lb = ClientIpAffinity::new(RoundRobin::new(&Backend::list(["a"])), 10);
    /// let f = FlowKey::new("10.0.0.7".parse().unwrap(), 1, "10.0.0.1".parse().unwrap(), 80, 6);
    /// lb.pick(&Request::flow(f));
    /// lb.expire(11);
    /// assert_eq!(lb.clients(), 0);
    /// ```
    pub fn expire(&mut self, now_ms: u64) {
        let t = self.timeout_ms;
        self.table
            .retain(|_, &mut (_, last)| now_ms.saturating_sub(last) <= t);
    }

    /// The wrapped balancer.
    ///
    /// ```
    /// use svcroute::balance::{Balancer, ClientIpAffinity, RoundRobin};
    /// assert_eq!(ClientIpAffinity::new(RoundRobin::new(&[]), 1).inner().len(), 0);
    /// ```
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: Balancer> Balancer for ClientIpAffinity<B> {
    fn pick(&mut self, req: &Request) -> Option<usize> {
        let Key::Flow(flow) = req.key else {
            return self.inner.pick(req);
        };
        if let Some(i) = self.sticky(flow.src, req.now_ms) {
            if let Some(e) = self.table.get_mut(&flow.src) {
                e.1 = req.now_ms;
            }
            return Some(i);
        }
        let i = self.inner.pick(req)?;
        match self.table.get_mut(&flow.src) {
            Some(e) => *e = (i as u32, req.now_ms),
            None => {
                self.table.insert(flow.src, (i as u32, req.now_ms));
            }
        }
        Some(i)
    }

    fn observe(&mut self, event: Event) {
        self.inner.observe(event);
    }

    /// Passes the new set to the inner balancer and re-points remembered
    /// clients to their backend's new index; clients of removed or
    /// ineligible backends are forgotten.
    fn set_backends(&mut self, backends: &[Backend]) -> Result<(), BalanceError> {
        self.inner.set_backends(backends)?;
        let index = super::key_index::KeyIndex::of_eligible(backends);
        let keys = &self.keys;
        self.table.retain(|_, e| {
            let new = keys.get(e.0 as usize).and_then(|k| index.get(k));
            match new {
                Some(n) => {
                    e.0 = n;
                    true
                }
                None => false,
            }
        });
        self.keys = backends.iter().map(|b| b.key.clone()).collect();
        self.eligible = backends.iter().map(|b| b.weight > 0).collect();
        Ok(())
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}
