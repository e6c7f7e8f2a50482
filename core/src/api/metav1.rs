//! `meta/v1`: object metadata, shared by every kind, and small helpers for
//! closed vocabularies.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::decode::read_struct;

/// `metadata` of every object (`metav1.ObjectMeta`), the fields that matter
/// for networking.
///
/// `labels` and `annotations` take string values only: an unquoted YAML
/// `true`, `yes` or `12` is a boolean or a number to the API server and is
/// refused there, so it is refused here too (with the field path and a hint
/// to quote it). Timestamps are kept as the RFC 3339 text they were given.
///
/// ```
/// use svcroute::api::ObjectMeta;
///
/// let meta: ObjectMeta = serde_json::from_str(
///     r#"{"name": "web", "namespace": "shop", "labels": {"app": "web"},
///         "creationTimestamp": null}"#,
/// ).unwrap();
/// assert_eq!(meta.name.as_deref(), Some("web"));
/// assert_eq!(meta.labels["app"], "web");
/// assert_eq!(meta.creation_timestamp, None);
///
/// let err = serde_json::from_str::<ObjectMeta>(r#"{"labels": {"canary": true}}"#).unwrap_err();
/// assert!(err.to_string().contains("quote it"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `name`: unique within the namespace (or the cluster, for cluster-scoped kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `generateName`: prefix for a server-generated name when `name` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// `namespace`: absent for cluster-scoped kinds (and for namespaced
    /// objects that leave it to the caller, like `kubectl apply -n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `uid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `resourceVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `creationTimestamp` (RFC 3339); `null` reads as absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// `deletionTimestamp` (RFC 3339): set while the object is terminating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
    /// `labels` (string values only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `annotations` (string values only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `ownerReferences`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
}

/// One entry of `metadata.ownerReferences` (`metav1.OwnerReference`).
///
/// ```
/// let r: svcroute::api::OwnerReference = serde_json::from_str(
///     r#"{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "u1",
///         "controller": true}"#).unwrap();
/// assert_eq!(r.controller, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// `apiVersion` of the owner.
    pub api_version: String,
    /// `kind` of the owner.
    pub kind: String,
    /// `name` of the owner.
    pub name: String,
    /// `uid` of the owner.
    pub uid: String,
    /// `controller`: this owner is the managing controller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// `blockOwnerDeletion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// A value of a closed vocabulary (an enum of this module) was not one of
/// its words.
///
/// ```
/// use svcroute::api::ServiceType;
/// let err = "Cluster".parse::<ServiceType>().unwrap_err();
/// assert!(err.to_string().contains("ClusterIP"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {expected}")]
pub struct UnknownValue {
    /// What was being read (e.g. `Service type`).
    pub what: &'static str,
    /// The value that was given.
    pub value: String,
    /// The accepted values, comma-separated.
    pub expected: String,
}

/// Defines an enum for a closed API vocabulary: wire names exactly as in
/// Kubernetes, `as_str`, `Display`, `FromStr` and serde.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant ),+
        }

        impl $crate::api::decode::FromValue for $name {
            fn from_value(
                value: &::serde_json::Value,
            ) -> Result<Self, $crate::api::decode::DecodeError> {
                const NAMES: &[&str] = &[$($wire),+];
                $crate::api::decode::variant(value, NAMES).map(|i| $name::ALL[i])
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::api::decode::via_value(deserializer)
            }
        }

        impl $name {
            /// Every value, in the API's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::api::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::api::UnknownValue {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($wire),+].join(", "),
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// The status of a condition (`metav1.ConditionStatus`, `v1.ConditionStatus`).
    ///
    /// ```
    /// use svcroute::api::ConditionStatus;
    /// assert_eq!("True".parse::<ConditionStatus>().unwrap(), ConditionStatus::True);
    /// ```
    ConditionStatus ("condition status") {
        /// `True`.
        True = "True",
        /// `False`.
        False = "False",
        /// `Unknown`.
        Unknown = "Unknown",
    }
}

/// The `(apiVersion, kind)` pair of an object (`metav1.TypeMeta`), used to
/// report kinds that were skipped.
///
/// ```
/// use svcroute::api::TypeMeta;
/// let t = TypeMeta::new("rbac.authorization.k8s.io/v1", "ClusterRole");
/// assert_eq!(t.group(), "rbac.authorization.k8s.io");
/// assert_eq!(t.to_string(), "rbac.authorization.k8s.io/v1 ClusterRole");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    /// `apiVersion`: `v1`, `apps/v1`, ...
    pub api_version: String,
    /// `kind`: `Service`, `ConfigMap`, ...
    pub kind: String,
}

impl TypeMeta {
    /// A `TypeMeta` from its two parts.
    pub fn new(api_version: impl Into<String>, kind: impl Into<String>) -> Self {
        TypeMeta {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    /// The API group: the part of `apiVersion` before `/`, `""` for the core group.
    pub fn group(&self) -> &str {
        group_of(&self.api_version)
    }
}

/// The API group of an `apiVersion` (`""` for `v1`).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

impl fmt::Display for TypeMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)
    }
}

// How each type is read (see `decode`): wire names in sorted order.
read_struct!(ObjectMeta {
    annotations: "annotations" => strict_map,
    creation_timestamp: "creationTimestamp" => or_default,
    deletion_timestamp: "deletionTimestamp" => or_default,
    generate_name: "generateName" => or_default,
    labels: "labels" => strict_map,
    name: "name" => or_default,
    namespace: "namespace" => or_default,
    owner_references: "ownerReferences" => null_default,
    resource_version: "resourceVersion" => or_default,
    uid: "uid" => or_default,
});
read_struct!(OwnerReference {
    api_version: "apiVersion" => null_default,
    block_owner_deletion: "blockOwnerDeletion" => or_default,
    controller: "controller" => or_default,
    kind: "kind" => null_default,
    name: "name" => null_default,
    uid: "uid" => null_default,
});
read_struct!(TypeMeta {
    api_version: "apiVersion" => required,
    kind: "kind" => required,
});
