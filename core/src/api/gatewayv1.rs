//! `gateway.networking.k8s.io/v1`: Gateway and HTTPRoute (the fields that
//! decide routing).

use serde::Serialize;

use super::decode::read_struct;
use super::metav1::{ObjectMeta, wire_enum};
use super::resource::impl_resource;
use crate::labels::LabelSelector;

/// A `gateway.networking.k8s.io/v1` Gateway: its listeners.
///
/// ```
/// let gw: svcroute::api::Gateway = serde_json::from_str(r#"{
///   "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
///   "metadata": {"name": "gw", "namespace": "infra"},
///   "spec": {"gatewayClassName": "example",
///            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP", "hostname": "*.example.com"}]}}"#).unwrap();
/// assert_eq!(gw.spec.listeners[0].port, 80);
/// assert_eq!(gw.spec.listeners[0].hostname.as_deref(), Some("*.example.com"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gateway {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: GatewaySpec,
}
impl_resource!(Gateway, "gateway.networking.k8s.io/v1", "Gateway", namespaced: true,
    always: [], omit_default: [spec => "spec"]);

/// `spec` of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    /// `gatewayClassName`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway_class_name: String,
    /// `listeners`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<Listener>,
    /// `addresses`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<GatewaySpecAddress>,
}

/// One listener of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// `name`: what a route's `parentRefs[].sectionName` refers to.
    pub name: String,
    /// `hostname`: exact or `*.` wildcard; absent = every host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `port`.
    pub port: i32,
    /// `protocol`: `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or an
    /// implementation-specific domain-prefixed name (kept as text).
    pub protocol: String,
    /// `allowedRoutes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_routes: Option<AllowedRoutes>,
}

wire_enum! {
    /// `allowedRoutes.namespaces.from` (`FromNamespaces`); absent = `Same`.
    FromNamespaces ("allowedRoutes namespaces.from") {
        /// `All`.
        All = "All",
        /// `Same`: the Gateway's namespace.
        Same = "Same",
        /// `Selector`: namespaces matching `selector`.
        Selector = "Selector",
    }
}

/// `allowedRoutes` of a listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllowedRoutes {
    /// `namespaces`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<RouteNamespaces>,
    /// `kinds`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<RouteGroupKind>,
}

/// `allowedRoutes.namespaces`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteNamespaces {
    /// `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<FromNamespaces>,
    /// `selector`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// `allowedRoutes.kinds[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteGroupKind {
    /// `group`; absent = `gateway.networking.k8s.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `kind`.
    pub kind: String,
}

/// `spec.addresses[]` of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GatewaySpecAddress {
    /// `type`: `IPAddress`, `Hostname` or implementation-specific; absent = `IPAddress`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `value`.
    pub value: String,
}

/// A `gateway.networking.k8s.io/v1` HTTPRoute.
///
/// ```
/// use svcroute::api::{HTTPRoute, PathMatchType};
///
/// let route: HTTPRoute = serde_json::from_str(r#"{
///   "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
///   "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2024-01-01T00:00:00Z"},
///   "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
///            "hostnames": ["shop.example.com"],
///            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"},
///                                    "headers": [{"name": "x-canary", "value": "1"}],
///                                    "method": "GET"}],
///                       "backendRefs": [{"name": "api", "port": 80, "weight": 90},
///                                       {"name": "api-canary", "port": 80, "weight": 10}]}]}}"#).unwrap();
/// let rule = &route.spec.rules[0];
/// assert_eq!(rule.matches[0].path.as_ref().unwrap().type_, Some(PathMatchType::PathPrefix));
/// assert_eq!(rule.backend_refs[1].weight, Some(10));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HTTPRoute {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `spec`.
    pub spec: HTTPRouteSpec,
}
impl_resource!(HTTPRoute, "gateway.networking.k8s.io/v1", "HTTPRoute", namespaced: true,
    always: [], omit_default: [spec => "spec"]);

/// `spec` of an HTTPRoute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteSpec {
    /// `parentRefs`: the Gateways (or listeners) the route attaches to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// `hostnames`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// `rules`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<HTTPRouteRule>,
}

/// A route's `parentRefs[]` (`ParentReference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// `group`; absent = `gateway.networking.k8s.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `kind`; absent = `Gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `namespace`; absent = the route's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `name`.
    pub name: String,
    /// `sectionName`: a listener name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// `port`: a listener port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

/// One rule of an HTTPRoute (`HTTPRouteRule`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteRule {
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `matches`; empty = `PathPrefix /`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HTTPRouteMatch>,
    /// `backendRefs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<HTTPBackendRef>,
}

wire_enum! {
    /// `matches[].path.type` (`PathMatchType`); absent = `PathPrefix`.
    PathMatchType ("path match type") {
        /// `Exact`.
        Exact = "Exact",
        /// `PathPrefix`: element-wise prefix on `/`.
        PathPrefix = "PathPrefix",
        /// `RegularExpression`.
        RegularExpression = "RegularExpression",
    }
}

