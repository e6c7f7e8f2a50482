//! # admission: what happens when a Service or a Node is created
//!
//! The API server's create path for Services, and the node IPAM
//! controller's reaction to new Nodes, modelled exactly (rules `ALLOC-1` …
//! `ALLOC-18` of `services.md`). This module holds allocators, not
//! objects: the caller's store keeps the objects and tells admission what
//! is stored ([`ServiceAdmission::occupy`], [`NodeIpam::start`]), created
//! ([`ServiceAdmission::create`], [`NodeIpam::add`]) and deleted
//! ([`ServiceAdmission::release`], [`NodeIpam::delete`]).
//!
//! | type / function | models | rules |
//! | --- | --- | --- |
//! | [`ServiceAdmission`] | kube-apiserver's Service create: defaulting, IP families, cluster IPs, node ports, health-check port, validation | ALLOC-1 … ALLOC-17 |
//! | [`ServiceAdmission::admit_stored`] | a stored Service (a dump's, D7): set values kept and occupied, absent ones allocated | ALLOC-1 … ALLOC-15 |
//! | [`apply_defaults`] | `v1` defaulting of a Service | ALLOC-11, ALLOC-12, ALLOC-17 |
//! | [`kubernetes_service`] | the `default/kubernetes` Service of a fresh cluster | ALLOC-3 |
//! | [`NodeIpam`] | kube-controller-manager's range allocator over Nodes | ALLOC-18 |
//! | [`AdmissionError`] | why: field path and the conformance code | |
//!
//! ## Order of a Service create
//!
//! As in the API server, allocation happens *before* full validation
//! (`BeginCreate` runs before the strategy's `Validate`); only the cluster
//! IP fields are checked first. So an object that both asks for a taken
//! node port and breaks a validation rule reports the allocation error.
//! A failed create changes nothing: what was allocated is released and
//! the random state is restored.
//!
//! ```
//! use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
//! let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
//! admission.reserve_kubernetes_service_ip()?;
//! let lb = serde_json::from_str(r#"{"metadata": {"name": "edge", "namespace": "shop"},
//!     "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
//!              "selector": {"app": "edge"}, "ports": [{"port": 443}]}}"#)?;
//! let stored = admission.create(lb)?;
//! assert!(stored.spec.health_check_node_port.is_some()); // ALLOC-15
//! assert_eq!(stored.spec.allocate_load_balancer_node_ports, Some(true)); // ALLOC-12
//!
//! let taken = serde_json::from_str(r#"{"metadata": {"name": "x"},
//!     "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}"#)?;
//! let err = admission.create(taken).unwrap_err();
//! assert_eq!((err.code(), err.field()), ("already-allocated", Some("spec.clusterIPs[0]")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors
//!
//! [`AdmissionError`] carries every validation failure with its field path
//! ([`FieldError`]), or the allocator's [`IpamError`](crate::ipam::IpamError)
//! with the field of the request. Its [`code`](AdmissionError::code) is the
//! conformance vocabulary and [`kind`](AdmissionError::kind) the crate-wide
//! [`ErrorKind`](crate::ErrorKind).

mod error;
mod node;
mod service;
mod stored;
mod update;
mod validate;

pub use error::{AdmissionError, FieldError, FieldReason};
pub use node::NodeIpam;
pub use service::{
    DEFAULT_CLIENT_IP_TIMEOUT_SECONDS, ServiceAdmission, ServiceAdmissionConfig, apply_defaults,
    kubernetes_service,
};
