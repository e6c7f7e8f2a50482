//! `route --from IP --to NAME:PORT` for an outside client (DECISIONS D16):
//! a LoadBalancer Service reached through its load balancer.
//!
//! An outside client cannot resolve cluster DNS, so `NAME` is either the
//! load balancer's hostname (`status.loadBalancer.ingress[].hostname`) or
//! a LoadBalancer Service's name (`web`, `web.shop`, `web.shop.svc…`)
//! standing for its address. Then:
//!
//! * no address (no load-balancer controller: EXTERNAL-IP `<pending>`):
//!   the answer says there is no load-balancer address;
//! * an IP (`--lb-pool`, MetalLB): the core routes it as a load-balancer
//!   VIP;
//! * a hostname (`--cloud aws`, a classic ELB as EKS makes it): the ELB
//!   sends the connection to an instance target, a node on the Service's
//!   NodePort, and the core routes it from there. The targets are the
//!   Ready nodes without the `node.kubernetes.io/exclude-from-external-load-balancers`
//!   label; under `externalTrafficPolicy: Local` only those that pass the
//!   health check (a ready endpoint of the Service on the node). The core
//!   has no ELB model: this layer is the command line's, on top of the
//!   dataplane's NodePort routing.

use std::net::{IpAddr, SocketAddr};

use svcroute::api::{
    Kind, Node, Object, ObjectKey, Service, ServiceExternalTrafficPolicy, ServiceType,
};
use svcroute::cluster::Cluster;
use svcroute::dataplane::{Decision, Destination, Hop, Request, Source};
use svcroute::labels::Selector;

/// The label that keeps a node out of external load balancers' targets.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";
/// The AWS annotation choosing the scheme (`internal`, `internet-facing`).
pub const AWS_SCHEME: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
/// The legacy AWS annotation asking for an internal load balancer.
pub const AWS_INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";

/// What the outside client's destination is.
#[derive(Debug, Clone, PartialEq)]
pub enum FrontDoor {
    /// Not a load balancer: the core answers as asked.
    Direct,
    /// A LoadBalancer Service without an address (`<pending>`).
    Pending {
        /// `namespace/name`.
        service: String,
    },
    /// The Service's load-balancer IP.
    Address {
        /// `namespace/name`.
        service: String,
        /// The address and the port asked.
        to: SocketAddr,
    },
    /// A load-balancer hostname: instance targets on the NodePort.
    Elb(Elb),
    /// An ALB of an Ingress of class `alb` ([`crate::alb`]).
    Alb {
        /// The Ingress, `namespace/name`.
        ingress: String,
        /// `internal` or `internet-facing`.
        scheme: &'static str,
        /// `instance` or `ip`.
        target_type: &'static str,
    },
}

