//! # dns: what cluster DNS answers
//!
//! A model of the CoreDNS `kubernetes` plugin (the cluster DNS of nearly
//! every cluster) over a settled [`Cluster`]: a question `(name, type)`
//! gives an [`Answer`] with its outcome (answer, NODATA, NXDOMAIN, or
//! "not my zone"), the answer, authority (the zone SOA on negative answers)
//! and additional sections, and the ExternalName targets that still have to
//! be resolved outside the cluster ([`Answer::chase`]). The rules are those
//! of `shared/reference/dns.md`; the CoreDNS extensions are followed
//! (bare-name SRV, endpoint names under ClusterIP services, endpoint PTRs,
//! SRV weights, NXDOMAIN/NODATA choices).
//!
//! * [`Dns::new`] indexes a cluster once (services by namespace and name,
//!   cluster IPs and ready endpoint addresses by IP, pods by IP when
//!   `pods verified`); every lookup is a few hash probes, never a scan.
//!   Rebuild it after the cluster changes.
//! * [`Dns::search`] walks a pod's search list the way glibc or musl does.
//! * [`Dns::answer_wire`] answers an RFC 1035 message ([`wire`]).
//!
//! Records are typed ([`Record`], [`RData`]) and print in presentation
//! format.
//!
//! ## Where this follows CoreDNS rather than the bare specification
//!
//! Decided explicitly (`dns.md` section 17), all as the `kubernetes` plugin
//! does today:
//!
//! * **Endpoint data** comes from EndpointSlices only: an endpoint is
//!   published unless `conditions.ready` is `false`; names, ports and
//!   protocols of headless SRV records are the slice's, not the Service's.
//!   Slices of address type `FQDN` and addresses that are not IPs are
//!   skipped.
//! * **Extensions kept**: SRV on the bare service name (every port, unnamed
//!   ones included), endpoint names under ClusterIP services, endpoint PTRs
//!   for every service an address is ready in, SRV weight `floor(100 / N)`
//!   (at least 1) with N counted before duplicates are dropped, and the
//!   NXDOMAIN/NODATA table of `dns.md` section 10 including the quirks of
//!   section 15 (TXT on a namespace is NXDOMAIN, SOA below the apex is
//!   NODATA, an A query on an SRV-shaped name answers the service).
//! * **Wildcards** (`*`, `any`) are ordinary labels (CoreDNS ≥ 1.9).
//! * An IPv4-mapped IPv6 address is answered as A, as Go's `To4` does.
//!
//! Where the model has to choose because CoreDNS reads its environment:
//!
//! * the SOA serial is [`DnsConfig::soa_serial`] (CoreDNS: the time of the
//!   last API change);
//! * the apex NS and `ns.dns.<zone>` answer the Service named by
//!   [`DnsConfig::dns_service`] (CoreDNS finds it through its own pod IPs);
//! * names outside the served zones, and `fallthrough` names, are
//!   [`Outcome::Passthrough`]; ExternalName targets outside the cluster are
//!   returned as [`Chase`] markers, not resolved.
//!
//! ```
//! use svcroute::api::Object;
//! use svcroute::cluster::{Cluster, ClusterConfig};
//! use svcroute::dns::{Dns, DnsConfig, Outcome, RecordType};
//!
//! let objects: Vec<Object> = serde_json::from_str(r#"[
//!   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
//!   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
//!    "spec": {"clusterIPs": ["10.96.0.20", "fd00::20"], "ports": [{"name": "http", "port": 80}]}}
//! ]"#).unwrap();
//! let mut cluster = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
//! cluster.apply_batch(objects)?;
//! let dns = Dns::new(&cluster, DnsConfig::for_cluster(cluster.config()))?;
//!
//! let a = dns.query("web.shop.svc.cluster.local.", RecordType::A)?;
//! assert_eq!(a.outcome, Outcome::Answer);
//! assert_eq!(a.answer[0].to_string(), "web.shop.svc.cluster.local. 5 IN A 10.96.0.20");
//!
//! let srv = dns.query("_http._tcp.web.shop.svc.cluster.local.", RecordType::Srv)?;
//! // Dual-stack: two internal entries collapse into one SRV of weight 50.
//! assert_eq!(srv.answer[0].to_string(),
//!            "_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 50 80 web.shop.svc.cluster.local.");
//! assert_eq!(srv.additional.len(), 2);
//!
//! let missing = dns.query("nope.shop.svc.cluster.local.", RecordType::A)?;
//! assert_eq!(missing.outcome, Outcome::NxDomain);
//! assert_eq!(missing.authority[0].to_string(),
//!            "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5");
//!
//! assert_eq!(dns.query("example.com.", RecordType::A)?.outcome, Outcome::Passthrough);
//! # Ok::<(), svcroute::Error>(())
//! ```

mod direct;
mod error;
mod fast;
mod key;
mod name;
mod record;
mod search;
pub mod wire;
pub use wire::Transport;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use error::DnsError;
pub use name::Name;
pub use record::{RData, Record, RecordType};
pub use search::{ExternalRecord, ExternalRecords, MAX_NDOTS, Resolver, SearchClient, Sent, Walk};

use crate::api::{AddressType, Kind, Object, Service, ServiceType};
use crate::cluster::{Cluster, ClusterConfig, SliceView};
use crate::labels::Selector;
use key::{KeyBuf, SvcKey};
use record::{fqdn, is_subdomain};

/// The schema version of the Kubernetes DNS specification served in the
/// `dns-version.<zone>` TXT record.
pub const SCHEMA_VERSION: &str = "1.1.0";

/// The TTL of the `dns-version` record, fixed whatever the `ttl` option.
pub const SCHEMA_VERSION_TTL: u32 = 28800;

/// How many CNAMEs a chain may hold before CoreDNS stops following it.
const MAX_CNAME_CHAIN: usize = 10;

// ------------------------------------------------------------------ config

/// The `pods` option: what `<a-b-c-d>.<ns>.pod.<zone>` names answer
/// (`dns.md` section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodMode {
    /// Every `pod` name is NXDOMAIN (the plugin's default).
    #[default]
    Disabled,
    /// The label is turned back into an IP without checking any pod has it.
    Insecure,
    /// Answered only when a pod of that namespace has that primary IP.
    Verified,
}

impl std::str::FromStr for PodMode {
    type Err = DnsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disabled" => Ok(PodMode::Disabled),
            "insecure" => Ok(PodMode::Insecure),
            "verified" => Ok(PodMode::Verified),
            other => Err(DnsError::InvalidConfig {
                field: "pods",
                message: format!("{other:?} is not disabled, insecure or verified"),
            }),
        }
    }
}

/// The `fallthrough` option: names that do not exist are handed to the
/// next resolver ([`Outcome::Passthrough`]) instead of NXDOMAIN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fallthrough {
    /// Off (the default): NXDOMAIN.
    #[default]
    Off,
    /// For every zone (`fallthrough` without arguments).
    All,
    /// For names under these zones (`fallthrough in-addr.arpa ip6.arpa`).
    Zones(Vec<String>),
}

impl Fallthrough {
    fn through(&self, name: &str) -> bool {
        match self {
            Fallthrough::Off => false,
            Fallthrough::All => true,
            Fallthrough::Zones(zones) => zones.iter().any(|z| is_subdomain(z, name)),
        }
    }
}

/// The options of the CoreDNS `kubernetes` plugin, with its defaults.
///
/// ```
/// use svcroute::dns::{DnsConfig, PodMode};
/// let c = DnsConfig::default();
/// assert_eq!(c.zone, "cluster.local.");
/// assert_eq!(c.ttl, 5);
/// assert_eq!(c.pods, PodMode::Disabled);
/// assert_eq!(c.reverse_zones, ["in-addr.arpa.", "ip6.arpa."]);
/// assert!(c.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// The cluster zone (the cluster domain, fully qualified).
    pub zone: String,
    /// TTL of answers, 0–3600 (`ttl`, default 5).
    pub ttl: u32,
    /// `pods` (default `disabled`).
    pub pods: PodMode,
    /// `endpoint_pod_names`: the endpoint name falls back to the pod name
    /// before the dashed IP.
    pub endpoint_pod_names: bool,
    /// `ignore empty_service`: ClusterIP services without a ready endpoint
    /// are NXDOMAIN.
    pub ignore_empty_service: bool,
    /// `namespaces`: the namespaces exposed; empty = all.
    pub namespaces: Vec<String>,
    /// The reverse zones served (PTR), fully qualified.
    pub reverse_zones: Vec<String>,
    /// `fallthrough`.
    pub fallthrough: Fallthrough,
    /// The SOA serial (CoreDNS: the time of the last change it saw; the
    /// core reads no clock, so the caller says).
    pub soa_serial: u32,
    /// The DNS server's own Service (`namespace`, `name`): its cluster IPs
    /// answer `ns.dns.<zone>` and glue the apex NS record. CoreDNS finds it
    /// through its own pod IPs; default `kube-system/kube-dns`.
    pub dns_service: Option<(String, String)>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            zone: "cluster.local.".to_owned(),
            ttl: 5,
            pods: PodMode::Disabled,
            endpoint_pod_names: false,
            ignore_empty_service: false,
            namespaces: Vec::new(),
            reverse_zones: vec!["in-addr.arpa.".to_owned(), "ip6.arpa.".to_owned()],
            fallthrough: Fallthrough::Off,
            soa_serial: 1,
            dns_service: Some(("kube-system".to_owned(), "kube-dns".to_owned())),
        }
    }
}

