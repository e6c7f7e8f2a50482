//! The compact stored form of the EndpointSlices the EndpointSlice
//! controller writes.
//!
//! A controller slice is kept as its metadata, address type and ports as
//! given, and each endpoint as a [`SliceEndpoint`]: a 32-byte record whose
//! strings (address, pod name, uid, hostname, node name, zone) share one
//! allocation and whose conditions and hints are bits, instead of an
//! `Endpoint` (232 bytes inline and up to ten allocations). The slice is
//! built on read ([`CompactSlice::to_slice`]); the one-pod fast path edits
//! the records in place.
//!
//! The form is exact, as the compact Endpoints (`stored.rs`): a slice is
//! compacted only when every endpoint is one a record rebuilds field for
//! field (checked after building the record, so the check cannot miss a
//! field the record drops): one address, a `Pod` target in the slice's
//! namespace without `apiVersion` or `resourceVersion`, hints that are
//! none, or the endpoint's own zone and node. Any other slice (a user's, a
//! mirrored one, odd addresses, topology-Auto hints to another zone) stays
//! as given.
//!
//! The controller's full reconcile builds the records straight from the
//! pods and stores a slice of records without building it
//! (`planned_slice.rs`): the same records, held by the same rules, as
//! compacting the built slice gives.

use std::borrow::Cow;

use crate::api::discoveryv1::EndpointPort;
use crate::api::{
    AddressType, Endpoint, EndpointConditions, EndpointHints, EndpointSlice, ForNode, ForZone,
    ObjectMeta, ObjectReference,
};

use super::packed_text::PackedText;
use super::positions::pod_tag;
use super::stored::{Compacted, is_pod_target, pod_target};

const IP: usize = 0;
const NAME: usize = 1;
const UID: usize = 2;
const HOSTNAME: usize = 3;
const NODE: usize = 4;
const ZONE: usize = 5;

/// `ready`, `serving`, `terminating`: two bits each from bit 0 (0 unset,
/// 1 false, 2 true).
const CONDITION_BITS: u16 = 0b11_1111;
/// `hints` is set.
const HINTS: u16 = 1 << 6;
/// `hints.forZones` is `[{name: <zone>}]`.
const HINT_ZONE: u16 = 1 << 7;
/// `hints.forNodes` is `[{name: <nodeName>}]`.
const HINT_NODE: u16 = 1 << 8;
const HINT_BITS: u16 = HINTS | HINT_ZONE | HINT_NODE;

fn condition_bits(c: &EndpointConditions) -> u16 {
    let one = |v: Option<bool>| match v {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    };
    one(c.ready) | one(c.serving) << 2 | one(c.terminating) << 4
}

/// One endpoint of a compact slice: what a controller-written `Endpoint`
/// holds.
///
/// It stands for `{addresses: [ip], conditions, hostname, targetRef:
/// {kind: "Pod", namespace: <the slice's>, name, uid}, nodeName, zone,
/// hints}`; `packed` holds the address, the pod's name, its uid, the
/// hostname, the node name and the zone (parts `IP` to `ZONE`), and
/// beside them the conditions and hints as bits. Hints are none, or the
/// endpoint's own zone and / or node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SliceEndpoint {
    packed: PackedText<6, u16>,
}

impl SliceEndpoint {
    /// The record of an endpoint of a slice in namespace `ns`; `None` when
    /// the record cannot hold it exactly.
    pub(crate) fn of(ep: &Endpoint, ns: &str) -> Option<SliceEndpoint> {
        let [ip] = ep.addresses.as_slice() else {
            return None;
        };
        let r = ep.target_ref.as_ref()?;
        if r.kind != "Pod" || r.namespace.as_deref() != Some(ns) {
            return None;
        }
        let parts = [
            Some(ip.as_str()),
            Some(r.name.as_str()),
            r.uid.as_deref(),
            ep.hostname.as_deref(),
            ep.node_name.as_deref(),
            ep.zone.as_deref(),
        ];
        let mut record = SliceEndpoint {
            packed: PackedText::new(parts, condition_bits(&ep.conditions))?,
        };
        if !record.set_hints(ep.hints.as_ref()) {
            return None;
        }
        // Exact by construction: what the record gives back is the
        // endpoint, or it is not used.
        record.is(ep, ns).then_some(record)
    }

