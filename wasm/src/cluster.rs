//! The `Cluster` class: the cluster engine for JS.
//!
//! Values cross as JSON text that JS turns into objects with `JSON.parse`
//! (faster than building them value by value through the boundary; see the
//! style reference, B.2), typed by the hand-written declarations below. The
//! shapes are those of the C door: both compile `bindings/c/src/door.rs`.

use wasm_bindgen::prelude::*;

use crate::door::{self, DoorError};
use crate::error::{CodedError, Result};

/// The TypeScript declarations of the values `Cluster` takes and returns.
#[allow(dead_code)] // read by the macro below (and by the tests)
const TS_TYPES: &str = r#"
/** The `code` of every error this package throws. */
export type ErrorCode = "parse" | "invalid" | "conflict" | "not-found" | "limit" | "unsupported";

/** One problem of a refused call, where it is in the input. */
export interface Problem {
  code: ErrorCode;
  /** 0-based index of the document (YAML document or JSON value). */
  document?: number;
  /** 0-based index in the `items` of a List. */
  item?: number;
  /** 1-based line and column. */
  line?: number;
  column?: number;
  object?: { apiVersion: string; kind: string; namespace?: string; name?: string };
  /** The field path, e.g. `spec.ports[0].targetPort`. */
  field?: string;
  message: string;
}

/** What every method throws: an `Error` with a `code` (and, for manifests, the problems). */
export interface SvcrouteError extends Error {
  name: "SvcrouteError";
  code: ErrorCode;
  problems?: Problem[];
}

/** The cluster's configuration; absent keys keep upstream's defaults. */
export interface ClusterConfig {
  clusterDomain?: string;
  serviceCIDRs?: string[];
  clusterCIDRs?: string[];
  nodeCIDRMaskSizeIPv4?: number;
  nodeCIDRMaskSizeIPv6?: number;
  /** `"30000-32767"`. */
  nodePortRange?: string;
  maxEndpointsPerSlice?: number;
  mirroringMaxEndpointsPerSubset?: number;
  proxyMode?: "iptables" | "nftables" | "ipvs";
  masqueradeAll?: boolean;
  localhostNodePorts?: boolean;
  nodePortAddresses?: string[] | null;
  ipvsScheduler?: string;
  detectLocalMode?: "ClusterCIDR" | "NodeCIDR" | "None";
  /** `null`: no address reserved for `default/kubernetes`. */
  kubernetesServiceIP?: string | null;
  seed?: number;
  endpointSliceController?: boolean;
  /** `false`: start empty instead of as a fresh real cluster. */
  bootstrap?: boolean;
  /** `false`: workloads make no Pods (for a dump whose Pods are given). */
  workloads?: boolean;
  endpointsController?: boolean;
  /** How LoadBalancer Services get addresses (`null`: they stay pending). */
  loadBalancer?: null | "none" | "aws" | { pool: string[] } | { aws: { region?: string } };
  /** Start with this many Ready default nodes (for manifests with none). */
  defaultNodes?: number;
}

/** The kinds svcroute models. */
export type Kind =
  | "Namespace" | "Node" | "Pod" | "Service" | "Endpoints" | "EndpointSlice"
  | "Ingress" | "IngressClass" | "Deployment" | "ReplicaSet" | "StatefulSet"
  | "DaemonSet" | "Gateway" | "HTTPRoute";

/** An object's identity. */
export interface ObjectKey {
  apiVersion: string;
  kind: Kind;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
}

/** Objects of an unmodelled kind that were skipped, by kind. */
export interface SkippedKind {
  apiVersion: string;
  kind: string;
  count: number;
}