/// A classic ELB in front of a Service: the way in for a hostname.
#[derive(Debug, Clone, PartialEq)]
pub struct Elb {
    /// `namespace/name`.
    pub service: String,
    /// The hostname.
    pub hostname: String,
    /// `internet-facing` or `internal`.
    pub scheme: &'static str,
    /// The listener port asked.
    pub port: u16,
    /// The Service port's NodePort, when the port is a listener.
    pub node_port: Option<u16>,
    /// Healthy instance targets: (node, InternalIP).
    pub targets: Vec<(String, IpAddr)>,
    /// Nodes left out, with the reason.
    pub left_out: Vec<(String, &'static str)>,
    /// `externalTrafficPolicy: Local`.
    pub local: bool,
}

/// Finds the front door of `name:port` for an outside client; `namespace`
/// is the `-n` namespace for a Service's short name.
///
/// ```
/// use svcroute::cluster::{Cluster, ClusterConfig};
/// use svcroute_cli::front_door::{resolve, FrontDoor};
/// let c = Cluster::new(ClusterConfig::default()).unwrap();
/// assert_eq!(resolve(&c, "default", "kubernetes", 443), FrontDoor::Direct);
/// ```
pub fn resolve(cluster: &Cluster, namespace: &str, name: &str, port: u16) -> FrontDoor {
    let listed = cluster.list(Kind::Service, None, &Selector::everything());
    let services: Vec<&Service> = listed
        .iter()
        .filter_map(|o| match o.as_ref() {
            Object::Service(s) => Some(s),
            _ => None,
        })
        .collect();
    let host = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(svc) = services.iter().find(|s| {
        s.status
            .load_balancer
            .ingress
            .iter()
            .any(|i| i.hostname.as_deref().map(str::to_ascii_lowercase) == Some(host.clone()))
    }) {
        return FrontDoor::Elb(elb(cluster, svc, &host, port));
    }
    let domain = cluster.config().cluster_domain.clone();
    let parts: Vec<&str> = host.split('.').collect();
    let (svc_name, svc_ns) = match parts.as_slice() {
        [n] => (*n, namespace),
        [n, ns] | [n, ns, "svc"] => (*n, *ns),
        [n, ns, "svc", rest @ ..] if rest.join(".") == domain => (*n, *ns),
        _ => return FrontDoor::Direct,
    };
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some(svc_ns.to_owned()),
        name: svc_name.to_owned(),
    };
    let object = cluster.get(&key);
    let Some(Object::Service(svc)) = object.as_deref() else {
        return FrontDoor::Direct;
    };
    if svc.spec.type_ != Some(ServiceType::LoadBalancer) {
        return FrontDoor::Direct;
    }
    let service = format!("{svc_ns}/{svc_name}");
    for ingress in &svc.status.load_balancer.ingress {
        if let Some(ip) = ingress.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()) {
            return FrontDoor::Address {
                service,
                to: SocketAddr::new(ip, port),
            };
        }
        if let Some(h) = &ingress.hostname {
            return FrontDoor::Elb(elb(cluster, svc, &h.to_ascii_lowercase(), port));
        }
    }
    FrontDoor::Pending { service }
}

/// The instance targets of a load balancer in front of `svc` (an ELB
/// hostname, or an ALB's target group of a backend Service).
pub fn elb(cluster: &Cluster, svc: &Service, hostname: &str, port: u16) -> Elb {
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let a = &svc.metadata.annotations;
    let internal = a.get(AWS_SCHEME).map(String::as_str) == Some("internal")
        || a.get(AWS_INTERNAL).is_some_and(|v| v != "false");
    let node_port = svc
        .spec
        .ports
        .iter()
        .find(|p| p.port == i32::from(port))
        .and_then(|p| p.node_port)
        .and_then(|p| u16::try_from(p).ok());
    let local = svc.spec.external_traffic_policy == Some(ServiceExternalTrafficPolicy::Local);
    let with_local_endpoint: Vec<String> = cluster
        .endpoint_slices(&ns, &name)
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.is_ready())
        .filter_map(|e| e.node_name.clone())
        .collect();
    let mut targets = Vec::new();
    let mut left_out = Vec::new();
    for o in cluster.list(Kind::Node, None, &Selector::everything()) {
        let Object::Node(node) = &*o else { continue };
        let node_name = node.metadata.name.clone().unwrap_or_default();
        let why = if node.metadata.labels.contains_key(EXCLUDE_LABEL) {
            Some("excluded from external load balancers (label)")
        } else if !node.is_ready() {
            Some("not Ready")
        } else if local && !with_local_endpoint.contains(&node_name) {
            Some("fails the health check (no local endpoint, externalTrafficPolicy Local)")
        } else {
            None
        };
        match (why, internal_ip(node)) {
            (Some(why), _) => left_out.push((node_name, why)),
            (None, Some(ip)) => targets.push((node_name, ip)),
            (None, None) => left_out.push((node_name, "no InternalIP")),
        }
    }
    Elb {
        service: format!("{ns}/{name}"),
        hostname: hostname.to_owned(),
        scheme: if internal {
            "internal"
        } else {
            "internet-facing"
        },
        port,
        node_port,
        targets,
        left_out,
        local,
    }
}

