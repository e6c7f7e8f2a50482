//! Errors on their way to JS: an `Error` with a `code`.

use std::fmt;

use svcroute::ErrorKind;
use wasm_bindgen::prelude::*;

/// The JS `Error.name` of the errors this package throws.
pub const ERROR_NAME: &str = "SvcrouteError";

/// The result of every fallible export: the error is thrown in JS.
pub type Result<T> = std::result::Result<T, CodedError>;

/// An error that becomes a JS `Error` when an export returns it.
///
/// In JS it is an `instanceof Error` with `name` `"SvcrouteError"`,
/// `message` the core's description (which says where: document, object
/// and field, or byte position), `code` the kind's stable code and, when
/// the error has located problems (a manifest), `problems`: an array of
/// `{code, document, item, line, column, object, field, message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedError {
    code: &'static str,
    message: String,
    /// The problems as a JSON array, for the `problems` property.
    problems: Option<String>,
}

impl CodedError {
    /// An error of the given kind (the package's own checks of its
    /// arguments use this; core errors convert with `From`).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> CodedError {
        CodedError {
            code: kind.code(),
            message: message.into(),
            problems: None,
        }
    }

    /// The same error with a `problems` property: a JSON array, parsed into
    /// JS objects when the error is thrown.
    pub fn with_problems(mut self, problems_json: Option<String>) -> CodedError {
        self.problems = problems_json;
        self
    }

    /// The `problems` property, as JSON text.
    pub fn problems_json(&self) -> Option<&str> {
        self.problems.as_deref()
    }

    /// The `code` property: `parse`, `invalid`, `conflict`, `not-found`,
    /// `limit` or `unsupported`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The `message` property.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CodedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CodedError {}

impl From<svcroute::Error> for CodedError {
    fn from(err: svcroute::Error) -> CodedError {
        CodedError::new(err.kind(), err.to_string())
    }
}

/// Builds the JS `Error` (works only on `wasm32`).
impl From<CodedError> for JsValue {
    fn from(err: CodedError) -> JsValue {
        let js = js::Error::new(&err.message);
        js.set_name(ERROR_NAME);
        js.set_code(err.code);
        if let Some(problems) = err.problems.as_deref().and_then(|p| js::json_parse(p).ok()) {
            js.set_problems(&problems);
        }
        js.into()
    }
}

mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// The global `Error` class.
        pub type Error;

        /// `new Error(message)`.
        #[wasm_bindgen(constructor)]
        pub fn new(message: &str) -> Error;

        /// `error.name = name`.
        #[wasm_bindgen(method, setter)]
        pub fn set_name(this: &Error, name: &str);

        /// `error.code = code`.
        #[wasm_bindgen(method, setter)]
        pub fn set_code(this: &Error, code: &str);

        /// `error.problems = problems`.
        #[wasm_bindgen(method, setter)]
        pub fn set_problems(this: &Error, problems: &JsValue);

        /// `JSON.parse(text)`.
        #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
        pub fn json_parse(text: &str) -> Result<JsValue, JsValue>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_core_kinds_codes() {
        for kind in [
            ErrorKind::Parse,
            ErrorKind::Invalid,
            ErrorKind::Conflict,
            ErrorKind::NotFound,
            ErrorKind::Limit,
            ErrorKind::Unsupported,
        ] {
            let err = CodedError::new(kind, "m");
            assert_eq!(err.code(), kind.code());
            assert_eq!(err.message(), "m");
            assert_eq!(err.to_string(), format!("{}: m", kind.code()));
        }
    }
}
