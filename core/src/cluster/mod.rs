//! # cluster: the object store and its controllers
//!
//! A [`Cluster`] holds what a real control plane holds once its controllers
//! have settled: the objects you gave it, and the objects its controllers
//! derive from them (EndpointSlices today; allocations and workload Pods
//! next). You drive it; it never reads a clock or a file.
//!
//! ## The model
//!
//! * **Objects are stored state.** [`Cluster::apply`] takes an object as
//!   the API server would store it: fields already set (cluster IPs, node
//!   ports, pod CIDRs, pod IPs) are kept. A namespaced object without a
//!   namespace goes to `default`; the namespace of any namespaced object is
//!   created if missing (a dump's objects imply their namespaces).
//! * **Atomic batches.** [`Cluster::apply_batch`] checks every object first
//!   and refuses the whole batch, reporting every problem, or applies all
//!   of it; then the controllers settle once.
//! * **Changes are returned.** Every call returns the [`Changes`] it caused,
//!   the controllers' own writes included (EndpointSlices created, updated
//!   and deleted), so a caller can update its own views incrementally.
//! * **Settled.** After every call the EndpointSlice controller (rules
//!   EP-1 … EP-11 of `services.md`) and the mirroring controller (EP-12)
//!   have reconciled every Service the call could affect, and only those.
//!
//! ## Store once, index twice
//!
//! Objects live in one arena addressed by small integer ids, with a
//! `(kind, namespace, name)` index for reads. Namespaces, label keys and
//! label values are interned. Two label indexes make updates local:
//!
//! * `(namespace, key, value) → pods`: a Service's pods are the shortest
//!   posting list of its selector's pairs, filtered;
//! * `(namespace, key, value) → Services whose selector has that pair`: a
//!   Pod change looks only at the Services listed under its old and new
//!   labels.
//!
//! No update path scans all pods or all Services.
//!
//! ## Stored forms
//!
//! A slot holds an object in a stored form (`stored.rs`): as given
//! (boxed, so that a slot is 64 bytes whatever the kind), or compact:
//!
//! * **v1 Endpoints objects the Endpoints controller writes**: the
//!   metadata and ports as given, each address a 32-byte record whose
//!   strings share one allocation (about 80 bytes an address instead of
//!   about 270);
//! * **Pods** (`stored_pod.rs`): a shape shared by the pods of one
//!   workload (an `Arc<Pod>` holding every field but the per-pod ones,
//!   interned per cluster by a fingerprint of namespace, labels,
//!   `generateName` and owners, confirmed by equality, and dropped with
//!   its last pod) and a 56-byte record of the per-pod fields: the name is
//!   the slot's key, the uid 16 bytes (a canonical lowercase UUID), the
//!   node and host IP interned symbols, the pod IP's text inline (when
//!   `podIPs` is `[podIP]`), the `Ready` and `ContainersReady` statuses
//!   two bits each. The synthetic cluster's 150,000 pods share 10,000
//!   shapes.
//!
//! Either compact form is exact by construction: an object is compacted
//! only when the record rebuilds it field for field, and any other stays
//! as given (user-written Endpoints always do; so do dual-stack pods, pods
//! with an upper-case uid, `podIP` without `podIPs`, ...). Reads hand out
//! [`Cow`]s: [`Cluster::get`], [`Cluster::list`] and
//! [`Cluster::endpoints`] borrow an object kept as given and build a
//! compact one, which reads back exactly as written. The controllers,
//! the label index and the write path read pods through a view
//! (`PodView`) of either form and build none: a write compares the
//! incoming pod, split the same way, with the stored shape and record, so
//! a readiness flip of a compact pod stores a new record with the same
//! shape. The one-pod fast path edits the compact Endpoints form in
//! place: a readiness flip moves one record between the ready and
//! not-ready lists.
//!
//! The EndpointSlice controller's slices are compact too
//! (`stored_slice.rs`): metadata, address type and ports as given, each
//! endpoint a 32-byte record (conditions and hints as bits, its strings in
//! one allocation), about 190 bytes a pod's endpoint with its share of the
//! slice instead of about 620. [`Cluster::endpoint_slices`] builds them;
//! the controllers, the dataplane compile and the DNS index read them in
//! place (`SliceView`), and the one-pod fast path flips conditions and
//! replaces, removes or appends records in place. Mirrored and users'
//! slices, and endpoints a record cannot hold (two addresses,
//! topology-Auto hints to another zone), stay as given.
//!
//! ## Incremental reconciles
//!
//! A Service that only one pod's change touched is reconciled by a fast
//! path that edits the stored slices in place (replace, remove or append
//! one endpoint), without looking at the Service's other pods. It runs only
//! when its result is provably the full reconcile's (the property tests
//! check the two write identical state); otherwise, and for every other
//! trigger (a Service, a Node, an Endpoints object, a controller-labelled
//! slice written by someone else), the Service is reconciled in full.
//!
//! The fast paths find the pod through a position index (`positions.rs`):
//! every stored slice and one-subset Endpoints object carries a 32-bit tag
//! per entry (a hash of the target pod's namespace and name), kept in step
//! with every write and in-place edit, so finding the pod compares
//! integers and checks only the equal tags. A readiness flip sets the
//! endpoint's conditions in place and moves the pod's Endpoints address
//! between `addresses` and `notReadyAddresses` (binary-searched, the lists
//! stay in address order); nothing is built unless it changes. A label
//! change moves only the label pairs that change in the pod index, and
//! when nothing but labels changed it marks only the Services that gained
//! or lost the pod (upstream's `podChanged == false` case): no endpoint
//! reads a pod's labels, so a Service that selects the pod before and
//! after has nothing to do.
//!
//! ## What is modelled, and what is not yet
//!
//! * EndpointSlice controller: EP-1 … EP-10 (selection, conditions,
//!   hostnames, per-pod named ports with sidecars, port-list grouping,
//!   address types, upstream packing with to-update / unchanged / create,
//!   the placeholder, `finalize`'s create-to-update, slice labels,
//!   `trafficDistribution` hints). Where upstream picks at random (which
//!   endpoint lands in which slice, which of equally good slices is
//!   filled) the choice here is deterministic. Upstream's own history
//!   dependence is kept: a placeholder can survive next to real slices when
//!   a port group is wanted only by pods without an endpoint.
//! * EP-11 (`topology-mode: Auto`): zone weights from the allocatable CPU
//!   of ready nodes, the safeguards, same-zone hints and the redistribution
//!   to short zones, as upstream's topology cache (zones visited in name
//!   order where upstream iterates a map). Every Node change reconciles the
//!   Auto Services again; the weights are recomputed from all Nodes once
//!   per call that needs them.
//! * Mirroring (EP-12): one slice per (port list, address type) of a
//!   selector-less Service's `Endpoints`, at most
//!   `mirroring_max_endpoints_per_subset` endpoints, `skip-mirror` honoured.
//! * Workloads and scheduling: Deployments, ReplicaSets, StatefulSets and
//!   DaemonSets make Pods, placed by a deterministic scheduler, before the
//!   EndpointSlice controller settles (see [`workloads`] and [`scheduler`]).
//! * Controller-managed slices of a Service that is deleted, loses its
//!   selector or becomes `ExternalName` are deleted (upstream leaves them to
//!   garbage collection or keeps them).
//! * The v1 Endpoints controller (`endpoints.rs`) beside the slice
//!   controller, for the same Services.
//! * Admission (`admit.rs`): Services and Nodes are defaulted, validated
//!   and allocated on the write path (stored values kept, D7); a
//!   load-balancer provider fills LoadBalancer statuses.
//! * Deleting a Namespace does not delete its objects.
//!
//! ## Performance
//!
//! Measured with `benches/quiet cluster` (criterion, the bench pinned to
//! one CPU under SCHED_FIFO on a shared 2-core machine whose other vCPU
//! compiles, so single runs vary by up to 2×), default config (Endpoints
//! controller on), for a synthetic cluster at the published limits (5,000
//! nodes, 150,000 pods, 10,000 Services, up to 250 endpoints per Service).
//! Instruction counts per call come from the bench's callgrind mode
//! (`CLUSTER_CALLGRIND`, see `benches/benches/cluster.rs`).
//! Session 7, two full quiet runs: one Pod label change 1.7–2.0 µs
//! (15-pod Service) and 1.7–1.9 µs (250-pod Service); readiness flip
//! 2.5 µs and 3.0–3.8 µs; build 1.4–1.6 s; 3,739 bytes per pod in all.
//!
//! Session 8, compact Pods and compact slices together (one full quiet
//! run, load 1.4–1.6): **1,254 bytes per pod in all** (was 3,739; 179.5
//! MiB for the whole cluster, was 534.9); label change 2.9 µs and 2.7 µs,
//! readiness flip 3.0 µs and 3.1 µs (all under 5 µs; session 7's 1.5–3.0
//! µs were cheaper: a write now splits the incoming pod and compares it
//! with the stored shape and record); **build 2.2 s** (main before the
//! change, same day: 1.6 s). `memsplit` splits the bytes: the pods, keys,
//! indexes and the other kinds 888 a pod, the slices 188, the v1
//! Endpoints 178; the 185,300 objects sit in 64-byte slots and the
//! 150,000 pods share 10,000 shapes. What the build spends now
//! (callgrind, 6.1 G instructions, was 4.7 G): malloc, realloc and free
//! about a third (the input pods' shared parts are freed as each pod is
//! stored, where the previous store kept them until the cluster was
//! dropped: drop 0.43 s, was 0.70), interning shapes 0.8 G (two thirds
//! of it dropping the duplicate), compacting the slices and Endpoints the
//! controllers build as objects 0.6 G, the label index 1.0 G (posting
//! lists growing: 0.3 G). The targets (build < 300 ms, < 400 bytes per pod)
//! need next: a batch that borrows its input (a caller with its own cache
//! of objects keeps them; the store clones a shape once per workload and
//! frees nothing of the input), the controllers writing records directly
//! instead of objects then compacted, keys as interned parts (keys and
//! indexes are now the largest share), and the label index sized once
//! per batch.
//! Where a pod write spends (callgrind, 200 applies, instructions per
//! apply): a label change 20.6 k, of which interning the new shape 4.5 k
//! (dropping the owned input when its shape is found 2.0 k, confirming
//! equality 1.8 k), `compare` 2.0 k, `split` 1.1 k, freeing a shape its
//! last pod left 2.0 k; a readiness flip 24.6 k, of which the controllers
//! 13.8 k and the write 9.2 k (dropping the owned input 3.8 k, `compare`
//! 1.9 k, `split` 1.0 k). Dropping the input replaces dropping the old pod
//! (session 7), so what compact pods add per write is about 5 k.
//! The label index's pod records by id in a vector instead of a hash map
//! (`id_map.rs`): 1,233 bytes per pod in all (label change 2.3 µs and
//! 2.6 µs, flip 3.0 µs and 3.7 µs in that run, load 1.5–1.9).
//!
//! Session 9, the controllers write records and the write path stops
//! copying (one quiet run, load 1.5–1.9): **build 1.19 s** (was 2.2–2.5
//! s; callgrind 6,009 → 4,473 M instructions) and 1.04 s for a batch lent
//! with [`Cluster::apply_batch_borrowed`] (3,702 M: nothing of a pod
//! whose shape is known is cloned or freed); **1,167 bytes per pod** in
//! all (memsplit: pods, keys, indexes and the other kinds 870, slices
//! 189, v1 Endpoints 108, was 178); label change 3.1 µs and 2.9 µs,
//! readiness flip 3.5 µs and 3.8 µs (callgrind per write: 20.5 k and
//! 24.4 k instructions, as before). What changed: the EndpointSlice
//! controller plans each endpoint as the record the store keeps
//! (`planned_slice.rs`) and the Endpoints controller computes the compact
//! form from the pods (`endpoints/records.rs`), so neither builds objects
//! to compact them; the controller's Endpoints metadata is held plain
//! (`stored/endpoints_meta.rs`) and equal port lists are shared
//! (`stored/port_lists.rs`); a pod's shape is found by comparing the
//! incoming pod with it as it is (`stored_pod::is_shape_of`), not a
//! blanked copy; a batch sizes its tables once; the label index reuses
//! the Services of the pod indexed last while no Service changes.
//!
//! ## Example
//!
//! ```
//! use svcroute::api::{Kind, Object};
//! use svcroute::cluster::{Cluster, ClusterConfig};
//! use svcroute::labels::Selector;
//!
//! let objects: Vec<Object> = serde_json::from_str(r#"[
//!   {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
//!   {"apiVersion": "v1", "kind": "Pod",
//!    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
//!    "spec": {"nodeName": "n1"},
//!    "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}],
//!               "conditions": [{"type": "Ready", "status": "True"}]}},
//!   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
//!    "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
//! ]"#).unwrap();
//!
//! let mut cluster = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
//! let changes = cluster.apply_batch(objects)?;
//! // The Pod, the Node, the Service, the implied namespace, one
//! // EndpointSlice and the Endpoints object.
//! assert_eq!(changes.created.len(), 6);
//!
//! let slices = cluster.endpoint_slices("shop", "web");
//! assert_eq!(slices.len(), 1);
//! assert_eq!(slices[0].endpoints[0].addresses, ["10.244.0.5"]);
//! assert_eq!(slices[0].ports[0].port, Some(80));
//!
//! let pods = cluster.list(Kind::Pod, Some("shop"), &"app=web".parse::<Selector>().unwrap());
//! assert_eq!(pods.len(), 1);
//! # Ok::<(), svcroute::cluster::ClusterError>(())
//! ```