/** What a call changed, the controllers' writes included, net of the call. */
export interface Changes {
  created: ObjectKey[];
  updated: ObjectKey[];
  deleted: ObjectKey[];
  skipped: SkippedKind[];
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** A Kubernetes object in its API shape. */
export interface KubeObject {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A `v1` List, as `kubectl get -o json` prints it. */
export interface List<T = KubeObject> {
  apiVersion: "v1";
  kind: "List";
  metadata: { resourceVersion: string };
  items: T[];
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
}

export interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: "TCP" | "UDP" | "SCTP";
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  kind: "EndpointSlice";
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints?: Endpoint[];
  ports?: EndpointPort[];
}

/** Why a pod is, or is not, behind a Service. */
export interface PodExplanation {
  namespace: string;
  name: string;
  ip: string | null;
  node: string | null;
  verdict: "Ready" | "NotReady" | "Terminating" | "Skipped" | "NotSelected" | "OtherNamespace";
  /** Terminating: whether it still serves. */
  serving?: boolean;
  /** Skipped: why. */
  reason?: "NoIp" | "Terminal" | "NodeMissing";
  /** Skipped, Terminal: the pod's phase. */
  phase?: string;
  /** Skipped, NodeMissing: the node that does not exist. */
  missingNode?: string;
  /** NotSelected: the selector's requirements the pod's labels fail. */
  labelMisses?: { key: string; wanted: string; found: string | null }[];
  /** The verdict in words. */
  message: string;
  /** Per Service port, the resolved target port (null: a named port the pod lacks). */
  ports: { name: string; targetPort: number | null }[];
}

/** Why a Service has the endpoints it has. */
export interface ServiceExplanation {
  namespace: string;
  name: string;
  type: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
  /** Canonical selector; null when the Service has none. */
  selector: string | null;
  externalName: string | null;
  ports: { name: string; port: number; protocol: string; targetPort: string }[];
  readyEndpoints: number;
  pods: PodExplanation[];
}
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_SECTION: &str = TS_TYPES;

#[wasm_bindgen]
extern "C" {
    /// A `ClusterConfig` object from JS (typed in the declarations above).
    #[wasm_bindgen(typescript_type = "ClusterConfig")]
    pub type ClusterConfigArg;

    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &str) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> std::result::Result<JsValue, JsValue>;
}

impl From<DoorError> for CodedError {
    fn from(err: DoorError) -> CodedError {
        let problems =
            (!err.problems.is_empty()).then(|| serde_json::Value::Array(err.problems).to_string());
        CodedError::new(err.kind, err.message).with_problems(problems)
    }
}

/// JSON text made into a JS value.
pub(crate) fn parse(text: &str) -> Result<JsValue> {
    json_parse(text).map_err(|_| {
        CodedError::new(
            svcroute::ErrorKind::Invalid,
            "svcroute produced JSON that JS cannot parse (a bug, please report it)",
        )
    })
}

/// A cluster: the object store and its controllers (the EndpointSlice and
/// mirroring controllers), settled after every call.
///
/// ```js
/// const cluster = new Cluster();            // a fresh real cluster
/// const changes = cluster.apply(yamlText);  // { created, updated, deleted, skipped }
/// const pods = cluster.list("Pod", "shop", "app=web").items;
/// const why = cluster.explainService("shop", "web");
/// cluster.free();
/// ```
#[wasm_bindgen(js_name = Cluster)]
pub struct Cluster {
    pub(crate) inner: svcroute::cluster::Cluster,
    /// The routing tables, compiled on the first `route` or `simulate` and
    /// patched with each later call's changes.
    #[cfg(feature = "traffic")]
    pub(crate) dataplane: Option<svcroute::dataplane::Dataplane>,
    /// The DNS index, built on the first DNS question and updated with each
    /// later call's changes.
    #[cfg(feature = "dns")]
    pub(crate) dns: Option<svcroute::dns::Dns>,
    /// Affinity memory and the random source of `route`.
    #[cfg(feature = "traffic")]
    pub(crate) route_state: svcroute::dataplane::RouteState,
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// A new cluster. Without a configuration (or with `null`), upstream's
    /// defaults: a fresh real cluster with the namespaces `default`,
    /// `kube-system`, `kube-public`, `kube-node-lease` and the
    /// `default/kubernetes` Service. Throws an `Error` with `code` `parse`
    /// (an unknown key, a value of the wrong type) or `invalid` (a bad CIDR,
    /// range or mode).
    #[wasm_bindgen(constructor)]
    pub fn new(config: Option<ClusterConfigArg>) -> Result<Cluster> {
        let text = match config {
            None => None,
            Some(config) => {
                let value: JsValue = config.into();
                if value.is_null() || value.is_undefined() {
                    None
                } else {
                    Some(
                        json_stringify(&value)
                            .ok()
                            .and_then(|s| s.as_string())
                            .ok_or_else(|| {
                                CodedError::new(
                                    svcroute::ErrorKind::Parse,
                                    "config: not a JSON-serializable object",
                                )
                            })?,
                    )
                }
            }
        };
        let inner = door::new_cluster(text.as_deref())?;
        Ok(Cluster {
            #[cfg(feature = "traffic")]
            dataplane: None,
            #[cfg(feature = "dns")]
            dns: None,
            #[cfg(feature = "traffic")]
            route_state: svcroute::dataplane::RouteState::new(inner.config().seed),
            inner,
        })
    }