/// Whether `client` can be inside the cluster's VPC: svcroute takes the
/// VPC to be addressed from the private ranges (RFC 1918 for IPv4, unique
/// local `fc00::/7` for IPv6), as EKS VPCs are; an internal load balancer
/// answers only such clients.
///
/// ```
/// use svcroute_cli::front_door::in_vpc;
/// assert!(in_vpc("10.0.3.7".parse().unwrap()));
/// assert!(in_vpc("172.20.0.1".parse().unwrap()));
/// assert!(!in_vpc("203.0.113.9".parse().unwrap()));
/// ```
pub fn in_vpc(client: IpAddr) -> bool {
    match client {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn internal_ip(node: &Node) -> Option<IpAddr> {
    node.status
        .addresses
        .iter()
        .filter(|a| a.type_ == "InternalIP")
        .find_map(|a| a.address.parse().ok())
}

/// The hops that stand before the core's trace for a front door.
fn hop(detail: String) -> Hop {
    Hop { rule: None, detail }
}

impl Elb {
    /// The request the ELB sends on, to the instance target `seed` picks
    /// (the ELB spreads connections over its healthy targets), with the
    /// hops that say so; `None` when nothing can take the connection (the
    /// hops say why).
    pub fn forward(&self, client: IpAddr, seed: u64) -> (Option<Request>, Vec<Hop>) {
        let mut hops = vec![hop(format!(
            "{} is the AWS classic load balancer of {} (scheme {}); instance targets on the Service's NodePort",
            self.hostname, self.service, self.scheme
        ))];
        if self.scheme == "internal" && !in_vpc(client) {
            hops.push(hop(format!(
                "the load balancer is internal: it has only private addresses, and the client {client} \
                 is outside the VPC (not a private RFC 1918 or ULA address), so it cannot reach it"
            )));
            return (None, hops);
        }
        for (node, why) in &self.left_out {
            hops.push(hop(format!("target {node} left out: {why}")));
        }
        let Some(node_port) = self.node_port else {
            hops.push(hop(format!(
                "the load balancer has no listener on port {}",
                self.port
            )));
            return (None, hops);
        };
        if self.targets.is_empty() {
            hops.push(hop("no healthy instance target".to_owned()));
            return (None, hops);
        }
        let i = usize::try_from(seed % self.targets.len() as u64).unwrap_or(0);
        let (node, ip) = &self.targets[i];
        let names: Vec<&str> = self.targets.iter().map(|(n, _)| n.as_str()).collect();
        hops.push(hop(format!(
            "listener {}/TCP -> instance {node} ({ip}:{node_port}), one of {} healthy target(s): {}",
            self.port,
            names.len(),
            names.join(", ")
        )));
        let request = Request {
            source: Source::External {
                ip: client,
                arrives_at: Some(node.clone()),
            },
            destination: Destination::Ip(SocketAddr::new(*ip, node_port)),
            protocol: svcroute::dataplane::Protocol::Tcp,
        };
        (Some(request), hops)
    }
}

/// A decision `base` (the core's answer for the name as asked) turned into
/// the answer for a Service without a load-balancer address.
pub fn pending(mut base: Decision, service: &str) -> Decision {
    base.service = Some(service.to_owned());
    base.trace = vec![hop(format!(
        "{service} is a LoadBalancer Service with no load-balancer address \
         (EXTERNAL-IP <pending>): the cluster has no load-balancer controller \
         (give it one with --lb-pool CIDR or --cloud aws)"
    ))];
    base
}

/// Prepends the front door's hops to the core's decision.
pub fn with_hops(mut decision: Decision, mut hops: Vec<Hop>) -> Decision {
    hops.append(&mut decision.trace);
    decision.trace = hops;
    decision
}