pub mod admission;
mod admit;
mod batch;
mod config;
mod endpoint_set;
mod endpoints;
mod endpointslice;
mod error;
mod explain;
mod expose;
mod id_map;
mod intern;
mod limits;
mod loadbalancer;
mod packed_text;
mod planned_slice;
mod pod_state;
mod pod_view;
mod positions;
pub mod scheduler;
mod store_key;
mod stored;
mod stored_pod;
mod stored_slice;
mod summary;
mod touched;
pub mod workloads;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use config::{
    ClusterConfig, DetectLocalMode, KubernetesServiceIp, LoadBalancerProvider, ProxyConfig,
    ProxyMode,
};
pub use endpoints::{
    ENDPOINTS_LAST_CHANGE_TRIGGER_TIME_ANNOTATION, ENDPOINTS_OVER_CAPACITY_ANNOTATION,
    MAX_ENDPOINTS_ADDRESSES, repack_subsets,
};
pub use endpointslice::{
    CONTROLLER_NAME, HEADLESS_LABEL, MIRRORING_CONTROLLER_NAME, SKIP_MIRROR_LABEL,
    TOPOLOGY_AWARE_HINTS_ANNOTATION, TOPOLOGY_MODE_ANNOTATION, ZONE_LABEL,
};
pub use error::{ClusterError, ClusterProblem, ProblemKind};
pub use explain::{
    LabelMiss, PodExplanation, PodVerdict, PortTarget, ServiceExplanation, SkipReason,
    explain_service,
};
pub use expose::{ExposeError, ExposeRequest};
pub use limits::ClusterLimits;
pub use loadbalancer::{AWS_INTERNAL_ANNOTATION, AWS_SCHEME_ANNOTATION, METALLB_IPS_ANNOTATION};
pub use pod_state::TERMINATING_SINCE;
pub use scheduler::default_nodes;
pub use summary::{InputTally, LoadSummary, NamespaceWarning};
pub use workloads::ROLLOUT_STEPS_ANNOTATION;

use crate::api::{
    EndpointSlice, Kind, Namespace, Node, Object, ObjectKey, ObjectMeta, Pod, Service, WatchEvent,
};
use crate::balance::Rng;
use crate::labels::Selector;

use endpointslice::SliceOp;
use intern::{FxMap, FxSet, Interner, Sym};
pub(crate) use pod_view::PodView;
use store_key::{KeyRef, KeyView, StoreKey};
use stored::Stored;
use stored_pod::{CompactPod, Split};
use stored_slice::SliceEndpoint;
pub(crate) use stored_slice::SliceView;

/// The id of a stored object (an index into the arena).
pub(crate) type ObjId = u32;

/// What a call changed: the keys of the objects created, updated and
/// deleted, by the caller or by the controllers, each at most once, net of
/// the whole call (an object created and then changed is only created).
///
/// ```
/// let c = svcroute::cluster::Changes::default();
/// assert!(c.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Objects that did not exist before the call.
    pub created: Vec<ObjectKey>,
    /// Objects that existed and were changed.
    pub updated: Vec<ObjectKey>,
    /// Objects that existed and are gone.
    pub deleted: Vec<ObjectKey>,
}

impl Changes {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }

    /// The changes to objects of one kind (e.g. the EndpointSlices the
    /// controllers wrote).
    ///
    /// ```
    /// use svcroute::api::Kind;
    /// let c = svcroute::cluster::Changes::default();
    /// assert!(c.of_kind(Kind::EndpointSlice).is_empty());
    /// ```
    pub fn of_kind(&self, kind: Kind) -> Changes {
        let f = |v: &Vec<ObjectKey>| v.iter().filter(|k| k.kind == kind).cloned().collect();
        Changes {
            created: f(&self.created),
            updated: f(&self.updated),
            deleted: f(&self.deleted),
        }
    }
}

/// One stored object.
#[derive(Debug, Clone)]
struct Slot {
    key: StoreKey,
    object: stored::Stored,
}

/// What the label index keeps of a Pod: its namespace, its labels (with
/// the position of the pod in each posting list), and its node.
#[derive(Debug, Clone)]
struct PodRec {
    ns: Sym,
    labels: Vec<(Sym, Sym, u32)>,
    node: Option<Sym>,
}

/// What the reverse index keeps of a Service: its namespace, name and
/// selector pairs (empty: no selector).
#[derive(Debug, Clone)]
struct SvcRec {
    ns: Sym,
    name: Sym,
    selector: Vec<(Sym, Sym)>,
}

type Pair = (Sym, Sym, Sym);

/// A cluster: the object store, its indexes and its controllers. See the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct Cluster {
    config: ClusterConfig,
    rng: Rng,
    strings: Interner,
    slots: Vec<Option<Slot>>,
    free: Vec<ObjId>,
    /// Ordered index, for listing.
    by_key: BTreeMap<StoreKey, ObjId>,
    /// Keys of the batch being written, not yet in `by_key` (`None`
    /// outside a batch's write loop): added at once after it.
    new_keys: Option<Vec<(StoreKey, ObjId)>>,
    /// Hash index, for point lookups.
    ids: FxMap<StoreKey, ObjId>,
    /// The label index's record of each pod, by id.
    pods: id_map::IdMap<PodRec>,
    /// The label pairs of the pod indexed last: the next pod, usually of
    /// the same workload, checks its labels against them before interning.
    last_labels: Vec<(Sym, Sym)>,
    /// The namespace of the pod indexed last (checked the same way).
    last_namespace: Option<Sym>,
    /// The address of the shape of the compact pod indexed last (0: none):
    /// a pod of the same shape has the same labels, unchecked.
    last_shape: usize,
    /// The Services that select the pod indexed last (by its namespace
    /// and labels), kept while no Service is indexed or unindexed: the
    /// next pod indexed, of the same namespace and labels (usually of the
    /// same workload, in a batch), is selected by the same ones.
    last_services: Option<Vec<ObjId>>,
    services: FxMap<ObjId, SvcRec>,
    pod_index: FxMap<Pair, Vec<ObjId>>,
    svc_index: FxMap<Pair, Vec<ObjId>>,
    pods_by_node: FxMap<Sym, Vec<ObjId>>,
    /// How many pods have each IP (by hash): the Endpoints fast path's
    /// check that an address without a uid is no other pod's.
    ip_counts: FxMap<u64, u32>,
    nodes: FxMap<Sym, ObjId>,
    slices_by_service: FxMap<(Sym, Sym), Vec<ObjId>>,
    /// Where each pod's entry sits in the stored slices and Endpoints.
    positions: positions::Positions,
    /// Services with controller-labelled slices written by someone else:
    /// always reconciled in full.
    foreign: FxSet<(Sym, Sym)>,
    /// Use the one-pod fast path (on by default; off only to test it).
    fast_path: bool,
    /// Services with `topology-mode: Auto`: every Node change concerns them.
    auto_services: BTreeMap<(String, String), ()>,
    /// The zone weights of topology-mode Auto, computed from the Nodes on
    /// demand (`None` = to recompute after a Node change).
    zone_ratios: Option<endpointslice::ZoneRatios>,
    /// The workload controllers' and the scheduler's memory.
    workloads: workloads::Workloads,
    /// The allocators of admission (cluster IPs, node ports, pod CIDRs,
    /// load-balancer addresses).
    admission: admit::Admission,
    /// The allocators of the batch being admitted.
    staging: Option<admit::Staging>,
    /// The shapes of the compact pods (`stored_pod.rs`).
    shapes: stored_pod::Shapes,
    /// The port lists of the compact Endpoints objects, shared
    /// (`stored/port_lists.rs`).
    endpoint_ports: stored::PortLists,
}

/// Why a Service must be reconciled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    /// Only this pod changed for it.
    Pod(PodTrigger),
    /// Anything else: run the full reconcile.
    Full,
}

/// The pod of a one-pod trigger: its key, and the ids that it and the
/// Service had when it was marked, so that the fast path finds both
/// without hashing their keys. An id is used only while its slot still
/// holds that key (ids are reused after a delete). Reads as the pod's
/// key; equal when the keys are.
#[derive(Debug, Clone)]
struct PodTrigger {
    key: StoreKey,
    pod: ObjId,
    service: ObjId,
}

impl std::ops::Deref for PodTrigger {
    type Target = ObjectKey;
    fn deref(&self) -> &ObjectKey {
        &self.key
    }
}

