//! State and queries of the cluster suites: `endpoints`, `reconcileSlices` (later `dns`, `search`, `route`).

use serde_json::Value;

use super::{Handler, StepResult};

/// The state one execution keeps.
pub struct State {}

impl State {
    /// Builds the state from a case's `config` and `objects`; `Err` is the
    /// step result every stateful step of the case then reports.
    pub fn new(config: &Value, objects: &[Value]) -> Result<State, StepResult> {
        let _ = (config, objects);
        Ok(State {})
    }
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        let _ = (query, expect);
        match kind {
            "endpoints" | "reconcileSlices" => {
                Some(StepResult::Unsupported(format!("query `{kind}`")))
            }
            _ => None,
        }
    }

    fn apply(&mut self, objects: &[Value]) -> StepResult {
        let _ = objects;
        StepResult::Pass
    }

    fn delete(&mut self, refs: &[Value]) -> StepResult {
        let _ = refs;
        StepResult::Pass
    }
}
