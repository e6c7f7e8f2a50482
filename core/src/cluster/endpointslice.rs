//! The EndpointSlice controller (rules EP-1 … EP-11) and the mirroring
//! controller (EP-12), as pure functions: given a Service, its pods (with
//! their nodes) and the slices the controller wrote before, what to create,
//! update and delete. The [`Cluster`](super::Cluster) applies the plan.
//!
//! Where upstream picks at random (Go map iteration, `PopAny`), this picks
//! deterministically: endpoints in the order of their identity, slices in
//! the order they were found. Only the choice of which concrete endpoint
//! lands in which slice differs; counts, packing and actions are upstream's.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::api::discoveryv1::EndpointPort;
use crate::api::{
    AddressType, Endpoint, EndpointConditions, EndpointHints, EndpointSlice, Endpoints, ForNode,
    ForZone, IntOrString, Node, ObjectMeta, ObjectReference, OwnerReference, PodPhase, Protocol,
    Service, ServiceType,
};
use crate::ipam::IpFamily;

use super::ObjId;
use super::endpoint_set::EndpointSet;
use super::planned_slice::{PlannedEndpoint, PlannedSlice};
use super::pod_view::PodView;
use super::positions::{self, Positions};
use super::stored_slice::{EndpointView, SliceEndpoint, SliceView};

/// `endpointslice.kubernetes.io/managed-by` of the EndpointSlice controller.
///
/// ```
/// assert_eq!(svcroute::cluster::CONTROLLER_NAME, "endpointslice-controller.k8s.io");
/// ```
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `endpointslice.kubernetes.io/managed-by` of the mirroring controller.
pub const MIRRORING_CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";
/// The label a headless Service's slices carry (`service.kubernetes.io/headless`).
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// The label that stops Endpoints mirroring (`endpointslice.kubernetes.io/skip-mirror`).
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";
/// The topology-mode annotation (`service.kubernetes.io/topology-mode`).
pub const TOPOLOGY_MODE_ANNOTATION: &str = "service.kubernetes.io/topology-mode";
/// The older topology annotation (`service.kubernetes.io/topology-aware-hints`).
pub const TOPOLOGY_AWARE_HINTS_ANNOTATION: &str = "service.kubernetes.io/topology-aware-hints";
/// The zone label of a Node (`topology.kubernetes.io/zone`).
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// One change the controller wants.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SliceOp {
    /// A new slice (no name yet: `generateName` is set).
    Create(PlannedSlice),
    /// Replace the stored slice `ObjId` with this one (same name).
    Update(ObjId, PlannedSlice),
    /// Delete the stored slice.
    Delete(ObjId),
    /// Replace endpoint `i` of the stored slice, in place.
    Replace(ObjId, usize, Endpoint),
    /// Remove endpoint `i` of the stored slice, in place (order kept).
    Remove(ObjId, usize),
    /// Append an endpoint to the stored slice, in place.
    Push(ObjId, Endpoint),
    /// Set the conditions and hints of endpoint `i` of the stored slice,
    /// in place (the rest of the endpoint is already what it should be).
    Refresh(ObjId, usize, EndpointConditions, Option<EndpointHints>),
}

/// A pod as the controller sees it: the pod and its node (`None` when the
/// node object does not exist).
pub(crate) type PodAndNode<'a> = (PodView<'a>, Option<&'a Node>);

/// An existing slice of the Service: its store id and the stored slice
/// (read in place, in either stored form).
pub(crate) type Existing<'a> = (ObjId, SliceView<'a>);

// ------------------------------------------------------------------ rules

/// The address types of a Service's slices (EP-8): `ipFamilies`; absent,
/// the families of `clusterIPs`; headless (or none) the primary family.
pub(crate) fn address_types(svc: &Service, primary: IpFamily) -> Vec<AddressType> {
    let mut out = Vec::with_capacity(2);
    let push = |out: &mut Vec<AddressType>, t: AddressType| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    if !svc.spec.ip_families.is_empty() {
        for f in &svc.spec.ip_families {
            push(
                &mut out,
                match f {
                    crate::api::IPFamily::IPv4 => AddressType::IPv4,
                    crate::api::IPFamily::IPv6 => AddressType::IPv6,
                },
            );
        }
        return out;
    }
    let ips: Vec<&str> = match (&svc.spec.cluster_ips, &svc.spec.cluster_ip) {
        (Some(ips), _) if !ips.is_empty() => ips.iter().map(String::as_str).collect(),
        (_, Some(ip)) => vec![ip.as_str()],
        _ => Vec::new(),
    };
    for ip in ips {
        if let Ok(addr) = ip.parse::<IpAddr>() {
            push(
                &mut out,
                if addr.is_ipv6() {
                    AddressType::IPv6
                } else {
                    AddressType::IPv4
                },
            );
        }
    }
    if out.is_empty() {
        push(
            &mut out,
            match primary {
                IpFamily::V4 => AddressType::IPv4,
                IpFamily::V6 => AddressType::IPv6,
            },
        );
    }
    out
}

/// Is this Service managed by the EndpointSlice controller (EP-1)? A
/// non-empty selector and not `ExternalName`.
pub(crate) fn is_managed(svc: &Service) -> bool {
    svc.service_type() != ServiceType::ExternalName
        && svc.spec.selector.as_ref().is_some_and(|s| !s.is_empty())
}

/// EP-3: not terminal, and some IP.
pub(crate) fn should_be_in_endpoints(pod: PodView<'_>) -> bool {
    !matches!(pod.phase(), PodPhase::Succeeded | PodPhase::Failed)
        && (pod.pod_ip().is_some_and(|s| !s.is_empty()) || !pod.pod_ips_empty())
}

/// EP-5: the container port a Service port resolves to on this pod.
pub(crate) fn find_port(pod: PodView<'_>, protocol: Protocol, target: &IntOrString) -> Option<i32> {
    find_port_of(pod, protocol, Some(target), 0)
}

