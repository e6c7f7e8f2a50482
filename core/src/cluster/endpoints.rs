//! The v1 Endpoints controller (kube-controller-manager's `endpoint`
//! controller), beside the EndpointSlice controller.
//!
//! For every Service with a selector (and not `ExternalName`) an
//! `Endpoints` object of the same name holds its pods:
//!
//! * the pods the selector picks in the Service's namespace, except
//!   terminal ones (`Succeeded`, `Failed`), those without an IP, and
//!   terminating ones (kept with `publishNotReadyAddresses`);
//! * one address per pod, of the Service's first IP family, with
//!   `nodeName`, `targetRef` (kind, namespace, name, uid) and `hostname`
//!   (pods whose `hostname` is set and whose `subdomain` is the Service);
//! * ready pods in `addresses`, others in `notReadyAddresses` (every pod in
//!   `addresses` with `publishNotReadyAddresses`);
//! * one entry per Service port the pod resolves (named target ports per
//!   pod), then upstream's `RepackSubsets`: addresses grouped by the set of
//!   ports they serve, one subset per distinct address set, an address not
//!   ready for one port is not ready for all; a headless Service without
//!   ports lists its pods in a subset without ports;
//! * at most [`MAX_ENDPOINTS_ADDRESSES`] addresses: beyond, upstream's
//!   proportional truncation (ready addresses first) and the annotation
//!   `endpoints.kubernetes.io/over-capacity: truncated`;
//! * labels: the Service's, plus `service.kubernetes.io/headless: ""` for
//!   a Service without a cluster IP; the annotation
//!   `endpoints.kubernetes.io/last-change-trigger-time` is never written
//!   (there is no clock).
//!
//! Addresses are sorted by IP then pod uid, as upstream. Upstream orders
//! ports and subsets by a hash of their Go representation; here ports are
//! ordered by (name, port, protocol) and subsets by their addresses, a
//! deterministic order with the same content.
//!
//! The Endpoints of a Service is deleted with the Service. Endpoints of
//! Services without a selector are the user's and left alone (mirrored to
//! EndpointSlices, EP-12). The controller runs for the Services each call
//! marks, the EndpointSlice controller's trigger set. A Service that only
//! one pod's change touched, whose Endpoints is one subset the pod serves
//! with exactly its ports, is patched in place (the pod's address replaced,
//! removed or inserted in order) without looking at its other pods; the
//! tests check that this writes what the full computation writes.
//!
//! The controller's objects are stored compact (`stored.rs`); the patch
//! works on either stored form through [`AddressLike`]. The full
//! computation makes the compact form straight from the pods when every
//! pod serves the same port list (`endpoints/records.rs`: no
//! `EndpointAddress` is built, and the stored object is compared as it
//! is); otherwise [`desired`] builds the object and compares it with the
//! current one, built.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::intern::FxMap;
use super::pod_view::{PodView, UidText};
use super::positions::{AddressTags, Positions, has_uid, pod_tag};
use super::stored::{Address, EndpointsMeta, LabelForm, Stored};
use super::{Cluster, Tracker, Trigger, endpointslice};
use crate::api::corev1::EndpointPort;
use crate::api::{
    EndpointAddress, EndpointSubset, Endpoints, IPFamily, Kind, Object, ObjectKey, ObjectMeta,
    ObjectReference, Service, ServiceType,
};
use crate::cluster::HEADLESS_LABEL;
use endpointslice::is_ipv6;
use records::Outcome;

mod records;

/// `endpoints.kubernetes.io/over-capacity`: set to `truncated` when a
/// Service has more than [`MAX_ENDPOINTS_ADDRESSES`] addresses.
pub const ENDPOINTS_OVER_CAPACITY_ANNOTATION: &str = "endpoints.kubernetes.io/over-capacity";
/// `endpoints.kubernetes.io/last-change-trigger-time`: removed by the
/// controller (svcroute has no clock to write it).
pub const ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION: &str =
    "endpoints.kubernetes.io/last-change-trigger-time";
/// The most addresses (ready and not ready) one Endpoints object holds.
pub const MAX_ENDPOINTS_ADDRESSES: usize = 1000;

/// Upstream `ShouldPodBeInEndpoints`.
fn should_be_in_endpoints(pod: PodView<'_>, include_terminating: bool) -> bool {
    endpointslice::should_be_in_endpoints(pod) && (include_terminating || !pod.is_terminating())
}

/// The distinct IPs of a pod (`podIPs`, and `podIP`), each once, without
/// allocating.
pub(super) fn pod_ips<'a>(pod: PodView<'a>) -> impl Iterator<Item = &'a str> + 'a {
    let all = move || pod.pod_ips().chain(pod.pod_ip());
    all()
        .enumerate()
        .filter(move |&(i, ip)| !ip.is_empty() && !all().take(i).any(|o| o == ip))
        .map(|(_, ip)| ip)
}

/// Counts (`add`) or uncounts a pod's IPs in `counts` (the cluster's
/// pods by IP hash).
pub(super) fn count_ips(counts: &mut FxMap<u64, u32>, pod: PodView<'_>, add: bool) {
    for ip in pod_ips(pod) {
        let h = ip_hash(ip);
        if add {
            *counts.entry(h).or_default() += 1;
        } else if let Some(n) = counts.get_mut(&h) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&h);
            }
        }
    }
}

