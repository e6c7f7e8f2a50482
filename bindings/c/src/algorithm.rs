//! Balancing algorithms chosen per Service port (`svcroute_set_algorithm`)
//! and where in the dataplane they apply.
//!
//! By default a connection is placed as kube-proxy places it (iptables and
//! nftables: uniformly at random; IPVS: its scheduler; ClientIP affinity
//! on top). A proxy may instead choose one of [`svcroute::balance`]'s
//! algorithms for a Service port: kube-proxy's rules still decide the
//! eligible endpoints (traffic policies, topology, readiness), and the
//! algorithm picks among them, keyed by the connection's 5-tuple.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use svcroute::ErrorKind;
use svcroute::api::{Kind, Object, ObjectKey, Protocol as L4};
use svcroute::balance::{Algorithm, AnyBalancer, Backend, Balancer, Event, FlowKey, Request};
use svcroute::cluster::Cluster;

use crate::door::DoorError;

/// The name of kube-proxy's own placement, the default, which
/// `svcroute_set_algorithm` takes besides [`Algorithm::NAMES`].
///
/// ```
/// use svcroute_c::algorithm::{KUBE_PROXY, parse};
/// assert!(parse(KUBE_PROXY, 0).unwrap().is_none());
/// ```
pub const KUBE_PROXY: &str = "kube-proxy";

/// The algorithm named `name` with its defaults and `seed`; `Ok(None)` for
/// `"kube-proxy"` (kube-proxy's own placement).
///
/// ```
/// use svcroute_c::algorithm::parse;
/// assert_eq!(parse("maglev", 0).unwrap().unwrap().name(), "maglev");
/// assert!(parse("kube-proxy", 0).unwrap().is_none());
/// assert!(parse("fastest", 0).is_err());
/// ```
pub fn parse(name: &str, seed: u64) -> Result<Option<Algorithm>, DoorError> {
    if name == KUBE_PROXY {
        return Ok(None);
    }
    Algorithm::from_name(name, seed).map(Some).map_err(|_| {
        DoorError::new(
            ErrorKind::NotFound,
            format!(
                "no balancing algorithm is named {name:?}; the names are {KUBE_PROXY}, {}",
                Algorithm::NAMES.join(", ")
            ),
        )
    })
}

/// A Service port an algorithm was chosen for (`port` 0: every port).
///
/// ```
/// let k = svcroute_c::algorithm::PortKey { namespace: "shop".into(), name: "web".into(), port: 80 };
/// assert_eq!(k.port, 80);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// The Service port number (`spec.ports[].port`), 0 for all.
    pub port: u16,
}

/// One Service port with an algorithm, resolved against the current
/// Service object (see [`Algorithms`]).
#[derive(Debug, Clone)]
pub struct Entry {
    /// `namespace/name`, as a decision names its Service.
    pub service: String,
    /// The algorithm.
    pub algorithm: Algorithm,
}

/// The algorithms chosen, and the front doors (cluster IPs, externalIPs,
/// load-balancer IPs, node ports) of the Service ports they apply to.
///
/// ```
/// use svcroute_c::algorithm::{parse, Algorithms, PortKey};
/// let c = svcroute_c::door::new_cluster(None).unwrap(); // default/kubernetes on 10.96.0.1:443
/// let mut a = Algorithms::default();
/// let key = PortKey { namespace: "default".into(), name: "kubernetes".into(), port: 443 };
/// a.set(&c, key, parse("maglev", 0).unwrap());
/// assert!(a.covers("10.96.0.1:443".parse().unwrap(), svcroute_c::svcroute::api::Protocol::TCP));
/// assert!(!a.covers("10.96.0.1:80".parse().unwrap(), svcroute_c::svcroute::api::Protocol::TCP));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Algorithms {
    chosen: BTreeMap<PortKey, Algorithm>,
    /// Bumped on every change; balancer caches built for an older
    /// generation are dropped.
    generation: u64,
    entries: Vec<Entry>,
    /// (address, Service port, protocol) → entry.
    fronts: HashMap<(IpAddr, u16, L4), usize>,
    /// (nodePort, protocol) → entry.
    node_ports: HashMap<(u16, L4), usize>,
}

