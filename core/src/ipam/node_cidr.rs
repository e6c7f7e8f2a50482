//! Node IPAM: pod CIDRs per node, as kube-controller-manager's range
//! allocator hands them out (ALLOC-18).

use std::collections::BTreeMap;

use super::intervals::IntervalSet;
use super::{IpFamily, IpNet, IpamError};

/// The node IPAM configuration: `--cluster-cidr` (one CIDR, or two of
/// different families), `--node-cidr-mask-size-ipv4/-ipv6`, and the service
/// CIDRs whose overlap with a cluster CIDR is kept out of node blocks.
///
/// ```
/// use svcroute::ipam::NodeCidrConfig;
/// let c = NodeCidrConfig::default();
/// assert_eq!(c.cluster_cidrs[0].to_string(), "10.244.0.0/16");
/// assert_eq!((c.node_mask_ipv4, c.node_mask_ipv6), (24, 64));
/// assert!(c.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCidrConfig {
    /// `--cluster-cidr`, in order (the order of a node's `podCIDRs`).
    pub cluster_cidrs: Vec<IpNet>,
    /// `--node-cidr-mask-size-ipv4` (default 24).
    pub node_mask_ipv4: u8,
    /// `--node-cidr-mask-size-ipv6` (default 64).
    pub node_mask_ipv6: u8,
    /// `--service-cluster-ip-range` as given to the controller manager:
    /// blocks overlapping them are marked used at start. Default: none.
    pub service_cidrs: Vec<IpNet>,
}

impl Default for NodeCidrConfig {
    /// `10.244.0.0/16`, masks /24 and /64, no service CIDRs.
    fn default() -> NodeCidrConfig {
        NodeCidrConfig {
            cluster_cidrs: vec![
                IpNet::new("10.244.0.0".parse().expect("literal"), 16).expect("literal"),
            ],
            node_mask_ipv4: 24,
            node_mask_ipv6: 64,
            service_cidrs: Vec::new(),
        }
    }
}

impl NodeCidrConfig {
    /// The node mask size for a family.
    ///
    /// ```
    /// use svcroute::ipam::{IpFamily, NodeCidrConfig};
    /// assert_eq!(NodeCidrConfig::default().node_mask(IpFamily::V6), 64);
    /// ```
    pub fn node_mask(&self, family: IpFamily) -> u8 {
        match family {
            IpFamily::V4 => self.node_mask_ipv4,
            IpFamily::V6 => self.node_mask_ipv6,
        }
    }

    /// Whether the controller would start with this configuration; the
    /// error is `invalid-config`. Refused (ALLOC-18 and the controller
    /// manager's start-up checks):
    ///
    /// * no cluster CIDR, more than two, or two of the same family;
    /// * a node mask longer than the family's address width;
    /// * a node mask shorter than its cluster CIDR's mask (equal is fine);
    /// * for IPv6, a node mask more than 16 bits longer than the cluster
    ///   mask (IPv4 has no such limit).
    ///
    /// ```
    /// use svcroute::ipam::NodeCidrConfig;
    /// let mut c = NodeCidrConfig::default();
    /// // As in conformance case NCIDR-007 (host bits set: flags clear them).
    /// c.cluster_cidrs = vec![svcroute::ipam::IpNet::parse_truncating("fd00:10:244::/40")?];
    /// assert_eq!(c.validate().unwrap_err().code(), "invalid-config"); // /64 is 24 bits longer
    /// c.cluster_cidrs = vec!["10.0.0.0/8".parse()?];
    /// c.node_mask_ipv4 = 25;
    /// assert!(c.validate().is_ok());
    /// c.node_mask_ipv4 = 7;
    /// assert!(c.validate().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), IpamError> {
        match self.cluster_cidrs.as_slice() {
            [] => {
                return Err(IpamError::config(
                    "a cluster CIDR is required to allocate node CIDRs",
                ));
            }
            [_] => {}
            [a, b] if a.family() != b.family() => {}
            [_, _] => {
                return Err(IpamError::config(
                    "two cluster CIDRs must be of different IP families (dual-stack)",
                ));
            }
            more => {
                return Err(IpamError::config(format!(
                    "at most two cluster CIDRs are allowed, got {}",
                    more.len()
                )));
            }
        }
        for cidr in &self.cluster_cidrs {
            let family = cidr.family();
            let mask = self.node_mask(family);
            if mask > family.bits() {
                return Err(IpamError::config(format!(
                    "{family} node CIDR mask size {mask} is longer than {} bits",
                    family.bits()
                )));
            }
            if mask < cidr.prefix_len() {
                return Err(IpamError::config(format!(
                    "node CIDR mask size {mask} is shorter than the mask of cluster CIDR {cidr}"
                )));
            }
            if family == IpFamily::V6 && mask - cidr.prefix_len() > 16 {
                return Err(IpamError::config(format!(
                    "node CIDR mask size {mask} is more than 16 bits longer than the mask of IPv6 cluster CIDR {cidr}"
                )));
            }
        }
        Ok(())
    }
}