/// An address as stored: an `EndpointAddress`, or the record of a compact
/// Endpoints object (`stored.rs`). `own` is the namespace of the Endpoints
/// object holding it (a record's target is in that namespace).
pub(super) trait AddressLike: Sized {
    /// `ip`.
    fn ip(&self) -> &str;
    /// `targetRef.uid`.
    fn uid(&self) -> Option<&str>;
    /// The position index's tag of the target.
    fn tag(&self) -> u32;
    /// Is the target the pod `ns/name`?
    fn targets(&self, own: &str, ns: &str, name: &str) -> bool;
    /// Is this the address `v`?
    fn is_view(&self, v: &AddressView<'_>, own: &str) -> bool;
    /// The address `v`, if this form holds it.
    fn from_view(v: &AddressView<'_>, own: &str) -> Option<Self>;
}

impl AddressLike for EndpointAddress {
    fn ip(&self) -> &str {
        &self.ip
    }

    fn uid(&self) -> Option<&str> {
        self.target_ref.as_ref().and_then(|r| r.uid.as_deref())
    }

    fn tag(&self) -> u32 {
        super::positions::address_tag(self)
    }

    fn targets(&self, _own: &str, ns: &str, name: &str) -> bool {
        self.target_ref.as_ref().is_some_and(|r| {
            r.kind == "Pod" && r.name == name && r.namespace.as_deref() == Some(ns)
        })
    }

    fn is_view(&self, v: &AddressView<'_>, _own: &str) -> bool {
        v.is(self)
    }

    fn from_view(v: &AddressView<'_>, _own: &str) -> Option<Self> {
        Some(AddressView::to_owned(*v))
    }
}

impl AddressLike for Address {
    fn ip(&self) -> &str {
        Address::ip(self)
    }

    fn uid(&self) -> Option<&str> {
        Address::uid(self)
    }

    fn tag(&self) -> u32 {
        Address::tag(self)
    }

    fn targets(&self, own: &str, ns: &str, name: &str) -> bool {
        own == ns && self.name() == name
    }

    fn is_view(&self, v: &AddressView<'_>, own: &str) -> bool {
        v.namespace == Some(own)
            && self.ip() == v.ip
            && self.hostname() == v.hostname
            && self.node_name() == Some(v.node_name)
            && self.name() == v.name
            && Address::uid(self) == v.uid.as_deref()
    }

    fn from_view(v: &AddressView<'_>, own: &str) -> Option<Self> {
        if v.namespace != Some(own) {
            return None;
        }
        Address::new(
            v.ip,
            own,
            v.name,
            v.uid.as_deref(),
            v.hostname,
            Some(v.node_name),
        )
    }
}

/// The address of a pod for a Service, borrowed from the pod.
#[derive(Debug, Clone, Copy)]
pub(super) struct AddressView<'a> {
    ip: &'a str,
    hostname: Option<&'a str>,
    node_name: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    uid: Option<UidText<'a>>,
}

impl AddressView<'_> {
    fn to_owned(self) -> EndpointAddress {
        EndpointAddress {
            ip: self.ip.to_owned(),
            hostname: self.hostname.map(str::to_owned),
            node_name: Some(self.node_name.to_owned()),
            target_ref: Some(ObjectReference {
                kind: "Pod".to_owned(),
                namespace: self.namespace.map(str::to_owned),
                name: self.name.to_owned(),
                uid: self.uid.as_deref().map(str::to_owned),
                ..ObjectReference::default()
            }),
        }
    }

    /// Is `a` this address (`to_owned() == *a`)?
    fn is(&self, a: &EndpointAddress) -> bool {
        a.ip == self.ip
            && a.hostname.as_deref() == self.hostname
            && a.node_name.as_deref() == Some(self.node_name)
            && a.target_ref.as_ref().is_some_and(|r| {
                r.kind == "Pod"
                    && r.namespace.as_deref() == self.namespace
                    && r.name == self.name
                    && r.uid.as_deref() == self.uid.as_deref()
                    && r.api_version.is_none()
                    && r.resource_version.is_none()
            })
    }

    /// [`cmp_address`] of `a` against this address.
    fn cmp_with(&self, a: &impl AddressLike) -> std::cmp::Ordering {
        a.ip()
            .cmp(self.ip)
            .then_with(|| a.uid().cmp(&self.uid.as_deref()))
    }

    fn has_uid(&self) -> bool {
        self.uid.as_deref().is_some_and(|u| !u.is_empty())
    }
}

/// Upstream `podToEndpointAddressForService`: the pod's address of the
/// Service's first family, borrowed from the pod.
fn pod_address_view<'a>(svc: &Service, pod: PodView<'a>) -> Option<AddressView<'a>> {
    let v6 = match svc.spec.ip_families.first() {
        Some(f) => *f == IPFamily::IPv6,
        None => match svc.spec.cluster_ip.as_deref() {
            Some(ip) if !ip.is_empty() && ip != "None" => is_ipv6(ip),
            _ => pod.pod_ip().is_some_and(is_ipv6),
        },
    };
    let ip = if pod.pod_ips_empty() {
        pod.pod_ip().filter(|ip| is_ipv6(ip) == v6)
    } else {
        pod.pod_ips().find(|ip| is_ipv6(ip) == v6)
    }?;
    let hostname = endpointslice::endpoint_hostname(pod, svc);
    Some(AddressView {
        ip,
        hostname,
        node_name: pod.node_name().unwrap_or_default(),
        namespace: pod.namespace().as_deref(),
        name: pod.name(),
        uid: pod.uid(),
    })
}