    /// The record of `{addresses: [ip], conditions, hostname, targetRef:
    /// {kind: "Pod", namespace: <the slice's>, name, uid}, nodeName,
    /// zone}` without hints, built from its fields (what
    /// [`SliceEndpoint::of`] gives for that endpoint); `None` when a
    /// string is too long for the record.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ip: &str,
        name: &str,
        uid: Option<&str>,
        hostname: Option<&str>,
        node_name: Option<&str>,
        zone: Option<&str>,
        conditions: &EndpointConditions,
    ) -> Option<SliceEndpoint> {
        let parts = [Some(ip), Some(name), uid, hostname, node_name, zone];
        Some(SliceEndpoint {
            packed: PackedText::new(parts, condition_bits(conditions))?,
        })
    }

    fn has(&self, flag: u16) -> bool {
        self.packed.extra & flag != 0
    }

    /// The one address.
    pub(crate) fn ip(&self) -> &str {
        self.packed.part(IP)
    }

    /// `targetRef.name`.
    pub(crate) fn name(&self) -> &str {
        self.packed.part(NAME)
    }

    /// `targetRef.uid`.
    pub(crate) fn uid(&self) -> Option<&str> {
        self.packed.get(UID)
    }

    /// `hostname`.
    pub(crate) fn hostname(&self) -> Option<&str> {
        self.packed.get(HOSTNAME)
    }

    /// `nodeName`.
    pub(crate) fn node_name(&self) -> Option<&str> {
        self.packed.get(NODE)
    }

    /// `zone`.
    pub(crate) fn zone(&self) -> Option<&str> {
        self.packed.get(ZONE)
    }

    /// `conditions`.
    pub(crate) fn conditions(&self) -> EndpointConditions {
        let one = |shift: u16| match (self.packed.extra >> shift) & 0b11 {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
        EndpointConditions {
            ready: one(0),
            serving: one(2),
            terminating: one(4),
        }
    }

    /// Sets `conditions`.
    pub(crate) fn set_conditions(&mut self, c: &EndpointConditions) {
        let bits = &mut self.packed.extra;
        *bits = (*bits & !CONDITION_BITS) | condition_bits(c);
    }

    /// `hints`.
    pub(crate) fn hints(&self) -> Option<EndpointHints> {
        self.has(HINTS).then(|| EndpointHints {
            for_zones: self
                .zone()
                .filter(|_| self.has(HINT_ZONE))
                .map(|z| ForZone { name: z.to_owned() })
                .into_iter()
                .collect(),
            for_nodes: self
                .node_name()
                .filter(|_| self.has(HINT_NODE))
                .map(|n| ForNode { name: n.to_owned() })
                .into_iter()
                .collect(),
        })
    }

    /// Are the hints `h` (compared without building them)?
    pub(crate) fn hints_are(&self, h: Option<&EndpointHints>) -> bool {
        match h {
            None => !self.has(HINTS),
            Some(h) => {
                let zone_ok = match (self.has(HINT_ZONE), h.for_zones.as_slice()) {
                    (false, []) => true,
                    (true, [z]) => self.zone() == Some(z.name.as_str()),
                    _ => false,
                };
                let node_ok = match (self.has(HINT_NODE), h.for_nodes.as_slice()) {
                    (false, []) => true,
                    (true, [n]) => self.node_name() == Some(n.name.as_str()),
                    _ => false,
                };
                self.has(HINTS) && zone_ok && node_ok
            }
        }
    }

    /// Sets `hints`; `false` (and nothing set) when the record cannot hold
    /// them (a zone or node other than the endpoint's own, or more than
    /// one).
    pub(crate) fn set_hints(&mut self, h: Option<&EndpointHints>) -> bool {
        let bits = match h {
            None => 0,
            Some(h) => {
                let zone = match h.for_zones.as_slice() {
                    [] => 0,
                    [z] if self.zone() == Some(z.name.as_str()) => HINT_ZONE,
                    _ => return false,
                };
                let node = match h.for_nodes.as_slice() {
                    [] => 0,
                    [n] if self.node_name() == Some(n.name.as_str()) => HINT_NODE,
                    _ => return false,
                };
                HINTS | zone | node
            }
        };
        let all = &mut self.packed.extra;
        *all = (*all & !HINT_BITS) | bits;
        true
    }

    /// The position index's tag of the target pod (of a slice in
    /// namespace `ns`).
    pub(crate) fn tag(&self, ns: &str) -> u32 {
        pod_tag(Some(ns), self.name())
    }

    /// The endpoint, for the slice in namespace `ns`.
    pub(crate) fn to_endpoint(&self, ns: &str) -> Endpoint {
        Endpoint {
            addresses: vec![self.ip().to_owned()],
            conditions: self.conditions(),
            hostname: self.hostname().map(str::to_owned),
            target_ref: Some(pod_target(ns, self.name(), self.uid())),
            node_name: self.node_name().map(str::to_owned),
            zone: self.zone().map(str::to_owned),
            hints: self.hints(),
        }
    }

    /// Is `ep` this endpoint (of the slice in namespace `ns`)? Every field
    /// is named, so that a field added to the object model is compared.
    pub(crate) fn is(&self, ep: &Endpoint, ns: &str) -> bool {
        let Endpoint {
            addresses,
            conditions,
            hostname,
            target_ref,
            node_name,
            zone,
            hints,
        } = ep;
        matches!(addresses.as_slice(), [ip] if ip == self.ip())
            && *conditions == self.conditions()
            && hostname.as_deref() == self.hostname()
            && node_name.as_deref() == self.node_name()
            && zone.as_deref() == self.zone()
            && self.hints_are(hints.as_ref())
            && target_ref
                .as_ref()
                .is_some_and(|r| is_pod_target(r, ns, self.name(), self.uid()))
    }
}

