//! `Cluster.applyWithSummary`: `apply`, plus what the load did in the
//! command line's words (issue 14): the core's
//! [`LoadSummary`](svcroute::cluster::LoadSummary), as JSON.

use wasm_bindgen::prelude::*;

use crate::cluster::{Cluster, parse};
use crate::door;
use crate::error::Result;

/// The TypeScript declarations of the summary.
#[allow(dead_code)] // read by the macro below
const TS_TYPES: &str = r#"
/** What one load did, as the command line says it after loading. */
export interface LoadSummary {
  /** `read 28 objects (12 Deployments, 12 Services, 4 Nodes); generated 12 ReplicaSets and 12 Pods; skipped 12 objects of kinds svcroute does not model (ServiceAccount ×12)`. */
  line: string;
  /** Objects of the input, by kind. */
  read: Record<string, number>;
  /** ReplicaSets and Pods the workload controllers made, by kind. */
  generated: Record<string, number>;
  /** Generated Pods that no node took. */
  pending: number;
  /** Objects of kinds svcroute does not model, by kind. */
  skipped: Record<string, number>;
  /** Namespaces neither the cluster nor the input held: a real API server would refuse their objects; svcroute creates them. */
  warnings: { namespace: string; objects: number; message: string }[];
}

/** What `applyWithSummary` returns. */
export interface AppliedWithSummary {
  changes: Changes;
  summary: LoadSummary;
}
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_SECTION: &str = TS_TYPES;

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// `apply` (same input, atomicity and errors), returning `{changes,
    /// summary}`: the changes as `apply` returns them, and what the load did
    /// (`summary.line` is the command line's summary line,
    /// `summary.warnings` its namespace warnings).
    ///
    /// ```js
    /// const { summary } = cluster.applyWithSummary(bundleJson);
    /// console.log(summary.line); // "read 3 objects (…); generated 1 ReplicaSet and 2 Pods"
    /// ```
    #[wasm_bindgen(js_name = applyWithSummary, unchecked_return_type = "AppliedWithSummary")]
    pub fn apply_with_summary(&mut self, text: &str) -> Result<JsValue> {
        let applied = door::apply_objects(&mut self.inner, text)?;
        let changes = door::changes_json(&applied.changes, &applied.skipped);
        self.changed(&changes);
        let out = serde_json::json!({"changes": changes, "summary": applied.summary.to_json()});
        parse(&out.to_string())
    }
}