/// The subsets the controller computes for `svc` over its selected
/// `pods`, repacked (before truncation).
pub(crate) fn subsets(svc: &Service, pods: &[PodView<'_>]) -> Vec<EndpointSubset> {
    let entries: Vec<(EndpointAddress, bool, Vec<EndpointPort>)> =
        pods.iter().filter_map(|pod| pod_entry(svc, *pod)).collect();
    if let Some(first) = entries.first()
        && entries.iter().all(|e| e.2 == first.2)
    {
        return one_port_list(entries);
    }
    let mut out = Vec::new();
    for (address, ready, ports) in entries {
        let subset = |ports: Vec<EndpointPort>| {
            if ready {
                EndpointSubset {
                    addresses: vec![address.clone()],
                    ports,
                    ..EndpointSubset::default()
                }
            } else {
                EndpointSubset {
                    not_ready_addresses: vec![address.clone()],
                    ports,
                    ..EndpointSubset::default()
                }
            }
        };
        if ports.is_empty() {
            out.push(subset(Vec::new()));
        }
        for port in ports {
            out.push(subset(vec![port]));
        }
    }
    repack(out)
}

/// [`repack`] when every pod serves the same port list: every port then
/// has the same address set, so the result is one subset holding every
/// distinct address (by IP and uid; the first seen kept, not ready if any
/// duplicate is not ready) with the distinct ports, computed without the
/// per-port maps.
fn one_port_list(entries: Vec<(EndpointAddress, bool, Vec<EndpointPort>)>) -> Vec<EndpointSubset> {
    let ports = distinct_ports(
        entries
            .first()
            .into_iter()
            .flat_map(|e| e.2.iter().cloned()),
    );
    // (address, ready, first-seen position), sorted by address order; the
    // stable sort keeps duplicates in first-seen order.
    let mut all: Vec<(EndpointAddress, bool)> =
        entries.into_iter().map(|(a, r, _)| (a, r)).collect();
    crate::order::sort_by(&mut all, |x, y| cmp_address(&x.0, &y.0));
    let (mut ready, not_ready) = merge_duplicates(all, |a, b| cmp_address(a, b).is_eq());
    if ready.is_empty() && not_ready.is_empty() {
        return Vec::new();
    }
    ready.shrink_to_fit();
    vec![EndpointSubset {
        addresses: ready,
        not_ready_addresses: not_ready,
        ports,
    }]
}

/// [`address_order`] without building keys.
fn cmp_address(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    fn uid(x: &EndpointAddress) -> Option<&str> {
        x.target_ref.as_ref().and_then(|r| r.uid.as_deref())
    }
    a.ip.cmp(&b.ip).then_with(|| uid(a).cmp(&uid(b)))
}

/// What one pod contributes: its address, whether it is ready, and the
/// ports it serves (empty: a headless Service without ports); `None` when
/// it contributes nothing.
fn pod_entry(
    svc: &Service,
    pod: PodView<'_>,
) -> Option<(EndpointAddress, bool, Vec<EndpointPort>)> {
    let (address, ready) = pod_entry_view(svc, pod)?;
    let ports = endpointslice::resolved_ports(svc, pod)
        .map(|(sp, port)| endpoint_port(sp, port))
        .collect();
    Some((address.to_owned(), ready, ports))
}

/// The `EndpointPort` a Service port gives where it resolves to `port`
/// on a pod.
fn endpoint_port(sp: &crate::api::ServicePort, port: i32) -> EndpointPort {
    EndpointPort {
        name: sp.name.clone(),
        port,
        protocol: sp.protocol,
        app_protocol: sp.app_protocol.clone(),
    }
}

/// The ports of a one-port-list subset: those above 0, in port order,
/// each once.
fn distinct_ports(ports: impl Iterator<Item = EndpointPort>) -> Vec<EndpointPort> {
    let mut ports: Vec<EndpointPort> = ports.filter(|p| p.port > 0).collect();
    crate::order::sort_by_key(&mut ports, port_order);
    ports.dedup_by(|a, b| port_order(a) == port_order(b));
    ports
}

/// [`pod_entry`] without building the address or the ports: the address
/// borrowed and whether it is ready (the ports are [`endpointslice::resolved_ports`]).
fn pod_entry_view<'a>(svc: &Service, pod: PodView<'a>) -> Option<(AddressView<'a>, bool)> {
    let tolerate = svc.spec.publish_not_ready_addresses.unwrap_or(false);
    if !should_be_in_endpoints(pod, tolerate) {
        return None;
    }
    let address = pod_address_view(svc, pod)?;
    let ready = tolerate || pod.is_ready();
    if svc.spec.ports.is_empty() {
        let headless = svc.spec.cluster_ip.as_deref() == Some("None");
        return headless.then_some((address, ready));
    }
    endpointslice::resolved_ports(svc, pod)
        .next()
        .is_some()
        .then_some((address, ready))
}

/// Is `list` the pod's resolved ports sorted by [`port_order`] (what the
/// patch compares), checked without building them?
fn ports_are(svc: &Service, pod: PodView<'_>, list: &[EndpointPort]) -> bool {
    let cmp = |a: &EndpointPort, b: &EndpointPort| {
        a.name
            .cmp(&b.name)
            .then(a.port.cmp(&b.port))
            .then_with(|| {
                let p = |x: &EndpointPort| x.protocol.map_or("", |p| p.as_str());
                p(a).cmp(p(b))
            })
            .then_with(|| a.app_protocol.cmp(&b.app_protocol))
    };
    list.is_sorted_by(|a, b| cmp(a, b).is_le())
        && endpointslice::same_port_multiset(
            svc,
            pod,
            list,
            |(a, na), (b, nb)| {
                a.name == b.name
                    && na == nb
                    && a.protocol == b.protocol
                    && a.app_protocol == b.app_protocol
            },
            |e, (s, port)| {
                e.name == s.name
                    && e.port == port
                    && e.protocol == s.protocol
                    && e.app_protocol == s.app_protocol
            },
        )
}

/// The labels the controller writes: the Service's, and the headless
/// label for a Service without a cluster IP.
fn wanted_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone();
    let ip_set =
        matches!(svc.spec.cluster_ip.as_deref(), Some(ip) if !ip.is_empty() && ip != "None");
    if ip_set {
        labels.remove(HEADLESS_LABEL);
    } else {
        labels.insert(HEADLESS_LABEL.to_owned(), String::new());
    }
    labels
}

/// An in-place edit of an Endpoints object (see [`patch_for_pod`]), over
/// addresses of form `A`.
#[derive(Debug)]
pub(super) enum Patch<A> {
    /// The object stays as it is.
    Same,
    /// Remove these addresses (`true`: from `addresses`, `false`: from
    /// `notReadyAddresses`; indexes ascending), then insert one (list,
    /// index after the removals, address); an emptied subset goes.
    Edit {
        removed: Vec<(bool, usize)>,
        insert: Option<(bool, usize, Insert<A>)>,
    },
}

/// The address a [`Patch`] inserts.
#[derive(Debug)]
pub(super) enum Insert<A> {
    /// A new address.
    New(Box<A>),
    /// The one removed address, unchanged (a readiness flip moves it).
    Moved,
}

impl<A: AddressLike> Patch<A> {
    /// Applies the edit to the one subset's lists and to its address tags;
    /// `false` when the subset is left empty (the caller drops it; its
    /// tags are then void).
    pub(super) fn apply(
        self,
        ready_list: &mut Vec<A>,
        not_ready_list: &mut Vec<A>,
        tags: &mut AddressTags,
    ) -> bool {
        let Patch::Edit { removed, insert } = self else {
            return true;
        };
        let mut last = None;
        for &(ready, i) in removed.iter().rev() {
            let list = if ready {
                &mut *ready_list
            } else {
                &mut *not_ready_list
            };
            if i < list.len() {
                let gone = list.remove(i);
                tags.without_uid = tags.without_uid.saturating_sub(u32::from(!has_uid(&gone)));
                let t = tags.list_mut(ready);
                if i < t.len() {
                    t.remove(i);
                }
                last = Some(gone);
            }
        }
        let insert = insert.and_then(|(ready, at, what)| match what {
            Insert::New(address) => Some((ready, at, *address)),
            Insert::Moved => last.map(|a| (ready, at, a)),
        });
        if let Some((ready, at, address)) = insert {
            let list = if ready {
                &mut *ready_list
            } else {
                &mut *not_ready_list
            };
            let at = at.min(list.len());
            tags.without_uid += u32::from(!has_uid(&address));
            let t = tags.list_mut(ready);
            t.insert(at.min(t.len()), address.tag());
            list.insert(at, address);
        }
        !(ready_list.is_empty() && not_ready_list.is_empty())
    }
}

