//! The compact form of a stored Pod, and the view the controllers read
//! pods through.
//!
//! The pods of one workload differ in a few fields only: their name, uid,
//! node, IPs and readiness. A compact Pod ([`CompactPod`]) is a shared
//! **shape** (an `Arc` of a Pod holding every other field, the per-pod ones
//! blanked) and a small [`PodRecord`] of the per-pod fields:
//!
//! * `metadata.name`: not stored; it is the slot's key;
//! * `metadata.uid`: 16 bytes, when it is a canonical lowercase UUID;
//! * `spec.nodeName`: an interned symbol;
//! * `status.podIP` and `status.podIPs`: one IP's text inline (up to
//!   [`IP_TEXT`] bytes), when `podIPs` is exactly `[podIP]` (or both are
//!   absent);
//! * `status.hostIP` and `status.hostIPs`: an interned symbol, when
//!   `hostIPs` is exactly `[hostIP]` (or both are absent);
//! * the status of the `Ready` and `ContainersReady` conditions, two bits
//!   each (at most one condition of each type).
//!
//! Shapes are interned per cluster ([`Shapes`], by a fingerprint of the
//! namespace, labels, `generateName` and owners, confirmed by equality)
//! and dropped when the last pod using one goes.
//!
//! **Exact by construction**: [`split`] compacts a Pod only when
//! [`CompactPod::to_pod`] rebuilds it field for field (every blanked field
//! comes back from the record); any other Pod (dual-stack, a uid in upper
//! case, `podIP` without `podIPs`, two `Ready` conditions, ...) stays as
//! given. Whether a Pod is compacted depends on the Pod alone, never on
//! its labels.
//!
//! The controllers read stored pods of either form through [`PodView`],
//! (`pod_view.rs`), which borrows the shape and the record and builds
//! nothing.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::api::{
    ConditionStatus, HostIP, ObjectMeta, Pod, PodCondition, PodIP, PodSpec, PodStatus,
};
use crate::table_hash::TableHasher;

use super::intern::{FxMap, Interner, Sym};
use super::pod_view::PodView;

/// The longest IP text a record holds inline (every IPv4 text, and the
/// shorter IPv6 ones).
pub(crate) const IP_TEXT: usize = 20;

const HAS_NODE: u8 = 2;
const HAS_IP: u8 = 4;
const HAS_HOST_IP: u8 = 8;

/// The condition types whose status the record holds.
const READY: &str = "Ready";
const CONTAINERS_READY: &str = "ContainersReady";

/// The per-pod fields of a compact Pod (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PodRecord {
    uid: [u8; 16],
    ip: [u8; IP_TEXT],
    node: Sym,
    host_ip: Sym,
    ip_len: u8,
    flags: u8,
    /// A bool rather than a flag: its spare values hold the tag of
    /// `Stored`, which then is no larger than this record.
    has_uid: bool,
    /// `Ready`'s status in bits 0–1, `ContainersReady`'s in bits 2–3
    /// (0: no such condition, else [`status_bits`]).
    conditions: u8,
}

/// An interned shape: the blank Pod, and its fingerprint (kept, so that
/// releasing the shape does not hash it again). Reads as the Pod.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pod: Pod,
    print: u64,
}

impl std::ops::Deref for Shape {
    type Target = Pod;
    fn deref(&self) -> &Pod {
        &self.pod
    }
}

/// A Pod stored compact: its shape and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactPod {
    shape: Arc<Shape>,
    record: PodRecord,
}

fn status_bits(s: ConditionStatus) -> u8 {
    match s {
        ConditionStatus::True => 1,
        ConditionStatus::False => 2,
        ConditionStatus::Unknown => 3,
    }
}

fn status_of(bits: u8) -> Option<ConditionStatus> {
    match bits & 3 {
        1 => Some(ConditionStatus::True),
        2 => Some(ConditionStatus::False),
        3 => Some(ConditionStatus::Unknown),
        _ => None,
    }
}