impl Algorithms {
    /// Chooses `algorithm` for `key` (`None`: back to kube-proxy's own).
    pub fn set(&mut self, cluster: &Cluster, key: PortKey, algorithm: Option<Algorithm>) {
        match algorithm {
            Some(a) => {
                self.chosen.insert(key, a);
            }
            None => {
                self.chosen.remove(&key);
            }
        }
        self.reindex(cluster);
    }

    /// No algorithm chosen anywhere: every connection is placed by kube-proxy's rules.
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// The generation of the index (changes whenever it does).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether a connection to this front door may need an algorithm.
    pub fn covers(&self, dest: SocketAddr, l4: L4) -> bool {
        !self.fronts.is_empty() && self.fronts.contains_key(&(dest.ip(), dest.port(), l4))
    }

    /// The entry for a connection to `dest` that Service
    /// `namespace/name` handled.
    pub fn lookup(
        &self,
        dest: SocketAddr,
        l4: L4,
        namespace: &str,
        name: &str,
    ) -> Option<(usize, &Entry)> {
        let i = self
            .fronts
            .get(&(dest.ip(), dest.port(), l4))
            .or_else(|| self.node_ports.get(&(dest.port(), l4)))
            .copied()?;
        let entry = self.entries.get(i)?;
        let s = entry.service.as_str();
        let same = s.len() == namespace.len() + 1 + name.len()
            && s.starts_with(namespace)
            && s.as_bytes()[namespace.len()] == b'/'
            && s.ends_with(name);
        same.then_some((i, entry))
    }

    /// Re-resolves the chosen ports against the Services of `cluster`
    /// (after any change to them).
    pub fn reindex(&mut self, cluster: &Cluster) {
        self.generation += 1;
        self.entries.clear();
        self.fronts.clear();
        self.node_ports.clear();
        for (key, algorithm) in &self.chosen {
            let object = cluster.get(&ObjectKey {
                kind: Kind::Service,
                namespace: Some(key.namespace.clone()),
                name: key.name.clone(),
            });
            let Some(Object::Service(svc)) = object.as_deref() else {
                continue;
            };
            let mut addresses: Vec<IpAddr> = Vec::new();
            let spec = &svc.spec;
            let cluster_ips = spec.cluster_ips.iter().flatten().chain(&spec.cluster_ip);
            for ip in cluster_ips.chain(&spec.external_ips) {
                if let Ok(ip) = ip.trim().parse::<IpAddr>()
                    && !addresses.contains(&ip)
                {
                    addresses.push(ip);
                }
            }
            for ingress in &svc.status.load_balancer.ingress {
                if let Some(Ok(ip)) = ingress.ip.as_ref().map(|ip| ip.trim().parse::<IpAddr>())
                    && !addresses.contains(&ip)
                {
                    addresses.push(ip);
                }
            }
            for port in &spec.ports {
                let Ok(number) = u16::try_from(port.port) else {
                    continue;
                };
                if key.port != 0 && key.port != number {
                    continue;
                }
                let l4 = port.protocol.unwrap_or(L4::TCP);
                let i = self.entries.len();
                self.entries.push(Entry {
                    service: format!("{}/{}", key.namespace, key.name),
                    algorithm: algorithm.clone(),
                });
                for ip in &addresses {
                    self.fronts.entry((*ip, number, l4)).or_insert(i);
                }
                if let Some(node_port) = port.node_port.and_then(|p| u16::try_from(p).ok()) {
                    self.node_ports.entry((node_port, l4)).or_insert(i);
                }
            }
        }
    }
}

/// The balancers built for chosen algorithms, per entry and per eligible
/// endpoint set (kube-proxy's rules give each node, zone and policy its own
/// set), and the connection and latency events reported for endpoints
/// (`svcroute_conn_open`, `svcroute_conn_close`,
/// `svcroute_observe_latency`), which every balancer whose set holds the
/// endpoint hears. A balancer built later starts from the load reported so
/// far. Used by [`crate::route`] after [`Algorithms::lookup`] found an
/// entry.
///
/// ```
/// use svcroute_c::algorithm::Balancers;
/// let mut b = Balancers::default();
/// let ep = "10.244.1.5:8080".parse().unwrap();
/// b.opened(ep);
/// assert_eq!(b.open_connections(ep), 1);
/// assert!(b.closed(ep));
/// assert!(!b.closed(ep)); // a close without an open is ignored
/// ```
#[derive(Debug, Default)]
pub struct Balancers {
    generation: u64,
    built: HashMap<usize, Vec<(Vec<SocketAddr>, AnyBalancer)>>,
    load: HashMap<SocketAddr, Load>,
}

