//! # dataplane: what kube-proxy (and an Ingress controller) does with a connection
//!
//! A [`Dataplane`] is compiled from a settled [`Cluster`] for one
//! kube-proxy mode. It is immutable and can be shared across threads: the
//! lookups are hash maps keyed by (destination IP, port, protocol) for
//! cluster IPs, externalIPs and VIP-mode load-balancer IPs, by (nodePort,
//! protocol, family) for NodePorts on any node address, by port for health-check
//! NodePorts; each Service port holds its endpoint list, read from the
//! EndpointSlices as kube-proxy reads them (rule EP-13: name and protocol
//! match, `addresses[0]`, duplicates collapsed, sorted by the `ip:port`
//! string).
//!
//! [`Dataplane::route`] answers one [`Request`] with a [`Decision`]: the
//! outcome in the conformance vocabulary, the eligible endpoint set (rule
//! KP-4 categorisation, topology hints KP-6, traffic policies KP-7..KP-9,
//! terminating fallback KP-11), the pick, masquerade (KP-20), the packet's
//! fate, per-mode differences (KP-9, KP-12..KP-15), and a trace of hops.
//! What changes per pick (ClientIP affinity memory, KP-19, and the random
//! source) lives in a [`RouteState`] the caller owns and passes in with
//! `now`.
//!
//! Backend selection is [`crate::balance`]'s: iptables picks with the
//! distribution of kube-proxy's probability chain (KP-16; the chain of
//! [`crate::balance::kube::ChainTable`], walked with one 64-bit draw per
//! pick mapped through the chain's cumulative bounds instead of one draw
//! per rule tried: the same shares within 2^-64, the same seed
//! determinism, a different sequence than
//! [`crate::balance::kube::pick_chain`] for the same seed), nftables draws `numgen random mod n` (KP-17), IPVS runs the configured
//! `--ipvs-scheduler` ([`crate::balance::Ipvs`]: rr, wrr, lc, wlc, sed, nq,
//! sh, dh, mh; every real server weight 1, KP-18) with one scheduler state
//! per node and virtual server in the [`RouteState`]. The rendering of a
//! decision ([`render`]) is written from the same chains.
//!
//! DNS destinations are resolved by the cluster DNS ([`crate::dns`], kept
//! beside the tables and updated by [`Dataplane::patch`]): a pod's name walks
//! its search path `<ns>.svc.<zone> svc.<zone> <zone>` with ndots 5 as glibc
//! does (rule KP-2); other sources ask the name as written.
//!
//! ## The pieces
//!
//! * [`Dataplane::compile`] builds the tables; [`Dataplane::patch`] applies
//!   the [`Changes`](crate::cluster::Changes) a cluster call returned,
//!   touching only the Services, Pods and HTTP tables that moved.
//! * [`Dataplane::route`] answers with a [`Decision`]: outcome, eligible
//!   set, pick, masquerade, packet fate, the rendering of the set in this
//!   mode ([`Render`], rules KP-16..KP-18) and the trace ([`Hop`]s, each
//!   with the rule that made it). [`Decision::to_json`] writes it in the
//!   conformance vocabulary (DECISIONS D16).
//! * [`Dataplane::pick`] is the hot path for cluster IPs: the same rules,
//!   no trace, no allocation. Rule KP-4's categorisation is precomputed per
//!   Service port (cluster set, per-zone and per-node hint sets, local set
//!   per node, terminating fallbacks), so a lookup only indexes.
//!   [`Dataplane::ingress_pick`] is its counterpart for Ingress requests
//!   (the matching of `route`, no trace). The lookup tables use a cheap
//!   word hasher, and `(namespace, name)` tables are asked with borrowed
//!   strings.
//! * HTTP front doors: Ingress (class and default class ING-1, precise /
//!   one-label wildcard / host-less hosts ING-2, Exact and element-wise
//!   Prefix paths with Exact-first and longest-prefix precedence ING-3/4,
//!   defaultBackend and the controller's 404 ING-5, 503 without ready
//!   endpoints ING-6, TLS ING-7) and Gateway API HTTPRoute precedence
//!   (GW-1). Rules are indexed by controller and host.
//!
//! ## Not modelled (yet)
//!
//! * IPVS weight 0 for graceful termination, connection close events for
//!   the least-connection schedulers (every routed connection stays
//!   active), and the schedulers svcroute does not model (`lblc`, `lblcr`,
//!   `fo`, `ovf`, `twos`: picked as `rr`, rendered under their name).
//! * Regular-expression matches of HTTPRoute, ingress-nginx regex/rewrite
//!   locations, HTTPRoute filters and ReferenceGrants.
//!
//! ```
//! use svcroute::api::Object;
//! use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
//! use svcroute::dataplane::{Dataplane, Destination, Millis, Outcome, Protocol, Request, RouteState, Source};
//!
//! let objects: Vec<Object> = serde_json::from_str(r#"[
//!   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
//!    "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.1"}]}},
//!   {"apiVersion": "v1", "kind": "Pod",
//!    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
//!    "spec": {"nodeName": "n1"},
//!    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}],
//!               "conditions": [{"type": "Ready", "status": "True"}]}},
//!   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
//!    "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
//! ]"#).unwrap();
//! let mut cluster = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
//! cluster.apply_batch(objects)?;
//!
//! let dp = Dataplane::compile(&cluster, ProxyMode::Iptables);
//! let mut state = RouteState::new(1);
//! let d = dp.route(&Request {
//!     source: Source::Node("n1".into()),
//!     destination: Destination::Ip("10.96.0.20:80".parse().unwrap()),
//!     protocol: Protocol::Tcp,
//! }, &mut state, Millis(0))?;
//! assert_eq!(d.outcome, Outcome::Forward);
//! assert_eq!(d.chosen, Some("10.244.0.5:80".parse().unwrap()));
//! # Ok::<(), svcroute::Error>(())
//! ```

