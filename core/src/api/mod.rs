//! Kubernetes objects in their real wire shape, and the manifest loader.
//!
//! # The model
//!
//! Each modelled kind is a plain Rust struct named as in the Kubernetes API
//! (`Service`, `ServiceSpec`, `ServicePort`, `EndpointSlice`, ...), with
//! the API's field names in snake case (`targetPort` is `target_port`,
//! `clusterIPs` is `cluster_ips`, `type` is `type_`). Only the fields that
//! matter for Service networking are kept; every other field is ignored
//! when reading, so real `kubectl get -o yaml` output reads as is.
//!
//! * **Absent vs empty.** A field is an `Option` where the API can leave it
//!   unset and unset means something (a Service's `selector`, `clusterIPs`,
//!   an endpoint's `ready`). Lists and maps where absent and empty mean the
//!   same are plain (`Vec`, `BTreeMap`, empty when absent), as are strings
//!   whose absence is `""` in the API (a ServicePort's `name`).
//! * **Closed vocabularies are enums** with the API's spelling (`ServiceType::
//!   NodePort`, `Protocol::TCP`): an unknown value is an error naming the
//!   field, as the API server would reject it. Vocabularies that grow from
//!   release to release, or that the API does not validate, stay text
//!   (`trafficDistribution`, `appProtocol`, a container's `restartPolicy`,
//!   condition types, Node address types, Gateway listener protocols).
//! * **Strings are strings.** Label, annotation and selector values must be
//!   strings: an unquoted YAML `true`, `yes` or `12` is refused with a hint
//!   to quote it, because the API server refuses it too.
//! * **Writing.** Every type also serializes, in the API's shape (with
//!   `apiVersion` and `kind` on top-level objects), omitting absent fields.
//!
//! [`Object`] is one object of any modelled [`Kind`]; [`Object::key`] is
//! its store identity `(kind, namespace, name)`.
//!
//! # Loading
//!
//! [`load`] reads JSON or YAML ([`load_json`], [`load_yaml`] with the `yaml`
//! feature, [`load_value`] for an already-decoded JSON value): single
//! objects, multi-document YAML streams, `List`s (`kind: List` and typed
//! lists such as `PodList`, whose items may omit their kind), top-level
//! arrays, and watch events. The result, [`Loaded`], holds the objects and
//! the [`WatchEvent`]s with where each came from ([`Located`]), and the
//! count of objects of every kind svcroute does not model (ConfigMaps,
//! Secrets, RBAC, CRDs...: skipped, never an error).
//!
//! A load either succeeds completely or fails with an [`ApiError`] listing
//! every [`Problem`] of every document: document index, list item, line and
//! column, the object (kind, namespace, name) and the field path
//! (`spec.ports[0].targetPort`). Loading never panics, whatever the input;
//! nesting deeper than 128 levels and YAML alias bombs are errors.
//!
//! YAML is read the way `kubectl` reads it (YAML 1.1 scalars, then strict
//! JSON typing), so the same manifests are accepted and refused:
//!
//! ```
//! use svcroute::api::{self, Object};
//!
//! let loaded = api::load("
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web, namespace: shop}
//! spec:
//!   selector: {app: web}
//!   ports:
//!   - {name: http, port: 80, targetPort: http}
//! ").unwrap();
//! let Object::Service(svc) = &loaded.objects[0].value else { unreachable!() };
//! assert_eq!(svc.spec.ports[0].port, 80);
//!
//! let err = api::load("
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web, labels: {canary: yes}}
//! ").unwrap_err();
//! assert_eq!(err.problems()[0].field.as_deref(), Some("metadata.labels.canary"));
//! ```

pub mod appsv1;
pub mod corev1;
mod decode;
pub mod discoveryv1;
mod error;
pub mod gatewayv1;
mod intstr;
mod load;
pub mod metav1;
pub mod networkingv1;
mod object;
mod quantity;
mod resource;
pub(crate) mod wire;
#[cfg(feature = "yaml")]
mod yaml;

#[cfg(test)]
mod tests;

pub use appsv1::{
    DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec, DeploymentStrategy,
    PodManagementPolicyType, PodTemplateSpec, ReplicaSet, ReplicaSetSpec, RollingUpdate,
    StatefulSet, StatefulSetOrdinals, StatefulSetSpec, UpdateStrategy, WorkloadStatus,
};
pub use corev1::{
    Affinity, ClientIPConfig, Container, ContainerPort, DNSPolicy, EndpointAddress, EndpointSubset,
    Endpoints, HostIP, IPFamily, IPFamilyPolicy, LoadBalancerIPMode, LoadBalancerIngress,
    LoadBalancerStatus, Namespace, NamespaceStatus, Node, NodeAddress, NodeAffinity, NodeCondition,
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, NodeStatus, ObjectReference,
    Pod, PodCondition, PodDNSConfig, PodDNSConfigOption, PodIP, PodPhase, PodSpec, PodStatus,
    Protocol, Service, ServiceAffinity, ServiceExternalTrafficPolicy, ServiceInternalTrafficPolicy,
    ServicePort, ServiceSpec, ServiceStatus, ServiceType, SessionAffinityConfig, Taint, Toleration,
};
pub use discoveryv1::{
    AddressType, Endpoint, EndpointConditions, EndpointHints, EndpointSlice, ForNode, ForZone,
};
pub use error::{ApiError, ObjectRef, Problem, ProblemKind};
pub use gatewayv1::{
    AllowedRoutes, FromNamespaces, Gateway, GatewaySpec, GatewaySpecAddress, HTTPBackendRef,
    HTTPHeaderMatch, HTTPMethod, HTTPPathMatch, HTTPQueryParamMatch, HTTPRoute, HTTPRouteMatch,
    HTTPRouteRule, HTTPRouteSpec, HeaderMatchType, Listener, ParentReference, PathMatchType,
    QueryParamMatchType, RouteGroupKind, RouteNamespaces,
};
pub use intstr::IntOrString;
pub use load::{
    LoadLimits, Loaded, Located, load, load_json, load_json_with, load_value, load_value_with,
    load_with,
};
#[cfg(feature = "yaml")]
pub use load::{load_yaml, load_yaml_with};
pub use metav1::{ConditionStatus, ObjectMeta, OwnerReference, TypeMeta, UnknownValue};
pub use networkingv1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressClass,
    IngressClassParametersReference, IngressClassSpec, IngressLoadBalancerIngress,
    IngressLoadBalancerStatus, IngressRule, IngressServiceBackend, IngressSpec, IngressStatus,
    IngressTLS, PathType, ServiceBackendPort, TypedLocalObjectReference,
};
pub use object::{Bookmark, Kind, Object, ObjectKey, Status, WatchEvent, WatchEventType};
pub use quantity::{Quantity, QuantityError};
pub use resource::Resource;