impl DnsConfig {
    /// The defaults, with the zone taken from the cluster's domain.
    ///
    /// ```
    /// use svcroute::{cluster::ClusterConfig, dns::DnsConfig};
    /// let c = ClusterConfig { cluster_domain: "corp.example".into(), ..Default::default() };
    /// assert_eq!(DnsConfig::for_cluster(&c).zone, "corp.example.");
    /// ```
    pub fn for_cluster(config: &ClusterConfig) -> DnsConfig {
        DnsConfig {
            zone: fqdn(&config.cluster_domain.to_ascii_lowercase()),
            ..DnsConfig::default()
        }
    }

    /// Checks the options as CoreDNS does at start: `ttl` in 0–3600, zones
    /// that are legal names.
    pub fn validate(&self) -> Result<(), DnsError> {
        if self.ttl > 3600 {
            return Err(DnsError::InvalidConfig {
                field: "ttl",
                message: format!("{} is not in 0..=3600", self.ttl),
            });
        }
        for z in std::iter::once(&self.zone).chain(&self.reverse_zones) {
            check_name(z).map_err(|e| DnsError::InvalidConfig {
                field: "zone",
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

/// Checks that a presentation-format name is a legal DNS name.
fn check_name(name: &str) -> Result<(), DnsError> {
    let bad = |reason| {
        Err(DnsError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty name");
    }
    if name == "." {
        return Ok(());
    }
    let body = name.strip_suffix('.').unwrap_or(name).as_bytes();
    let (mut start, mut escaped) = (0, false);
    for i in 0..=body.len() {
        if i < body.len() && body[i] != b'.' {
            escaped |= body[i] == b'\\';
            continue;
        }
        let len = i - start;
        if len == 0 {
            return bad("empty label");
        }
        if len > 63 && !escaped {
            return bad("label longer than 63 octets");
        }
        start = i + 1;
    }
    if body.len() + 2 > 255 && !escaped {
        return bad("name longer than 255 octets");
    }
    Ok(())
}

// ------------------------------------------------------------------ answers

/// What a question came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// NOERROR with records.
    Answer,
    /// NOERROR, empty answer: the name exists, not with that type.
    NoData,
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// Not a name this server answers (outside its zones, or `fallthrough`):
    /// a server hands it to the next resolver.
    Passthrough,
    /// REFUSED (zone transfers).
    Refused,
}

impl Outcome {
    /// The conformance spelling: `answer`, `nodata`, `nxdomain`,
    /// `passthrough`, `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answer => "answer",
            Outcome::NoData => "nodata",
            Outcome::NxDomain => "nxdomain",
            Outcome::Passthrough => "passthrough",
            Outcome::Refused => "refused",
        }
    }
}

/// A response code (RFC 1035 section 4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rcode {
    /// 0.
    NoError,
    /// 1: the query could not be read.
    FormErr,
    /// 2.
    ServFail,
    /// 3: the name does not exist.
    NxDomain,
    /// 4: not implemented (opcode other than QUERY).
    NotImp,
    /// 5.
    Refused,
}

impl Rcode {
    /// The number on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
        }
    }

    /// The mnemonic (`NOERROR`, `NXDOMAIN`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Rcode::NoError => "NOERROR",
            Rcode::FormErr => "FORMERR",
            Rcode::ServFail => "SERVFAIL",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::NotImp => "NOTIMP",
            Rcode::Refused => "REFUSED",
        }
    }
}

/// A name the answer aliases to that lies outside the cluster: a server
/// resolves it upstream and appends what it gets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chase {
    /// The CNAME target (FQDN).
    pub name: String,
    /// The type still wanted.
    pub qtype: RecordType,
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What it came to.
    pub outcome: Outcome,
    /// The answer section.
    pub answer: Vec<Record>,
    /// The authority section: the zone SOA on negative answers.
    pub authority: Vec<Record>,
    /// The additional section: SRV targets' addresses, NS glue.
    pub additional: Vec<Record>,
    /// ExternalName targets outside the cluster still to resolve.
    pub chase: Vec<Chase>,
}

impl Default for Answer {
    /// An empty answer ([`Outcome::Passthrough`], no records): a buffer
    /// for [`Dns::query_into`].
    fn default() -> Answer {
        Answer::passthrough()
    }
}

impl Answer {
    fn passthrough() -> Answer {
        Answer {
            outcome: Outcome::Passthrough,
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            chase: Vec::new(),
        }
    }

    /// The response code; `None` for [`Outcome::Passthrough`].
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig, Rcode, RecordType};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let a = dns.query("nosuch.default.svc.cluster.local.", RecordType::A)?;
    /// assert_eq!(a.rcode(), Some(Rcode::NxDomain));
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn rcode(&self) -> Option<Rcode> {
        match self.outcome {
            Outcome::Answer | Outcome::NoData => Some(Rcode::NoError),
            Outcome::NxDomain => Some(Rcode::NxDomain),
            Outcome::Refused => Some(Rcode::Refused),
            Outcome::Passthrough => None,
        }
    }
}

// ------------------------------------------------------------------ index

#[derive(Debug, Clone)]
struct Port {
    name: String,
    protocol: String,
    /// -1: the placeholder of a slice without ports.
    port: i32,
}

#[derive(Debug, Clone)]
struct EpAddr {
    ip: IpAddr,
    /// The endpoint name (hostname, pod name, or dashed IP).
    name: String,
}

#[derive(Debug, Clone)]
struct Subset {
    addrs: Vec<EpAddr>,
    ports: Vec<Port>,
}

/// A service's cluster IPs: the (at most two) usual ones inline, so an
/// address lookup reads no further memory.
#[derive(Debug, Clone, Default)]
struct Ips {
    first: [Option<IpAddr>; 2],
    rest: Vec<IpAddr>,
}

impl Ips {
    fn new(all: impl IntoIterator<Item = IpAddr>) -> Ips {
        let mut ips = Ips::default();
        for (i, ip) in all.into_iter().enumerate() {
            match ips.first.get_mut(i) {
                Some(slot) => *slot = Some(ip),
                None => ips.rest.push(ip),
            }
        }
        ips
    }

    fn iter(&self) -> impl Iterator<Item = &IpAddr> {
        self.first.iter().flatten().chain(&self.rest)
    }
}

#[derive(Debug, Clone)]
enum SvcKind {
    ClusterIp { ips: Ips, ports: Vec<Port> },
    Headless,
    External(String),
}

#[derive(Debug, Clone)]
struct SvcEntry {
    namespace: String,
    name: String,
    /// Its namespace's id (`Dns::ns_states`).
    ns: u32,
    kind: SvcKind,
    subsets: Vec<Subset>,
}

/// A namespace's state, by id.
#[derive(Debug, Clone, Copy, Default)]
struct NsState {
    /// The Namespace object exists.
    exists: bool,
    /// The `namespaces` option lets it be answered (always when empty).
    exposed: bool,
}

impl NsState {
    fn answerable(self) -> bool {
        self.exists && self.exposed
    }
}

/// A ready endpoint address's owner: (namespace, service, endpoint name).
type EndpointOf = (Box<str>, Box<str>, Box<str>);

/// The index's maps hash with the crate's table hasher (word at a time):
/// the keys are names and addresses from the cluster, not from the network.
type FastMap<K, V> = crate::table_hash::FastMap<K, V>;
type FastSet<K> =
    std::collections::HashSet<K, std::hash::BuildHasherDefault<crate::table_hash::TableHasher>>;

