//! The `selectors` suite's queries: `parseSelector`, `matchSelector`,
//! `labelSelector`, `validate`, `serviceSelector`, `parseSelectorMap`.

use serde_json::Value;

use super::StepResult;

/// Runs one pure selectors query; `None` when `kind` is not one of them.
pub fn run_query(kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
    let _ = (query, expect);
    match kind {
        "parseSelector" | "matchSelector" | "labelSelector" | "validate" | "serviceSelector"
        | "parseSelectorMap" => Some(StepResult::Unsupported(format!("{kind} not wired yet"))),
        _ => None,
    }
}
