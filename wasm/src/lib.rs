//! # svcroute-wasm: svcroute for the browser and Node
//!
//! wasm-bindgen exports over the svcroute core, for the playground in
//! `wasm/www/` and for Node. Like the other doors it only converts values
//! and maps errors; every answer is the core's.
//!
//! ## Building
//!
//! `wasm/build.sh` runs `cargo build --target wasm32-unknown-unknown
//! --release -p svcroute-wasm`, then wasm-bindgen 0.2.130 (the exact version
//! this crate pins) for `--target web` into `wasm/www/pkg/` and `--target
//! nodejs` into `wasm/pkg-node/`, then `wasm-opt -Oz` from npm's binaryen.
//! It checks that the module imports nothing from `env` (nothing OS-bound
//! slipped into the core) and prints the sizes.
//!
//! ## Errors
//!
//! Every fallible export returns [`Result<T>`](Result), whose error,
//! [`CodedError`], is thrown in JS as an `Error` with a `code` property: the
//! core's [`svcroute::ErrorKind::code`] (`parse`, `invalid`, `conflict`,
//! `not-found`, `limit`, `unsupported`), the same set the C status codes and
//! the command line use. A core error converts with `?`:
//!
//! ```text
//! #[wasm_bindgen]
//! impl Cluster {
//!     /// Applies manifests (YAML or JSON text).
//!     pub fn apply(&mut self, text: &str) -> svcroute_wasm::Result<Changes> {
//!         Ok(self.inner.apply_text(text)?.into())
//!     }
//! }
//! ```
//!
//! ```js
//! try { cluster.apply(text) } catch (e) { if (e.code === "parse") showAt(e.message) }
//! ```
//!
//! ## Native builds
//!
//! The crate also compiles for the host (it is a workspace member), so its
//! pure-Rust parts are unit-tested by `cargo test --workspace`. Functions that
//! create JS values work only on `wasm32`; they are tested in Node with
//! wasm-bindgen-test (`tests/js_error.rs`) and by `wasm/tests/*.test.mjs`.

use wasm_bindgen::prelude::*;

mod error;

pub use error::{CodedError, Result};

/// The version of svcroute, `"MAJOR.MINOR.PATCH"`.
///
/// ```js
/// import init, { version } from "./pkg/svcroute_wasm.js";
/// await init();
/// console.log(version()); // "0.1.0"
/// ```
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_the_package_version() {
        assert_eq!(super::version(), env!("CARGO_PKG_VERSION"));
    }
}
