//! (being written)

use crate::ErrorKind;

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Placeholder.
    #[error("unsupported")]
    Unsupported,
}

impl ApiError {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Unsupported
    }
}
