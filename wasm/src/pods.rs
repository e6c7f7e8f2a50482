//! Pod readiness for JS: `setPodReady` and `setPodTerminating`, over the
//! core's [`set_pod_ready`](svcroute::cluster::Cluster::set_pod_ready) and
//! [`set_pod_terminating`](svcroute::cluster::Cluster::set_pod_terminating):
//! the EndpointSlice controller then moves the endpoint as Kubernetes does
//! (rule EP-3: ready, serving, terminating).

use std::collections::BTreeMap;

use svcroute::api::{Kind, Object, ObjectKey, Pod};
use svcroute::cluster::{Changes, ClusterError};
use wasm_bindgen::prelude::*;

use crate::cluster::{Cluster, parse};
use crate::door;
use crate::error::{CodedError, Result};

/// The deletion time `setPodTerminating` writes when none is given: the
/// core's [`TERMINATING_SINCE`](svcroute::cluster::TERMINATING_SINCE) (the
/// core reads no clock; only its presence matters to the controllers).
pub const DEFAULT_DELETION_TIMESTAMP: &str = svcroute::cluster::TERMINATING_SINCE;

/// The Pod `namespace/name`. Throws `not-found`.
pub(crate) fn pod<'a>(
    cluster: &'a svcroute::cluster::Cluster,
    namespace: &str,
    name: &str,
) -> Result<std::borrow::Cow<'a, Pod>> {
    use std::borrow::Cow;
    let key = ObjectKey {
        kind: Kind::Pod,
        namespace: Some(namespace.to_owned()),
        name: name.to_owned(),
    };
    match cluster.get(&key) {
        Some(Cow::Borrowed(Object::Pod(pod))) => Ok(Cow::Borrowed(pod)),
        Some(Cow::Owned(Object::Pod(pod))) => Ok(Cow::Owned(pod)),
        _ => Err(CodedError::new(
            svcroute::ErrorKind::NotFound,
            format!("pod {namespace}/{name} not found"),
        )),
    }
}

/// A refused cluster call as a JS error (`not-found`, `unsupported`, …).
pub(crate) fn cluster_error(err: ClusterError) -> CodedError {
    CodedError::new(err.kind(), err.to_string())
}

impl Cluster {
    /// Returns a core call's changes to JS, after updating the cached
    /// routing tables and DNS index with them.
    pub(crate) fn changes_to_js(
        &mut self,
        changes: std::result::Result<Changes, ClusterError>,
    ) -> Result<JsValue> {
        let json = door::changes_json(&changes.map_err(cluster_error)?, &BTreeMap::new());
        self.changed(&json);
        parse(&json.to_string())
    }

    /// Clears (`None`) or sets a Pod's `metadata.deletionTimestamp` to a
    /// given time, through the same write path as the core's calls.
    fn set_deletion(&mut self, namespace: &str, name: &str, at: Option<String>) -> Result<JsValue> {
        let mut pod = pod(&self.inner, namespace, name)?.into_owned();
        pod.metadata.deletion_timestamp = at;
        let changes = self.inner.apply(Object::Pod(pod));
        self.changes_to_js(changes)
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
        let changes = self.inner.set_pod_ready(namespace, name, ready);
        self.changes_to_js(changes)
    }

    /// Marks Pod `namespace/name` terminating (sets
    /// `metadata.deletionTimestamp`, to `at` or
    /// `DEFAULT_DELETION_TIMESTAMP`) or, with
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
        match (terminating, at) {
            (true, None) => {
                let changes = self.inner.set_pod_terminating(namespace, name);
                self.changes_to_js(changes)
            }
            (true, at) => self.set_deletion(namespace, name, at),
            (false, _) => self.set_deletion(namespace, name, None),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_deletion_time_is_the_cores() {
        assert_eq!(super::DEFAULT_DELETION_TIMESTAMP, "1970-01-01T00:00:00Z");
    }
}
