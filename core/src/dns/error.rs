//! The errors of the DNS layer.

use crate::ErrorKind;

/// Why a DNS call was refused.
///
/// ```
/// use svcroute::dns::{DnsConfig, DnsError};
/// let bad = DnsConfig { ttl: 4000, ..DnsConfig::default() };
/// let err = bad.validate().unwrap_err();
/// assert!(matches!(err, DnsError::InvalidConfig { .. }));
/// assert_eq!(err.kind(), svcroute::ErrorKind::Invalid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// A domain name that is not a legal DNS name (empty label, label over
    /// 63 octets, name over 255 octets).
    #[error("invalid domain name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A record type mnemonic svcroute does not know.
    #[error("unknown record type {0:?}")]
    UnknownType(String),
    /// A DNS message that cannot be read (RFC 1035 format error).
    #[error("malformed DNS message at byte {offset}: {reason}")]
    Malformed {
        /// Where reading stopped.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A message that does not fit the wire format (a name or record too
    /// long, more than 65535 records or bytes).
    #[error("cannot encode DNS message: {0}")]
    Encode(&'static str),
    /// A configuration value out of range.
    #[error("invalid DNS configuration: {field}: {message}")]
    InvalidConfig {
        /// The option.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl DnsError {
    /// The crate-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DnsError::InvalidName { .. }
            | DnsError::UnknownType(_)
            | DnsError::Malformed { .. } => ErrorKind::Parse,
            DnsError::Encode(_) => ErrorKind::Limit,
            DnsError::InvalidConfig { .. } => ErrorKind::Invalid,
        }
    }
}