/// The 16 bytes of a canonical lowercase UUID text (`8-4-4-4-12` lowercase
/// hex digits); `None` for any other text.
fn pack_uid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        out[n / 2] |= if n % 2 == 0 { d << 4 } else { d };
        n += 1;
    }
    Some(out)
}

/// The text of a packed uid.
fn unpack_uid(u: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[(byte >> 4) as usize];
        out[at + 1] = HEX[(byte & 15) as usize];
        at += 2;
    }
    out
}

/// The one condition of this type, or `None` when there is none;
/// `Err(())` when there are several.
fn only_condition(pod: &Pod, type_: &str) -> Result<Option<usize>, ()> {
    let mut found = None;
    for (i, c) in pod.status.conditions.iter().enumerate() {
        if c.type_ == type_ {
            if found.is_some() {
                return Err(());
            }
            found = Some(i);
        }
    }
    Ok(found)
}

/// A Pod split for storing: compact (its interned shape, counted as used
/// by this pod, and its record), or as given (borrowed or owned, as it
/// came).
// Short-lived (split, compared, stored at once); a given Pod is boxed when
// it is stored, not before.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Split<'a> {
    /// The interned shape and the record.
    Compact(Arc<Shape>, PodRecord),
    /// The Pod, untouched: the record cannot hold it exactly.
    Given(Cow<'a, Pod>),
}

/// Splits a Pod into its interned shape and its record, interning its
/// node name and host IP; the Pod back, untouched, when the record cannot
/// hold it exactly. (The name is not kept: the store's key is the Pod's
/// `metadata.name`, which must be present.) A Pod whose shape is interned
/// already is neither cloned nor blanked (see [`Shapes::intern`]).
pub(crate) fn split<'a>(
    pod: Cow<'a, Pod>,
    strings: &mut Interner,
    shapes: &mut Shapes,
) -> Split<'a> {
    match record_of(&pod, strings) {
        Some(record) => Split::Compact(shapes.intern(pod), record),
        None => Split::Given(pod),
    }
}

/// The record of a Pod the record holds exactly (its node name and host IP
/// interned), else `None`.
fn record_of(pod: &Pod, strings: &mut Interner) -> Option<PodRecord> {
    pod.metadata.name.as_ref()?;
    let uid = match pod.metadata.uid.as_deref() {
        None => None,
        Some(u) => Some(pack_uid(u)?),
    };
    let status = &pod.status;
    let ip = match (status.pod_ip.as_deref(), status.pod_ips.as_slice()) {
        (None, []) => None,
        (Some(a), [PodIP { ip }]) if a == ip && a.len() <= IP_TEXT => Some(a),
        _ => return None,
    };
    let host_ip = match (status.host_ip.as_deref(), status.host_ips.as_slice()) {
        (None, []) => None,
        (Some(a), [HostIP { ip }]) if a == ip => Some(a),
        _ => return None,
    };
    let (Ok(ready), Ok(containers_ready)) = (
        only_condition(pod, READY),
        only_condition(pod, CONTAINERS_READY),
    ) else {
        return None;
    };
    let mut record = PodRecord {
        uid: uid.unwrap_or_default(),
        ip: [0; IP_TEXT],
        node: Sym(0),
        host_ip: Sym(0),
        ip_len: 0,
        flags: 0,
        has_uid: uid.is_some(),
        conditions: 0,
    };
    if let Some(ip) = ip {
        record.ip[..ip.len()].copy_from_slice(ip.as_bytes());
        record.ip_len = ip.len() as u8;
        record.flags |= HAS_IP;
    }
    if let Some(h) = host_ip {
        record.host_ip = strings.intern(h);
        record.flags |= HAS_HOST_IP;
    }
    if let Some(n) = pod.spec.node_name.as_deref() {
        record.node = strings.intern(n);
        record.flags |= HAS_NODE;
    }
    for (at, shift) in [(ready, 0), (containers_ready, 2)] {
        if let Some(c) = at.and_then(|i| status.conditions.get(i)) {
            record.conditions |= status_bits(c.status) << shift;
        }
    }
    Some(record)
}

