//! Why a Service has the endpoints it has: for every pod that could back it,
//! the verdict of the EndpointSlice controller's rules and, for the pods it
//! does not select, what stands in the way.
//!
//! This is the answer to the most asked Service question, "why does my
//! Service have no endpoints?". It reads the settled cluster and applies the
//! same rules as the controller (EP-1 … EP-5); it is a diagnostic, so it may
//! look at every pod of the Service's namespace (and at pods of other
//! namespaces that the selector would match), unlike the controller's
//! indexed update path.

use std::collections::BTreeMap;
use std::fmt;

use crate::api::{IntOrString, Kind, Object, ObjectKey, Pod, PodPhase, Service, ServiceType};
use crate::labels::{Selector, service_selector};

use super::Cluster;
use super::endpointslice::{find_port, is_managed, should_be_in_endpoints};
use super::pod_view::PodView;

/// The explanation of one Service's endpoints.
///
/// ```
/// use svcroute::api::Object;
/// use svcroute::cluster::{Cluster, ClusterConfig, PodVerdict, explain_service};
///
/// let objects: Vec<Object> = serde_json::from_str(r#"[
///   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
///   {"apiVersion": "v1", "kind": "Pod",
///    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
///    "spec": {"nodeName": "n1"},
///    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}]}},
///   {"apiVersion": "v1", "kind": "Pod",
///    "metadata": {"name": "web-2", "namespace": "shop", "labels": {"app": "webb"}},
///    "spec": {"nodeName": "n1"},
///    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.6"}]}},
///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
///    "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
/// ]"#).unwrap();
/// let mut cluster = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
/// cluster.apply_batch(objects)?;
///
/// let why = explain_service(&cluster, "shop", "web").unwrap();
/// assert_eq!(why.ready_endpoints(), 0);
/// assert!(matches!(why.pods[0].verdict, PodVerdict::NotReady)); // web-1: no Ready condition
/// match &why.pods[1].verdict {
///     PodVerdict::NotSelected(misses) => assert_eq!(misses[0].found.as_deref(), Some("webb")),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), svcroute::cluster::ClusterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceExplanation {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Its type.
    pub service_type: ServiceType,
    /// The selector in canonical form; `None` when the Service has none
    /// (its endpoints are managed by someone else, EP-1, EP-12).
    pub selector: Option<String>,
    /// Whether it is `ExternalName` (no endpoints at all: a DNS alias).
    pub external_name: Option<String>,
    /// The Service's ports and what each targets.
    pub ports: Vec<PortTarget>,
    /// Every pod that matters, selected ones first, in name order: the
    /// selected pods, the pods of the namespace that carry one of the
    /// selector's keys without matching (near misses), and the matching pods
    /// of other namespaces.
    pub pods: Vec<PodExplanation>,
}

impl ServiceExplanation {
    /// How many selected pods are published as ready endpoints.
    pub fn ready_endpoints(&self) -> usize {
        self.pods
            .iter()
            .filter(|p| p.verdict == PodVerdict::Ready)
            .count()
    }
}

/// One Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortTarget {
    /// The port's name (`""` when unnamed).
    pub name: String,
    /// The Service port number.
    pub port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The `targetPort` (a number or a container port name).
    pub target: String,
}

/// What the controller makes of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodExplanation {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// Its first IP, if any.
    pub ip: Option<String>,
    /// Its node, if scheduled.
    pub node: Option<String>,
    /// The verdict.
    pub verdict: PodVerdict,
    /// For pods that are published: per Service port, the resolved number,
    /// or `None` when a named `targetPort` is not found on the pod (EP-5:
    /// that port is left out for this pod).
    pub ports: Vec<(String, Option<i32>)>,
}

/// Why a pod is, or is not, behind the Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodVerdict {
    /// Published as a ready endpoint.
    Ready,
    /// Published, but not ready (its `Ready` condition is not `True`).
    NotReady,
    /// Published as terminating (`serving` tells whether it still serves:
    /// used only when nothing is ready, KP-11).
    Terminating {
        /// The pod's `Ready` condition.
        serving: bool,
    },
    /// Selected but left out (EP-3).
    Skipped(SkipReason),
    /// In the namespace, but the selector does not match: the requirements
    /// that fail.
    NotSelected(Vec<LabelMiss>),
    /// The labels match, but the pod is in another namespace (EP-2).
    OtherNamespace,
}