/// The parts of a stored Endpoints object of one subset that the one-pod
/// patch reads, over addresses of form `A`.
#[derive(Debug, Clone, Copy)]
pub(super) struct OneSubset<'a, A> {
    pub(super) metadata: MetaRef<'a>,
    pub(super) ready: &'a [A],
    pub(super) not_ready: &'a [A],
    pub(super) ports: &'a [EndpointPort],
}

/// The one-pod fast path: when the current object is one subset that the
/// changed pod serves (or leaves) with exactly that subset's ports, the
/// pod's address is replaced in place; the result is the full
/// computation's (every address serves the same ports, so the repacked
/// form stays one subset). `others(ip)` counts the pods other than the
/// changed one that have this IP: an address without a uid is patched only
/// when no other pod shares its IP (addresses are deduplicated by IP and
/// uid, which only the full computation sorts out), and a pod with no
/// address of its own only when every address has a uid. `None`: run the
/// full computation.
#[allow(clippy::too_many_arguments)]
pub(super) fn patch_for_pod<A: AddressLike>(
    svc: &Service,
    current: OneSubset<'_, A>,
    tags: &AddressTags,
    pod_ns: &str,
    pod_name: &str,
    pod: Option<PodView<'_>>,
    others: impl Fn(&str) -> u32,
) -> Option<Patch<A>> {
    let own = current.metadata.namespace().unwrap_or_default();
    let (addresses, not_ready_addresses) = (current.ready, current.not_ready);
    if tags.ready.len() != addresses.len() || tags.not_ready.len() != not_ready_addresses.len() {
        return None;
    }
    let m = current.metadata;
    if m.annotation(ENDPOINTS_OVER_CAPACITY_ANNOTATION).is_some()
        || m.annotation(ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION)
            .is_some()
        || !labels_as_wanted(m, svc)
    {
        return None;
    }
    // The pod's addresses: among those tagged as the pod's.
    let tag = pod_tag(Some(pod_ns), pod_name);
    let mut removed: Vec<(bool, usize)> = Vec::new();
    for (ready, list) in [(true, addresses), (false, not_ready_addresses)] {
        for i in Positions::matching(tags.list(ready), tag) {
            let addr = &list[i];
            if addr.targets(own, pod_ns, pod_name) {
                if !has_uid(addr) && others(addr.ip()) > 0 {
                    return None;
                }
                removed.push((ready, i));
            }
        }
    }
    // A pod without an address of its own may have shared one (same IP,
    // no uid) that it no longer shares: only the full computation knows.
    if removed.is_empty() && tags.without_uid > 0 {
        return None;
    }
    let gone = |ready: bool, i: usize| removed.contains(&(ready, i));
    let mut insert = None;
    if let Some(p) = pod
        && let Some((address, ready)) = pod_entry_view(svc, p)
    {
        if !address.has_uid() && others(address.ip) > 0 {
            return None;
        }
        if !ports_are(svc, p, current.ports) {
            return None;
        }
        // Both lists are in address order (the full computation sorts
        // them, and this patch keeps them so): the addresses equal to the
        // pod's are one run, starting where a binary search puts the pod.
        let start = |list: &[A]| list.partition_point(|a| address.cmp_with(a).is_lt());
        let (ready_at, not_ready_at) = (start(addresses), start(not_ready_addresses));
        let clash = |list: &[A], r: bool, lo: usize| {
            list[lo..]
                .iter()
                .take_while(|a| address.cmp_with(*a).is_eq())
                .enumerate()
                .any(|(i, _)| !gone(r, lo + i))
        };
        if clash(addresses, true, ready_at) || clash(not_ready_addresses, false, not_ready_at) {
            return None;
        }
        let raw = if ready { ready_at } else { not_ready_at };
        let at = raw
            - removed
                .iter()
                .filter(|&&(r, i)| r == ready && i < raw)
                .count();
        insert = Some((ready, at, address));
    }
    let left = addresses.len() + not_ready_addresses.len() - removed.len();
    if left + usize::from(insert.is_some()) > MAX_ENDPOINTS_ADDRESSES {
        return None;
    }
    // Unchanged: the pod's one address put back where it was, or no
    // address before or after (and the subset not emptied).
    let was = |r: bool, i: usize| {
        if r {
            addresses.get(i)
        } else {
            not_ready_addresses.get(i)
        }
    };
    let same = match (removed.as_slice(), &insert) {
        ([(r, i)], Some((nr, at, addr))) => {
            r == nr && i == at && was(*r, *i).is_some_and(|a| a.is_view(addr, own))
        }
        ([], None) => left > 0,
        _ => false,
    };
    if same {
        return Some(Patch::Same);
    }
    // The one removed address, unchanged, moves (a readiness flip).
    let insert = match insert {
        None => None,
        Some((ready, at, addr)) => {
            let moved = matches!(removed.as_slice(),
                [(r, i)] if was(*r, *i).is_some_and(|a| a.is_view(&addr, own)));
            let what = if moved {
                Insert::Moved
            } else {
                Insert::New(Box::new(A::from_view(&addr, own)?))
            };
            Some((ready, at, what))
        }
    };
    Some(Patch::Edit { removed, insert })
}

/// A [`Patch`] of a stored Endpoints object, in the object's form.
#[derive(Debug)]
pub(super) enum StoredPatch {
    /// Of an object stored as given.
    Object(Patch<EndpointAddress>),
    /// Of a compact object.
    Compact(Patch<Address>),
}

/// [`patch_for_pod`] over a stored Endpoints object of one subset, in
/// either form.
fn patch_stored(
    svc: &Service,
    current: &Stored,
    tags: &AddressTags,
    pod_ns: &str,
    pod_name: &str,
    pod: Option<PodView<'_>>,
    others: impl Fn(&str) -> u32,
) -> Option<StoredPatch> {
    match current {
        Stored::Object(o) => {
            let Object::Endpoints(e) = &**o else {
                return None;
            };
            let [s] = e.subsets.as_slice() else {
                return None;
            };
            let one = OneSubset {
                metadata: MetaRef::Given(&e.metadata),
                ready: &s.addresses,
                not_ready: &s.not_ready_addresses,
                ports: &s.ports,
            };
            patch_for_pod(svc, one, tags, pod_ns, pod_name, pod, others).map(StoredPatch::Object)
        }
        Stored::Endpoints(e) => {
            let [s] = e.subsets.as_slice() else {
                return None;
            };
            let one = OneSubset {
                metadata: MetaRef::Compact(&e.metadata),
                ready: &s.ready,
                not_ready: &s.not_ready,
                ports: &s.ports,
            };
            patch_for_pod(svc, one, tags, pod_ns, pod_name, pod, others).map(StoredPatch::Compact)
        }
        Stored::Slice(_) | Stored::Pod(_) => None,
    }
}

