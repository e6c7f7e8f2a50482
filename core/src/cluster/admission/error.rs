//! The error of admission: validation failures with their field paths, and
//! allocation failures.

use std::fmt;

use crate::ErrorKind;
use crate::ipam::IpamError;

/// How one field broke a rule, in the API server's words (the `reason` of a
/// `field.Error`).
///
/// ```
/// use svcroute::cluster::admission::FieldReason;
/// assert_eq!(FieldReason::Duplicate.as_str(), "FieldValueDuplicate");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldReason {
    /// A required field is missing (`Required value`).
    Required,
    /// The value breaks a rule (`Invalid value`).
    Invalid,
    /// The field may not be set here (`Forbidden`).
    Forbidden,
    /// The value repeats an earlier one (`Duplicate value`).
    Duplicate,
    /// The value is not one of the supported words (`Unsupported value`).
    NotSupported,
}

impl FieldReason {
    /// The `reason` string of the API's `StatusCause` (`FieldValueRequired`,
    /// `FieldValueInvalid`, `FieldValueForbidden`, `FieldValueDuplicate`,
    /// `FieldValueNotSupported`).
    ///
    /// ```
    /// use svcroute::cluster::admission::FieldReason;
    /// assert_eq!(FieldReason::Required.as_str(), "FieldValueRequired");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FieldReason::Required => "FieldValueRequired",
            FieldReason::Invalid => "FieldValueInvalid",
            FieldReason::Forbidden => "FieldValueForbidden",
            FieldReason::Duplicate => "FieldValueDuplicate",
            FieldReason::NotSupported => "FieldValueNotSupported",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FieldReason::Required => "Required value",
            FieldReason::Invalid => "Invalid value",
            FieldReason::Forbidden => "Forbidden",
            FieldReason::Duplicate => "Duplicate value",
            FieldReason::NotSupported => "Unsupported value",
        }
    }
}

/// One validation failure: the field path (`spec.ports[1].nodePort`), why,
/// and the detail, as the API server reports it.
///
/// ```
/// use svcroute::cluster::admission::{FieldError, FieldReason};
/// let e = FieldError::new("spec.ports[0].port", FieldReason::Invalid, "0: must be between 1 and 65535, inclusive");
/// assert_eq!(e.to_string(), "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    /// The field path, e.g. `spec.clusterIPs[0]`.
    pub field: String,
    /// The kind of failure.
    pub reason: FieldReason,
    /// What is wrong (with the offending value first, where there is one).
    pub detail: String,
}

impl FieldError {
    /// A field error.
    ///
    /// ```
    /// use svcroute::cluster::admission::{FieldError, FieldReason};
    /// let e = FieldError::new("spec.ports", FieldReason::Required, "");
    /// assert_eq!(e.to_string(), "spec.ports: Required value");
    /// ```
    pub fn new(
        field: impl Into<String>,
        reason: FieldReason,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason.label())?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Why a Service or Node was not admitted.
///
/// [`AdmissionError::code`] is the conformance vocabulary (`invalid`,
/// `not-in-range`, `already-allocated`, `range-full`, `cidr-not-available`,
/// `invalid-config`), [`AdmissionError::field`] the field path at fault
/// (`spec.clusterIPs[0]`, `spec.ports[1].nodePort`; none for a full
/// range, which the API server reports as an internal error without a
/// field), and [`AdmissionError::kind`] the crate-wide classification.
///
/// ```
/// use svcroute::cluster::admission::{AdmissionError, ServiceAdmission, ServiceAdmissionConfig};
/// use svcroute::ErrorKind;
/// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
/// let svc = serde_json::from_str(r#"{"metadata": {"name": "a"},
///     "spec": {"ports": [{"port": 80, "nodePort": 30030}]}}"#)?;
/// let err = admission.create(svc).unwrap_err();
/// assert_eq!(err.code(), "invalid");
/// assert_eq!(err.field(), Some("spec.ports[0].nodePort"));
/// assert_eq!(err.kind(), ErrorKind::Invalid);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// API validation failed (422 `Invalid`); every failure is listed, in
    /// the API server's order.
    #[error("{kind} {name:?} is invalid: {}", join(errors))]
    Invalid {
        /// `Service` or `Node`.
        kind: &'static str,
        /// The object's name (may be empty).
        name: String,
        /// The failures, never empty.
        errors: Vec<FieldError>,
    },
    /// An allocation failed: a requested address or port is out of range or
    /// taken, a range is full, or a node gets no pod CIDR.
    #[error("{}{source}", field.as_ref().map_or_else(String::new, |f| format!("{f}: ")))]
    Allocation {
        /// The field of the request (`spec.clusterIPs[0]`,
        /// `spec.ports[1].nodePort`, `spec.healthCheckNodePort`), when there
        /// is one.
        field: Option<String>,
        /// The allocator's error.
        source: IpamError,
    },
    /// A requested node port (or health-check node port) is not even a
    /// port number, so it cannot be in the node-port range.
    #[error("{field}: provided port {port} is not in the valid range {range}")]
    PortNotInRange {
        /// `spec.ports[i].nodePort` or `spec.healthCheckNodePort`.
        field: String,
        /// The requested value.
        port: i64,
        /// The node-port range.
        range: crate::ipam::PortRange,
    },
    /// The allocators could not be set up with this configuration (the
    /// API server or the node IPAM controller would refuse to start).
    #[error("invalid configuration: {source}")]
    Config {
        /// What the allocator refused.
        source: IpamError,
    },
}

