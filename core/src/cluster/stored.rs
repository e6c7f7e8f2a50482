//! The form an object takes in the store.
//!
//! Most objects are kept as given ([`Stored::Object`]). The v1 `Endpoints`
//! objects the Endpoints controller writes are kept compact
//! ([`Stored::Endpoints`]): the controller's own metadata in a plain form
//! (`stored/endpoints_meta.rs`; any other as given), the ports as a list
//! shared between objects with equal ports (`stored/port_lists.rs`), and
//! each address as a small record ([`Address`], 32 bytes and one
//! allocation holding its strings) instead of an `EndpointAddress` (216
//! bytes and five allocations). The object is built on read
//! ([`Stored::to_object`]); a readiness flip moves a 32-byte record
//! between the ready and not-ready lists.
//!
//! Pods are kept compact too ([`Stored::Pod`], `stored_pod.rs`): a shape
//! shared by the pods of a workload and a small record of each pod's own
//! fields. The cluster compacts them, as it interns their shapes.
//!
//! The compact form is exact: an object is compacted only when every
//! address is one the record rebuilds field for field (a `Pod` target in
//! the object's own namespace, without `apiVersion` or `resourceVersion`,
//! strings short enough for the record's lengths); any other object stays
//! as given. So reading a stored object gives back the object written,
//! byte for byte, in either form.
//!
//! The EndpointSlice controller's slices have a compact form of their own
//! ([`Stored::Slice`], `stored_slice.rs`), exact in the same way.

use std::borrow::Cow;
use std::sync::Arc;

use crate::api::corev1::EndpointPort;
use crate::api::{EndpointAddress, EndpointSubset, Endpoints, Kind, Object, ObjectReference};

use super::intern::Interner;
use super::packed_text::PackedText;
use super::pod_view::PodView;
use super::positions::pod_tag;
use super::stored_pod::CompactPod;
use super::stored_slice::{CompactSlice, SliceView};
use crate::labels::Labels;

mod endpoints_meta;
mod port_lists;

pub(crate) use endpoints_meta::{EndpointsMeta, LabelForm};
pub(crate) use port_lists::PortLists;

/// One stored object. The object kept as given is boxed, so that a slot
/// is as small as the compact forms.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// As given.
    Object(Box<Object>),
    /// A controller-written v1 Endpoints object, compact.
    Endpoints(Box<CompactEndpoints>),
    /// An EndpointSlice controller's slice, compact (`stored_slice.rs`).
    Slice(Box<CompactSlice>),
    /// A Pod, compact (`stored_pod.rs`): the shape it shares with the
    /// other pods of its workload, and its own fields.
    Pod(CompactPod),
}

/// What compacting an object gave: its compact form, or the object back
/// (untouched) when the compact form cannot hold it exactly.
pub(crate) enum Compacted<C, O> {
    /// The compact form.
    Compact(C),
    /// The object as given.
    Given(O),
}

impl Stored {
    /// How `object` is stored: compact when it is an Endpoints object the
    /// controller wrote (`controller`) and the compact form holds it
    /// exactly, as given otherwise. (Pods are compacted by the cluster,
    /// which interns their shapes.)
    pub(crate) fn new(object: Object, controller: bool) -> Stored {
        match object {
            Object::Endpoints(e) if controller => match CompactEndpoints::of(e) {
                Compacted::Compact(c) => Stored::Endpoints(Box::new(c)),
                Compacted::Given(e) => Stored::Object(Box::new(Object::Endpoints(e))),
            },
            Object::EndpointSlice(s)
                if controller
                    && s.metadata
                        .labels
                        .get(crate::api::EndpointSlice::MANAGED_BY_LABEL)
                        .is_some_and(|m| m == super::CONTROLLER_NAME) =>
            {
                match CompactSlice::of(s) {
                    Compacted::Compact(c) => Stored::Slice(Box::new(c)),
                    Compacted::Given(s) => Stored::Object(Box::new(Object::EndpointSlice(s))),
                }
            }
            o => Stored::Object(Box::new(o)),
        }
    }

