//! `networking.k8s.io/v1`: Ingress and IngressClass.

use serde::Serialize;

use super::decode::read_struct;
use super::metav1::{ObjectMeta, wire_enum};
use super::resource::impl_resource;
use super::wire::is_default;

wire_enum! {
    /// How an Ingress path matches (`networkingv1.PathType`).
    PathType ("path type") {
        /// `Exact`.
        Exact = "Exact",
        /// `Prefix`: element-wise prefix on `/`.
        Prefix = "Prefix",
        /// `ImplementationSpecific`.
        ImplementationSpecific = "ImplementationSpecific",
    }
}

/// A `networking.k8s.io/v1` Ingress.
///
/// ```
/// use svcroute::api::{Ingress, PathType};
///
/// let ing: Ingress = serde_json::from_str(r#"{
///   "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
///   "metadata": {"name": "web", "namespace": "shop"},
///   "spec": {"ingressClassName": "nginx",
///            "rules": [{"host": "shop.example", "http": {"paths": [
///              {"path": "/api", "pathType": "Prefix",
///               "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}]}}"#).unwrap();
/// let path = &ing.spec.rules[0].http.as_ref().unwrap().paths[0];
/// assert_eq!(path.path_type, Some(PathType::Prefix));
/// assert_eq!(path.backend.service.as_ref().unwrap().port.as_ref().unwrap().number, Some(80));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingress {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: IngressSpec,
    /// `status`.
    pub status: IngressStatus,
}
impl_resource!(Ingress, "networking.k8s.io/v1", "Ingress", namespaced: true,
    always: [], omit_default: [spec => "spec", status => "status"]);

/// `spec` of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// `ingressClassName`; absent = the default class, assigned on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_class_name: Option<String>,
    /// `defaultBackend`: where requests matching no rule go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_backend: Option<IngressBackend>,
    /// `tls`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<IngressTLS>,
    /// `rules`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<IngressRule>,
}

/// One `tls` entry (`networkingv1.IngressTLS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressTLS {
    /// `hosts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// `secretName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// One rule (`networkingv1.IngressRule`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressRule {
    /// `host`: exact or `*.` wildcard; absent = every host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HTTPIngressRuleValue>,
}

/// `http` of a rule (`networkingv1.HTTPIngressRuleValue`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HTTPIngressRuleValue {
    /// `paths`.
    pub paths: Vec<HTTPIngressPath>,
}

/// One path of a rule (`networkingv1.HTTPIngressPath`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPIngressPath {
    /// `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `pathType` (required by the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_type: Option<PathType>,
    /// `backend`.
    pub backend: IngressBackend,
}

/// A backend (`networkingv1.IngressBackend`): a Service port or a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressBackend {
    /// `service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<IngressServiceBackend>,
    /// `resource`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<TypedLocalObjectReference>,
}

/// `backend.service` (`networkingv1.IngressServiceBackend`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressServiceBackend {
    /// `name`: a Service in the Ingress's namespace.
    pub name: String,
    /// `port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<ServiceBackendPort>,
}

/// `backend.service.port` (`networkingv1.ServiceBackendPort`): a Service
/// port by number or by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceBackendPort {
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `number`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<i32>,
}

/// `backend.resource` (`v1.TypedLocalObjectReference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypedLocalObjectReference {
    /// `apiGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// `kind`.
    pub kind: String,
    /// `name`.
    pub name: String,
}

/// `status` of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressStatus {
    /// `loadBalancer`.
    #[serde(skip_serializing_if = "is_default")]
    pub load_balancer: IngressLoadBalancerStatus,
}

/// `status.loadBalancer` of an Ingress (`networkingv1.IngressLoadBalancerStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressLoadBalancerStatus {
    /// `ingress`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressLoadBalancerIngress>,
}

/// One address of an Ingress's load balancer (`networkingv1.IngressLoadBalancerIngress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressLoadBalancerIngress {
    /// `ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// A `networking.k8s.io/v1` IngressClass.
///
/// ```
/// let class: svcroute::api::IngressClass = serde_json::from_str(r#"{
///   "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
///   "metadata": {"name": "nginx",
///                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
///   "spec": {"controller": "k8s.io/ingress-nginx"}}"#).unwrap();
/// assert!(class.is_default_class());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressClass {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: IngressClassSpec,
}
impl_resource!(IngressClass, "networking.k8s.io/v1", "IngressClass", namespaced: false,
    always: [], omit_default: [spec => "spec"]);

impl IngressClass {
    /// The annotation that marks the default class.
    pub const IS_DEFAULT_CLASS_ANNOTATION: &'static str =
        "ingressclass.kubernetes.io/is-default-class";

    /// The default class: annotation `ingressclass.kubernetes.io/is-default-class: "true"`.
    pub fn is_default_class(&self) -> bool {
        self.metadata
            .annotations
            .get(Self::IS_DEFAULT_CLASS_ANNOTATION)
            .is_some_and(|v| v == "true")
    }
}

/// `spec` of an IngressClass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngressClassSpec {
    /// `controller`, e.g. `k8s.io/ingress-nginx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// `parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<IngressClassParametersReference>,
}

/// `spec.parameters` of an IngressClass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressClassParametersReference {
    /// `apiGroup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// `kind`.
    pub kind: String,
    /// `name`.
    pub name: String,
    /// `namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `scope`: `Cluster` or `Namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(Ingress {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
    status: "status" => null_default,
});
read_struct!(IngressSpec {
    default_backend: "defaultBackend" => or_default,
    ingress_class_name: "ingressClassName" => or_default,
    rules: "rules" => null_default,
    tls: "tls" => null_default,
});
read_struct!(IngressTLS {
    hosts: "hosts" => null_default,
    secret_name: "secretName" => or_default,
});
read_struct!(IngressRule {
    host: "host" => or_default,
    http: "http" => or_default,
});
read_struct!(HTTPIngressRuleValue {
    paths: "paths" => null_default,
});
read_struct!(HTTPIngressPath {
    backend: "backend" => null_default,
    path: "path" => or_default,
    path_type: "pathType" => or_default,
});
read_struct!(IngressBackend {
    resource: "resource" => or_default,
    service: "service" => or_default,
});
read_struct!(IngressServiceBackend {
    name: "name" => null_default,
    port: "port" => or_default,
});
read_struct!(ServiceBackendPort {
    name: "name" => or_default,
    number: "number" => or_default,
});
read_struct!(TypedLocalObjectReference {
    api_group: "apiGroup" => or_default,
    kind: "kind" => null_default,
    name: "name" => null_default,
});
read_struct!(IngressStatus {
    load_balancer: "loadBalancer" => null_default,
});
read_struct!(IngressLoadBalancerStatus {
    ingress: "ingress" => null_default,
});
read_struct!(IngressLoadBalancerIngress {
    hostname: "hostname" => or_default,
    ip: "ip" => or_default,
});
read_struct!(IngressClass {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
});
read_struct!(IngressClassSpec {
    controller: "controller" => or_default,
    parameters: "parameters" => or_default,
});
read_struct!(IngressClassParametersReference {
    api_group: "apiGroup" => or_default,
    kind: "kind" => null_default,
    name: "name" => null_default,
    namespace: "namespace" => or_default,
    scope: "scope" => or_default,
});
