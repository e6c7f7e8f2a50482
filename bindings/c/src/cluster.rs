//! The cluster engine through the C door: the opaque `svcroute_cluster`
//! handle and its functions.
//!
//! Values cross as JSON text: objects in their Kubernetes API shape (`v1`
//! Lists for lists), changes, explanations and the configuration in the
//! shapes of [`crate::door`], the same the WASM package returns.

use std::ffi::c_char;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use svcroute::cluster::Cluster;

use crate::door::{self, DoorError};
use crate::engine::{Engine, View};
use crate::error::FfiError;
use crate::route::Shards;
use crate::snapshot::Published;
use crate::status::svcroute_status;
use crate::{args, boundary, owned};

/// A cluster: the object store and its controllers (the EndpointSlice and
/// mirroring controllers), settled after every call, with kube-proxy's
/// tables (the cluster's `proxyMode`) and the cluster DNS compiled from it
/// and patched on every change.
///
/// Created by `svcroute_cluster_new`, released by `svcroute_cluster_free`.
///
/// Threads: every function taking a cluster may be called from any number
/// of threads at once on the same cluster, except `svcroute_cluster_free`,
/// which must be the last call. Writes (`svcroute_cluster_apply`,
/// `svcroute_cluster_delete`, `svcroute_set_algorithm`) take a write lock
/// and publish a new immutable snapshot of the routing and DNS tables;
/// routes and DNS answers read the latest snapshot without taking any lock
/// ([`crate::snapshot`]), so a route never sees half a change: it is
/// answered either before or after the whole batch. The `_json` reads of
/// the object store share a read lock. Different clusters are independent.
#[allow(non_camel_case_types)]
pub struct svcroute_cluster {
    engine: RwLock<Engine>,
    published: Published,
    shards: Shards,
}

impl svcroute_cluster {
    /// A handle over a new cluster.
    ///
    /// ```
    /// let c = svcroute_c::svcroute_cluster::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
    /// assert_eq!(c.view(|v| v.dataplane.service_count()), 1);
    /// let before = c.read().cluster.len();
    /// c.write(|e| e.apply("{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}")).unwrap();
    /// assert_eq!(c.read().cluster.len(), before + 1);
    /// # let _ = c.shards();
    /// ```
    pub fn new(cluster: Cluster) -> Result<svcroute_cluster, DoorError> {
        let seed = cluster.config().seed;
        Ok(svcroute_cluster {
            engine: RwLock::new(Engine::new(cluster)?),
            published: Published::new(),
            shards: Shards::new(seed),
        })
    }

    /// Shared access to the object store (a panic in an earlier call does
    /// not lock it out).
    pub fn read(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with exclusive access, then publishes the (possibly) new
    /// view to the readers.
    pub fn write<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> R {
        // Dropped after the lock guard, even if `f` panics.
        let _publish = Publish(&self.published);
        let mut engine = self.engine.write().unwrap_or_else(PoisonError::into_inner);
        f(&mut engine)
    }

    /// Runs `f` on the latest published view, without a lock on the hot
    /// path (see [`crate::snapshot`]).
    pub fn view<R>(&self, f: impl FnOnce(&View) -> R) -> R {
        self.published.read(|| Arc::clone(&self.read().view), f)
    }

    /// The per-pick state.
    pub fn shards(&self) -> &Shards {
        &self.shards
    }
}

/// Bumps the generation when dropped.
struct Publish<'a>(&'a Published);

impl Drop for Publish<'_> {
    fn drop(&mut self) {
        self.0.changed();
    }
}

impl Drop for svcroute_cluster {
    fn drop(&mut self) {
        self.published.forget();
    }
}

// The threading promise above rests on this: concurrent `&Engine` use is
// sound only if the engine is `Sync`, moving it only if `Send`. Checked at
// compile time, so a change in the core that breaks it breaks this build.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<svcroute_cluster>();
};

fn door_error(err: DoorError) -> FfiError {
    FfiError::new(svcroute_status::from_kind(err.kind), err.message)
}

