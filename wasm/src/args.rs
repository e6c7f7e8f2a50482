//! JS arguments on their way in: plain objects read as JSON values.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::error::{CodedError, Result};
use svcroute::ErrorKind;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> std::result::Result<JsValue, JsValue>;
}

/// A JS value (a plain object, array, string, number…) as a JSON value;
/// `undefined` and `null` are `Value::Null`. `what` names the argument in
/// errors.
pub(crate) fn to_json(value: &JsValue, what: &str) -> Result<Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    let text = json_stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| parse_error(format!("{what}: not a JSON-serializable value")))?;
    serde_json::from_str(&text).map_err(|e| parse_error(format!("{what}: {e}")))
}

/// A `parse` error (an argument of the wrong shape).
pub(crate) fn parse_error(message: impl Into<String>) -> CodedError {
    CodedError::new(ErrorKind::Parse, message)
}

/// An `invalid` error (an argument of the right shape but a bad value).
pub(crate) fn invalid(message: impl Into<String>) -> CodedError {
    CodedError::new(ErrorKind::Invalid, message)
}

/// The string at `key` of an object, if there is one.
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `ns/name` split in two; `default` when there is no slash.
pub(crate) fn namespaced(s: &str) -> (&str, &str) {
    s.split_once('/').unwrap_or(("default", s))
}

#[cfg(test)]
mod tests {
    #[test]
    fn namespaced_names_default_to_the_default_namespace() {
        assert_eq!(super::namespaced("shop/web"), ("shop", "web"));
        assert_eq!(super::namespaced("web"), ("default", "web"));
    }
}
