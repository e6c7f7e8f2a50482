//! [`Object`]: one value of any modelled kind; [`Kind`]; watch events.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::appsv1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use super::corev1::{Endpoints, Namespace, Node, Pod, Service};
use super::decode::read_struct;
use super::discoveryv1::EndpointSlice;
use super::gatewayv1::{Gateway, HTTPRoute};
use super::metav1::{ObjectMeta, group_of};
use super::networkingv1::{Ingress, IngressClass};
use super::resource::Resource;

macro_rules! kinds {
    ($( $(#[$doc:meta])* $kind:ident ),+ $(,)?) => {
        /// The kinds svcroute models. Everything else is skipped when
        /// loading (and counted; see [`crate::api::Loaded::skipped`]).
        ///
        /// ```
        /// use svcroute::api::Kind;
        /// assert_eq!(Kind::from_type("discovery.k8s.io/v1", "EndpointSlice"), Some(Kind::EndpointSlice));
        /// assert_eq!(Kind::from_type("v1", "ConfigMap"), None);
        /// assert_eq!(Kind::Ingress.api_version(), "networking.k8s.io/v1");
        /// assert!(!Kind::Node.is_namespaced());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Kind {
            $( $(#[$doc])* $kind ),+
        }

        impl Kind {
            /// Every modelled kind.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),+];

            /// The `kind` string.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$kind => <$kind as Resource>::KIND),+ }
            }

            /// The `apiVersion` objects of this kind are written with.
            pub fn api_version(self) -> &'static str {
                match self { $(Kind::$kind => <$kind as Resource>::API_VERSION),+ }
            }

            /// Whether objects of this kind live in a namespace.
            pub fn is_namespaced(self) -> bool {
                match self { $(Kind::$kind => <$kind as Resource>::NAMESPACED),+ }
            }
        }

        /// One object of a modelled kind.
        ///
        /// Serializes as the object itself (with its `apiVersion` and
        /// `kind`); deserializing dispatches on `apiVersion` and `kind` and
        /// refuses kinds that are not modelled (the loader skips those
        /// instead, see [`crate::api::load`]).
        ///
        /// ```
        /// use svcroute::api::{Kind, Object};
        ///
        /// let obj: Object = serde_json::from_str(
        ///     r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}}"#,
        /// ).unwrap();
        /// assert_eq!(obj.kind(), Kind::Pod);
        /// assert_eq!((obj.namespace(), obj.name()), (Some("shop"), Some("p")));
        /// assert!(matches!(obj, Object::Pod(_)));
        /// assert!(serde_json::from_str::<Object>(r#"{"apiVersion": "v1", "kind": "Secret"}"#).is_err());
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        pub enum Object {
            $( $(#[$doc])* $kind($kind) ),+
        }

        impl Object {
            /// The kind of this object.
            pub fn kind(&self) -> Kind {
                match self { $(Object::$kind(_) => Kind::$kind),+ }
            }

            /// The object's `metadata`.
            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(Object::$kind(o) => &o.metadata),+ }
            }

            /// The object's `metadata`, mutable.
            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Object::$kind(o) => &mut o.metadata),+ }
            }
        }

        impl Serialize for Object {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self { $(Object::$kind(o) => o.serialize(serializer)),+ }
            }
        }

        $(
            impl From<$kind> for Object {
                fn from(object: $kind) -> Self {
                    Object::$kind(object)
                }
            }
        )+

        /// Reads the typed object of `kind` from `value`.
        pub(crate) fn decode_kind(
            kind: Kind,
            value: &serde_json::Value,
        ) -> Result<Object, super::decode::DecodeError> {
            use super::decode::FromValue;
            match kind { $(Kind::$kind => $kind::from_value(value).map(Object::$kind)),+ }
        }
    };
}

kinds! {
    /// `v1` Namespace.
    Namespace,
    /// `v1` Node.
    Node,
    /// `v1` Pod.
    Pod,
    /// `v1` Service.
    Service,
    /// `v1` Endpoints.
    Endpoints,
    /// `discovery.k8s.io/v1` EndpointSlice.
    EndpointSlice,
    /// `networking.k8s.io/v1` Ingress.
    Ingress,
    /// `networking.k8s.io/v1` IngressClass.
    IngressClass,
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `gateway.networking.k8s.io/v1` Gateway.
    Gateway,
    /// `gateway.networking.k8s.io/v1` HTTPRoute.
    HTTPRoute,
}

/// What an `(apiVersion, kind)` pair is to svcroute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modelled {
    /// A modelled kind in a version we read.
    Yes(Kind),
    /// A modelled kind in a version we do not read.
    OtherVersion(Kind),
    /// Not modelled: skipped.
    No,
}

impl Kind {
    /// The API group (`""` for the core group).
    pub fn group(self) -> &'static str {
        group_of(self.api_version())
    }

    /// The modelled kind of an `(apiVersion, kind)` pair, if it is one
    /// svcroute reads. `gateway.networking.k8s.io/v1beta1` is read as `v1`
    /// (the fields svcroute uses are the same).
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        match classify(api_version, kind) {
            Modelled::Yes(k) => Some(k),
            _ => None,
        }
    }
}

