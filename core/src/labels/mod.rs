//! (being written)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ErrorKind;

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// Placeholder.
    #[error("unsupported")]
    Unsupported,
}

impl LabelError {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Unsupported
    }
}

/// `metav1.LabelSelector` in its wire shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`: each entry is a `key=value` requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// `matchExpressions`: set-based requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// One entry of `matchExpressions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist` (kept as text so that a bad
    /// operator is a validation error, as on the API server).
    #[serde(default)]
    pub operator: String,
    /// The values; absent, `null` and `[]` are told apart only as `None`
    /// versus `Some(vec![])`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