/// Is this condition type's status held by the record (blanked to `True`
/// in the shape)?
fn held_condition(type_: &str) -> bool {
    type_ == READY || type_ == CONTAINERS_READY
}

/// The shape of a Pod the record holds: the Pod with its per-pod fields
/// blanked.
fn blank(mut pod: Pod) -> Pod {
    pod.metadata.name = None;
    pod.metadata.uid = None;
    pod.spec.node_name = None;
    pod.status.pod_ip = None;
    pod.status.pod_ips = Vec::new();
    pod.status.host_ip = None;
    pod.status.host_ips = Vec::new();
    for c in &mut pod.status.conditions {
        if held_condition(&c.type_) {
            c.status = ConditionStatus::True;
        }
    }
    pod
}

/// Is `shape` the shape of `pod` (a Pod the record holds)? Every field is
/// compared but the per-pod ones the record holds (see the [module
/// docs](self)); `pod` is not blanked. Every field is named, so that a
/// field added to the object model is compared too. The fields that tell
/// workloads apart are compared first.
fn is_shape_of(shape: &Pod, pod: &Pod) -> bool {
    let Pod {
        metadata,
        spec,
        status,
    } = pod;
    let ObjectMeta {
        name: _,
        generate_name,
        namespace,
        uid: _,
        resource_version,
        creation_timestamp,
        deletion_timestamp,
        labels,
        annotations,
        owner_references,
    } = metadata;
    let PodSpec {
        containers,
        init_containers,
        node_name: _,
        node_selector,
        hostname,
        subdomain,
        set_hostname_as_fqdn,
        host_network,
        dns_policy,
        dns_config,
        tolerations,
        affinity,
    } = spec;
    let PodStatus {
        phase,
        conditions,
        host_ip: _,
        host_ips: _,
        pod_ip: _,
        pod_ips: _,
    } = status;
    let (m, s, st) = (&shape.metadata, &shape.spec, &shape.status);
    *labels == m.labels
        && *namespace == m.namespace
        && *generate_name == m.generate_name
        && *owner_references == m.owner_references
        && *phase == st.phase
        && conditions.len() == st.conditions.len()
        && conditions
            .iter()
            .zip(&st.conditions)
            .all(|(c, sc)| is_condition_shape_of(sc, c))
        && *resource_version == m.resource_version
        && *creation_timestamp == m.creation_timestamp
        && *deletion_timestamp == m.deletion_timestamp
        && *annotations == m.annotations
        && *hostname == s.hostname
        && *subdomain == s.subdomain
        && *set_hostname_as_fqdn == s.set_hostname_as_fqdn
        && *host_network == s.host_network
        && *dns_policy == s.dns_policy
        && *containers == s.containers
        && *init_containers == s.init_containers
        && *node_selector == s.node_selector
        && *dns_config == s.dns_config
        && *tolerations == s.tolerations
        && *affinity == s.affinity
}

/// [`is_shape_of`] for one condition: the status of a held type is the
/// record's.
fn is_condition_shape_of(shape: &PodCondition, c: &PodCondition) -> bool {
    let PodCondition {
        type_,
        status,
        last_transition_time,
        reason,
        message,
    } = c;
    *type_ == shape.type_
        && (*status == shape.status || held_condition(type_))
        && *last_transition_time == shape.last_transition_time
        && *reason == shape.reason
        && *message == shape.message
}

impl PodRecord {
    /// The IP text (`podIP`, and the only `podIPs` entry).
    pub(super) fn ip(&self) -> Option<&str> {
        (self.flags & HAS_IP != 0)
            .then(|| std::str::from_utf8(self.ip.get(..self.ip_len as usize)?).ok())
            .flatten()
    }

    /// The uid's text.
    pub(super) fn uid(&self) -> Option<[u8; 36]> {
        self.has_uid.then(|| unpack_uid(&self.uid))
    }

