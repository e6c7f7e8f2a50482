//! Which sources kube-proxy masquerades (rule KP-20), for the allocation-free
//! route path.
//!
//! [`Dataplane::pick`](svcroute::dataplane::Dataplane::pick) answers the
//! endpoint of a cluster-IP connection without allocating, but not whether
//! the connection is masqueraded; [`Dataplane::route`] does, at the cost of
//! a trace. This is the same rule, kept from the same configuration and
//! Nodes: `--masquerade-all`, or a source the local-traffic detector
//! (`--detect-local-mode`) calls "not a local pod", or a pod that reaches
//! itself through its Service (hairpin). A unit test holds it to
//! `Dataplane::route` on every case.
//!
//! [`Dataplane::route`]: svcroute::dataplane::Dataplane::route

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use svcroute::api::{Kind, Object};
use svcroute::cluster::{Cluster, DetectLocalMode};
use svcroute::ipam::{IpFamily, IpNet};
use svcroute::labels::Selector;

/// The masquerade rule's inputs: the proxy options and each Node's pod CIDRs.
///
/// ```
/// use svcroute_c::svcroute::cluster::{Cluster, ClusterConfig};
/// use svcroute_c::local_traffic::LocalTraffic;
/// let c = Cluster::new(ClusterConfig::default())?;
/// let local = LocalTraffic::from_cluster(&c);
/// assert!(!local.has_node("n1"));
/// # Ok::<(), svcroute_c::svcroute::cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocalTraffic {
    masquerade_all: bool,
    mode: DetectLocalMode,
    cluster_cidrs: Vec<IpNet>,
    /// Every Node by name, with its pod CIDRs (`spec.podCIDRs`, else `spec.podCIDR`).
    nodes: HashMap<String, Vec<IpNet>, BuildHasherDefault<Fnv>>,
}

impl LocalTraffic {
    /// Reads the options and the Nodes of `cluster`.
    pub fn from_cluster(cluster: &Cluster) -> LocalTraffic {
        let config = cluster.config();
        let mut nodes = HashMap::default();
        for object in cluster.list(Kind::Node, None, &Selector::everything()) {
            let Object::Node(node) = object else { continue };
            let Some(name) = node.metadata.name.clone() else {
                continue;
            };
            let mut cidrs: Vec<&String> = node.spec.pod_cidrs.iter().collect();
            if cidrs.is_empty() {
                cidrs.extend(node.spec.pod_cidr.iter());
            }
            let cidrs = cidrs
                .into_iter()
                .filter_map(|c| IpNet::parse_truncating(c).ok())
                .collect();
            nodes.insert(name, cidrs);
        }
        LocalTraffic {
            masquerade_all: config.proxy.masquerade_all,
            mode: config.proxy.detect_local_mode,
            cluster_cidrs: config.cluster_cidrs.clone(),
            nodes,
        }
    }

    /// Whether a Node of this name exists.
    pub fn has_node(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    /// Whether a connection from `source`, seen by the kube-proxy of `node`,
    /// to a cluster IP is masqueraded before any hairpin (KP-20).
    pub fn masquerades(&self, source: IpAddr, node: &str) -> bool {
        if self.masquerade_all {
            return true;
        }
        let family = IpFamily::of(&source);
        let cidrs: &[IpNet] = match self.mode {
            DetectLocalMode::ClusterCIDR => &self.cluster_cidrs,
            DetectLocalMode::NodeCIDR => match self.nodes.get(node) {
                Some(cidrs) => cidrs,
                None => return false,
            },
            DetectLocalMode::None => return false,
        };
        let mut of_family = cidrs.iter().filter(|c| c.family() == family).peekable();
        // No CIDR of the family: the detector does not exist; no masquerade.
        of_family.peek().is_some() && !of_family.any(|c| c.contains(source))
    }
}

/// FNV-1a: node names are short and come from the cluster, not from
/// attackers choosing hash collisions; it costs a fraction of SipHash on
/// the route path.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