/// Up to this many records, duplicates are found by a scan.
const DEDUP_SCAN: usize = 16;

/// Cluster DNS over one state of a cluster: an index built once, answering
/// questions without scanning. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Dns {
    config: DnsConfig,
    /// Lower-case zones: the forward zone first, then the reverse zones.
    zones: Vec<String>,
    /// Every name ending in the forward zone falls in it (no reverse zone
    /// lies inside it or equals it), the zone is not the root, and no
    /// `<service>.<namespace>.svc.<zone>` name is a reverse name.
    forward_zone_first: bool,
    exposed: Vec<String>,
    /// Lower-case namespace name -> its id in `ns_states`; every
    /// namespace seen (a Namespace object or a Service's), never removed.
    namespaces: FastMap<String, u32>,
    ns_states: Vec<NsState>,
    /// Every Service, by its flat key (`<name>.<namespace>`, lower case).
    services: FastMap<SvcKey, SvcEntry>,
    /// Cluster IP -> (namespace, name) of the services that have it.
    by_cluster_ip: FastMap<IpAddr, Vec<(String, String)>>,
    /// Ready endpoint address -> (namespace, service, endpoint name).
    by_endpoint_ip: FastMap<IpAddr, Vec<EndpointOf>>,
    /// Primary pod IP (as written) -> namespaces (`pods verified` only).
    pods_by_ip: FastMap<String, Vec<String>>,
    /// Indexed slice (namespace, name) -> the service it belongs to.
    slice_owner: FastMap<(String, String), String>,
    /// (namespace, service) -> its endpoint addresses in `by_endpoint_ip`.
    group_ips: FastMap<(String, String), Vec<IpAddr>>,
    /// Indexed pod (namespace, name) -> its primary IP (`pods verified`).
    pod_ip: FastMap<(String, String), String>,
}

/// The endpoint name CoreDNS gives an address (`endpointHostname`).
fn endpoint_name(
    ip: &str,
    hostname: Option<&str>,
    pod: Option<&str>,
    endpoint_pod_names: bool,
) -> String {
    if let Some(h) = hostname.filter(|h| !h.is_empty()) {
        return h.to_owned();
    }
    if endpoint_pod_names && let Some(p) = pod.filter(|p| !p.is_empty() && p.len() < 64) {
        return p.to_owned();
    }
    if ip.contains('.') {
        ip.replace('.', "-")
    } else if ip.contains(':') {
        let mut s = ip.replace(':', "-");
        if s.ends_with('-') {
            s.push('0');
        }
        s
    } else {
        String::new()
    }
}

/// See [`Dns::forward_zone_first`](Dns).
fn forward_zone_first(zones: &[String]) -> bool {
    match zones.split_first() {
        Some((forward, reverse)) => {
            forward != "."
                && !reverse.iter().any(|z| is_subdomain(forward, z))
                && !is_reverse_name(&format!("svc.{forward}"))
        }
        None => false,
    }
}

fn service_kind(svc: &Service) -> SvcKind {
    if svc.service_type() == ServiceType::ExternalName {
        return SvcKind::External(svc.spec.external_name.clone().unwrap_or_default());
    }
    if svc.is_headless() {
        return SvcKind::Headless;
    }
    let raw: Vec<&str> = match &svc.spec.cluster_ips {
        Some(ips) if !ips.is_empty() => ips.iter().map(String::as_str).collect(),
        _ => svc.spec.cluster_ip.iter().map(String::as_str).collect(),
    };
    let ips = Ips::new(raw.iter().filter_map(|s| s.parse::<IpAddr>().ok()));
    let ports = svc
        .spec
        .ports
        .iter()
        .map(|p| Port {
            name: p.name.to_ascii_lowercase(),
            protocol: p.protocol.unwrap_or_default().as_str().to_ascii_lowercase(),
            port: p.port,
        })
        .collect();
    SvcKind::ClusterIp { ips, ports }
}

impl Dns {
    /// Indexes the cluster for these options.
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// assert_eq!(dns.config().ttl, 5);
    /// assert!(Dns::new(&cluster, DnsConfig { ttl: 9999, ..DnsConfig::default() }).is_err());
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn new(cluster: &Cluster, config: DnsConfig) -> Result<Dns, DnsError> {
        config.validate()?;
        let zones: Vec<String> = std::iter::once(&config.zone)
            .chain(&config.reverse_zones)
            .map(|z| fqdn(&z.to_ascii_lowercase()))
            .collect();
        let forward_zone_first = forward_zone_first(&zones);
        let mut dns = Dns {
            forward_zone_first,
            exposed: config
                .namespaces
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            zones,
            config,
            namespaces: FastMap::default(),
            ns_states: Vec::new(),
            services: FastMap::default(),
            by_cluster_ip: FastMap::default(),
            by_endpoint_ip: FastMap::default(),
            pods_by_ip: FastMap::default(),
            slice_owner: FastMap::default(),
            group_ips: FastMap::default(),
            pod_ip: FastMap::default(),
        };
        let all = Selector::everything();
        for o in cluster.list_stored(Kind::Namespace, None, &all) {
            if let Some(name) = &o.metadata().name {
                let id = dns.ns_id(&name.to_ascii_lowercase());
                dns.ns_states[id as usize].exists = true;
            }
        }
        let mut groups: Vec<(String, String)> = Vec::new();
        for o in cluster.list_stored(Kind::Service, None, &all) {
            if let (Some(ns), Some(name)) = (&o.metadata().namespace, &o.metadata().name) {
                groups.push((ns.clone(), name.clone()));
            }
        }
        for (ns, svc) in cluster.slice_services() {
            groups.push((ns.to_owned(), svc.to_owned()));
        }
        crate::order::sort(&mut groups);
        groups.dedup();
        for (ns, name) in &groups {
            dns.reindex_group(cluster, ns, name);
        }
        if dns.config.pods == PodMode::Verified {
            for pod in cluster.list_pods(None, &all) {
                let key = crate::api::ObjectKey {
                    kind: Kind::Pod,
                    namespace: pod.namespace().clone(),
                    name: pod.name().to_owned(),
                };
                dns.reindex_pod(cluster, &key);
            }
        }
        Ok(dns)
    }

    /// Brings the index up to date after a cluster call, from the
    /// [`Changes`](crate::cluster::Changes) it returned: only the services,
    /// slices, namespaces and pods named there are looked at again. The
    /// result answers exactly as [`Dns::new`] over the new state would.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// use svcroute::dns::{Dns, DnsConfig, Outcome, RecordType};
    /// let mut cluster = Cluster::new(ClusterConfig::default())?;
    /// let mut dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let svc: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Service",
    ///   "metadata": {"name": "web", "namespace": "default"},
    ///   "spec": {"clusterIPs": ["10.96.0.20"], "ports": [{"port": 80}]}}"#).unwrap();
    /// let changes = cluster.apply(svc)?;
    /// dns.update(&cluster, &changes);
    /// let a = dns.query("web.default.svc.cluster.local.", RecordType::A)?;
    /// assert_eq!(a.outcome, Outcome::Answer);
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn update(&mut self, cluster: &Cluster, changes: &crate::cluster::Changes) {
        let mut groups: Vec<(String, String)> = Vec::new();
        // Updated slices that stay with their Service: patched alone
        // unless their Service is re-read anyway.
        let mut patches: Vec<(String, String, String)> = Vec::new();
        for key in &changes.updated {
            if key.kind != Kind::EndpointSlice {
                continue;
            }
            let ns = key.namespace.clone().unwrap_or_default();
            if let Some(svc) = cluster.slice_service(key)
                && self
                    .slice_owner
                    .get(&(ns.clone(), key.name.clone()))
                    .is_some_and(|owner| owner == svc)
            {
                patches.push((ns, svc.to_owned(), key.name.clone()));
            }
        }
        for key in changes
            .created
            .iter()
            .chain(&changes.updated)
            .chain(&changes.deleted)
        {
            let ns = key.namespace.clone().unwrap_or_default();
            match key.kind {
                Kind::Namespace => {
                    let exists = cluster.stored_object(key).is_some();
                    let id = self.ns_id(&key.name.to_ascii_lowercase());
                    self.ns_states[id as usize].exists = exists;
                }
                Kind::Service => groups.push((ns, key.name.clone())),
                Kind::EndpointSlice => {
                    if patches
                        .iter()
                        .any(|(n, _, slice)| *n == ns && *slice == key.name)
                    {
                        continue;
                    }
                    if let Some(old) = self.slice_owner.remove(&(ns.clone(), key.name.clone())) {
                        groups.push((ns.clone(), old));
                    }
                    if let Some(svc) = cluster.slice_service(key) {
                        groups.push((ns, svc.to_owned()));
                    }
                }
                Kind::Pod if self.config.pods == PodMode::Verified => {
                    self.reindex_pod(cluster, key);
                }
                _ => {}
            }
        }
        for (ns, svc, slice) in &patches {
            let group = (ns.clone(), svc.clone());
            if !groups.contains(&group) && !self.patch_slice(cluster, ns, svc, slice) {
                groups.push(group);
            }
        }
        crate::order::sort(&mut groups);
        groups.dedup();
        for (ns, name) in &groups {
            self.reindex_group(cluster, ns, name);
        }
    }