    /// The object, when it is stored as given.
    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Stored::Object(o) => Some(o),
            Stored::Endpoints(_) | Stored::Slice(_) | Stored::Pod(_) => None,
        }
    }

    /// The object stored under `name` (built when it is stored compact;
    /// `strings` are the cluster's, which name a compact pod's node).
    pub(crate) fn to_object(&self, name: &str, strings: &Interner) -> Cow<'_, Object> {
        match self {
            Stored::Object(o) => Cow::Borrowed(o),
            Stored::Endpoints(e) => Cow::Owned(Object::Endpoints(e.to_endpoints())),
            Stored::Slice(s) => Cow::Owned(Object::EndpointSlice(s.to_slice())),
            Stored::Pod(p) => Cow::Owned(Object::Pod(p.to_pod(name, strings))),
        }
    }

    /// The object, if it is an Endpoints object (built when compact).
    pub(crate) fn endpoints(&self) -> Option<Cow<'_, Endpoints>> {
        match self {
            Stored::Object(o) => match &**o {
                Object::Endpoints(e) => Some(Cow::Borrowed(e)),
                _ => None,
            },
            Stored::Endpoints(e) => Some(Cow::Owned(e.to_endpoints())),
            Stored::Slice(_) | Stored::Pod(_) => None,
        }
    }

    /// The object, if it is an EndpointSlice, read without building it.
    pub(crate) fn slice(&self) -> Option<SliceView<'_>> {
        match self {
            Stored::Object(o) => match &**o {
                Object::EndpointSlice(s) => Some(SliceView::Object(s)),
                _ => None,
            },
            Stored::Slice(c) => Some(SliceView::Compact(c)),
            _ => None,
        }
    }

    /// The pod stored under `name`, if it is one, as the controllers read it.
    pub(crate) fn pod<'a>(&'a self, name: &'a str, strings: &'a Interner) -> Option<PodView<'a>> {
        match self {
            Stored::Object(o) => match &**o {
                Object::Pod(p) => Some(PodView::given(p)),
                _ => None,
            },
            Stored::Pod(p) => Some(p.view(name, strings)),
            Stored::Endpoints(_) | Stored::Slice(_) => None,
        }
    }

    /// The object's kind.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Stored::Object(o) => o.kind(),
            Stored::Endpoints(_) => Kind::Endpoints,
            Stored::Slice(_) => Kind::EndpointSlice,
            Stored::Pod(_) => Kind::Pod,
        }
    }

    /// The object's labels.
    pub(crate) fn labels(&self) -> &dyn Labels {
        match self {
            Stored::Object(o) => &o.metadata().labels,
            Stored::Endpoints(e) => e.metadata.labels(),
            Stored::Slice(s) => &s.metadata.labels,
            Stored::Pod(p) => &p.shape().metadata.labels,
        }
    }

    /// Is the stored object the one `c` stands for? (Compared without
    /// building either.)
    pub(crate) fn same_as_compact(&self, c: &CompactEndpoints) -> bool {
        match self {
            Stored::Endpoints(mine) => **mine == *c,
            Stored::Object(o) => match &**o {
                Object::Endpoints(e) => c.same_as(e),
                _ => false,
            },
            Stored::Slice(_) | Stored::Pod(_) => false,
        }
    }

    /// Is the stored object `object`? (Not for pods stored compact: the
    /// write path compares those through their views.)
    pub(crate) fn same_as(&self, object: &Object) -> bool {
        match (self, object) {
            (Stored::Object(o), _) => **o == *object,
            (Stored::Endpoints(c), Object::Endpoints(e)) => c.same_as(e),
            (Stored::Endpoints(_), _) => false,
            (Stored::Slice(c), Object::EndpointSlice(s)) => c.same_as(s),
            (Stored::Slice(_), _) => false,
            (Stored::Pod(_), _) => false,
        }
    }
}

/// A v1 Endpoints object, compact: its metadata (plain when the
/// controller's own, `endpoints_meta.rs`), and per subset its ports and
/// its addresses as [`Address`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactEndpoints {
    pub(crate) metadata: EndpointsMeta,
    pub(crate) subsets: Vec<CompactSubset>,
}

/// One subset of a [`CompactEndpoints`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactSubset {
    /// `addresses`, in order.
    pub(crate) ready: Vec<Address>,
    /// `notReadyAddresses`, in order.
    pub(crate) not_ready: Vec<Address>,
    /// `ports`, as given (shared between objects: `port_lists.rs`).
    pub(crate) ports: Arc<[EndpointPort]>,
}

impl CompactEndpoints {
    /// The compact form of `e`, if it holds `e` exactly; `e` back
    /// otherwise. (Taken by value: its metadata and ports move in.)
    pub(crate) fn of(e: Endpoints) -> Compacted<CompactEndpoints, Endpoints> {
        let Some(ns) = e.metadata.namespace.as_deref() else {
            return Compacted::Given(e);
        };
        // Sized once (collecting through `Option` would grow the lists by
        // doubling, up to twice the room).
        let list = |l: &[EndpointAddress]| -> Option<Vec<Address>> {
            let mut out = Vec::with_capacity(l.len());
            for a in l {
                out.push(Address::of(a, ns)?);
            }
            Some(out)
        };
        let mut lists = Vec::with_capacity(e.subsets.len());
        for s in &e.subsets {
            match (list(&s.addresses), list(&s.not_ready_addresses)) {
                (Some(ready), Some(not_ready)) => lists.push((ready, not_ready)),
                _ => return Compacted::Given(e),
            }
        }
        // Held exactly: the metadata and the ports move in. Pushed into a
        // list of its own size (collecting would reuse the larger
        // subsets' allocation, with room to spare).
        let mut subsets = Vec::with_capacity(e.subsets.len());
        for (s, (ready, not_ready)) in e.subsets.into_iter().zip(lists) {
            subsets.push(CompactSubset {
                ready,
                not_ready,
                ports: s.ports.into(),
            });
        }
        Compacted::Compact(CompactEndpoints {
            metadata: EndpointsMeta::of(e.metadata),
            subsets,
        })
    }