/// An EndpointSlice, compact: its metadata, address type and ports as
/// given, its endpoints as [`SliceEndpoint`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactSlice {
    pub(crate) metadata: ObjectMeta,
    pub(crate) address_type: AddressType,
    pub(crate) endpoints: Vec<SliceEndpoint>,
    pub(crate) ports: Vec<EndpointPort>,
}

impl CompactSlice {
    /// The compact form of `s`, if it holds `s` exactly; `s` back
    /// otherwise. (Taken by value: its metadata and ports move in.)
    pub(crate) fn of(s: EndpointSlice) -> Compacted<CompactSlice, EndpointSlice> {
        let Some(ns) = s.metadata.namespace.as_deref() else {
            return Compacted::Given(s);
        };
        // Sized once (collecting through `Option` would grow it by
        // doubling, up to twice the room).
        let mut endpoints = Vec::with_capacity(s.endpoints.len());
        for e in &s.endpoints {
            match SliceEndpoint::of(e, ns) {
                Some(r) => endpoints.push(r),
                None => return Compacted::Given(s),
            }
        }
        Compacted::Compact(CompactSlice {
            metadata: s.metadata,
            address_type: s.address_type,
            endpoints,
            ports: s.ports,
        })
    }

    /// The namespace of the slice (and of every endpoint's target).
    pub(crate) fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or_default()
    }

    /// The slice.
    pub(crate) fn to_slice(&self) -> EndpointSlice {
        let ns = self.namespace();
        EndpointSlice {
            metadata: self.metadata.clone(),
            address_type: self.address_type,
            endpoints: self.endpoints.iter().map(|e| e.to_endpoint(ns)).collect(),
            ports: self.ports.clone(),
        }
    }

    /// Replaces endpoint `i` by `r` (nothing when there is none).
    pub(crate) fn replace(&mut self, i: usize, r: SliceEndpoint) -> bool {
        if let Some(e) = self.endpoints.get_mut(i) {
            *e = r;
        }
        true
    }

    /// Removes endpoint `i`, the order of the others kept (nothing when
    /// there is none).
    pub(crate) fn remove(&mut self, i: usize) -> bool {
        if i < self.endpoints.len() {
            self.endpoints.remove(i);
        }
        true
    }

    /// Sets the conditions and hints of endpoint `i`; `false` (and nothing
    /// set) when its record cannot hold the hints.
    pub(crate) fn refresh(
        &mut self,
        i: usize,
        conditions: &EndpointConditions,
        hints: Option<&EndpointHints>,
    ) -> bool {
        let Some(e) = self.endpoints.get_mut(i) else {
            return true;
        };
        if !e.set_hints(hints) {
            return false;
        }
        e.set_conditions(conditions);
        true
    }

    /// Appends an endpoint.
    pub(crate) fn push(&mut self, r: SliceEndpoint) {
        self.endpoints.push(r);
    }

    /// Is this `s` (compared without building it)?
    pub(crate) fn same_as(&self, s: &EndpointSlice) -> bool {
        let ns = self.namespace();
        self.metadata == s.metadata
            && self.address_type == s.address_type
            && self.ports == s.ports
            && self.endpoints.len() == s.endpoints.len()
            && self
                .endpoints
                .iter()
                .zip(&s.endpoints)
                .all(|(m, t)| m.is(t, ns))
    }
}