/// The blocks of one cluster CIDR (upstream's `CidrSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct CidrSet {
    cluster: IpNet,
    node_prefix: u8,
    /// Number of blocks: `2^(node_prefix - cluster_prefix)`.
    blocks: u128,
    used: IntervalSet,
    /// Where the next search starts (advances past each allocation, wraps).
    next_candidate: u128,
}

impl CidrSet {
    fn new(cluster: IpNet, node_prefix: u8) -> CidrSet {
        let bits = u32::from(node_prefix - cluster.prefix_len());
        CidrSet {
            cluster,
            node_prefix,
            blocks: 1u128 << bits, // bits <= 32 for IPv4, <= 16 for IPv6
            used: IntervalSet::new(),
            next_candidate: 0,
        }
    }

    fn block(&self, index: u128) -> IpNet {
        self.cluster
            .subnet(self.node_prefix, index)
            .expect("index below the block count")
    }

    fn index_of_offset(&self, offset: u128) -> u128 {
        let shift = u32::from(self.cluster.family().bits() - self.node_prefix);
        offset.checked_shr(shift).unwrap_or(0)
    }

    /// The block indices a CIDR covers, as upstream computes them: `None`
    /// when it does not overlap the cluster CIDR; all blocks when it
    /// contains the cluster CIDR; otherwise the blocks holding its first
    /// and last addresses and everything between.
    fn span(&self, cidr: &IpNet) -> Option<(u128, u128)> {
        if cidr.family() != self.cluster.family() || !self.cluster.overlaps(cidr) {
            return None;
        }
        if cidr.prefix_len() <= self.cluster.prefix_len() {
            return Some((0, self.blocks - 1));
        }
        let first = self.cluster.offset_of(cidr.network())?;
        let last = self.cluster.offset_of(cidr.last_address())?;
        Some((self.index_of_offset(first), self.index_of_offset(last)))
    }

    fn allocate_next(&mut self) -> Option<IpNet> {
        if self.used.len() >= self.blocks {
            return None;
        }
        let last = self.blocks - 1;
        let index = self
            .used
            .first_free_in(self.next_candidate, last)
            .or_else(|| self.used.first_free_in(0, last))?;
        self.used.insert(index);
        self.next_candidate = if index == last { 0 } else { index + 1 };
        Some(self.block(index))
    }
}