/// Writes `value` as compact JSON to `out`, a string the caller frees with
/// `svcroute_string_free`.
fn write_json(out: args::Out<'_, *mut c_char>, value: &serde_json::Value) {
    write_text(out, &value.to_string())
}

/// Stores `value` in `*out`, unless the caller passed NULL (it does not
/// want it); `name` is the out-parameter's name for the last error.
///
/// # Safety
///
/// `out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn write_optional(
    out: *mut *mut c_char,
    name: &str,
    value: &serde_json::Value,
) -> Result<(), FfiError> {
    if !out.is_null() {
        // SAFETY: the caller's guarantee; not NULL.
        write_json(unsafe { args::out_arg(out, name) }?, value);
    }
    Ok(())
}

/// Writes `text` to `out`, a string the caller frees with
/// `svcroute_string_free`.
fn write_text(out: args::Out<'_, *mut c_char>, text: &str) {
    out.write(owned::into_c_string(text))
}

/// Creates a cluster.
///
/// `config_json` is NULL (upstream defaults: a fresh real cluster with the
/// namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease` and
/// the `default/kubernetes` Service) or a JSON object with any of the keys
/// `clusterDomain`, `serviceCIDRs`, `clusterCIDRs`, `nodeCIDRMaskSizeIPv4`,
/// `nodeCIDRMaskSizeIPv6`, `nodePortRange` (`"30000-32767"`),
/// `maxEndpointsPerSlice`, `mirroringMaxEndpointsPerSubset`, `proxyMode`
/// (`"iptables"`, `"nftables"`, `"ipvs"`), `masqueradeAll`,
/// `localhostNodePorts`, `nodePortAddresses`, `ipvsScheduler`,
/// `detectLocalMode`, `kubernetesServiceIP` (`null`: none reserved), `seed`,
/// `endpointSliceController`, `bootstrap` (`false`: start empty),
/// `workloads` (`false`: Deployments, StatefulSets, DaemonSets and
/// ReplicaSets make no Pods, as for a `kubectl get -o json` dump),
/// `endpointsController`, `loadBalancer` (`null`, `"aws"`,
/// `{"pool": ["192.0.2.0/28"]}`, `{"aws": {"region": "eu-west-1"}}`) and
/// `defaultNodes` (start with that many Ready nodes in three zones, for
/// manifests that bring none). Absent keys keep their defaults.
///
/// On success stores the new cluster in `*out`. Fails with
/// `SVCROUTE_STATUS_PARSE` (not a JSON object, an unknown key, a value of
/// the wrong type), `SVCROUTE_STATUS_INVALID` (a bad CIDR or range, rules
/// such as one CIDR per family), `SVCROUTE_STATUS_UNSUPPORTED` (a key not
/// taken yet), `SVCROUTE_STATUS_NULL_ARGUMENT` (`out` is NULL) or
/// `SVCROUTE_STATUS_INVALID_UTF8`; `*out` is then left unchanged.
///
/// Ownership: `config_json` is borrowed for the call only. The cluster
/// belongs to the caller, who releases it with `svcroute_cluster_free`.
///
/// # Safety
///
/// `config_json` is NULL or a NUL-terminated string; `out` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_new(
    config_json: *const c_char,
    out: *mut *mut svcroute_cluster,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let config = if config_json.is_null() {
            None
        } else {
            // SAFETY: as above; not NULL.
            Some(unsafe { args::str_arg(config_json, "config_json") }?)
        };
        let cluster = door::new_cluster(config).map_err(door_error)?;
        let handle = svcroute_cluster::new(cluster).map_err(door_error)?;
        out.write(owned::into_handle(handle));
        Ok(())
    })
}

/// Releases a cluster. NULL is a no-op.
///
/// # Safety
///
/// `cluster` is NULL or a cluster from `svcroute_cluster_new`, not freed yet
/// and not in use by another call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_free(cluster: *mut svcroute_cluster) {
    // SAFETY: the caller's guarantees, as documented above.
    boundary::value((), || unsafe { owned::free_handle(cluster) })
}

