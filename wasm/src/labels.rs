//! Labels and selectors for JS: parse and match selector strings,
//! `metav1.LabelSelector`s and Service selectors, and the name rules.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use svcroute::labels::{
    LabelSelector, Selector, label_selector_as_selector, parse_selector_map, service_selector,
    validate_dns1035_label, validate_dns1123_label, validate_dns1123_subdomain, validate_label_key,
    validate_label_value,
};
use wasm_bindgen::prelude::*;

use crate::args::{invalid, parse_error, to_json};
use crate::cluster::parse;
use crate::error::{CodedError, Result};

#[allow(dead_code)] // read by the macro below
const TS_LABELS: &str = r#"
/** A `metav1.LabelSelector` as in API objects. */
export interface LabelSelectorJson {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

/** What a `LabelSelector` converts to: `nil` matches nothing, `empty` everything. */
export interface SelectorKind {
  kind: "nil" | "empty" | "requirements";
  /** The canonical selector string; `null` for `nil`. */
  canonical: string | null;
}

/** The name rules `validateName` checks. */
export type NameRule = "labelKey" | "labelValue" | "dns1123Label" | "dns1123Subdomain" | "dns1035Label";
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_SECTION: &str = TS_LABELS;

fn core_error(e: impl Into<svcroute::Error>) -> CodedError {
    CodedError::from(e.into())
}

fn labels(value: &Value, what: &str) -> Result<BTreeMap<String, String>> {
    let obj = value
        .as_object()
        .ok_or_else(|| parse_error(format!("{what}: expected an object of strings")))?;
    obj.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(|| parse_error(format!("{what}: {k}: expected a string")))
        })
        .collect()
}

fn label_selector(ls: &JsValue) -> Result<Selector> {
    let value = to_json(ls, "selector")?;
    let parsed: Option<LabelSelector> = match &value {
        Value::Null => None,
        v => {
            Some(LabelSelector::deserialize(v).map_err(|e| parse_error(format!("selector: {e}")))?)
        }
    };
    if let Some(ls) = &parsed {
        ls.validate().map_err(core_error)?;
    }
    label_selector_as_selector(parsed.as_ref()).map_err(core_error)
}

/// The canonical form of a label-selector string (kubectl's grammar, as
/// `labels.Parse` reads it). Throws `parse` or `invalid` with the reason.
///
/// ```js
/// parseSelector("x notin (abc,,def),bar"); // "bar,x notin (,abc,def)"
/// ```
#[wasm_bindgen(js_name = parseSelector)]
pub fn parse_selector(text: &str) -> Result<String> {
    Selector::parse(text)
        .map(|s| s.to_string())
        .map_err(core_error)
}

/// Whether a label-selector string matches an object's labels. Throws like
/// `parseSelector` for a bad selector.
///
/// ```js
/// matchSelector("app=web,tier!=db", { app: "web" }); // true
/// ```
#[wasm_bindgen(js_name = matchSelector)]
pub fn match_selector(
    selector: &str,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] labels_arg: JsValue,
) -> Result<bool> {
    let s = Selector::parse(selector).map_err(core_error)?;
    Ok(s.matches(&labels(&to_json(&labels_arg, "labels")?, "labels")?))
}

/// What a `metav1.LabelSelector` (or `null`, absent) converts to, after
/// API validation. Throws `parse` or `invalid` when validation or
/// conversion refuses it.
///
/// ```js
/// labelSelector({ matchLabels: { app: "web" } }); // {kind: "requirements", canonical: "app=web"}
/// labelSelector(null);                            // {kind: "nil", canonical: null}
/// ```
#[wasm_bindgen(js_name = labelSelector, unchecked_return_type = "SelectorKind")]
pub fn label_selector_kind(
    #[wasm_bindgen(unchecked_param_type = "LabelSelectorJson | null")] selector: JsValue,
) -> Result<JsValue> {
    let s = label_selector(&selector)?;
    let out = if s.is_nothing() {
        json!({"kind": "nil", "canonical": null})
    } else if s.is_everything() {
        json!({"kind": "empty", "canonical": ""})
    } else {
        json!({"kind": "requirements", "canonical": s.to_string()})
    };
    parse(&out.to_string())
}

/// Whether a `metav1.LabelSelector` (or `null`: nothing) matches labels.
///
/// ```js
/// matchLabelSelector({ matchExpressions: [{ key: "tier", operator: "Exists" }] }, { tier: "x" }); // true
/// ```
#[wasm_bindgen(js_name = matchLabelSelector)]
pub fn match_label_selector(
    #[wasm_bindgen(unchecked_param_type = "LabelSelectorJson | null")] selector: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] labels_arg: JsValue,
) -> Result<bool> {
    let s = label_selector(&selector)?;
    Ok(s.matches(&labels(&to_json(&labels_arg, "labels")?, "labels")?))
}

/// Whether a Service whose `spec.selector` is `selector` selects a pod with
/// these labels (same namespace). `null` and `{}` select no pod.
///
/// ```js
/// serviceSelects({ app: "web" }, { app: "web", pod: "1" }); // true
/// serviceSelects({}, { app: "web" });                       // false
/// ```
#[wasm_bindgen(js_name = serviceSelects)]
pub fn service_selects(
    #[wasm_bindgen(unchecked_param_type = "Record<string, string> | null")] selector: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] labels_arg: JsValue,
) -> Result<bool> {
    let spec = match to_json(&selector, "selector")? {
        Value::Null => None,
        v => Some(labels(&v, "selector")?),
    };
    Ok(service_selector(spec.as_ref())
        .matches(&labels(&to_json(&labels_arg, "labels")?, "labels")?))
}

/// The map of a `k=v,k2=v2` selector string (apimachinery
/// `ConvertSelectorToLabelsMap`). Throws `parse` or `invalid`.
///
/// ```js
/// parseSelectorMap("app=web,tier=fe"); // {app: "web", tier: "fe"}
/// ```
#[wasm_bindgen(js_name = parseSelectorMap, unchecked_return_type = "Record<string, string>")]
pub fn parse_selector_map_js(text: &str) -> Result<JsValue> {
    let map = parse_selector_map(text).map_err(core_error)?;
    parse(&json!(map).to_string())
}

/// Why `value` breaks the name rule `rule` (`labelKey`, `labelValue`,
/// `dns1123Label`, `dns1123Subdomain`, `dns1035Label`), or `undefined` when it
/// is valid. Throws `invalid` for an unknown rule.
///
/// ```js
/// validateName("labelValue", "web");   // undefined
/// validateName("dns1123Label", "Web"); // "...must consist of lower case..."
/// ```
#[wasm_bindgen(js_name = validateName)]
pub fn validate_name(
    #[wasm_bindgen(unchecked_param_type = "NameRule")] rule: &str,
    value: &str,
) -> Result<Option<String>> {
    let result = match rule {
        "labelKey" => validate_label_key(value),
        "labelValue" => validate_label_value(value),
        "dns1123Label" => validate_dns1123_label(value),
        "dns1123Subdomain" => validate_dns1123_subdomain(value),
        "dns1035Label" => validate_dns1035_label(value),
        other => return Err(invalid(format!("rule: unknown name rule {other:?}"))),
    };
    Ok(result.err().map(|e| e.to_string()))
}
