//! `route()` and `decide()`: kube-proxy's decisions (rules KP-1 … KP-20),
//! written once, generic over where the hops go ([`Tracer`]).

use std::net::{IpAddr, SocketAddr};

use super::front::{Front, VipKey, ip_bit};
use super::state::vs_hash;
use super::trace::{NoTrace, Tracer};
use super::verdict::{Flow, ServiceRef, SourceRef, Verdict};
use super::{
    Dataplane, Decision, Destination, FrontKind, HttpAnswer, Masquerade, Millis, Outcome,
    PacketFate, Pick, PortInfo, Request, RouteError, RouteState, render,
};
use crate::api::Protocol as L4;
use crate::balance::kube::pick_numgen;
use crate::balance::{FlowKey, proto};
use crate::cluster::{DetectLocalMode, ProxyMode};
use crate::ipam::IpFamily;
use crate::table_hash::NamePair;

/// The source as kube-proxy sees it.
#[derive(Debug, Clone)]
struct Src {
    ip: IpAddr,
    /// The node whose kube-proxy first sees the packet (index).
    node: Option<usize>,
    /// A host-network process (kernel address type LOCAL on its node).
    host: bool,
}

/// The eligible set: endpoint addresses of the port, and how it was made.
struct Chosen<'p> {
    set: &'p [SocketAddr],
    how: How,
}

/// How an eligible set was made (for the exclusion reasons of the trace).
#[derive(Clone, Copy)]
enum How {
    Cluster(Why),
    Local,
}

/// Why the cluster set is what it is.
#[derive(Clone, Copy)]
enum Why {
    Fallback,
    NodeHints,
    ZoneHints,
    AllReady,
}

/// KP-4.1 with KP-6, from the precomputed sets: no allocation.
#[inline]
fn cluster_set_of<'p>(p: &'p PortInfo, node: &str, zone: &str) -> (&'p [SocketAddr], Why) {
    let s = &p.sets;
    if s.fallback {
        return (&s.cluster, Why::Fallback);
    }
    if !node.is_empty()
        && !s.by_node.is_empty()
        && let Some(set) = s.by_node.get(node)
    {
        return (set, Why::NodeHints);
    }
    if !zone.is_empty()
        && !s.by_zone.is_empty()
        && let Some(set) = s.by_zone.get(zone)
    {
        return (set, Why::ZoneHints);
    }
    (&s.cluster, Why::AllReady)
}

/// `a == b` for names, inline: node names are short, and a call to
/// `memcmp` costs more than comparing them as two words.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16
        && let (Some(a0), Some(a1), Some(b0), Some(b1)) = (
            a.first_chunk::<8>(),
            a.last_chunk::<8>(),
            b.first_chunk::<8>(),
            b.last_chunk::<8>(),
        )
    {
        return a0 == b0 && a1 == b1;
    }
    a == b
}

/// Which set of port `p` an IPVS virtual server's real servers are (per
/// node, the set is fixed by the endpoint list and the node's name and
/// zone): the port's fingerprint with the set's length and first address,
/// mixed with one multiply. `set` is not empty.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn set_fingerprint(p: &PortInfo, set: &[SocketAddr]) -> u64 {
    let first = set.first().map_or(0, addr_word);
    p.fingerprint
        ^ (first ^ ((set.len() as u64) << 32).rotate_left(13)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// One word of an endpoint address (which set of a port a pick is from).
fn addr_word(a: &SocketAddr) -> u64 {
    let ip = match a.ip() {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let v = u128::from(v6);
            (v as u64) ^ ((v >> 64) as u64)
        }
    };
    ip ^ (u64::from(a.port()) << 48)
}