/// Node IPAM: one block per cluster CIDR (family) for each node, the way
/// kube-controller-manager's range allocator (`--allocate-node-cidrs`) does
/// it (ALLOC-18).
///
/// * Each cluster CIDR is cut into `2^(nodeMask - clusterMask)` blocks
///   numbered from 0. Allocation is **not random**: it takes the first free
///   block at or after a "next candidate" pointer that starts at 0, moves
///   past every allocation and wraps; so a released block is reused only
///   once the pointer comes round again.
/// * A node gets one block per cluster CIDR, in cluster-CIDR order. If a
///   later family has no free block the node gets nothing and the error is
///   `cidr-not-available`, but the block already taken from the earlier
///   family is *not* given back (upstream leaks it until restart).
/// * Blocks overlapping a service CIDR are marked used at start, and nodes
///   that already have `podCIDRs` are [occupied](Self::occupy).
///
/// Memory is proportional to the runs of used blocks, so a `10.0.0.0/8`
/// with /32 nodes costs nothing until used.
///
/// ```
/// use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
/// let config = NodeCidrConfig {
///     cluster_cidrs: vec!["10.244.0.0/22".parse()?],
///     ..NodeCidrConfig::default()
/// };
/// let mut ipam = NodeCidrAllocator::new(&config)?;
/// for (node, want) in [("n1", "10.244.0.0/24"), ("n2", "10.244.1.0/24"), ("n3", "10.244.2.0/24"), ("n4", "10.244.3.0/24")] {
///     assert_eq!(ipam.allocate(node)?[0].to_string(), want);
/// }
/// assert_eq!(ipam.allocate("n5").unwrap_err().code(), "cidr-not-available");
/// ipam.release_node("n2");
/// assert_eq!(ipam.allocate("n5")?[0].to_string(), "10.244.1.0/24");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCidrAllocator {
    sets: Vec<CidrSet>,
    /// The CIDRs each node holds, with the cluster-CIDR position each was
    /// recorded against.
    nodes: BTreeMap<String, Vec<(usize, IpNet)>>,
}

