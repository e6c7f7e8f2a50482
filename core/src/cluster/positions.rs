//! Where each pod's entry sits in the stored EndpointSlices and v1
//! Endpoints objects, so that the one-pod fast paths find it without
//! comparing every endpoint's target.
//!
//! Every stored EndpointSlice has a tag per endpoint, and every stored
//! Endpoints object of one subset a tag per address (ready and not ready,
//! in list order): a 32-bit hash of the target pod's namespace and name.
//! The tags follow every write of the object (computed when it is indexed,
//! dropped when it is unindexed) and every in-place edit (the same
//! replace, remove and insert on the tags). A pod's entries are the
//! positions whose tag is the pod's and whose target is the pod: an
//! unequal tag is never the pod, an equal one is checked. So a lookup
//! compares integers, and the answer is what scanning the targets gives.
//!
//! A compact Endpoints object (`stored.rs`) has the same tags, kept in
//! each address record and copied here; a compact slice's tags are
//! computed from its records (`stored_slice.rs`).

use std::hash::{Hash, Hasher};

use crate::api::{Endpoint, EndpointAddress, Object, ObjectReference};
use crate::table_hash::TableHasher;

use super::ObjId;
use super::endpoints::AddressLike;
use super::intern::FxMap;
use super::stored::Stored;
use super::stored_slice::SliceView;

/// The tag of a pod (or of an entry's target): its namespace and name,
/// hashed.
pub(crate) fn pod_tag(namespace: Option<&str>, name: &str) -> u32 {
    let mut h = TableHasher::default();
    namespace.hash(&mut h);
    name.hash(&mut h);
    let x = h.finish();
    (x ^ (x >> 32)) as u32
}

fn target_tag(r: Option<&ObjectReference>) -> u32 {
    match r {
        Some(r) => pod_tag(r.namespace.as_deref(), &r.name),
        None => pod_tag(None, ""),
    }
}

/// The tag of an EndpointSlice endpoint.
pub(crate) fn endpoint_tag(ep: &Endpoint) -> u32 {
    target_tag(ep.target_ref.as_ref())
}

/// The tag of a v1 Endpoints address.
pub(crate) fn address_tag(a: &EndpointAddress) -> u32 {
    target_tag(a.target_ref.as_ref())
}

/// Does the address carry a pod uid?
pub(crate) fn has_uid(a: &impl AddressLike) -> bool {
    a.uid().is_some_and(|u| !u.is_empty())
}

/// The tags of one Endpoints object of exactly one subset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddressTags {
    /// One per `addresses` entry, in order.
    pub(crate) ready: Vec<u32>,
    /// One per `notReadyAddresses` entry, in order.
    pub(crate) not_ready: Vec<u32>,
    /// How many of the addresses have no pod uid.
    pub(crate) without_uid: u32,
}

impl AddressTags {
    /// The tags of a stored Endpoints object of one subset.
    fn of(e: &Stored) -> Option<AddressTags> {
        match e {
            Stored::Object(o) => match &**o {
                Object::Endpoints(e) => match e.subsets.as_slice() {
                    [s] => Some(AddressTags::of_lists(&s.addresses, &s.not_ready_addresses)),
                    _ => None,
                },
                _ => None,
            },
            Stored::Endpoints(e) => match e.subsets.as_slice() {
                [s] => Some(AddressTags::of_lists(&s.ready, &s.not_ready)),
                _ => None,
            },
            Stored::Slice(_) | Stored::Pod(_) => None,
        }
    }

    /// The tags of one subset's two lists.
    fn of_lists<A: AddressLike>(ready: &[A], not_ready: &[A]) -> AddressTags {
        AddressTags {
            ready: ready.iter().map(A::tag).collect(),
            not_ready: not_ready.iter().map(A::tag).collect(),
            without_uid: ready
                .iter()
                .chain(not_ready)
                .filter(|a| !has_uid(*a))
                .count() as u32,
        }
    }

    /// The list of one readiness.
    pub(crate) fn list(&self, ready: bool) -> &[u32] {
        if ready { &self.ready } else { &self.not_ready }
    }

    pub(crate) fn list_mut(&mut self, ready: bool) -> &mut Vec<u32> {
        if ready {
            &mut self.ready
        } else {
            &mut self.not_ready
        }
    }
}

/// How many tags [`Positions::matching`] compares at once.
const BLOCK: usize = 16;

/// The tags of every stored EndpointSlice and one-subset Endpoints object,
/// by object id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Positions {
    slices: FxMap<ObjId, Vec<u32>>,
    endpoints: FxMap<ObjId, AddressTags>,
}