pub(crate) fn classify(api_version: &str, kind: &str) -> Modelled {
    let group = group_of(api_version);
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    let Some(k) = Kind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == kind && k.group() == group)
    else {
        return Modelled::No;
    };
    let reads = version == "v1" || (group == "gateway.networking.k8s.io" && version == "v1beta1");
    if reads {
        Modelled::Yes(k)
    } else {
        Modelled::OtherVersion(k)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of an object in a store: kind, namespace (`None` for
/// cluster-scoped kinds) and name.
///
/// ```
/// use svcroute::api::{Kind, Object, ObjectKey};
/// let obj: Object = serde_json::from_str(
///     r#"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}"#).unwrap();
/// assert_eq!(obj.key(), ObjectKey { kind: Kind::Node, namespace: None, name: "n1".into() });
/// assert_eq!(obj.key().to_string(), "Node n1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The kind.
    pub kind: Kind,
    /// `metadata.namespace` (`None` when absent).
    pub namespace: Option<String>,
    /// `metadata.name` (`""` when absent).
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl Object {
    /// The `apiVersion` the object is written with.
    pub fn api_version(&self) -> &'static str {
        self.kind().api_version()
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.metadata().name.as_deref()
    }

    /// The store identity `(kind, namespace, name)`.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.kind(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().unwrap_or_default().to_owned(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Object {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        match classify(api_version, kind) {
            Modelled::Yes(k) => decode_kind(k, &value).map_err(|e| D::Error::custom(e.error)),
            Modelled::OtherVersion(k) => Err(D::Error::custom(format_args!(
                "{kind} {api_version} is not supported; svcroute reads {}",
                k.api_version()
            ))),
            Modelled::No => Err(D::Error::custom(format_args!(
                "`{api_version}` `{kind}` is not a kind svcroute models"
            ))),
        }
    }
}

/// The `type` of a watch event.
///
/// ```
/// use svcroute::api::WatchEventType;
/// assert_eq!(WatchEventType::Bookmark.as_str(), "BOOKMARK");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchEventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
    /// `BOOKMARK`.
    Bookmark,
    /// `ERROR`.
    Error,
}

impl WatchEventType {
    /// The wire spelling (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
            WatchEventType::Bookmark => "BOOKMARK",
            WatchEventType::Error => "ERROR",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ADDED" => WatchEventType::Added,
            "MODIFIED" => WatchEventType::Modified,
            "DELETED" => WatchEventType::Deleted,
            "BOOKMARK" => WatchEventType::Bookmark,
            "ERROR" => WatchEventType::Error,
            _ => return None,
        })
    }
}

/// One event of a watch stream (`{"type": "ADDED", "object": {...}}`).
///
/// ```
/// use svcroute::api::{self, Kind, WatchEvent};
///
/// let loaded = api::load_json(concat!(
///     r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}}"#, "\n",
///     r#"{"type": "BOOKMARK", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"resourceVersion": "42"}}}"#,
/// )).unwrap();
/// assert!(matches!(&loaded.events[0].value, WatchEvent::Added(o) if o.kind() == Kind::Pod));
/// assert!(matches!(&loaded.events[1].value, WatchEvent::Bookmark(b) if b.metadata.resource_version.as_deref() == Some("42")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// `ADDED`: the object was created (or listed at the start of a watch).
    Added(Object),
    /// `MODIFIED`: the object's new state.
    Modified(Object),
    /// `DELETED`: the object's last state.
    Deleted(Object),
    /// `BOOKMARK`: only a resource version.
    Bookmark(Bookmark),
    /// `ERROR`: the server ended the watch with a `Status`.
    Error(Status),
}

impl WatchEvent {
    /// The event's `type`.
    pub fn event_type(&self) -> WatchEventType {
        match self {
            WatchEvent::Added(_) => WatchEventType::Added,
            WatchEvent::Modified(_) => WatchEventType::Modified,
            WatchEvent::Deleted(_) => WatchEventType::Deleted,
            WatchEvent::Bookmark(_) => WatchEventType::Bookmark,
            WatchEvent::Error(_) => WatchEventType::Error,
        }
    }

    /// The object of an `ADDED`, `MODIFIED` or `DELETED` event.
    pub fn object(&self) -> Option<&Object> {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => Some(o),
            _ => None,
        }
    }
}

impl Serialize for WatchEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("WatchEvent", 2)?;
        st.serialize_field("type", self.event_type().as_str())?;
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                st.serialize_field("object", o)?
            }
            WatchEvent::Bookmark(b) => st.serialize_field("object", b)?,
            WatchEvent::Error(s) => st.serialize_field("object", s)?,
        }
        st.end()
    }
}

/// The object of a `BOOKMARK` event: the kind being watched and, in
/// `metadata`, a `resourceVersion` (and the annotation
/// `k8s.io/initial-events-end`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bookmark {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata`.
    pub metadata: ObjectMeta,
}

/// A `meta/v1` Status: the object of an `ERROR` watch event.
///
/// ```
/// let s: svcroute::api::Status = serde_json::from_str(
///     r#"{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
///         "message": "too old resource version"}"#).unwrap();
/// assert_eq!(s.code, Some(410));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// `status`: `Success` or `Failure`.
    pub status: Option<String>,
    /// `message`.
    pub message: Option<String>,
    /// `reason`, e.g. `Expired`.
    pub reason: Option<String>,
    /// `code`: an HTTP status code.
    pub code: Option<i32>,
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("Status", 6)?;
        st.serialize_field("apiVersion", "v1")?;
        st.serialize_field("kind", "Status")?;
        for (key, value) in [
            ("status", &self.status),
            ("message", &self.message),
            ("reason", &self.reason),
        ] {
            match value {
                Some(v) => st.serialize_field(key, v)?,
                None => st.skip_field(key)?,
            }
        }
        match self.code {
            Some(c) => st.serialize_field("code", &c)?,
            None => st.skip_field("code")?,
        }
        st.end()
    }
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(Bookmark {
    api_version: "apiVersion" => null_default,
    kind: "kind" => null_default,
    metadata: "metadata" => null_default,
});
read_struct!(Status {
    code: "code" => or_default,
    message: "message" => or_default,
    reason: "reason" => or_default,
    status: "status" => or_default,
});