mod compile;
mod draw;
mod front;
mod http;
mod local;
mod patch;
mod render;
mod request_json;
mod resolve;
mod route;
mod state;

mod trace;
mod types;
mod verdict;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};

pub use render::render;
pub use state::RouteState;
pub use trace::{NoTrace, Tracer};
pub use types::{
    Decision, Destination, GatewayRequest, Hop, HttpAnswer, HttpPick, IngressMatch, IngressRequest,
    Masquerade, Millis, Outcome, PacketFate, Pick, Protocol, Render, Request, RouteError,
    RouteMatch, Source, TlsTermination, endpoint_string,
};
pub use verdict::{Flow, ServiceRef, SourceRef, Verdict};

use crate::api::Protocol as L4;
use crate::balance::IpvsScheduler;
use crate::balance::kube::ChainTable;
use crate::cluster::{Cluster, DetectLocalMode, ProxyMode};
use crate::ipam::{IpFamily, IpNet};
use crate::table_hash::FastMap;

/// The compiled routing tables of one cluster for one kube-proxy mode. See
/// the [module documentation](self).
///
/// ```
/// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
/// let c = Cluster::new(ClusterConfig::default())?;
/// let dp = svcroute::dataplane::Dataplane::compile(&c, ProxyMode::Iptables);
/// let shared = std::sync::Arc::new(dp); // immutable, Send + Sync
/// assert_eq!(shared.mode(), ProxyMode::Iptables);
/// # Ok::<(), svcroute::cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dataplane {
    mode: ProxyMode,
    cluster_domain: String,
    service_cidrs: Vec<IpNet>,
    /// The cluster CIDRs (`--detect-local-mode ClusterCIDR`, KP-20).
    cluster_cidrs: local::Cidrs,
    masquerade_all: bool,
    localhost_node_ports: bool,
    /// `--nodeport-addresses` CIDRs (`None`: the mode's default).
    node_port_cidrs: Option<Vec<IpNet>>,
    detect_local: DetectLocalMode,
    /// `--ipvs-scheduler` as configured (rendered as written).
    ipvs_scheduler: String,
    /// The scheduler IPVS picks with (`rr` for names svcroute does not model).
    scheduler: IpvsScheduler,
    /// iptables chain thresholds for every endpoint-set size (KP-16).
    chains: ChainTable,
    /// The chains' cumulative bounds for one-draw picks, per set size in use.
    draws: draw::ChainBounds,
    nodes: Vec<NodeInfo>,
    node_by_name: FastMap<String, usize>,
    /// Every node InternalIP → node.
    node_by_ip: FastMap<IpAddr, usize>,
    pods: FastMap<(String, String), PodInfo>,
    services: Vec<SvcInfo>,
    service_by_name: FastMap<(String, String), usize>,
    ports: Vec<PortInfo>,
    /// (VIP, port, protocol) → its record (port index, kind, hot-path
    /// facts): cluster IPs, externalIPs, VIP LB IPs.
    vips: FastMap<front::VipKey, front::Front>,
    /// Every captured VIP address → its kind and how many Service ports
    /// use it (for port-not-exposed).
    vip_addrs: FastMap<IpAddr, (FrontKind, u32)>,
    /// LB ingress IPs kube-proxy leaves alone (ipMode Proxy).
    lb_proxy_addrs: FastMap<IpAddr, usize>,
    /// The node addresses NodePorts answer on (`--nodeport-addresses`,
    /// KP-15), every node's.
    node_port_ips: FastMap<IpAddr, ()>,
    /// (nodePort, protocol, family) → port index: a NodePort is one entry,
    /// whatever the number of nodes (a pod change touches one entry).
    node_port_numbers: FastMap<(u16, L4, IpFamily), usize>,
    /// healthCheckNodePort → Service.
    health_checks: FastMap<u16, usize>,
    /// (namespace, EndpointSlice) → the Service it was read for.
    slice_owner: FastMap<(String, String), String>,
    /// Services replaced or removed by [`Dataplane::patch`], still in the arena.
    dead_services: usize,
    /// Every port's cluster set (KP-4.1 without topology) back to back: a
    /// VIP record points into it, so a pick reads the record and the
    /// endpoint, not the port. Patches append; see [`front::Flat`].
    flat: front::Flat,
    ingress: http::IngressTable,
    gateways: http::GatewayTable,
    /// The cluster DNS the sources resolve names with (`None` when the
    /// cluster's domain is not a legal zone).
    dns: Option<crate::dns::Dns>,
}

