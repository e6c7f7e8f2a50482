//! Pod readiness for JS: `setPodReady` and `setPodTerminating`.
//!
//! Until the core has calls for these, the Pod is read, its status (the
//! `Ready` and `ContainersReady` conditions) or its
//! `metadata.deletionTimestamp` rewritten, and applied again: the
//! EndpointSlice controller then moves its endpoint as Kubernetes does
//! (rule EP-3: ready, serving, terminating).

use serde_json::{Value, json};
use svcroute::ErrorKind;
use svcroute::api::{Kind, ObjectKey};
use wasm_bindgen::prelude::*;

use crate::cluster::{Cluster, parse};
use crate::door;
use crate::error::{CodedError, Result};

/// The deletion time written by `setPodTerminating` when none is given
/// (the core reads no clock; only its presence matters to the controllers).
pub const DEFAULT_DELETION_TIMESTAMP: &str = "2026-01-01T00:00:00Z";

/// The Pod `namespace/name` in its API shape. Throws `not-found`.
pub(crate) fn pod_json(
    cluster: &svcroute::cluster::Cluster,
    namespace: &str,
    name: &str,
) -> Result<Value> {
    let key = ObjectKey {
        kind: Kind::Pod,
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    let object = cluster.get(&key).ok_or_else(|| {
        CodedError::new(
            ErrorKind::NotFound,
            format!("pod {namespace}/{name} not found"),
        )
    })?;
    // Through text, as the door's lists are written: one serializer for
    // every kind in the module instead of two.
    serde_json::to_string(object)
        .and_then(|text| serde_json::from_str(&text))
        .map_err(|e| CodedError::new(ErrorKind::Invalid, format!("pod {namespace}/{name}: {e}")))
}

/// Sets (or adds) the condition `kind` of a Pod object to `status`.
fn set_condition(pod: &mut Value, kind: &str, status: bool) {
    let status_text = if status { "True" } else { "False" };
    let Some(obj) = pod.as_object_mut() else {
        return;
    };
    let st = obj.entry("status").or_insert_with(|| json!({}));
    if !st.is_object() {
        *st = json!({});
    }
    let conditions = st
        .as_object_mut()
        .expect("an object")
        .entry("conditions")
        .or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let list = conditions.as_array_mut().expect("an array");
    match list.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => c["status"] = json!(status_text),
        None => list.push(json!({"type": kind, "status": status_text})),
    }
}

/// The Pod with its readiness set.
pub(crate) fn with_ready(mut pod: Value, ready: bool) -> Value {
    set_condition(&mut pod, "Ready", ready);
    set_condition(&mut pod, "ContainersReady", ready);
    pod
}

/// The Pod with `metadata.deletionTimestamp` set (`Some`) or cleared.
pub(crate) fn with_deletion(mut pod: Value, at: Option<&str>) -> Value {
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        match at {
            Some(t) => {
                meta.insert("deletionTimestamp".into(), json!(t));
            }
            None => {
                meta.remove("deletionTimestamp");
            }
        }
    }
    pod
}

impl Cluster {
    fn reapply(&mut self, pod: &Value) -> Result<JsValue> {
        let changes = door::apply(&mut self.inner, &pod.to_string())?;
        self.changed(&changes);
        parse(&changes.to_string())
    }
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// Marks Pod `namespace/name` ready or not ready (its `Ready` and
    /// `ContainersReady` conditions), as a failing or passing readiness
    /// probe would; the EndpointSlices follow (EP-3). Returns the changes.
    /// Throws `not-found` when there is no such Pod.
    ///
    /// ```js
    /// cluster.setPodReady("shop", "web-1", false); // web-1 leaves the ready endpoints
    /// ```
    #[wasm_bindgen(js_name = setPodReady, unchecked_return_type = "Changes")]
    pub fn set_pod_ready(&mut self, namespace: &str, name: &str, ready: bool) -> Result<JsValue> {
        let pod = with_ready(pod_json(&self.inner, namespace, name)?, ready);
        self.reapply(&pod)
    }

    /// Marks Pod `namespace/name` terminating (sets
    /// `metadata.deletionTimestamp`, to `at` or a fixed time) or, with
    /// `terminating` false, clears it. Its endpoint stays in the slices as
    /// `terminating` (serving while still ready), as during a graceful
    /// shutdown (EP-3). Returns the changes. Throws `not-found`.
    ///
    /// ```js
    /// cluster.setPodTerminating("shop", "web-1", true);
    /// ```
    #[wasm_bindgen(js_name = setPodTerminating, unchecked_return_type = "Changes")]
    pub fn set_pod_terminating(
        &mut self,
        namespace: &str,
        name: &str,
        terminating: bool,
        at: Option<String>,
    ) -> Result<JsValue> {
        let at = at.unwrap_or_else(|| DEFAULT_DELETION_TIMESTAMP.to_owned());
        let pod = with_deletion(
            pod_json(&self.inner, namespace, name)?,
            terminating.then_some(at.as_str()),
        );
        self.reapply(&pod)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn readiness_rewrites_both_conditions_and_keeps_others() {
        let pod = json!({"status": {"conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "True"}]}});
        let out = super::with_ready(pod, false);
        let c = out["status"]["conditions"].as_array().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0]["status"], "True");
        assert_eq!(c[1]["status"], "False");
        assert_eq!(c[2], json!({"type": "ContainersReady", "status": "False"}));
    }

    #[test]
    fn terminating_sets_and_clears_the_deletion_timestamp() {
        let pod = json!({"metadata": {"name": "p"}});
        let on = super::with_deletion(pod, Some("2026-01-01T00:00:00Z"));
        assert_eq!(on["metadata"]["deletionTimestamp"], "2026-01-01T00:00:00Z");
        let off = super::with_deletion(on, None);
        assert!(off["metadata"].get("deletionTimestamp").is_none());
    }
}
