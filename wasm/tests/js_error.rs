//! The JS side of the error mapping, in a real JS engine (Node):
//! `cargo test -p svcroute-wasm --target wasm32-unknown-unknown` with
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner`.
//! Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use svcroute::ErrorKind;
use svcroute_wasm::CodedError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).expect("property")
}

#[wasm_bindgen_test]
fn coded_errors_become_js_errors_with_a_code() {
    let value: JsValue = CodedError::new(ErrorKind::NotFound, "services \"web\" not found").into();
    assert!(value.is_instance_of::<js_sys::Error>());
    let err: &js_sys::Error = value.unchecked_ref();
    assert_eq!(String::from(err.message()), "services \"web\" not found");
    assert_eq!(String::from(err.name()), "SvcrouteError");
    assert_eq!(
        get(&value, "code").as_string().as_deref(),
        Some("not-found")
    );
    // `toString()` is what an uncaught error shows.
    assert_eq!(
        String::from(err.to_string()),
        "SvcrouteError: services \"web\" not found"
    );
}

#[wasm_bindgen_test]
fn every_kind_keeps_its_code() {
    for kind in [
        ErrorKind::Parse,
        ErrorKind::Invalid,
        ErrorKind::Conflict,
        ErrorKind::NotFound,
        ErrorKind::Limit,
        ErrorKind::Unsupported,
    ] {
        let value: JsValue = CodedError::new(kind, "m").into();
        assert_eq!(
            get(&value, "code").as_string().as_deref(),
            Some(kind.code())
        );
    }
}

#[wasm_bindgen_test]
fn version_is_the_package_version() {
    assert_eq!(svcroute_wasm::version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn problems_become_an_array_of_objects() {
    let err = CodedError::new(ErrorKind::Parse, "document 1: bad").with_problems(Some(
        r#"[{"code": "parse", "document": 1, "field": "spec.ports[0].port"}]"#.into(),
    ));
    let value: JsValue = err.into();
    let problems = get(&value, "problems");
    assert!(js_sys::Array::is_array(&problems));
    let first = js_sys::Array::from(&problems).get(0);
    assert_eq!(get(&first, "document").as_f64(), Some(1.0));
    assert_eq!(
        get(&first, "field").as_string().as_deref(),
        Some("spec.ports[0].port")
    );
    // Without problems, no property.
    let plain: JsValue = CodedError::new(ErrorKind::Parse, "m").into();
    assert!(get(&plain, "problems").is_undefined());
}