wire_enum! {
    /// `matches[].headers[].type` (`HeaderMatchType`); absent = `Exact`.
    HeaderMatchType ("header match type") {
        /// `Exact`.
        Exact = "Exact",
        /// `RegularExpression`.
        RegularExpression = "RegularExpression",
    }
}

wire_enum! {
    /// `matches[].queryParams[].type` (`QueryParamMatchType`); absent = `Exact`.
    QueryParamMatchType ("query param match type") {
        /// `Exact`.
        Exact = "Exact",
        /// `RegularExpression`.
        RegularExpression = "RegularExpression",
    }
}

wire_enum! {
    /// `matches[].method` (`HTTPMethod`).
    HTTPMethod ("HTTP method") {
        /// `GET`.
        GET = "GET",
        /// `HEAD`.
        HEAD = "HEAD",
        /// `POST`.
        POST = "POST",
        /// `PUT`.
        PUT = "PUT",
        /// `DELETE`.
        DELETE = "DELETE",
        /// `CONNECT`.
        CONNECT = "CONNECT",
        /// `OPTIONS`.
        OPTIONS = "OPTIONS",
        /// `TRACE`.
        TRACE = "TRACE",
        /// `PATCH`.
        PATCH = "PATCH",
    }
}

/// One of a rule's `matches` (`HTTPRouteMatch`): all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteMatch {
    /// `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<HTTPPathMatch>,
    /// `headers`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HTTPHeaderMatch>,
    /// `queryParams`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<HTTPQueryParamMatch>,
    /// `method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<HTTPMethod>,
}

/// `matches[].path` (`HTTPPathMatch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HTTPPathMatch {
    /// `type`; absent = `PathPrefix`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<PathMatchType>,
    /// `value`; absent = `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `matches[].headers[]` (`HTTPHeaderMatch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HTTPHeaderMatch {
    /// `type`; absent = `Exact`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HeaderMatchType>,
    /// `name` (case-insensitive).
    pub name: String,
    /// `value`.
    pub value: String,
}

/// `matches[].queryParams[]` (`HTTPQueryParamMatch`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HTTPQueryParamMatch {
    /// `type`; absent = `Exact`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<QueryParamMatchType>,
    /// `name` (case-sensitive).
    pub name: String,
    /// `value`.
    pub value: String,
}

/// A rule's `backendRefs[]` (`HTTPBackendRef`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPBackendRef {
    /// `group`; absent = `""` (core).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `kind`; absent = `Service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `name`.
    pub name: String,
    /// `namespace`; absent = the route's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `port`: a Service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// `weight`; absent = 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(Gateway {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
});
read_struct!(GatewaySpec {
    addresses: "addresses" => null_default,
    gateway_class_name: "gatewayClassName" => null_default,
    listeners: "listeners" => null_default,
});
read_struct!(Listener {
    allowed_routes: "allowedRoutes" => or_default,
    hostname: "hostname" => or_default,
    name: "name" => null_default,
    port: "port" => required,
    protocol: "protocol" => null_default,
});
read_struct!(AllowedRoutes {
    kinds: "kinds" => null_default,
    namespaces: "namespaces" => or_default,
});
read_struct!(RouteNamespaces {
    from: "from" => or_default,
    selector: "selector" => or_default,
});
read_struct!(RouteGroupKind {
    group: "group" => or_default,
    kind: "kind" => null_default,
});
read_struct!(GatewaySpecAddress {
    type_: "type" => or_default,
    value: "value" => null_default,
});
read_struct!(HTTPRoute {
    metadata: "metadata" => null_default,
    spec: "spec" => null_default,
});
read_struct!(HTTPRouteSpec {
    hostnames: "hostnames" => null_default,
    parent_refs: "parentRefs" => null_default,
    rules: "rules" => null_default,
});
read_struct!(ParentReference {
    group: "group" => or_default,
    kind: "kind" => or_default,
    name: "name" => null_default,
    namespace: "namespace" => or_default,
    port: "port" => or_default,
    section_name: "sectionName" => or_default,
});
read_struct!(HTTPRouteRule {
    backend_refs: "backendRefs" => null_default,
    matches: "matches" => null_default,
    name: "name" => or_default,
});
read_struct!(HTTPRouteMatch {
    headers: "headers" => null_default,
    method: "method" => or_default,
    path: "path" => or_default,
    query_params: "queryParams" => null_default,
});
read_struct!(HTTPPathMatch {
    type_: "type" => or_default,
    value: "value" => or_default,
});
read_struct!(HTTPHeaderMatch {
    name: "name" => null_default,
    type_: "type" => or_default,
    value: "value" => null_default,
});
read_struct!(HTTPQueryParamMatch {
    name: "name" => null_default,
    type_: "type" => or_default,
    value: "value" => null_default,
});
read_struct!(HTTPBackendRef {
    group: "group" => or_default,
    kind: "kind" => or_default,
    name: "name" => null_default,
    namespace: "namespace" => or_default,
    port: "port" => or_default,
    weight: "weight" => or_default,
});