/// Applies manifests: the `len` bytes at `bytes`, UTF-8 JSON or YAML
/// (multi-document streams, `List`s, top-level JSON arrays, watch-event
/// streams such as `kubectl get -w -o json --output-watch-events`).
///
/// Atomic: when the call fails, the cluster is exactly as it was. Objects of
/// kinds svcroute does not model (ConfigMap, Secret, CRDs…) are skipped and
/// counted, never an error.
///
/// On success, unless `changes_json_out` is NULL, stores in
/// `*changes_json_out` the changes as JSON: `{"created": [...], "updated":
/// [...], "deleted": [...], "skipped": [...]}`, where the first three list
/// the objects (`{"apiVersion", "kind", "namespace"?, "name"}`) the call
/// created, changed and removed (the controllers' EndpointSlices and the
/// implied namespaces included) and `skipped` lists
/// `{"apiVersion", "kind", "count"}` for each unmodelled kind.
///
/// Fails with `SVCROUTE_STATUS_PARSE` (bad syntax, a field of the wrong type;
/// the last error names the document, line, object and field),
/// `SVCROUTE_STATUS_INVALID` (an object the API would refuse),
/// `SVCROUTE_STATUS_UNSUPPORTED` (a kind in a version svcroute does not
/// read), `SVCROUTE_STATUS_LIMIT` (nesting too deep),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` (`cluster` NULL, or `bytes` NULL with
/// `len > 0`) or `SVCROUTE_STATUS_INVALID_UTF8`; `*changes_json_out` is then
/// left unchanged.
///
/// Ownership: `bytes` is borrowed for the call only. The changes string
/// belongs to the caller, who releases it with `svcroute_string_free`.
/// Threads: a write: waits for running calls on `cluster`, and they for it;
/// any thread may call it while others route.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `bytes` is NULL or valid for reading `len` bytes;
/// `changes_json_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_apply(
    cluster: *mut svcroute_cluster,
    bytes: *const u8,
    len: usize,
    changes_json_out: *mut *mut c_char,
) -> svcroute_status {
    // SAFETY: the caller's guarantees, as documented above; NULL is a
    // valid `summary_json_out` (no summary wanted).
    unsafe {
        crate::summary::svcroute_cluster_apply_summary(
            cluster,
            bytes,
            len,
            changes_json_out,
            std::ptr::null_mut(),
        )
    }
}

/// Deletes one object: `kind` as in manifests (`"Service"`, `"Pod"`,
/// `"EndpointSlice"`…; ASCII case ignored), `namespace` (NULL or `""`:
/// `default`; ignored for cluster-scoped kinds) and `name`. The controllers
/// then settle (a deleted Service's EndpointSlices go with it).
///
/// On success, unless `changes_json_out` is NULL, stores the changes in
/// `*changes_json_out`, as `svcroute_cluster_apply` does (`skipped` empty).
/// Fails with `SVCROUTE_STATUS_NOT_FOUND` (no such object; nothing changes),
/// `SVCROUTE_STATUS_UNSUPPORTED` (not a kind svcroute models),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only; the changes string
/// belongs to the caller (`svcroute_string_free`).
/// Threads: a write: waits for running calls on `cluster`, and they for it;
/// any thread may call it while others route.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `kind`, `namespace` and `name` are NULL or NUL-terminated
/// strings; `changes_json_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_delete(
    cluster: *mut svcroute_cluster,
    kind: *const c_char,
    namespace: *const c_char,
    name: *const c_char,
    changes_json_out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let kind = unsafe { args::str_arg(kind, "kind") }?;
        // SAFETY: as above.
        let namespace = unsafe { optional_str(namespace, "namespace") }?;
        // SAFETY: as above.
        let name = unsafe { args::str_arg(name, "name") }?;
        let changes = cluster
            .write(|e| e.delete(kind, namespace, name))
            .map_err(door_error)?;
        let changes = door::changes_json(&changes, &Default::default());
        // SAFETY: the caller's guarantees, as documented above.
        unsafe { write_optional(changes_json_out, "changes_json_out", &changes) }
    })
}