/// What the caller reported about one endpoint.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    /// Connections opened and not closed yet.
    open: u64,
    /// The last latency observed: (microseconds, the caller's clock).
    latency: Option<(u64, u64)>,
}

/// How many eligible sets of one Service port are kept balancers for.
const SETS_PER_PORT: usize = 16;

impl Balancers {
    /// Picks among `eligible` with `entry`'s algorithm, keyed by `flow` at
    /// `now_ms`, building (or reusing) the balancer for that set.
    pub fn pick(
        &mut self,
        algorithms: &Algorithms,
        entry: (usize, &Entry),
        eligible: &[SocketAddr],
        flow: FlowKey,
        now_ms: u64,
    ) -> Result<Option<SocketAddr>, DoorError> {
        if self.generation != algorithms.generation() {
            self.built.clear();
            self.generation = algorithms.generation();
        }
        let sets = self.built.entry(entry.0).or_default();
        let at = match sets.iter().position(|(set, _)| set == eligible) {
            Some(at) => at,
            None => {
                let backends: Vec<Backend> = eligible
                    .iter()
                    .map(|e| Backend::new(e.to_string(), 1))
                    .collect();
                let mut balancer = entry
                    .1
                    .algorithm
                    .build(&backends)
                    .map_err(|e| DoorError::from(svcroute::Error::from(e)))?;
                replay(&self.load, eligible, &mut balancer);
                if sets.len() >= SETS_PER_PORT {
                    sets.clear();
                }
                sets.push((eligible.to_vec(), balancer));
                sets.len() - 1
            }
        };
        let (set, balancer) = &mut sets[at];
        let request = Request::flow(flow).at(now_ms);
        Ok(balancer.pick(&request).and_then(|i| set.get(i).copied()))
    }

    /// A connection to `endpoint` opened.
    pub fn opened(&mut self, endpoint: SocketAddr) {
        self.load.entry(endpoint).or_default().open += 1;
        self.tell(endpoint, Event::Opened);
    }

    /// A connection to `endpoint` closed; false (and nothing changes) when
    /// none was open.
    pub fn closed(&mut self, endpoint: SocketAddr) -> bool {
        let Some(load) = self.load.get_mut(&endpoint).filter(|l| l.open > 0) else {
            return false;
        };
        load.open -= 1;
        if load.open == 0 && load.latency.is_none() {
            self.load.remove(&endpoint);
        }
        self.tell(endpoint, Event::Closed);
        true
    }

    /// A response from `endpoint` took `micros` microseconds, seen at `now_ms`.
    pub fn latency(&mut self, endpoint: SocketAddr, micros: u64, now_ms: u64) {
        self.load.entry(endpoint).or_default().latency = Some((micros, now_ms));
        self.tell(endpoint, |backend| Event::Latency {
            backend,
            micros,
            now_ms,
        });
    }

    /// The connections to `endpoint` opened and not closed.
    pub fn open_connections(&self, endpoint: SocketAddr) -> u64 {
        self.load.get(&endpoint).map_or(0, |l| l.open)
    }

    /// Tells every balancer whose set holds `endpoint`.
    fn tell(&mut self, endpoint: SocketAddr, event: impl Fn(usize) -> Event) {
        for sets in self.built.values_mut() {
            for (set, balancer) in sets.iter_mut() {
                if let Some(i) = set.iter().position(|e| *e == endpoint) {
                    balancer.observe(event(i));
                }
            }
        }
    }
}

/// Tells a new balancer over `set` the load reported so far.
fn replay(load: &HashMap<SocketAddr, Load>, set: &[SocketAddr], balancer: &mut AnyBalancer) {
    for (i, endpoint) in set.iter().enumerate() {
        let Some(l) = load.get(endpoint) else {
            continue;
        };
        for _ in 0..l.open {
            balancer.observe(Event::Opened(i));
        }
        if let Some((micros, now_ms)) = l.latency {
            balancer.observe(Event::Latency {
                backend: i,
                micros,
                now_ms,
            });
        }
    }
}
