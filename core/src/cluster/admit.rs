//! Admission on the cluster's write path (D7): Services and Nodes go
//! through [`ServiceAdmission`] and [`NodeIpam`] before they are stored,
//! and the load-balancer controller writes LoadBalancer statuses.
//!
//! * A new Service whose cluster IP is set (a dump's object, or a manifest
//!   naming its address), one with a `clusterIPs` list, a headless one with
//!   its IP families set, or one with a `uid`, `resourceVersion` or
//!   `creationTimestamp` is a stored object: what is set is kept and
//!   occupied, a clash is a `Conflict` problem naming the field
//!   ([`ServiceAdmission::admit_stored`]). A new Service without one is
//!   created as the API server creates it ([`ServiceAdmission::create`]:
//!   defaults, validation, allocation). A Service that exists (in the
//!   store, or earlier in the same batch) is updated
//!   ([`ServiceAdmission::update`]: immutable fields, kept allocations,
//!   type changes) by a submitted object, and replaced by a stored one
//!   (what the old one held is released, the new one's values occupied).
//! * A Node without pod CIDRs gets them from node IPAM (ALLOC-18); one
//!   with pod CIDRs has them marked used. A Node whose update changes its
//!   pod CIDRs is refused, as the API server refuses it.
//! * Status: a status given on the applied object is kept; otherwise an
//!   updated Service keeps the stored one, and the load-balancer provider
//!   fills in LoadBalancer Services.
//!
//! Atomic per batch: the first Service or Node of a batch clones the
//! allocators; every admission of the batch works on the clone, which
//! replaces the allocators only when the whole batch is applied.

use std::collections::BTreeMap;

use super::Cluster;
use super::admission::{AdmissionError, NodeIpam, ServiceAdmission, ServiceAdmissionConfig};
use super::config::ClusterConfig;
use super::error::{ClusterError, ClusterProblem, ProblemKind};
use super::loadbalancer::LoadBalancers;
use crate::ErrorKind;
use crate::api::{Node, Object, ObjectKey, Service};
use crate::ipam::NodeCidrConfig;

/// The allocators of a cluster.
#[derive(Debug, Clone)]
pub(super) struct Admission {
    services: ServiceAdmission,
    /// Node IPAM (`None` when no cluster CIDR is configured).
    nodes: Option<NodeIpam>,
    balancers: LoadBalancers,
}

/// The allocators of the batch being admitted, and the Services and Nodes
/// admitted so far in it.
#[derive(Debug, Clone)]
pub(super) struct Staging {
    admission: Admission,
    staged: BTreeMap<ObjectKey, Object>,
}

impl Admission {
    /// The allocators for `config`; a configuration they refuse is an
    /// `Invalid` problem naming the field.
    pub(super) fn new(config: &ClusterConfig) -> Result<Admission, ClusterError> {
        let services = ServiceAdmission::new(&ServiceAdmissionConfig {
            service_cidrs: config.service_cidrs.clone(),
            node_port_range: config.node_port_range,
            seed: config.seed,
        })
        .map_err(|e| config_problem("serviceCIDRs", &e))?;
        let nodes = if config.cluster_cidrs.is_empty() {
            None
        } else {
            let cidr_config = NodeCidrConfig {
                cluster_cidrs: config.cluster_cidrs.clone(),
                node_mask_ipv4: config.node_cidr_mask_size_ipv4,
                node_mask_ipv6: config.node_cidr_mask_size_ipv6,
                service_cidrs: config.service_cidrs.clone(),
            };
            Some(
                NodeIpam::start(&cidr_config, &[])
                    .map_err(|e| config_problem("clusterCIDRs", &e))?,
            )
        };
        Ok(Admission {
            services,
            nodes,
            balancers: LoadBalancers::new(config.load_balancer.clone(), config.seed),
        })
    }
}

fn config_problem(field: &str, e: &AdmissionError) -> ClusterError {
    ClusterError::new(vec![ClusterProblem::config(
        ProblemKind::Invalid,
        field.to_owned(),
        e.to_string(),
    )])
}

fn problem_kind(kind: ErrorKind) -> ProblemKind {
    match kind {
        ErrorKind::Conflict => ProblemKind::Conflict,
        ErrorKind::Limit => ProblemKind::Limit,
        ErrorKind::NotFound => ProblemKind::NotFound,
        ErrorKind::Unsupported => ProblemKind::Unsupported,
        ErrorKind::Parse | ErrorKind::Invalid => ProblemKind::Invalid,
    }
}

/// Is this Service a stored object? Its cluster IP is an address, it has
/// a `clusterIPs` list (which the API server writes; a submission names
/// `clusterIP` at most), it is headless with its IP families set (the API
/// server sets them on every create), or it carries what only the API
/// server writes (`uid`, `resourceVersion`, `creationTimestamp`).
fn is_stored(svc: &Service) -> bool {
    let address = |t: &str| !t.is_empty() && t != "None";
    let m = &svc.metadata;
    svc.spec.cluster_ip.as_deref().is_some_and(address)
        || svc
            .spec
            .cluster_ips
            .as_ref()
            .is_some_and(|ips| !ips.is_empty())
        || (svc.spec.cluster_ip.as_deref() == Some("None") && !svc.spec.ip_families.is_empty())
        || m.uid.is_some()
        || m.resource_version.is_some()
        || m.creation_timestamp.is_some()
}

fn pod_cidrs(node: &Node) -> Vec<String> {
    if node.spec.pod_cidrs.is_empty() {
        node.spec
            .pod_cidr
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect()
    } else {
        node.spec.pod_cidrs.clone()
    }
}

/// Whether admission looks at (and may rewrite) this object: Services
/// and Nodes; every other kind is written as given.
pub(super) fn admits(object: &Object) -> bool {
    matches!(object, Object::Service(_) | Object::Node(_))
}