/// Lists objects like `kubectl get KIND [-n NAMESPACE | -A] [-l SELECTOR] -o
/// json`: the objects of `kind` (as for `svcroute_cluster_delete`) in
/// `namespace` (NULL or `""`: all namespaces) whose labels match `selector`
/// (kubectl's grammar, `"app=web,tier in (a,b),!canary"`; NULL or `""`:
/// everything), as a `v1` List (`{"apiVersion": "v1", "kind": "List",
/// "metadata": {...}, "items": [...]}`) ordered by namespace and name.
/// An empty result is a List with no items, not an error.
///
/// On success stores the JSON in `*out`. Fails with
/// `SVCROUTE_STATUS_PARSE` (a bad selector; the message gives the byte
/// position), `SVCROUTE_STATUS_UNSUPPORTED` (not a kind svcroute models),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only; `*out` belongs to
/// the caller (`svcroute_string_free`).
/// Threads: a read: runs concurrently with other reads and routes.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `kind`, `namespace` and `selector` are NULL or NUL-terminated
/// strings; `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_list_json(
    cluster: *const svcroute_cluster,
    kind: *const c_char,
    namespace: *const c_char,
    selector: *const c_char,
    out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let kind = unsafe { args::str_arg(kind, "kind") }?;
        // SAFETY: as above.
        let namespace = unsafe { optional_str(namespace, "namespace") }?;
        // SAFETY: as above.
        let selector = unsafe { optional_str(selector, "selector") }?;
        // SAFETY: as above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let list =
            door::list(&cluster.read().cluster, kind, namespace, selector).map_err(door_error)?;
        write_text(out, &list);
        Ok(())
    })
}

/// The EndpointSlices of Service `namespace/service` (the controllers' and
/// any other slice labelled `kubernetes.io/service-name: SERVICE`), as a `v1`
/// List ordered by name: what kube-proxy reads.
///
/// On success stores the JSON in `*out`. Fails with
/// `SVCROUTE_STATUS_NOT_FOUND` when there is no such Service and no slice
/// names it, `SVCROUTE_STATUS_NULL_ARGUMENT` or
/// `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only; `*out` belongs to
/// the caller (`svcroute_string_free`).
/// Threads: a read: runs concurrently with other reads and routes.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `namespace` and `service` are NULL or NUL-terminated strings;
/// `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_endpoint_slices_json(
    cluster: *const svcroute_cluster,
    namespace: *const c_char,
    service: *const c_char,
    out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let namespace = unsafe { args::str_arg(namespace, "namespace") }?;
        // SAFETY: as above.
        let service = unsafe { args::str_arg(service, "service") }?;
        // SAFETY: as above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let list = door::endpoint_slices(&cluster.read().cluster, namespace, service)
            .map_err(door_error)?;
        write_text(out, &list);
        Ok(())
    })
}

/// Why Service `namespace/service` has the endpoints it has: for every pod
/// that could back it, the EndpointSlice controller's verdict and, for pods
/// it does not select, the labels in the way. JSON:
/// `{"namespace", "name", "type", "selector", "externalName", "ports": [...],
/// "readyEndpoints": N, "pods": [{"namespace", "name", "ip", "node",
/// "verdict", "message", "ports", ...}]}`, `verdict` one of `"Ready"`,
/// `"NotReady"`, `"Terminating"` (with `"serving"`), `"Skipped"` (with
/// `"reason"`), `"NotSelected"` (with `"labelMisses"`: `{"key", "wanted",
/// "found"}`), `"OtherNamespace"`.
///
/// On success stores the JSON in `*out`. Fails with
/// `SVCROUTE_STATUS_NOT_FOUND` (no such Service),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only; `*out` belongs to
/// the caller (`svcroute_string_free`).
/// Threads: a read: runs concurrently with other reads and routes.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `namespace` and `service` are NULL or NUL-terminated strings;
/// `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_explain_service_json(
    cluster: *const svcroute_cluster,
    namespace: *const c_char,
    service: *const c_char,
    out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let namespace = unsafe { args::str_arg(namespace, "namespace") }?;
        // SAFETY: as above.
        let service = unsafe { args::str_arg(service, "service") }?;
        // SAFETY: as above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let why = door::explain(&cluster.read().cluster, namespace, service).map_err(door_error)?;
        write_json(out, &why);
        Ok(())
    })
}

