//! `route()`: kube-proxy's decisions (rules KP-1 … KP-20).

use std::net::{IpAddr, SocketAddr};

use super::state::stable_hash;
use super::{
    Dataplane, Decision, Destination, FrontKind, Masquerade, Millis, Outcome, PacketFate, Pick,
    PortInfo, Request, RouteError, RouteState, Source, render,
};
use crate::api::Protocol as L4;
use crate::balance::kube::{pick_chain, pick_numgen};
use crate::balance::{FlowKey, proto};
use crate::cluster::{DetectLocalMode, ProxyMode};
use crate::ipam::IpFamily;

/// The source as kube-proxy sees it.
#[derive(Debug, Clone)]
struct Src {
    ip: IpAddr,
    /// The node whose kube-proxy first sees the packet (index).
    node: Option<usize>,
    /// A host-network process (kernel address type LOCAL on its node).
    host: bool,
}

/// The eligible set: indices into the port's endpoints, and how it was made.
struct Chosen<'p> {
    set: &'p [u32],
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
fn cluster_set_of<'p>(p: &'p PortInfo, node: &str, zone: &str) -> (&'p [u32], Why) {
    let s = &p.sets;
    if s.fallback {
        return (&s.cluster, Why::Fallback);
    }
    if !node.is_empty()
        && let Some(set) = s.by_node.get(node)
    {
        return (set, Why::NodeHints);
    }
    if !zone.is_empty()
        && let Some(set) = s.by_zone.get(zone)
    {
        return (set, Why::ZoneHints);
    }
    (&s.cluster, Why::AllReady)
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
        let src = self.source(&req.source, &dest, req.protocol.l4())?;
        Ok(self.route_ip(src, dest, req.protocol, state, now, d))
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
        let Some(&(pidx, FrontKind::ClusterIp)) =
            self.vips.get(&(dest.ip(), dest.port(), protocol.l4()))
        else {
            return Pick::NotClusterIp;
        };
        let p = &self.ports[pidx];
        let svc = &self.services[p.svc];
        if !p.sets.has_any {
            return Pick::Reject;
        }
        let n = self.node_by_name.get(node).map(|&i| &self.nodes[i]);
        let (zone, node_hash) = n.map_or(("", 0), |n| (n.zone.as_str(), n.hash));
        let set: &[u32] = if svc.itp_local {
            match p.sets.local.get(node) {
                Some((set, _)) => set,
                None if self.mode == ProxyMode::Ipvs && svc.externally_accessible => {
                    cluster_set_of(p, node, zone).0
                }
                None if self.mode == ProxyMode::Ipvs => return Pick::Reject,
                None => return Pick::Drop,
            }
        } else {
            cluster_set_of(p, node, zone).0
        };
        if set.is_empty() {
            return Pick::Reject;
        }
        let scope = match self.mode {
            ProxyMode::Ipvs => p.cluster_vs,
            _ => p.scope,
        };
        let key = (node_hash, scope, client);
        let remembered = svc.affinity_timeout.and_then(|t| {
            let ep = state.sticky(key, now, t)?;
            set.iter()
                .any(|&i| p.eps[i as usize].addr == ep)
                .then_some(ep)
        });
        let ep = match remembered {
            Some(ep) => ep,
            None => self.schedule(p, set, (node_hash, scope), client, dest, state, now),
        };
        if svc.affinity_timeout.is_some() {
            state.remember(key, ep, now);
        }
        Pick::Endpoint(ep)
    }

    /// The first node (by name) with a local ready endpoint for the
    /// external VIP `dest` of an externalTrafficPolicy Local Service.
    fn healthy_front_door(&self, dest: &SocketAddr, l4: L4) -> Option<usize> {
        let &(pidx, kind) = self.vips.get(&(dest.ip(), dest.port(), l4))?;
        let p = &self.ports[pidx];
        if kind == FrontKind::ClusterIp || !self.services[p.svc].etp_local {
            return None;
        }
        self.nodes
            .iter()
            .position(|n| matches!(p.sets.local.get(&n.name), Some((_, false))))
    }

    fn source(&self, source: &Source, dest: &SocketAddr, l4: L4) -> Result<Src, RouteError> {
        let fam = IpFamily::of(&dest.ip());
        match source {
            Source::Pod { namespace, name } => {
                let key = (namespace.clone(), name.clone());
                let pod = self
                    .pods
                    .get(&key)
                    .ok_or_else(|| RouteError::UnknownPod(format!("{namespace}/{name}")))?;
                let ip = pod
                    .ips
                    .iter()
                    .copied()
                    .find(|ip| IpFamily::of(ip) == fam)
                    .ok_or_else(|| RouteError::PodWithoutIp(format!("{namespace}/{name}")))?;
                let node = pod
                    .node
                    .as_ref()
                    .and_then(|n| self.node_by_name.get(n).copied());
                Ok(Src {
                    ip,
                    node,
                    // A hostNetwork pod is a host process (address type LOCAL).
                    host: pod.host_network,
                })
            }
            Source::Node(name) => {
                let idx = *self
                    .node_by_name
                    .get(name)
                    .ok_or_else(|| RouteError::UnknownNode(name.clone()))?;
                let ip = self.nodes[idx]
                    .ips
                    .iter()
                    .copied()
                    .find(|ip| IpFamily::of(ip) == fam)
                    .ok_or_else(|| RouteError::NodeWithoutIp(name.clone()))?;
                Ok(Src {
                    ip,
                    node: Some(idx),
                    host: true,
                })
            }
            Source::External { ip, arrives_at } => {
                let node = match arrives_at {
                    Some(n) => Some(
                        *self
                            .node_by_name
                            .get(n)
                            .ok_or_else(|| RouteError::UnknownNode(n.clone()))?,
                    ),
                    // D16: through the destination's own front door: the
                    // node owning the address; for a load balancer with
                    // externalTrafficPolicy Local, the first node whose
                    // health check passes (KP-10); otherwise the first node.
                    None => self
                        .node_by_ip
                        .get(&dest.ip())
                        .copied()
                        .or_else(|| self.healthy_front_door(dest, l4))
                        .or((!self.nodes.is_empty()).then_some(0)),
                };
                Ok(Src {
                    ip: *ip,
                    node,
                    host: false,
                })
            }
        }
    }

    /// Does the local-traffic detector (`--detect-local-mode`) exist, and
    /// does it call `ip` a local pod at `node`?
    fn detector(&self, ip: IpAddr, node: Option<usize>) -> Option<bool> {
        match self.detect_local {
            DetectLocalMode::ClusterCIDR => {
                let of_family: Vec<_> = self
                    .cluster_cidrs
                    .iter()
                    .filter(|c| c.family() == IpFamily::of(&ip))
                    .collect();
                (!of_family.is_empty()).then(|| of_family.iter().any(|c| c.contains(ip)))
            }
            DetectLocalMode::NodeCIDR => {
                let cidrs = &self.nodes.get(node?)?.pod_cidrs;
                let of_family: Vec<_> = cidrs
                    .iter()
                    .filter(|c| c.family() == IpFamily::of(&ip))
                    .collect();
                (!of_family.is_empty()).then(|| of_family.iter().any(|c| c.contains(ip)))
            }
            DetectLocalMode::None => None,
        }
    }

    fn route_ip(
        &self,
        mut src: Src,
        dest: SocketAddr,
        protocol: super::Protocol,
        state: &mut RouteState,
        now: Millis,
        mut d: Decision,
    ) -> Decision {
        let l4 = protocol.l4();
        let ip = dest.ip();
        let port = dest.port();

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
                    d.hop(
                        Some("KP-15"),
                        format!(
                            "NodePort {port}/{} on {ip} (iptables localhost NodePorts)",
                            l4.as_str()
                        ),
                    );
                    self.external(src, dest, pidx, FrontKind::ClusterIp, true, state, now, d)
                }
                Some(_) => {
                    d.hop(
                        Some("KP-15"),
                        format!(
                            "localhost NodePorts do not exist in {} mode (or for this source)",
                            self.mode.as_str()
                        ),
                    );
                    d.end(Outcome::NotCaptured, Some(PacketFate::Unhandled));
                    d
                }
                None => {
                    d.hop(None, format!("nothing listens on {dest}"));
                    d.end(Outcome::NoSuchService, Some(PacketFate::Unhandled));
                    d
                }
            };
        }

        if let Some(&(pidx, kind)) = self.vips.get(&(ip, port, l4)) {
            let p = &self.ports[pidx];
            let svc = &self.services[p.svc];
            d.service = Some(format!("{}/{}", svc.namespace, svc.name));
            d.hop(
                Some("KP-3"),
                format!(
                    "{ip} is the {} of {}/{}; port {port}/{} is Service port {:?} ({})",
                    kind.as_str(),
                    svc.namespace,
                    svc.name,
                    l4.as_str(),
                    p.name,
                    p.family.as_str()
                ),
            );
            return if kind == FrontKind::ClusterIp {
                self.internal(src, dest, pidx, state, now, d)
            } else {
                self.external(src, dest, pidx, kind, false, state, now, d)
            };
        }
        if let Some(&(kind, _)) = self.vip_addrs.get(&ip) {
            let fate = match (self.mode, kind) {
                (ProxyMode::Ipvs, _) | (ProxyMode::Nftables, FrontKind::ClusterIp) => {
                    PacketFate::Reject
                }
                _ => PacketFate::Unhandled,
            };
            d.hop(
                Some("KP-13"),
                format!(
                    "{ip} is a {} but no Service port is {port}/{}; {} mode: {}",
                    kind.as_str(),
                    l4.as_str(),
                    self.mode.as_str(),
                    fate.as_str()
                ),
            );
            d.end(Outcome::PortNotExposed, Some(fate));
            return d;
        }
        if let Some(&svc) = self.lb_proxy_addrs.get(&ip) {
            let s = &self.services[svc];
            d.service = Some(format!("{}/{}", s.namespace, s.name));
            d.hop(
                Some("ALLOC-13"),
                format!(
                    "{ip} is a load-balancer ingress with ipMode Proxy: kube-proxy leaves it alone"
                ),
            );
            d.end(Outcome::NotCaptured, Some(PacketFate::Unhandled));
            return d;
        }
        if let Some(&node) = self.node_by_ip.get(&ip) {
            // The packet is handled by the node that owns the address.
            if src.node != Some(node) {
                src.host = false;
                src.node = Some(node);
            }
            if let Some(&svc) = self.health_checks.get(&port)
                && l4 == L4::TCP
            {
                return self.health_check(svc, node, d);
            }
            if let Some(&pidx) = self.node_ports.get(&(ip, port, l4)) {
                let p = &self.ports[pidx];
                let svc = &self.services[p.svc];
                d.service = Some(format!("{}/{}", svc.namespace, svc.name));
                d.hop(
                    Some("KP-3"),
                    format!(
                        "{ip}:{port}/{} is NodePort of {}/{} port {:?} on node {}",
                        l4.as_str(),
                        svc.namespace,
                        svc.name,
                        p.name,
                        self.nodes[node].name
                    ),
                );
                return self.external(src, dest, pidx, FrontKind::ClusterIp, true, state, now, d);
            }
            d.hop(
                None,
                format!(
                    "{ip} is node {}; no NodePort {port}/{}",
                    self.nodes[node].name,
                    l4.as_str()
                ),
            );
            d.end(Outcome::NoSuchService, Some(PacketFate::Unhandled));
            return d;
        }
        if self.service_cidrs.iter().any(|c| c.contains(ip)) && self.mode == ProxyMode::Nftables {
            d.hop(
                Some("KP-13"),
                format!("{ip} is an unallocated address of a service CIDR: nftables drops it"),
            );
            d.end(Outcome::Drop, Some(PacketFate::Drop));
            return d;
        }
        d.hop(None, format!("no Service owns {dest}"));
        d.end(Outcome::NoSuchService, Some(PacketFate::Unhandled));
        d
    }

    fn health_check(&self, svc_idx: usize, node: usize, mut d: Decision) -> Decision {
        let svc = &self.services[svc_idx];
        let node_name = &self.nodes[node].name;
        let mut ips: Vec<IpAddr> = Vec::new();
        for &pidx in &svc.ports {
            for ep in &self.ports[pidx].eps {
                if ep.ready && ep.node.as_deref() == Some(node_name) && !ips.contains(&ep.addr.ip())
                {
                    ips.push(ep.addr.ip());
                }
            }
        }
        let status = if ips.is_empty() { 503 } else { 200 };
        d.service = Some(format!("{}/{}", svc.namespace, svc.name));
        d.hop(
            Some("KP-10"),
            format!(
                "health-check NodePort of {}/{} on {node_name}: {} local ready endpoint(s) → {status}",
                svc.namespace,
                svc.name,
                ips.len()
            ),
        );
        let body = serde_json::json!({
            "service": {"namespace": svc.namespace, "name": svc.name},
            "localEndpoints": ips.len(),
            "serviceProxyHealthy": true,
        });
        d.http = Some(super::HttpAnswer {
            status,
            body: body.to_string(),
        });
        d.end(Outcome::Http, None);
        d
    }

    fn has_any(p: &PortInfo) -> bool {
        p.sets.has_any
    }

    /// KP-4.1 with KP-6: the cluster endpoints seen from `node`.
    fn cluster_set<'p>(
        &self,
        p: &'p PortInfo,
        node: Option<usize>,
        d: &mut Decision,
    ) -> Chosen<'p> {
        let (name, zone) = node
            .and_then(|n| self.nodes.get(n))
            .map_or(("", ""), |n| (n.name.as_str(), n.zone.as_str()));
        match cluster_set_of(p, name, zone) {
            (set, Why::Fallback) => {
                d.hop(
                    Some("KP-11"),
                    "no ready endpoint: serving-terminating endpoints are used, without topology",
                );
                Chosen {
                    set,
                    how: How::Cluster(Why::Fallback),
                }
            }
            (set, Why::NodeHints) => {
                d.hop(
                    Some("KP-6"),
                    format!("every ready endpoint has node hints: only those for {name}"),
                );
                Chosen {
                    set,
                    how: How::Cluster(Why::NodeHints),
                }
            }
            (set, Why::ZoneHints) => {
                d.hop(
                    Some("KP-6"),
                    format!("every ready endpoint has zone hints: only those for {zone}"),
                );
                Chosen {
                    set,
                    how: How::Cluster(Why::ZoneHints),
                }
            }
            (set, Why::AllReady) => {
                d.hop(
                    Some("KP-4"),
                    "cluster endpoints: every ready endpoint (no usable hints)",
                );
                Chosen {
                    set,
                    how: How::Cluster(Why::AllReady),
                }
            }
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
    fn local_set<'p>(&self, p: &'p PortInfo, node: Option<usize>, d: &mut Decision) -> Chosen<'p> {
        let Some(name) = node
            .and_then(|n| self.nodes.get(n))
            .map(|n| n.name.as_str())
        else {
            return Chosen {
                set: &[],
                how: How::Local,
            };
        };
        match p.sets.local.get(name) {
            Some((set, false)) => {
                d.hop(
                    Some("KP-4"),
                    format!("local endpoints: the ready endpoints on {name}"),
                );
                Chosen {
                    set,
                    how: How::Local,
                }
            }
            Some((set, true)) => {
                d.hop(
                    Some("KP-11"),
                    format!("no ready endpoint on {name}: its serving-terminating endpoints"),
                );
                Chosen {
                    set,
                    how: How::Local,
                }
            }
            None => Chosen {
                set: &[],
                how: How::Local,
            },
        }
    }

    fn internal(
        &self,
        src: Src,
        dest: SocketAddr,
        pidx: usize,
        state: &mut RouteState,
        now: Millis,
        mut d: Decision,
    ) -> Decision {
        let p = &self.ports[pidx];
        let svc = &self.services[p.svc];
        if !Self::has_any(p) {
            d.hop(
                Some("KP-12"),
                "the Service has no usable endpoint anywhere: reject",
            );
            d.end(Outcome::Reject, Some(PacketFate::Reject));
            return d;
        }
        let chosen = if svc.itp_local {
            let local = self.local_set(p, src.node, &mut d);
            if local.set.is_empty() {
                if self.mode == ProxyMode::Ipvs {
                    if svc.externally_accessible {
                        d.hop(
                            Some("KP-9"),
                            "IPVS: no local endpoint, the cluster endpoints are used",
                        );
                        self.cluster_set(p, src.node, &mut d)
                    } else {
                        d.hop(
                            Some("KP-12"),
                            "IPVS: internalTrafficPolicy Local without local endpoint leaves the virtual server empty: reject",
                        );
                        d.end(Outcome::Reject, Some(PacketFate::Reject));
                        return d;
                    }
                } else {
                    d.hop(
                        Some("KP-7"),
                        "internalTrafficPolicy Local and no endpoint on this node: drop",
                    );
                    d.end(Outcome::Drop, Some(PacketFate::Drop));
                    return d;
                }
            } else {
                local
            }
        } else {
            self.cluster_set(p, src.node, &mut d)
        };
        let masq = if self.masquerade_all {
            d.hop(Some("KP-20"), "--masquerade-all");
            true
        } else if self.detector(src.ip, src.node) == Some(false) {
            d.hop(
                Some("KP-20"),
                format!("source {} is not a local pod: masquerade", src.ip),
            );
            true
        } else {
            false
        };
        let scope = match self.mode {
            ProxyMode::Ipvs => p.cluster_vs,
            _ => p.scope,
        };
        self.forward(&src, dest, p, chosen, masq, scope, state, now, d)
    }

    #[allow(clippy::too_many_arguments)]
    fn external(
        &self,
        src: Src,
        dest: SocketAddr,
        pidx: usize,
        kind: FrontKind,
        node_port: bool,
        state: &mut RouteState,
        now: Millis,
        mut d: Decision,
    ) -> Decision {
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
                    d.hop(
                        Some("KP-14"),
                        "source outside loadBalancerSourceRanges, but iptables has no firewall chain without endpoints: reject",
                    );
                    d.end(Outcome::Reject, Some(PacketFate::Reject));
                } else {
                    d.hop(
                        Some("KP-14"),
                        format!(
                            "source {} is outside loadBalancerSourceRanges: drop",
                            src.ip
                        ),
                    );
                    d.end(Outcome::Drop, Some(PacketFate::Drop));
                }
                return d;
            }
            d.hop(
                Some("KP-14"),
                format!("source {} is inside loadBalancerSourceRanges", src.ip),
            );
        }
        if !any {
            if self.mode == ProxyMode::Iptables && src.host && !node_port {
                d.hop(
                    Some("KP-12"),
                    "no endpoint, but iptables rejects only in INPUT/FORWARD: a host process's packet leaves unhandled",
                );
                d.end(Outcome::NotCaptured, Some(PacketFate::Unhandled));
            } else {
                d.hop(
                    Some("KP-12"),
                    "the Service has no usable endpoint anywhere: reject",
                );
                d.end(Outcome::Reject, Some(PacketFate::Reject));
            }
            return d;
        }
        let (chosen, masq) = if svc.etp_local {
            if self.mode == ProxyMode::Ipvs {
                let local = self.local_set(p, src.node, &mut d);
                if local.set.is_empty() {
                    d.hop(
                        Some("KP-9"),
                        "IPVS: no local endpoint, the cluster endpoints are used, no SNAT",
                    );
                    (self.cluster_set(p, src.node, &mut d), src.host)
                } else {
                    (local, src.host)
                }
            } else if src.host {
                d.hop(
                    Some("KP-9"),
                    "externalTrafficPolicy Local, source is the node itself: cluster endpoints, masqueraded",
                );
                (self.cluster_set(p, src.node, &mut d), true)
            } else if self.detector(src.ip, src.node) == Some(true) {
                d.hop(
                    Some("KP-9"),
                    "externalTrafficPolicy Local, source is a local pod: short-circuited to the cluster endpoints",
                );
                (self.cluster_set(p, src.node, &mut d), false)
            } else {
                let local = self.local_set(p, src.node, &mut d);
                if local.set.is_empty() {
                    d.hop(
                        Some("KP-8"),
                        "externalTrafficPolicy Local and no endpoint on this node: drop",
                    );
                    d.end(Outcome::Drop, Some(PacketFate::Drop));
                    return d;
                }
                d.hop(Some("KP-8"), "externalTrafficPolicy Local: no SNAT");
                (local, false)
            }
        } else {
            d.hop(
                Some("KP-20"),
                "external traffic with externalTrafficPolicy Cluster is masqueraded",
            );
            (self.cluster_set(p, src.node, &mut d), true)
        };
        let scope = match self.mode {
            ProxyMode::Ipvs => stable_hash(&[
                &dest.ip().to_string(),
                &dest.port().to_string(),
                p.protocol.as_str(),
            ]),
            _ => p.scope,
        };
        self.forward(&src, dest, p, chosen, masq, scope, state, now, d)
    }

    /// KP-16..KP-18: the endpoint of `set` (indices into `p.eps`, in
    /// endpoint order) the kernel gives a new connection in this mode: the
    /// iptables probability chain, the nftables `numgen`, or the IPVS
    /// scheduler of virtual server `vs` on its node. `set` is not empty.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn schedule(
        &self,
        p: &PortInfo,
        set: &[u32],
        vs: (u64, u64),
        client: IpAddr,
        dest: SocketAddr,
        state: &mut RouteState,
        now: Millis,
    ) -> SocketAddr {
        let k = match self.mode {
            ProxyMode::Iptables => pick_chain(self.chains.chain(set.len()), state.rng()),
            ProxyMode::Nftables => pick_numgen(set.len(), state.rng()),
            ProxyMode::Ipvs => {
                let proto = match p.protocol {
                    L4::UDP => proto::UDP,
                    L4::SCTP => proto::SCTP,
                    _ => proto::TCP,
                };
                let flow = FlowKey::new(client, 0, dest.ip(), dest.port(), proto);
                let eps = set.iter().map(|&i| p.eps[i as usize].addr);
                // Which set of this port it is (per node, the set is fixed
                // by the endpoint list and the node's name and zone).
                let fp = p.fingerprint
                    ^ crate::balance::hash::mix64(set.len() as u64, u64::from(set[0]), 0);
                state
                    .ipvs_pick(vs, self.scheduler, fp, eps, flow, now)
                    .unwrap_or(0)
            }
        };
        p.eps[set[k.min(set.len() - 1)] as usize].addr
    }

    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        src: &Src,
        dest: SocketAddr,
        p: &PortInfo,
        chosen: Chosen,
        masq: bool,
        scope: u64,
        state: &mut RouteState,
        now: Millis,
        mut d: Decision,
    ) -> Decision {
        let svc = &self.services[p.svc];
        for (i, e) in p.eps.iter().enumerate() {
            if !chosen.set.iter().any(|&c| c as usize == i) {
                let (rule, why) = self.exclusion(e, chosen.how, src.node);
                d.hop(Some(rule), format!("{} excluded: {why}", e.addr));
            }
        }
        let eps: Vec<SocketAddr> = chosen.set.iter().map(|&i| p.eps[i as usize].addr).collect();
        if eps.is_empty() {
            d.hop(Some("KP-12"), "no eligible endpoint: reject");
            d.end(Outcome::Reject, Some(PacketFate::Reject));
            return d;
        }
        d.masquerade = Some(if masq {
            Masquerade::Yes
        } else if eps.iter().any(|e| e.ip() == src.ip) {
            d.hop(
                Some("KP-20"),
                "the source is itself an eligible endpoint: SNAT if it picks itself (hairpin)",
            );
            Masquerade::IfSelf
        } else {
            Masquerade::No
        });
        let node_hash = src
            .node
            .and_then(|n| self.nodes.get(n))
            .map_or(0, |n| n.hash);
        let mut pick = None;
        if let Some(timeout) = svc.affinity_timeout {
            let key = (node_hash, scope, src.ip);
            if let Some(ep) = state.sticky(key, now, timeout)
                && eps.contains(&ep)
            {
                d.hop(
                    Some("KP-19"),
                    format!("ClientIP affinity: {} remembered for {}", ep, src.ip),
                );
                pick = Some(ep);
            }
        }
        let pick = match pick {
            Some(ep) => ep,
            None => self.schedule(p, chosen.set, (node_hash, scope), src.ip, dest, state, now),
        };
        if svc.affinity_timeout.is_some() {
            state.remember((node_hash, scope, src.ip), pick, now);
        }
        d.hop(None, format!("picked {pick}"));
        d.render = Some(render(self.mode, &eps, &self.ipvs_scheduler));
        d.chosen = Some(pick);
        d.endpoints = eps;
        d.end(Outcome::Forward, None);
        d
    }
}
