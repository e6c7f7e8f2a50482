//! Node IPAM: the node controller's range allocator driven by Node objects
//! (ALLOC-18).

use super::error::{AdmissionError, FieldError, FieldReason};
use crate::api::Node;
use crate::ipam::{IpNet, IpamError, NodeCidrAllocator, NodeCidrConfig};
use crate::labels;

/// kube-controller-manager's node IPAM (`--allocate-node-cidrs`, range
/// allocator) over Node objects (ALLOC-18).
///
/// * [`start`](Self::start) checks the configuration (a controller that
///   would refuse to start is `invalid-config`) and marks the pod CIDRs of
///   the Nodes that already exist as used (and the service CIDRs that
///   overlap a cluster CIDR).
/// * [`add`](Self::add) is a Node being created: without pod CIDRs it gets
///   one block per cluster CIDR, in cluster-CIDR order, written to
///   `spec.podCIDRs` (and `spec.podCIDR`); with pod CIDRs they are marked
///   used.
/// * [`delete`](Self::delete) releases a deleted Node's blocks; they are
///   reused only when the allocator's pointer wraps round.
///
/// ```
/// use svcroute::cluster::admission::NodeIpam;
/// use svcroute::ipam::NodeCidrConfig;
/// let config = NodeCidrConfig { cluster_cidrs: vec!["10.244.0.0/22".parse()?], ..Default::default() };
/// let mut ipam = NodeIpam::start(&config, &[])?;
/// let mut nodes = Vec::new();
/// for name in ["n1", "n2", "n3", "n4"] {
///     let mut node: svcroute::api::Node = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
///     ipam.add(&mut node)?;
///     nodes.push(node);
/// }
/// assert_eq!(nodes[3].spec.pod_cidrs, ["10.244.3.0/24"]);
/// ipam.delete("n2");
/// let mut n5: svcroute::api::Node = serde_json::from_str(r#"{"metadata": {"name": "n5"}}"#)?;
/// ipam.add(&mut n5)?;
/// assert_eq!(n5.spec.pod_cidr.as_deref(), Some("10.244.1.0/24")); // after wrapping
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NodeIpam {
    cidrs: NodeCidrAllocator,
}