    /// The namespace of the object (and of every address's target).
    pub(crate) fn namespace(&self) -> &str {
        self.metadata.namespace().unwrap_or_default()
    }

    /// The object.
    pub(crate) fn to_endpoints(&self) -> Endpoints {
        let ns = self.namespace();
        let list = |l: &[Address]| l.iter().map(|a| a.to_address(ns)).collect();
        Endpoints {
            metadata: self.metadata.to_meta(),
            subsets: self
                .subsets
                .iter()
                .map(|s| EndpointSubset {
                    addresses: list(&s.ready),
                    not_ready_addresses: list(&s.not_ready),
                    ports: s.ports.to_vec(),
                })
                .collect(),
        }
    }

    /// Is this `e` (compared without building it)?
    pub(crate) fn same_as(&self, e: &Endpoints) -> bool {
        self.metadata.is(&e.metadata) && subsets_are(&self.subsets, &e.subsets, self.namespace())
    }
}

/// Are `mine` (of an Endpoints object in namespace `ns`) the subsets
/// `theirs`? Compared without building either.
pub(crate) fn subsets_are(mine: &[CompactSubset], theirs: &[EndpointSubset], ns: &str) -> bool {
    let same = |m: &[Address], t: &[EndpointAddress]| {
        m.len() == t.len() && m.iter().zip(t).all(|(m, t)| m.is(t, ns))
    };
    mine.len() == theirs.len()
        && mine.iter().zip(theirs).all(|(m, t)| {
            *m.ports == *t.ports
                && same(&m.ready, &t.addresses)
                && same(&m.not_ready, &t.not_ready_addresses)
        })
}

/// One address of a compact Endpoints object: what a controller-written
/// `EndpointAddress` holds, its strings in one allocation.
///
/// It stands for `{ip, hostname, nodeName, targetRef: {kind: "Pod",
/// namespace: <the object's>, name, uid}}`; `packed` holds the IP, the
/// pod's name, its uid, the hostname and the node name (parts `IP` to
/// `NODE`), and beside them the position index's tag of the target pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    packed: PackedText<5, u32>,
}

const IP: usize = 0;
const NAME: usize = 1;
const UID: usize = 2;
const HOSTNAME: usize = 3;
const NODE: usize = 4;

impl Address {
    /// The record of an address of the Endpoints object in namespace
    /// `ns`; `None` when the record cannot hold it exactly.
    pub(crate) fn of(a: &EndpointAddress, ns: &str) -> Option<Address> {
        let EndpointAddress {
            ip,
            hostname,
            node_name,
            target_ref,
        } = a;
        let ObjectReference {
            api_version: None,
            kind,
            namespace: Some(target_ns),
            name,
            uid,
            resource_version: None,
        } = target_ref.as_ref()?
        else {
            return None;
        };
        if kind != "Pod" || target_ns != ns {
            return None;
        }
        Address::new(
            ip,
            ns,
            name,
            uid.as_deref(),
            hostname.as_deref(),
            node_name.as_deref(),
        )
    }

    /// The record of the address `{ip, hostname, nodeName, targetRef: Pod
    /// ns/name (uid)}`; `None` when a string is too long for it.
    pub(crate) fn new(
        ip: &str,
        ns: &str,
        name: &str,
        uid: Option<&str>,
        hostname: Option<&str>,
        node: Option<&str>,
    ) -> Option<Address> {
        let parts = [Some(ip), Some(name), uid, hostname, node];
        Some(Address {
            packed: PackedText::new(parts, pod_tag(Some(ns), name))?,
        })
    }

    /// `ip`.
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

    /// The position index's tag of the target pod.
    pub(crate) fn tag(&self) -> u32 {
        self.packed.extra
    }

    /// The address, for the Endpoints object in namespace `ns`.
    pub(crate) fn to_address(&self, ns: &str) -> EndpointAddress {
        EndpointAddress {
            ip: self.ip().to_owned(),
            hostname: self.hostname().map(str::to_owned),
            node_name: self.node_name().map(str::to_owned),
            target_ref: Some(pod_target(ns, self.name(), self.uid())),
        }
    }

