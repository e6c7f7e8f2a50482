//! State and queries of the routing suites (`services`, `topology`, `affinity`, `ingress`, `gateway`): `route` and the `mutate` step.

use serde_json::Value;

use super::{CaseContext, Handler, StepResult};

/// The state one execution keeps.
pub struct State {
    /// The execution's level and mode.
    ctx: CaseContext,
}

impl State {
    /// Builds the state from a case's `config` and `objects` (see
    /// [`super::cluster::build`]); `Err` is the step result every stateful
    /// step of the case then reports.
    pub fn new(config: &Value, objects: &[Value], ctx: CaseContext) -> Result<State, StepResult> {
        let _ = (config, objects);
        Ok(State { ctx })
    }
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        let _ = (query, expect, self.ctx);
        match kind {
            "route" => Some(StepResult::Unsupported(format!("query `{kind}`"))),
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