    /// Re-reads one pod's primary IP (`pods verified`).
    fn reindex_pod(&mut self, cluster: &Cluster, key: &crate::api::ObjectKey) {
        let id = (key.namespace.clone().unwrap_or_default(), key.name.clone());
        if let Some(old) = self.pod_ip.remove(&id)
            && let Some(list) = self.pods_by_ip.get_mut(&old)
        {
            let lower = id.0.to_ascii_lowercase();
            if let Some(i) = list.iter().position(|n| *n == lower) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                self.pods_by_ip.remove(&old);
            }
        }
        if let Some(pod) = cluster.stored_pod(key) {
            let ip = pod
                .pod_ip()
                .or_else(|| pod.pod_ips().next())
                .map(str::to_owned);
            if let Some(ip) = ip {
                self.pods_by_ip
                    .entry(ip.clone())
                    .or_default()
                    .push(id.0.to_ascii_lowercase());
                self.pod_ip.insert(id, ip);
            }
        }
    }

    /// Re-reads one service and the slices labelled with its name.
    fn reindex_group(&mut self, cluster: &Cluster, ns: &str, name: &str) {
        let (ns_l, name_l) = (ns.to_ascii_lowercase(), name.to_ascii_lowercase());
        // Forget what was indexed.
        let svc_key = SvcKey::new(&name_l, &ns_l);
        if let Some(old) = self.services.remove(&svc_key)
            && let SvcKind::ClusterIp { ips, .. } = &old.kind
        {
            for ip in ips.iter() {
                if let Some(list) = self.by_cluster_ip.get_mut(ip) {
                    list.retain(|(n, s)| !(n == ns && s == name));
                    if list.is_empty() {
                        self.by_cluster_ip.remove(ip);
                    }
                }
            }
        }
        let group = (ns.to_owned(), name.to_owned());
        for ip in self.group_ips.remove(&group).unwrap_or_default() {
            if let Some(list) = self.by_endpoint_ip.get_mut(&ip) {
                list.retain(|(n, s, _)| !(**n == *ns && **s == *name));
                if list.is_empty() {
                    self.by_endpoint_ip.remove(&ip);
                }
            }
        }
        // Read it again.
        let mut subsets = Vec::new();
        let mut ips = Vec::new();
        for slice in cluster.endpoint_slice_views(ns, name) {
            if let Some(slice_name) = &slice.metadata().name {
                self.slice_owner
                    .insert((ns.to_owned(), slice_name.clone()), name.to_owned());
            }
            let Some(subset) = self.read_slice(slice) else {
                continue;
            };
            for a in &subset.addrs {
                let list = self.by_endpoint_ip.entry(a.ip).or_default();
                list.push((ns.into(), name.into(), a.name.as_str().into()));
                crate::order::sort(list);
                ips.push(a.ip);
            }
            subsets.push(subset);
        }
        if !ips.is_empty() {
            self.group_ips.insert(group, ips);
        }
        let key = crate::api::ObjectKey {
            kind: Kind::Service,
            namespace: Some(ns.to_owned()),
            name: name.to_owned(),
        };
        if let Some(Object::Service(svc)) = cluster.stored_object(&key) {
            let kind = service_kind(svc);
            if let SvcKind::ClusterIp { ips, .. } = &kind {
                for ip in ips.iter() {
                    let list = self.by_cluster_ip.entry(*ip).or_default();
                    list.push((ns.to_owned(), name.to_owned()));
                    crate::order::sort(list);
                }
            }
            let ns_id = self.ns_id(&ns_l);
            self.services.insert(
                svc_key,
                SvcEntry {
                    namespace: ns.to_owned(),
                    name: name.to_owned(),
                    ns: ns_id,
                    kind,
                    subsets,
                },
            );
        }
    }

    /// What a slice publishes: its ports (a placeholder when it has none)
    /// and its ready addresses with their endpoint names; `None` for
    /// slices of FQDNs.
    fn read_slice(&self, slice: SliceView<'_>) -> Option<Subset> {
        if slice.address_type() == AddressType::FQDN {
            return None;
        }
        let ports = if slice.ports().is_empty() {
            vec![Port {
                name: String::new(),
                protocol: String::new(),
                port: -1,
            }]
        } else {
            slice
                .ports()
                .iter()
                .map(|p| Port {
                    name: p.name.clone().unwrap_or_default().to_ascii_lowercase(),
                    protocol: p.protocol.unwrap_or_default().as_str().to_ascii_lowercase(),
                    port: p.port.unwrap_or(-1),
                })
                .collect()
        };
        let mut addrs = Vec::new();
        for ep in slice.endpoints() {
            if ep.conditions().ready == Some(false) {
                continue;
            }
            let target = ep.target();
            let pod = target.map(|r| r.name);
            for a in ep.addresses() {
                let Ok(ip) = a.parse::<IpAddr>() else {
                    continue;
                };
                let name = endpoint_name(a, ep.hostname(), pod, self.config.endpoint_pod_names);
                addrs.push(EpAddr { ip, name });
            }
        }
        Some(Subset { addrs, ports })
    }

    /// Re-reads one updated slice of a Service and patches only what it
    /// changed: its subset, and the reverse entries of the addresses that
    /// came or went. `false` (nothing touched) when the slice cannot be
    /// patched alone (the Service is not indexed, the slice is new, gone,
    /// of FQDNs, or the Service's slices changed in number): the caller
    /// re-reads the whole Service.
    fn patch_slice(&mut self, cluster: &Cluster, ns: &str, name: &str, slice_name: &str) -> bool {
        let slices = cluster.endpoint_slice_views(ns, name);
        let mut position = None;
        let mut count = 0;
        for s in &slices {
            if s.address_type() == AddressType::FQDN {
                continue;
            }
            if s.metadata().name.as_deref() == Some(slice_name) {
                position = Some((count, *s));
            }
            count += 1;
        }
        let Some((k, slice)) = position else {
            return false;
        };
        let (ns_l, name_l) = (ns.to_ascii_lowercase(), name.to_ascii_lowercase());
        let svc_key = SvcKey::new(&name_l, &ns_l);
        let indexed = self.services.get(&svc_key).is_some_and(|svc| {
            svc.namespace == ns && svc.name == name && svc.subsets.len() == count
        });
        if !indexed {
            return false;
        }
        let Some(new) = self.read_slice(slice) else {
            return false;
        };
        let Some(svc) = self.services.get_mut(&svc_key) else {
            return false;
        };
        let old = std::mem::replace(&mut svc.subsets[k], new);
        let new = &svc.subsets[k];
        // The addresses that went and came, as multisets.
        let mut gone: Vec<(IpAddr, &str)> =
            old.addrs.iter().map(|a| (a.ip, a.name.as_str())).collect();
        let mut came: Vec<(IpAddr, &str)> =
            new.addrs.iter().map(|a| (a.ip, a.name.as_str())).collect();
        crate::order::sort_unstable(&mut gone);
        crate::order::sort_unstable(&mut came);
        let (mut i, mut j) = (0, 0);
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        while i < gone.len() || j < came.len() {
            match (gone.get(i), came.get(j)) {
                (Some(g), Some(c)) if g == c => {
                    i += 1;
                    j += 1;
                }
                (Some(g), Some(c)) if g < c => {
                    removed.push(*g);
                    i += 1;
                }
                (Some(g), None) => {
                    removed.push(*g);
                    i += 1;
                }
                (_, Some(c)) => {
                    added.push(*c);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        let group = (ns.to_owned(), name.to_owned());
        let ips = self.group_ips.entry(group.clone()).or_default();
        for (ip, ep) in removed {
            if let Some(list) = self.by_endpoint_ip.get_mut(&ip) {
                if let Some(at) = list
                    .iter()
                    .position(|(n, s, e)| **n == *ns && **s == *name && **e == *ep)
                {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.by_endpoint_ip.remove(&ip);
                }
            }
            if let Some(at) = ips.iter().position(|x| *x == ip) {
                ips.swap_remove(at);
            }
        }
        for (ip, ep) in added {
            let list = self.by_endpoint_ip.entry(ip).or_default();
            list.push((ns.into(), name.into(), ep.into()));
            crate::order::sort(list);
            ips.push(ip);
        }
        if ips.is_empty() {
            self.group_ips.remove(&group);
        }
        true
    }

    /// How many names in the cluster zone have records: per exposed
    /// Service its own name, one SRV name per named port
    /// (`_port._proto.<service>`), and one name per endpoint. The zone's
    /// own names (apex, `ns.dns`, `dns-version`), pod names and reverse
    /// names are not counted.
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// // kubernetes.default.svc and _https._tcp.kubernetes.default.svc
    /// assert_eq!(dns.name_count(), 2);
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn name_count(&self) -> usize {
        let mut count = 0;
        for svc in self.services.values() {
            if !self.ns_states[svc.ns as usize].answerable() {
                continue;
            }
            let mut ports: Vec<(&str, &str)> = Vec::new();
            let mut endpoints: Vec<&str> = Vec::new();
            let service_ports = match &svc.kind {
                SvcKind::ClusterIp { ports, .. } => ports.as_slice(),
                SvcKind::Headless => &[],
                SvcKind::External(_) => {
                    count += 1;
                    continue;
                }
            };
            let headless = matches!(svc.kind, SvcKind::Headless);
            let slice_ports = svc
                .subsets
                .iter()
                .filter(|_| headless)
                .flat_map(|s| &s.ports);
            for p in service_ports.iter().chain(slice_ports) {
                if !p.name.is_empty() {
                    ports.push((&p.name, &p.protocol));
                }
            }
            for a in svc.subsets.iter().flat_map(|s| &s.addrs) {
                endpoints.push(&a.name);
            }
            crate::order::sort_unstable(&mut ports);
            ports.dedup();
            crate::order::sort_unstable(&mut endpoints);
            endpoints.dedup();
            count += 1 + ports.len() + endpoints.len();
        }
        count
    }

    /// The options.
    pub fn config(&self) -> &DnsConfig {
        &self.config
    }

    /// Answers one question. `name` is a domain name in presentation
    /// format (the trailing dot is optional; the name is absolute either
    /// way); its spelling is kept in owner names.
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig, Outcome, RecordType};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let a = dns.query("KUBERNETES.default.svc.cluster.local.", RecordType::A)?;
    /// assert_eq!(a.answer[0].to_string(), "KUBERNETES.default.svc.cluster.local. 5 IN A 10.96.0.1");
    /// let txt = dns.query("dns-version.cluster.local.", RecordType::Txt)?;
    /// assert_eq!(txt.answer[0].to_string(), "dns-version.cluster.local. 28800 IN TXT \"1.1.0\"");
    /// assert_eq!(dns.query("default.svc.cluster.local.", RecordType::A)?.outcome, Outcome::NoData);
    /// assert!(dns.query("a..b.", RecordType::A).is_err());
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn query(&self, name: &str, qtype: RecordType) -> Result<Answer, DnsError> {
        let mut answer = Answer::passthrough();
        self.query_into(name, qtype, &mut answer)?;
        Ok(answer)
    }

    /// [`Dns::query`] into an answer the caller keeps from question to
    /// question: for the common A/AAAA question of a Service with cluster
    /// IPs, the records already there are rewritten in place, so a reused
    /// answer costs no allocation. `out` is replaced whole (on error it is
    /// left as it was).
    ///
    /// ```
    /// use svcroute::dns::{Answer, Dns, DnsConfig, RecordType};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let mut answer = Answer::default();
    /// for name in ["kubernetes.default.svc.cluster.local.", "KUBERNETES.default.svc.cluster.local."] {
    ///     dns.query_into(name, RecordType::A, &mut answer)?;
    ///     assert_eq!(answer, dns.query(name, RecordType::A)?);
    /// }
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn query_into(
        &self,
        name: &str,
        qtype: RecordType,
        out: &mut Answer,
    ) -> Result<(), DnsError> {
        // The compact (WASM) build answers through the general path only:
        // the same answer, with less code.
        if !cfg!(feature = "compact")
            && matches!(qtype, RecordType::A | RecordType::Aaaa)
            && name.ends_with('.')
            && self.cluster_ip_answer(name, qtype, out)
        {
            return Ok(());
        }
        *out = self.query_general(name, qtype)?;
        Ok(())
    }

    /// [`Dns::query`] through the whole lookup.
    fn query_general(&self, name: &str, qtype: RecordType) -> Result<Answer, DnsError> {
        check_name(name)?;
        let qname: Cow<'_, str> = if name.ends_with('.') {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(fqdn(name))
        };
        Ok(self.answer_for(&qname, qtype))
    }

    /// The zone (index into `zones`) a name falls in: the longest match.
    fn zone_of(&self, name: &str) -> Option<usize> {
        // Names of the forward zone, the usual case: one comparison.
        if self.forward_zone_first && is_subdomain(&self.zones[0], name) {
            return Some(0);
        }
        let mut best: Option<usize> = None;
        for (i, z) in self.zones.iter().enumerate() {
            if is_subdomain(z, name) && best.is_none_or(|b| self.zones[b].len() < z.len()) {
                best = Some(i);
            }
        }
        best
    }

    fn answer_for(&self, qname: &str, qtype: RecordType) -> Answer {
        let mut out = Answer::passthrough();
        if let Some(zone_q) = self.answer_without_soa(qname, qtype, &mut out) {
            out.authority.push(self.soa(zone_q));
        }
        out
    }

    /// [`Dns::answer_for`] into `out` (replaced whole) without the SOA of
    /// a negative answer: for NXDOMAIN and NODATA the zone as the query
    /// spells it is returned instead, and the caller adds the SOA
    /// ([`Dns::soa`]) or writes it.
    fn answer_without_soa<'q>(
        &self,
        qname: &'q str,
        qtype: RecordType,
        out: &mut Answer,
    ) -> Option<&'q str> {
        out.answer.clear();
        out.authority.clear();
        out.additional.clear();
        out.chase.clear();
        out.outcome = Outcome::Passthrough;
        let zi = self.zone_of(qname)?;
        let zone_len = self.zones[zi].len();
        // The zone as the query spells it.
        let zone_q = if self.zones[zi] == "." {
            "."
        } else {
            &qname[qname.len() - zone_len..]
        };
        let lower: Cow<'_, str> = if qname.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(qname.to_ascii_lowercase())
        } else {
            Cow::Borrowed(qname)
        };
        let at_apex = lower.len() == zone_len;
        let q = Question {
            qname,
            lower: &lower,
            zone: zi,
            zone_q,
            all_ports: qtype == RecordType::Srv,
        };
        out.outcome = Outcome::Answer;
        // A Service's cluster IPs straight from the index (the compact
        // build takes the lookup below, which gives the same records).
        if !cfg!(feature = "compact")
            && matches!(qtype, RecordType::A | RecordType::Aaaa)
            && let Some(ips) = self.cluster_ips_of(&lower, zi)
        {
            self.cluster_ip_records(qname, qtype, ips, &mut out.answer);
            if !out.answer.is_empty() {
                return None;
            }
        }
        let result: Result<(), NameError> = match qtype {
            RecordType::A | RecordType::Aaaa => {
                self.addresses(&q, qtype, &[], &mut out.answer, &mut out.chase)
            }
            RecordType::Txt => self.txt(&q, &mut out.answer),
            RecordType::Cname => self.cname(&q, &mut out.answer),
            RecordType::Ptr => self.ptr(&q, &mut out.answer),
            RecordType::Mx => self.services(&q, qtype, &mut |_| {}),
            RecordType::Srv => self.srv(&q, &mut out.answer, &mut out.additional),
            RecordType::Soa => {
                if at_apex {
                    out.answer.push(self.soa(zone_q));
                }
                Ok(())
            }
            RecordType::Axfr | RecordType::Ixfr => {
                out.outcome = Outcome::Refused;
                return None;
            }
            RecordType::Ns if at_apex => self.ns(&q, &mut out.answer, &mut out.additional),
            _ => self.services(&q, RecordType::A, &mut |_| {}),
        };
        match result {
            Err(NameError) => {
                out.answer.clear();
                out.additional.clear();
                out.chase.clear();
                if self.config.fallthrough.through(&lower) {
                    out.outcome = Outcome::Passthrough;
                    return None;
                }
                out.outcome = Outcome::NxDomain;
                Some(zone_q)
            }
            Ok(()) if out.answer.is_empty() => {
                out.outcome = Outcome::NoData;
                out.additional.clear();
                out.chase.clear();
                Some(zone_q)
            }
            Ok(()) => None,
        }
    }

    /// The zone's SOA record, named as the query spells the zone.
    fn soa(&self, zone_q: &str) -> Record {
        let join = |label: &str| {
            let mut s = String::with_capacity(label.len() + 1 + zone_q.len());
            s.push_str(label);
            s.push('.');
            if zone_q != "." {
                s.push_str(zone_q);
            }
            s
        };
        let (ttl, [serial, refresh, retry, expire, minimum]) = self.soa_numbers();
        Record::new(
            zone_q,
            ttl,
            RData::Soa {
                mname: join("ns.dns"),
                rname: join("hostmaster"),
                serial,
                refresh,
                retry,
                expire,
                minimum,
            },
        )
    }

    /// The SOA's TTL and its numbers: serial, refresh, retry, expire,
    /// minimum.
    fn soa_numbers(&self) -> (u32, [u32; 5]) {
        (
            self.config.ttl.min(300),
            [self.config.soa_serial, 7200, 1800, 86400, self.config.ttl],
        )
    }

    fn exposed(&self, ns: &str) -> bool {
        self.exposed_namespace(ns).is_some()
    }

    /// The namespace's id when it exists and is exposed (lower case).
    fn exposed_namespace(&self, ns: &str) -> Option<u32> {
        let id = *self.namespaces.get(ns)?;
        self.ns_states[id as usize].answerable().then_some(id)
    }

    /// The id of a namespace (lower case), made on first sight.
    fn ns_id(&mut self, ns: &str) -> u32 {
        if let Some(&id) = self.namespaces.get(ns) {
            return id;
        }
        let id = u32::try_from(self.ns_states.len()).unwrap_or(u32::MAX);
        let exposed = self.exposed.is_empty() || self.exposed.iter().any(|e| e == ns);
        self.ns_states.push(NsState {
            exists: false,
            exposed,
        });
        self.namespaces.insert(ns.to_owned(), id);
        id
    }

    /// The Service `name` in `ns` (both lower case).
    fn service(&self, ns: &str, name: &str) -> Option<&SvcEntry> {
        let key = KeyBuf::new(name, ns)?;
        self.service_by_key(key.as_bytes(), name.len())
    }

    /// The Service whose flat key is `key` and whose name is
    /// `name_len` octets long (the key alone would confuse `a.b` in `c`
    /// with `a` in `b.c`, were such names valid).
    fn service_by_key(&self, key: &[u8], name_len: usize) -> Option<&SvcEntry> {
        self.services
            .get(key)
            .filter(|svc| svc.name.len() == name_len)
    }
}

