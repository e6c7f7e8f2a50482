//! `scale` and `expose` for JS, over the core's
//! [`Cluster::scale`](svcroute::cluster::Cluster::scale) and
//! [`Cluster::expose`](svcroute::cluster::Cluster::expose) (kubectl's
//! `scale` and `expose`, with kubectl's flags and errors).

use serde_json::{Map, Value};
use svcroute::ErrorKind;
use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::cluster::{ExposeError, ExposeRequest};
use wasm_bindgen::prelude::*;

use crate::cluster::{Cluster, parse};
use crate::door;
use crate::error::{CodedError, Result};
use crate::pods::cluster_error;

/// The TypeScript declarations of `expose`'s options and answer.
#[allow(dead_code)] // read by the macro below
const TS_TYPES: &str = r#"
/** The kinds `scale` takes. */
export type ScalableKind = "Deployment" | "ReplicaSet" | "StatefulSet";

/** The kinds `expose` takes. */
export type ExposableKind = "Pod" | "Service" | "Deployment" | "ReplicaSet";

/**
 * `kubectl expose` flags, camelCased (`--target-port` is `targetPort`).
 * Numbers may be given as numbers or strings; `port` may be a
 * comma-separated list.
 */
export interface ExposeOptions {
  /** `--name`: the Service's name (else the object's). */
  name?: string;
  port?: string | number;
  targetPort?: string | number;
  type?: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
  /** `--selector`, `k=v,k2=v2`. */
  selector?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
  externalIp?: string;
  /** `"None"` for a headless Service. */
  clusterIp?: string;
  sessionAffinity?: "None" | "ClientIP";
  /** `--labels`, `k=v,k2=v2`. */
  labels?: string;
  loadBalancerIp?: string;
  /** `--dry-run=client`: build the Service, apply nothing. */
  dryRun?: boolean;
}

/** What `expose` made: the Service (as stored, or as built with `dryRun`) and the changes. */
export interface Exposed {
  service: KubeObject;
  /** Absent with `dryRun`. */
  changes?: Changes;
}
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_SECTION: &str = TS_TYPES;

#[wasm_bindgen]
extern "C" {
    /// An `ExposeOptions` object from JS.
    #[wasm_bindgen(typescript_type = "ExposeOptions")]
    pub type ExposeOptionsArg;
}

/// A `parse` error about `expose`'s options.
fn bad_option(message: String) -> CodedError {
    CodedError::new(ErrorKind::Parse, format!("expose options: {message}"))
}

/// Fills `request` from the JS options (as JSON): kubectl's flags, numbers
/// as text. Unknown keys and values of the wrong type are `parse` errors.
fn read_options(request: &mut ExposeRequest, options: &Map<String, Value>) -> Result<bool> {
    let mut dry_run = false;
    for (key, value) in options {
        let slot = match key.as_str() {
            "dryRun" => {
                dry_run = match value {
                    Value::Bool(b) => *b,
                    Value::Null => false,
                    _ => return Err(bad_option("`dryRun` must be a boolean".to_owned())),
                };
                continue;
            }
            "name" => &mut request.service_name,
            "port" => &mut request.port,
            "targetPort" => &mut request.target_port,
            "type" => &mut request.type_,
            "selector" => &mut request.selector,
            "protocol" => &mut request.protocol,
            "externalIp" => &mut request.external_ip,
            "clusterIp" => &mut request.cluster_ip,
            "sessionAffinity" => &mut request.session_affinity,
            "labels" => &mut request.labels,
            "loadBalancerIp" => &mut request.load_balancer_ip,
            other => {
                return Err(bad_option(format!(
                    "unknown option `{other}`; the options are name, port, targetPort, type, \
                     selector, protocol, externalIp, clusterIp, sessionAffinity, labels, \
                     loadBalancerIp, dryRun"
                )));
            }
        };
        *slot = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => return Err(bad_option(format!("`{key}` must be a string or a number"))),
        };
    }
    Ok(dry_run)
}