impl Positions {
    /// A slice was stored (created or replaced) under `id`.
    pub(crate) fn index_slice(&mut self, id: ObjId, slice: SliceView<'_>) {
        self.slices.insert(id, slice.tags());
    }

    /// An Endpoints object was stored under `id`.
    pub(crate) fn index_endpoints(&mut self, id: ObjId, e: &Stored) {
        match AddressTags::of(e) {
            Some(tags) => {
                self.endpoints.insert(id, tags);
            }
            None => {
                self.endpoints.remove(&id);
            }
        }
    }

    /// The object under `id` is gone (or about to be replaced).
    pub(crate) fn forget(&mut self, id: ObjId) {
        self.slices.remove(&id);
        self.endpoints.remove(&id);
    }

    /// The tags of slice `id`.
    pub(crate) fn slice(&self, id: ObjId) -> Option<&[u32]> {
        self.slices.get(&id).map(Vec::as_slice)
    }

    /// The tags of slice `id`, to edit along with the slice.
    pub(crate) fn slice_mut(&mut self, id: ObjId) -> Option<&mut Vec<u32>> {
        self.slices.get_mut(&id)
    }

    /// The tags of Endpoints `id` (one subset only).
    pub(crate) fn endpoints(&self, id: ObjId) -> Option<&AddressTags> {
        self.endpoints.get(&id)
    }

    /// The tags of Endpoints `id`, to edit along with the object.
    pub(crate) fn endpoints_mut(&mut self, id: ObjId) -> Option<&mut AddressTags> {
        self.endpoints.get_mut(&id)
    }

    /// Positions in `tags` whose tag is `tag` (the caller checks the
    /// target).
    ///
    /// The tags are compared a block of [`BLOCK`] at a time with no branch
    /// inside a block (the compiler turns that into vector compares), and
    /// only a block holding the tag is looked into: a miss costs a few
    /// instructions per block instead of a few per tag.
    pub(crate) fn matching(tags: &[u32], tag: u32) -> impl Iterator<Item = usize> + '_ {
        let blocks = tags.chunks(BLOCK);
        blocks
            .enumerate()
            .filter(move |(_, block)| block.iter().fold(false, |hit, &t| hit | (t == tag)))
            .flat_map(move |(b, block)| {
                block
                    .iter()
                    .enumerate()
                    .filter(move |&(_, &t)| t == tag)
                    .map(move |(i, _)| b * BLOCK + i)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EndpointSubset, Endpoints};

    fn address(ns: &str, name: &str, uid: Option<&str>) -> EndpointAddress {
        EndpointAddress {
            ip: "10.0.0.1".into(),
            target_ref: Some(ObjectReference {
                kind: "Pod".into(),
                namespace: Some(ns.into()),
                name: name.into(),
                uid: uid.map(Into::into),
                ..ObjectReference::default()
            }),
            ..EndpointAddress::default()
        }
    }

    #[test]
    fn tags_follow_targets() {
        let e = Endpoints {
            subsets: vec![EndpointSubset {
                addresses: vec![address("a", "p1", Some("u")), address("a", "p2", None)],
                not_ready_addresses: vec![address("b", "p1", Some("v"))],
                ports: Vec::new(),
            }],
            ..Endpoints::default()
        };
        let mut p = Positions::default();
        p.index_endpoints(7, &Stored::Object(Box::new(Object::Endpoints(e))));
        let tags = p.endpoints(7).expect("one subset");
        assert_eq!(tags.without_uid, 1);
        let p1 = pod_tag(Some("a"), "p1");
        assert_eq!(
            Positions::matching(tags.list(true), p1).collect::<Vec<_>>(),
            [0]
        );
        assert!(Positions::matching(tags.list(false), p1).next().is_none());
        // Across blocks: every equal tag, in order.
        let many: Vec<u32> = (0..40).map(|i| if i % 17 == 3 { 9 } else { i }).collect();
        assert_eq!(
            Positions::matching(&many, 9).collect::<Vec<_>>(),
            [3, 9, 20, 37]
        );
        p.forget(7);
        assert!(p.endpoints(7).is_none());
        // Two subsets: no tags (the fast path does not patch those).
        let two = Endpoints {
            subsets: vec![EndpointSubset::default(), EndpointSubset::default()],
            ..Endpoints::default()
        };
        p.index_endpoints(8, &Stored::Object(Box::new(Object::Endpoints(two))));
        assert!(p.endpoints(8).is_none());
    }
}