/// [`find_port`] for a Service port's `targetPort` (`None`: the Service
/// port `port` itself), without cloning the target.
pub(crate) fn find_port_of(
    pod: PodView<'_>,
    protocol: Protocol,
    target: Option<&IntOrString>,
    port: i32,
) -> Option<i32> {
    let Some(target) = target else {
        return Some(port);
    };
    match target {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(name) => {
            let sidecars = pod.init_containers().iter().filter(|c| c.is_sidecar());
            pod.containers()
                .iter()
                .chain(sidecars)
                .flat_map(|c| &c.ports)
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.unwrap_or_default() == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

/// EP-5, EP-7: the pod's resolved port list for this Service.
fn endpoint_ports(svc: &Service, pod: PodView<'_>) -> Vec<EndpointPort> {
    let mut out = Vec::with_capacity(svc.spec.ports.len());
    if svc.spec.ports.is_empty() && svc.spec.cluster_ip.as_deref() == Some("None") {
        return out;
    }
    for sp in &svc.spec.ports {
        let protocol = sp.protocol.unwrap_or_default();
        if let Some(port) = find_port_of(pod, protocol, sp.target_port.as_ref(), sp.port) {
            out.push(EndpointPort {
                name: Some(sp.name.clone()),
                protocol: Some(protocol),
                port: Some(port),
                app_protocol: sp.app_protocol.clone(),
            });
        }
    }
    out
}

/// The most Service ports [`resolve_ports`] resolves on the stack.
const FEW_PORTS: usize = 8;

/// The Service ports a pod resolves (EP-5), each as its index in
/// `svc.spec.ports` and the container port, resolved once into a buffer
/// on the stack, with how many there are; `None` for a Service of more
/// than [`FEW_PORTS`] ports (the caller resolves them as it goes).
pub(super) fn resolve_ports(
    svc: &Service,
    pod: PodView<'_>,
) -> Option<([(usize, i32); FEW_PORTS], usize)> {
    if svc.spec.ports.len() > FEW_PORTS {
        return None;
    }
    let mut buf = [(0, 0); FEW_PORTS];
    let mut n = 0;
    for (i, sp) in svc.spec.ports.iter().enumerate() {
        let protocol = sp.protocol.unwrap_or_default();
        if let Some(port) = find_port_of(pod, protocol, sp.target_port.as_ref(), sp.port) {
            buf[n] = (i, port);
            n += 1;
        }
    }
    Some((buf, n))
}

/// The ports a pod resolves for a Service (EP-5), each with its container
/// port, as they go: the slow form of [`resolve_ports`].
pub(super) fn resolved_ports<'a>(
    svc: &'a Service,
    pod: PodView<'a>,
) -> impl Iterator<Item = (&'a crate::api::ServicePort, i32)> + Clone + 'a {
    svc.spec.ports.iter().filter_map(move |sp| {
        let protocol = sp.protocol.unwrap_or_default();
        find_port_of(pod, protocol, sp.target_port.as_ref(), sp.port).map(|port| (sp, port))
    })
}

/// Whether a pod's resolved ports and a published port list `list` hold
/// the same ports as multisets: as many of them, and each as often. `same`
/// tells two resolved ports apart as the published form would, `is`
/// whether a published port is a resolved one. The ports are resolved once
/// on the stack ([`resolve_ports`]) when the Service has few, else as they
/// go.
pub(super) fn same_port_multiset<E>(
    svc: &Service,
    pod: PodView<'_>,
    list: &[E],
    same: impl Fn(ResolvedPort<'_>, ResolvedPort<'_>) -> bool + Copy,
    is: impl Fn(&E, ResolvedPort<'_>) -> bool + Copy,
) -> bool {
    fn check<'a, E>(
        mine: impl Iterator<Item = ResolvedPort<'a>> + Clone,
        list: &[E],
        same: impl Fn(ResolvedPort<'a>, ResolvedPort<'a>) -> bool,
        is: impl Fn(&E, ResolvedPort<'a>) -> bool,
    ) -> bool {
        mine.clone().all(|x| {
            mine.clone().filter(|&y| same(x, y)).count() == list.iter().filter(|e| is(e, x)).count()
        })
    }
    match resolve_ports(svc, pod) {
        Some((buf, n)) => {
            let ports = &svc.spec.ports;
            let mine = buf[..n].iter().map(|&(i, port)| (&ports[i], port));
            n == list.len() && check(mine, list, same, is)
        }
        None => {
            let mine = resolved_ports(svc, pod);
            mine.clone().count() == list.len() && check(mine, list, same, is)
        }
    }
}

/// A Service port a pod resolves, with the container port it resolves to.
pub(super) type ResolvedPort<'a> = (&'a crate::api::ServicePort, i32);

/// `port_key(&endpoint_ports(svc, pod)) == port_key(list)`, without
/// building either: the pod's resolved ports and `list` are the same
/// multiset.
fn ports_match(svc: &Service, pod: PodView<'_>, list: &[EndpointPort]) -> bool {
    same_port_multiset(
        svc,
        pod,
        list,
        |(a, na), (b, nb)| {
            a.name == b.name
                && a.protocol.unwrap_or_default() == b.protocol.unwrap_or_default()
                && na == nb
                && a.app_protocol == b.app_protocol
        },
        |e, (s, port)| {
            e.name.as_deref() == Some(s.name.as_str())
                && e.protocol == Some(s.protocol.unwrap_or_default())
                && e.port == Some(port)
                && e.app_protocol == s.app_protocol
        },
    )
}

/// The grouping key of a port list: the ports as a multiset (upstream
/// hashes the sorted list).
type PortKey = Vec<(
    Option<String>,
    Option<Protocol>,
    Option<i32>,
    Option<String>,
)>;

fn port_key(ports: &[EndpointPort]) -> PortKey {
    let mut key: PortKey = ports
        .iter()
        .map(|p| (p.name.clone(), p.protocol, p.port, p.app_protocol.clone()))
        .collect();
    crate::order::sort(&mut key);
    key
}

/// Is this address text an IPv6 address?
pub(super) fn is_ipv6(s: &str) -> bool {
    // Every IPv6 text has a colon: IPv4 addresses skip the parser.
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// EP-8: a pod's `podIPs` of one address type, in the pod's order (the
/// addresses of its endpoint in a slice of that type).
fn family_ips(pod: PodView<'_>, at: AddressType) -> impl Iterator<Item = &str> {
    let want_v6 = at == AddressType::IPv6;
    pod.pod_ips().filter(move |ip| is_ipv6(ip) == want_v6)
}

/// EP-4: the conditions of a pod's endpoint.
fn endpoint_conditions(pod: PodView<'_>, svc: &Service) -> EndpointConditions {
    let serving = pod.is_ready();
    let terminating = pod.is_terminating();
    let ready = svc.spec.publish_not_ready_addresses.unwrap_or(false) || (serving && !terminating);
    EndpointConditions {
        ready: Some(ready),
        serving: Some(serving),
        terminating: Some(terminating),
    }
}

/// EP-6: the hostname of a pod's endpoint (the pod's `hostname` when its
/// `subdomain` is the Service, in the Service's namespace).
pub(super) fn endpoint_hostname<'a>(pod: PodView<'a>, svc: &Service) -> Option<&'a str> {
    match (pod.hostname(), pod.subdomain()) {
        (Some(h), Some(sub))
            if !h.is_empty()
                && Some(sub) == svc.metadata.name.as_deref()
                && *pod.namespace() == svc.metadata.namespace =>
        {
            Some(h)
        }
        _ => None,
    }
}

/// The zone of a pod's endpoint: its node's zone label.
fn endpoint_zone(node: Option<&Node>) -> Option<&str> {
    node.and_then(|n| n.metadata.labels.get(ZONE_LABEL))
        .map(String::as_str)
        .filter(|z| !z.is_empty())
}

/// `old` is the endpoint [`pod_to_endpoint`] builds, but for its
/// conditions and hints: the conditions it should have then, computed
/// without building the endpoint; `None` when anything else differs.
fn same_but_conditions(
    old: EndpointView<'_>,
    pod: PodView<'_>,
    node: Option<&Node>,
    svc: &Service,
    at: AddressType,
) -> Option<EndpointConditions> {
    let same_addresses = family_ips(pod, at).eq(old.addresses());
    let r = old.target()?;
    let same_target = r.kind == "Pod"
        && r.namespace == pod.namespace().as_deref()
        && r.name == pod.name()
        && r.uid == pod.uid().as_deref()
        && r.api_version.is_none()
        && r.resource_version.is_none();
    let same = same_addresses
        && same_target
        && old.hostname() == endpoint_hostname(pod, svc)
        && old.node_name() == pod.node_name().filter(|n| !n.is_empty())
        && old.zone() == endpoint_zone(node);
    same.then(|| endpoint_conditions(pod, svc))
}

/// EP-4, EP-8: the endpoint of a pod for one address type.
fn pod_to_endpoint(
    pod: PodView<'_>,
    node: Option<&Node>,
    svc: &Service,
    at: AddressType,
) -> Endpoint {
    let addresses = family_ips(pod, at).map(str::to_owned).collect();
    Endpoint {
        addresses,
        conditions: endpoint_conditions(pod, svc),
        hostname: endpoint_hostname(pod, svc).map(str::to_owned),
        target_ref: Some(ObjectReference {
            kind: "Pod".to_owned(),
            namespace: pod.namespace().clone(),
            name: pod.name().to_owned(),
            uid: pod.uid().map(|u| u.to_string()),
            ..ObjectReference::default()
        }),
        node_name: pod.node_name().filter(|n| !n.is_empty()).map(str::to_owned),
        zone: endpoint_zone(node).map(str::to_owned),
        hints: None,
    }
}

/// [`pod_to_endpoint`] as the store will hold it: the record built
/// straight from the pod when a record holds the endpoint (one address, the
/// pod in the Service's namespace, strings short enough), the endpoint
/// otherwise; `None` when it has no address (no endpoint).
fn pod_to_planned(
    pod: PodView<'_>,
    node: Option<&Node>,
    svc: &Service,
    at: AddressType,
) -> Option<PlannedEndpoint> {
    let mut ips = family_ips(pod, at);
    let ip = ips.next()?;
    let one_address = ips.next().is_none();
    if let Some(ns) = svc.metadata.namespace.as_deref()
        && one_address
        && pod.namespace().as_deref() == Some(ns)
    {
        let uid = pod.uid();
        let record = SliceEndpoint::new(
            ip,
            pod.name(),
            uid.as_deref(),
            endpoint_hostname(pod, svc),
            pod.node_name().filter(|n| !n.is_empty()),
            endpoint_zone(node),
            &endpoint_conditions(pod, svc),
        );
        if let Some(r) = record {
            return Some(PlannedEndpoint::Record(r));
        }
    }
    Some(PlannedEndpoint::Object(Box::new(pod_to_endpoint(
        pod, node, svc, at,
    ))))
}

/// The identity of an endpoint (upstream `hashEndpoint`): addresses
/// (sorted), hostname, and the target's namespace and name.
type EpKey = (Vec<String>, Option<String>, Option<String>, String);

fn ep_key(ep: &Endpoint) -> EpKey {
    let mut addresses = ep.addresses.clone();
    crate::order::sort(&mut addresses);
    let (ns, name) = ep.target_ref.as_ref().map_or((None, String::new()), |r| {
        (r.namespace.clone(), r.name.clone())
    });
    (addresses, ep.hostname.clone(), ns, name)
}

/// Upstream `EndpointsEqualBeyondHash`: what the identity does not cover
/// (both read in place, in either form).
fn equal_beyond_hash(a: EndpointView<'_>, b: EndpointView<'_>) -> bool {
    let same_target = match (a.target(), b.target()) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x.kind == y.kind
                && x.name == y.name
                && x.namespace == y.namespace
                && x.uid == y.uid
                && x.api_version == y.api_version
        }
        _ => false,
    };
    a.conditions() == b.conditions()
        && a.node_name() == b.node_name()
        && a.zone() == b.zone()
        && same_target
}