    /// Is `a` this address (of the Endpoints object in namespace `ns`)?
    pub(crate) fn is(&self, a: &EndpointAddress, ns: &str) -> bool {
        a.ip == self.ip()
            && a.hostname.as_deref() == self.hostname()
            && a.node_name.as_deref() == self.node_name()
            && a.target_ref
                .as_ref()
                .is_some_and(|r| is_pod_target(r, ns, self.name(), self.uid()))
    }
}

/// The target a compact record stands for: `{kind: "Pod", namespace: ns,
/// name, uid}`, nothing else set.
pub(super) fn pod_target(ns: &str, name: &str, uid: Option<&str>) -> ObjectReference {
    ObjectReference {
        kind: "Pod".to_owned(),
        namespace: Some(ns.to_owned()),
        name: name.to_owned(),
        uid: uid.map(str::to_owned),
        ..ObjectReference::default()
    }
}

/// Is `r` exactly [`pod_target`]`(ns, name, uid)`? Every field is named,
/// so that a field added to the object model is compared.
pub(super) fn is_pod_target(r: &ObjectReference, ns: &str, name: &str, uid: Option<&str>) -> bool {
    let ObjectReference {
        api_version,
        kind,
        namespace,
        name: r_name,
        uid: r_uid,
        resource_version,
    } = r;
    kind == "Pod"
        && namespace.as_deref() == Some(ns)
        && r_name == name
        && r_uid.as_deref() == uid
        && api_version.is_none()
        && resource_version.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectMeta;

    fn address(uid: Option<&str>, hostname: Option<&str>, node: Option<&str>) -> EndpointAddress {
        EndpointAddress {
            ip: "10.244.1.7".into(),
            hostname: hostname.map(Into::into),
            node_name: node.map(Into::into),
            target_ref: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: Some("shop".into()),
                name: "web-1".into(),
                uid: uid.map(Into::into),
                ..ObjectReference::default()
            }),
        }
    }

    // Every combination of present, empty and absent optional fields comes
    // back as written.
    #[test]
    fn an_address_comes_back_as_written() {
        let opts = [None, Some(""), Some("x-1")];
        for uid in opts {
            for host in opts {
                for node in opts {
                    let a = address(uid, host, node);
                    let r = Address::of(&a, "shop").expect("representable");
                    assert_eq!(r.to_address("shop"), a);
                    assert!(r.is(&a, "shop"));
                    assert_eq!(r.tag(), pod_tag(Some("shop"), "web-1"));
                }
            }
        }
        assert!(std::mem::size_of::<Address>() <= 32);
    }

    // The record stays 32 bytes (the figures in the module docs).
    #[test]
    fn an_address_record_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Address>(), 32);
    }

    // What the record cannot hold stays out: another namespace, another
    // kind, a resourceVersion, no target.
    #[test]
    fn what_the_record_cannot_hold_is_refused() {
        let a = address(Some("u"), None, Some("n1"));
        assert!(Address::of(&a, "other").is_none());
        let mut b = a.clone();
        b.target_ref.as_mut().unwrap().kind = "Node".into();
        assert!(Address::of(&b, "shop").is_none());
        let mut c = a.clone();
        c.target_ref.as_mut().unwrap().resource_version = Some("3".into());
        assert!(Address::of(&c, "shop").is_none());
        let d = EndpointAddress {
            target_ref: None,
            ..a
        };
        assert!(Address::of(&d, "shop").is_none());
    }

    // An Endpoints object is stored compact only when written by the
    // controller and held exactly; either way it reads back as written.
    #[test]
    fn an_endpoints_object_reads_back_as_written() {
        let e = Endpoints {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("shop".into()),
                ..ObjectMeta::default()
            },
            subsets: vec![EndpointSubset {
                addresses: vec![address(Some("u"), None, Some("n1"))],
                not_ready_addresses: vec![address(None, Some("h"), None)],
                ports: vec![EndpointPort {
                    port: 80,
                    ..EndpointPort::default()
                }],
            }],
        };
        let o = Object::Endpoints(e.clone());
        let compact = Stored::new(o.clone(), true);
        assert!(matches!(compact, Stored::Endpoints(_)));
        assert_eq!(*compact.to_object("web", &Interner::default()), o);
        assert!(compact.same_as(&o));
        assert!(matches!(Stored::new(o.clone(), false), Stored::Object(_)));
        let mut odd = e;
        odd.subsets[0].addresses[0].target_ref = None;
        let odd = Object::Endpoints(odd);
        assert!(matches!(Stored::new(odd.clone(), true), Stored::Object(_)));
        assert!(!compact.same_as(&odd));
    }
}
