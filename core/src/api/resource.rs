//! The [`Resource`] trait: what every top-level kind has in common.

use super::metav1::ObjectMeta;

/// A top-level Kubernetes kind: its `apiVersion`, `kind`, scope and
/// `metadata`.
///
/// Every kind type serializes with its `apiVersion` and `kind` first, in the
/// shape the API server stores, omitting absent fields.
///
/// ```
/// use svcroute::api::{Resource, Service};
///
/// let svc: Service = serde_json::from_str(r#"{"metadata": {"name": "web"}}"#).unwrap();
/// assert_eq!((Service::API_VERSION, Service::KIND), ("v1", "Service"));
/// assert_eq!(svc.metadata().name.as_deref(), Some("web"));
/// assert_eq!(
///     serde_json::to_string(&svc).unwrap(),
///     r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}}"#
/// );
/// ```
pub trait Resource {
    /// `apiVersion`, e.g. `v1` or `apps/v1`.
    const API_VERSION: &'static str;
    /// `kind`, e.g. `Service`.
    const KIND: &'static str;
    /// Whether objects of this kind live in a namespace.
    const NAMESPACED: bool;

    /// The object's `metadata`.
    fn metadata(&self) -> &ObjectMeta;

    /// The object's `metadata`, mutable.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
}

/// Implements [`Resource`] and a `Serialize` that writes `apiVersion`,
/// `kind`, `metadata`, then the listed fields (those in `omit_default` only
/// when they differ from their default).
macro_rules! impl_resource {
    (
        $ty:ident, $api:literal, $kind:literal, namespaced: $ns:literal,
        always: [$($afield:ident => $awire:literal),* $(,)?],
        omit_default: [$($field:ident => $wire:literal),* $(,)?]
    ) => {
        impl $crate::api::Resource for $ty {
            const API_VERSION: &'static str = $api;
            const KIND: &'static str = $kind;
            const NAMESPACED: bool = $ns;

            fn metadata(&self) -> &$crate::api::ObjectMeta {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut $crate::api::ObjectMeta {
                &mut self.metadata
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let fields = 3 $(+ { let _ = stringify!($afield); 1 })* $(+ { let _ = stringify!($field); 1 })*;
                let mut st = serializer.serialize_struct($kind, fields)?;
                $crate::api::resource::serialize_head(&mut st, $api, $kind, &self.metadata)?;
                $( st.serialize_field($awire, &self.$afield)?; )*
                $(
                    if $crate::api::wire::is_default(&self.$field) {
                        st.skip_field($wire)?;
                    } else {
                        st.serialize_field($wire, &self.$field)?;
                    }
                )*
                st.end()
            }
        }
    };
}
pub(crate) use impl_resource;

/// The first three fields of every kind (`apiVersion`, `kind`,
/// `metadata`), written by one function for all kinds rather than by each
/// kind's `Serialize` (one copy per serializer instead of one per kind).
#[inline(never)]
pub(crate) fn serialize_head<S: serde::ser::SerializeStruct>(
    st: &mut S,
    api_version: &'static str,
    kind: &'static str,
    metadata: &ObjectMeta,
) -> Result<(), S::Error> {
    st.serialize_field("apiVersion", api_version)?;
    st.serialize_field("kind", kind)?;
    st.serialize_field("metadata", metadata)
}