/// A stored EndpointSlice in either form, read without building it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SliceView<'a> {
    /// Kept as given.
    Object(&'a EndpointSlice),
    /// Compact.
    Compact(&'a CompactSlice),
}

impl<'a> SliceView<'a> {
    /// `metadata`.
    pub(crate) fn metadata(&self) -> &'a ObjectMeta {
        match self {
            SliceView::Object(s) => &s.metadata,
            SliceView::Compact(c) => &c.metadata,
        }
    }

    /// The Service it belongs to (label `kubernetes.io/service-name`).
    pub(crate) fn service_name(&self) -> Option<&'a str> {
        self.metadata()
            .labels
            .get(EndpointSlice::SERVICE_NAME_LABEL)
            .map(String::as_str)
    }

    /// `addressType`.
    pub(crate) fn address_type(&self) -> AddressType {
        match self {
            SliceView::Object(s) => s.address_type,
            SliceView::Compact(c) => c.address_type,
        }
    }

    /// `ports`.
    pub(crate) fn ports(&self) -> &'a [EndpointPort] {
        match self {
            SliceView::Object(s) => &s.ports,
            SliceView::Compact(c) => &c.ports,
        }
    }

    /// How many endpoints.
    pub(crate) fn len(&self) -> usize {
        match self {
            SliceView::Object(s) => s.endpoints.len(),
            SliceView::Compact(c) => c.endpoints.len(),
        }
    }

    /// Is endpoint `i`'s target the pod `ns/name`?
    pub(crate) fn targets(&self, i: usize, ns: &str, name: &str) -> bool {
        match self {
            SliceView::Object(s) => s.endpoints.get(i).is_some_and(|e| {
                e.target_ref
                    .as_ref()
                    .is_some_and(|r| r.name == name && r.namespace.as_deref() == Some(ns))
            }),
            SliceView::Compact(c) => c
                .endpoints
                .get(i)
                .is_some_and(|e| e.name() == name && c.namespace() == ns),
        }
    }

    /// Endpoint `i`.
    pub(crate) fn endpoint(&self, i: usize) -> Option<EndpointView<'a>> {
        match *self {
            SliceView::Object(s) => s.endpoints.get(i).map(EndpointView::Object),
            SliceView::Compact(c) => c
                .endpoints
                .get(i)
                .map(|e| EndpointView::Compact(e, c.namespace())),
        }
    }

    /// The endpoints, in order.
    pub(crate) fn endpoints(&self) -> impl Iterator<Item = EndpointView<'a>> + 'a {
        let (list, records, ns): (&'a [Endpoint], &'a [SliceEndpoint], &'a str) = match *self {
            SliceView::Object(s) => (&s.endpoints, &[], ""),
            SliceView::Compact(c) => (&[], &c.endpoints, c.namespace()),
        };
        list.iter()
            .map(EndpointView::Object)
            .chain(records.iter().map(move |r| EndpointView::Compact(r, ns)))
    }

    /// The position index's tags of the endpoints.
    pub(crate) fn tags(&self) -> Vec<u32> {
        match self {
            SliceView::Object(s) => s
                .endpoints
                .iter()
                .map(super::positions::endpoint_tag)
                .collect(),
            SliceView::Compact(c) => {
                let ns = c.namespace();
                c.endpoints.iter().map(|e| e.tag(ns)).collect()
            }
        }
    }

    /// The slice (built when compact).
    pub(crate) fn to_slice(self) -> Cow<'a, EndpointSlice> {
        match self {
            SliceView::Object(s) => Cow::Borrowed(s),
            SliceView::Compact(c) => Cow::Owned(c.to_slice()),
        }
    }
}

/// An endpoint of a stored slice in either form, read without building
/// it: an `Endpoint`, or a record with its slice's namespace.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EndpointView<'a> {
    /// Kept as given.
    Object(&'a Endpoint),
    /// A record of a compact slice in this namespace.
    Compact(&'a SliceEndpoint, &'a str),
}

/// A `targetRef`'s fields, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TargetView<'a> {
    pub(crate) api_version: Option<&'a str>,
    pub(crate) kind: &'a str,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) name: &'a str,
    pub(crate) uid: Option<&'a str>,
    pub(crate) resource_version: Option<&'a str>,
}

