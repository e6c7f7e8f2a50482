//! (being written)

use crate::ErrorKind;

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpamError {
    /// Placeholder.
    #[error("unsupported")]
    Unsupported,
}

impl IpamError {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Unsupported
    }
}
