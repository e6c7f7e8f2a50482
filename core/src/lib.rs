//! # svcroute: Kubernetes Service networking, modelled exactly
//!
//! svcroute answers the questions a cluster's own components answer about
//! Service networking — which pods a selector picks, what the API server
//! allocates, what the EndpointSlice controller publishes, what CoreDNS says,
//! what kube-proxy does with a connection — without a cluster, and without
//! doing any I/O.
//!
//! ## What it does not do
//!
//! The core never reads a clock, a file, a socket or the environment, never
//! spawns a thread and never draws global randomness. Time and seeds are
//! arguments. The same inputs give the same outputs on every target,
//! `wasm32-unknown-unknown` included. The C library, the WASM package and the
//! `svcroute` command line are thin doors over this crate.
//!
//! ## The layers
//!
//! ```text
//! manifests / kubectl dumps / watch events
//!         │  api: serde types in the real Kubernetes JSON/YAML shape
//!         ▼
//!    labels: label maps, selector grammar, LabelSelector, validation
//!    ipam:   cluster IPs, node ports, pod CIDRs
//!    balance: backend-selection algorithms (no Kubernetes types)
//! ```
//!
//! | module | owns |
//! | --- | --- |
//! | [`labels`] | label maps, the selector string grammar, `LabelSelector`, key/value validation |
//! | [`api`] | the Kubernetes objects in their wire shape; loading JSON/YAML, Lists, watch events |
//! | [`ipam`] | cluster IP, node port and pod CIDR allocators |
//! | [`balance`] | backend-selection algorithms, deterministic from a seed |
//! | [`cluster`] | the object store, label indexes, the EndpointSlice and mirroring controllers |
//! | [`dns`] | cluster DNS as CoreDNS answers it: records, search-list walks, wire format |
//! | [`dataplane`] | kube-proxy's compiled tables and `route()` with a trace; Ingress and HTTPRoute matching |
//!
//! ## Getting started
//!
//! Read a manifest and ask which of its pods a selector picks:
//!
//! ```
//! use svcroute::api::{self, Object};
//! use svcroute::labels::Selector;
//!
//! let manifest = r#"
//! apiVersion: v1
//! kind: Pod
//! metadata:
//!   name: web-1
//!   namespace: shop
//!   labels: {app: web, tier: front}
//! ---
//! apiVersion: v1
//! kind: ConfigMap
//! metadata: {name: settings}
//! "#;
//! let loaded = api::load(manifest)?; // JSON or YAML; Lists and watch events too
//! assert_eq!(loaded.skipped_count(), 1); // the ConfigMap: not a kind svcroute models
//! let selector: Selector = "app=web,tier in (front,back),!canary".parse()?;
//! for object in loaded.iter_objects() {
//!     if let Object::Pod(pod) = object {
//!         assert!(selector.matches(&pod.metadata.labels));
//!     }
//! }
//! # Ok::<(), svcroute::Error>(())
//! ```
//!
//! ## Errors
//!
//! Every fallible operation returns a typed error of its layer; all of them
//! convert into [`Error`], whose [`Error::kind`] is the one classification
//! (parse, invalid, conflict, not-found, limit, unsupported) that the C
//! status codes, the JS `Error.code` and the command line's messages map.
//! Errors say where: the byte position in a selector string, or the document,
//! object and field path of a manifest.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod balance;
pub mod cluster;
pub mod dataplane;
pub mod dns;
mod error;
pub mod ipam;
pub mod labels;
mod order;
mod table_hash;

pub use error::{Error, ErrorKind};