/// Chooses how connections to port `port` of Service `namespace/name` are
/// placed among the endpoints kube-proxy's rules make eligible:
/// `algorithm` is `"kube-proxy"` (the default: the proxy mode's own
/// placement and ClientIP affinity), `"round-robin"`, `"smooth-weighted"`,
/// `"random"`, `"weighted-random"`, `"least-request"`, `"peak-ewma"`,
/// `"maglev"`, `"ketama"`, `"jump"`, `"rendezvous"` (consistent hashing of
/// the flow's 5-tuple: the same flow always lands on the same endpoint),
/// `"iptables"`, `"nftables"` or `"ipvs"`. Seeds come from the
/// configuration's `seed`. `port` is the Service port number
/// (`spec.ports[].port`; the flow may also arrive on its nodePort), or 0
/// for every port. The Service need not exist yet.
///
/// Balancer state (round-robin turns, connection counts) is kept per
/// shard of route state (see `svcroute_route`), so turn-based algorithms
/// alternate per client group rather than globally; hashing algorithms
/// give the same endpoint whatever the shard.
///
/// Fails with `SVCROUTE_STATUS_NOT_FOUND` (no algorithm of that name),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only.
/// Threads: a write: waits for running calls on `cluster`, and they for it.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call;
/// `namespace`, `name` and `algorithm` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_set_algorithm(
    cluster: *mut svcroute_cluster,
    namespace: *const c_char,
    name: *const c_char,
    port: u16,
    algorithm: *const c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let namespace = unsafe { args::str_arg(namespace, "namespace") }?;
        // SAFETY: as above.
        let name = unsafe { args::str_arg(name, "name") }?;
        // SAFETY: as above.
        let algorithm = unsafe { args::str_arg(algorithm, "algorithm") }?;
        cluster
            .write(|e| e.set_algorithm(namespace, name, port, algorithm))
            .map_err(door_error)
    })
}

/// The endpoints of Service `namespace/service` as kube-proxy reads them
/// from its EndpointSlices (rule EP-13), per Service port: JSON
/// `{"namespace", "name", "ports": [{"name", "port", "protocol",
/// "endpoints": [{"address", "port", "ready", "serving", "terminating",
/// "nodeName", "zone"}]}]}`, where `ports[].port` is the Service port and
/// `endpoints[].port` the target port; endpoints in `ip:port` order,
/// duplicates collapsed. A Service without slices has its ports with no
/// endpoints.
///
/// On success stores the JSON in `*out`. Fails with
/// `SVCROUTE_STATUS_NOT_FOUND` (no such Service),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`.
///
/// Ownership: the strings are borrowed for the call only; `*out` belongs to
/// the caller (`svcroute_string_free`).
/// Threads: a read: runs concurrently with other reads and routes.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call;
/// `namespace` and `service` are NULL or NUL-terminated strings; `out` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_cluster_endpoints_json(
    cluster: *const svcroute_cluster,
    namespace: *const c_char,
    service: *const c_char,
    out: *mut *mut c_char,
) -> svcroute_status {
    boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let namespace = unsafe { args::str_arg(namespace, "namespace") }?;
        // SAFETY: as above.
        let service = unsafe { args::str_arg(service, "service") }?;
        // SAFETY: as above.
        let out = unsafe { args::out_arg(out, "out") }?;
        let endpoints =
            crate::endpoints::service_endpoints(&cluster.read().cluster, namespace, service)
                .map_err(door_error)?;
        write_json(out, &endpoints);
        Ok(())
    })
}

