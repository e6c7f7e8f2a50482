//! The slices the EndpointSlice controller plans to write, with each
//! endpoint kept as the compact record the store will hold
//! ([`SliceEndpoint`], `stored_slice.rs`) wherever a record holds it.
//!
//! The full reconcile computes a desired endpoint per selected pod; built
//! as an `Endpoint` object, each cost seven allocations that compacting the
//! written slice then turned into one record and dropped. Here the record
//! is built straight from the pod ([`PlannedEndpoint::Record`]), and a
//! slice whose endpoints are all records is stored compact as it is
//! ([`Cluster::write_planned_slice`]), never built as an object. An
//! endpoint a record cannot hold (two addresses, a hint to another zone, a
//! pod in another namespace, …) is an `Endpoint` as before
//! ([`PlannedEndpoint::Object`]), and a slice holding one is written as
//! an object, compacted (or not) by the store as before. The records are
//! an encoding: the slices written, read back, are the objects the
//! controller built before, field for field.

use crate::api::discoveryv1::EndpointPort;
use crate::api::{
    AddressType, Endpoint, EndpointConditions, EndpointHints, EndpointSlice, Kind, Object,
    ObjectKey, ObjectMeta,
};

use super::store_key::{KeyRef, KeyView};
use super::stored::{Compacted, Stored};
use super::stored_slice::{CompactSlice, EndpointView, SliceEndpoint, SliceView};
use super::{Cluster, Tracker};

/// A desired endpoint: a record when a record holds it exactly, else the
/// object (boxed: the plan's lists are sorted and moved, at 32 bytes an
/// entry). A record stands for an endpoint of the slice's namespace (the
/// namespace the caller passes with it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PlannedEndpoint {
    /// A compact record (of an endpoint in the namespace passed with it).
    Record(SliceEndpoint),
    /// An endpoint no record holds.
    Object(Box<Endpoint>),
}

impl PlannedEndpoint {
    /// What a list keeps where an endpoint was taken out: an empty record,
    /// which allocates nothing.
    pub(crate) fn taken() -> PlannedEndpoint {
        let none = EndpointConditions::default();
        match SliceEndpoint::new("", "", None, None, None, None, &none) {
            Some(r) => PlannedEndpoint::Record(r),
            None => PlannedEndpoint::Object(Box::default()),
        }
    }

    /// The endpoint of a stored slice, in its form: a compact slice's
    /// record (of the slice's namespace), else the endpoint.
    pub(crate) fn of_view(v: EndpointView<'_>) -> PlannedEndpoint {
        match v {
            EndpointView::Compact(r, _) => PlannedEndpoint::Record(r.clone()),
            EndpointView::Object(e) => PlannedEndpoint::Object(Box::new(e.clone())),
        }
    }

    /// Read in place, as an endpoint of namespace `ns`.
    pub(crate) fn view<'a>(&'a self, ns: &'a str) -> EndpointView<'a> {
        match self {
            PlannedEndpoint::Record(r) => EndpointView::Compact(r, ns),
            PlannedEndpoint::Object(e) => EndpointView::Object(e),
        }
    }

    /// `conditions`.
    pub(crate) fn conditions(&self) -> EndpointConditions {
        match self {
            PlannedEndpoint::Record(r) => r.conditions(),
            PlannedEndpoint::Object(e) => e.conditions,
        }
    }

    /// Is `conditions.ready` true?
    pub(crate) fn ready(&self) -> bool {
        self.conditions().ready == Some(true)
    }

    /// `zone`.
    pub(crate) fn zone(&self) -> Option<&str> {
        match self {
            PlannedEndpoint::Record(r) => r.zone(),
            PlannedEndpoint::Object(e) => e.zone.as_deref(),
        }
    }