impl NodeCidrAllocator {
    /// Starts the allocator: validates `config` (see
    /// [`NodeCidrConfig::validate`]) and marks blocks overlapping the
    /// service CIDRs as used.
    ///
    /// ```
    /// use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let config = NodeCidrConfig {
    ///     cluster_cidrs: vec!["10.0.0.0/16".parse()?],
    ///     service_cidrs: vec!["10.0.0.0/23".parse()?],
    ///     ..NodeCidrConfig::default()
    /// };
    /// let mut ipam = NodeCidrAllocator::new(&config)?;
    /// assert_eq!(ipam.allocate("n1")?[0].to_string(), "10.0.2.0/24");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &NodeCidrConfig) -> Result<NodeCidrAllocator, IpamError> {
        config.validate()?;
        let mut sets: Vec<CidrSet> = config
            .cluster_cidrs
            .iter()
            .map(|c| CidrSet::new(*c, config.node_mask(c.family())))
            .collect();
        for service in &config.service_cidrs {
            for set in &mut sets {
                if let Some((b, e)) = set.span(service) {
                    set.used.insert_range(b, e);
                }
            }
        }
        Ok(NodeCidrAllocator {
            sets,
            nodes: BTreeMap::new(),
        })
    }

    /// The cluster CIDRs, in order.
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// assert_eq!(ipam.cluster_cidrs()[0].to_string(), "10.244.0.0/16");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cluster_cidrs(&self) -> Vec<IpNet> {
        self.sets.iter().map(|s| s.cluster).collect()
    }

    /// Number of blocks in cluster CIDR `index`.
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// assert_eq!(ipam.total_blocks(0), Some(256));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total_blocks(&self, index: usize) -> Option<u128> {
        self.sets.get(index).map(|s| s.blocks)
    }

    /// Number of used blocks in cluster CIDR `index` (nodes, service
    /// ranges and leaked blocks).
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.allocate("n1")?;
    /// assert_eq!(ipam.used_blocks(0), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn used_blocks(&self, index: usize) -> Option<u128> {
        self.sets.get(index).map(|s| s.used.len())
    }

    /// The pod CIDRs recorded for `node`.
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.allocate("n1")?;
    /// assert_eq!(ipam.node_cidrs("n1").unwrap()[0].to_string(), "10.244.0.0/24");
    /// assert!(ipam.node_cidrs("n2").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_cidrs(&self, node: &str) -> Option<Vec<IpNet>> {
        self.nodes
            .get(node)
            .map(|v| v.iter().map(|(_, c)| *c).collect())
    }

    /// Whether every block that `cidr` covers is in use.
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.allocate("n1")?;
    /// assert!(ipam.is_used(&"10.244.0.0/24".parse()?));
    /// assert!(!ipam.is_used(&"10.244.0.0/23".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_used(&self, cidr: &IpNet) -> bool {
        self.sets.iter().any(|s| {
            s.span(cidr)
                .is_some_and(|(b, e)| s.used.count_in(b, e) == e - b + 1)
        })
    }

    /// Allocates one block per cluster CIDR for a new node, in cluster-CIDR
    /// order (ALLOC-18). A node that already holds CIDRs gets them back
    /// unchanged.
    ///
    /// When a cluster CIDR has no free block: `cidr-not-available`, the node
    /// gets nothing, and blocks already taken for it from earlier cluster
    /// CIDRs stay used (as upstream).
    ///
    /// ```
    /// use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let config = NodeCidrConfig {
    ///     cluster_cidrs: vec!["10.244.0.0/16".parse()?, "fd00:10:244::/56".parse()?],
    ///     ..NodeCidrConfig::default()
    /// };
    /// let mut ipam = NodeCidrAllocator::new(&config)?;
    /// let got: Vec<String> = ipam.allocate("n1")?.iter().map(|c| c.to_string()).collect();
    /// assert_eq!(got, ["10.244.0.0/24", "fd00:10:244::/64"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate(&mut self, node: &str) -> Result<Vec<IpNet>, IpamError> {
        if let Some(existing) = self.node_cidrs(node) {
            return Ok(existing);
        }
        let mut got = Vec::with_capacity(self.sets.len());
        for (i, set) in self.sets.iter_mut().enumerate() {
            match set.allocate_next() {
                Some(block) => got.push((i, block)),
                None => {
                    return Err(IpamError::CidrNotAvailable {
                        cluster: set.cluster,
                    });
                }
            }
        }
        let cidrs = got.iter().map(|(_, c)| *c).collect();
        self.nodes.insert(node.to_string(), got);
        Ok(cidrs)
    }

    /// Which cluster CIDR `podCIDRs[position]` belongs to, and its blocks.
    fn locate(&self, position: usize, cidr: &IpNet) -> Result<(u128, u128), IpamError> {
        let set = self.sets.get(position).ok_or(IpamError::CidrNotInRange {
            cidr: *cidr,
            cluster: None,
        })?;
        set.span(cidr).ok_or(IpamError::CidrNotInRange {
            cidr: *cidr,
            cluster: Some(set.cluster),
        })
    }

    /// The node (other than `except`) holding a block in `position`'s
    /// `b ..= e`, if any. Linear; only used to word errors.
    fn owner_of(&self, position: usize, b: u128, e: u128, except: &str) -> Option<String> {
        self.nodes.iter().find_map(|(name, held)| {
            let hit = name != except
                && held.iter().any(|(i, c)| {
                    *i == position
                        && self.sets[*i]
                            .span(c)
                            .is_some_and(|(hb, he)| hb <= e && b <= he)
                });
            hit.then(|| name.clone())
        })
    }

    /// Marks the `podCIDRs` a node already has (in `podCIDRs` order: entry
    /// `i` belongs to cluster CIDR `i`), strictly: all or nothing.
    ///
    /// Errors, leaving everything unchanged: not-in-range when an entry is
    /// outside its cluster CIDR (or there is no cluster CIDR at its
    /// position); already-allocated when a block it covers is in use (the
    /// error names the node holding it, if a node does). A node that
    /// already holds exactly these CIDRs is a no-op; other CIDRs for a
    /// known node are `invalid`.
    ///
    /// ```
    /// use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.occupy("old", &["10.244.0.0/24".parse()?])?;
    /// let err = ipam.occupy("twin", &["10.244.0.0/24".parse()?]).unwrap_err();
    /// assert_eq!(err.code(), "already-allocated");
    /// assert!(err.to_string().contains("old"));
    /// let err = ipam.occupy("far", &["10.99.0.0/24".parse()?]).unwrap_err();
    /// assert_eq!(err.code(), "not-in-range");
    /// assert_eq!(ipam.allocate("new")?[0].to_string(), "10.244.1.0/24");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn occupy(&mut self, node: &str, pod_cidrs: &[IpNet]) -> Result<(), IpamError> {
        if let Some(held) = self.node_cidrs(node) {
            if held == pod_cidrs {
                return Ok(());
            }
            return Err(IpamError::invalid(
                node,
                format!("node already holds pod CIDRs {held:?}"),
            ));
        }
        let mut spans = Vec::with_capacity(pod_cidrs.len());
        for (i, cidr) in pod_cidrs.iter().enumerate() {
            let (b, e) = self.locate(i, cidr)?;
            if self.sets[i].used.count_in(b, e) > 0 {
                return Err(IpamError::CidrAlreadyAllocated {
                    cidr: *cidr,
                    owner: self.owner_of(i, b, e, node),
                });
            }
            spans.push((i, b, e));
        }
        for &(i, b, e) in &spans {
            self.sets[i].used.insert_range(b, e);
        }
        if !pod_cidrs.is_empty() {
            let held = pod_cidrs.iter().copied().enumerate().collect();
            self.nodes.insert(node.to_string(), held);
        }
        Ok(())
    }

    /// Marks the `podCIDRs` a node already has the way upstream does:
    /// in order, tolerating blocks already in use (two nodes may then hold
    /// the same block; releasing either frees it), and stopping at the
    /// first entry outside its cluster CIDR with not-in-range while keeping
    /// the entries before it. At controller start that error makes the
    /// controller refuse to start (the caller reports `invalid-config`).
    ///
    /// ```
    /// use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.occupy_lenient("a", &["10.244.0.0/24".parse()?])?;
    /// ipam.occupy_lenient("b", &["10.244.0.0/24".parse()?])?; // tolerated
    /// assert_eq!(ipam.used_blocks(0), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn occupy_lenient(&mut self, node: &str, pod_cidrs: &[IpNet]) -> Result<(), IpamError> {
        let mut result = Ok(());
        let mut marked = Vec::new();
        for (i, cidr) in pod_cidrs.iter().enumerate() {
            match self.locate(i, cidr) {
                Ok((b, e)) => {
                    self.sets[i].used.insert_range(b, e);
                    marked.push((i, *cidr));
                }
                Err(err) => {
                    result = Err(err);
                    break;
                }
            }
        }
        if !marked.is_empty() {
            let held = self.nodes.entry(node.to_string()).or_default();
            for entry in marked {
                if !held.contains(&entry) {
                    held.push(entry);
                }
            }
        }
        result
    }

    /// Releases the blocks of a deleted node and forgets it; returns its
    /// CIDRs (empty for an unknown node). The pointer does not move, so the
    /// blocks are reused only when it wraps round (ALLOC-18).
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.allocate("n1")?;
    /// assert_eq!(ipam.release_node("n1").len(), 1);
    /// assert!(ipam.release_node("n1").is_empty());
    /// assert_eq!(ipam.allocate("n2")?[0].to_string(), "10.244.1.0/24");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_node(&mut self, node: &str) -> Vec<IpNet> {
        let Some(held) = self.nodes.remove(node) else {
            return Vec::new();
        };
        for (i, cidr) in &held {
            let set = &mut self.sets[*i];
            if let Some((b, e)) = set.span(cidr) {
                set.used.remove_range(b, e);
            }
        }
        held.into_iter().map(|(_, c)| c).collect()
    }

    /// The nodes with recorded CIDRs, by name.
    ///
    /// ```
    /// # use svcroute::ipam::{NodeCidrAllocator, NodeCidrConfig};
    /// let mut ipam = NodeCidrAllocator::new(&NodeCidrConfig::default())?;
    /// ipam.allocate("b")?;
    /// ipam.allocate("a")?;
    /// assert_eq!(ipam.nodes().collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nodes(&self) -> impl Iterator<Item = &str> + '_ {
        self.nodes.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn config(cluster: &[&str]) -> NodeCidrConfig {
        NodeCidrConfig {
            // Flags go through Go's net.ParseCIDR: host bits are cleared.
            cluster_cidrs: cluster
                .iter()
                .map(|c| IpNet::parse_truncating(c).unwrap())
                .collect(),
            ..NodeCidrConfig::default()
        }
    }

    fn strings(v: &[IpNet]) -> Vec<String> {
        v.iter().map(|c| c.to_string()).collect()
    }

    // ALLOC-18: config validation (invalid-config).
    #[test]
    fn refused_configs() {
        let bad = [
            (config(&[]), "required"),
            (config(&["10.0.0.0/16", "10.1.0.0/16"]), "different"),
            (
                config(&["10.0.0.0/16", "fd00::/48", "10.1.0.0/16"]),
                "at most two",
            ),
            (config(&["10.0.0.0/25"]), "shorter"),
            (config(&["fd00:10:244::/40"]), "16 bits"),
            (config(&["fd00::/48", "10.0.0.0/25"]), "shorter"),
        ];
        for (c, needle) in bad {
            let err = NodeCidrAllocator::new(&c).unwrap_err();
            assert_eq!(err.code(), "invalid-config");
            assert!(err.to_string().contains(needle), "{err}");
        }
        let mut c = config(&["10.0.0.0/8"]);
        c.node_mask_ipv4 = 33;
        assert!(c.validate().is_err());
        // Accepted: equal masks, IPv4 with a big difference, IPv6 at +16.
        let mut ok = config(&["10.0.0.0/24"]);
        assert!(ok.validate().is_ok());
        ok.cluster_cidrs = vec![net("10.0.0.0/8")];
        ok.node_mask_ipv4 = 32;
        assert!(ok.validate().is_ok());
        ok.cluster_cidrs = vec![net("fd00::/48")];
        assert!(ok.validate().is_ok());
        ok.node_mask_ipv6 = 65;
        assert!(ok.validate().is_err());
    }

    // ALLOC-18: sequential from index 0, custom mask, next-candidate pointer.
    #[test]
    fn sequential_blocks() {
        let mut c = config(&["10.244.0.0/16"]);
        c.node_mask_ipv4 = 26;
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["10.244.0.0/26"]);
        assert_eq!(strings(&a.allocate("n2").unwrap()), ["10.244.0.64/26"]);
        assert_eq!(a.total_blocks(0), Some(1024));
        // Released blocks are not reused before the pointer wraps.
        a.release_node("n1");
        assert_eq!(strings(&a.allocate("n3").unwrap()), ["10.244.0.128/26"]);
        // Asking again for a known node returns its blocks.
        assert_eq!(strings(&a.allocate("n3").unwrap()), ["10.244.0.128/26"]);
        assert_eq!(a.used_blocks(0), Some(2));
    }

    // ALLOC-18: wrap-around reuses the lowest free block after the pointer
    // (conformance NCIDR-003).
    #[test]
    fn wrap_around() {
        let mut a = NodeCidrAllocator::new(&config(&["10.244.0.0/22"])).unwrap();
        for n in ["n1", "n2", "n3", "n4"] {
            a.allocate(n).unwrap();
        }
        let err = a.allocate("n5").unwrap_err();
        assert_eq!(
            err,
            IpamError::CidrNotAvailable {
                cluster: net("10.244.0.0/22")
            }
        );
        assert_eq!(err.kind(), crate::ErrorKind::Limit);
        assert_eq!(a.release_node("n2"), vec![net("10.244.1.0/24")]);
        assert_eq!(strings(&a.allocate("n5").unwrap()), ["10.244.1.0/24"]);
        a.release_node("n4");
        a.release_node("n1");
        // Pointer is after block 1: next is block 3, then wraps to 0.
        assert_eq!(strings(&a.allocate("n6").unwrap()), ["10.244.3.0/24"]);
        assert_eq!(strings(&a.allocate("n7").unwrap()), ["10.244.0.0/24"]);
    }

    // ALLOC-18: dual-stack order, and the first family's block is not
    // released when the second family is full.
    #[test]
    fn dual_stack_and_the_leak() {
        let mut c = config(&["10.244.0.0/16", "fd00::/63"]);
        c.node_mask_ipv6 = 64;
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(
            strings(&a.allocate("n1").unwrap()),
            ["10.244.0.0/24", "fd00::/64"]
        );
        assert_eq!(
            strings(&a.allocate("n2").unwrap()),
            ["10.244.1.0/24", "fd00:0:0:1::/64"]
        );
        let err = a.allocate("n3").unwrap_err();
        assert_eq!(err.code(), "cidr-not-available");
        assert!(a.node_cidrs("n3").is_none());
        // 10.244.2.0/24 leaked: used, owned by nobody.
        assert_eq!(a.used_blocks(0), Some(3));
        a.release_node("n1");
        assert_eq!(
            strings(&a.allocate("n4").unwrap()),
            ["10.244.3.0/24", "fd00::/64"]
        );
    }

    // ALLOC-18: IPv6 families with a 16-bit difference.
    #[test]
    fn ipv6_blocks() {
        let mut c = config(&["fd00:10:244::/48"]);
        c.node_mask_ipv6 = 64;
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(a.total_blocks(0), Some(65536));
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["fd00:10:244::/64"]);
        assert_eq!(strings(&a.allocate("n2").unwrap()), ["fd00:10:244:1::/64"]);
    }

    // ALLOC-18: overlapping service CIDRs are kept out.
    #[test]
    fn service_ranges_are_filtered() {
        let mut c = config(&["10.0.0.0/8"]);
        c.service_cidrs = vec![net("10.0.0.0/22"), net("192.168.0.0/16"), net("fd00::/112")];
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(a.used_blocks(0), Some(4));
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["10.0.4.0/24"]);
        // A service CIDR containing the cluster CIDR uses every block.
        let mut c = config(&["10.244.0.0/23"]);
        c.service_cidrs = vec![net("10.0.0.0/8")];
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(a.allocate("n1").unwrap_err().code(), "cidr-not-available");
        // A small service CIDR marks its containing block.
        let mut c = config(&["10.244.0.0/16"]);
        c.service_cidrs = vec![net("10.244.0.16/28")];
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["10.244.1.0/24"]);
    }

    // ALLOC-18: existing node CIDRs are marked used; strict clash and range
    // errors; position-based families.
    #[test]
    fn occupy_strict() {
        let mut a = NodeCidrAllocator::new(&config(&["10.244.0.0/16", "fd00::/48"])).unwrap();
        a.occupy("n1", &[net("10.244.0.0/24"), net("fd00::/64")])
            .unwrap();
        a.occupy("n1", &[net("10.244.0.0/24"), net("fd00::/64")])
            .unwrap();
        assert_eq!(
            a.occupy("n1", &[net("10.244.5.0/24")]).unwrap_err().code(),
            "invalid"
        );
        let before = a.clone();
        let err = a
            .occupy("n2", &[net("10.244.1.0/24"), net("fd00::/64")])
            .unwrap_err();
        assert_eq!(
            err,
            IpamError::CidrAlreadyAllocated {
                cidr: net("fd00::/64"),
                owner: Some("n1".into())
            }
        );
        assert_eq!(a, before);
        // Family at the wrong position.
        let err = a.occupy("n3", &[net("fd00:0:0:5::/64")]).unwrap_err();
        assert_eq!(
            err,
            IpamError::CidrNotInRange {
                cidr: net("fd00:0:0:5::/64"),
                cluster: Some(net("10.244.0.0/16"))
            }
        );
        let err = a
            .occupy(
                "n3",
                &[
                    net("10.244.9.0/24"),
                    net("fd00:0:0:9::/64"),
                    net("10.244.10.0/24"),
                ],
            )
            .unwrap_err();
        assert_eq!(err.code(), "not-in-range");
        assert!(err.to_string().contains("none configured"));
        assert_eq!(a, before);
        // A smaller CIDR than a block marks its block: clash inside it.
        a.occupy("n4", &[net("10.244.2.0/26")]).unwrap();
        let err = a.occupy("n5", &[net("10.244.2.64/26")]).unwrap_err();
        assert_eq!(
            err,
            IpamError::CidrAlreadyAllocated {
                cidr: net("10.244.2.64/26"),
                owner: Some("n4".into())
            }
        );
        // Allocation skips occupied blocks.
        assert_eq!(
            strings(&a.allocate("n6").unwrap()),
            ["10.244.1.0/24", "fd00:0:0:1::/64"]
        );
        assert_eq!(
            strings(&a.allocate("n7").unwrap()),
            ["10.244.3.0/24", "fd00:0:0:2::/64"]
        );
        // Releasing an occupied node frees its blocks.
        a.release_node("n4");
        assert!(!a.is_used(&net("10.244.2.0/24")));
    }

    // ALLOC-18: upstream Occupy is idempotent and stops at the first
    // out-of-range entry, keeping what it marked.
    #[test]
    fn occupy_lenient_like_upstream() {
        let mut a = NodeCidrAllocator::new(&config(&["10.244.0.0/16", "fd00::/48"])).unwrap();
        a.occupy_lenient("a", &[net("10.244.0.0/24")]).unwrap();
        a.occupy_lenient("b", &[net("10.244.0.0/24")]).unwrap();
        assert_eq!(a.used_blocks(0), Some(1));
        a.release_node("a");
        assert_eq!(
            a.used_blocks(0),
            Some(0),
            "releasing either twin frees the block"
        );
        let err = a
            .occupy_lenient("c", &[net("10.244.7.0/24"), net("10.99.0.0/24")])
            .unwrap_err();
        assert_eq!(err.code(), "not-in-range");
        assert!(a.is_used(&net("10.244.7.0/24")));
        assert_eq!(a.node_cidrs("c"), Some(vec![net("10.244.7.0/24")]));
        // A big CIDR covering several blocks.
        a.occupy_lenient("d", &[net("10.244.16.0/20")]).unwrap();
        assert_eq!(a.used_blocks(0), Some(1 + 16));
        a.release_node("d");
        assert_eq!(a.used_blocks(0), Some(1));
    }

    // Sparse memory: a huge IPv4 block count.
    #[test]
    fn huge_block_counts_are_cheap() {
        let mut c = config(&["10.0.0.0/8"]);
        c.node_mask_ipv4 = 32;
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(a.total_blocks(0), Some(1 << 24));
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["10.0.0.0/32"]);
        a.occupy_lenient("big", &[net("10.0.0.0/9")]).unwrap();
        assert_eq!(strings(&a.allocate("n2").unwrap()), ["10.128.0.0/32"]);
        let mut c = config(&["0.0.0.0/0"]);
        c.node_mask_ipv4 = 32;
        let mut a = NodeCidrAllocator::new(&c).unwrap();
        assert_eq!(a.total_blocks(0), Some(1 << 32));
        assert_eq!(strings(&a.allocate("n1").unwrap()), ["0.0.0.0/32"]);
    }
}