/// What kind of external front door a VIP is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrontKind {
    ClusterIp,
    ExternalIp,
    LoadBalancer,
}

impl FrontKind {
    fn as_str(self) -> &'static str {
        match self {
            FrontKind::ClusterIp => "cluster IP",
            FrontKind::ExternalIp => "externalIP",
            FrontKind::LoadBalancer => "load-balancer IP",
        }
    }
}

#[derive(Debug, Clone)]
struct NodeInfo {
    name: String,
    zone: String,
    /// InternalIPs in order.
    ips: Vec<IpAddr>,
    pod_cidrs: local::Cidrs,
    hash: u64,
}

#[derive(Debug, Clone)]
struct PodInfo {
    ips: Vec<IpAddr>,
    node: Option<String>,
    /// `hostNetwork: true`: a host process as far as kube-proxy can tell.
    host_network: bool,
    /// How its resolver asks names (`dnsPolicy`, `dnsConfig`).
    dns: PodDns,
}

/// A pod's resolver configuration, as the kubelet writes its resolv.conf
/// (`dns.md` section 12).
#[derive(Debug, Clone, Default)]
struct PodDns {
    /// Whose nameservers resolv.conf lists first.
    policy: PodDnsPolicy,
    /// `dnsConfig.nameservers` (appended after the node's for `Default`;
    /// the only ones for `None`).
    nameservers: Vec<IpAddr>,
    /// `dnsConfig.searches`, appended (duplicates dropped).
    searches: Vec<String>,
    /// `dnsConfig.options` `ndots`, if set.
    ndots: Option<u32>,
}

/// The resolver a pod's `dnsPolicy` gives it (`dns.md` section 12).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum PodDnsPolicy {
    /// `ClusterFirst` off the host network, `ClusterFirstWithHostNet`: the
    /// cluster DNS with the cluster search list first.
    #[default]
    Cluster,
    /// `Default`, and `ClusterFirst` on the host network: the node's
    /// resolv.conf (its nameservers first), then `dnsConfig`.
    Node,
    /// `None`: only `dnsConfig`.
    Own,
}

