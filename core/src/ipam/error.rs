//! The errors of the allocators.

use std::net::IpAddr;

use super::{IpNet, PortRange};
use crate::ErrorKind;

/// Why an allocation, a release or an allocator's configuration failed.
///
/// Every variant names the address, port or CIDR involved. [`IpamError::code`]
/// gives the conformance vocabulary (`not-in-range`, `already-allocated`,
/// `range-full`, `invalid`, `cidr-not-available`, `invalid-config`);
/// [`IpamError::kind`] the crate-wide classification.
///
/// ```
/// use svcroute::ipam::{ClusterIpAllocator, IpamError};
/// use svcroute::ErrorKind;
/// let mut a = ClusterIpAllocator::new("10.96.0.0/16".parse()?, 1)?;
/// a.allocate("10.96.0.10".parse()?)?;
/// let err = a.allocate("10.96.0.10".parse()?).unwrap_err();
/// assert_eq!(err.code(), "already-allocated");
/// assert_eq!(err.kind(), ErrorKind::Conflict);
/// assert!(matches!(err, IpamError::IpAlreadyAllocated { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpamError {
    /// A requested address is outside the usable part of the range
    /// (ALLOC-2, ALLOC-6), or of the other family.
    #[error("the provided IP ({ip}) is not in the valid range of {range}")]
    IpNotInRange {
        /// The requested address.
        ip: IpAddr,
        /// The range it had to be in.
        range: IpNet,
    },
    /// A requested address is already allocated (ALLOC-3, ALLOC-6).
    #[error("the provided IP ({ip}) is already allocated")]
    IpAlreadyAllocated {
        /// The requested address.
        ip: IpAddr,
    },
    /// No free address is left (ALLOC-5, ALLOC-6).
    #[error("range is full: no free IP address left in {range}")]
    IpRangeFull {
        /// The exhausted range.
        range: IpNet,
    },
    /// A requested port is outside the node-port range (ALLOC-10).
    #[error("provided port {port} is not in the valid range {range}")]
    PortNotInRange {
        /// The requested port.
        port: u16,
        /// The configured range.
        range: PortRange,
    },
    /// A requested port is already allocated (ALLOC-10).
    #[error("provided port {port} is already allocated")]
    PortAlreadyAllocated {
        /// The requested port.
        port: u16,
    },
    /// No free node port is left (ALLOC-9).
    #[error("range is full: no free port left in {range}")]
    PortRangeFull {
        /// The exhausted range.
        range: PortRange,
    },
    /// A pod CIDR lies outside the cluster CIDR it must come from, or there
    /// is no cluster CIDR at its position (ALLOC-18).
    #[error("CIDR {cidr} is out of the range of cluster CIDR {}", cluster.map_or_else(|| "(none configured at that position)".to_string(), |c| c.to_string()))]
    CidrNotInRange {
        /// The pod CIDR.
        cidr: IpNet,
        /// The cluster CIDR at the same position, if any.
        cluster: Option<IpNet>,
    },
    /// A pod CIDR overlaps a block already in use (by a node, if `owner`).
    #[error("CIDR {cidr} is already allocated{}", owner.as_ref().map_or_else(String::new, |o| format!(" to node {o:?}")))]
    CidrAlreadyAllocated {
        /// The pod CIDR.
        cidr: IpNet,
        /// The node holding an overlapping block, when known.
        owner: Option<String>,
    },
    /// No free node block is left in a cluster CIDR (ALLOC-18,
    /// `CIDRNotAvailable`).
    #[error("CIDR allocation failed; there are no remaining CIDRs left to allocate in {cluster}")]
    CidrNotAvailable {
        /// The exhausted cluster CIDR.
        cluster: IpNet,
    },
    /// The allocator would refuse to start with this configuration
    /// (ALLOC-1, ALLOC-18).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// An input could not be read or breaks a rule (a malformed CIDR,
    /// range or port, a family that is not configured).
    #[error("invalid value {input:?}: {reason}")]
    Invalid {
        /// The offending input, as text.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The error concerns entry `index` of a Service's ports (ALLOC-10):
    /// the field is `spec.ports[index].nodePort`.
    #[error("spec.ports[{index}].nodePort: {source}")]
    ServicePort {
        /// Position in the Service's port list.
        index: usize,
        /// What went wrong with it.
        source: Box<IpamError>,
    },
}

impl IpamError {
    pub(crate) fn invalid(input: impl Into<String>, reason: impl Into<String>) -> IpamError {
        IpamError::Invalid {
            input: input.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> IpamError {
        IpamError::InvalidConfig {
            reason: reason.into(),
        }
    }

    /// The conformance error vocabulary: `not-in-range`,
    /// `already-allocated`, `range-full`, `invalid`, `cidr-not-available` or
    /// `invalid-config`.
    ///
    /// ```
    /// use svcroute::ipam::NodePortAllocator;
    /// let mut a = NodePortAllocator::new("30000-32767".parse()?, 1);
    /// assert_eq!(a.allocate(29999).unwrap_err().code(), "not-in-range");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            IpamError::IpNotInRange { .. }
            | IpamError::PortNotInRange { .. }
            | IpamError::CidrNotInRange { .. } => "not-in-range",
            IpamError::IpAlreadyAllocated { .. }
            | IpamError::PortAlreadyAllocated { .. }
            | IpamError::CidrAlreadyAllocated { .. } => "already-allocated",
            IpamError::IpRangeFull { .. } | IpamError::PortRangeFull { .. } => "range-full",
            IpamError::CidrNotAvailable { .. } => "cidr-not-available",
            IpamError::InvalidConfig { .. } => "invalid-config",
            IpamError::Invalid { .. } => "invalid",
            IpamError::ServicePort { source, .. } => source.code(),
        }
    }

    /// The classification of this error: not-in-range, invalid and
    /// invalid-config are [`ErrorKind::Invalid`], already-allocated is
    /// [`ErrorKind::Conflict`], range-full and cidr-not-available are
    /// [`ErrorKind::Limit`].
    ///
    /// ```
    /// use svcroute::ipam::IpNet;
    /// use svcroute::ErrorKind;
    /// let err = "10.0.0.0/99".parse::<IpNet>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Invalid);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self.code() {
            "already-allocated" => ErrorKind::Conflict,
            "range-full" | "cidr-not-available" => ErrorKind::Limit,
            _ => ErrorKind::Invalid,
        }
    }

    /// For [`IpamError::ServicePort`], the index into the Service's ports.
    ///
    /// ```
    /// use svcroute::ipam::{NodePortAllocator, ServicePortRequest};
    /// let mut a = NodePortAllocator::new("30000-32767".parse()?, 1);
    /// let err = a
    ///     .allocate_service_ports(&[ServicePortRequest::new(80).with_node_port(1)], true)
    ///     .unwrap_err();
    /// assert_eq!(err.port_index(), Some(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn port_index(&self) -> Option<usize> {
        match self {
            IpamError::ServicePort { index, .. } => Some(*index),
            _ => None,
        }
    }
}