/// The verdict in words, as the command line and the doors print it.
///
/// ```
/// use svcroute::cluster::{PodVerdict, SkipReason};
/// assert_eq!(PodVerdict::Skipped(SkipReason::NoIp).to_string(), "left out: the pod has no IP yet");
/// ```
impl fmt::Display for PodVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PodVerdict::Ready => f.write_str("ready endpoint"),
            PodVerdict::NotReady => {
                f.write_str("endpoint, not ready (its Ready condition is not True)")
            }
            PodVerdict::Terminating { serving: true } => {
                f.write_str("endpoint, terminating but serving (used only when nothing is ready)")
            }
            PodVerdict::Terminating { serving: false } => {
                f.write_str("endpoint, terminating and not serving (never used)")
            }
            PodVerdict::Skipped(SkipReason::NoIp) => f.write_str("left out: the pod has no IP yet"),
            PodVerdict::Skipped(SkipReason::Terminal(phase)) => {
                write!(f, "left out: the pod has finished ({})", phase.as_str())
            }
            PodVerdict::Skipped(SkipReason::NodeMissing(node)) => {
                write!(f, "left out: its node \"{node}\" does not exist")
            }
            PodVerdict::Skipped(SkipReason::Pending(message)) => {
                write!(f, "left out: Pending: {message}")
            }
            PodVerdict::NotSelected(misses) => {
                f.write_str("not selected: ")?;
                for (i, m) in misses.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    match &m.found {
                        Some(found) => {
                            write!(f, "label {}={found}, selector wants {}", m.key, m.wanted)?
                        }
                        None => write!(
                            f,
                            "no label {}, selector wants {}={}",
                            m.key, m.key, m.wanted
                        )?,
                    }
                }
                Ok(())
            }
            PodVerdict::OtherNamespace => {
                f.write_str("labels match, but a Service selects pods of its own namespace only")
            }
        }
    }
}

/// Why a selected pod is not published (EP-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The pod has no IP yet (not scheduled, or the CNI has not run).
    NoIp,
    /// The pod has finished (`Succeeded` or `Failed`).
    Terminal(PodPhase),
    /// Its node does not exist (and `publishNotReadyAddresses` is off).
    NodeMissing(String),
    /// The scheduler found no node for it: `PodScheduled=False`, with the
    /// scheduler's message.
    Pending(String),
}

/// One selector requirement a pod's labels fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMiss {
    /// The label key.
    pub key: String,
    /// The value the selector wants.
    pub wanted: String,
    /// The pod's value, or `None` when it lacks the key.
    pub found: Option<String>,
}