/// An `expose` failure in kubectl's words, with the core's code.
fn expose_error(err: ExposeError) -> CodedError {
    match err {
        ExposeError::Apply(e) => cluster_error(e),
        other => CodedError::new(other.kind(), other.to_string()),
    }
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// Sets `spec.replicas` of a Deployment, ReplicaSet or StatefulSet, as
    /// `kubectl scale` does; the controllers make or delete its Pods (with
    /// nodes: see the `defaultNodes` option) and the EndpointSlices follow.
    /// Returns the changes. Throws `not-found` when there is no such
    /// object, `unsupported` for another kind, `invalid` for a negative
    /// count.
    ///
    /// ```js
    /// cluster.scale("Deployment", "shop", "web", 5).created; // the new Pods
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Changes")]
    pub fn scale(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ScalableKind")] kind: &str,
        namespace: Option<String>,
        name: &str,
        replicas: f64,
    ) -> Result<JsValue> {
        let kind = door::parse_kind(kind)?;
        if !(replicas >= 0.0 && replicas <= f64::from(i32::MAX) && replicas.fract() == 0.0) {
            return Err(CodedError::new(
                ErrorKind::Invalid,
                format!("replicas: {replicas} is not a count (a whole number, 0 or more)"),
            ));
        }
        let namespace = namespace.filter(|n| !n.is_empty());
        let namespace = namespace.as_deref().unwrap_or("default");
        // The check above keeps the value in i32's range.
        #[allow(clippy::cast_possible_truncation)]
        let changes = self.inner.scale(kind, namespace, name, replicas as i32);
        self.changes_to_js(changes)
    }

    /// `kubectl expose KIND NAME -n NAMESPACE [flags]`: builds the Service
    /// kubectl would for a Pod, Service, Deployment or ReplicaSet (its
    /// selector, ports, protocols and name from the object unless the
    /// options give them) and applies it (admission allocates its cluster
    /// IP and node ports), unless `dryRun`. Returns `{service, changes}`.
    /// Throws kubectl's errors: `not-found` (`pods "web" not found`),
    /// `unsupported` (a kind that cannot be exposed), `invalid` (no
    /// selector, no port, a bad flag value), `conflict` (`services "web"
    /// already exists`), `parse` for an unknown option.
    ///
    /// ```js
    /// const { service } = cluster.expose("Deployment", "shop", "web", { port: 80, targetPort: 8080 });
    /// service.spec.clusterIP; // allocated
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Exposed")]
    pub fn expose(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ExposableKind")] kind: &str,
        namespace: Option<String>,
        name: &str,
        options: Option<ExposeOptionsArg>,
    ) -> Result<JsValue> {
        let kind = door::parse_kind(kind)?;
        let namespace = namespace.filter(|n| !n.is_empty());
        let mut request = ExposeRequest::new(kind, namespace.as_deref().unwrap_or("default"), name);
        let options = options.map_or(JsValue::UNDEFINED, JsValue::from);
        let options = crate::args::to_json(&options, "options")?;
        let dry_run = match &options {
            Value::Null => false,
            Value::Object(map) => read_options(&mut request, map)?,
            _ => return Err(bad_option("not an object".to_owned())),
        };
        let service = self.inner.expose(&request).map_err(expose_error)?;
        let key = ObjectKey {
            kind: Kind::Service,
            namespace: service.metadata.namespace.clone(),
            name: service.metadata.name.clone().unwrap_or_default(),
        };
        let as_json = |object: &Object| {
            serde_json::to_string(object)
                .map_err(|e| CodedError::new(ErrorKind::Invalid, format!("cannot serialize: {e}")))
        };
        if dry_run {
            let service = as_json(&Object::Service(service))?;
            return parse(&format!(r#"{{"service":{service}}}"#));
        }
        if self.inner.get(&key).is_some() {
            return Err(expose_error(ExposeError::AlreadyExists(key.name)));
        }
        let changes = self
            .inner
            .apply(Object::Service(service))
            .map_err(cluster_error)?;
        let changes = door::changes_json(&changes, &Default::default());
        self.changed(&changes);
        let stored = self.inner.get(&key).ok_or_else(|| {
            CodedError::new(
                ErrorKind::NotFound,
                format!("services {:?} not found", key.name),
            )
        })?;
        let service = as_json(&stored)?;
        parse(&format!(r#"{{"service":{service},"changes":{changes}}}"#))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use svcroute::api::Kind;
    use svcroute::cluster::ExposeRequest;

    use super::read_options;

    #[test]
    fn options_are_kubectls_flags_with_numbers_as_text() {
        let mut r = ExposeRequest::new(Kind::Deployment, "shop", "web");
        let options = json!({"port": 80, "targetPort": "http", "name": "web-svc",
            "type": "NodePort", "clusterIp": null, "dryRun": true});
        let dry = read_options(&mut r, options.as_object().unwrap()).unwrap();
        assert!(dry);
        assert_eq!(r.port.as_deref(), Some("80"));
        assert_eq!(r.target_port.as_deref(), Some("http"));
        assert_eq!(r.service_name.as_deref(), Some("web-svc"));
        assert_eq!(r.type_.as_deref(), Some("NodePort"));
        assert_eq!(r.cluster_ip, None);
    }

    #[test]
    fn unknown_options_and_wrong_types_are_refused() {
        let mut r = ExposeRequest::default();
        let err = read_options(&mut r, json!({"prot": "80"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.code(), "parse");
        assert!(
            err.message().contains("unknown option `prot`"),
            "{}",
            err.message()
        );
        let err = read_options(&mut r, json!({"port": [80]}).as_object().unwrap()).unwrap_err();
        assert!(
            err.message()
                .contains("`port` must be a string or a number")
        );
    }
}