    /// The interned node name.
    pub(super) fn node(&self) -> Option<Sym> {
        (self.flags & HAS_NODE != 0).then_some(self.node)
    }

    /// The interned host IP (`hostIP`, and the only `hostIPs` entry).
    pub(super) fn host_ip(&self) -> Option<Sym> {
        (self.flags & HAS_HOST_IP != 0).then_some(self.host_ip)
    }

    /// The status of the `Ready` condition, if the shape has one.
    pub(super) fn ready(&self) -> Option<ConditionStatus> {
        status_of(self.conditions)
    }

    /// The statuses the record holds, by condition type.
    pub(super) fn conditions(&self) -> [(&'static str, Option<ConditionStatus>); 2] {
        [
            (READY, status_of(self.conditions)),
            (CONTAINERS_READY, status_of(self.conditions >> 2)),
        ]
    }
}

impl CompactPod {
    /// A compact Pod of this (interned) shape and record.
    pub(crate) fn new(shape: Arc<Shape>, record: PodRecord) -> CompactPod {
        CompactPod { shape, record }
    }

    /// The shape.
    pub(crate) fn shape(&self) -> &Arc<Shape> {
        &self.shape
    }

    /// The Pod, stored under `name`.
    pub(crate) fn to_pod(&self, name: &str, strings: &Interner) -> Pod {
        self.view(name, strings).to_pod().into_owned()
    }

    /// The view of this pod, stored under `name`.
    pub(crate) fn view<'a>(&'a self, name: &'a str, strings: &'a Interner) -> PodView<'a> {
        PodView::of_parts(&self.shape.pod, &self.record, name, strings)
    }

    /// The interned name of the node (`spec.nodeName`).
    pub(crate) fn node(&self) -> Option<Sym> {
        self.record.node()
    }
}

/// The interned shapes of a cluster's compact pods, each with how many of
/// this cluster's pods use it; a shape leaves the table when the last of
/// them goes. The counts are the table's own, so a cloned cluster (which
/// shares the shapes themselves) keeps and releases its shapes
/// independently of the original.
///
/// At most [`SHAPES_PER_PRINT`] shapes share a fingerprint. Pods that are
/// alike in all the fingerprint reads but differ elsewhere (a dump's
/// pods, each with its own `resourceVersion` or `creationTimestamp`) are
/// compact all the same, past that many each with a shape of its own that
/// the table does not keep, so that interning one compares it with a
/// bounded number of shapes (not with every pod of its workload).
#[derive(Debug, Clone, Default)]
pub(crate) struct Shapes {
    by_print: FxMap<u64, Vec<(Arc<Shape>, u32)>>,
    /// The shape interned last: the next pod, usually of the same
    /// workload, is checked against it before hashing.
    last: Option<Arc<Shape>>,
    count: usize,
}

/// How many shapes the table keeps under one fingerprint.
pub(crate) const SHAPES_PER_PRINT: usize = 8;

/// A cheap fingerprint of a shape, or of a Pod (it reads no per-pod
/// field): what tells workloads apart (the label values, not their keys,
/// which workloads share).
fn fingerprint(shape: &Pod) -> u64 {
    let mut h = TableHasher::default();
    let m = &shape.metadata;
    m.namespace.hash(&mut h);
    m.generate_name.hash(&mut h);
    m.labels.len().hash(&mut h);
    for v in m.labels.values() {
        v.hash(&mut h);
    }
    for o in &m.owner_references {
        o.uid.hash(&mut h);
        o.name.hash(&mut h);
    }
    h.finish()
}