/// A string argument that may be NULL.
///
/// # Safety
///
/// As for [`args::str_arg`].
unsafe fn optional_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller; not NULL.
        unsafe { args::str_arg(ptr, name) }.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    const MANIFEST: &str = "\
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec: {nodeName: n1}
status:
  phase: Running
  podIPs: [{ip: 10.244.0.5}]
  conditions: [{type: Ready, status: \"True\"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.20, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
";

    fn take(s: *mut c_char) -> serde_json::Value {
        let v = serde_json::from_str(unsafe { CStr::from_ptr(s) }.to_str().unwrap()).unwrap();
        unsafe { crate::svcroute_string_free(s) };
        v
    }

    #[test]
    fn apply_list_slices_explain_delete() {
        let mut c = std::ptr::null_mut();
        assert_eq!(
            unsafe { svcroute_cluster_new(std::ptr::null(), &mut c) },
            svcroute_status::Ok
        );
        let mut changes = std::ptr::null_mut();
        let s =
            unsafe { svcroute_cluster_apply(c, MANIFEST.as_ptr(), MANIFEST.len(), &mut changes) };
        assert_eq!(s, svcroute_status::Ok);
        let changes = take(changes);
        assert_eq!(changes["created"].as_array().unwrap().len(), 6, "{changes}"); // with the Endpoints object
        assert_eq!(changes["skipped"][0]["kind"], "ConfigMap");
        assert_eq!(changes["skipped"][0]["count"], 1);

        let mut out = std::ptr::null_mut();
        let s = unsafe {
            svcroute_cluster_list_json(
                c,
                c"pod".as_ptr(),
                std::ptr::null(),
                c"app=web".as_ptr(),
                &mut out,
            )
        };
        assert_eq!(s, svcroute_status::Ok);
        let list = take(out);
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][0]["metadata"]["name"], "web-1");

        let s = unsafe {
            svcroute_cluster_endpoint_slices_json(c, c"shop".as_ptr(), c"web".as_ptr(), &mut out)
        };
        assert_eq!(s, svcroute_status::Ok);
        let slices = take(out);
        assert_eq!(
            slices["items"][0]["endpoints"][0]["addresses"][0],
            "10.244.0.5"
        );

        let s = unsafe {
            svcroute_cluster_explain_service_json(c, c"shop".as_ptr(), c"web".as_ptr(), &mut out)
        };
        assert_eq!(s, svcroute_status::Ok);
        let why = take(out);
        assert_eq!(why["readyEndpoints"], 1);
        assert_eq!(why["pods"][0]["verdict"], "Ready");

        let s = unsafe {
            svcroute_cluster_delete(
                c,
                c"Service".as_ptr(),
                c"shop".as_ptr(),
                c"web".as_ptr(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(s, svcroute_status::Ok);
        let s = unsafe {
            svcroute_cluster_explain_service_json(c, c"shop".as_ptr(), c"web".as_ptr(), &mut out)
        };
        assert_eq!(s, svcroute_status::NotFound);
        unsafe { svcroute_cluster_free(c) };
    }

    #[test]
    fn a_failed_apply_changes_nothing() {
        let mut c = std::ptr::null_mut();
        let cfg = c"{\"bootstrap\": false}";
        assert_eq!(
            unsafe { svcroute_cluster_new(cfg.as_ptr(), &mut c) },
            svcroute_status::Ok
        );
        let before = unsafe { &*c }.read().cluster.len();
        // A good namespace, then an event stream whose second object is bad.
        let text = concat!(
            r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}}"#,
            "\n",
            r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a"}}}"#,
        );
        let mut changes = std::ptr::null_mut();
        let s = unsafe { svcroute_cluster_apply(c, text.as_ptr(), text.len(), &mut changes) };
        assert_eq!(s, svcroute_status::Invalid);
        assert!(changes.is_null());
        assert_eq!(unsafe { &*c }.read().cluster.len(), before);
        crate::error::with_last_error_message(|m| {
            assert!(
                m.starts_with("document 1 (line 2): Pod a/: metadata.name"),
                "{m}"
            )
        });
        unsafe { svcroute_cluster_free(c) };
    }
}