    /// Sets `hints` of this endpoint of namespace `ns`: a record that
    /// cannot hold them becomes the object.
    pub(crate) fn set_hints(&mut self, h: Option<EndpointHints>, ns: &str) {
        if let PlannedEndpoint::Record(r) = self {
            if r.set_hints(h.as_ref()) {
                return;
            }
            *self = PlannedEndpoint::Object(Box::new(r.to_endpoint(ns)));
        }
        if let PlannedEndpoint::Object(e) = self {
            e.hints = h;
        }
    }

    /// The endpoint, of namespace `ns`.
    pub(crate) fn into_endpoint(self, ns: &str) -> Endpoint {
        match self {
            PlannedEndpoint::Record(r) => r.to_endpoint(ns),
            PlannedEndpoint::Object(e) => *e,
        }
    }
}

/// A slice the controller plans to write: an `EndpointSlice` whose
/// endpoints are [`PlannedEndpoint`]s, the records of the slice's own
/// namespace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedSlice {
    pub(crate) metadata: ObjectMeta,
    pub(crate) address_type: AddressType,
    /// Records stand for endpoints of `metadata.namespace` (which is set
    /// when there is one: [`PlannedSlice::push`] keeps it so).
    pub(crate) endpoints: Vec<PlannedEndpoint>,
    pub(crate) ports: Vec<EndpointPort>,
}

impl From<EndpointSlice> for PlannedSlice {
    fn from(s: EndpointSlice) -> PlannedSlice {
        PlannedSlice {
            metadata: s.metadata,
            address_type: s.address_type,
            endpoints: s
                .endpoints
                .into_iter()
                .map(|e| PlannedEndpoint::Object(Box::new(e)))
                .collect(),
            ports: s.ports,
        }
    }
}

impl PlannedSlice {
    /// A stored slice, as it is (a compact slice's records stay records).
    pub(crate) fn of_view(s: SliceView<'_>) -> PlannedSlice {
        PlannedSlice {
            metadata: s.metadata().clone(),
            address_type: s.address_type(),
            endpoints: s.endpoints().map(PlannedEndpoint::of_view).collect(),
            ports: s.ports().to_vec(),
        }
    }

    /// Appends `e`, an endpoint of namespace `ns`: a record of another
    /// namespace than the slice's becomes the object.
    pub(crate) fn push(&mut self, e: PlannedEndpoint, ns: &str) {
        let e = match e {
            PlannedEndpoint::Record(r) if self.metadata.namespace.as_deref() != Some(ns) => {
                PlannedEndpoint::Object(Box::new(r.to_endpoint(ns)))
            }
            e => e,
        };
        self.endpoints.push(e);
    }

    /// Sets the hints of every endpoint to what `f` says (`None`: leave).
    pub(crate) fn set_hints(
        &mut self,
        mut f: impl FnMut(&PlannedEndpoint, &str) -> Option<Option<EndpointHints>>,
    ) {
        // Lent out for the loop (not cloned per slice).
        let namespace = self.metadata.namespace.take();
        let ns = namespace.as_deref().unwrap_or_default();
        for ep in &mut self.endpoints {
            if let Some(h) = f(ep, ns) {
                ep.set_hints(h, ns);
            }
        }
        self.metadata.namespace = namespace;
    }

    /// The slice, built.
    #[cfg(test)]
    pub(crate) fn to_slice(&self) -> EndpointSlice {
        self.clone().into_slice()
    }

    /// The slice, built (the metadata and ports move in).
    pub(crate) fn into_slice(self) -> EndpointSlice {
        let ns = self.metadata.namespace.clone().unwrap_or_default();
        EndpointSlice {
            metadata: self.metadata,
            address_type: self.address_type,
            endpoints: self
                .endpoints
                .into_iter()
                .map(|e| e.into_endpoint(&ns))
                .collect(),
            ports: self.ports,
        }
    }

