//! The `selectors` suite's queries: `parseSelector`, `matchSelector`,
//! `labelSelector`, `validate`, `serviceSelector`, `parseSelectorMap`
//! (conformance README sections 10.1–10.5).
//!
//! Every expectation key present is compared (including the advisory
//! `errorKind`, which svcroute reports exactly); a `Fail` text lists each
//! mismatch as `key: expected X, got Y`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use svcroute::labels::{
    self, LabelSelector, Selector, parse_selector_map, service_selector, validate_dns1035_label,
    validate_dns1123_label, validate_dns1123_subdomain, validate_label_key, validate_label_value,
};

use super::StepResult;

/// Runs one pure selectors query; `None` when `kind` is not one of them.
pub fn run_query(kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
    let got = match kind {
        "parseSelector" => parse_selector(query),
        "matchSelector" => match_selector(query),
        "labelSelector" => label_selector(query),
        "validate" => validate(query),
        "serviceSelector" => service_selector_query(query),
        "parseSelectorMap" => parse_map(query),
        _ => return None,
    };
    Some(match got {
        Ok(got) => compare(expect, &got),
        Err(result) => result,
    })
}

/// Compares every key of `expect` with the same key of `got` (absent in
/// `got` reads as `null`).
fn compare(expect: &Value, got: &Value) -> StepResult {
    let Some(expect) = expect.as_object() else {
        return StepResult::Fail(format!("expectation is not an object: {expect}"));
    };
    let mut mismatches = Vec::new();
    for (key, want) in expect {
        let have = got.get(key).unwrap_or(&Value::Null);
        if want != have {
            mismatches.push(format!("{key}: expected {want}, got {have}"));
        }
    }
    if mismatches.is_empty() {
        StepResult::Pass
    } else {
        StepResult::Fail(mismatches.join("; "))
    }
}

type Outcome = Result<Value, StepResult>;

fn bad_query(what: &str, query: &Value) -> StepResult {
    StepResult::Fail(format!("malformed query ({what}): {query}"))
}

fn string<'a>(query: &'a Value, what: &str) -> Result<&'a str, StepResult> {
    query.as_str().ok_or_else(|| bad_query(what, query))
}

fn label_map(value: &Value) -> Result<BTreeMap<String, String>, StepResult> {
    let Some(obj) = value.as_object() else {
        return Err(bad_query("labels must be an object", value));
    };
    obj.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_owned())),
            None => Err(bad_query("label values must be strings", value)),
        })
        .collect()
}

/// 10.1: `{valid, canonical, errorKind}`.
fn parse_selector(query: &Value) -> Outcome {
    let text = string(query, "parseSelector takes a string")?;
    Ok(match Selector::parse(text) {
        Ok(s) => json!({"valid": true, "canonical": s.to_string()}),
        Err(e) => json!({"valid": false, "canonical": null, "errorKind": e.kind().code()}),
    })
}

/// 10.2: `{matches}`.
fn match_selector(query: &Value) -> Outcome {
    let text = string(&query["selector"], "selector must be a string")?;
    let labels = label_map(&query["labels"])?;
    let selector = Selector::parse(text)
        .map_err(|e| StepResult::Fail(format!("matchSelector: selector {text:?} rejected: {e}")))?;
    Ok(json!({"matches": selector.matches(&labels)}))
}

/// 10.3: `{valid, kind, canonical, matches}`.
fn label_selector(query: &Value) -> Outcome {
    let Some(label_sets) = query["labels"].as_array() else {
        return Err(bad_query("labels must be an array", query));
    };
    let label_sets = label_sets
        .iter()
        .map(label_map)
        .collect::<Result<Vec<_>, _>>()?;
    let invalid = json!({"valid": false, "kind": null, "canonical": null, "matches": []});
    // A selector that does not even decode (wrong JSON types) is rejected by
    // the API server before validation.
    let Ok(parsed) = serde_json::from_value::<Option<LabelSelector>>(query["selector"].clone())
    else {
        return Ok(invalid);
    };
    if let Some(ls) = &parsed
        && ls.validate().is_err()
    {
        return Ok(invalid);
    }
    let Ok(selector) = labels::label_selector_as_selector(parsed.as_ref()) else {
        return Ok(invalid);
    };
    let (kind, canonical) = if selector.is_nothing() {
        ("nil", Value::Null)
    } else if selector.is_everything() {
        ("empty", json!(""))
    } else {
        ("requirements", json!(selector.to_string()))
    };
    let matches: Vec<bool> = label_sets.iter().map(|l| selector.matches(l)).collect();
    Ok(json!({"valid": true, "kind": kind, "canonical": canonical, "matches": matches}))
}

/// 10.4: `{valid}`.
fn validate(query: &Value) -> Outcome {
    let what = string(&query["what"], "what must be a string")?;
    let value = string(&query["value"], "value must be a string")?;
    let result = match what {
        "labelKey" => validate_label_key(value),
        "labelValue" => validate_label_value(value),
        "dns1123Label" => validate_dns1123_label(value),
        "dns1123Subdomain" => validate_dns1123_subdomain(value),
        "dns1035Label" => validate_dns1035_label(value),
        other => return Err(StepResult::Unsupported(format!("validate what={other:?}"))),
    };
    Ok(json!({"valid": result.is_ok()}))
}

/// 10.5: `{selects}`.
fn service_selector_query(query: &Value) -> Outcome {
    let spec = match &query["selector"] {
        Value::Null => None,
        map => Some(label_map(map)?),
    };
    let labels = label_map(&query["labels"])?;
    Ok(json!({"selects": service_selector(spec.as_ref()).matches(&labels)}))
}

/// 10.5: `{valid, map}`.
fn parse_map(query: &Value) -> Outcome {
    let text = string(query, "parseSelectorMap takes a string")?;
    Ok(match parse_selector_map(text) {
        Ok(map) => json!({"valid": true, "map": map}),
        Err(_) => json!({"valid": false, "map": null}),
    })
}