// ------------------------------------------------------------------ lookup

/// The name does not exist (CoreDNS's `errNoItems`, `errNsNotExposed`,
/// `errInvalidRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameError;

struct Question<'a> {
    /// The name as asked (FQDN).
    qname: &'a str,
    /// Lower-case.
    lower: &'a str,
    /// Index of its zone.
    zone: usize,
    /// The zone as the query spells it.
    zone_q: &'a str,
    /// Every (address × port) entry is wanted (SRV), not one per address.
    all_ports: bool,
}

#[derive(Debug, Clone, Copy)]
enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// One internal entry (CoreDNS `msg.Service`).
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    host: Host<'a>,
    port: i32,
    /// The service it belongs to (for SRV targets).
    svc: Option<&'a SvcEntry>,
    /// The endpoint name, for endpoint entries.
    endpoint: Option<&'a str>,
    /// For NS-address entries: the owner name to use as SRV/NS target.
    ns_name: Option<&'a str>,
}

/// The family an address is answered as: IPv4-mapped IPv6 counts as IPv4
/// (Go's `To4`).
fn as_v4(ip: IpAddr) -> Result<Ipv4Addr, Ipv6Addr> {
    match ip {
        IpAddr::V4(v4) => Ok(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().ok_or(v6),
    }
}

fn strip_underscore(s: &str) -> &str {
    s.strip_prefix('_').unwrap_or(s)
}

fn is_reverse_name(lower: &str) -> bool {
    lower.ends_with(".in-addr.arpa.") || lower.ends_with(".ip6.arpa.")
}

const MAX_BASE: usize = 8;

/// The labels of a name below its zone, without allocating.
struct Base<'a> {
    labels: [&'a str; MAX_BASE],
    len: usize,
    /// More labels than kept.
    overflow: bool,
}

impl<'a> Base<'a> {
    fn split(s: &'a str) -> Base<'a> {
        let mut b = Base {
            labels: [""; MAX_BASE],
            len: 0,
            overflow: false,
        };
        let bytes = s.as_bytes();
        let (mut start, mut i) = (0, 0);
        while i <= bytes.len() {
            if i == bytes.len() || bytes[i] == b'.' {
                if i > start {
                    if b.len == MAX_BASE {
                        b.overflow = true;
                        return b;
                    }
                    b.labels[b.len] = &s[start..i];
                    b.len += 1;
                }
                start = i + 1;
                i += 1;
            } else if bytes[i] == b'\\' {
                i += 2;
            } else {
                i += 1;
            }
        }
        b
    }

    fn as_slice(&self) -> &[&'a str] {
        &self.labels[..self.len]
    }
}

struct Request<'a> {
    all_ports: bool,
    pod: bool,
    namespace: &'a str,
    service: &'a str,
    endpoint: &'a str,
    port: &'a str,
    protocol: &'a str,
}

impl Dns {
    /// The labels of `lower` below its zone (at most [`MAX_BASE`] kept:
    /// longer names exist nowhere).
    fn base<'a>(&self, lower: &'a str, zone: usize) -> Base<'a> {
        let zone = &self.zones[zone];
        let base = if zone == "." {
            lower
        } else {
            &lower[..lower.len() - zone.len()]
        };
        Base::split(base)
    }

    /// CoreDNS `Services`: the entries for a name, by query type, handed
    /// to `out` one by one.
    fn services<'s>(
        &'s self,
        q: &Question<'_>,
        qtype: RecordType,
        out: &mut dyn FnMut(Entry<'s>),
    ) -> Result<(), NameError> {
        if let Some(rest) = q.lower.strip_prefix("ns.dns.")
            && rest == self.zones[q.zone]
        {
            for (_, ip) in self.ns_addresses(q.zone_q) {
                let wanted = match qtype {
                    RecordType::A => as_v4(ip).is_ok(),
                    RecordType::Aaaa => as_v4(ip).is_err(),
                    _ => false,
                };
                if wanted {
                    out(Entry {
                        host: Host::Ip(ip),
                        port: 0,
                        svc: None,
                        endpoint: None,
                        ns_name: None,
                    });
                }
            }
            return Ok(());
        }
        if qtype == RecordType::Srv {
            return self.records(q, &mut |e| {
                if !matches!(e.host, Host::Name(_)) {
                    out(e);
                }
            });
        }
        self.records(q, out)
    }

    /// CoreDNS `Records`: parse the name and find services or pods.
    fn records<'s>(
        &'s self,
        q: &Question<'_>,
        out: &mut dyn FnMut(Entry<'s>),
    ) -> Result<(), NameError> {
        let split = self.base(q.lower, q.zone);
        if split.overflow {
            return Err(NameError);
        }
        let base = split.as_slice();
        let n = base.len();
        if n == 0 || (n == 1 && (base[0] == "svc" || base[0] == "pod")) {
            return Ok(());
        }
        let pod = match base[n - 1] {
            "svc" => false,
            "pod" => true,
            _ => return Err(NameError),
        };
        let mut r = Request {
            all_ports: q.all_ports,
            pod,
            namespace: base[n - 2],
            service: "",
            endpoint: "",
            port: "",
            protocol: "",
        };
        if n >= 3 {
            r.service = base[n - 3];
            match n - 3 {
                0 => {}
                1 => r.endpoint = base[0],
                2 => {
                    r.protocol = strip_underscore(base[1]);
                    r.port = strip_underscore(base[0]);
                }
                _ => return Err(NameError),
            }
        }
        if is_reverse_name(q.lower) {
            return Err(NameError);
        }
        if self.exposed_namespace(r.namespace).is_none() {
            return Err(NameError);
        }
        if r.pod {
            self.find_pods(&r, out)
        } else {
            self.find_services(&r, out)
        }
    }

    fn find_pods<'s>(
        &'s self,
        r: &Request<'_>,
        out: &mut dyn FnMut(Entry<'s>),
    ) -> Result<(), NameError> {
        if self.config.pods == PodMode::Disabled {
            return Err(NameError);
        }
        if r.service.is_empty() {
            return Ok(());
        }
        let podname = r.service;
        let ip = if podname.matches('-').count() == 3 && !podname.contains("--") {
            podname.replace('-', ".")
        } else {
            podname.replace('-', ":")
        };
        let pod_entry = |ip: IpAddr| Entry {
            host: Host::Ip(ip),
            port: 0,
            svc: None,
            endpoint: None,
            ns_name: None,
        };
        match self.config.pods {
            PodMode::Insecure => match ip.parse::<IpAddr>() {
                Ok(addr) => {
                    out(pod_entry(addr));
                    Ok(())
                }
                Err(_) => Err(NameError),
            },
            _ => {
                let hits = self
                    .pods_by_ip
                    .get(&ip)
                    .map_or(0, |nss| nss.iter().filter(|n| *n == r.namespace).count());
                match ip.parse::<IpAddr>() {
                    Ok(addr) if hits > 0 => {
                        for _ in 0..hits {
                            out(pod_entry(addr));
                        }
                        Ok(())
                    }
                    _ => Err(NameError),
                }
            }
        }
    }

    fn find_services<'s>(
        &'s self,
        r: &Request<'_>,
        out: &mut dyn FnMut(Entry<'s>),
    ) -> Result<(), NameError> {
        if r.service.is_empty() {
            return Ok(());
        }
        let Some(svc) = self.service(r.namespace, r.service) else {
            return Err(NameError);
        };
        let port_ok = |p: &Port| {
            (r.port.is_empty() || r.port.eq_ignore_ascii_case(&p.name))
                && (r.protocol.is_empty() || r.protocol.eq_ignore_ascii_case(&p.protocol))
        };
        if self.config.ignore_empty_service
            && matches!(svc.kind, SvcKind::ClusterIp { .. })
            && svc.subsets.iter().all(|s| s.addrs.is_empty())
        {
            return Err(NameError);
        }
        match &svc.kind {
            SvcKind::External(target) => {
                if !r.endpoint.is_empty() || !r.port.is_empty() || !r.protocol.is_empty() {
                    return Err(NameError);
                }
                if target.parse::<IpAddr>().is_ok() {
                    return Err(NameError);
                }
                out(Entry {
                    host: Host::Name(target),
                    port: 0,
                    svc: Some(svc),
                    endpoint: None,
                    ns_name: None,
                });
                Ok(())
            }
            SvcKind::ClusterIp { .. } | SvcKind::Headless
                if matches!(svc.kind, SvcKind::Headless) || !r.endpoint.is_empty() =>
            {
                let mut found = false;
                for subset in &svc.subsets {
                    for addr in &subset.addrs {
                        if !r.endpoint.is_empty() && !r.endpoint.eq_ignore_ascii_case(&addr.name) {
                            continue;
                        }
                        for p in subset.ports.iter().filter(|p| port_ok(p)) {
                            found = true;
                            out(Entry {
                                host: Host::Ip(addr.ip),
                                port: p.port,
                                svc: Some(svc),
                                endpoint: Some(&addr.name),
                                ns_name: None,
                            });
                        }
                    }
                }
                if found { Ok(()) } else { Err(NameError) }
            }
            SvcKind::ClusterIp { ips, ports }
                if !r.all_ports && r.port.is_empty() && r.protocol.is_empty() =>
            {
                // Only the addresses matter: one entry each, ports unread.
                if ports.is_empty() {
                    return Err(NameError);
                }
                for ip in ips.iter() {
                    out(Entry {
                        host: Host::Ip(*ip),
                        port: 0,
                        svc: Some(svc),
                        endpoint: None,
                        ns_name: None,
                    });
                }
                Ok(())
            }
            SvcKind::ClusterIp { ips, ports } => {
                let mut found = false;
                for p in ports.iter().filter(|p| port_ok(p)) {
                    found = true;
                    for ip in ips.iter() {
                        out(Entry {
                            host: Host::Ip(*ip),
                            port: p.port,
                            svc: Some(svc),
                            endpoint: None,
                            ns_name: None,
                        });
                    }
                }
                if found { Ok(()) } else { Err(NameError) }
            }
            SvcKind::Headless => Err(NameError),
        }
    }

    /// The DNS service's addresses, with the names CoreDNS gives them.
    fn ns_addresses(&self, zone_q: &str) -> Vec<(String, IpAddr)> {
        let Some((ns, name)) = &self.config.dns_service else {
            return Vec::new();
        };
        let Some(svc) = self.service(&ns.to_ascii_lowercase(), &name.to_ascii_lowercase()) else {
            return Vec::new();
        };
        let svc_name = format!("{}.{}.svc.{}", svc.name, svc.namespace, zone_q);
        match &svc.kind {
            SvcKind::ClusterIp { ips, .. } => {
                ips.iter().map(|ip| (svc_name.clone(), *ip)).collect()
            }
            SvcKind::Headless => svc
                .subsets
                .iter()
                .flat_map(|s| &s.addrs)
                .map(|a| (format!("{}.{svc_name}", a.name), a.ip))
                .collect(),
            SvcKind::External(_) => Vec::new(),
        }
    }

    fn target_name(&self, e: &Entry<'_>, zone_q: &str) -> String {
        match (e.svc, e.endpoint) {
            (Some(svc), Some(ep)) => format!("{ep}.{}.{}.svc.{zone_q}", svc.name, svc.namespace),
            (Some(svc), None) => format!("{}.{}.svc.{zone_q}", svc.name, svc.namespace),
            _ => e.ns_name.unwrap_or(zone_q).to_owned(),
        }
    }

    /// A and AAAA (CoreDNS `plugin.A`/`plugin.AAAA`), following in-zone
    /// CNAMEs and marking out-of-zone ones to chase.
    fn addresses(
        &self,
        q: &Question<'_>,
        qtype: RecordType,
        previous: &[Record],
        records: &mut Vec<Record>,
        chase: &mut Vec<Chase>,
    ) -> Result<(), NameError> {
        let ttl = self.config.ttl;
        let first = records.len();
        let mut seen: Option<FastSet<IpAddr>> = None;
        self.services(q, qtype, &mut |e| match e.host {
            Host::Name(target) => {
                let target = fqdn(target);
                if target.eq_ignore_ascii_case(q.lower) {
                    return;
                }
                let cname = Record::new(q.qname, ttl, RData::Cname(target.clone()));
                if previous.len() > MAX_CNAME_CHAIN {
                    return;
                }
                if previous.iter().any(|p| match (&p.data, &cname.data) {
                    (RData::Cname(a), RData::Cname(b)) => {
                        p.name.eq_ignore_ascii_case(&cname.name) && a.eq_ignore_ascii_case(b)
                    }
                    _ => false,
                }) {
                    return;
                }
                if is_subdomain(&self.zones[q.zone], &target) {
                    let lower = target.to_ascii_lowercase();
                    let zone_len = self.zones[q.zone].len();
                    let zone_q = if self.zones[q.zone] == "." {
                        "."
                    } else {
                        &target[target.len() - zone_len..]
                    };
                    let q1 = Question {
                        qname: &target,
                        lower: &lower,
                        zone: q.zone,
                        zone_q,
                        all_ports: false,
                    };
                    let mut chain = previous.to_vec();
                    chain.push(cname.clone());
                    let mut next = Vec::new();
                    let mut next_chase = Vec::new();
                    if self
                        .addresses(&q1, qtype, &chain, &mut next, &mut next_chase)
                        .is_ok()
                        && !next.is_empty()
                    {
                        records.push(cname);
                        records.extend(next);
                        chase.extend(next_chase);
                    }
                    return;
                }
                records.push(cname);
                let c = Chase {
                    name: target,
                    qtype,
                };
                if !chase.contains(&c) {
                    chase.push(c);
                }
            }
            Host::Ip(ip) => {
                let (data, key) = match (as_v4(ip), qtype) {
                    (Ok(v4), RecordType::A) => (RData::A(v4), IpAddr::V4(v4)),
                    (Err(v6), RecordType::Aaaa) => (RData::Aaaa(v6), IpAddr::V6(v6)),
                    _ => return,
                };
                // Duplicates: a scan while few, a set past that (headless
                // services have hundreds of endpoints).
                if let Some(set) = &mut seen {
                    if !set.insert(key) {
                        return;
                    }
                } else if records[first..].iter().any(|r| r.data == data) {
                    return;
                } else if records.len() - first >= DEDUP_SCAN {
                    let mut set = FastSet::default();
                    set.extend(records[first..].iter().filter_map(|r| match r.data {
                        RData::A(v4) => Some(IpAddr::V4(v4)),
                        RData::Aaaa(v6) => Some(IpAddr::V6(v6)),
                        _ => None,
                    }));
                    set.insert(key);
                    seen = Some(set);
                }
                records.push(Record::new(q.qname, ttl, data));
            }
        })
    }

    fn srv(
        &self,
        q: &Question<'_>,
        records: &mut Vec<Record>,
        extra: &mut Vec<Record>,
    ) -> Result<(), NameError> {
        let mut entries = Vec::new();
        self.services(q, RecordType::Srv, &mut |e| entries.push(e))?;
        let ttl = self.config.ttl;
        // CoreDNS: every entry weighs 100 at priority 0, so the share is
        // floor(100 / N), N counting placeholders and duplicates.
        let total = 100.0 * entries.len() as f64;
        let w1 = (100.0 / total * 100.0).floor();
        let weight = if w1 < 1.0 { 1 } else { w1 as u16 };
        let (first, first_extra) = (records.len(), extra.len());
        for e in &entries {
            if e.port == -1 {
                continue;
            }
            let Host::Ip(ip) = e.host else { continue };
            let Ok(port) = u16::try_from(e.port) else {
                continue;
            };
            let target = self.target_name(e, q.zone_q);
            let data = match as_v4(ip) {
                Ok(v4) => RData::A(v4),
                Err(v6) => RData::Aaaa(v6),
            };
            let new_addr = !extra[first_extra..]
                .iter()
                .any(|r| r.data == data && r.name == target);
            let new_srv = !records[first..].iter().any(|r| {
                matches!(&r.data, RData::Srv { port: p, target: t, .. } if *p == port && *t == target)
            });
            match (new_srv, new_addr) {
                (true, true) => {
                    records.push(Record::new(
                        q.qname,
                        ttl,
                        RData::Srv {
                            priority: 0,
                            weight,
                            port,
                            target: target.clone(),
                        },
                    ));
                    extra.push(Record::new(target, ttl, data));
                }
                (true, false) => records.push(Record::new(
                    q.qname,
                    ttl,
                    RData::Srv {
                        priority: 0,
                        weight,
                        port,
                        target,
                    },
                )),
                (false, true) => extra.push(Record::new(target, ttl, data)),
                (false, false) => {}
            }
        }
        Ok(())
    }

    fn txt(&self, q: &Question<'_>, records: &mut Vec<Record>) -> Result<(), NameError> {
        let base = self.base(q.lower, q.zone);
        if !base.overflow && base.as_slice() == ["dns-version"] {
            records.push(Record::new(
                q.qname,
                SCHEMA_VERSION_TTL,
                RData::Txt(vec![SCHEMA_VERSION.to_owned()]),
            ));
            return Ok(());
        }
        let mut found = false;
        match self.records(q, &mut |_| found = true) {
            Ok(()) if found => Ok(()),
            _ => Err(NameError),
        }
    }

    fn cname(&self, q: &Question<'_>, records: &mut Vec<Record>) -> Result<(), NameError> {
        let mut first = None;
        self.services(q, RecordType::Cname, &mut |e| {
            first.get_or_insert(e);
        })?;
        if let Some(Entry {
            host: Host::Name(target),
            ..
        }) = first
        {
            records.push(Record::new(
                q.qname,
                self.config.ttl,
                RData::Cname(fqdn(target)),
            ));
        }
        Ok(())
    }

    fn ns(
        &self,
        q: &Question<'_>,
        records: &mut Vec<Record>,
        extra: &mut Vec<Record>,
    ) -> Result<(), NameError> {
        let ttl = self.config.ttl;
        for (name, ip) in self.ns_addresses(q.zone_q) {
            let data = match as_v4(ip) {
                Ok(v4) => RData::A(v4),
                Err(v6) => RData::Aaaa(v6),
            };
            extra.push(Record::new(name.clone(), ttl, data));
            if !records.iter().any(|r| r.data == RData::Ns(name.clone())) {
                records.push(Record::new(q.qname, ttl, RData::Ns(name)));
            }
        }
        Ok(())
    }

    fn ptr(&self, q: &Question<'_>, records: &mut Vec<Record>) -> Result<(), NameError> {
        let Some(ip) = address_from_reverse(q.lower) else {
            return self.records(q, &mut |_| {});
        };
        let ttl = self.config.ttl;
        let zone = &self.zones[0];
        let filtered =
            |ns: &str| !self.exposed.is_empty() && !self.exposed(&ns.to_ascii_lowercase());
        if let Some(svcs) = self.by_cluster_ip.get(&ip) {
            for (ns, name) in svcs {
                if filtered(ns) {
                    continue;
                }
                records.push(Record::new(
                    q.qname,
                    ttl,
                    RData::Ptr(format!("{name}.{ns}.svc.{zone}")),
                ));
                return Ok(());
            }
        }
        if let Some(eps) = self.by_endpoint_ip.get(&ip) {
            for (ns, svc, ep) in eps {
                if filtered(ns) {
                    continue;
                }
                let target = format!("{ep}.{svc}.{ns}.svc.{zone}");
                if !records.iter().any(|r| r.data == RData::Ptr(target.clone())) {
                    records.push(Record::new(q.qname, ttl, RData::Ptr(target)));
                }
            }
        }
        if records.is_empty() {
            Err(NameError)
        } else {
            Ok(())
        }
    }
}