impl Cluster {
    /// The stored or staged object with this key.
    fn current(&self, key: &ObjectKey) -> Option<Object> {
        self.staging
            .as_ref()
            .and_then(|s| s.staged.get(key))
            .cloned()
            .or_else(|| self.get(key).map(std::borrow::Cow::into_owned))
    }

    /// Admits one object of a batch (see the module documentation):
    /// rewrites it as it will be stored, or records its problems (then the
    /// object is left emptied: the batch is refused, and nothing reads it
    /// again; it is taken, not cloned, for admission).
    pub(super) fn admit_object(
        &mut self,
        object: &mut Object,
        index: usize,
        problems: &mut Vec<ClusterProblem>,
    ) {
        if !admits(object) {
            return;
        }
        let key = object.key();
        let old = self.current(&key);
        let staging = self.staging.get_or_insert_with(|| Staging {
            admission: self.admission.clone(),
            staged: BTreeMap::new(),
        });
        let admission = &mut staging.admission;
        let result = match object {
            Object::Service(svc) => {
                let old = match old {
                    Some(Object::Service(s)) => Some(s),
                    _ => None,
                };
                admit_service(admission, std::mem::take(svc), old.as_ref()).map(Object::Service)
            }
            Object::Node(node) => {
                let old = match old {
                    Some(Object::Node(n)) => Some(n),
                    _ => None,
                };
                admit_node(admission, std::mem::take(node), old.as_ref()).map(Object::Node)
            }
            _ => return,
        };
        match result {
            Ok(stored) => {
                staging.staged.insert(key, stored.clone());
                *object = stored;
            }
            Err((field, kind, message)) => problems.push(ClusterProblem::object(
                kind,
                key,
                Some(index),
                field.as_deref(),
                message,
            )),
        }
    }

    /// The end of a batch's admission: the staged allocators replace the
    /// cluster's when the batch is applied (`applied`), and are dropped
    /// otherwise.
    pub(super) fn finish_admission(&mut self, applied: bool) {
        if let Some(staging) = self.staging.take()
            && applied
        {
            self.admission = staging.admission;
        }
    }

    /// An object is being deleted: what it held is released.
    pub(super) fn release_admitted(&mut self, key: &ObjectKey) {
        match self.get(key).as_deref() {
            Some(Object::Service(svc)) => {
                let svc = svc.clone();
                self.admission.services.release(&svc);
                self.admission.balancers.release(&svc);
            }
            Some(Object::Node(_)) => {
                if let Some(ipam) = self.admission.nodes.as_mut() {
                    ipam.delete(&key.name);
                }
            }
            _ => {}
        }
    }
}

type Refusal = (Option<String>, ProblemKind, String);

fn refusal(e: &AdmissionError) -> Refusal {
    (
        e.field().map(str::to_owned),
        problem_kind(e.kind()),
        e.to_string(),
    )
}

fn admit_service(
    admission: &mut Admission,
    svc: Service,
    old: Option<&Service>,
) -> Result<Service, Refusal> {
    let status = svc.status.clone();
    let status_given = status != Default::default();
    let result = match old {
        // A stored object replacing a stored one (a watch event, a dump
        // loaded again, perhaps of a Service recreated since): its values
        // are taken as they are.
        Some(old) if is_stored(&svc) => {
            admission.services.release(old);
            let stored = admission.services.admit_stored(svc);
            if stored.is_err() {
                admission.services.occupy(old);
            }
            stored
        }
        Some(old) => admission.services.update(old, svc),
        None if is_stored(&svc) => admission.services.admit_stored(svc),
        None => admission.services.create(svc),
    };
    let mut stored = result.map_err(|e| refusal(&e))?;
    stored.status = match (status_given, old) {
        (false, Some(old)) => old.status.clone(),
        _ => status,
    };
    if let Err((field, message)) = admission.balancers.reconcile(&mut stored, status_given) {
        // Undo this Service's allocations: the batch is refused anyway,
        // but later objects of the batch must not see them.
        match old {
            Some(_) => {}
            None => admission.services.release(&stored),
        }
        return Err((Some(field), ProblemKind::Conflict, message));
    }
    Ok(stored)
}

fn admit_node(admission: &mut Admission, node: Node, old: Option<&Node>) -> Result<Node, Refusal> {
    let mut node = node;
    let Some(ipam) = admission.nodes.as_mut() else {
        if let Some(old) = old
            && pod_cidrs(&node).is_empty()
        {
            node.spec.pod_cidr = old.spec.pod_cidr.clone();
            node.spec.pod_cidrs = old.spec.pod_cidrs.clone();
        }
        return Ok(node);
    };
    if let Some(old) = old {
        let before = pod_cidrs(old);
        let after = pod_cidrs(&node);
        if after.is_empty() {
            node.spec.pod_cidr = old.spec.pod_cidr.clone();
            node.spec.pod_cidrs = old.spec.pod_cidrs.clone();
            if !before.is_empty() {
                return Ok(node);
            }
        } else if !before.is_empty() {
            if before != after {
                return Err((
                    Some("spec.podCIDRs".to_owned()),
                    ProblemKind::Invalid,
                    "Forbidden: node updates may not change podCIDR except from \"\" to valid"
                        .to_owned(),
                ));
            }
            return Ok(node);
        }
    }
    match ipam.add(&mut node) {
        Ok(_) => Ok(node),
        Err(e) => match e.code() {
            // The Node exists without pod CIDRs (upstream: an event, no
            // refusal); stored CIDRs outside the cluster CIDRs are kept.
            "cidr-not-available" | "range-full" | "not-in-range" => Ok(node),
            _ => Err(refusal(&e)),
        },
    }
}