impl Shapes {
    /// The interned shape of `pod` (a Pod the record holds; interned now
    /// if new), counted as used by one more pod; a shape of its own, not
    /// kept, when its fingerprint already has [`SHAPES_PER_PRINT`] other
    /// shapes. `pod` is compared with the candidate shapes as it is
    /// ([`is_shape_of`]): when its shape is interned already it is neither
    /// cloned nor blanked; only a new shape is built from it.
    pub(crate) fn intern(&mut self, pod: Cow<'_, Pod>) -> Arc<Shape> {
        if let Some(last) = &self.last
            && is_shape_of(last, &pod)
        {
            let last = Arc::clone(last);
            return self.share(&last);
        }
        let print = fingerprint(&pod);
        let list = self.by_print.entry(print).or_default();
        let found = match list.iter().position(|(s, _)| is_shape_of(s, &pod)) {
            Some(i) => {
                let (s, uses) = &mut list[i];
                *uses += 1;
                Arc::clone(s)
            }
            None if list.len() < SHAPES_PER_PRINT => {
                let pod = blank(pod.into_owned());
                let s = Arc::new(Shape { pod, print });
                list.push((Arc::clone(&s), 1));
                self.count += 1;
                s
            }
            None => {
                let pod = blank(pod.into_owned());
                return Arc::new(Shape { pod, print });
            }
        };
        self.last = Some(Arc::clone(&found));
        found
    }

    /// `shape` (a stored pod's), used by one more pod.
    pub(crate) fn share(&mut self, shape: &Arc<Shape>) -> Arc<Shape> {
        if let Some(list) = self.by_print.get_mut(&shape.print)
            && let Some((_, uses)) = list.iter_mut().find(|(s, _)| Arc::ptr_eq(s, shape))
        {
            *uses += 1;
        }
        Arc::clone(shape)
    }

    /// A pod using `shape` is going: the shape goes too when that pod was
    /// the last of this cluster's to use it (a shape the table does not
    /// keep goes with its pod).
    pub(crate) fn release(&mut self, shape: &Arc<Shape>) {
        let print = shape.print;
        let Some(list) = self.by_print.get_mut(&print) else {
            return;
        };
        let Some(i) = list.iter().position(|(s, _)| Arc::ptr_eq(s, shape)) else {
            return;
        };
        list[i].1 = list[i].1.saturating_sub(1);
        if list[i].1 > 0 {
            return;
        }
        list.swap_remove(i);
        self.count -= 1;
        if list.is_empty() {
            self.by_print.remove(&print);
        }
        if self.last.as_ref().is_some_and(|l| Arc::ptr_eq(l, shape)) {
            self.last = None;
        }
    }

    /// How many shapes are interned.
    pub(crate) fn len(&self) -> usize {
        self.count
    }
}

/// How a Pod written over a stored one differs from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PodChange {
    /// The labels are the same.
    pub(crate) labels: bool,
    /// All but the labels is the same.
    pub(crate) rest: bool,
    /// Both are compact and have the same shape (only records differ).
    pub(crate) shape: bool,
    /// `spec.nodeName` is the same.
    pub(crate) node: bool,
    /// `status.podIP` and `status.podIPs` are the same.
    pub(crate) ips: bool,
}

/// How the split pod `new` differs from the stored pod `old` (of the same
/// key), compared form for form, neither built. Whether a pod is compact
/// depends on the pod alone, never on its labels: a pod stored in the
/// other form differs in more than its labels.
pub(crate) fn compare(old: PodView<'_>, new: &Split, strings: &Interner) -> PodChange {
    let new = match new {
        Split::Compact(shape, record) => PodView::of_parts(&shape.pod, record, old.name(), strings),
        Split::Given(pod) => PodView::given(pod),
    };
    // Pods of one interned shape share its labels: nothing to compare.
    let labels = std::ptr::eq(old.labels(), new.labels()) || old.labels() == new.labels();
    let (old_pod, old_record) = old.parts();
    let (new_pod, new_record) = new.parts();
    let (rest, shape) = match (old_record, new_record) {
        (Some(a), Some(b)) => {
            // One interned shape: the same but for the records.
            let same = std::ptr::eq(old_pod, new_pod) || same_but_labels(old_pod, new_pod);
            (same && a == b, same && labels)
        }
        (None, None) => (same_but_labels(old_pod, new_pod), false),
        _ => (false, false),
    };
    PodChange {
        labels,
        rest,
        shape,
        node: old.node_name() == new.node_name(),
        ips: old.pod_ip() == new.pod_ip() && old.pod_ips().eq(new.pod_ips()),
    }
}