    /// Applies manifests: JSON or YAML text (multi-document streams, Lists,
    /// watch events; YAML only when the package is built with it, see
    /// `hasYaml()`; without it, parse YAML in JS and pass one JSON value per
    /// line, `null` for an empty document, so that `document` in errors
    /// counts YAML documents). Atomic: when it throws, nothing changed. Objects of
    /// kinds svcroute does not model are skipped and counted in `skipped`.
    /// Throws an `Error` whose `code` is `parse`, `invalid`, `unsupported`
    /// or `limit`, whose message names the document, line, object and field,
    /// and whose `problems` lists them one by one.
    #[wasm_bindgen(unchecked_return_type = "Changes")]
    pub fn apply(&mut self, text: &str) -> Result<JsValue> {
        let changes = door::apply(&mut self.inner, text)?;
        self.changed(&changes);
        parse(&changes.to_string())
    }

    /// Deletes one object: `kind` as in manifests (`"Service"`, …),
    /// `namespace` (`undefined`/`null`: `default`; ignored for
    /// cluster-scoped kinds), `name`. Throws `not-found` when there is no
    /// such object.
    #[wasm_bindgen(unchecked_return_type = "Changes")]
    pub fn delete(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Kind")] kind: &str,
        namespace: Option<String>,
        name: &str,
    ) -> Result<JsValue> {
        let changes = door::delete(&mut self.inner, kind, namespace.as_deref(), name)?;
        self.changed(&changes);
        parse(&changes.to_string())
    }

    /// The objects of `kind` in `namespace` (`undefined`/`null`/`""`: all
    /// namespaces) whose labels match `selector` (kubectl's grammar;
    /// `undefined`/`null`/`""`: all), as a `v1` List ordered by namespace
    /// and name. Throws `parse` for a bad selector, `unsupported` for a kind
    /// svcroute does not model.
    #[wasm_bindgen(unchecked_return_type = "List")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Kind")] kind: &str,
        namespace: Option<String>,
        selector: Option<String>,
    ) -> Result<JsValue> {
        let list = door::list(&self.inner, kind, namespace.as_deref(), selector.as_deref())?;
        parse(&list)
    }

    /// The EndpointSlices of Service `namespace/service`, as a `v1` List
    /// ordered by name: what kube-proxy reads. Throws `not-found` when there
    /// is no such Service and no slice names it.
    #[wasm_bindgen(js_name = endpointSlices, unchecked_return_type = "List<EndpointSlice>")]
    pub fn endpoint_slices(&self, namespace: &str, service: &str) -> Result<JsValue> {
        parse(&door::endpoint_slices(&self.inner, namespace, service)?)
    }

    /// Why Service `namespace/service` has the endpoints it has. Throws
    /// `not-found` when there is no such Service.
    #[wasm_bindgen(js_name = explainService, unchecked_return_type = "ServiceExplanation")]
    pub fn explain_service(&self, namespace: &str, service: &str) -> Result<JsValue> {
        parse(&door::explain(&self.inner, namespace, service)?.to_string())
    }
}

impl Cluster {
    /// Brings the cached routing tables and DNS index up to date with a
    /// call's changes (as JSON, the shape `apply` returns).
    pub(crate) fn changed(&mut self, changes_json: &serde_json::Value) {
        #[cfg(any(feature = "traffic", feature = "dns"))]
        {
            let changes = crate::changes::from_json(changes_json);
            if changes.is_empty() {
                return;
            }
            #[cfg(feature = "traffic")]
            if let Some(dp) = &mut self.dataplane {
                dp.patch(&self.inner, &changes);
            }
            #[cfg(feature = "dns")]
            if let Some(dns) = &mut self.dns {
                dns.update(&self.inner, &changes);
            }
        }
        // Without DNS and traffic there is nothing cached to update.
        #[cfg(not(any(feature = "traffic", feature = "dns")))]
        let _ = (&self.inner, changes_json);
    }
}

/// Whether this build reads YAML (otherwise `apply` takes JSON only; parse
/// YAML in JS and pass JSON).
#[wasm_bindgen(js_name = hasYaml)]
pub fn has_yaml() -> bool {
    cfg!(feature = "yaml")
}

#[cfg(test)]
mod tests {
    use svcroute::api::Kind;

    #[test]
    fn the_typescript_kind_union_lists_every_modelled_kind() {
        let start = super::TS_TYPES.find("export type Kind =").unwrap();
        let end = start + super::TS_TYPES[start..].find(';').unwrap();
        let union = &super::TS_TYPES[start..end];
        let named: Vec<&str> = union.split('"').skip(1).step_by(2).collect();
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(named, all);
    }
}