impl Dataplane {
    /// Answers one routing question. `state` holds affinity memory and the
    /// random source; `now` is the monotonic clock (affinity timeouts).
    ///
    /// Errors only when the question names something that does not exist
    /// (an unknown source pod or node, a Gateway that is not there).
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::{Dataplane, Destination, Millis, Outcome, PacketFate, Protocol, Request, RouteState, Source};
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let dp = Dataplane::compile(&c, ProxyMode::Nftables);
    /// let d = dp.route(&Request {
    ///     source: Source::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: Destination::Ip("10.96.5.5:80".parse().unwrap()),
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0))?;
    /// // nftables drops traffic to unallocated addresses of a service CIDR (KP-13).
    /// assert_eq!((d.outcome, d.packet_fate), (Outcome::Drop, Some(PacketFate::Drop)));
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn route(
        &self,
        req: &Request,
        state: &mut RouteState,
        now: Millis,
    ) -> Result<Decision, RouteError> {
        let mut d = Decision::new(Outcome::NoSuchService);
        let dest = match &req.destination {
            Destination::Ingress(r) => return Ok(self.route_ingress(r, state, d)),
            Destination::HttpRoute(r) => return self.route_gateway(r, state, d),
            Destination::Ip(a) => *a,
            Destination::Dns { name, port, family } => {
                match self.resolve_destination(&req.source, name, *port, *family, state, &mut d) {
                    Some(addr) => addr,
                    None => return Ok(d),
                }
            }
        };
        let flow = Flow {
            source: req.source.as_ref(),
            destination: dest,
            protocol: req.protocol,
        };
        let v = self.decide_traced(&flow, state, now, &mut d.trace)?;
        self.fill(&mut d, &v);
        Ok(d)
    }

    /// The decision of [`route`](Self::route) for a connection to an
    /// address, without the trace and without allocating (the affinity
    /// memory and IPVS scheduler state in `state` may grow on first use):
    /// cluster IPs, NodePorts, load-balancer IPs, externalIPs, health-check
    /// NodePorts, Local traffic policies, topology, affinity, the
    /// terminating fallback, reject and drop, and masquerade (KP-20).
    ///
    /// Errors as `route` does: an unknown source pod or node.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::*;
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let dp = Dataplane::compile(&c, ProxyMode::Iptables);
    /// let flow = Flow {
    ///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: "192.0.2.1:80".parse().unwrap(),
    ///     protocol: Protocol::Tcp,
    /// };
    /// let v = dp.decide(&flow, &mut RouteState::new(0), Millis(0))?;
    /// assert_eq!((v.outcome(), v.chosen()), (Outcome::NoSuchService, None));
    /// let missing = Flow { source: SourceRef::Node("nope"), ..flow };
    /// assert!(dp.decide(&missing, &mut RouteState::new(0), Millis(0)).is_err());
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn decide(
        &self,
        flow: &Flow<'_>,
        state: &mut RouteState,
        now: Millis,
    ) -> Result<Verdict<'_>, RouteError> {
        self.decide_traced(flow, state, now, &mut NoTrace)
    }

    /// [`decide`](Self::decide), with the hops of the decision written to
    /// `tracer` (what [`route`](Self::route) does with a `Vec<Hop>`).
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::*;
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let dp = Dataplane::compile(&c, ProxyMode::Nftables);
    /// let mut hops: Vec<Hop> = Vec::new();
    /// let v = dp.decide_traced(&Flow {
    ///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: "10.96.5.5:80".parse().unwrap(),
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0), &mut hops)?;
    /// assert_eq!(v.outcome(), Outcome::Drop);
    /// assert_eq!(hops[0].rule, Some("KP-13"));
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn decide_traced<T: Tracer>(
        &self,
        flow: &Flow<'_>,
        state: &mut RouteState,
        now: Millis,
        tracer: &mut T,
    ) -> Result<Verdict<'_>, RouteError> {
        let src = match flow.source {
            SourceRef::External {
                ip,
                arrives_at: Some(n),
            } => match self.node_index(n, state) {
                Some(node) => Src {
                    ip,
                    node: Some(node),
                    host: false,
                },
                None => return Err(Self::unknown_node(n)),
            },
            other => self.source(other, &flow.destination, flow.protocol.l4(), state)?,
        };
        // The verdict moves through the decision by value (in registers,
        // not copied out of a frame at the end).
        Ok(self.route_ip(
            src,
            &flow.destination,
            flow.protocol,
            state,
            now,
            Verdict::new(self),
            tracer,
        ))
    }

    /// Writes a verdict into the traced decision (service, endpoints,
    /// rendering, health-check body).
    fn fill(&self, d: &mut Decision, v: &Verdict<'_>) {
        d.outcome = v.outcome();
        d.packet_fate = v.packet_fate();
        d.chosen = v.chosen();
        d.masquerade = v.masquerade();
        if let Some(s) = v.service() {
            d.service = Some(s.to_string());
        }
        if v.outcome() == Outcome::Forward {
            d.endpoints = v.eligible().to_vec();
            d.render = Some(render(self.mode, v.eligible(), &self.ipvs_scheduler));
        }
        if v.outcome() == Outcome::Http
            && let Some(s) = v.service()
        {
            let body = serde_json::json!({
                "service": {"namespace": s.namespace, "name": s.name},
                "localEndpoints": v.local_endpoints(),
                "serviceProxyHealthy": true,
            });
            d.http = Some(HttpAnswer {
                status: v.http_status(),
                body: body.to_string(),
            });
        }
    }

    /// The hot path for a connection to a cluster IP from `client` on
    /// `node`: the same rules as [`route`](Self::route) for internal
    /// traffic (KP-4, KP-6, KP-7, KP-11, KP-12, KP-19), without a trace and
    /// without allocating (the affinity table may grow). Any other
    /// destination answers [`Pick::NotClusterIp`].
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::{Dataplane, Millis, Pick, Protocol, RouteState};
    /// let c = Cluster::new(ClusterConfig::default())?; // default/kubernetes, no endpoints
    /// let dp = Dataplane::compile(&c, ProxyMode::Iptables);
    /// let mut st = RouteState::new(0);
    /// let to = "10.96.0.1:443".parse().unwrap();
    /// assert_eq!(dp.pick("10.244.0.5".parse().unwrap(), "n1", to, Protocol::Tcp, &mut st, Millis(0)), Pick::Reject);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn pick(
        &self,
        client: IpAddr,
        node: &str,
        dest: SocketAddr,
        protocol: super::Protocol,
        state: &mut RouteState,
        now: Millis,
    ) -> Pick {
        let Some(f) = self
            .vips
            .get(&VipKey::new(dest.ip(), dest.port(), protocol.l4()))
            .filter(|f| f.kind == FrontKind::ClusterIp)
        else {
            return Pick::NotClusterIp;
        };
        if !f.has_any {
            return Pick::Reject;
        }
        let p = &self.ports[f.port];
        // The node matters only for Local policies, topology, affinity
        // (its key) and IPVS (scheduler state per node).
        let n = if f.itp_local || f.topology || f.affinity.is_some() || self.mode == ProxyMode::Ipvs
        {
            self.node_index(node, state).map(|i| &self.nodes[i])
        } else {
            None
        };
        let (zone, node_hash) = n.map_or(("", 0), |n| (n.zone.as_str(), n.hash));
        let set: &[SocketAddr] = if f.itp_local {
            match p.sets.local.get(node) {
                Some((set, _)) => set,
                None if self.mode == ProxyMode::Ipvs && f.externally_accessible => {
                    cluster_set_of(p, node, zone).0
                }
                None if self.mode == ProxyMode::Ipvs => return Pick::Reject,
                None => return Pick::Drop,
            }
        } else if f.topology {
            cluster_set_of(p, node, zone).0
        } else {
            self.flat.get(f.cluster)
        };
        if set.is_empty() {
            return Pick::Reject;
        }
        let key = (node_hash, f.scope, client);
        let remembered = f.affinity.and_then(|t| {
            let ep = state.sticky(key, now, t)?;
            set.contains(&ep).then_some(ep)
        });
        let ep = match remembered {
            Some(ep) => ep,
            None => set[self.schedule(p, set, (node_hash, f.scope), client, &dest, state, now)],
        };
        if f.affinity.is_some() {
            state.remember(key, ep, now);
        }
        Pick::Endpoint(ep)
    }

    /// The first node (by name) with a local ready endpoint for the
    /// external VIP `dest` of an externalTrafficPolicy Local Service.
    fn healthy_front_door(&self, dest: &SocketAddr, l4: L4) -> Option<usize> {
        let f = self.vips.get(&VipKey::new(dest.ip(), dest.port(), l4))?;
        let p = &self.ports[f.port];
        if f.kind == FrontKind::ClusterIp || !self.services[p.svc].etp_local {
            return None;
        }
        self.nodes
            .iter()
            .position(|n| matches!(p.sets.local.get(&n.name), Some((_, false))))
    }

    /// The index of node `name`, through the memo in `state` (a flow's
    /// node is usually the previous flow's).
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn node_index(&self, name: &str, state: &mut RouteState) -> Option<usize> {
        if let Some(i) = state.last_node()
            && self.nodes.get(i).is_some_and(|n| same_name(&n.name, name))
        {
            return Some(i);
        }
        let i = *self.node_by_name.get(name)?;
        state.set_last_node(i);
        Some(i)
    }

    /// The source as kube-proxy sees it (an external client at a named
    /// node is read inline by the caller).
    #[inline(never)]
    fn source(
        &self,
        source: SourceRef<'_>,
        dest: &SocketAddr,
        l4: L4,
        state: &mut RouteState,
    ) -> Result<Src, RouteError> {
        match source {
            SourceRef::External {
                ip,
                arrives_at: Some(n),
            } => Ok(Src {
                ip,
                node: Some(self.known_node(n, state)?),
                host: false,
            }),
            SourceRef::Node(name) => {
                let idx = self.known_node(name, state)?;
                let fam = IpFamily::of(&dest.ip());
                let ip = self.nodes[idx]
                    .ips
                    .iter()
                    .copied()
                    .find(|ip| IpFamily::of(ip) == fam)
                    .ok_or_else(|| RouteError::NodeWithoutIp(name.to_owned()))?;
                Ok(Src {
                    ip,
                    node: Some(idx),
                    host: true,
                })
            }
            SourceRef::Pod { namespace, name } => self.pod_source(namespace, name, dest, state),
            SourceRef::External {
                ip,
                arrives_at: None,
            } => Ok(Src {
                ip,
                node: self.front_door(dest, l4),
                host: false,
            }),
        }
    }

    /// The index of node `name`, which must exist.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn known_node(&self, name: &str, state: &mut RouteState) -> Result<usize, RouteError> {
        match self.node_index(name, state) {
            Some(i) => Ok(i),
            None => Err(Self::unknown_node(name)),
        }
    }

    #[cold]
    fn unknown_node(name: &str) -> RouteError {
        RouteError::UnknownNode(name.to_owned())
    }

    /// A process in the pod `namespace/name`.
    #[inline(never)]
    fn pod_source(
        &self,
        namespace: &str,
        name: &str,
        dest: &SocketAddr,
        state: &mut RouteState,
    ) -> Result<Src, RouteError> {
        let fam = IpFamily::of(&dest.ip());
        let pod = self
            .pods
            .get(&(namespace, name) as &dyn NamePair)
            .ok_or_else(|| RouteError::UnknownPod(format!("{namespace}/{name}")))?;
        let ip = pod
            .ips
            .iter()
            .copied()
            .find(|ip| IpFamily::of(ip) == fam)
            .ok_or_else(|| RouteError::PodWithoutIp(format!("{namespace}/{name}")))?;
        let node = pod.node.as_ref().and_then(|n| self.node_index(n, state));
        Ok(Src {
            ip,
            node,
            // A hostNetwork pod is a host process (address type LOCAL).
            host: pod.host_network,
        })
    }

    /// D16: the node an external client without a named node enters at,
    /// through the destination's own front door: the node owning the
    /// address; for a load balancer with externalTrafficPolicy Local, the
    /// first node whose health check passes (KP-10); otherwise the first
    /// node.
    #[inline(never)]
    fn front_door(&self, dest: &SocketAddr, l4: L4) -> Option<usize> {
        self.node_by_ip
            .get(&dest.ip())
            .copied()
            .or_else(|| self.healthy_front_door(dest, l4))
            .or((!self.nodes.is_empty()).then_some(0))
    }

    /// Does the local-traffic detector (`--detect-local-mode`) exist, and
    /// does it call `ip` a local pod at `node`?
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn detector(&self, ip: IpAddr, node: Option<usize>) -> Option<bool> {
        match self.detect_local {
            DetectLocalMode::ClusterCIDR => self.cluster_cidrs.matches(ip),
            DetectLocalMode::NodeCIDR => self.nodes.get(node?)?.pod_cidrs.matches(ip),
            DetectLocalMode::None => None,
        }
    }

    /// The Service at index `svc` (`None` out of range), borrowed.
    pub(super) fn service_at(&self, svc: usize) -> Option<ServiceRef<'_>> {
        self.services.get(svc).map(|s| ServiceRef {
            namespace: &s.namespace,
            name: &s.name,
        })
    }

    /// The name of the node at index `node` (`None` out of range).
    pub(super) fn node_name(&self, node: usize) -> Option<&str> {
        self.nodes.get(node).map(|n| n.name.as_str())
    }

    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn route_ip<'a, T: Tracer>(
        &'a self,
        mut src: Src,
        dest: &SocketAddr,
        protocol: super::Protocol,
        state: &mut RouteState,
        now: Millis,
        mut v: Verdict<'a>,
        t: &mut T,
    ) -> Verdict<'a> {
        let l4 = protocol.l4();
        let ip = dest.ip();
        let port = dest.port();
        v.set_node(src.node);

        if ip.is_loopback() {
            let np = self
                .node_port_numbers
                .get(&(port, l4, IpFamily::of(&ip)))
                .copied();
            let localhost_ok = self.mode == ProxyMode::Iptables
                && self.localhost_node_ports
                && ip.is_ipv4()
                && src.host;
            return match np {
                Some(pidx) if localhost_ok => {
                    t.hop(
                        Some("KP-15"),
                        format_args!(
                            "NodePort {port}/{} on {ip} (iptables localhost NodePorts)",
                            l4.as_str()
                        ),
                    );
                    self.external(
                        &src,
                        dest,
                        pidx,
                        FrontKind::ClusterIp,
                        true,
                        state,
                        now,
                        v,
                        t,
                    )
                }
                Some(_) => {
                    t.hop(
                        Some("KP-15"),
                        format_args!(
                            "localhost NodePorts do not exist in {} mode (or for this source)",
                            self.mode.as_str()
                        ),
                    );
                    v.finish(Outcome::NotCaptured, Some(PacketFate::Unhandled))
                }
                None => {
                    t.hop(None, format_args!("nothing listens on {dest}"));
                    v.finish(Outcome::NoSuchService, Some(PacketFate::Unhandled))
                }
            };
        }

        if let Some(f) = self.vips.get(&VipKey::new(ip, port, l4)) {
            let (pidx, kind) = (f.port, f.kind);
            v.set_service(f.svc as usize);
            if t.enabled() {
                let p = &self.ports[pidx];
                let svc = &self.services[p.svc];
                t.hop(
                    Some("KP-3"),
                    format_args!(
                        "{ip} is the {} of {}/{}; port {port}/{} is Service port {:?} ({})",
                        kind.as_str(),
                        svc.namespace,
                        svc.name,
                        l4.as_str(),
                        p.name,
                        p.family.as_str()
                    ),
                );
            }
            return if kind == FrontKind::ClusterIp {
                self.internal(&src, dest, f, state, now, v, t)
            } else {
                self.external(&src, dest, pidx, kind, false, state, now, v, t)
            };
        }
        if let Some(&(kind, _)) = self.vip_addrs.get(&ip) {
            let fate = match (self.mode, kind) {
                (ProxyMode::Ipvs, _) | (ProxyMode::Nftables, FrontKind::ClusterIp) => {
                    PacketFate::Reject
                }
                _ => PacketFate::Unhandled,
            };
            t.hop(
                Some("KP-13"),
                format_args!(
                    "{ip} is a {} but no Service port is {port}/{}; {} mode: {}",
                    kind.as_str(),
                    l4.as_str(),
                    self.mode.as_str(),
                    fate.as_str()
                ),
            );
            return v.finish(Outcome::PortNotExposed, Some(fate));
        }
        if let Some(&svc) = self.lb_proxy_addrs.get(&ip) {
            v.set_service(svc);
            t.hop(
                Some("ALLOC-13"),
                format_args!(
                    "{ip} is a load-balancer ingress with ipMode Proxy: kube-proxy leaves it alone"
                ),
            );
            return v.finish(Outcome::NotCaptured, Some(PacketFate::Unhandled));
        }
        if let Some(&node) = self.node_by_ip.get(&ip) {
            // The packet is handled by the node that owns the address.
            if src.node != Some(node) {
                src.host = false;
                src.node = Some(node);
                v.set_node(src.node);
            }
            if let Some(&svc) = self.health_checks.get(&port)
                && l4 == L4::TCP
            {
                return self.health_check(svc, node, v, t);
            }
            if let Some(&pidx) = self.node_port_numbers.get(&(port, l4, IpFamily::of(&ip)))
                && self.node_port_ips.contains_key(&ip)
            {
                let p = &self.ports[pidx];
                let svc = &self.services[p.svc];
                v.set_service(p.svc);
                t.hop(
                    Some("KP-3"),
                    format_args!(
                        "{ip}:{port}/{} is NodePort of {}/{} port {:?} on node {}",
                        l4.as_str(),
                        svc.namespace,
                        svc.name,
                        p.name,
                        self.nodes[node].name
                    ),
                );
                return self.external(
                    &src,
                    dest,
                    pidx,
                    FrontKind::ClusterIp,
                    true,
                    state,
                    now,
                    v,
                    t,
                );
            }
            t.hop(
                None,
                format_args!(
                    "{ip} is node {}; no NodePort {port}/{}",
                    self.nodes[node].name,
                    l4.as_str()
                ),
            );
            return v.finish(Outcome::NoSuchService, Some(PacketFate::Unhandled));
        }
        if self.service_cidrs.iter().any(|c| c.contains(ip)) && self.mode == ProxyMode::Nftables {
            t.hop(
                Some("KP-13"),
                format_args!("{ip} is an unallocated address of a service CIDR: nftables drops it"),
            );
            return v.finish(Outcome::Drop, Some(PacketFate::Drop));
        }
        t.hop(None, format_args!("no Service owns {dest}"));
        v.finish(Outcome::NoSuchService, Some(PacketFate::Unhandled))
    }

    fn health_check<'a, T: Tracer>(
        &'a self,
        svc_idx: usize,
        node: usize,
        mut v: Verdict<'a>,
        t: &mut T,
    ) -> Verdict<'a> {
        let svc = &self.services[svc_idx];
        let node_name = &self.nodes[node].name;
        // The local ready endpoints' distinct addresses, counted in place.
        let local = || {
            svc.ports
                .iter()
                .flat_map(|&pidx| self.ports[pidx].eps.iter())
                .filter(|ep| ep.ready && ep.node.as_deref() == Some(node_name))
        };
        let count = local()
            .enumerate()
            .filter(|(i, ep)| !local().take(*i).any(|e| e.addr.ip() == ep.addr.ip()))
            .count();
        let status = if count == 0 { 503 } else { 200 };
        v.set_service(svc_idx);
        t.hop(
            Some("KP-10"),
            format_args!(
                "health-check NodePort of {}/{} on {node_name}: {count} local ready endpoint(s) → {status}",
                svc.namespace, svc.name,
            ),
        );
        v.health(status, count)
    }

    fn has_any(p: &PortInfo) -> bool {
        p.sets.has_any
    }

    /// KP-4.1 with KP-6: the cluster endpoints of the VIP record `f`
    /// seen from `node`: without hint sets, the record's own copy.
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn front_cluster_set<'a, T: Tracer>(
        &'a self,
        p: &'a PortInfo,
        f: &Front,
        node: Option<usize>,
        t: &mut T,
    ) -> Chosen<'a> {
        if f.topology {
            return self.cluster_set(p, node, t);
        }
        let why = if f.fallback {
            Why::Fallback
        } else {
            Why::AllReady
        };
        Self::cluster_hop(why, "", "", t);
        Chosen {
            set: self.flat.get(f.cluster),
            how: How::Cluster(why),
        }
    }

    /// KP-4.1 with KP-6: the cluster endpoints seen from `node`.
    fn cluster_set<'p, T: Tracer>(
        &self,
        p: &'p PortInfo,
        node: Option<usize>,
        t: &mut T,
    ) -> Chosen<'p> {
        let (name, zone) = node
            .and_then(|n| self.nodes.get(n))
            .map_or(("", ""), |n| (n.name.as_str(), n.zone.as_str()));
        let (set, why) = cluster_set_of(p, name, zone);
        Self::cluster_hop(why, name, zone, t);
        Chosen {
            set,
            how: How::Cluster(why),
        }
    }

    /// The hop saying how a cluster set was made.
    #[inline]
    fn cluster_hop<T: Tracer>(why: Why, name: &str, zone: &str, t: &mut T) {
        match why {
            Why::Fallback => t.hop(
                Some("KP-11"),
                format_args!(
                    "no ready endpoint: serving-terminating endpoints are used, without topology"
                ),
            ),
            Why::NodeHints => t.hop(
                Some("KP-6"),
                format_args!("every ready endpoint has node hints: only those for {name}"),
            ),
            Why::ZoneHints => t.hop(
                Some("KP-6"),
                format_args!("every ready endpoint has zone hints: only those for {zone}"),
            ),
            Why::AllReady => t.hop(
                Some("KP-4"),
                format_args!("cluster endpoints: every ready endpoint (no usable hints)"),
            ),
        }
    }

    /// Why endpoint `e` is not in a set made by `how` at `node`.
    fn exclusion(&self, e: &super::Ep, how: How, node: Option<usize>) -> (&'static str, String) {
        let here = node
            .and_then(|n| self.nodes.get(n))
            .map_or(("", ""), |n| (n.name.as_str(), n.zone.as_str()));
        if !(e.ready || (e.serving && e.terminating)) {
            return ("KP-4", "not ready (and not serving-terminating)".into());
        }
        match how {
            How::Local if e.node.as_deref() != Some(here.0) => (
                "KP-7",
                format!(
                    "on node {}, not on {} (Local traffic policy)",
                    e.node.as_deref().unwrap_or("<none>"),
                    here.0
                ),
            ),
            How::Local | How::Cluster(Why::AllReady) if !e.ready => {
                ("KP-11", "terminating; ready endpoints exist".into())
            }
            How::Cluster(Why::NodeHints) if e.ready => (
                "KP-6",
                format!("hinted for nodes {:?}, not {}", e.for_nodes, here.0),
            ),
            How::Cluster(Why::ZoneHints) if e.ready => (
                "KP-6",
                format!("hinted for zones {:?}, not {}", e.for_zones, here.1),
            ),
            _ => ("KP-11", "terminating; ready endpoints exist".into()),
        }
    }

    /// KP-4.2: the local endpoints on `node`.
    fn local_set<'p, T: Tracer>(
        &self,
        p: &'p PortInfo,
        node: Option<usize>,
        t: &mut T,
    ) -> Chosen<'p> {
        let empty = Chosen {
            set: &[],
            how: How::Local,
        };
        let Some(name) = node
            .and_then(|n| self.nodes.get(n))
            .map(|n| n.name.as_str())
        else {
            return empty;
        };
        match p.sets.local.get(name) {
            Some((set, fallback)) => {
                if *fallback {
                    t.hop(
                        Some("KP-11"),
                        format_args!(
                            "no ready endpoint on {name}: its serving-terminating endpoints"
                        ),
                    );
                } else {
                    t.hop(
                        Some("KP-4"),
                        format_args!("local endpoints: the ready endpoints on {name}"),
                    );
                }
                Chosen {
                    set,
                    how: How::Local,
                }
            }
            None => empty,
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn internal<'a, T: Tracer>(
        &'a self,
        src: &Src,
        dest: &SocketAddr,
        f: &Front,
        state: &mut RouteState,
        now: Millis,
        v: Verdict<'a>,
        t: &mut T,
    ) -> Verdict<'a> {
        let p = &self.ports[f.port];
        if !f.has_any {
            t.hop(
                Some("KP-12"),
                format_args!("the Service has no usable endpoint anywhere: reject"),
            );
            return v.finish(Outcome::Reject, Some(PacketFate::Reject));
        }
        let chosen = if f.itp_local {
            let local = self.local_set(p, src.node, t);
            if local.set.is_empty() {
                if self.mode == ProxyMode::Ipvs {
                    if f.externally_accessible {
                        t.hop(
                            Some("KP-9"),
                            format_args!("IPVS: no local endpoint, the cluster endpoints are used"),
                        );
                        self.front_cluster_set(p, f, src.node, t)
                    } else {
                        t.hop(
                            Some("KP-12"),
                            format_args!(
                                "IPVS: internalTrafficPolicy Local without local endpoint leaves the virtual server empty: reject"
                            ),
                        );
                        return v.finish(Outcome::Reject, Some(PacketFate::Reject));
                    }
                } else {
                    t.hop(
                        Some("KP-7"),
                        format_args!(
                            "internalTrafficPolicy Local and no endpoint on this node: drop"
                        ),
                    );
                    return v.finish(Outcome::Drop, Some(PacketFate::Drop));
                }
            } else {
                local
            }
        } else {
            self.front_cluster_set(p, f, src.node, t)
        };
        let masq = if self.masquerade_all {
            t.hop(Some("KP-20"), format_args!("--masquerade-all"));
            true
        } else if self.detector(src.ip, src.node) == Some(false) {
            t.hop(
                Some("KP-20"),
                format_args!("source {} is not a local pod: masquerade", src.ip),
            );
            true
        } else {
            false
        };
        self.forward(
            src,
            dest,
            p,
            chosen,
            (masq, f.ip_filter),
            (f.scope, f.affinity),
            state,
            now,
            v,
            t,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn external<'a, T: Tracer>(
        &'a self,
        src: &Src,
        dest: &SocketAddr,
        pidx: usize,
        kind: FrontKind,
        node_port: bool,
        state: &mut RouteState,
        now: Millis,
        v: Verdict<'a>,
        t: &mut T,
    ) -> Verdict<'a> {
        let p = &self.ports[pidx];
        let svc = &self.services[p.svc];
        let any = Self::has_any(p);
        if kind == FrontKind::LoadBalancer && !svc.source_ranges.is_empty() {
            let node_ip_in_range = src.node.and_then(|n| self.nodes.get(n)).is_some_and(|n| {
                n.ips
                    .iter()
                    .any(|ip| svc.source_ranges.iter().any(|r| r.contains(*ip)))
            });
            let allowed = svc.source_ranges.iter().any(|r| r.contains(src.ip))
                || (src.ip == dest.ip() && node_ip_in_range);
            if !allowed {
                if self.mode == ProxyMode::Iptables && !any {
                    t.hop(
                        Some("KP-14"),
                        format_args!(
                            "source outside loadBalancerSourceRanges, but iptables has no firewall chain without endpoints: reject"
                        ),
                    );
                    return v.finish(Outcome::Reject, Some(PacketFate::Reject));
                }
                t.hop(
                    Some("KP-14"),
                    format_args!(
                        "source {} is outside loadBalancerSourceRanges: drop",
                        src.ip
                    ),
                );
                return v.finish(Outcome::Drop, Some(PacketFate::Drop));
            }
            t.hop(
                Some("KP-14"),
                format_args!("source {} is inside loadBalancerSourceRanges", src.ip),
            );
        }
        if !any {
            if self.mode == ProxyMode::Iptables && src.host && !node_port {
                t.hop(
                    Some("KP-12"),
                    format_args!(
                        "no endpoint, but iptables rejects only in INPUT/FORWARD: a host process's packet leaves unhandled"
                    ),
                );
                return v.finish(Outcome::NotCaptured, Some(PacketFate::Unhandled));
            }
            t.hop(
                Some("KP-12"),
                format_args!("the Service has no usable endpoint anywhere: reject"),
            );
            return v.finish(Outcome::Reject, Some(PacketFate::Reject));
        }
        let (chosen, masq) = if svc.etp_local {
            if self.mode == ProxyMode::Ipvs {
                let local = self.local_set(p, src.node, t);
                if local.set.is_empty() {
                    t.hop(
                        Some("KP-9"),
                        format_args!(
                            "IPVS: no local endpoint, the cluster endpoints are used, no SNAT"
                        ),
                    );
                    (self.cluster_set(p, src.node, t), src.host)
                } else {
                    (local, src.host)
                }
            } else if src.host {
                t.hop(
                    Some("KP-9"),
                    format_args!(
                        "externalTrafficPolicy Local, source is the node itself: cluster endpoints, masqueraded"
                    ),
                );
                (self.cluster_set(p, src.node, t), true)
            } else if self.detector(src.ip, src.node) == Some(true) {
                t.hop(
                    Some("KP-9"),
                    format_args!(
                        "externalTrafficPolicy Local, source is a local pod: short-circuited to the cluster endpoints"
                    ),
                );
                (self.cluster_set(p, src.node, t), false)
            } else {
                let local = self.local_set(p, src.node, t);
                if local.set.is_empty() {
                    t.hop(
                        Some("KP-8"),
                        format_args!(
                            "externalTrafficPolicy Local and no endpoint on this node: drop"
                        ),
                    );
                    return v.finish(Outcome::Drop, Some(PacketFate::Drop));
                }
                t.hop(
                    Some("KP-8"),
                    format_args!("externalTrafficPolicy Local: no SNAT"),
                );
                (local, false)
            }
        } else {
            t.hop(
                Some("KP-20"),
                format_args!("external traffic with externalTrafficPolicy Cluster is masqueraded"),
            );
            (self.cluster_set(p, src.node, t), true)
        };
        let scope = match self.mode {
            ProxyMode::Ipvs => vs_hash(dest.ip(), dest.port(), p.protocol),
            _ => p.scope,
        };
        self.forward(
            src,
            dest,
            p,
            chosen,
            (masq, p.ip_filter),
            (scope, svc.affinity_timeout),
            state,
            now,
            v,
            t,
        )
    }

    /// KP-16..KP-18: the endpoint of `set` (in endpoint order) the kernel
    /// gives a new connection in this mode: the iptables probability chain,
    /// the nftables `numgen`, or the IPVS scheduler of virtual server `vs`
    /// on its node. `set` is not empty. Returns the position in `set`.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn schedule(
        &self,
        p: &PortInfo,
        set: &[SocketAddr],
        vs: (u64, u64),
        client: IpAddr,
        dest: &SocketAddr,
        state: &mut RouteState,
        now: Millis,
    ) -> usize {
        let k = match self.mode {
            // KP-16, one draw mapped through the chain's bounds (`draw`).
            ProxyMode::Iptables => self.draws.pick(set.len(), state.rng().next_u64()),
            ProxyMode::Nftables => pick_numgen(set.len(), state.rng()),
            ProxyMode::Ipvs => {
                let fp = set_fingerprint(p, set);
                match state.ipvs_rr_steady(vs, self.scheduler, fp) {
                    Some(k) => k,
                    None => self.schedule_ipvs(p, set, vs, fp, client, dest, state, now),
                }
            }
        };
        k.min(set.len() - 1)
    }

    /// KP-18 for [`schedule`](Self::schedule): the position in `set` the
    /// scheduler of virtual server `vs` gives the connection.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn schedule_ipvs(
        &self,
        p: &PortInfo,
        set: &[SocketAddr],
        vs: (u64, u64),
        fp: u64,
        client: IpAddr,
        dest: &SocketAddr,
        state: &mut RouteState,
        now: Millis,
    ) -> usize {
        let proto = match p.protocol {
            L4::UDP => proto::UDP,
            L4::SCTP => proto::SCTP,
            _ => proto::TCP,
        };
        let flow = || FlowKey::new(client, 0, dest.ip(), dest.port(), proto);
        state
            .ipvs_pick(vs, self.scheduler, fp, set.iter().copied(), flow, now)
            .unwrap_or(0)
    }

    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "compact"), inline(always))]
    fn forward<'a, T: Tracer>(
        &'a self,
        src: &Src,
        dest: &SocketAddr,
        p: &'a PortInfo,
        chosen: Chosen<'a>,
        (masq, ip_filter): (bool, u64),
        (scope, affinity): (u64, Option<Millis>),
        state: &mut RouteState,
        now: Millis,
        v: Verdict<'a>,
        t: &mut T,
    ) -> Verdict<'a> {
        let eps = chosen.set;
        if t.enabled() {
            for e in &p.eps {
                if !eps.contains(&e.addr) {
                    let (rule, why) = self.exclusion(e, chosen.how, src.node);
                    t.hop(Some(rule), format_args!("{} excluded: {why}", e.addr));
                }
            }
        }
        if eps.is_empty() {
            t.hop(Some("KP-12"), format_args!("no eligible endpoint: reject"));
            return v.finish(Outcome::Reject, Some(PacketFate::Reject));
        }
        let hairpin = if masq || ip_filter & ip_bit(src.ip) == 0 {
            None
        } else {
            eps.iter().position(|e| e.ip() == src.ip)
        };
        let masquerade = if masq {
            Masquerade::Yes
        } else if hairpin.is_some() {
            t.hop(
                Some("KP-20"),
                format_args!(
                    "the source is itself an eligible endpoint: SNAT if it picks itself (hairpin)"
                ),
            );
            Masquerade::IfSelf
        } else {
            Masquerade::No
        };
        let node_hash = src
            .node
            .and_then(|n| self.nodes.get(n))
            .map_or(0, |n| n.hash);
        let remembered = match affinity {
            Some(timeout) => match state.sticky((node_hash, scope, src.ip), now, timeout) {
                Some(ep) => eps.iter().position(|e| *e == ep),
                None => None,
            },
            None => None,
        };
        let k = match remembered {
            Some(k) => {
                t.hop(
                    Some("KP-19"),
                    format_args!("ClientIP affinity: {} remembered for {}", eps[k], src.ip),
                );
                k
            }
            None => self.schedule(p, eps, (node_hash, scope), src.ip, dest, state, now),
        };
        if affinity.is_some() {
            state.remember((node_hash, scope, src.ip), eps[k], now);
        }
        t.hop(None, format_args!("picked {}", eps[k]));
        v.forward(eps, k, masquerade, hairpin)
    }
}