    /// Its stored form, as `Stored::new` would give for the built slice
    /// written by the controller: compact when it is the EndpointSlice
    /// controller's (its `managed-by` label) in a namespace and every
    /// endpoint is a record; the built slice otherwise (which the store
    /// may still compact).
    pub(crate) fn into_compact(self) -> Compacted<CompactSlice, EndpointSlice> {
        let managed = self
            .metadata
            .labels
            .get(EndpointSlice::MANAGED_BY_LABEL)
            .is_some_and(|m| m == super::CONTROLLER_NAME);
        let all_records = self
            .endpoints
            .iter()
            .all(|e| matches!(e, PlannedEndpoint::Record(_)));
        if !(managed && all_records && self.metadata.namespace.is_some()) {
            return Compacted::Given(self.into_slice());
        }
        // Sized to fit, in an allocation of its own (collecting from the
        // planned endpoints' `Vec` would reuse its larger allocation).
        let mut endpoints = Vec::with_capacity(self.endpoints.len());
        for e in self.endpoints {
            if let PlannedEndpoint::Record(r) = e {
                endpoints.push(r);
            }
        }
        Compacted::Compact(CompactSlice {
            metadata: self.metadata,
            address_type: self.address_type,
            endpoints,
            ports: self.ports,
        })
    }
}

impl Cluster {
    /// Writes a slice the controller planned, as the controller's own
    /// write (tracked, marking nothing dirty): stored compact without being
    /// built when it can be (see [`PlannedSlice::into_compact`]), else
    /// built and written as an object. Either way the store ends as
    /// writing the built slice leaves it.
    pub(super) fn write_planned_slice(&mut self, slice: PlannedSlice, t: &mut Tracker) {
        let c = match slice.into_compact() {
            Compacted::Compact(c) => c,
            Compacted::Given(s) => {
                self.write_internal(Object::EndpointSlice(s), t);
                return;
            }
        };
        let mut scratch = Tracker {
            internal: true,
            ..Tracker::default()
        };
        let found = self
            .ids
            .get(&KeyRef {
                kind: Kind::EndpointSlice,
                namespace: c.metadata.namespace.as_deref(),
                name: c.metadata.name.as_deref().unwrap_or_default(),
            } as &dyn KeyView)
            .copied();
        match found {
            Some(id) => {
                let same = self.slot(id).is_some_and(|old| match &old.object {
                    Stored::Slice(o) => **o == c,
                    Stored::Object(o) => match &**o {
                        Object::EndpointSlice(s) => c.same_as(s),
                        _ => false,
                    },
                    _ => false,
                });
                if same {
                    return;
                }
                let Some(key) = self.slot(id).map(|s| s.key.clone()) else {
                    return;
                };
                scratch.touched.note(&key, true);
                self.unindex(id, &mut scratch);
                self.put(id, Stored::Slice(Box::new(c)));
                self.index(id, &mut scratch);
            }
            None => {
                let key = ObjectKey {
                    kind: Kind::EndpointSlice,
                    namespace: c.metadata.namespace.clone(),
                    name: c.metadata.name.clone().unwrap_or_default(),
                };
                let id = self.insert(key, Stored::Slice(Box::new(c)), &mut scratch);
                self.index(id, &mut scratch);
            }
        }
        t.touched.absorb(scratch.touched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ClusterConfig;

    fn object(json: &str) -> Object {
        serde_json::from_str(json).expect("test object")
    }

    fn pod(i: usize, node: &str, ready: bool) -> Object {
        object(&format!(
            r#"{{"apiVersion": "v1", "kind": "Pod",
               "metadata": {{"name": "p{i}", "namespace": "shop", "uid": "uid-{i}", "labels": {{"app": "web"}}}},
               "spec": {{"nodeName": "{node}", "containers": [{{"name": "c", "ports": [{{"name": "http", "containerPort": 8080}}]}}]}},
               "status": {{"phase": "Running", "podIP": "10.244.0.{i}", "podIPs": [{{"ip": "10.244.0.{i}"}}],
                          "conditions": [{{"type": "Ready", "status": "{}"}}]}}}}"#,
            if ready { "True" } else { "False" }
        ))
    }