/// The metadata of a stored Endpoints object, in either form.
#[derive(Debug, Clone, Copy)]
pub(super) enum MetaRef<'a> {
    /// Of an object stored as given.
    Given(&'a ObjectMeta),
    /// Of a compact object.
    Compact(&'a EndpointsMeta),
}

impl<'a> MetaRef<'a> {
    /// `namespace`.
    fn namespace(self) -> Option<&'a str> {
        match self {
            MetaRef::Given(m) => m.namespace.as_deref(),
            MetaRef::Compact(m) => m.namespace(),
        }
    }

    /// The value of annotation `key`.
    fn annotation(self, key: &str) -> Option<&'a str> {
        match self {
            MetaRef::Given(m) => m.annotations.get(key).map(String::as_str),
            MetaRef::Compact(m) => m.annotation(key),
        }
    }

    /// [`compare_labels`] of these labels and `theirs`.
    fn compare_labels<'b>(
        self,
        theirs: impl Iterator<Item = (&'b str, &'b str)>,
    ) -> (bool, Option<&'a str>) {
        let map = |m: &'a BTreeMap<String, String>| m.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        match self {
            MetaRef::Given(m) => compare_labels(map(&m.labels), theirs),
            MetaRef::Compact(m) => match m.label_form() {
                LabelForm::Map(m) => compare_labels(map(m), theirs),
                LabelForm::Pairs(p) => compare_labels(p.iter().map(|(k, v)| (&**k, &**v)), theirs),
            },
        }
    }

    /// The metadata, built.
    fn to_meta(self) -> ObjectMeta {
        match self {
            MetaRef::Given(m) => m.clone(),
            MetaRef::Compact(m) => m.to_meta(),
        }
    }
}

/// `labels == wanted_labels(svc)`, without building the wanted map.
fn labels_as_wanted(labels: MetaRef<'_>, svc: &Service) -> bool {
    let ip_set =
        matches!(svc.spec.cluster_ip.as_deref(), Some(ip) if !ip.is_empty() && ip != "None");
    let theirs = svc
        .metadata
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| *k != HEADLESS_LABEL);
    let (same, headless) = labels.compare_labels(theirs);
    same && match headless {
        Some(v) => !ip_set && v.is_empty(),
        None => ip_set,
    }
}

/// Walks `mine` (labels in key order) beside `theirs`, in one pass: are
/// `mine` but the headless label the pairs of `theirs`, in order, and
/// what is the headless label's value?
fn compare_labels<'a, 'b>(
    mine: impl Iterator<Item = (&'a str, &'a str)>,
    mut theirs: impl Iterator<Item = (&'b str, &'b str)>,
) -> (bool, Option<&'a str>) {
    let mut headless = None;
    for (k, v) in mine {
        if k == HEADLESS_LABEL {
            headless = Some(v);
            continue;
        }
        match theirs.next() {
            Some((tk, tv)) if tk == k && tv == v => {}
            _ => return (false, headless),
        }
    }
    (theirs.next().is_none(), headless)
}

type PortOrder = (String, i32, &'static str, Option<String>);

/// One port (`None`: the no-ports sentinel) and its addresses: address id
/// → ready.
type PortAddresses = (Option<EndpointPort>, BTreeMap<usize, bool>);

fn port_order(p: &EndpointPort) -> PortOrder {
    (
        p.name.clone(),
        p.port,
        p.protocol.map_or("", |p| p.as_str()),
        p.app_protocol.clone(),
    )
}

/// Upstream `LessEndpointAddress`: by IP (bytes), then by target uid.
fn address_order(a: &EndpointAddress) -> (String, Option<String>) {
    (
        a.ip.clone(),
        a.target_ref.as_ref().and_then(|r| r.uid.clone()),
    )
}

/// Upstream `RepackSubsets`: addresses (deduplicated by IP and uid) mapped
/// to the ports they serve, then one subset per distinct set of (address,
/// ready) pairs with every port that set serves.
///
/// ```
/// use svcroute::api::corev1::EndpointPort;
/// use svcroute::api::{EndpointAddress, EndpointSubset};
/// # use svcroute::cluster::Cluster;
/// let a = |ip: &str| EndpointAddress { ip: ip.into(), ..Default::default() };
/// let p = |n: i32| EndpointPort { port: n, ..Default::default() };
/// let subsets = vec![
///     EndpointSubset { addresses: vec![a("10.0.0.2")], ports: vec![p(80)], ..Default::default() },
///     EndpointSubset { addresses: vec![a("10.0.0.1")], ports: vec![p(80)], ..Default::default() },
///     EndpointSubset { addresses: vec![a("10.0.0.1")], ports: vec![p(81)], ..Default::default() },
/// ];
/// let packed = svcroute::cluster::repack_subsets(subsets);
/// assert_eq!(packed.len(), 2); // {.1, .2}:80 and {.1}:81
/// assert_eq!(packed[0].addresses.len() + packed[1].addresses.len(), 3);
/// ```
pub fn repack_subsets(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    repack(subsets)
}

fn repack(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    // Every distinct address (by IP and uid), in first-seen order.
    let mut addresses: Vec<EndpointAddress> = Vec::new();
    let mut address_ids: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    // Port (None = the no-ports sentinel) → address id → ready.
    let mut by_port: BTreeMap<Option<PortOrder>, PortAddresses> = BTreeMap::new();
    for subset in &subsets {
        let ports: Vec<Option<&EndpointPort>> = if subset.ports.is_empty() {
            vec![None]
        } else {
            subset.ports.iter().map(Some).collect()
        };
        for port in ports {
            let entry = by_port
                .entry(port.map(port_order))
                .or_insert_with(|| (port.cloned(), BTreeMap::new()));
            let listed = subset
                .addresses
                .iter()
                .map(|a| (a, true))
                .chain(subset.not_ready_addresses.iter().map(|a| (a, false)));
            for (address, ready) in listed {
                let key = address_order(address);
                let id = *address_ids.entry(key).or_insert_with(|| {
                    addresses.push(address.clone());
                    addresses.len() - 1
                });
                // Not ready trumps ready.
                let was = entry.1.entry(id).or_insert(ready);
                *was = *was && ready;
            }
        }
    }
    // Address sets → ports.
    let mut groups: BTreeMap<Vec<(usize, bool)>, Vec<EndpointPort>> = BTreeMap::new();
    for (port, set) in by_port.into_values() {
        let key: Vec<(usize, bool)> = set.into_iter().collect();
        let ports = groups.entry(key).or_default();
        if let Some(p) = port.filter(|p| p.port > 0) {
            ports.push(p);
        }
    }
    let mut out: Vec<EndpointSubset> = groups
        .into_iter()
        .map(|(set, mut ports)| {
            let mut ready = Vec::new();
            let mut not_ready = Vec::new();
            for (id, r) in set {
                let a = addresses[id].clone();
                if r {
                    ready.push(a);
                } else {
                    not_ready.push(a);
                }
            }
            crate::order::sort_by_key(&mut ready, address_order);
            crate::order::sort_by_key(&mut not_ready, address_order);
            crate::order::sort_by_key(&mut ports, port_order);
            EndpointSubset {
                addresses: ready,
                not_ready_addresses: not_ready,
                ports,
            }
        })
        .collect();
    crate::order::sort_by_key(&mut out, |s| {
        (
            s.addresses.iter().map(address_order).collect::<Vec<_>>(),
            s.not_ready_addresses
                .iter()
                .map(address_order)
                .collect::<Vec<_>>(),
            s.ports.iter().map(port_order).collect::<Vec<_>>(),
        )
    });
    out
}

/// Upstream `truncateEndpoints`: keeps at most [`MAX_ENDPOINTS_ADDRESSES`]
/// addresses, spread over the subsets in proportion (rounded up, the last
/// subsets getting what is left), ready addresses first; `true` when it
/// cut.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    truncate_lists(subsets, |s| (&mut s.addresses, &mut s.not_ready_addresses))
}