/// Are two pods the same but for their labels? The status, where changes
/// usually are, is compared first. (Every field is named, so that a field
/// added to the object model is compared too.)
pub(crate) fn same_but_labels(a: &Pod, b: &Pod) -> bool {
    let Pod {
        metadata,
        spec,
        status,
    } = a;
    let ObjectMeta {
        name,
        generate_name,
        namespace,
        uid,
        resource_version,
        creation_timestamp,
        deletion_timestamp,
        labels: _,
        annotations,
        owner_references,
    } = metadata;
    let m = &b.metadata;
    *status == b.status
        && *name == m.name
        && *namespace == m.namespace
        && *uid == m.uid
        && *resource_version == m.resource_version
        && *deletion_timestamp == m.deletion_timestamp
        && *creation_timestamp == m.creation_timestamp
        && *generate_name == m.generate_name
        && *annotations == m.annotations
        && *owner_references == m.owner_references
        && *spec == b.spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{PodCondition, PodStatus};

    const UID: &str = "3f2a1c9e-07bd-4e51-9a6f-0c1d2e3f4a5b";

    fn pod(json: &str) -> Pod {
        serde_json::from_str(json).expect("test pod")
    }

    /// A Pod of a workload, with every per-pod field the record holds.
    fn full() -> Pod {
        pod(&format!(
            r#"{{"metadata": {{"name": "web-1", "namespace": "shop", "uid": "{UID}",
                 "generateName": "web-", "labels": {{"app": "web"}},
                 "ownerReferences": [{{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "name": "web", "uid": "u1", "controller": true}}]}},
               "spec": {{"nodeName": "n1", "hostname": "h",
                 "containers": [{{"name": "c", "ports": [{{"name": "http", "containerPort": 8080}}]}}]}},
               "status": {{"phase": "Running", "podIP": "10.244.1.7", "podIPs": [{{"ip": "10.244.1.7"}}],
                 "hostIP": "192.168.0.1", "hostIPs": [{{"ip": "192.168.0.1"}}],
                 "conditions": [{{"type": "PodScheduled", "status": "True"}},
                   {{"type": "Ready", "status": "False", "reason": "r"}},
                   {{"type": "ContainersReady", "status": "Unknown"}}]}}}}"#
        ))
    }

    fn round_trip(p: &Pod) -> Option<Pod> {
        let mut strings = Interner::default();
        let mut shapes = Shapes::default();
        let Split::Compact(shape, record) = split(Cow::Borrowed(p), &mut strings, &mut shapes)
        else {
            return None;
        };
        let c = CompactPod::new(shape, record);
        let name = p.metadata.name.as_deref().unwrap_or_default();
        let back = c.to_pod(name, &strings);
        // The view reads what the Pod holds.
        let v = c.view(name, &strings);
        assert_eq!(v.name(), name);
        assert_eq!(v.uid().as_deref(), p.metadata.uid.as_deref());
        assert_eq!(v.node_name(), p.spec.node_name.as_deref());
        assert_eq!(v.pod_ip(), p.status.pod_ip.as_deref());
        assert!(
            v.pod_ips()
                .eq(p.status.pod_ips.iter().map(|i| i.ip.as_str()))
        );
        assert_eq!(v.is_ready(), p.is_ready());
        assert_eq!(v.labels(), &p.metadata.labels);
        Some(back)
    }

    // A compacted Pod reads back exactly as written, field for field and
    // as JSON, for every readiness and with fields absent.
    #[test]
    fn a_compact_pod_reads_back_as_written() {
        let mut variants = vec![full()];
        for status in [
            ConditionStatus::True,
            ConditionStatus::False,
            ConditionStatus::Unknown,
        ] {
            let mut p = full();
            for c in &mut p.status.conditions {
                c.status = status;
            }
            variants.push(p);
        }
        let mut bare = full();
        bare.metadata.uid = None;
        bare.spec.node_name = None;
        bare.status = PodStatus::default();
        variants.push(bare);
        let mut v6 = full();
        v6.status.pod_ip = Some("fd00:10:244::7".into());
        v6.status.pod_ips = vec![PodIP {
            ip: "fd00:10:244::7".into(),
        }];
        variants.push(v6);
        let mut empty_node = full();
        empty_node.spec.node_name = Some(String::new());
        variants.push(empty_node);
        for p in variants {
            let back = round_trip(&p).expect("compact");
            assert_eq!(back, p);
            assert_eq!(
                serde_json::to_value(&back).unwrap(),
                serde_json::to_value(&p).unwrap()
            );
        }
    }

    // What the record cannot hold exactly stays as given.
    #[test]
    fn pods_the_record_cannot_hold_stay_as_given() {
        let mut odd: Vec<Pod> = Vec::new();
        let mut p = full();
        p.metadata.uid = Some(UID.to_uppercase());
        odd.push(p);
        let mut p = full();
        p.metadata.uid = Some("not-a-uuid".into());
        odd.push(p);
        let mut p = full();
        p.status.pod_ips.push(PodIP {
            ip: "fd00::7".into(),
        });
        odd.push(p); // dual-stack
        let mut p = full();
        p.status.pod_ips.clear();
        odd.push(p); // podIP without podIPs
        let mut p = full();
        p.status.pod_ip = Some("10.244.001.7".into());
        odd.push(p); // podIP not podIPs[0]
        let mut p = full();
        let long = "fd00:1234:5678:9abc:def0::7";
        p.status.pod_ip = Some(long.into());
        p.status.pod_ips = vec![PodIP { ip: long.into() }];
        odd.push(p); // longer than the record's text
        let mut p = full();
        p.status.host_ips.clear();
        odd.push(p);
        let mut p = full();
        p.status.conditions.push(PodCondition {
            type_: "Ready".into(),
            status: ConditionStatus::True,
            last_transition_time: None,
            reason: None,
            message: None,
        });
        odd.push(p); // two Ready conditions
        let mut p = full();
        p.metadata.name = None;
        odd.push(p);
        for p in odd {
            let mut strings = Interner::default();
            let mut shapes = Shapes::default();
            let given = split(Cow::Borrowed(&p), &mut strings, &mut shapes);
            assert_eq!(given, Split::Given(Cow::Borrowed(&p)));
            assert_eq!(shapes.len(), 0);
        }
    }

    #[test]
    fn uids_pack_only_when_canonical() {
        let packed = pack_uid(UID).expect("canonical");
        assert_eq!(std::str::from_utf8(&unpack_uid(&packed)), Ok(UID));
        for odd in [
            "",
            "3F2A1C9E-07BD-4E51-9A6F-0C1D2E3F4A5B",
            "3f2a1c9e07bd4e519a6f0c1d2e3f4a5b",
            "3f2a1c9e-07bd-4e51-9a6f-0c1d2e3f4a5",
            "3f2a1c9e-07bd-4e51-9a6f_0c1d2e3f4a5b",
            "3f2a1c9e-07bd-4e51-9a6f-0c1d2e3f4a5g",
        ] {
            assert_eq!(pack_uid(odd), None, "{odd}");
        }
    }

    // Pods of one workload share a shape; a shape goes with its last pod.
    #[test]
    fn shapes_are_shared_and_released() {
        let mut strings = Interner::default();
        let mut shapes = Shapes::default();
        let mut store = Vec::new();
        for i in 0..3 {
            let mut p = full();
            p.metadata.name = Some(format!("web-{i}"));
            p.spec.node_name = Some(format!("n{i}"));
            let Split::Compact(shape, record) = split(Cow::Owned(p), &mut strings, &mut shapes)
            else {
                panic!("compact")
            };
            store.push(CompactPod::new(shape, record));
        }
        assert_eq!(shapes.len(), 1);
        assert!(Arc::ptr_eq(store[0].shape(), store[2].shape()));
        let mut other = full();
        other.metadata.labels.insert("tier".into(), "db".into());
        let Split::Compact(shape, record) = split(Cow::Owned(other), &mut strings, &mut shapes)
        else {
            panic!("compact")
        };
        store.push(CompactPod::new(shape, record));
        assert_eq!(shapes.len(), 2);
        while let Some(p) = store.pop() {
            shapes.release(p.shape());
        }
        assert_eq!(shapes.len(), 0);
        assert!(shapes.by_print.is_empty() && shapes.last.is_none());
    }

    // Interning compares the pod as given with the shapes: pods that
    // differ only in what the record holds share one shape; a pod that
    // differs in any other field (one of each struct here) gets another,
    // and each reads back as written.
    #[test]
    fn a_shape_is_shared_exactly_by_pods_alike_but_for_the_record() {
        let mut strings = Interner::default();
        let mut shapes = Shapes::default();
        let base = full();
        let mut intern = |p: &Pod, shapes: &mut Shapes| {
            let Split::Compact(shape, record) = split(Cow::Borrowed(p), &mut strings, shapes)
            else {
                panic!("compact")
            };
            let name = p.metadata.name.as_deref().unwrap_or_default();
            assert_eq!(
                &CompactPod::new(Arc::clone(&shape), record).to_pod(name, &strings),
                p
            );
            shape
        };
        let first = intern(&base, &mut shapes);
        let mut alike = full();
        alike.metadata.name = Some("web-2".into());
        alike.metadata.uid = Some(UID.replace('3', "4"));
        alike.spec.node_name = Some("n2".into());
        alike.status.pod_ip = Some("10.244.2.9".into());
        alike.status.pod_ips = vec![PodIP {
            ip: "10.244.2.9".into(),
        }];
        alike.status.host_ip = Some("192.168.0.2".into());
        alike.status.host_ips = vec![HostIP {
            ip: "192.168.0.2".into(),
        }];
        alike.status.conditions[1].status = ConditionStatus::True;
        alike.status.conditions[2].status = ConditionStatus::False;
        assert!(Arc::ptr_eq(&intern(&alike, &mut shapes), &first));
        let mut others: Vec<(&str, Pod)> = Vec::new();
        let mut p = full();
        p.metadata.annotations.insert("a".into(), "b".into());
        others.push(("ObjectMeta.annotations", p));
        let mut p = full();
        p.metadata.resource_version = Some("7".into());
        others.push(("ObjectMeta.resourceVersion", p));
        let mut p = full();
        p.spec.hostname = Some("other".into());
        others.push(("PodSpec.hostname", p));
        let mut p = full();
        p.status.phase = Some(crate::api::PodPhase::Pending);
        others.push(("PodStatus.phase", p));
        let mut p = full();
        p.status.conditions[0].status = ConditionStatus::False;
        others.push(("PodCondition.status (PodScheduled)", p));
        let mut p = full();
        p.status.conditions[1].reason = Some("other".into());
        others.push(("PodCondition.reason (Ready)", p));
        for (what, p) in &others {
            let shape = intern(p, &mut shapes);
            assert!(!Arc::ptr_eq(&shape, &first), "{what}");
            assert_ne!(shape.pod, first.pod, "{what}");
        }
        assert_eq!(shapes.len(), 1 + others.len());
        // Interned again, each finds its own shape.
        for (what, p) in &others {
            let again = intern(p, &mut shapes);
            assert!(!Arc::ptr_eq(&again, &first), "{what}");
        }
        assert_eq!(shapes.len(), 1 + others.len());
    }

    // The slot's form stays small: a record is a few words.
    #[test]
    fn a_compact_pod_is_small() {
        assert!(std::mem::size_of::<CompactPod>() <= 56);
        assert!(std::mem::size_of::<super::super::stored::Stored>() <= 56);
    }
}
