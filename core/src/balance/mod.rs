//! (being written)

use crate::ErrorKind;

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// Placeholder.
    #[error("unsupported")]
    Unsupported,
}

impl BalanceError {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Unsupported
    }
}

mod rng;
pub use rng::Rng;