/// [`truncate`] over subsets of any form: `lists` gives a subset's ready
/// and not-ready addresses.
fn truncate_lists<S, A>(
    subsets: &mut [S],
    mut lists: impl FnMut(&mut S) -> (&mut Vec<A>, &mut Vec<A>),
) -> bool {
    let (mut ready, mut not_ready) = (0, 0);
    for s in subsets.iter_mut() {
        let (r, n) = lists(s);
        ready += r.len();
        not_ready += n.len();
    }
    if ready + not_ready <= MAX_ENDPOINTS_ADDRESSES {
        return false;
    }
    let truncate_ready = ready > MAX_ENDPOINTS_ADDRESSES;
    let (max, total) = if truncate_ready {
        (MAX_ENDPOINTS_ADDRESSES, ready)
    } else {
        (MAX_ENDPOINTS_ADDRESSES - ready, not_ready)
    };
    let mut can_be_added = max;
    for subset in subsets.iter_mut() {
        let (addresses, not_ready_addresses) = lists(subset);
        let in_subset = if truncate_ready {
            addresses.len()
        } else {
            not_ready_addresses.len()
        };
        // ceil(in_subset / total * max), in integers.
        let share = (in_subset * max).div_ceil(total.max(1));
        let to_add = share.min(can_be_added);
        if truncate_ready {
            addresses.truncate(to_add);
            not_ready_addresses.clear();
            can_be_added -= addresses.len();
        } else {
            not_ready_addresses.truncate(to_add);
            can_be_added -= not_ready_addresses.len();
        }
    }
    true
}

/// The Endpoints object the controller writes for `svc` (selector set,
/// not ExternalName) over its selected `pods`, given the `current` one;
/// `None` when the current one is left as it is (upstream's no-op check).
pub(crate) fn desired(
    svc: &Service,
    pods: &[PodView<'_>],
    current: Option<&Endpoints>,
) -> Option<Endpoints> {
    let mut subsets = subsets(svc, pods);
    if let Some(cur) = current {
        let count: usize = cur
            .subsets
            .iter()
            .map(|s| s.addresses.len() + s.not_ready_addresses.len())
            .sum();
        if cur.subsets == subsets && metadata_kept(svc, MetaRef::Given(&cur.metadata), count) {
            return None;
        }
    }
    let truncated = truncate(&mut subsets);
    Some(Endpoints {
        metadata: written_metadata(svc, current.map(|c| MetaRef::Given(&c.metadata)), truncated),
        subsets,
    })
}

/// Upstream's no-op check, but for the subsets: the current object's
/// labels are the Service's (the headless label aside) and its `count`
/// addresses were not truncated.
fn metadata_kept(svc: &Service, current: MetaRef<'_>, count: usize) -> bool {
    let capacity_ok = count <= MAX_ENDPOINTS_ADDRESSES
        && current
            .annotation(ENDPOINTS_OVER_CAPACITY_ANNOTATION)
            .is_none();
    let svc_labels = svc
        .metadata
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    capacity_ok && current.compare_labels(svc_labels).0
}

/// The metadata the controller writes: the current object's (or the
/// Service's name and namespace), without the trigger-time annotation,
/// with the over-capacity one when it `truncated`, and the labels it
/// wants.
fn written_metadata(svc: &Service, current: Option<MetaRef<'_>>, truncated: bool) -> ObjectMeta {
    let mut metadata = match current {
        Some(cur) => cur.to_meta(),
        None => ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            ..ObjectMeta::default()
        },
    };
    metadata
        .annotations
        .remove(ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION);
    if truncated {
        metadata.annotations.insert(
            ENDPOINTS_OVER_CAPACITY_ANNOTATION.to_owned(),
            "truncated".to_owned(),
        );
    } else {
        metadata
            .annotations
            .remove(ENDPOINTS_OVER_CAPACITY_ANNOTATION);
    }
    metadata.labels = wanted_labels(svc);
    metadata
}

/// What the controller writes for a Service: the compact form computed
/// straight from the pods, or the object the full computation built.
enum Write {
    Compact(Box<super::stored::CompactEndpoints>),
    Object(Box<Endpoints>),
}

fn ip_hash(ip: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::table_hash::TableHasher::default();
    ip.hash(&mut h);
    h.finish()
}