    fn node(name: &str, zone: &str, cpu: &str) -> Object {
        object(&format!(
            r#"{{"apiVersion": "v1", "kind": "Node",
               "metadata": {{"name": "{name}", "labels": {{"topology.kubernetes.io/zone": "{zone}"}}}},
               "status": {{"allocatable": {{"cpu": "{cpu}"}}, "conditions": [{{"type": "Ready", "status": "True"}}]}}}}"#
        ))
    }

    fn service(annotations: &str, team: &str) -> Object {
        object(&format!(
            r#"{{"apiVersion": "v1", "kind": "Service",
               "metadata": {{"name": "web", "namespace": "shop", "labels": {{"team": "{team}"}}, "annotations": {{{annotations}}}}},
               "spec": {{"clusterIP": "10.96.0.20", "selector": {{"app": "web"}},
                        "ports": [{{"name": "http", "port": 80, "targetPort": "http"}}]}}}}"#
        ))
    }

    /// Checks that every slice is stored in the form the store gives the
    /// slice built and written by the controller (the old path: compact
    /// with the same records, or as given); returns how many slices are
    /// compact and how many are not.
    fn stored_as_built(c: &Cluster) -> (usize, usize) {
        let (mut compact, mut given) = (0, 0);
        for slot in c.slots.iter().flatten() {
            if slot.object.kind() != Kind::EndpointSlice {
                continue;
            }
            let built = slot.object.to_object(&slot.key.name, &c.strings);
            match (&slot.object, Stored::new(built.into_owned(), true)) {
                (Stored::Slice(a), Stored::Slice(b)) => {
                    assert_eq!(**a, *b);
                    compact += 1;
                }
                (Stored::Object(a), Stored::Object(b)) => {
                    assert_eq!(**a, *b);
                    given += 1;
                }
                (a, b) => panic!("stored {a:?}, the old path gives {b:?}"),
            }
        }
        (compact, given)
    }

    // Through builds, pods coming, going and flipping readiness, a Service
    // label change and topology-Auto hints to another zone (endpoints no
    // record holds), with and without the one-pod fast path, every slice
    // the controller writes is stored as the old path stored it.
    #[test]
    fn slices_are_stored_as_the_old_path_stored_them() {
        for (fast, auto) in [(false, false), (true, false), (false, true)] {
            let mut c = Cluster::new(ClusterConfig {
                bootstrap: false,
                max_endpoints_per_slice: 4,
                ..ClusterConfig::default()
            })
            .expect("config");
            c.set_fast_path(fast);
            let annotations = if auto {
                r#""service.kubernetes.io/topology-mode": "Auto""#
            } else {
                ""
            };
            let mut objects = vec![
                object(
                    r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#,
                ),
                node("na", "a", "2"),
                node("nb", "b", "1"),
                service(annotations, "a"),
            ];
            // Most pods in zone b: Auto hints some of them to zone a.
            objects.extend((1..10).map(|i| pod(i, if i < 3 { "na" } else { "nb" }, true)));
            c.apply_batch(objects).expect("build");
            let mut seen = stored_as_built(&c);
            for i in [4, 7] {
                c.apply(pod(i, "nb", false)).expect("flip");
                stored_as_built(&c);
            }
            let key = |i: usize| ObjectKey {
                kind: Kind::Pod,
                namespace: Some("shop".into()),
                name: format!("p{i}"),
            };
            for i in [1, 5, 6] {
                c.delete(&key(i)).expect("delete");
                stored_as_built(&c);
            }
            c.apply_batch((10..14).map(|i| pod(i, "na", true)).collect())
                .expect("more");
            stored_as_built(&c);
            let changes = c.apply(service(annotations, "b")).expect("relabel");
            let (compact, given) = stored_as_built(&c);
            assert_eq!(
                changes.of_kind(Kind::EndpointSlice).updated.len(),
                compact + given
            );
            seen = (seen.0 + compact, seen.1 + given);
            assert!(seen.0 > 0);
            assert_eq!(seen.1 > 0, auto, "Auto hints to another zone stay objects");
        }
    }
}
