//! The crate-wide error type and its one classification.

/// What kind of failure an [`Error`] is.
///
/// Every door maps this one to one: the C status code, the JS `Error.code`
/// string ([`ErrorKind::code`]) and the command line's message (exit 2).
///
/// ```
/// use svcroute::ErrorKind;
/// assert_eq!(ErrorKind::Parse.code(), "parse");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be read at all (bad syntax, wrong JSON/YAML type).
    Parse,
    /// The input was read but breaks a validation rule of the API.
    Invalid,
    /// The request clashes with the current state (an address already allocated).
    Conflict,
    /// The named object does not exist.
    NotFound,
    /// A limit was reached (a range is full, input too large).
    Limit,
    /// The input asks for something svcroute does not model.
    Unsupported,
}

impl ErrorKind {
    /// The stable short code of this kind (`parse`, `invalid`, `conflict`,
    /// `not-found`, `limit`, `unsupported`), used by the JS and CLI doors.
    ///
    /// ```
    /// assert_eq!(svcroute::ErrorKind::NotFound.code(), "not-found");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Limit => "limit",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Any error svcroute returns: one variant per layer.
///
/// ```
/// use svcroute::{Error, ErrorKind, labels::Selector};
/// let err: Error = "x in a".parse::<Selector>().unwrap_err().into();
/// assert_eq!(err.kind(), ErrorKind::Parse);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A label, selector or validation error.
    #[error(transparent)]
    Labels(#[from] crate::labels::LabelError),
    /// A manifest could not be loaded.
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    /// An allocation failed.
    #[error(transparent)]
    Ipam(#[from] crate::ipam::IpamError),
    /// A balancer could not be built or used.
    #[error(transparent)]
    Balance(#[from] crate::balance::BalanceError),
    /// A cluster call (apply, delete, configuration) was refused.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A DNS name, type or option was refused.
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    /// A routing question named something that does not exist.
    #[error(transparent)]
    Dataplane(#[from] crate::dataplane::RouteError),
}

impl Error {
    /// The classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Labels(e) => e.kind(),
            Error::Api(e) => e.kind(),
            Error::Ipam(e) => e.kind(),
            Error::Balance(e) => e.kind(),
            Error::Cluster(e) => e.kind(),
            Error::Dns(e) => e.kind(),
            Error::Dataplane(e) => e.kind(),
        }
    }
}