#[derive(Debug, Clone)]
enum SvcKind {
    /// Has cluster IPs.
    Proxied,
    Headless,
    /// Answered by the cluster DNS with a CNAME.
    ExternalName,
}

#[derive(Debug, Clone)]
struct SvcInfo {
    namespace: String,
    name: String,
    kind: SvcKind,
    etp_local: bool,
    affinity_timeout: Option<Millis>,
    /// Effective loadBalancerSourceRanges (empty: no filter).
    source_ranges: Vec<IpNet>,
    ports: Vec<usize>,
    /// The index entries this Service asked for (removed on patch).
    keys: Vec<IndexKey>,
    /// Names of the EndpointSlices read for it.
    slices: Vec<String>,
}

/// One entry a Service put in the lookup tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexKey {
    Vip(IpAddr, u16, L4),
    LbProxy(IpAddr),
    NodePortNumber(u16, L4, IpFamily),
    Health(u16),
}

#[derive(Debug, Clone)]
struct Ep {
    addr: SocketAddr,
    ready: bool,
    serving: bool,
    terminating: bool,
    node: Option<String>,
    for_zones: Vec<String>,
    for_nodes: Vec<String>,
}

#[derive(Debug, Clone)]
struct PortInfo {
    svc: usize,
    name: String,
    port: u16,
    protocol: L4,
    family: IpFamily,
    node_port: Option<u16>,
    /// Sorted by the `ip:port` string.
    eps: Vec<Ep>,
    /// Identifies `eps` (addresses, conditions, nodes, hints) across
    /// recompiles: IPVS scheduler state is kept while it holds.
    fingerprint: u64,
    /// Stable affinity scope of this Service port (iptables/nftables).
    scope: u64,
    /// Stable affinity scope of the IPVS virtual server of the cluster IP.
    cluster_vs: u64,
    /// Rule KP-4 categorisation, precomputed per node and zone.
    sets: Sets,
    /// OR of [`front::ip_bit`] over the endpoint IPs (hairpin filter).
    ip_filter: u64,
}

/// Rule KP-4 for one Service port, precomputed so that a lookup only
/// indexes: each set is a flat array of endpoint addresses in endpoint
/// order (a pick reads one slice, not the endpoint records).
#[derive(Debug, Clone, Default)]
struct Sets {
    /// KP-4.3: some endpoint is ready, or serving and terminating.
    has_any: bool,
    /// KP-4.1 without topology: the ready endpoints, or (when none is
    /// ready) every serving-terminating endpoint.
    cluster: Vec<SocketAddr>,
    /// `cluster` is the terminating fallback (KP-11).
    fallback: bool,
    /// KP-6: every ready endpoint has node hints; node → endpoints hinted for it.
    by_node: FastMap<String, Vec<SocketAddr>>,
    /// KP-6: every ready endpoint has zone hints; zone → endpoints hinted for it.
    by_zone: FastMap<String, Vec<SocketAddr>>,
    /// KP-4.2: node → its local endpoints (ready, else serving-terminating),
    /// and whether that is the fallback.
    local: FastMap<String, (Vec<SocketAddr>, bool)>,
}

impl Dataplane {
    /// The mode this dataplane models.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// let c = Cluster::new(ClusterConfig::default())?;
    /// assert_eq!(svcroute::dataplane::Dataplane::compile(&c, ProxyMode::Ipvs).mode(), ProxyMode::Ipvs);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn mode(&self) -> ProxyMode {
        self.mode
    }

    /// Compiles the tables of `cluster` for kube-proxy in `mode`.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// let c = Cluster::new(ClusterConfig::default())?; // with default/kubernetes
    /// let dp = svcroute::dataplane::Dataplane::compile(&c, ProxyMode::Nftables);
    /// assert_eq!(dp.service_count(), 1);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn compile(cluster: &Cluster, mode: ProxyMode) -> Dataplane {
        compile::compile(cluster, mode)
    }

    /// How many Services are compiled (live ones).
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// assert_eq!(svcroute::dataplane::Dataplane::compile(&c, ProxyMode::Ipvs).service_count(), 0);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn service_count(&self) -> usize {
        self.service_by_name.len()
    }
}