impl Cluster {
    /// The Endpoints controller for one marked Service.
    pub(super) fn reconcile_endpoints(
        &mut self,
        ns: &str,
        name: &str,
        trigger: &Trigger,
        t: &mut Tracker,
    ) {
        if !self.config.endpoints_controller || !self.config.endpoint_slice_controller {
            return;
        }
        let key = |kind| ObjectKey {
            kind,
            namespace: Some(ns.to_owned()),
            name: name.to_owned(),
        };
        let write = {
            let (eps_id, current) = match self.lookup_stored(Kind::Endpoints, Some(ns), name) {
                Some((id, e)) if e.kind() == Kind::Endpoints => (Some(id), Some(e)),
                _ => (None, None),
            };
            match self.lookup(Kind::Service, Some(ns), name) {
                None => {
                    // Deleted with its Service (only when the Service went
                    // in this call: Endpoints written without a Service
                    // are left alone).
                    if current.is_some() && t.existed(&key(Kind::Service)) == Some(true) {
                        let mut scratch = Tracker {
                            internal: true,
                            ..Tracker::default()
                        };
                        self.remove(&key(Kind::Endpoints), &mut scratch);
                        t.touched.absorb(scratch.touched);
                    }
                    return;
                }
                Some((sid, Object::Service(svc))) => {
                    if svc.service_type() == ServiceType::ExternalName
                        || svc.spec.selector.as_ref().is_none_or(BTreeMap::is_empty)
                    {
                        return;
                    }
                    let tags = eps_id.and_then(|id| self.positions.endpoints(id));
                    let patched = match (trigger, current, tags) {
                        (Trigger::Pod(pod), Some(cur), Some(tags)) if self.fast_path => {
                            let pod_ns = pod.namespace.as_deref().unwrap_or_default();
                            let pod_name = pod.name.as_str();
                            let stored = self.lookup_pod_key(&pod.key, pod.pod);
                            let mine = stored.map(|(_, p)| p);
                            let pod = match stored {
                                Some((pid, p)) if self.selects(sid, pid) => Some(p),
                                _ => None,
                            };
                            let others = |ip: &str| {
                                self.pods_with_ip(ip).saturating_sub(u32::from(
                                    mine.is_some_and(|p| pod_ips(p).any(|m| m == ip)),
                                ))
                            };
                            patch_stored(svc, cur, tags, pod_ns, pod_name, pod, others)
                        }
                        _ => None,
                    };
                    match patched {
                        Some(StoredPatch::Object(Patch::Same))
                        | Some(StoredPatch::Compact(Patch::Same)) => return,
                        Some(patch) => {
                            if let Some(id) = eps_id {
                                self.edit_endpoints(id, t, patch);
                            }
                            return;
                        }
                        None => {}
                    }
                    let mut pods: Vec<PodView<'_>> = self
                        .selected_pods(sid)
                        .into_iter()
                        .filter_map(|pid| self.pod_view(pid))
                        .collect();
                    crate::order::sort_by(&mut pods, |a, b| a.name().cmp(b.name()));
                    match records::desired_compact(svc, &pods, current) {
                        Some(Outcome::Keep) => return,
                        Some(Outcome::Write(c)) => Write::Compact(c),
                        None => {
                            let current = current.and_then(Stored::endpoints);
                            match desired(svc, &pods, current.as_deref()) {
                                Some(e) => Write::Object(Box::new(e)),
                                None => return,
                            }
                        }
                    }
                }
                Some(_) => return,
            }
        };
        match write {
            Write::Compact(c) => self.write_compact_endpoints(c, t),
            Write::Object(e) => self.write_internal(Object::Endpoints(*e), t),
        }
    }

    /// Patches the stored Endpoints object in place (its labels, and so
    /// its indexes, stay) and its address tags, marking it updated.
    fn edit_endpoints(&mut self, id: super::ObjId, t: &mut Tracker, patch: StoredPatch) {
        if let Some(Some(slot)) = self.slots.get_mut(id as usize) {
            let mut scratch = AddressTags::default();
            let (tags, kept) = match self.positions.endpoints_mut(id) {
                Some(tags) => (tags, true),
                None => (&mut scratch, false),
            };
            let one_left = match (&mut slot.object, patch) {
                (Stored::Object(o), StoredPatch::Object(p)) => {
                    let Object::Endpoints(e) = &mut **o else {
                        return;
                    };
                    match e.subsets.first_mut() {
                        Some(s) => {
                            let left = p.apply(&mut s.addresses, &mut s.not_ready_addresses, tags);
                            if !left {
                                e.subsets.clear();
                            }
                            left
                        }
                        None => false,
                    }
                }
                (Stored::Endpoints(e), StoredPatch::Compact(p)) => match e.subsets.first_mut() {
                    Some(s) => {
                        let left = p.apply(&mut s.ready, &mut s.not_ready, tags);
                        if !left {
                            e.subsets.clear();
                        }
                        left
                    }
                    None => false,
                },
                _ => return,
            };
            if !(one_left && kept) {
                self.positions.index_endpoints(id, &slot.object);
            }
            t.touched.note(&slot.key, true);
        }
    }

    /// How many stored pods have this IP (an upper bound: IPs are counted
    /// by hash).
    pub(super) fn pods_with_ip(&self, ip: &str) -> u32 {
        self.ip_counts.get(&ip_hash(ip)).copied().unwrap_or(0)
    }

    /// The Endpoints object of a Service (the controller's, or the user's
    /// for a Service without a selector), as `kubectl get endpoints NAME`
    /// shows it.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let objects: Vec<Object> = serde_json::from_str(r#"[
    ///   {"apiVersion": "v1", "kind": "Pod",
    ///    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
    ///    "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
    ///    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}],
    ///               "conditions": [{"type": "Ready", "status": "True"}]}},
    ///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
    ///    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}
    /// ]"#).unwrap();
    /// c.apply_batch(objects)?;
    /// // The object is built on read (a `Cow`): the controller's
    /// // Endpoints objects are stored compact.
    /// let eps = c.endpoints("shop", "web").unwrap();
    /// assert_eq!(eps.subsets[0].addresses[0].ip, "10.244.0.5");
    /// assert_eq!(eps.subsets[0].ports[0].port, 8080);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn endpoints(&self, namespace: &str, service: &str) -> Option<Cow<'_, Endpoints>> {
        self.lookup_stored(Kind::Endpoints, Some(namespace), service)
            .and_then(|(_, e)| e.endpoints())
    }
}