impl PartialEq for PodTrigger {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for PodTrigger {}

/// Collects the net changes of one call.
#[derive(Debug, Default)]
struct Tracker {
    /// Key → did it exist before the call.
    touched: touched::Touched,
    /// Services to reconcile (by Service key, so in namespace and name
    /// order) → why.
    dirty: BTreeMap<StoreKey, Trigger>,
    /// The writes are the controllers' own.
    internal: bool,
    /// A Service known to be marked `Full` in `dirty` (triggers never go
    /// back from `Full`): a batch's pods of one Service, written in a row,
    /// find it without searching the tree.
    last_full: Option<StoreKey>,
}

impl Tracker {
    /// Was this key touched, and did it exist before the call?
    fn existed(&self, key: &ObjectKey) -> Option<bool> {
        self.touched.get(key as &dyn KeyView)
    }

    /// Service `namespace/name` must be reconciled in full.
    fn full(&mut self, namespace: &str, name: &str) {
        let parts = KeyRef {
            kind: Kind::Service,
            namespace: Some(namespace),
            name,
        };
        match self.dirty.get_mut(&parts as &dyn KeyView) {
            Some(t) => *t = Trigger::Full,
            None => {
                let key = StoreKey::new(ObjectKey {
                    kind: Kind::Service,
                    namespace: Some(namespace.to_owned()),
                    name: name.to_owned(),
                });
                self.dirty.insert(key, Trigger::Full);
            }
        }
    }

    /// The stored Service with this key must be reconciled in full.
    fn full_key(&mut self, service: &StoreKey) {
        match self.dirty.get_mut(service) {
            Some(t) => *t = Trigger::Full,
            None => {
                self.dirty.insert(service.clone(), Trigger::Full);
            }
        }
        self.last_full = Some(service.clone());
    }

    /// Pod `pod` (stored as `pid`) changed for the stored Service
    /// `service` (stored as `sid`).
    fn pod(&mut self, service: &StoreKey, sid: ObjId, pod: &StoreKey, pid: ObjId) {
        if self.last_full.as_ref().is_some_and(|k| k.same(service)) {
            return;
        }
        match self.dirty.get_mut(service) {
            None => {
                let trigger = PodTrigger {
                    key: pod.clone(),
                    pod: pid,
                    service: sid,
                };
                self.dirty.insert(service.clone(), Trigger::Pod(trigger));
            }
            Some(Trigger::Pod(p)) if p.key == *pod => {}
            Some(t) => {
                *t = Trigger::Full;
                self.last_full = Some(service.clone());
            }
        }
    }

    /// Takes the Services to reconcile.
    fn take_dirty(&mut self) -> BTreeMap<StoreKey, Trigger> {
        self.last_full = None;
        std::mem::take(&mut self.dirty)
    }
}

impl Cluster {
    /// A cluster with this configuration: empty, or (with
    /// `config.bootstrap`) as a fresh real cluster starts: namespaces
    /// `default`, `kube-system`, `kube-public`, `kube-node-lease`, and the
    /// `default/kubernetes` Service on the reserved address.
    ///
    /// ```
    /// use svcroute::api::{Kind, ObjectKey};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let c = Cluster::new(ClusterConfig::default())?;
    /// let k = c.get(&ObjectKey { kind: Kind::Service, namespace: Some("default".into()), name: "kubernetes".into() });
    /// let svc = match k.as_deref() { Some(svcroute::api::Object::Service(s)) => s, _ => unreachable!() };
    /// assert_eq!(svc.spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    /// assert!(Cluster::new(ClusterConfig { max_endpoints_per_slice: 0, ..Default::default() }).is_err());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn new(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        config.validate()?;
        let admission = admit::Admission::new(&config)?;
        let mut cluster = Cluster {
            rng: Rng::new(config.seed),
            config,
            strings: Interner::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_key: BTreeMap::new(),
            new_keys: None,
            ids: FxMap::default(),
            pods: id_map::IdMap::default(),
            last_labels: Vec::new(),
            last_namespace: None,
            last_shape: 0,
            last_services: None,
            services: FxMap::default(),
            pod_index: FxMap::default(),
            svc_index: FxMap::default(),
            pods_by_node: FxMap::default(),
            ip_counts: FxMap::default(),
            nodes: FxMap::default(),
            slices_by_service: FxMap::default(),
            positions: positions::Positions::default(),
            foreign: FxSet::default(),
            fast_path: true,
            auto_services: BTreeMap::new(),
            zone_ratios: None,
            workloads: workloads::Workloads::default(),
            admission,
            staging: None,
            shapes: stored_pod::Shapes::default(),
            endpoint_ports: stored::PortLists::default(),
        };
        if cluster.config.bootstrap {
            let mut objects: Vec<Object> =
                ["default", "kube-system", "kube-public", "kube-node-lease"]
                    .iter()
                    .map(|n| {
                        Object::Namespace(Namespace {
                            metadata: ObjectMeta {
                                name: Some((*n).to_owned()),
                                ..ObjectMeta::default()
                            },
                            ..Namespace::default()
                        })
                    })
                    .collect();
            if let Some(ip) = cluster.config.kubernetes_ip() {
                objects.push(Object::Service(kubernetes_service(ip)));
            }
            cluster.apply_batch(objects)?;
        }
        Ok(cluster)
    }

    /// The configuration.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let c = Cluster::new(ClusterConfig { seed: 7, ..Default::default() })?;
    /// assert_eq!(c.config().seed, 7);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Creates or replaces one object (by `(kind, namespace, name)`), then
    /// lets the controllers settle. Same as a batch of one.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let ns: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#).unwrap();
    /// assert_eq!(c.apply(ns.clone())?.created.len(), 1);
    /// assert!(c.apply(ns)?.is_empty()); // unchanged
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn apply(&mut self, object: Object) -> Result<Changes, ClusterError> {
        self.apply_batch(vec![object])
    }

    /// Creates or replaces every object, in order, atomically: either all
    /// are applied (then the controllers settle once) or, when any object
    /// is refused, nothing changes and every problem is reported.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let good: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}"#).unwrap();
    /// let bad: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a"}}"#).unwrap();
    /// let err = c.apply_batch(vec![good, bad.clone(), bad]).unwrap_err();
    /// assert_eq!(err.problems().len(), 2);
    /// assert_eq!(err.problems()[0].field.as_deref(), Some("metadata.name"));
    /// assert!(c.is_empty()); // nothing applied
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn apply_batch(&mut self, objects: Vec<Object>) -> Result<Changes, ClusterError> {
        let new = limits::check(self, &objects)?;
        // Admitted in place (an `Object` is large; moving each into a
        // second list costs a copy).
        self.apply_admitted(objects, new)
    }