impl NodeIpam {
    /// Starts the allocator with `config` and the Nodes that exist at that
    /// moment. Refused with `invalid-config` when the controller would not
    /// start: a configuration [`NodeCidrConfig::validate`] refuses, or an
    /// existing Node whose pod CIDR is unreadable or outside its cluster
    /// CIDR. Existing pod CIDRs that overlap are tolerated, as upstream.
    ///
    /// ```
    /// use svcroute::cluster::admission::NodeIpam;
    /// use svcroute::ipam::{IpNet, NodeCidrConfig};
    /// let config = NodeCidrConfig {
    ///     cluster_cidrs: vec![IpNet::parse_truncating("fd00:10:244::/40")?],
    ///     ..Default::default()
    /// };
    /// // The default IPv6 node mask /64 is 24 bits longer than /40.
    /// assert_eq!(NodeIpam::start(&config, &[]).unwrap_err().code(), "invalid-config");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(config: &NodeCidrConfig, nodes: &[Node]) -> Result<NodeIpam, AdmissionError> {
        let cidrs =
            NodeCidrAllocator::new(config).map_err(|source| AdmissionError::Config { source })?;
        let mut ipam = NodeIpam { cidrs };
        for node in nodes {
            ipam.occupy(node).map_err(|e| match e {
                AdmissionError::Allocation { source, .. } | AdmissionError::Config { source } => {
                    AdmissionError::Config {
                        source: IpamError::InvalidConfig {
                            reason: format!(
                                "node {:?}: {source}",
                                node.metadata.name.as_deref().unwrap_or("")
                            ),
                        },
                    }
                }
                other => other,
            })?;
        }
        Ok(ipam)
    }

    /// The allocator underneath.
    ///
    /// ```
    /// # use svcroute::cluster::admission::NodeIpam;
    /// let ipam = NodeIpam::start(&Default::default(), &[])?;
    /// assert_eq!(ipam.allocator().total_blocks(0), Some(256));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocator(&self) -> &NodeCidrAllocator {
        &self.cidrs
    }

    /// A Node being created. Without pod CIDRs it gets one block per
    /// cluster CIDR, set on `node` (`spec.podCIDRs`, `spec.podCIDR` = the
    /// first) and returned; with pod CIDRs they are marked used as they are
    /// (leniently, like stored state) and returned.
    ///
    /// The Node exists either way: on error it simply has no pod CIDRs.
    /// Errors: `invalid` for a Node without a valid name, and
    /// `cidr-not-available` when a cluster CIDR has no free block (then, in
    /// dual-stack, the block already taken from the first cluster CIDR stays
    /// used, as upstream).
    ///
    /// ```
    /// use svcroute::cluster::admission::NodeIpam;
    /// use svcroute::ipam::NodeCidrConfig;
    /// let config = NodeCidrConfig { cluster_cidrs: vec!["10.244.0.0/24".parse()?], ..Default::default() };
    /// let mut ipam = NodeIpam::start(&config, &[])?;
    /// let mut n1: svcroute::api::Node = serde_json::from_str(r#"{"metadata": {"name": "n1"}}"#)?;
    /// assert_eq!(ipam.add(&mut n1)?[0].to_string(), "10.244.0.0/24");
    /// let mut n2: svcroute::api::Node = serde_json::from_str(r#"{"metadata": {"name": "n2"}}"#)?;
    /// assert_eq!(ipam.add(&mut n2).unwrap_err().code(), "cidr-not-available");
    /// assert!(n2.spec.pod_cidrs.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(&mut self, node: &mut Node) -> Result<Vec<IpNet>, AdmissionError> {
        let name = node_name(node)?;
        if has_pod_cidrs(node) {
            self.occupy(node)?;
            return Ok(self.cidrs.node_cidrs(&name).unwrap_or_default());
        }
        let got = self
            .cidrs
            .allocate(&name)
            .map_err(|e| AdmissionError::allocation(Some("spec.podCIDRs".into()), e))?;
        node.spec.pod_cidrs = got.iter().map(ToString::to_string).collect();
        node.spec.pod_cidr = node.spec.pod_cidrs.first().cloned();
        Ok(got)
    }

    /// Marks the pod CIDRs of a stored Node as used (`spec.podCIDRs`, else
    /// `spec.podCIDR`): overlaps are tolerated; an unreadable CIDR is
    /// `invalid` and one outside its cluster CIDR `not-in-range` (the
    /// entries before it stay marked, as upstream).
    ///
    /// ```
    /// use svcroute::cluster::admission::NodeIpam;
    /// let mut ipam = NodeIpam::start(&Default::default(), &[])?;
    /// let old: svcroute::api::Node = serde_json::from_str(
    ///     r#"{"metadata": {"name": "old"}, "spec": {"podCIDRs": ["10.244.0.0/24"]}}"#)?;
    /// ipam.occupy(&old)?;
    /// assert!(ipam.allocator().is_used(&"10.244.0.0/24".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn occupy(&mut self, node: &Node) -> Result<(), AdmissionError> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let texts = pod_cidr_texts(node);
        let mut cidrs = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            match IpNet::parse_truncating(text) {
                Ok(c) => cidrs.push(c),
                Err(e) => {
                    return Err(AdmissionError::allocation(
                        Some(format!("spec.podCIDRs[{i}]")),
                        e,
                    ));
                }
            }
        }
        self.cidrs
            .occupy_lenient(&name, &cidrs)
            .map_err(|e| AdmissionError::allocation(Some("spec.podCIDRs".into()), e))
    }

    /// A Node was deleted: its blocks are released; returns them (empty
    /// for a Node without any).
    ///
    /// ```
    /// # use svcroute::cluster::admission::NodeIpam;
    /// let mut ipam = NodeIpam::start(&Default::default(), &[])?;
    /// let mut n1: svcroute::api::Node = serde_json::from_str(r#"{"metadata": {"name": "n1"}}"#)?;
    /// ipam.add(&mut n1)?;
    /// assert_eq!(ipam.delete("n1").len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete(&mut self, name: &str) -> Vec<IpNet> {
        self.cidrs.release_node(name)
    }
}

fn has_pod_cidrs(node: &Node) -> bool {
    !pod_cidr_texts(node).is_empty()
}

fn pod_cidr_texts(node: &Node) -> Vec<String> {
    if !node.spec.pod_cidrs.is_empty() {
        node.spec.pod_cidrs.clone()
    } else {
        node.spec
            .pod_cidr
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect()
    }
}

fn node_name(node: &Node) -> Result<String, AdmissionError> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let error = if name.is_empty() {
        Some(FieldError::new(
            "metadata.name",
            FieldReason::Required,
            "name or generateName is required",
        ))
    } else {
        labels::validate_dns1123_subdomain(&name).err().map(|e| {
            FieldError::new(
                "metadata.name",
                FieldReason::Invalid,
                format!("{name:?}: {e}"),
            )
        })
    };
    match error {
        Some(e) => Err(AdmissionError::invalid("Node", &name, vec![e])),
        None => Ok(name),
    }
}