/// The address a full reverse name stands for (`dnsutil.ExtractAddressFromReverse`):
/// four decimal labels under `in-addr.arpa.`, 32 nibbles under `ip6.arpa.`.
/// The address text is put together on the stack (no legal one is longer
/// than [`REVERSE_TEXT`] octets).
fn address_from_reverse(lower: &str) -> Option<IpAddr> {
    if let Some(rest) = lower.strip_suffix(".in-addr.arpa.") {
        // The labels in reverse order, joined by dots.
        let mut text = NameText::default();
        for (i, label) in rest.rsplit('.').enumerate() {
            if i > 0 {
                text.push(".")?;
            }
            text.push(label)?;
        }
        return text.as_str()?.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    if let Some(rest) = lower.strip_suffix(".ip6.arpa.") {
        if rest.split('.').count() / 4 != 8 {
            return None;
        }
        // The last 32 labels in reverse order, in groups of four joined
        // by colons.
        let mut text = NameText::default();
        for (i, label) in rest.rsplit('.').take(32).enumerate() {
            if i > 0 && i % 4 == 0 {
                text.push(":")?;
            }
            text.push(label)?;
        }
        return text.as_str()?.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    None
}

/// Room for an address's text (an IPv6 address with an embedded IPv4 one
/// takes 45 octets); anything longer is no address.
const REVERSE_TEXT: usize = 64;

/// An address's text put together on the stack.
struct NameText {
    buf: [u8; REVERSE_TEXT],
    len: usize,
}

impl Default for NameText {
    fn default() -> NameText {
        NameText {
            buf: [0; REVERSE_TEXT],
            len: 0,
        }
    }
}

impl NameText {
    /// Appends `s`; `None` when it does not fit (then it is no address).
    fn push(&mut self, s: &str) -> Option<()> {
        self.buf
            .get_mut(self.len..self.len + s.len())?
            .copy_from_slice(s.as_bytes());
        self.len += s.len();
        Some(())
    }

    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.buf[..self.len]).ok()
    }
}

#[cfg(test)]
mod tests;