fn join(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    match parts.len() {
        1 => parts.concat(),
        _ => format!("[{}]", parts.join(", ")),
    }
}

impl AdmissionError {
    pub(crate) fn invalid(kind: &'static str, name: &str, errors: Vec<FieldError>) -> Self {
        AdmissionError::Invalid {
            kind,
            name: name.to_string(),
            errors,
        }
    }

    pub(crate) fn allocation(field: Option<String>, source: IpamError) -> Self {
        AdmissionError::Allocation { field, source }
    }

    /// The conformance error vocabulary: `invalid` for validation,
    /// otherwise the allocator's code (`not-in-range`, `already-allocated`,
    /// `range-full`, `cidr-not-available`, `invalid` for a family the
    /// cluster does not have), and `invalid-config` for a configuration
    /// the component refuses.
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "a"},
    ///     "spec": {"clusterIP": "10.97.0.5", "ports": [{"port": 80}]}}"#)?;
    /// assert_eq!(admission.create(svc).unwrap_err().code(), "not-in-range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::Invalid { .. } => "invalid",
            AdmissionError::Allocation { source, .. } => source.code(),
            AdmissionError::PortNotInRange { .. } => "not-in-range",
            AdmissionError::Config { .. } => "invalid-config",
        }
    }

    /// The field path at fault: the first validation failure's, or the
    /// field whose allocation failed; `None` for a full range and for
    /// configuration errors.
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "a"},
    ///     "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 29999}]}}"#)?;
    /// assert_eq!(admission.create(svc).unwrap_err().field(), Some("spec.ports[0].nodePort"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn field(&self) -> Option<&str> {
        match self {
            AdmissionError::Invalid { errors, .. } => errors.first().map(|e| e.field.as_str()),
            AdmissionError::Allocation { field, source } => match source.code() {
                "range-full" => None,
                _ => field.as_deref(),
            },
            AdmissionError::PortNotInRange { field, .. } => Some(field),
            AdmissionError::Config { .. } => None,
        }
    }

    /// Every validation failure (empty for allocation and configuration
    /// errors).
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "A"}, "spec": {}}"#)?;
    /// let err = admission.create(svc).unwrap_err();
    /// let fields: Vec<&str> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
    /// assert_eq!(fields, ["metadata.name", "spec.ports"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AdmissionError::Invalid { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The classification: validation and configuration errors are
    /// [`ErrorKind::Invalid`]; allocation errors classify as the
    /// allocator's ([`ErrorKind::Conflict`] for already-allocated,
    /// [`ErrorKind::Limit`] for a full range, [`ErrorKind::Invalid`] for
    /// not-in-range).
    ///
    /// ```
    /// use svcroute::cluster::admission::{ServiceAdmission, ServiceAdmissionConfig};
    /// use svcroute::ErrorKind;
    /// let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig::default())?;
    /// admission.reserve_kubernetes_service_ip()?;
    /// let svc = serde_json::from_str(r#"{"metadata": {"name": "a"},
    ///     "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}}"#)?;
    /// assert_eq!(admission.create(svc).unwrap_err().kind(), ErrorKind::Conflict);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            AdmissionError::Invalid { .. }
            | AdmissionError::PortNotInRange { .. }
            | AdmissionError::Config { .. } => ErrorKind::Invalid,
            AdmissionError::Allocation { source, .. } => source.kind(),
        }
    }
}
