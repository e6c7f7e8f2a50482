//! # svcroute-wasm: svcroute for the browser and Node
//!
//! wasm-bindgen exports over the svcroute core, for the playground in
//! `wasm/www/` and for Node. Like the other doors it only converts values
//! and maps errors; every answer is the core's.
//!
//! ## The cluster
//!
//! [`Cluster`] is the cluster engine: `new Cluster(config?)`,
//! `apply(text)`, `delete(kind, namespace, name)`, `list(kind, namespace?,
//! selector?)`, `endpointSlices(namespace, service)`,
//! `explainService(namespace, service)`, `setPodReady(ns, name, ready)`,
//! `setPodTerminating(ns, name, terminating)`, `scale(kind, ns, name,
//! replicas)`, `expose(kind, ns, name, options)`, `setDnsConfig(options)`,
//! `dnsQuery(name, type)`, `dnsSearch(client, name, type, resolver,
//! external)`, `route(request)`, `simulate(request)`, `free()`. Values come back as plain
//! JS objects (JSON made by Rust, parsed by `JSON.parse`: faster than
//! building them through the boundary), typed by TypeScript declarations in
//! the package's `.d.ts` (`Changes`, `List`, `EndpointSlice`,
//! `ServiceExplanation`, `ClusterConfig`, `SvcrouteError`…). The shapes are
//! the C library's: both doors compile the same [`door`] module.
//!
//! ```js
//! const cluster = new Cluster();                 // a fresh real cluster
//! const changes = cluster.apply(manifestJson);   // {created, updated, deleted, skipped}
//! const pods = cluster.list("Pod", "shop", "app=web").items;
//! const slices = cluster.endpointSlices("shop", "web").items;
//! const why = cluster.explainService("shop", "web"); // {readyEndpoints, pods: [{verdict, ...}]}
//! cluster.free();
//! ```
//!
//! ## YAML
//!
//! The default build reads JSON only; `apply` of YAML text throws a `parse`
//! error that says so, and [`has_yaml`] (`hasYaml()`) tells which build this
//! is. The feature `yaml` (`wasm/build.sh --yaml`) adds the core's YAML
//! reader, at 70 KB gzip more on an engine already over the 250 KB budget
//! (DECISIONS D12; the figures are in `wasm/build.sh`): the playground parses
//! YAML with npm's `yaml` (`wasm/www/manifest.js`) and passes JSON. The core
//! is built with its `compact` feature (one compiled sort for all its
//! sorts).
//!
//! ## Routing, DNS and traffic
//!
//! ```js
//! cluster.dnsQuery("web.shop.svc.cluster.local.", "A").answer;   // ["web.shop... 5 IN A 10.96.0.20"]
//! cluster.dnsSearch({ pod: "shop/client" }, "web", "A").sent;     // the search-list walk
//! cluster.route({ source: { pod: "shop/client" }, destination: { dns: "web", port: 80 } }).trace;
//! cluster.simulate({ source: { pod: "shop/client" }, destination: { dns: "web", port: 80 },
//!                    requests: 1000, algorithm: "maglev" }).endpoints; // [{endpoint, pod, node, count}]
//! cluster.setPodReady("shop", "web-1", false);                      // leaves the ready endpoints (EP-3)
//! cluster.scale("Deployment", "shop", "web", 5);                    // kubectl scale: Pods and endpoints follow
//! cluster.expose("Deployment", "shop", "web", { port: 80, targetPort: 8080 }).service;
//! ```
//!
//! The routing tables are compiled once and patched with each call's
//! changes; the DNS index likewise.
//!
//! ## Labels and selectors
//!
//! `parseSelector`, `matchSelector`, `labelSelector`, `matchLabelSelector`,
//! `serviceSelects`, `parseSelectorMap` and `validateName` answer the
//! selectors suite's questions (`wasm/tests/conformance.test.mjs` runs it,
//! with the route and DNS suites, through this package).
//!
//! ## Features
//!
//! `dns` (`dnsQuery`, `dnsSearch`, `setDnsConfig`) and `traffic` (`route`,
//! `simulate`: the dataplane and the balancers) are on by default; the
//! playground uses both. `wasm/build.sh --no-dns --no-traffic` builds the
//! smaller engines (issue 8 size figures in `wasm/build.sh`): without
//! `traffic` about 117 KB gzip less, without `dns` about 33 KB less.
//!
//! ## Building
//!
//! `wasm/build.sh` runs `cargo build --target wasm32-unknown-unknown
//! --release -p svcroute-wasm` (optimized for size), then wasm-bindgen
//! 0.2.130 (the exact version this crate pins) for `--target web` into
//! `wasm/www/pkg/` and `--target nodejs` into `wasm/pkg-node/`, then
//! `wasm-opt -Os` from npm's binaryen. It checks that the module imports
//! nothing from `env` (nothing OS-bound slipped into the core) and prints
//! the sizes.
//!
//! ## Errors
//!
//! Every fallible export returns [`Result<T>`](Result), whose error,
//! [`CodedError`], is thrown in JS as an `Error` with a `code` property: the
//! core's [`svcroute::ErrorKind::code`] (`parse`, `invalid`, `conflict`,
//! `not-found`, `limit`, `unsupported`), the same set the C status codes and
//! the command line use. Errors about manifests also carry `problems`: one
//! `{code, document, item, line, column, object, field, message}` per
//! problem, for showing each where it is.
//!
//! ```js
//! try { cluster.apply(text) } catch (e) {
//!   if (e.code === "parse") for (const p of e.problems ?? []) showAt(p.line, p.field, p.message);
//! }
//! ```
//!
//! ## Native builds
//!
//! The crate also compiles for the host (it is a workspace member), so its
//! pure-Rust parts are unit-tested by `cargo test --workspace`. Functions that
//! create JS values work only on `wasm32`; they are tested in Node with
//! wasm-bindgen-test (`tests/js_error.rs`) and by `wasm/tests/*.test.mjs`.

use wasm_bindgen::prelude::*;

mod args;
#[cfg(any(feature = "dns", feature = "traffic"))]
mod changes;
mod cluster;
#[cfg(feature = "dns")]
mod dns;
mod labels;
mod pods;
#[cfg(feature = "traffic")]
mod route;
#[cfg(feature = "traffic")]
mod simulate;
mod summary;
mod workloads;
// The cluster door shared with the C library: the same shapes at both doors.
#[path = "../../bindings/c/src/door.rs"]
pub mod door;
mod error;

pub use cluster::{Cluster, has_yaml};
pub use error::{CodedError, Result};
pub use labels::{
    label_selector_kind, match_label_selector, match_selector, parse_selector,
    parse_selector_map_js, service_selects, validate_name,
};
pub use pods::DEFAULT_DELETION_TIMESTAMP;
#[cfg(feature = "traffic")]
pub use simulate::MAX_REQUESTS;

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