/// Same identity as [`ep_key`] compares, without building keys.
fn same_identity(a: EndpointView<'_>, b: &Endpoint) -> bool {
    super::endpoint_set::identity_cmp_view(b, a).is_eq()
}

/// The labels a managed slice must carry, and whether the slice's own
/// non-reserved labels differ from the Service's non-reserved labels
/// (upstream `setEndpointSliceLabels`: the two maps compared whole).
fn slice_labels(
    existing: &BTreeMap<String, String>,
    svc: &Service,
    controller: &str,
) -> (BTreeMap<String, String>, bool) {
    let reserved = |k: &str| {
        k == EndpointSlice::SERVICE_NAME_LABEL
            || k == EndpointSlice::MANAGED_BY_LABEL
            || k == HEADLESS_LABEL
    };
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .filter(|(k, _)| !reserved(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let changed = existing
        .iter()
        .filter(|(k, _)| !reserved(k))
        .ne(labels.iter());
    if is_headless_for_labels(svc) {
        labels.insert(HEADLESS_LABEL.to_owned(), String::new());
    }
    labels.insert(
        EndpointSlice::SERVICE_NAME_LABEL.to_owned(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(
        EndpointSlice::MANAGED_BY_LABEL.to_owned(),
        controller.to_owned(),
    );
    (labels, changed)
}

/// Upstream `!IsServiceIPSet`: `clusterIP` is empty or `None`.
fn is_headless_for_labels(svc: &Service) -> bool {
    matches!(
        svc.spec.cluster_ip.as_deref(),
        None | Some("") | Some("None")
    )
}

/// `<service>-` (or the name alone when the dash would make it invalid).
fn generate_name(name: &str) -> String {
    if name.len() < 253 {
        format!("{name}-")
    } else {
        name.to_owned()
    }
}

fn owner_ref(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_owned(),
        kind: "Service".to_owned(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn new_slice(svc: &Service, ports: Vec<EndpointPort>, at: AddressType) -> EndpointSlice {
    let (labels, _) = slice_labels(&BTreeMap::new(), svc, CONTROLLER_NAME);
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(generate_name(svc.metadata.name.as_deref().unwrap_or(""))),
            namespace: svc.metadata.namespace.clone(),
            labels,
            owner_references: vec![owner_ref(svc)],
            ..ObjectMeta::default()
        },
        address_type: at,
        endpoints: Vec::new(),
        ports,
    }
}

// ------------------------------------------------------------------ hints

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heuristic {
    /// No valid `trafficDistribution`: remove every hint.
    Remove,
    /// `PreferClose` / `PreferSameZone`.
    SameZone,
    /// `PreferSameNode`.
    SameNode,
}

/// Is the topology-mode annotation (or the older one) `Auto`?
pub(crate) fn topology_auto(svc: &Service) -> bool {
    let a = &svc.metadata.annotations;
    let v = a
        .get(TOPOLOGY_MODE_ANNOTATION)
        .or_else(|| a.get(TOPOLOGY_AWARE_HINTS_ANNOTATION));
    matches!(v.map(String::as_str), Some("Auto" | "auto"))
}

fn heuristic(svc: &Service) -> Heuristic {
    match svc.spec.traffic_distribution.as_deref() {
        Some("PreferClose" | "PreferSameZone") => Heuristic::SameZone,
        Some("PreferSameNode") => Heuristic::SameNode,
        _ => Heuristic::Remove,
    }
}

/// EP-10: the hints an endpoint should carry; `None` = leave as is.
fn wanted_hints(ep: EndpointView<'_>, h: Heuristic) -> Option<Option<EndpointHints>> {
    if h == Heuristic::Remove {
        // What `wanted_hints_of` gives, without reading the endpoint.
        return Some(None);
    }
    wanted_hints_of(
        ep.conditions().ready == Some(true),
        ep.zone(),
        ep.node_name(),
        h,
    )
}

/// [`wanted_hints`] of an endpoint with this readiness, zone and node.
fn wanted_hints_of(
    ready: bool,
    zone: Option<&str>,
    node: Option<&str>,
    h: Heuristic,
) -> Option<Option<EndpointHints>> {
    let zone = zone.filter(|z| !z.is_empty());
    let node = node.filter(|n| !n.is_empty());
    match h {
        Heuristic::Remove => Some(None),
        _ if !ready => None,
        Heuristic::SameZone => Some(zone.map(|z| EndpointHints {
            for_zones: vec![ForZone { name: z.to_owned() }],
            for_nodes: Vec::new(),
        })),
        Heuristic::SameNode => {
            let for_zones: Vec<ForZone> = zone
                .map(|z| ForZone { name: z.to_owned() })
                .into_iter()
                .collect();
            let for_nodes: Vec<ForNode> = node
                .map(|n| ForNode { name: n.to_owned() })
                .into_iter()
                .collect();
            if for_zones.is_empty() && for_nodes.is_empty() {
                Some(None)
            } else {
                Some(Some(EndpointHints {
                    for_zones,
                    for_nodes,
                }))
            }
        }
    }
}

fn hints_need_update(slice: SliceView<'_>, h: Heuristic) -> bool {
    slice
        .endpoints()
        .any(|ep| wanted_hints(ep, h).is_some_and(|w| !ep.hints_are(w.as_ref())))
}

fn apply_hints(slice: &mut PlannedSlice, h: Heuristic) {
    slice.set_hints(|ep, ns| wanted_hints(ep.view(ns), h));
}

// ------------------------------------------------------------------ reconcile

/// An ordered set of endpoints keyed by identity; `pop` takes the first.
/// The mirroring controller's desired endpoints of one port list, by
/// identity (the first one given wins).
type MirrorSet = BTreeMap<EpKey, Endpoint>;

struct Group {
    key: PortKey,
    ports: Vec<EndpointPort>,
    /// The desired endpoints, in pod order (made an [`EndpointSet`]).
    set: Vec<PlannedEndpoint>,
}

/// The slices of one Service after a reconcile, per address type: what
/// upstream's `reconcileByAddressType` + `finalize` decide.
struct Plan<'a> {
    create: Vec<PlannedSlice>,
    update: Vec<(ObjId, PlannedSlice)>,
    delete: Vec<Existing<'a>>,
    unchanged: Vec<Existing<'a>>,
}

/// Reconciles one Service (EP-1 … EP-11): `pods` are the pods its selector
/// picks (any order), `existing` the controller's slices of this Service.
pub(crate) fn reconcile<'a>(
    svc: &Service,
    pods: &[PodAndNode<'_>],
    existing: &[Existing<'a>],
    primary: IpFamily,
    max: usize,
    ratios: &ZoneRatios,
) -> Vec<SliceOp> {
    let types = address_types(svc, primary);
    let mut ops = Vec::new();
    for (id, slice) in existing {
        if !types.contains(&slice.address_type()) {
            ops.push(SliceOp::Delete(*id));
        }
    }
    for at in types {
        let mine: Vec<Existing<'a>> = existing
            .iter()
            .filter(|(_, s)| s.address_type() == at)
            .copied()
            .collect();
        let plan = reconcile_address_type(svc, pods, &mine, at, max, ratios);
        ops.extend(plan.create.into_iter().map(SliceOp::Create));
        ops.extend(
            plan.update
                .into_iter()
                .map(|(id, s)| SliceOp::Update(id, s)),
        );
        ops.extend(plan.delete.into_iter().map(|(id, _)| SliceOp::Delete(id)));
    }
    ops
}

fn reconcile_address_type<'a>(
    svc: &Service,
    pods: &[PodAndNode<'_>],
    existing: &[Existing<'a>],
    at: AddressType,
    max: usize,
    ratios: &ZoneRatios,
) -> Plan<'a> {
    let publish_not_ready = svc.spec.publish_not_ready_addresses.unwrap_or(false);
    // The namespace of the desired endpoints' records.
    let svc_ns = svc.metadata.namespace.as_deref().unwrap_or_default();
    // Existing slices by port list, in the order found.
    let mut existing_by_key: Vec<(PortKey, Vec<Existing<'a>>)> = Vec::new();
    for e in existing {
        let key = port_key(e.1.ports());
        match existing_by_key.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(*e),
            None => existing_by_key.push((key, vec![*e])),
        }
    }
    // Desired endpoints by port list.
    let mut groups: Vec<Group> = Vec::new();
    for &(pod, node) in pods {
        if !should_be_in_endpoints(pod) {
            continue;
        }
        // The pod's group, found without building its port list (the
        // groups' keys differ, so at most one matches).
        let gi = match groups.iter().position(|g| ports_match(svc, pod, &g.ports)) {
            Some(i) => i,
            None => {
                let ports = endpoint_ports(svc, pod);
                let key = port_key(&ports);
                groups.push(Group {
                    key,
                    ports,
                    set: Vec::new(),
                });
                groups.len() - 1
            }
        };
        if node.is_none() && !publish_not_ready {
            continue;
        }
        if let Some(ep) = pod_to_planned(pod, node, svc, at) {
            groups[gi].set.push(ep);
        }
    }

    let mut plan = Plan {
        create: Vec::new(),
        update: Vec::new(),
        delete: Vec::new(),
        unchanged: Vec::new(),
    };
    for g in groups.iter_mut() {
        let slices = existing_by_key
            .iter()
            .find(|(k, _)| *k == g.key)
            .map_or(&[][..], |(_, v)| v.as_slice());
        by_port_mapping(
            svc,
            slices,
            EndpointSet::new(std::mem::take(&mut g.set), svc_ns),
            &g.ports,
            at,
            max,
            &mut plan,
        );
    }
    for (key, slices) in &existing_by_key {
        if !groups.iter().any(|g| g.key == *key) {
            plan.delete.extend(slices.iter().copied());
        }
    }

    // The placeholder: only when every slice would go and none would come.
    if existing.len() == plan.delete.len() && plan.create.is_empty() {
        let placeholder = new_slice(svc, Vec::new(), at);
        if plan.delete.len() == 1 && placeholder_equal(plan.delete[0].1, &placeholder) {
            let kept = plan.delete.remove(0);
            plan.unchanged.push(kept);
        } else {
            plan.create.push(placeholder.into());
        }
    }

    if topology_auto(svc) {
        // EP-11: the annotation wins over trafficDistribution.
        auto_hints(&mut plan, ratios);
    } else {
        traffic_distribution_hints(&mut plan, heuristic(svc));
    }
    finalize(&mut plan, at);
    plan
}

/// EP-10 hints, on what is written and on unchanged slices that need them.
fn traffic_distribution_hints(plan: &mut Plan<'_>, h: Heuristic) {
    let mut still = Vec::with_capacity(plan.unchanged.len());
    for (id, s) in std::mem::take(&mut plan.unchanged) {
        if hints_need_update(s, h) {
            let mut s = PlannedSlice::of_view(s);
            apply_hints(&mut s, h);
            plan.update.push((id, s));
        } else {
            still.push((id, s));
        }
    }
    plan.unchanged = still;
    for s in &mut plan.create {
        apply_hints(s, h);
    }
    for (_, s) in &mut plan.update {
        apply_hints(s, h);
    }
}

/// Upstream `finalize`: turn creates into updates of slices that would
/// otherwise be deleted (same address type).
fn finalize(plan: &mut Plan<'_>, at: AddressType) {
    let mut i = 0;
    while i < plan.delete.len() && !plan.create.is_empty() {
        let (id, old) = plan.delete[i];
        if old.address_type() == at {
            let mut s = plan.create.pop().expect("non-empty");
            s.metadata.name = old.metadata().name.clone();
            s.metadata.generate_name = old.metadata().generate_name.clone();
            plan.update.push((id, s));
            plan.delete.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Upstream's placeholder comparison: namespace, labels, address type,
/// endpoints and ports (names, owners and other metadata ignored).
fn placeholder_equal(a: SliceView<'_>, b: &EndpointSlice) -> bool {
    a.metadata().namespace == b.metadata.namespace
        && a.metadata().labels == b.metadata.labels
        && a.address_type() == b.address_type
        && a.len() == b.endpoints.len()
        && a.endpoints()
            .zip(&b.endpoints)
            .all(|(x, y)| *x.to_endpoint() == *y)
        && a.ports() == b.ports
}

/// Upstream `reconcileByPortMapping` for one port list of one address type.
fn by_port_mapping<'a>(
    svc: &Service,
    existing: &[Existing<'a>],
    mut desired: EndpointSet<'_>,
    ports: &[EndpointPort],
    at: AddressType,
    max: usize,
    plan: &mut Plan<'a>,
) {
    // The namespace of the desired endpoints' records.
    let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
    let mut to_update: Vec<(ObjId, PlannedSlice)> = Vec::new();
    let mut unchanged: Vec<Existing<'a>> = Vec::new();

    // 1. Keep wanted endpoints, refresh changed ones.
    for &(id, slice) in existing {
        let mut kept = Vec::with_capacity(slice.len());
        let mut changed = false;
        for ep in slice.endpoints() {
            if let Some(want) = desired.remove(ep) {
                if !equal_beyond_hash(want.view(ns), ep) {
                    changed = true;
                }
                kept.push(want);
            }
        }
        let (labels, labels_changed) = slice_labels(&slice.metadata().labels, svc, CONTROLLER_NAME);
        if changed || kept.len() != slice.len() {
            if kept.is_empty() {
                plan.delete.push((id, slice));
            } else {
                let mut metadata = slice.metadata().clone();
                metadata.labels = labels;
                let mut s = PlannedSlice {
                    metadata,
                    address_type: slice.address_type(),
                    endpoints: Vec::with_capacity(kept.len()),
                    ports: slice.ports().to_vec(),
                };
                for e in kept {
                    s.push(e, ns);
                }
                to_update.push((id, s));
            }
        } else if labels_changed {
            let mut s = PlannedSlice::of_view(slice);
            s.metadata.labels = labels;
            to_update.push((id, s));
        } else {
            unchanged.push((id, slice));
        }
    }

    // 2. Fill the slices being updated, fullest first.
    if !desired.is_empty() && !to_update.is_empty() {
        crate::order::sort_by_key(&mut to_update, |(_, s)| {
            std::cmp::Reverse(s.endpoints.len())
        });
        for (_, s) in &mut to_update {
            while s.endpoints.len() < max {
                let Some(ep) = desired.pop_first() else {
                    break;
                };
                s.push(ep, ns);
            }
        }
    }

    // 3. What is left: into the unchanged slice closest to full that takes
    //    it all, else into new slices filled to the max.
    while !desired.is_empty() {
        let mut target: Option<usize> = None;
        if desired.len() < max && !unchanged.is_empty() {
            let mut closest = max;
            for (i, (_, s)) in unchanged.iter().enumerate() {
                let fill = desired.len() + s.len();
                if fill <= max && max - fill < closest {
                    closest = max - fill;
                    target = Some(i);
                    if closest == 0 {
                        break;
                    }
                }
            }
        }
        match target {
            Some(i) => {
                let (id, s) = unchanged.remove(i);
                let mut s = PlannedSlice::of_view(s);
                while s.endpoints.len() < max {
                    let Some(ep) = desired.pop_first() else {
                        break;
                    };
                    s.push(ep, ns);
                }
                to_update.push((id, s));
            }
            None => {
                let mut s = PlannedSlice::from(new_slice(svc, ports.to_vec(), at));
                while s.endpoints.len() < max {
                    let Some(ep) = desired.pop_first() else {
                        break;
                    };
                    s.push(ep, ns);
                }
                plan.create.push(s);
            }
        }
    }
    plan.update.extend(to_update);
    plan.unchanged.extend(unchanged);
}

// ------------------------------------------------------------------ mirroring

/// Mirrors a selector-less Service's `Endpoints` into slices (EP-12): one
/// slice per (port list, address type), at most `max_per_subset`
/// endpoints each; `existing` are the mirroring controller's slices of it.
pub(crate) fn mirror(
    endpoints: Option<&Endpoints>,
    existing: &[Existing<'_>],
    max_per_subset: usize,
) -> Vec<SliceOp> {
    type Key = (PortKey, AddressType);
    let mut desired: Vec<(Key, Vec<EndpointPort>, MirrorSet)> = Vec::new();
    if let Some(eps) = endpoints
        .filter(|e| e.metadata.labels.get(SKIP_MIRROR_LABEL).map(String::as_str) != Some("true"))
    {
        for subset in &eps.subsets {
            let ports: Vec<EndpointPort> = subset
                .ports
                .iter()
                .map(|p| EndpointPort {
                    name: Some(p.name.clone()),
                    protocol: Some(p.protocol.unwrap_or_default()),
                    port: Some(p.port),
                    app_protocol: p.app_protocol.clone(),
                })
                .collect();
            let pk = port_key(&ports);
            let addresses = subset
                .addresses
                .iter()
                .map(|a| (a, true))
                .chain(subset.not_ready_addresses.iter().map(|a| (a, false)))
                .take(max_per_subset);
            for (a, ready) in addresses {
                let Ok(ip) = a.ip.parse::<IpAddr>() else {
                    continue;
                };
                let at = if ip.is_ipv6() {
                    AddressType::IPv6
                } else {
                    AddressType::IPv4
                };
                let ep = Endpoint {
                    addresses: vec![a.ip.clone()],
                    conditions: EndpointConditions {
                        ready: Some(ready),
                        ..EndpointConditions::default()
                    },
                    hostname: a.hostname.clone().filter(|h| !h.is_empty()),
                    target_ref: a.target_ref.clone(),
                    node_name: a.node_name.clone(),
                    zone: None,
                    hints: None,
                };
                let key = (pk.clone(), at);
                let i = match desired.iter().position(|(k, _, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        desired.push((key, ports.clone(), MirrorSet::new()));
                        desired.len() - 1
                    }
                };
                desired[i].2.entry(ep_key(&ep)).or_insert(ep);
            }
        }
    }
    let mut ops = Vec::new();
    let mut used: BTreeSet<ObjId> = BTreeSet::new();
    for ((pk, at), ports, set) in desired {
        let mut matching = existing
            .iter()
            .filter(|(_, s)| s.address_type() == at && port_key(s.ports()) == pk);
        let first = matching.next();
        for (id, _) in matching {
            ops.push(SliceOp::Delete(*id));
            used.insert(*id);
        }
        let eps = endpoints.expect("desired implies endpoints");
        let mut labels: BTreeMap<String, String> = eps
            .metadata
            .labels
            .iter()
            .filter(|(k, _)| {
                *k != EndpointSlice::SERVICE_NAME_LABEL && *k != EndpointSlice::MANAGED_BY_LABEL
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let name = eps.metadata.name.clone().unwrap_or_default();
        labels.insert(EndpointSlice::SERVICE_NAME_LABEL.to_owned(), name.clone());
        labels.insert(
            EndpointSlice::MANAGED_BY_LABEL.to_owned(),
            MIRRORING_CONTROLLER_NAME.to_owned(),
        );
        let mut slice = EndpointSlice {
            metadata: ObjectMeta {
                generate_name: Some(generate_name(&name)),
                namespace: eps.metadata.namespace.clone(),
                labels,
                owner_references: vec![OwnerReference {
                    api_version: "v1".to_owned(),
                    kind: "Endpoints".to_owned(),
                    name,
                    uid: eps.metadata.uid.clone().unwrap_or_default(),
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                }],
                ..ObjectMeta::default()
            },
            address_type: at,
            endpoints: set.into_values().take(max_per_subset).collect(),
            ports,
        };
        match first {
            Some(&(id, old)) => {
                used.insert(id);
                if old.to_slice().endpoints != slice.endpoints
                    || old.metadata().labels != slice.metadata.labels
                    || old.ports() != slice.ports
                {
                    slice.metadata.name = old.metadata().name.clone();
                    slice.metadata.generate_name = old.metadata().generate_name.clone();
                    ops.push(SliceOp::Update(id, slice.into()));
                }
            }
            None => ops.push(SliceOp::Create(slice.into())),
        }
    }
    for (id, _) in existing {
        if !used.contains(id) {
            ops.push(SliceOp::Delete(*id));
        }
    }
    ops
}

// ------------------------------------------------------------------ one pod

/// The reconcile of a settled Service after a change to one of its pods
/// (or one that it selected), as in-place edits: exactly what the full
/// [`reconcile`] would do from the same state, computed without looking at
/// the other pods. `None` when the outcome could involve more than that one
/// endpoint (a slice emptied or created in a new port group, a placeholder
/// around, a port-group change, `max < 2`): the caller then runs the full
/// reconcile.
///
/// `pod` is the pod and its node when it exists and the Service selects
/// it; `existing` the controller's slices of the Service, in the order the
/// full reconcile sees them, and `tags` their endpoints' tags (see
/// `positions.rs`): the pod's endpoint is found among the equal tags.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reconcile_pod(
    svc: &Service,
    pod_ns: &str,
    pod_name: &str,
    pod: Option<PodAndNode<'_>>,
    existing: &[Existing<'_>],
    tags: &[&[u32]],
    primary: IpFamily,
    max: usize,
) -> Option<Vec<SliceOp>> {
    if max < 2 || topology_auto(svc) || existing.iter().any(|(_, s)| s.len() == 0) {
        return None;
    }
    if tags.len() != existing.len()
        || existing
            .iter()
            .zip(tags)
            .any(|((_, s), t)| s.len() != t.len())
    {
        return None;
    }
    let tag = positions::pod_tag(Some(pod_ns), pod_name);
    let types = address_types(svc, primary);
    if existing
        .iter()
        .any(|(_, s)| !types.contains(&s.address_type()))
    {
        return None;
    }
    let h = heuristic(svc);
    let publish_not_ready = svc.spec.publish_not_ready_addresses.unwrap_or(false);
    // The pod's port group, and whether it yields endpoints at all.
    let wanted = pod
        .filter(|(p, _)| should_be_in_endpoints(*p))
        .map(|(p, node)| (p, node, node.is_some() || publish_not_ready));
    let mut ops = Vec::with_capacity(2);
    for at in types {
        // Where the pod's endpoint is now.
        let mut found: Option<(usize, usize)> = None;
        for (si, (_, s)) in existing.iter().enumerate() {
            if s.address_type() != at {
                continue;
            }
            for ei in Positions::matching(tags[si], tag) {
                if s.targets(ei, pod_ns, pod_name) {
                    if found.is_some() {
                        return None;
                    }
                    found = Some((si, ei));
                }
            }
        }
        // The same endpoint but for its conditions (a readiness flip): set
        // them in place, without building the endpoint.
        if let (Some((si, ei)), Some((p, node, true))) = (found, &wanted)
            && ports_match(svc, *p, existing[si].1.ports())
        {
            let (id, slice) = existing[si];
            let old = slice.endpoint(ei)?;
            if old.address_count() > 0
                && let Some(conditions) = same_but_conditions(old, *p, *node, svc, at)
            {
                let hints_ok = wanted_hints(old, h).is_none_or(|w| old.hints_are(w.as_ref()));
                if !(conditions == old.conditions() && hints_ok) {
                    let hints = wanted_hints_of(
                        conditions.ready == Some(true),
                        old.zone(),
                        old.node_name(),
                        h,
                    );
                    ops.push(SliceOp::Refresh(id, ei, conditions, hints.unwrap_or(None)));
                }
                continue;
            }
        }
        // What it should be.
        let new = match &wanted {
            Some((p, node, true)) => {
                let mut ep = pod_to_endpoint(*p, *node, svc, at);
                if let Some(w) = wanted_hints(EndpointView::Object(&ep), h) {
                    ep.hints = w;
                }
                (!ep.addresses.is_empty()).then_some((ep, *p))
            }
            _ => None,
        };
        match (found, new) {
            (None, None) => {}
            (Some((si, ei)), Some((ep, p))) if ports_match(svc, p, existing[si].1.ports()) => {
                let (id, slice) = existing[si];
                let old = slice.endpoint(ei)?;
                if same_identity(old, &ep) {
                    let hints_ok = wanted_hints(old, h).is_none_or(|w| old.hints_are(w.as_ref()));
                    if !(equal_beyond_hash(EndpointView::Object(&ep), old) && hints_ok) {
                        ops.push(SliceOp::Replace(id, ei, ep));
                    }
                } else {
                    if slice.len() == 1 {
                        return None;
                    }
                    ops.push(SliceOp::Remove(id, ei));
                    ops.push(SliceOp::Push(id, ep));
                }
            }
            (Some(_), Some(_)) => return None,
            (Some((si, ei)), None) => {
                let (id, slice) = existing[si];
                if slice.len() == 1 {
                    return None;
                }
                ops.push(SliceOp::Remove(id, ei));
            }
            (None, Some((ep, p))) => {
                let mut in_group = existing
                    .iter()
                    .filter(|(_, s)| s.address_type() == at && ports_match(svc, p, s.ports()))
                    .peekable();
                in_group.peek()?;
                // The slice that ends up closest to full, first on ties.
                let mut best: Option<(usize, ObjId)> = None;
                for (id, s) in in_group {
                    let fill = s.len() + 1;
                    if fill <= max && best.is_none_or(|(gap, _)| max - fill < gap) {
                        best = Some((max - fill, *id));
                    }
                }
                match best {
                    Some((_, id)) => ops.push(SliceOp::Push(id, ep)),
                    None => {
                        let mut s = new_slice(svc, endpoint_ports(svc, p), at);
                        s.endpoints.push(ep);
                        ops.push(SliceOp::Create(s.into()));
                    }
                }
            }
        }
    }
    Some(ops)
}

// ------------------------------------------------------------------ topology Auto (EP-11)

/// The cluster-wide zone weights topology-mode `Auto` uses: each zone's
/// share of the allocatable CPU of ready nodes (control-plane nodes left
/// out). `None` when a counted node lacks a zone or CPU, or when fewer than
/// two zones remain.
pub(crate) type ZoneRatios = Option<BTreeMap<String, f64>>;

/// Computes [`ZoneRatios`] from every Node (upstream `SetNodes`).
pub(crate) fn zone_ratios<'a>(nodes: impl Iterator<Item = &'a Node>) -> ZoneRatios {
    let mut by_zone: BTreeMap<String, i64> = BTreeMap::new();
    let mut total: i64 = 0;
    for node in nodes {
        let labels = &node.metadata.labels;
        if labels.contains_key("node-role.kubernetes.io/control-plane")
            || labels.contains_key("node-role.kubernetes.io/master")
        {
            continue;
        }
        let ready = node
            .status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .is_some_and(|c| c.status == crate::api::ConditionStatus::True);
        if !ready {
            continue;
        }
        let cpu = node
            .status
            .allocatable
            .get("cpu")
            .and_then(|q| q.millis())
            .unwrap_or(0);
        let zone = labels.get(ZONE_LABEL).filter(|z| !z.is_empty());
        let zone = zone.filter(|_| cpu != 0)?;
        total = total.saturating_add(cpu);
        let e = by_zone.entry(zone.clone()).or_default();
        *e = e.saturating_add(cpu);
    }
    if total <= 0 || by_zone.len() < 2 {
        return None;
    }
    Some(
        by_zone
            .into_iter()
            .map(|(z, cpu)| (z, cpu as f64 / total as f64))
            .collect(),
    )
}

const OVERLOAD_THRESHOLD: f64 = 0.2;

#[derive(Debug, Clone, Copy)]
struct Allocation {
    minimum: i64,
    maximum: i64,
    desired: f64,
}

/// Upstream `getAllocations`: per-zone minimum, maximum and desired counts,
/// or `None` when the safeguards refuse hints.
fn allocations(ratios: &ZoneRatios, endpoints: i64) -> Option<BTreeMap<String, Allocation>> {
    let ratios = ratios.as_ref()?;
    if ratios.len() < 2 || ratios.len() as i64 > endpoints {
        return None;
    }
    let mut remaining = endpoints;
    let mut min_total = 0;
    let mut out = BTreeMap::new();
    for (zone, ratio) in ratios {
        let desired = ratio * endpoints as f64;
        let minimum = (desired * (1.0 / (1.0 + OVERLOAD_THRESHOLD))).ceil() as i64;
        out.insert(
            zone.clone(),
            Allocation {
                minimum,
                maximum: 0,
                desired: desired.max(minimum as f64),
            },
        );
        min_total += minimum;
        remaining -= minimum;
        if remaining < 0 {
            return None;
        }
    }
    for a in out.values_mut() {
        a.maximum = a.minimum + endpoints - min_total;
    }
    Some(out)
}

fn zone_hint(zone: &str) -> Option<EndpointHints> {
    Some(EndpointHints {
        for_zones: vec![ForZone {
            name: zone.to_owned(),
        }],
        for_nodes: Vec::new(),
    })
}

/// Upstream `RemoveHintsFromSlices`.
fn remove_all_hints(plan: &mut Plan<'_>) {
    for s in plan
        .create
        .iter_mut()
        .chain(plan.update.iter_mut().map(|(_, s)| s))
    {
        s.set_hints(|_, _| Some(None));
    }
    let mut still = Vec::with_capacity(plan.unchanged.len());
    for (id, s) in std::mem::take(&mut plan.unchanged) {
        if s.endpoints().any(|e| !e.hints_are(None)) {
            let mut s = PlannedSlice::of_view(s);
            s.set_hints(|_, _| Some(None));
            plan.update.push((id, s));
        } else {
            still.push((id, s));
        }
    }
    plan.unchanged = still;
}

/// Upstream `getHintsByZone`: the hints an unchanged slice holds, or
/// `None` when they are no longer valid.
fn hints_by_zone(
    slice: SliceView<'_>,
    allocated: &BTreeMap<String, i64>,
    allocations: &BTreeMap<String, Allocation>,
) -> Option<BTreeMap<String, i64>> {
    let mut by_zone: BTreeMap<String, i64> = BTreeMap::new();
    for ep in slice
        .endpoints()
        .filter(|e| e.conditions().ready == Some(true))
    {
        let hints = ep.hints().filter(|h| !h.for_zones.is_empty())?;
        for z in &hints.for_zones {
            if !allocations.contains_key(&z.name) {
                return None;
            }
            *by_zone.entry(z.name.clone()).or_default() += 1;
        }
    }
    for (zone, n) in &by_zone {
        let already = allocated.get(zone).copied().unwrap_or(0);
        if n + already > allocations.get(zone)?.maximum {
            return None;
        }
    }
    Some(by_zone)
}

/// The zone with the largest value (the first in name order on ties), as
/// upstream `getMost` (which starts from 0 and needs strictly more).
fn most(zones: &BTreeMap<String, f64>) -> (Option<&String>, f64) {
    let mut best = (None, 0.0);
    for (z, &n) in zones {
        if n > best.1 {
            best = (Some(z), n);
        }
    }
    best
}

/// Upstream `getGivingAndReceivingZones`.
fn giving_and_receiving(
    allocations: &BTreeMap<String, Allocation>,
    allocated: &BTreeMap<String, i64>,
) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let mut giving_desired: BTreeMap<String, f64> = BTreeMap::new();
    let mut receiving_desired: BTreeMap<String, f64> = BTreeMap::new();
    for (zone, a) in allocations {
        let have = allocated.get(zone).copied().unwrap_or(0) as f64;
        if have > a.desired {
            giving_desired.insert(zone.clone(), have - a.desired);
        } else if have < a.desired {
            receiving_desired.insert(zone.clone(), a.desired - have);
        }
    }
    let mut giving: BTreeMap<String, i64> = BTreeMap::new();
    let mut receiving: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        let (g, to_give) = most(&giving_desired);
        let (r, to_receive) = most(&receiving_desired);
        let (Some(g), Some(r)) = (g.cloned(), r.cloned()) else {
            break;
        };
        if (to_give < 1.0 && to_receive < 1.0) || to_give < 0.5 || to_receive < 0.5 {
            break;
        }
        *giving.entry(g.clone()).or_default() += 1;
        *giving_desired.entry(g).or_default() -= 1.0;
        *receiving.entry(r.clone()).or_default() += 1;
        *receiving_desired.entry(r).or_default() -= 1.0;
    }
    (giving, receiving)
}

/// EP-11: upstream `AddHints` for one address type.
fn auto_hints(plan: &mut Plan<'_>, ratios: &ZoneRatios) {
    let written: i64 = plan
        .create
        .iter()
        .chain(plan.update.iter().map(|(_, s)| s))
        .map(|s| s.endpoints.iter().filter(|e| e.ready()).count() as i64)
        .sum();
    let kept: i64 = plan
        .unchanged
        .iter()
        .map(|(_, s)| {
            s.endpoints()
                .filter(|e| e.conditions().ready == Some(true))
                .count() as i64
        })
        .sum();
    let total = written + kept;
    let Some(allocations) = allocations(ratios, total) else {
        remove_all_hints(plan);
        return;
    };
    // Hints of unchanged slices count when still valid; the others are redone.
    let mut allocated: BTreeMap<String, i64> = BTreeMap::new();
    let mut still = Vec::with_capacity(plan.unchanged.len());
    for (id, s) in std::mem::take(&mut plan.unchanged) {
        match hints_by_zone(s, &allocated, &allocations) {
            Some(by_zone) => {
                for (z, n) in by_zone {
                    *allocated.entry(z).or_default() += n;
                }
                still.push((id, s));
            }
            None => plan.update.push((id, PlannedSlice::of_view(s))),
        }
    }
    plan.unchanged = still;
    // Any ready endpoint without a zone: no hints at all.
    let zoneless = plan
        .create
        .iter()
        .chain(plan.update.iter().map(|(_, s)| s))
        .flat_map(|s| &s.endpoints)
        .any(|e| e.ready() && e.zone().is_none_or(str::is_empty));
    if zoneless {
        remove_all_hints(plan);
        return;
    }
    // 1. Every ready endpoint to its own zone.
    for s in plan
        .create
        .iter_mut()
        .chain(plan.update.iter_mut().map(|(_, s)| s))
    {
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        for ep in &mut s.endpoints {
            if !ep.ready() {
                ep.set_hints(None, &ns);
                continue;
            }
            let zone = ep.zone().unwrap_or_default().to_owned();
            *allocated.entry(zone.clone()).or_default() += 1;
            ep.set_hints(zone_hint(&zone), &ns);
        }
    }
    // 2. Who gives, who receives.
    let (mut giving, mut receiving) = giving_and_receiving(&allocations, &allocated);
    // 3. Re-hint surplus endpoints to zones that are short.
    let mut moved: BTreeMap<String, i64> = BTreeMap::new();
    'slices: for s in plan
        .create
        .iter_mut()
        .chain(plan.update.iter_mut().map(|(_, s)| s))
    {
        let ns = s.metadata.namespace.clone().unwrap_or_default();
        for ep in &mut s.endpoints {
            if !ep.ready() {
                ep.set_hints(None, &ns);
                continue;
            }
            if giving.is_empty() || receiving.is_empty() {
                break 'slices;
            }
            let Some(zone) = ep.zone().filter(|z| !z.is_empty()).map(str::to_owned) else {
                continue;
            };
            if giving.get(&zone).is_some_and(|&n| n > 0) {
                let Some(to) = receiving
                    .iter()
                    .find(|(_, n)| **n > 0)
                    .map(|(z, _)| z.clone())
                else {
                    continue;
                };
                ep.set_hints(zone_hint(&to), &ns);
                for (map, z) in [(&mut giving, &zone), (&mut receiving, &to)] {
                    if let Some(n) = map.get_mut(z) {
                        *n -= 1;
                        if *n == 0 {
                            map.remove(z);
                        }
                    }
                }
                *moved.entry(to).or_default() += 1;
                *moved.entry(zone).or_default() -= 1;
            }
        }
    }
    for (z, d) in moved {
        *allocated.entry(z).or_default() += d;
    }
    if allocated.is_empty() {
        remove_all_hints(plan);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Pod;
    use crate::cluster::stored::Compacted;
    use crate::cluster::stored_slice::CompactSlice;

    fn node(name: &str, zone: &str, cpu: &str) -> Node {
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "{name}", "labels": {{"topology.kubernetes.io/zone": "{zone}"}}}},
               "status": {{"allocatable": {{"cpu": "{cpu}"}}, "conditions": [{{"type": "Ready", "status": "True"}}]}}}}"#
        ))
        .expect("node")
    }

    /// A pod of `shop` on `node` with these IPs; `extra` merged into its
    /// spec (hostname, subdomain).
    fn pod(name: &str, ns: &str, ips: &[&str], node: &str, ready: bool, extra: &str) -> Pod {
        let ip_list: Vec<String> = ips
            .iter()
            .map(|ip| format!(r#"{{"ip": "{ip}"}}"#))
            .collect();
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "{name}", "namespace": "{ns}", "uid": "uid-{name}", "labels": {{"app": "web"}}}},
               "spec": {{"nodeName": "{node}", {extra} "containers": [{{"name": "c", "ports": [{{"name": "http", "containerPort": 8080}}]}}]}},
               "status": {{"phase": "Running", "podIP": "{}", "podIPs": [{}],
                          "conditions": [{{"type": "Ready", "status": "{}"}}]}}}}"#,
            ips[0],
            ip_list.join(","),
            if ready { "True" } else { "False" }
        ))
        .expect("pod")
    }

    fn service(annotations: &str, spec: &str) -> Service {
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "web", "namespace": "shop", "uid": "svc-uid",
                              "labels": {{"team": "a"}}, "annotations": {{{annotations}}}}},
               "spec": {{"clusterIP": "10.96.0.20", "selector": {{"app": "web"}}, {spec}
                        "ports": [{{"name": "http", "port": 80, "targetPort": "http"}}]}}}}"#
        ))
        .expect("service")
    }

    // Every endpoint the reconcile plans from a pod is the endpoint it
    // built as an object before, and every slice it plans is stored in
    // exactly the form compacting the built slice gives (the same records,
    // or the object as given), for the hints of every heuristic, topology
    // Auto (hints to other zones), hostnames, missing nodes, dual-stack
    // pods and a pod of another namespace.
    #[test]
    fn planned_slices_are_stored_as_the_built_slices_were() {
        let nodes = [
            node("na", "a", "2"),
            node("nb", "b", "1"),
            node("nc", "", "1"),
        ];
        let pods = [
            pod("p1", "shop", &["10.244.0.1"], "na", true, ""),
            pod("p2", "shop", &["10.244.0.2"], "nb", false, ""),
            pod(
                "p3",
                "shop",
                &["10.244.0.3"],
                "na",
                true,
                r#""hostname": "db-0", "subdomain": "web","#,
            ),
            pod("p4", "shop", &["10.244.0.4", "fd00::4"], "nb", true, ""),
            pod("p5", "shop", &["10.244.0.5"], "gone", true, ""),
            pod("p7", "other", &["10.244.0.7"], "na", true, ""),
            pod("p8", "shop", &["10.244.0.8"], "nb", true, ""),
            pod("p9", "shop", &["10.244.0.9"], "nb", true, ""),
            pod(
                "pa",
                "shop",
                &["10.244.0.10", "10.244.0.11"],
                "na",
                true,
                "",
            ),
            // Last: a ready endpoint without a zone takes Auto's hints away.
            pod("p6", "shop", &["10.244.0.6"], "nc", true, ""),
        ];
        let node_of = |p: &Pod| nodes.iter().find(|n| n.metadata.name == p.spec.node_name);
        let services = [
            service("", ""),
            service("", r#""trafficDistribution": "PreferClose","#),
            service("", r#""trafficDistribution": "PreferSameNode","#),
            service(
                "",
                r#""publishNotReadyAddresses": true, "ipFamilies": ["IPv4", "IPv6"],"#,
            ),
            service(r#""service.kubernetes.io/topology-mode": "Auto""#, ""),
        ];
        let ratios = zone_ratios(nodes[..2].iter());
        let (mut records, mut objects, mut compact, mut given) = (0, 0, 0, 0);
        for svc in &services {
            for take in [pods.len(), pods.len() - 1] {
                let with_nodes: Vec<PodAndNode<'_>> = pods[..take]
                    .iter()
                    .map(|p| (PodView::given(p), node_of(p)))
                    .collect();
                for at in address_types(svc, IpFamily::V4) {
                    for &(p, n) in &with_nodes {
                        let Some(planned) = pod_to_planned(p, n, svc, at) else {
                            assert!(pod_to_endpoint(p, n, svc, at).addresses.is_empty());
                            continue;
                        };
                        if matches!(planned, PlannedEndpoint::Record(_)) {
                            records += 1;
                        } else {
                            objects += 1;
                        }
                        assert_eq!(
                            planned.into_endpoint("shop"),
                            pod_to_endpoint(p, n, svc, at)
                        );
                    }
                }
                for max in [2, 100] {
                    let ops = reconcile(svc, &with_nodes, &[], IpFamily::V4, max, &ratios);
                    assert!(!ops.is_empty());
                    for op in ops {
                        let SliceOp::Create(planned) = op else {
                            panic!("creates only: {op:?}");
                        };
                        let built = planned.to_slice();
                        match (planned.into_compact(), CompactSlice::of(built.clone())) {
                            (Compacted::Compact(a), Compacted::Compact(b)) => {
                                assert_eq!(a, b);
                                assert_eq!(a.to_slice(), built);
                                compact += 1;
                            }
                            (Compacted::Given(a), Compacted::Given(b)) => {
                                assert_eq!(a, b);
                                given += 1;
                            }
                            (Compacted::Given(a), Compacted::Compact(_)) => {
                                // Written as an object, the store compacts it
                                // as before.
                                assert_eq!(a, built);
                            }
                            (Compacted::Compact(_), Compacted::Given(_)) => {
                                panic!("compact only when the built slice compacts: {built:?}")
                            }
                        }
                    }
                }
            }
        }
        assert!(records > 0 && objects > 0 && compact > 0 && given > 0);
    }
}
