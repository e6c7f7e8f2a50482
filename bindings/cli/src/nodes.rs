//! The nodes to schedule on when the input has none: `--nodes N` of the
//! core's documented default set ([`svcroute::cluster::default_nodes`]).

use svcroute::api::{Node, Object};
use svcroute::cluster::{ClusterConfig, default_nodes};
use svcroute::ipam::IpNet;

/// How many default nodes `--nodes` gives when not set.
pub const DEFAULT_NODE_COUNT: usize = 3;

/// Does the input need default nodes? Only when it has no Node and holds
/// something to place: a workload (Deployment, ReplicaSet, StatefulSet,
/// DaemonSet) or a submitted Pod (no `status.phase`). A dump whose Pods
/// already run, or a set of Services, gets none.
///
/// ```
/// use svcroute::api::Object;
/// let deploy: Object = serde_json::from_str(r#"{"apiVersion": "apps/v1", "kind": "Deployment",
///   "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
///   "template": {"metadata": {"labels": {"app": "web"}}}}}"#).unwrap();
/// assert!(svcroute_cli::nodes::needs_default_nodes(&[deploy.clone()]));
/// let node = Object::Node(svcroute::cluster::default_nodes(1).remove(0));
/// assert!(!svcroute_cli::nodes::needs_default_nodes(&[deploy, node]));
/// ```
pub fn needs_default_nodes(objects: &[Object]) -> bool {
    let has_node = objects.iter().any(|o| matches!(o, Object::Node(_)));
    let to_place = objects.iter().any(|o| match o {
        Object::Deployment(_)
        | Object::ReplicaSet(_)
        | Object::StatefulSet(_)
        | Object::DaemonSet(_) => true,
        Object::Pod(p) => p.status.phase.is_none(),
        _ => false,
    });
    !has_node && to_place
}

/// `n` default nodes for `config`: a node keeps its pod CIDR only when the
/// configured cluster CIDRs hold it (otherwise node IPAM allocates one).
///
/// ```
/// use svcroute::cluster::ClusterConfig;
/// let nodes = svcroute_cli::nodes::default_nodes_for(2, &ClusterConfig::default());
/// assert_eq!(nodes[1].spec.pod_cidrs, ["10.244.1.0/24"]);
/// let other = ClusterConfig { cluster_cidrs: vec!["192.168.0.0/16".parse().unwrap()], ..Default::default() };
/// assert!(svcroute_cli::nodes::default_nodes_for(2, &other)[1].spec.pod_cidrs.is_empty());
/// ```
pub fn default_nodes_for(n: usize, config: &ClusterConfig) -> Vec<Node> {
    let mut nodes = default_nodes(n);
    for node in &mut nodes {
        let held = node.spec.pod_cidrs.iter().all(|c| {
            c.parse::<IpNet>()
                .is_ok_and(|net| config.cluster_cidrs.iter().any(|cc| cc.contains_net(&net)))
        });
        if !held {
            node.spec.pod_cidr = None;
            node.spec.pod_cidrs.clear();
        }
    }
    nodes
}

/// The notice said on stderr: `no nodes in the input: using 3 default
/// nodes in zones zone-a, zone-b, zone-c (node-1 … node-3; --nodes N to
/// change)`.
///
/// ```
/// assert_eq!(svcroute_cli::nodes::notice(1),
///     "no nodes in the input: using 1 default node in zone zone-a (node-1; --nodes N to change)");
/// ```
pub fn notice(n: usize) -> String {
    let zones: Vec<&str> = ["zone-a", "zone-b", "zone-c"]
        .into_iter()
        .take(n.clamp(1, 3))
        .collect();
    let names = if n == 1 {
        "node-1".to_owned()
    } else {
        format!("node-1 … node-{n}")
    };
    format!(
        "no nodes in the input: using {n} default node{} in zone{} {} ({names}; --nodes N to change)",
        if n == 1 { "" } else { "s" },
        if zones.len() == 1 { "" } else { "s" },
        zones.join(", ")
    )
}