impl<'a> TargetView<'a> {
    /// The fields of `r`.
    pub(crate) fn of(r: &'a ObjectReference) -> TargetView<'a> {
        TargetView {
            api_version: r.api_version.as_deref(),
            kind: &r.kind,
            namespace: r.namespace.as_deref(),
            name: &r.name,
            uid: r.uid.as_deref(),
            resource_version: r.resource_version.as_deref(),
        }
    }
}

impl<'a> EndpointView<'a> {
    /// `addresses`, in order.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = &'a str> + Clone + 'a {
        let (list, one): (&'a [String], Option<&'a str>) = match *self {
            EndpointView::Object(e) => (&e.addresses, None),
            EndpointView::Compact(r, _) => (&[], Some(r.ip())),
        };
        list.iter().map(String::as_str).chain(one)
    }

    /// How many addresses.
    pub(crate) fn address_count(&self) -> usize {
        match self {
            EndpointView::Object(e) => e.addresses.len(),
            EndpointView::Compact(..) => 1,
        }
    }

    /// `conditions`.
    pub(crate) fn conditions(&self) -> EndpointConditions {
        match self {
            EndpointView::Object(e) => e.conditions,
            EndpointView::Compact(r, _) => r.conditions(),
        }
    }

    /// `hostname`.
    pub(crate) fn hostname(&self) -> Option<&'a str> {
        match *self {
            EndpointView::Object(e) => e.hostname.as_deref(),
            EndpointView::Compact(r, _) => r.hostname(),
        }
    }

    /// `nodeName`.
    pub(crate) fn node_name(&self) -> Option<&'a str> {
        match *self {
            EndpointView::Object(e) => e.node_name.as_deref(),
            EndpointView::Compact(r, _) => r.node_name(),
        }
    }

    /// `zone`.
    pub(crate) fn zone(&self) -> Option<&'a str> {
        match *self {
            EndpointView::Object(e) => e.zone.as_deref(),
            EndpointView::Compact(r, _) => r.zone(),
        }
    }

    /// `targetRef`.
    pub(crate) fn target(&self) -> Option<TargetView<'a>> {
        match *self {
            EndpointView::Object(e) => e.target_ref.as_ref().map(TargetView::of),
            EndpointView::Compact(r, ns) => Some(TargetView {
                api_version: None,
                kind: "Pod",
                namespace: Some(ns),
                name: r.name(),
                uid: r.uid(),
                resource_version: None,
            }),
        }
    }

    /// Are the hints `h`?
    pub(crate) fn hints_are(&self, h: Option<&EndpointHints>) -> bool {
        match self {
            EndpointView::Object(e) => e.hints.as_ref() == h,
            EndpointView::Compact(r, _) => r.hints_are(h),
        }
    }

    /// `hints` (built when compact).
    pub(crate) fn hints(&self) -> Option<Cow<'a, EndpointHints>> {
        match *self {
            EndpointView::Object(e) => e.hints.as_ref().map(Cow::Borrowed),
            EndpointView::Compact(r, _) => r.hints().map(Cow::Owned),
        }
    }

    /// The endpoint (built when compact).
    pub(crate) fn to_endpoint(self) -> Cow<'a, Endpoint> {
        match self {
            EndpointView::Object(e) => Cow::Borrowed(e),
            EndpointView::Compact(r, ns) => Cow::Owned(r.to_endpoint(ns)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Protocol;

    fn endpoint(opt: Option<&str>, hints: Option<EndpointHints>) -> Endpoint {
        Endpoint {
            addresses: vec!["10.244.1.7".into()],
            conditions: EndpointConditions {
                ready: Some(true),
                serving: opt.map(|_| false),
                terminating: None,
            },
            hostname: opt.map(Into::into),
            target_ref: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: Some("shop".into()),
                name: "web-1".into(),
                uid: opt.map(Into::into),
                ..ObjectReference::default()
            }),
            node_name: opt.map(|s| format!("n{s}")),
            zone: opt.map(|s| format!("z{s}")),
            hints,
        }
    }

    fn zone_hint(zone: &str, node: Option<&str>) -> Option<EndpointHints> {
        Some(EndpointHints {
            for_zones: vec![ForZone { name: zone.into() }],
            for_nodes: node
                .map(|n| ForNode { name: n.into() })
                .into_iter()
                .collect(),
        })
    }

    // Present, empty and absent optional fields, every condition and the
    // hints the controller writes come back as written.
    #[test]
    fn an_endpoint_comes_back_as_written() {
        for opt in [None, Some(""), Some("x-1")] {
            let mut hints = vec![None, Some(EndpointHints::default())];
            if let Some(o) = opt {
                let (z, n) = (format!("z{o}"), format!("n{o}"));
                hints.push(zone_hint(&z, None));
                hints.push(zone_hint(&z, Some(&n)));
            }
            for h in hints {
                for c in [None, Some(false), Some(true)] {
                    let mut ep = endpoint(opt, h.clone());
                    ep.conditions.terminating = c;
                    let r = SliceEndpoint::of(&ep, "shop").expect("representable");
                    assert_eq!(r.to_endpoint("shop"), ep);
                    assert!(r.is(&ep, "shop"));
                    assert_eq!(r.tag("shop"), pod_tag(Some("shop"), "web-1"));
                }
            }
        }
        assert!(std::mem::size_of::<SliceEndpoint>() <= 32);
    }

    // The record stays 32 bytes (the figures in the module docs).
    #[test]
    fn a_slice_endpoint_record_is_32_bytes() {
        assert_eq!(std::mem::size_of::<SliceEndpoint>(), 32);
    }

    // What the record cannot hold stays out.
    #[test]
    fn what_the_record_cannot_hold_is_refused() {
        let ep = endpoint(Some("a"), None);
        assert!(SliceEndpoint::of(&ep, "other").is_none());
        let mut two = ep.clone();
        two.addresses.push("10.244.1.8".into());
        assert!(SliceEndpoint::of(&two, "shop").is_none());
        let mut node = ep.clone();
        node.target_ref.as_mut().unwrap().kind = "Node".into();
        assert!(SliceEndpoint::of(&node, "shop").is_none());
        let mut rv = ep.clone();
        rv.target_ref.as_mut().unwrap().resource_version = Some("3".into());
        assert!(SliceEndpoint::of(&rv, "shop").is_none());
        let other_zone = Endpoint {
            hints: zone_hint("zb", None),
            ..ep.clone()
        };
        assert!(SliceEndpoint::of(&other_zone, "shop").is_none());
        let no_target = Endpoint {
            target_ref: None,
            ..ep
        };
        assert!(SliceEndpoint::of(&no_target, "shop").is_none());
    }

    // Conditions and hints set in place read back as set.
    #[test]
    fn conditions_and_hints_are_edited_in_place() {
        let ep = endpoint(Some("a"), None);
        let mut r = SliceEndpoint::of(&ep, "shop").unwrap();
        let c = EndpointConditions {
            ready: Some(false),
            serving: Some(true),
            terminating: Some(true),
        };
        r.set_conditions(&c);
        assert!(r.set_hints(zone_hint("za", Some("na")).as_ref()));
        assert!(!r.set_hints(zone_hint("zb", None).as_ref()));
        let want = Endpoint {
            conditions: c,
            hints: zone_hint("za", Some("na")),
            ..ep
        };
        assert_eq!(r.to_endpoint("shop"), want);
    }

    // A slice reads back as written, compact or not.
    #[test]
    fn a_slice_reads_back_as_written() {
        let s = EndpointSlice {
            metadata: ObjectMeta {
                name: Some("web-abcde".into()),
                namespace: Some("shop".into()),
                ..ObjectMeta::default()
            },
            address_type: AddressType::IPv4,
            endpoints: vec![endpoint(Some("a"), None), endpoint(None, None)],
            ports: vec![EndpointPort {
                name: Some("http".into()),
                protocol: Some(Protocol::TCP),
                port: Some(80),
                app_protocol: None,
            }],
        };
        let Compacted::Compact(c) = CompactSlice::of(s.clone()) else {
            panic!("compact")
        };
        assert_eq!(c.to_slice(), s);
        assert!(c.same_as(&s));
        let view = SliceView::Compact(&c);
        assert_eq!(view.tags(), SliceView::Object(&s).tags());
        assert!(view.targets(1, "shop", "web-1") && !view.targets(1, "shop", "web-2"));
        assert_eq!(*view.endpoint(0).unwrap().to_endpoint(), s.endpoints[0]);
        let built: Vec<Endpoint> = view
            .endpoints()
            .map(|e| e.to_endpoint().into_owned())
            .collect();
        assert_eq!(built, s.endpoints);
        let mut odd = s.clone();
        odd.endpoints[1].addresses.clear();
        assert!(!c.same_as(&odd));
        assert!(matches!(CompactSlice::of(odd), Compacted::Given(_)));
    }
}
