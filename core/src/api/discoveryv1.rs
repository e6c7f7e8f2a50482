//! `discovery.k8s.io/v1`: EndpointSlice.

use serde::Serialize;

use super::corev1::{ObjectReference, Protocol};
use super::decode::read_struct;
use super::metav1::{ObjectMeta, wire_enum};
use super::resource::impl_resource;
use super::wire::is_default;

wire_enum! {
    /// An EndpointSlice's `addressType` (`discoveryv1.AddressType`).
    AddressType ("address type") {
        /// `IPv4`.
        IPv4 = "IPv4",
        /// `IPv6`.
        IPv6 = "IPv6",
        /// `FQDN` (deprecated by the API; read, never produced).
        FQDN = "FQDN",
    }
}

/// A `discovery.k8s.io/v1` EndpointSlice.
///
/// The owning Service is named by the label `kubernetes.io/service-name`;
/// the controller that wrote it by `endpointslice.kubernetes.io/managed-by`.
///
/// ```
/// use svcroute::api::{AddressType, EndpointSlice};
///
/// let slice: EndpointSlice = serde_json::from_str(r#"{
///   "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
///   "metadata": {"name": "web-abc", "namespace": "shop",
///                "labels": {"kubernetes.io/service-name": "web"}},
///   "addressType": "IPv4",
///   "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true},
///                  "nodeName": "n1", "zone": "a", "hints": {"forZones": [{"name": "a"}]}}],
///   "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}"#).unwrap();
/// assert_eq!(slice.address_type, AddressType::IPv4);
/// assert_eq!(slice.service_name(), Some("web"));
/// let ep = &slice.endpoints[0];
/// assert_eq!(ep.conditions.ready, Some(true));
/// assert_eq!(ep.conditions.serving, None); // unset: consumers read it as serving
/// assert_eq!(slice.ports[0].port, Some(8080));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSlice {
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// `addressType` (required).
    pub address_type: AddressType,
    /// `endpoints`.
    pub endpoints: Vec<Endpoint>,
    /// `ports`; empty = no ports.
    pub ports: Vec<EndpointPort>,
}
impl_resource!(EndpointSlice, "discovery.k8s.io/v1", "EndpointSlice", namespaced: true,
    always: [address_type => "addressType", endpoints => "endpoints"],
    omit_default: [ports => "ports"]);

impl EndpointSlice {
    /// The label naming the Service a slice belongs to.
    pub const SERVICE_NAME_LABEL: &'static str = "kubernetes.io/service-name";
    /// The label naming the controller that manages a slice.
    pub const MANAGED_BY_LABEL: &'static str = "endpointslice.kubernetes.io/managed-by";

    /// The Service this slice belongs to (label `kubernetes.io/service-name`).
    pub fn service_name(&self) -> Option<&str> {
        self.metadata
            .labels
            .get(Self::SERVICE_NAME_LABEL)
            .map(String::as_str)
    }
}

/// One endpoint of a slice (`discoveryv1.Endpoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// `addresses`.
    pub addresses: Vec<String>,
    /// `conditions`.
    #[serde(skip_serializing_if = "is_default")]
    pub conditions: EndpointConditions,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `targetRef`: usually the Pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<ObjectReference>,
    /// `nodeName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `zone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// `hints`: topology-aware routing hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hints: Option<EndpointHints>,
}

/// `conditions` of an endpoint (`discoveryv1.EndpointConditions`). Each is
/// unset (`None`) when absent: consumers read `ready` and `serving` unset as
/// true and `terminating` unset as false.
///
/// ```
/// use svcroute::api::EndpointConditions;
/// let c: EndpointConditions = serde_json::from_str(r#"{"serving": true, "terminating": true}"#).unwrap();
/// assert_eq!((c.ready, c.serving, c.terminating), (None, Some(true), Some(true)));
/// assert!(c.is_ready() && c.is_serving() && c.is_terminating());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct EndpointConditions {
    /// `ready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// `serving`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serving: Option<bool>,
    /// `terminating`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminating: Option<bool>,
}

impl EndpointConditions {
    /// `ready`, unset read as true.
    pub fn is_ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }

    /// `serving`, unset read as true.
    pub fn is_serving(&self) -> bool {
        self.serving.unwrap_or(true)
    }

    /// `terminating`, unset read as false.
    pub fn is_terminating(&self) -> bool {
        self.terminating.unwrap_or(false)
    }
}

/// `hints` of an endpoint (`discoveryv1.EndpointHints`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointHints {
    /// `forZones`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub for_zones: Vec<ForZone>,
    /// `forNodes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub for_nodes: Vec<ForNode>,
}

/// A zone hint (`discoveryv1.ForZone`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForZone {
    /// `name`.
    pub name: String,
}

/// A node hint (`discoveryv1.ForNode`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForNode {
    /// `name`.
    pub name: String,
}

/// A port of a slice (`discoveryv1.EndpointPort`; every field optional, unlike
/// the `v1` Endpoints [`crate::api::corev1::EndpointPort`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    /// `name`; absent = `""`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `protocol`; absent = `TCP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// `port`; absent = all ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// `appProtocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(direct EndpointSlice {
    address_type: "addressType" => required,
    endpoints: "endpoints" => null_default,
    metadata: "metadata" => null_default,
    ports: "ports" => null_default,
});
read_struct!(Endpoint {
    addresses: "addresses" => null_default,
    conditions: "conditions" => null_default,
    hints: "hints" => or_default,
    hostname: "hostname" => or_default,
    node_name: "nodeName" => or_default,
    target_ref: "targetRef" => or_default,
    zone: "zone" => or_default,
});
read_struct!(EndpointConditions {
    ready: "ready" => or_default,
    serving: "serving" => or_default,
    terminating: "terminating" => or_default,
});
read_struct!(EndpointHints {
    for_nodes: "forNodes" => null_default,
    for_zones: "forZones" => null_default,
});
read_struct!(ForZone {
    name: "name" => null_default,
});
read_struct!(ForNode {
    name: "name" => null_default,
});
read_struct!(EndpointPort {
    app_protocol: "appProtocol" => or_default,
    name: "name" => or_default,
    port: "port" => or_default,
    protocol: "protocol" => or_default,
});