/// Addresses sorted so that duplicates (`same`) are adjacent, each with
/// its readiness, merged as upstream repacks a subset: one of each (the
/// first seen), not ready if any duplicate is not ready; split into the
/// ready and the not ready, in order.
pub(super) fn merge_duplicates<T>(
    all: Vec<(T, bool)>,
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<T>, Vec<T>) {
    let mut ready = Vec::with_capacity(all.len());
    let mut not_ready = Vec::new();
    let mut iter = all.into_iter().peekable();
    while let Some((address, mut r)) = iter.next() {
        while let Some((next, nr)) = iter.peek() {
            if !same(next, &address) {
                break;
            }
            r = r && *nr;
            iter.next();
        }
        if r {
            ready.push(address);
        } else {
            not_ready.push(address);
        }
    }
    (ready, not_ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subset(ready: usize, not_ready: usize, port: i32) -> EndpointSubset {
        let a = |i: usize| EndpointAddress {
            ip: format!("10.{port}.{}.{}", i / 250, i % 250),
            ..EndpointAddress::default()
        };
        EndpointSubset {
            addresses: (0..ready).map(a).collect(),
            not_ready_addresses: (ready..ready + not_ready).map(a).collect(),
            ports: vec![EndpointPort {
                port,
                ..EndpointPort::default()
            }],
        }
    }

    fn counts(s: &[EndpointSubset]) -> Vec<(usize, usize)> {
        s.iter()
            .map(|s| (s.addresses.len(), s.not_ready_addresses.len()))
            .collect()
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Object {
        let status = if ready { "True" } else { "False" };
        serde_json::from_str(&format!(
            r#"{{"apiVersion": "v1", "kind": "Pod",
                "metadata": {{"name": "{name}", "namespace": "shop", "uid": "u-{name}", "labels": {{"app": "web"}}}},
                "spec": {{"nodeName": "n1", "hostname": "{name}", "subdomain": "web"}},
                "status": {{"phase": "Running", "podIPs": [{{"ip": "{ip}"}}],
                           "conditions": [{{"type": "Ready", "status": "{status}"}}]}}}}"#
        ))
        .unwrap()
    }

    fn web() -> Object {
        serde_json::from_str(
            r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"}, "ports": [{"port": 80}]}}"#,
        )
        .unwrap()
    }

    fn stored_compact(c: &Cluster) -> bool {
        matches!(
            c.lookup_stored(Kind::Endpoints, Some("shop"), "web"),
            Some((_, Stored::Endpoints(_)))
        )
    }

    // The controller's Endpoints object is stored compact, and a readiness
    // flip patches the compact form in place: what `get` returns, and the
    // changes reported, are what a cluster built from the same objects
    // holds.
    #[test]
    fn the_controllers_endpoints_are_compact_and_patched_in_place() {
        let config = || super::super::ClusterConfig {
            bootstrap: false,
            ..Default::default()
        };
        let pods = [
            pod("a", "10.244.0.10", true),
            pod("b", "10.244.0.9", true),
            pod("c", "10.244.0.11", false),
        ];
        let mut c = Cluster::new(config()).unwrap();
        let mut objects = pods.to_vec();
        objects.push(web());
        c.apply_batch(objects).unwrap();
        assert!(stored_compact(&c));
        let flipped = pod("a", "10.244.0.10", false);
        let changes = c.apply(flipped.clone()).unwrap();
        assert!(stored_compact(&c));
        let eps_key = ObjectKey {
            kind: Kind::Endpoints,
            namespace: Some("shop".into()),
            name: "web".into(),
        };
        assert!(changes.updated.contains(&eps_key));
        let mut fresh = Cluster::new(config()).unwrap();
        fresh
            .apply_batch(vec![pods[1].clone(), pods[2].clone(), flipped, web()])
            .unwrap();
        assert_eq!(c.get(&eps_key), fresh.get(&eps_key));
        let eps = c.endpoints("shop", "web").unwrap();
        let ips = |l: &[EndpointAddress]| l.iter().map(|a| a.ip.clone()).collect::<Vec<_>>();
        assert_eq!(ips(&eps.subsets[0].addresses), ["10.244.0.9"]);
        assert_eq!(
            ips(&eps.subsets[0].not_ready_addresses),
            ["10.244.0.10", "10.244.0.11"]
        );
        assert_eq!(eps.subsets[0].addresses[0].hostname.as_deref(), Some("b"));
        // A user writing the same object back changes nothing.
        let same = c.get(&eps_key).unwrap().into_owned();
        assert!(c.apply(same).unwrap().is_empty());
    }

    // Upstream truncateEndpoints: ready addresses over capacity are cut in
    // proportion (rounded up, the last subset gets what is left) and every
    // not-ready address goes.
    #[test]
    fn truncate_ready_in_proportion() {
        let mut s = vec![subset(500, 3, 1), subset(400, 0, 2), subset(300, 1, 3)];
        assert!(truncate(&mut s));
        assert_eq!(counts(&s), [(417, 0), (334, 0), (249, 0)]);
    }

    // Ready addresses fit: not-ready ones fill the rest, in proportion.
    #[test]
    fn truncate_not_ready_in_proportion() {
        let mut s = vec![subset(600, 100, 1), subset(300, 300, 2)];
        assert!(truncate(&mut s));
        assert_eq!(counts(&s), [(600, 25), (300, 75)]);
        let mut small = vec![subset(10, 10, 1)];
        assert!(!truncate(&mut small));
    }

    // The label checks, on either stored form, are the map comparisons
    // they stand for: `labels == wanted_labels(svc)` for the patch, and
    // the labels but the headless one equal to the Service's for the
    // no-op check.
    #[test]
    fn label_checks_are_the_map_comparisons() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let h = HEADLESS_LABEL;
        let label_sets = [
            map(&[]),
            map(&[("app", "web")]),
            map(&[("app", "web"), (h, "")]),
            map(&[("app", "web"), (h, "x")]),
            map(&[(h, "")]),
            map(&[("app", "api")]),
            map(&[("app", "web"), ("zone", "a")]),
            map(&[("a", "1"), ("app", "web")]),
        ];
        for cluster_ip in [Some("10.96.0.1"), Some("None"), None] {
            for svc_labels in &label_sets {
                let mut svc = Service::default();
                svc.metadata.labels = svc_labels.clone();
                svc.spec.cluster_ip = cluster_ip.map(str::to_owned);
                for labels in &label_sets {
                    let meta = ObjectMeta {
                        name: Some("web".into()),
                        namespace: Some("shop".into()),
                        labels: labels.clone(),
                        ..ObjectMeta::default()
                    };
                    let compact = EndpointsMeta::of(meta.clone());
                    let mut without = labels.clone();
                    without.remove(HEADLESS_LABEL);
                    for m in [MetaRef::Given(&meta), MetaRef::Compact(&compact)] {
                        assert_eq!(
                            labels_as_wanted(m, &svc),
                            *labels == wanted_labels(&svc),
                            "{labels:?} for {svc_labels:?} {cluster_ip:?}"
                        );
                        assert_eq!(metadata_kept(&svc, m, 1), without == *svc_labels);
                    }
                }
            }
        }
    }
}