/// Explains the endpoints of Service `namespace/name`; `None` when there is
/// no such Service.
pub fn explain_service(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Option<ServiceExplanation> {
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some(namespace.to_string()),
        name: name.to_string(),
    };
    let service = cluster.get(&key);
    let Some(Object::Service(svc)) = service.as_deref() else {
        return None;
    };
    let managed = is_managed(svc);
    let selector = service_selector(svc.spec.selector.as_ref());
    let mut explanation = ServiceExplanation {
        namespace: namespace.to_string(),
        name: name.to_string(),
        service_type: svc.service_type(),
        selector: managed.then(|| selector.to_string()),
        external_name: (svc.service_type() == ServiceType::ExternalName)
            .then(|| svc.spec.external_name.clone().unwrap_or_default()),
        ports: svc
            .spec
            .ports
            .iter()
            .map(|p| PortTarget {
                name: p.name.clone(),
                port: p.port,
                protocol: format!("{:?}", p.protocol.unwrap_or_default()),
                target: match &p.target_port {
                    Some(IntOrString::Int(n)) => n.to_string(),
                    Some(IntOrString::String(s)) => s.clone(),
                    None => p.port.to_string(),
                },
            })
            .collect(),
        pods: Vec::new(),
    };
    if !managed {
        return Some(explanation);
    }
    let everything = Selector::everything();
    let wanted = svc.spec.selector.clone().unwrap_or_default();
    let mut selected = Vec::new();
    let mut others = Vec::new();
    for view in cluster.list_pods(None, &everything) {
        // Built only when it is listed: selected, or a near miss.
        let (labels, ns) = (view.labels(), view.namespace().as_deref());
        let near =
            ns.unwrap_or("default") == namespace && wanted.keys().any(|k| labels.contains_key(k));
        if !(near || selector.matches(labels)) {
            continue;
        }
        let pod = view.to_pod();
        let pod: &Pod = &pod;
        let pod_ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let matches = selector.matches(&pod.metadata.labels);
        let verdict = match (pod_ns == namespace, matches) {
            (true, true) => verdict_of(cluster, svc, pod),
            (false, true) => PodVerdict::OtherNamespace,
            // Near misses only: pods that carry at least one of the
            // selector's keys.
            (true, false) if wanted.keys().any(|k| pod.metadata.labels.contains_key(k)) => {
                PodVerdict::NotSelected(misses(&wanted, &pod.metadata.labels))
            }
            (_, false) => continue,
        };
        let published = matches!(
            verdict,
            PodVerdict::Ready | PodVerdict::NotReady | PodVerdict::Terminating { .. }
        );
        let entry = PodExplanation {
            namespace: pod_ns.to_string(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            ip: pod
                .status
                .pod_ips
                .first()
                .map(|p| p.ip.clone())
                .or_else(|| pod.status.pod_ip.clone()),
            node: pod.spec.node_name.clone(),
            ports: if published {
                svc.spec
                    .ports
                    .iter()
                    .map(|sp| {
                        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
                        (
                            sp.name.clone(),
                            find_port(
                                PodView::given(pod),
                                sp.protocol.unwrap_or_default(),
                                &target,
                            ),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            },
            verdict,
        };
        if matches && pod_ns == namespace {
            selected.push(entry);
        } else {
            others.push(entry);
        }
    }
    crate::order::sort_by(&mut selected, |a, b| a.name.cmp(&b.name));
    // Closest near misses first (fewest failing labels, then the smallest
    // edit distance between the values), then other namespaces.
    crate::order::sort_by_key(&mut others, |p| {
        let closeness = match &p.verdict {
            PodVerdict::NotSelected(misses) => (
                0,
                misses.len(),
                misses
                    .iter()
                    .map(|m| {
                        m.found
                            .as_deref()
                            .map_or(usize::MAX / 4, |f| edit_distance(f, &m.wanted))
                    })
                    .sum::<usize>(),
            ),
            _ => (1, 0, 0),
        };
        (closeness, p.namespace.clone(), p.name.clone())
    });
    explanation.pods = selected;
    explanation.pods.extend(others);
    Some(explanation)
}

fn verdict_of(cluster: &Cluster, svc: &Service, pod: &Pod) -> PodVerdict {
    let phase = pod.phase();
    if matches!(phase, PodPhase::Succeeded | PodPhase::Failed) {
        return PodVerdict::Skipped(SkipReason::Terminal(phase));
    }
    if pod.spec.node_name.as_deref().is_none_or(str::is_empty)
        && let Some(c) =
            pod.status.conditions.iter().find(|c| {
                c.type_ == "PodScheduled" && c.status == crate::api::ConditionStatus::False
            })
    {
        return PodVerdict::Skipped(SkipReason::Pending(
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_default(),
        ));
    }
    if !should_be_in_endpoints(PodView::given(pod)) {
        return PodVerdict::Skipped(SkipReason::NoIp);
    }
    let publish_not_ready = svc.spec.publish_not_ready_addresses.unwrap_or(false);
    if let Some(node) = &pod.spec.node_name {
        let node_key = ObjectKey {
            kind: Kind::Node,
            namespace: None,
            name: node.clone(),
        };
        if !publish_not_ready && cluster.get(&node_key).is_none() {
            return PodVerdict::Skipped(SkipReason::NodeMissing(node.clone()));
        }
    }
    let serving = pod.is_ready();
    if pod.is_terminating() && !publish_not_ready {
        PodVerdict::Terminating { serving }
    } else if serving || publish_not_ready {
        PodVerdict::Ready
    } else {
        PodVerdict::NotReady
    }
}

fn misses(wanted: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> Vec<LabelMiss> {
    wanted
        .iter()
        .filter(|(k, v)| labels.get(*k) != Some(*v))
        .map(|(k, v)| LabelMiss {
            key: k.clone(),
            wanted: v.clone(),
            found: labels.get(k).cloned(),
        })
        .collect()
}

/// Levenshtein distance over chars (label values are at most 63 bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(super::edit_distance("payment", "payments"), 1);
        assert_eq!(super::edit_distance("frontend", "backend"), 5);
        assert_eq!(super::edit_distance("", "ab"), 2);
        assert_eq!(super::edit_distance("same", "same"), 0);
    }
}