    /// [`Cluster::apply_batch`] of objects the caller keeps (an informer's
    /// cache, a parsed dump applied to several clusters): the same
    /// semantics, errors and atomicity, and the objects are left as they
    /// are. Only what the store keeps is cloned: a Pod of a shape the
    /// cluster holds already costs its small per-pod record, its key and
    /// its index entries, not a clone of the Pod; Services, Nodes and the
    /// other kinds (which admission may rewrite) are cloned.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let objects: Vec<Object> = serde_json::from_str(r#"[
    ///   {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
    ///    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    ///   {"apiVersion": "v1", "kind": "Pod",
    ///    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
    ///    "status": {"podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}]}}]"#).unwrap();
    /// let config = ClusterConfig { bootstrap: false, ..Default::default() };
    /// let (mut a, mut b) = (Cluster::new(config.clone())?, Cluster::new(config)?);
    /// let changes = a.apply_batch_borrowed(&objects)?;
    /// assert_eq!(b.apply_batch_borrowed(&objects)?, changes);
    /// assert_eq!(a.get(&objects[1].key()).as_deref(), Some(&objects[1]));
    /// // Atomic: a bad object refuses the batch, and nothing changes.
    /// let mut bad = objects.clone();
    /// bad[1].metadata_mut().name = None;
    /// let before = a.len();
    /// assert!(a.apply_batch_borrowed(&bad).is_err());
    /// assert_eq!(a.len(), before);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn apply_batch_borrowed(&mut self, objects: &[Object]) -> Result<Changes, ClusterError> {
        let new = limits::check(self, objects)?;
        self.apply_admitted(objects.iter().map(batch::Lent::new).collect(), new)
    }

    /// The batch path of [`Cluster::apply_batch`] and
    /// [`Cluster::apply_batch_borrowed`], past the limits: admits every
    /// object (refusing the batch, unchanged, on any problem), writes them
    /// in order, and lets the controllers settle. `new`: how many of them
    /// are not stored yet (the tables are sized for them once).
    fn apply_admitted<'a, O: batch::BatchObject<'a>>(
        &mut self,
        mut staged: Vec<O>,
        new: usize,
    ) -> Result<Changes, ClusterError> {
        let mut problems = Vec::new();
        for (index, object) in staged.iter_mut().enumerate() {
            let o = object.object();
            let namespace = o.metadata().namespace.as_deref();
            if o.kind().is_namespaced() {
                if namespace.is_none_or(str::is_empty) {
                    object.object_mut().metadata_mut().namespace = Some("default".to_owned());
                }
            } else if namespace.is_some() {
                object.object_mut().metadata_mut().namespace = None;
            }
            let o = object.object();
            if o.name().unwrap_or_default().is_empty() {
                problems.push(ClusterProblem::object(
                    ProblemKind::Invalid,
                    o.key(),
                    Some(index),
                    Some("metadata.name"),
                    "name is required",
                ));
                continue;
            }
            // Only then taken for changing: a lent object is cloned.
            if admit::admits(o) {
                self.admit(object.object_mut(), index, &mut problems);
            }
            workloads::validate(self, object.object(), index, &mut problems);
        }
        self.finish_admission(problems.is_empty());
        if !problems.is_empty() {
            return Err(ClusterError::new(problems));
        }
        // Room for the batch and the controllers' objects of its Services
        // (an Endpoints and a slice each, one more slice per
        // `maxEndpointsPerSlice` pods), so that the arena does not double
        // past what a large batch needs.
        let count = |f: fn(&Object) -> bool| staged.iter().filter(|o| f(o.object())).count();
        let services = count(|o| matches!(o, Object::Service(_)));
        let pods = count(|o| matches!(o, Object::Pod(_)));
        let per_slice = (self.config.max_endpoints_per_slice as usize).max(1);
        self.slots.reserve(
            (staged.len() + 2 * services + pods / per_slice + 64).saturating_sub(self.free.len()),
        );
        // The tables a batch's writes fill, sized once for what is coming
        // (a build's tables would grow by doubling, copying what they
        // hold, many times).
        let mut t = Tracker::default();
        t.touched.reserve(staged.len());
        self.ids.reserve(new);
        self.ip_counts.reserve(pods.min(new));
        self.new_keys = Some(Vec::with_capacity(new));
        for object in staged {
            let object = object.into_input();
            if let Some(ns) = object.namespace()
                && !self.contains_parts(KeyRef {
                    kind: Kind::Namespace,
                    namespace: None,
                    name: ns,
                })
            {
                let ns = ns.to_owned();
                self.write(
                    Object::Namespace(Namespace {
                        metadata: ObjectMeta {
                            name: Some(ns),
                            ..ObjectMeta::default()
                        },
                        ..Namespace::default()
                    }),
                    &mut t,
                );
            }
            self.write_input(object, &mut t);
        }
        self.add_new_keys();
        Ok(self.settle(t))
    }

    /// Adds the batch's new keys to the ordered index: one by one when
    /// they are few next to it, otherwise sorted and merged in one pass
    /// (inserting 185,000 keys one at a time compares strings along a
    /// tree path for each).
    fn add_new_keys(&mut self) {
        let Some(mut keys) = self.new_keys.take() else {
            return;
        };
        if keys.len() < 64 || keys.len() * 8 < self.by_key.len() {
            self.by_key.extend(keys);
            return;
        }
        touched::sort_keys(&mut keys, |(k, _)| k);
        let mut batch: BTreeMap<StoreKey, ObjId> = keys.into_iter().collect();
        self.by_key.append(&mut batch);
    }

    /// The admission step of a write: Service and Node admission
    /// (validation, defaulting, cluster-IP / node-port / pod-CIDR
    /// allocation, load-balancer status); see `admit.rs`.
    fn admit(&mut self, object: &mut Object, index: usize, problems: &mut Vec<ClusterProblem>) {
        self.admit_object(object, index, problems);
    }

    /// Deletes one object, then lets the controllers settle. Deleting an
    /// object that does not exist is a [`ProblemKind::NotFound`] error.
    /// A namespaced key without a namespace means `default`.
    ///
    /// ```
    /// use svcroute::api::{Kind, ObjectKey};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// let k = ObjectKey { kind: Kind::Service, namespace: None, name: "kubernetes".into() };
    /// assert_eq!(c.delete(&k)?.deleted.len(), 1);
    /// assert!(c.delete(&k).is_err());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn delete(&mut self, key: &ObjectKey) -> Result<Changes, ClusterError> {
        self.delete_batch(std::slice::from_ref(key))
    }

    /// Deletes every object, atomically: if any does not exist, nothing is
    /// deleted and every missing one is reported.
    ///
    /// ```
    /// use svcroute::api::{Kind, Object, ObjectKey};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// let key = ObjectKey { kind: Kind::Namespace, namespace: None, name: "kube-public".into() };
    /// let missing = ObjectKey { name: "nope".into(), ..key.clone() };
    /// assert!(c.delete_batch(&[key.clone(), missing]).is_err());
    /// assert!(c.get(&key).is_some());
    /// assert_eq!(c.delete(&key)?.deleted, [key]);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn delete_batch(&mut self, keys: &[ObjectKey]) -> Result<Changes, ClusterError> {
        let problems: Vec<ClusterProblem> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| !self.contains(&normal_key(k)))
            .map(|(i, k)| {
                ClusterProblem::object(ProblemKind::NotFound, k.clone(), Some(i), None, "not found")
            })
            .collect();
        if !problems.is_empty() {
            return Err(ClusterError::new(problems));
        }
        let mut t = Tracker::default();
        for k in keys {
            self.release_admitted(&normal_key(k));
            self.remove(&normal_key(k), &mut t);
        }
        Ok(self.settle(t))
    }

    /// Applies one watch event: `ADDED`/`MODIFIED` apply the object,
    /// `DELETED` deletes it (an unknown object is no error here: the event
    /// may replay a deletion already seen), `BOOKMARK` and `ERROR` change
    /// nothing.
    ///
    /// ```
    /// use svcroute::api::{Object, WatchEvent};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let ns: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}"#).unwrap();
    /// assert_eq!(c.apply_event(WatchEvent::Added(ns.clone()))?.created.len(), 1);
    /// assert_eq!(c.apply_event(WatchEvent::Deleted(ns.clone()))?.deleted.len(), 1);
    /// assert!(c.apply_event(WatchEvent::Deleted(ns))?.is_empty());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn apply_event(&mut self, event: WatchEvent) -> Result<Changes, ClusterError> {
        match event {
            WatchEvent::Added(o) | WatchEvent::Modified(o) => self.apply(o),
            WatchEvent::Deleted(o) => {
                let key = normal_key(&o.key());
                if self.contains(&key) {
                    self.delete(&key)
                } else {
                    Ok(Changes::default())
                }
            }
            WatchEvent::Bookmark(_) | WatchEvent::Error(_) => Ok(Changes::default()),
        }
    }

    /// Runs every controller once over every Service, as a controller
    /// restart or a periodic resync does. On a settled cluster this changes
    /// nothing (the returned [`Changes`] are empty).
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig::default())?;
    /// assert!(c.resync().is_empty());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn resync(&mut self) -> Changes {
        let mut t = Tracker::default();
        let services = ObjectKey {
            kind: Kind::Service,
            namespace: None,
            name: String::new(),
        };
        for (k, _) in self
            .keys_from(&services)
            .take_while(|(k, _)| k.kind == Kind::Service)
        {
            t.full_key(k);
        }
        let slices = ObjectKey {
            kind: Kind::EndpointSlice,
            namespace: None,
            name: String::new(),
        };
        for (k, &id) in self
            .keys_from(&slices)
            .take_while(|(k, _)| k.kind == Kind::EndpointSlice)
        {
            if let Some(s) = self.slot(id).and_then(|s| s.object.slice())
                && let Some(svc) = s.service_name()
                && is_controller_slice(&s.metadata().labels)
            {
                t.full(k.namespace.as_deref().unwrap_or_default(), svc);
            }
        }
        self.settle(t)
    }

    /// Turns the one-pod fast path off (`false`) or on: a testing aid that
    /// lets property tests check the fast path against the full reconcile.
    #[doc(hidden)]
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
    }

    /// How many distinct pod shapes the store holds (the part the pods of
    /// one workload share; see the "Stored forms" section of the
    /// [module documentation](self)): a measuring aid.
    #[doc(hidden)]
    pub fn pod_shapes(&self) -> usize {
        self.shapes.len()
    }

    /// The bytes of one slot of the store's arena (an object's key and its
    /// stored form, without what they point to): a measuring aid.
    #[doc(hidden)]
    pub fn slot_bytes() -> usize {
        std::mem::size_of::<Option<Slot>>()
    }

    /// The object with this key (namespaced kinds need their namespace).
    ///
    /// A [`Cow`]: borrowed from the store for objects kept as given, built
    /// for the controllers' v1 Endpoints objects and EndpointSlices and for
    /// Pods, which the store keeps in compact forms (see "Stored forms" in
    /// the [module documentation](self)). Either way it is the object as
    /// written. Match on
    /// `.as_deref()`, or take it with [`Cow::into_owned`].
    ///
    /// ```
    /// use svcroute::api::{Kind, Object, ObjectKey};
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let c = Cluster::new(ClusterConfig::default())?;
    /// let ns = ObjectKey { kind: Kind::Namespace, namespace: None, name: "kube-system".into() };
    /// assert!(c.get(&ns).is_some());
    /// let svc = ObjectKey { kind: Kind::Service, namespace: Some("default".into()), name: "kubernetes".into() };
    /// let Some(Object::Service(s)) = c.get(&svc).map(std::borrow::Cow::into_owned) else { unreachable!() };
    /// assert_eq!(s.spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn get(&self, key: &ObjectKey) -> Option<Cow<'_, Object>> {
        let id = *self.ids.get(key as &dyn KeyView)?;
        self.slot(id)
            .map(|s| s.object.to_object(&s.key.name, &self.strings))
    }

    /// The objects of a kind, in one namespace or all (`None`), whose labels
    /// the selector matches (like `kubectl get KIND -l SELECTOR`), ordered by
    /// namespace and name. Each is a [`Cow`], as from [`Cluster::get`]
    /// (only compact Endpoints objects, slices and Pods are built; the
    /// selector is matched before any is).
    ///
    /// ```
    /// use svcroute::api::Kind;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// use svcroute::labels::Selector;
    /// let c = Cluster::new(ClusterConfig::default())?;
    /// assert_eq!(c.list(Kind::Namespace, None, &Selector::everything()).len(), 4);
    /// assert_eq!(c.list(Kind::Service, Some("default"), &"component=apiserver".parse().unwrap()).len(), 1);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<Cow<'_, Object>> {
        self.ids_of(kind, namespace)
            .filter_map(|id| self.slot(id))
            .filter(|s| selector.matches(s.object.labels()))
            .map(|s| s.object.to_object(&s.key.name, &self.strings))
            .collect()
    }

    /// [`Cluster::get`] for the crate's own readers, borrowed: the object
    /// with this key when it is stored as given, which is every object
    /// but the controllers' compact Endpoints objects and slices and the
    /// compact Pods (see `stored.rs`; `None` for those, so it is not for
    /// those kinds: Pods are read with [`Cluster::stored_pod`]).
    pub(crate) fn stored_object(&self, key: &ObjectKey) -> Option<&Object> {
        debug_assert!(
            !matches!(key.kind, Kind::Endpoints | Kind::EndpointSlice),
            "Endpoints and EndpointSlices are read with get"
        );
        debug_assert!(key.kind != Kind::Pod, "Pods are read with stored_pod");
        self.object(*self.ids.get(key as &dyn KeyView)?)
    }

    /// The stored pod with this key, in either stored form, as the
    /// controllers read it.
    pub(crate) fn stored_pod(&self, key: &ObjectKey) -> Option<PodView<'_>> {
        self.pod_view(*self.ids.get(key as &dyn KeyView)?)
    }

    /// The stored pods in one namespace or all (`None`) whose labels the
    /// selector matches, ordered by namespace and name.
    pub(crate) fn list_pods(
        &self,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<PodView<'_>> {
        self.ids_of(Kind::Pod, namespace)
            .filter_map(|id| self.pod_view(id))
            .filter(|p| selector.matches(p.labels()))
            .collect()
    }

    /// [`Cluster::list`] for the crate's own readers, borrowed, for kinds
    /// stored as given (every kind but Endpoints and EndpointSlices; see
    /// [`Cluster::stored_object`]).
    pub(crate) fn list_stored(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<&Object> {
        debug_assert!(
            !matches!(kind, Kind::Endpoints | Kind::EndpointSlice),
            "Endpoints and EndpointSlices are read with list"
        );
        debug_assert!(kind != Kind::Pod, "Pods are read with list_pods");
        self.ids_of(kind, namespace)
            .filter_map(|id| self.object(id))
            .filter(|o| selector.matches(&o.metadata().labels))
            .collect()
    }

    /// The ids of the objects of a kind, in one namespace or all, ordered
    /// by namespace and name.
    fn ids_of<'a>(
        &'a self,
        kind: Kind,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = ObjId> + 'a {
        use std::ops::Bound;
        let namespace = namespace.filter(|_| kind.is_namespaced());
        let start = KeyRef {
            kind,
            namespace,
            name: "",
        };
        self.by_key
            .range::<dyn KeyView, _>((Bound::Included(&start as &dyn KeyView), Bound::Unbounded))
            .take_while(move |(k, _)| {
                k.kind == kind && (namespace.is_none() || k.namespace.as_deref() == namespace)
            })
            .map(|(_, &id)| id)
    }

    /// How many objects are stored (the controllers' included).
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// assert_eq!(Cluster::new(ClusterConfig::default())?.len(), 5);
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Is the store empty?
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// assert!(Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?.is_empty());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The EndpointSlices of a Service (label `kubernetes.io/service-name`
    /// in its namespace): the controllers' and the users', as kube-proxy
    /// reads them. Ordered by slice name. Each is a [`Cow`], as from
    /// [`Cluster::get`]: the EndpointSlice controller's slices are kept
    /// compact and built here, exactly as written.
    ///
    /// ```
    /// use svcroute::api::Object;
    /// use svcroute::cluster::{Cluster, ClusterConfig};
    /// let mut c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let svc: Object = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Service",
    ///   "metadata": {"name": "web", "namespace": "shop"},
    ///   "spec": {"clusterIP": "10.96.0.9", "selector": {"app": "web"}, "ports": [{"port": 80}]}}"#).unwrap();
    /// c.apply(svc)?;
    /// // No pods yet: one placeholder slice, no endpoints, no ports.
    /// let slices = c.endpoint_slices("shop", "web");
    /// assert_eq!(slices.len(), 1);
    /// assert!(slices[0].endpoints.is_empty() && slices[0].ports.is_empty());
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn endpoint_slices(&self, namespace: &str, service: &str) -> Vec<Cow<'_, EndpointSlice>> {
        self.endpoint_slice_views(namespace, service)
            .into_iter()
            .map(SliceView::to_slice)
            .collect()
    }

    /// [`Cluster::endpoint_slices`] for the crate's readers, read in place
    /// (no compact slice is built).
    pub(crate) fn endpoint_slice_views(
        &self,
        namespace: &str,
        service: &str,
    ) -> Vec<SliceView<'_>> {
        let (Some(ns), Some(name)) = (self.strings.lookup(namespace), self.strings.lookup(service))
        else {
            return Vec::new();
        };
        let mut views: Vec<SliceView<'_>> = self
            .slices_by_service
            .get(&(ns, name))
            .into_iter()
            .flatten()
            .filter_map(|&id| self.slot(id)?.object.slice())
            .collect();
        crate::order::sort_by(&mut views, |a, b| a.metadata().name.cmp(&b.metadata().name));
        views
    }

    /// The Service an EndpointSlice belongs to (its label
    /// `kubernetes.io/service-name`), read without building the slice:
    /// for the crate's readers that only need that of a changed slice.
    pub(crate) fn slice_service(&self, key: &ObjectKey) -> Option<&str> {
        let id = *self.ids.get(key as &dyn KeyView)?;
        self.slot(id)?.object.slice()?.service_name()
    }

    /// The namespace and Service of every EndpointSlice that names one,
    /// in slice key order (no slice is built).
    pub(crate) fn slice_services(&self) -> Vec<(&str, &str)> {
        self.ids_of(Kind::EndpointSlice, None)
            .filter_map(|id| {
                let s = self.slot(id)?.object.slice()?;
                Some((s.metadata().namespace.as_deref()?, s.service_name()?))
            })
            .collect()
    }

    // ------------------------------------------------------------ store

    fn slot(&self, id: ObjId) -> Option<&Slot> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// The object under `id`, when it is stored as given (every kind
    /// but the controllers' compact Endpoints objects and slices; see
    /// `stored.rs`).
    fn object(&self, id: ObjId) -> Option<&Object> {
        self.slot(id).and_then(|s| s.object.as_object())
    }

    /// The pod under `id`, in either stored form.
    fn pod_view(&self, id: ObjId) -> Option<PodView<'_>> {
        let slot = self.slot(id)?;
        slot.object.pod(&slot.key.name, &self.strings)
    }

    /// The stored form of the object with this key.
    fn lookup_stored(
        &self,
        kind: Kind,
        ns: Option<&str>,
        name: &str,
    ) -> Option<(ObjId, &stored::Stored)> {
        let key = KeyRef {
            kind,
            namespace: ns,
            name,
        };
        let id = *self.ids.get(&key as &dyn KeyView)?;
        Some((id, &self.slot(id)?.object))
    }

    /// The object with this key, when it is stored as given.
    fn lookup(&self, kind: Kind, ns: Option<&str>, name: &str) -> Option<(ObjId, &Object)> {
        let (id, stored) = self.lookup_stored(kind, ns, name)?;
        Some((id, stored.as_object()?))
    }

    /// The id of the object with this key: `id` while that slot holds
    /// this very key (one allocation, so no compare), else found by the
    /// key.
    fn key_id(&self, key: &StoreKey, id: ObjId) -> Option<ObjId> {
        match self.slot(id) {
            Some(slot) if slot.key.same(key) => Some(id),
            _ => self.ids.get(key).copied(),
        }
    }

    /// The stored object with this key (see [`Cluster::key_id`]).
    fn lookup_key(&self, key: &StoreKey, id: ObjId) -> Option<(ObjId, &Object)> {
        let id = self.key_id(key, id)?;
        Some((id, self.object(id)?))
    }

    /// [`Cluster::lookup_key`] for a pod, in either stored form.
    fn lookup_pod_key(&self, key: &StoreKey, id: ObjId) -> Option<(ObjId, PodView<'_>)> {
        let id = self.key_id(key, id)?;
        Some((id, self.pod_view(id)?))
    }

    /// Stores `object` (create or replace), keeping indexes, and marks what
    /// the controllers must look at.
    fn write(&mut self, object: Object, t: &mut Tracker) -> ObjId {
        self.write_input(Cow::Owned(object), t)
    }

    /// [`Cluster::write`] of an object given or borrowed: a borrowed Pod is
    /// cloned only as far as the store keeps it (see `write_pod`), any
    /// other borrowed object is cloned.
    fn write_input(&mut self, object: Cow<'_, Object>, t: &mut Tracker) -> ObjId {
        let found = self
            .ids
            .get(&KeyRef {
                kind: object.kind(),
                namespace: object.namespace(),
                name: object.name().unwrap_or_default(),
            } as &dyn KeyView)
            .copied();
        let object = match object {
            Cow::Owned(Object::Pod(pod)) => return self.write_pod(Cow::Owned(pod), found, t),
            Cow::Borrowed(Object::Pod(pod)) => return self.write_pod(Cow::Borrowed(pod), found, t),
            o => o.into_owned(),
        };
        let id = match found {
            Some(id) => {
                if self.slot(id).is_some_and(|old| old.object.same_as(&object)) {
                    return id;
                }
                let Some(key) = self.slot(id).map(|s| s.key.clone()) else {
                    return id;
                };
                t.touched.note(&key, true);
                self.unindex(id, t);
                self.put(id, Stored::new(object, t.internal));
                self.index(id, t);
                return id;
            }
            None => self.insert(object.key(), Stored::new(object, t.internal), t),
        };
        self.index(id, t);
        id
    }

    /// Stores a new object under a new key (not indexed yet).
    fn insert(&mut self, key: ObjectKey, object: Stored, t: &mut Tracker) -> ObjId {
        let key = StoreKey::new(key);
        t.touched.note(&key, false);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        match self.new_keys.as_mut() {
            Some(keys) => keys.push((key.clone(), id)),
            None => {
                self.by_key.insert(key.clone(), id);
            }
        }
        self.ids.insert(key.clone(), id);
        self.slots[id as usize] = Some(Slot { key, object });
        id
    }

    /// Replaces the object in slot `id` (its indexes are the caller's),
    /// releasing the shape of a compact pod it held.
    fn put(&mut self, id: ObjId, object: Stored) {
        if let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::as_mut) {
            let old = std::mem::replace(&mut slot.object, object);
            self.release(&old);
        }
    }

    /// A stored object is about to be dropped: a compact pod's shape goes
    /// with its last pod.
    fn release(&mut self, old: &Stored) {
        if let Stored::Pod(p) = old {
            self.release_shape(p.shape());
        }
    }

    /// One pod fewer uses `shape`: it goes with its last pod.
    fn release_shape(&mut self, shape: &Arc<stored_pod::Shape>) {
        self.shapes.release(shape);
        // The shape may go, and its address be another's.
        self.last_shape = 0;
    }

    /// The stored form of a split pod: compact, or as given.
    fn pod_form(split: Split<'_>) -> Stored {
        match split {
            Split::Compact(shape, record) => Stored::Pod(CompactPod::new(shape, record)),
            Split::Given(pod) => Stored::Object(Box::new(Object::Pod(pod.into_owned()))),
        }
    }

    /// A split pod that is not stored after all: its shape is used by one
    /// pod fewer.
    fn discard(&mut self, split: Split<'_>) {
        if let Split::Compact(shape, _) = split {
            self.release_shape(&shape);
        }
    }

    /// [`Cluster::write`] for a Pod. The pod is split first (`stored_pod.rs`:
    /// its shape interned, the pod neither cloned nor blanked when its shape
    /// is interned already), and compared with the stored one form for
    /// form, neither built: are the labels the same, all but the labels,
    /// the node, the IPs?
    fn write_pod(&mut self, pod: Cow<'_, Pod>, found: Option<ObjId>, t: &mut Tracker) -> ObjId {
        let Some(id) = found else {
            let key = ObjectKey {
                kind: Kind::Pod,
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone().unwrap_or_default(),
            };
            let split = stored_pod::split(pod, &mut self.strings, &mut self.shapes);
            let id = self.insert(key, Self::pod_form(split), t);
            self.index(id, t);
            return id;
        };
        let split = stored_pod::split(pod, &mut self.strings, &mut self.shapes);
        let change = match self.slots.get(id as usize).and_then(Option::as_ref) {
            Some(slot) => slot
                .object
                .pod(&slot.key.name, &self.strings)
                .map(|old| stored_pod::compare(old, &split, &self.strings)),
            None => None,
        };
        let Some(change) = change.filter(|c| !(c.labels && c.rest)) else {
            self.discard(split);
            return id;
        };
        let Some(slot) = self.slots.get(id as usize).and_then(Option::as_ref) else {
            return id;
        };
        let key = slot.key.clone();
        // The same shape: the compact pod keeps it (a readiness flip is a
        // record update).
        let stored = match (split, &slot.object) {
            (Split::Compact(shape, record), Stored::Pod(old)) if change.shape => {
                if Arc::ptr_eq(&shape, old.shape()) {
                    Stored::Pod(CompactPod::new(shape, record))
                } else {
                    // The stored pod's shape is one the table does not
                    // keep: it stays shared with the stored pod.
                    let kept = Arc::clone(old.shape());
                    self.release_shape(&shape);
                    Stored::Pod(CompactPod::new(self.shapes.share(&kept), record))
                }
            }
            (split, _) => Self::pod_form(split),
        };
        t.touched.note(&key, true);
        // A pod whose labels and node stay (a status change): its index
        // entries stay too; only its Services look again.
        if change.labels && change.node && self.pods.contains_key(&id) {
            if let Some(rec) = self.pods.get(&id) {
                self.mark_pod_services(rec, &key, id, t);
            }
            if !change.ips {
                self.move_ip_counts(id, &stored);
            }
            self.put(id, stored);
            return id;
        }
        // A pod whose node stays but whose labels change: only the
        // label pairs that change in the index move.
        if change.node && self.pods.contains_key(&id) {
            self.relabel_pod(id, stored, change.rest, t);
            return id;
        }
        self.unindex(id, t);
        self.put(id, stored);
        self.index(id, t);
        id
    }

    /// Moves the IP counts of stored pod `id` to `new`, the form about to
    /// replace it.
    fn move_ip_counts(&mut self, id: ObjId, new: &Stored) {
        if let Some(slot) = self.slots.get(id as usize).and_then(Option::as_ref) {
            let name = &slot.key.name;
            if let Some(view) = slot.object.pod(name, &self.strings) {
                endpoints::count_ips(&mut self.ip_counts, view, false);
            }
            if let Some(view) = new.pod(name, &self.strings) {
                endpoints::count_ips(&mut self.ip_counts, view, true);
            }
        }
    }

    /// Is an object with this key stored?
    fn contains(&self, key: &ObjectKey) -> bool {
        self.ids.contains_key(key as &dyn KeyView)
    }

    /// Is an object with this key (given by its parts) stored?
    fn contains_parts(&self, key: KeyRef<'_>) -> bool {
        self.ids.contains_key(&key as &dyn KeyView)
    }

    /// Is an object with `object`'s key stored (its key not built)?
    pub(crate) fn holds(&self, object: &Object) -> bool {
        self.contains_parts(KeyRef {
            kind: object.kind(),
            namespace: object.namespace(),
            name: object.name().unwrap_or_default(),
        })
    }

    /// The ordered index from `start` on.
    fn keys_from<'a>(
        &'a self,
        start: &'a ObjectKey,
    ) -> impl Iterator<Item = (&'a StoreKey, &'a ObjId)> + 'a {
        use std::ops::Bound;
        self.by_key
            .range::<dyn KeyView, _>((Bound::Included(start as &dyn KeyView), Bound::Unbounded))
    }

    fn remove(&mut self, key: &ObjectKey, t: &mut Tracker) {
        let Some((key, id)) = self.ids.remove_entry(key as &dyn KeyView) else {
            return;
        };
        self.by_key.remove(&key);
        t.touched.note(&key, true);
        self.unindex(id, t);
        if let Some(slot) = self.slots[id as usize].take() {
            self.release(&slot.object);
        }
        self.free.push(id);
    }

    // ------------------------------------------------------------ indexes

    fn index(&mut self, id: ObjId, t: &mut Tracker) {
        let Some(slot) = self.slots[id as usize].take() else {
            return;
        };
        if let Some(pod) = slot.object.pod(&slot.key.name, &self.strings) {
            endpoints::count_ips(&mut self.ip_counts, pod, true);
        }
        if let Some((meta, node)) = pod_index_parts(&slot.object) {
            let rec = self.index_pod(id, meta, node);
            let services = match self.last_services.take() {
                Some(services) => services,
                None => self.pod_services(&rec),
            };
            self.mark_services(&services, &slot.key, id, t);
            self.last_services = Some(services);
            self.pods.insert(id, rec);
        }
        match slot.object.as_object() {
            Some(Object::Service(svc)) => {
                self.last_services = None;
                let ns = self
                    .strings
                    .intern(slot.key.namespace.as_deref().unwrap_or(""));
                let selector: Vec<(Sym, Sym)> = if endpointslice::is_managed(svc) {
                    svc.spec
                        .selector
                        .iter()
                        .flatten()
                        .map(|(k, v)| (self.strings.intern(k), self.strings.intern(v)))
                        .collect()
                } else {
                    Vec::new()
                };
                for &(k, v) in &selector {
                    self.svc_index.entry((ns, k, v)).or_default().push(id);
                }
                let name = self.strings.intern(&slot.key.name);
                self.services.insert(id, SvcRec { ns, name, selector });
                if endpointslice::topology_auto(svc) {
                    self.auto_services.insert(ns_name(&slot.key), ());
                }
                t.full_key(&slot.key);
            }
            Some(Object::Node(_)) => {
                self.node_changed(t);
                let name = self.strings.intern(&slot.key.name);
                self.nodes.insert(name, id);
                self.mark_node_pods(name, t);
            }
            _ if slot.object.kind() == Kind::EndpointSlice => {
                let Some(slice) = slot.object.slice() else {
                    self.slots[id as usize] = Some(slot);
                    return;
                };
                self.positions.index_slice(id, slice);
                if let Some(svc) = slice.service_name() {
                    let ns = self
                        .strings
                        .intern(slot.key.namespace.as_deref().unwrap_or(""));
                    let svc_sym = self.strings.intern(svc);
                    self.slices_by_service
                        .entry((ns, svc_sym))
                        .or_default()
                        .push(id);
                    if is_controller_slice(&slice.metadata().labels) && !t.internal {
                        self.foreign.insert((ns, svc_sym));
                        t.full(slot.key.namespace.as_deref().unwrap_or_default(), svc);
                    }
                }
            }
            Some(Object::Endpoints(_)) | None if slot.object.kind() == Kind::Endpoints => {
                self.positions.index_endpoints(id, &slot.object);
                t.full(
                    slot.key.namespace.as_deref().unwrap_or_default(),
                    &slot.key.name,
                );
            }
            _ => {}
        }
        self.slots[id as usize] = Some(slot);
    }

    fn unindex(&mut self, id: ObjId, t: &mut Tracker) {
        let Some(slot) = self.slots[id as usize].take() else {
            return;
        };
        if let Some(pod) = slot.object.pod(&slot.key.name, &self.strings) {
            endpoints::count_ips(&mut self.ip_counts, pod, false);
            if let Some(rec) = self.pods.remove(&id) {
                self.mark_pod_services(&rec, &slot.key, id, t);
                self.unindex_pod(id, rec);
            }
        }
        match slot.object.as_object() {
            Some(Object::Service(_)) => {
                self.last_services = None;
                if let Some(rec) = self.services.remove(&id) {
                    for &(k, v) in &rec.selector {
                        if let Some(list) = self.svc_index.get_mut(&(rec.ns, k, v)) {
                            list.retain(|&s| s != id);
                            if list.is_empty() {
                                self.svc_index.remove(&(rec.ns, k, v));
                            }
                        }
                    }
                }
                self.auto_services.remove(&ns_name(&slot.key));
                t.full_key(&slot.key);
            }
            Some(Object::Node(_)) => {
                self.node_changed(t);
                if let Some(name) = self.strings.lookup(&slot.key.name) {
                    self.nodes.remove(&name);
                    self.mark_node_pods(name, t);
                }
            }
            _ if slot.object.kind() == Kind::EndpointSlice => {
                self.positions.forget(id);
                if let Some(svc) = slot.object.slice().and_then(|s| s.service_name()) {
                    let ns = self
                        .strings
                        .intern(slot.key.namespace.as_deref().unwrap_or(""));
                    let svc_sym = self.strings.intern(svc);
                    if let Some(list) = self.slices_by_service.get_mut(&(ns, svc_sym)) {
                        list.retain(|&s| s != id);
                        if list.is_empty() {
                            self.slices_by_service.remove(&(ns, svc_sym));
                        }
                    }
                    if is_controller_slice(slot.object.labels()) && !t.internal {
                        t.full(slot.key.namespace.as_deref().unwrap_or_default(), svc);
                    }
                }
            }
            Some(Object::Endpoints(_)) | None if slot.object.kind() == Kind::Endpoints => {
                self.positions.forget(id);
                t.full(
                    slot.key.namespace.as_deref().unwrap_or_default(),
                    &slot.key.name,
                );
            }
            _ => {}
        }
        self.slots[id as usize] = Some(slot);
    }

    fn index_pod(&mut self, id: ObjId, meta: &ObjectMeta, node: PodNode<'_>) -> PodRec {
        let ns_name = meta.namespace.as_deref().unwrap_or("");
        let ns = match self.last_namespace {
            Some(ns) if self.strings.is(ns, ns_name) => ns,
            _ => self.strings.intern(ns_name),
        };
        let same_namespace = self.last_namespace == Some(ns);
        self.last_namespace = Some(ns);
        let shape = match node {
            PodNode::Sym(_, shape) => shape,
            PodNode::Name(_) => 0,
        };
        let same = (shape != 0 && shape == self.last_shape)
            || self.last_labels.len() == meta.labels.len()
                && (self.last_labels.iter().zip(&meta.labels))
                    .all(|(&(ks, vs), (k, v))| self.strings.is(ks, k) && self.strings.is(vs, v));
        self.last_shape = shape;
        if !(same && same_namespace) {
            // Another namespace or other labels: other Services.
            self.last_services = None;
        }
        if !same {
            self.last_labels.clear();
            for (k, v) in &meta.labels {
                let pair = (self.strings.intern(k), self.strings.intern(v));
                self.last_labels.push(pair);
            }
        }
        let mut labels = Vec::with_capacity(meta.labels.len());
        for &(k, v) in &self.last_labels {
            let list = self.pod_index.entry((ns, k, v)).or_default();
            labels.push((k, v, u32::try_from(list.len()).unwrap_or(u32::MAX)));
            list.push(id);
        }
        let node = match node {
            PodNode::Name(n) => n.filter(|n| !n.is_empty()).map(|n| self.strings.intern(n)),
            PodNode::Sym(n, _) => n.filter(|&n| !self.strings.is(n, "")),
        };
        if let Some(n) = node {
            self.pods_by_node.entry(n).or_default().push(id);
        }
        PodRec { ns, labels, node }
    }

    /// Replaces stored pod `id` by `object`, a Pod on the same node with
    /// other labels: the index entries of the label pairs both carry stay,
    /// the others are removed and added, and the Services of the old and
    /// the new labels are marked. The index ends as unindexing and indexing
    /// the pod would leave it, but for the pod's place in the posting
    /// lists of the pairs that stay (readers sort pods by name).
    ///
    /// `only_labels`: nothing but the labels changed. Then only the
    /// Services that select the pod under one of its label sets and not
    /// under the other are marked (upstream's `podChanged == false` case of
    /// `GetServicesToUpdateOnPodChange`): a Service that selects the pod
    /// before and after has the same endpoint for it (no EP rule reads a
    /// pod's labels beyond selection), and its state is settled.
    fn relabel_pod(&mut self, id: ObjId, object: Stored, only_labels: bool, t: &mut Tracker) {
        let expected = match (self.slot(id), self.pods.get(&id)) {
            (Some(slot), Some(rec)) => {
                pod_index_parts(&slot.object)
                    .is_some_and(|(meta, _)| meta.labels.len() == rec.labels.len())
                    && pod_index_parts(&object).is_some()
            }
            _ => false,
        };
        if !expected {
            // Not the shape expected: the whole way.
            self.unindex(id, t);
            self.put(id, object);
            self.index(id, t);
            return;
        }
        self.move_ip_counts(id, &object);
        let (Some(mut slot), Some(mut rec)) =
            (self.slots[id as usize].take(), self.pods.remove(&id))
        else {
            return;
        };
        let old = std::mem::replace(&mut slot.object, object);
        if let (Some((old_meta, _)), Some((new_meta, _))) =
            (pod_index_parts(&old), pod_index_parts(&slot.object))
        {
            let before = self.pod_services(&rec);
            let mut gone: Vec<(Sym, Sym, u32)> = Vec::new();
            let mut labels = Vec::with_capacity(new_meta.labels.len());
            let mut was = old_meta.labels.iter().zip(&rec.labels).peekable();
            for (k, v) in &new_meta.labels {
                while let Some(((ok, _), e)) = was.peek()
                    && ok.as_str() < k.as_str()
                {
                    gone.push(**e);
                    was.next();
                }
                if let Some(((ok, ov), e)) = was.peek()
                    && *ok == k
                {
                    let (e, same) = (**e, *ov == v);
                    was.next();
                    if same {
                        labels.push(e);
                        continue;
                    }
                    gone.push(e);
                }
                let (k, v) = (self.strings.intern(k), self.strings.intern(v));
                let list = self.pod_index.entry((rec.ns, k, v)).or_default();
                labels.push((k, v, u32::try_from(list.len()).unwrap_or(u32::MAX)));
                list.push(id);
            }
            gone.extend(was.map(|(_, e)| *e));
            self.unindex_pairs(id, rec.ns, &gone);
            rec.labels = labels;
            let after = self.pod_services(&rec);
            for &sid in before.iter().chain(&after) {
                if only_labels && self.fast_path && before.contains(&sid) && after.contains(&sid) {
                    continue;
                }
                if let Some(svc) = self.slot(sid) {
                    t.pod(&svc.key, sid, &slot.key, id);
                }
            }
        }
        self.pods.insert(id, rec);
        self.slots[id as usize] = Some(slot);
        self.release(&old);
    }

    /// Removes pod `id` from the posting lists of these pairs (entries of
    /// its record, with its position in each).
    fn unindex_pairs(&mut self, id: ObjId, ns: Sym, pairs: &[(Sym, Sym, u32)]) {
        for &(k, v, pos) in pairs {
            let pair = (ns, k, v);
            let Some(list) = self.pod_index.get_mut(&pair) else {
                continue;
            };
            let pos = pos as usize;
            if list.get(pos) != Some(&id) {
                continue;
            }
            list.swap_remove(pos);
            if let Some(&moved) = list.get(pos) {
                // The last pod moved into the hole: fix its recorded position.
                if let Some(other) = self.pods.get_mut(&moved)
                    && let Some(e) = other.labels.iter_mut().find(|e| e.0 == k && e.1 == v)
                {
                    e.2 = pos as u32;
                }
            }
            if list.is_empty() {
                self.pod_index.remove(&pair);
            }
        }
    }

    fn unindex_pod(&mut self, id: ObjId, rec: PodRec) {
        self.unindex_pairs(id, rec.ns, &rec.labels);
        if let Some(n) = rec.node
            && let Some(list) = self.pods_by_node.get_mut(&n)
        {
            if let Some(i) = list.iter().position(|&p| p == id) {
                list.swap_remove(i);
            }
            if list.is_empty() {
                self.pods_by_node.remove(&n);
            }
        }
    }

    /// Marks the Services whose selector matches this pod's labels, found
    /// through the reverse index.
    fn mark_pod_services(&self, rec: &PodRec, pod: &StoreKey, pid: ObjId, t: &mut Tracker) {
        self.mark_services(&self.pod_services(rec), pod, pid, t);
    }

    /// Marks these Services (found already) for the pod in slot `pid`.
    fn mark_services(&self, services: &[ObjId], pod: &StoreKey, pid: ObjId, t: &mut Tracker) {
        for &sid in services {
            if let Some(slot) = self.slot(sid) {
                t.pod(&slot.key, sid, pod, pid);
            }
        }
    }

    /// The Services whose selector matches this pod's labels (found
    /// through the reverse index), in the order the index lists them.
    fn pod_services(&self, rec: &PodRec) -> Vec<ObjId> {
        let mut out: Vec<ObjId> = Vec::new();
        for &(k, v, _) in &rec.labels {
            for &sid in self.svc_index.get(&(rec.ns, k, v)).into_iter().flatten() {
                // A Service listed again under another pair: already
                // taken, or (not selecting) checked again.
                if out.contains(&sid) {
                    continue;
                }
                let Some(svc) = self.services.get(&sid) else {
                    continue;
                };
                let selects = svc
                    .selector
                    .iter()
                    .all(|&(sk, sv)| rec.labels.iter().any(|&(pk, pv, _)| pk == sk && pv == sv));
                if selects {
                    out.push(sid);
                }
            }
        }
        out
    }

    /// A Node came, went or changed: the zone weights of topology-mode
    /// Auto are stale, and every Auto Service must be reconciled.
    fn node_changed(&mut self, t: &mut Tracker) {
        self.zone_ratios = None;
        for (ns, name) in self.auto_services.keys() {
            t.full(ns, name);
        }
    }

    fn mark_node_pods(&self, node: Sym, t: &mut Tracker) {
        let mut scratch = Tracker::default();
        for pid in self.pods_by_node.get(&node).into_iter().flatten() {
            if let (Some(rec), Some(slot)) = (self.pods.get(pid), self.slot(*pid)) {
                self.mark_pod_services(rec, &slot.key, *pid, &mut scratch);
            }
        }
        for service in scratch.dirty.into_keys() {
            t.full_key(&service);
        }
    }

    /// The pods a Service's selector picks: the shortest posting list of
    /// its pairs, filtered by the others.
    fn selected_pods(&self, sid: ObjId) -> Vec<ObjId> {
        let Some(svc) = self.services.get(&sid) else {
            return Vec::new();
        };
        if svc.selector.is_empty() {
            return Vec::new();
        }
        let mut shortest: Option<&Vec<ObjId>> = None;
        for &(k, v) in &svc.selector {
            match self.pod_index.get(&(svc.ns, k, v)) {
                None => return Vec::new(),
                Some(list) if shortest.is_none_or(|s| list.len() < s.len()) => {
                    shortest = Some(list)
                }
                Some(_) => {}
            }
        }
        shortest
            .into_iter()
            .flatten()
            .copied()
            .filter(|pid| {
                self.pods.get(pid).is_some_and(|rec| {
                    svc.selector
                        .iter()
                        .all(|&(sk, sv)| rec.labels.iter().any(|&(pk, pv, _)| pk == sk && pv == sv))
                })
            })
            .collect()
    }

    // ------------------------------------------------------------ controllers

    /// Reconciles every Service marked during the call, then computes the
    /// call's net changes.
    fn settle(&mut self, mut t: Tracker) -> Changes {
        workloads::settle(self, &mut t);
        let dirty = t.take_dirty();
        for (service, trigger) in &dirty {
            let (ns, name) = (
                service.namespace.as_deref().unwrap_or_default(),
                service.name.as_str(),
            );
            let done = match trigger {
                Trigger::Pod(pod) if self.fast_path => {
                    self.reconcile_for_pod(ns, service, pod, &mut t)
                }
                _ => false,
            };
            if !done {
                self.reconcile_service(ns, name, &mut t);
            }
            self.reconcile_endpoints(ns, name, trigger, &mut t);
        }
        let mut changes = Changes::default();
        for (key, existed) in t.touched.into_sorted() {
            match (existed, self.ids.contains_key(&key)) {
                (false, true) => changes.created.push(key.get().clone()),
                (true, true) => changes.updated.push(key.get().clone()),
                (true, false) => changes.deleted.push(key.get().clone()),
                (false, false) => {}
            }
        }
        changes
    }

    /// One pass of the EndpointSlice and mirroring controllers for one
    /// Service.
    fn reconcile_service(&mut self, ns: &str, name: &str, t: &mut Tracker) {
        if !self.config.endpoint_slice_controller {
            return;
        }
        if self.zone_ratios.is_none()
            && self
                .auto_services
                .contains_key(&(ns.to_owned(), name.to_owned()))
        {
            let ratios = endpointslice::zone_ratios(self.nodes.values().filter_map(|&id| {
                match self.object(id) {
                    Some(Object::Node(n)) => Some(n),
                    _ => None,
                }
            }));
            self.zone_ratios = Some(ratios);
        }
        let ops = {
            let svc = self.lookup(Kind::Service, Some(ns), name);
            let (managed, mirrored) = match (self.strings.lookup(ns), self.strings.lookup(name)) {
                (Some(ns_sym), Some(name_sym)) => (
                    self.managed_slices(ns_sym, name_sym, CONTROLLER_NAME),
                    self.managed_slices(ns_sym, name_sym, MIRRORING_CONTROLLER_NAME),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            let mut ops = Vec::new();
            match svc {
                Some((sid, Object::Service(svc))) if endpointslice::is_managed(svc) => {
                    let mut pods: Vec<(PodView<'_>, Option<&Node>)> = self
                        .selected_pods(sid)
                        .into_iter()
                        .filter_map(|pid| Some((self.pod_view(pid)?, self.node_of_pod(pid))))
                        .collect();
                    crate::order::sort_by(&mut pods, |a, b| a.0.name().cmp(b.0.name()));
                    ops.extend(endpointslice::reconcile(
                        svc,
                        &pods,
                        &managed,
                        self.config.primary_family(),
                        self.config.max_endpoints_per_slice as usize,
                        self.zone_ratios.as_ref().unwrap_or(&None),
                    ));
                    ops.extend(endpointslice::mirror(None, &mirrored, 1));
                }
                Some((_, Object::Service(svc))) => {
                    ops.extend(managed.iter().map(|(id, _)| SliceOp::Delete(*id)));
                    // Mirroring is for selector-less Services only (an
                    // ExternalName Service with a selector gets neither).
                    let selectorless = svc.spec.selector.as_ref().is_none_or(|s| s.is_empty());
                    let eps = match self.lookup_stored(Kind::Endpoints, Some(ns), name) {
                        Some((_, stored)) if selectorless => stored.endpoints(),
                        _ => None,
                    };
                    ops.extend(endpointslice::mirror(
                        eps.as_deref(),
                        &mirrored,
                        self.config.mirroring_max_endpoints_per_subset as usize,
                    ));
                }
                _ => {
                    ops.extend(
                        managed
                            .iter()
                            .chain(&mirrored)
                            .map(|(id, _)| SliceOp::Delete(*id)),
                    );
                }
            }
            ops
        };
        self.apply_ops(ns, ops, t);
    }

    /// Writes a controller's plan.
    fn apply_ops(&mut self, ns: &str, ops: Vec<SliceOp>, t: &mut Tracker) {
        for op in ops {
            match op {
                SliceOp::Replace(id, ..)
                | SliceOp::Remove(id, _)
                | SliceOp::Refresh(id, ..)
                | SliceOp::Push(id, _) => self.edit_slice(id, t, op),
                SliceOp::Create(mut slice) => {
                    let prefix = slice.metadata.generate_name.clone().unwrap_or_default();
                    slice.metadata.name = Some(self.generate_slice_name(ns, &prefix));
                    self.write_planned_slice(slice, t);
                }
                SliceOp::Update(_, slice) => self.write_planned_slice(slice, t),
                SliceOp::Delete(id) => {
                    if let Some(key) = self.slot(id).map(|s| s.key.clone()) {
                        let mut scratch = Tracker {
                            internal: true,
                            ..Tracker::default()
                        };
                        self.remove(&key, &mut scratch);
                        t.touched.absorb(scratch.touched);
                    }
                }
            }
        }
    }

    /// Edits a stored slice and its endpoint tags in place (its labels,
    /// and so its indexes, stay): `op` is one of the in-place ops. A
    /// compact slice is edited in its records; one that would then hold an
    /// endpoint the records cannot is kept as given from there on.
    fn edit_slice(&mut self, id: ObjId, t: &mut Tracker, op: SliceOp) {
        let Some(Some(slot)) = self.slots.get_mut(id as usize) else {
            return;
        };
        let Some(view) = slot.object.slice() else {
            return;
        };
        if self
            .positions
            .slice(id)
            .is_none_or(|tags| tags.len() != view.len())
        {
            self.positions.index_slice(id, view);
        }
        let Some(tags) = self.positions.slice_mut(id) else {
            return;
        };
        t.touched.note(&slot.key, true);
        if let Stored::Slice(c) = &mut slot.object {
            let done = match &op {
                SliceOp::Replace(_, i, ep) => {
                    let record = SliceEndpoint::of(ep, c.namespace());
                    record.is_some_and(|r| c.replace(*i, r))
                }
                SliceOp::Remove(_, i) => c.remove(*i),
                SliceOp::Refresh(_, i, conditions, hints) => {
                    c.refresh(*i, conditions, hints.as_ref())
                }
                SliceOp::Push(_, ep) => {
                    let record = SliceEndpoint::of(ep, c.namespace());
                    record.map(|r| c.push(r)).is_some()
                }
                _ => false,
            };
            if done {
                edit_tags(tags, &op);
                return;
            }
            let object = Object::EndpointSlice(c.to_slice());
            slot.object = Stored::Object(Box::new(object));
        }
        if let Stored::Object(o) = &mut slot.object
            && let Object::EndpointSlice(s) = &mut **o
        {
            edit_tags(tags, &op);
            match op {
                SliceOp::Replace(_, i, ep) => {
                    if let Some(e) = s.endpoints.get_mut(i) {
                        *e = ep;
                    }
                }
                SliceOp::Remove(_, i) if i < s.endpoints.len() => {
                    s.endpoints.remove(i);
                }
                SliceOp::Refresh(_, i, conditions, hints) => {
                    if let Some(e) = s.endpoints.get_mut(i) {
                        e.conditions = conditions;
                        e.hints = hints;
                    }
                }
                SliceOp::Push(_, ep) => s.endpoints.push(ep),
                _ => {}
            }
        }
    }

    /// The controller's slices of a Service (by its interned namespace
    /// and name), in name order.
    fn managed_slices(
        &self,
        ns_sym: Sym,
        name_sym: Sym,
        manager: &str,
    ) -> Vec<(ObjId, SliceView<'_>)> {
        let mut out: Vec<(ObjId, SliceView<'_>)> = Vec::new();
        for &id in self
            .slices_by_service
            .get(&(ns_sym, name_sym))
            .into_iter()
            .flatten()
        {
            if let Some(s) = self.slot(id).and_then(|s| s.object.slice())
                && s.metadata()
                    .labels
                    .get(EndpointSlice::MANAGED_BY_LABEL)
                    .map(String::as_str)
                    == Some(manager)
            {
                out.push((id, s));
            }
        }
        crate::order::sort_by(&mut out, |a, b| {
            a.1.metadata().name.cmp(&b.1.metadata().name)
        });
        out
    }

    /// The fast path for a Service that only one pod's change touched:
    /// in-place edits when they are provably what the full reconcile would
    /// do; `false` when the full reconcile must run.
    fn reconcile_for_pod(
        &mut self,
        ns: &str,
        service: &StoreKey,
        trigger: &PodTrigger,
        t: &mut Tracker,
    ) -> bool {
        if !self.config.endpoint_slice_controller {
            return true;
        }
        let (pod_ns, pod_name) = (
            trigger.namespace.as_deref().unwrap_or_default(),
            trigger.name.as_str(),
        );
        let ops = {
            let Some((sid, Object::Service(svc))) = self.lookup_key(service, trigger.service)
            else {
                return false;
            };
            let Some(&SvcRec {
                ns: ns_sym,
                name: name_sym,
                ..
            }) = self.services.get(&sid)
            else {
                return false;
            };
            if self.foreign.contains(&(ns_sym, name_sym)) {
                return false;
            }
            if !endpointslice::is_managed(svc) {
                return false;
            }
            let pod = match self.lookup_pod_key(&trigger.key, trigger.pod) {
                Some((pid, p)) if self.selects(sid, pid) => Some((p, self.node_of_pod(pid))),
                _ => None,
            };
            let existing = self.managed_slices(ns_sym, name_sym, CONTROLLER_NAME);
            let Some(tags) = existing
                .iter()
                .map(|(id, _)| self.positions.slice(*id))
                .collect::<Option<Vec<&[u32]>>>()
            else {
                return false;
            };
            match endpointslice::reconcile_pod(
                svc,
                pod_ns,
                pod_name,
                pod,
                &existing,
                &tags,
                self.config.primary_family(),
                self.config.max_endpoints_per_slice as usize,
            ) {
                Some(ops) => ops,
                None => return false,
            }
        };
        self.apply_ops(ns, ops, t);
        true
    }

    /// Does Service `sid` select pod `pid` (by the indexed records)?
    fn selects(&self, sid: ObjId, pid: ObjId) -> bool {
        match (self.services.get(&sid), self.pods.get(&pid)) {
            (Some(svc), Some(pod)) => {
                svc.ns == pod.ns
                    && !svc.selector.is_empty()
                    && svc
                        .selector
                        .iter()
                        .all(|&(k, v)| pod.labels.iter().any(|&(pk, pv, _)| pk == k && pv == v))
            }
            _ => false,
        }
    }

    /// A controller's write: tracked, but it marks nothing dirty (the
    /// controller is the one settling).
    fn write_internal(&mut self, object: Object, t: &mut Tracker) {
        let mut scratch = Tracker {
            internal: true,
            ..Tracker::default()
        };
        self.write(object, &mut scratch);
        t.touched.absorb(scratch.touched);
    }

    /// The Node of stored pod `pid`, by the node symbol its index record
    /// keeps (no hashing of the node's name).
    fn node_of_pod(&self, pid: ObjId) -> Option<&Node> {
        let id = self.nodes.get(&self.pods.get(&pid)?.node?)?;
        match self.object(*id) {
            Some(Object::Node(n)) => Some(n),
            _ => None,
        }
    }

    /// `generateName` + five characters of upstream's alphabet, from the
    /// seeded generator, avoiding names in use.
    fn generate_slice_name(&mut self, ns: &str, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let base: String = prefix.chars().take(58).collect();
        loop {
            let mut name = base.clone();
            for _ in 0..5 {
                let i = self.rng.below(ALPHABET.len() as u64) as usize;
                name.push(ALPHABET[i] as char);
            }
            let key = ObjectKey {
                kind: Kind::EndpointSlice,
                namespace: Some(ns.to_owned()),
                name,
            };
            if !self.contains(&key) {
                return key.name;
            }
        }
    }
}

/// A pod's node, as the index takes it: the name of a pod kept as given,
/// the symbol of a compact one (with the address of its shape).
enum PodNode<'a> {
    Name(Option<&'a str>),
    Sym(Option<Sym>, usize),
}

/// What the label index reads of a stored pod: its metadata (namespace
/// and labels) and its node; `None` for other kinds.
fn pod_index_parts(stored: &Stored) -> Option<(&ObjectMeta, PodNode<'_>)> {
    match stored {
        Stored::Pod(p) => Some((
            &p.shape().metadata,
            PodNode::Sym(p.node(), Arc::as_ptr(p.shape()) as usize),
        )),
        Stored::Object(o) => match &**o {
            Object::Pod(p) => Some((&p.metadata, PodNode::Name(p.spec.node_name.as_deref()))),
            _ => None,
        },
        Stored::Endpoints(_) | Stored::Slice(_) => None,
    }
}

/// The position tags' side of an in-place slice op (the slice's side is
/// [`Cluster::edit_slice`]'s).
fn edit_tags(tags: &mut Vec<u32>, op: &SliceOp) {
    match op {
        SliceOp::Replace(_, i, ep) => {
            if let Some(tag) = tags.get_mut(*i) {
                *tag = positions::endpoint_tag(ep);
            }
        }
        SliceOp::Remove(_, i) if *i < tags.len() => {
            tags.remove(*i);
        }
        SliceOp::Push(_, ep) => tags.push(positions::endpoint_tag(ep)),
        _ => {}
    }
}

fn is_controller_slice(labels: &(impl crate::labels::Labels + ?Sized)) -> bool {
    matches!(
        crate::labels::Labels::get(labels, EndpointSlice::MANAGED_BY_LABEL),
        Some(CONTROLLER_NAME | MIRRORING_CONTROLLER_NAME)
    )
}

fn ns_name(key: &ObjectKey) -> (String, String) {
    (key.namespace.clone().unwrap_or_default(), key.name.clone())
}

/// A key as the store keeps it: namespaced kinds default to `default`,
/// cluster-scoped kinds have no namespace.
fn normal_key(key: &ObjectKey) -> ObjectKey {
    let mut k = key.clone();
    if k.kind.is_namespaced() {
        if k.namespace.as_deref().is_none_or(str::is_empty) {
            k.namespace = Some("default".to_owned());
        }
    } else {
        k.namespace = None;
    }
    k
}

/// The `default/kubernetes` Service of a fresh cluster, as stored: the
/// object [`admission::kubernetes_service`] submits, with the fields that
/// creating it sets.
fn kubernetes_service(ip: std::net::IpAddr) -> Service {
    use crate::api::{IPFamily, IPFamilyPolicy, ServiceInternalTrafficPolicy};
    let mut svc = admission::kubernetes_service(ip, 6443);
    svc.spec.cluster_ips = Some(vec![ip.to_string()]);
    svc.spec.ip_families = vec![if ip.is_ipv6() {
        IPFamily::IPv6
    } else {
        IPFamily::IPv4
    }];
    svc.spec.ip_family_policy = Some(IPFamilyPolicy::SingleStack);
    svc.spec.internal_traffic_policy = Some(ServiceInternalTrafficPolicy::Cluster);
    svc
}

#[cfg(test)]
mod tests;
