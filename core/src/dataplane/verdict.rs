//! The trace-free answer: a borrowed question ([`Flow`]) and a borrowed
//! answer ([`Verdict`]), so that [`Dataplane::decide`](super::Dataplane::decide)
//! allocates nothing.

use std::net::{IpAddr, SocketAddr};

use super::{Destination, Masquerade, Outcome, PacketFate, Protocol, Request, Source};

/// Where a connection starts, borrowed (the [`Source`] of a [`Flow`]).
///
/// ```
/// use svcroute::dataplane::{Source, SourceRef};
/// let s = Source::Node("n1".into());
/// assert_eq!(s.as_ref(), SourceRef::Node("n1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceRef<'a> {
    /// A process in the pod `namespace/name`.
    Pod {
        /// The pod's namespace.
        namespace: &'a str,
        /// The pod's name.
        name: &'a str,
    },
    /// A host-network process on this node.
    Node(&'a str),
    /// An off-cluster client (or any packet from `ip`) entering at
    /// `arrives_at` (`None`: through the destination's own front door, D16).
    External {
        /// The client's address.
        ip: IpAddr,
        /// The node whose kube-proxy sees the packet first.
        arrives_at: Option<&'a str>,
    },
}

impl Source {
    /// This source, borrowed.
    ///
    /// ```
    /// use svcroute::dataplane::{Source, SourceRef};
    /// let s = Source::Pod { namespace: "shop".into(), name: "web-1".into() };
    /// assert_eq!(s.as_ref(), SourceRef::Pod { namespace: "shop", name: "web-1" });
    /// ```
    pub fn as_ref(&self) -> SourceRef<'_> {
        match self {
            Source::Pod { namespace, name } => SourceRef::Pod { namespace, name },
            Source::Node(n) => SourceRef::Node(n),
            Source::External { ip, arrives_at } => SourceRef::External {
                ip: *ip,
                arrives_at: arrives_at.as_deref(),
            },
        }
    }
}

/// A connection to an address and port: the question of
/// [`Dataplane::decide`](super::Dataplane::decide).
///
/// ```
/// use svcroute::dataplane::{Flow, Protocol, SourceRef};
/// let f = Flow {
///     source: SourceRef::External { ip: "10.244.1.9".parse().unwrap(), arrives_at: Some("n1") },
///     destination: "10.96.0.20:80".parse().unwrap(),
///     protocol: Protocol::Tcp,
/// };
/// assert_eq!(f.destination.port(), 80);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow<'a> {
    /// Where it starts.
    pub source: SourceRef<'a>,
    /// The address and port dialled.
    pub destination: SocketAddr,
    /// The protocol.
    pub protocol: Protocol,
}

impl Request {
    /// The request as a [`Flow`], when its destination is an address
    /// (`None` for names, Ingress and Gateway requests).
    ///
    /// ```
    /// use svcroute::dataplane::{Destination, Protocol, Request, Source};
    /// let r = Request { source: Source::Node("n1".into()),
    ///     destination: Destination::Ip("10.96.0.1:443".parse().unwrap()), protocol: Protocol::Tcp };
    /// assert_eq!(r.flow().unwrap().destination.port(), 443);
    /// ```
    pub fn flow(&self) -> Option<Flow<'_>> {
        match &self.destination {
            Destination::Ip(a) => Some(Flow {
                source: self.source.as_ref(),
                destination: *a,
                protocol: self.protocol,
            }),
            _ => None,
        }
    }
}

/// A Service, borrowed from the dataplane.
///
/// ```
/// let s = svcroute::dataplane::ServiceRef { namespace: "shop", name: "web" };
/// assert_eq!(s.to_string(), "shop/web");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceRef<'a> {
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
}

impl std::fmt::Display for ServiceRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What kube-proxy does with one [`Flow`], without a trace: the answer of
/// [`Dataplane::decide`](super::Dataplane::decide). It is exactly the
/// decision [`Dataplane::route`](super::Dataplane::route) reports for the
/// same request (both run one decision function), borrowed from the
/// dataplane.
///
/// ```
/// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
/// use svcroute::dataplane::*;
/// let c = Cluster::new(ClusterConfig::default())?; // default/kubernetes, no endpoints
/// let dp = Dataplane::compile(&c, ProxyMode::Iptables);
/// let v = dp.decide(&Flow {
///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
///     destination: "10.96.0.1:443".parse().unwrap(),
///     protocol: Protocol::Tcp,
/// }, &mut RouteState::new(0), Millis(0))?;
/// assert_eq!((v.outcome, v.packet_fate), (Outcome::Reject, Some(PacketFate::Reject)));
/// assert_eq!(v.service.unwrap().to_string(), "default/kubernetes");
/// assert!(!v.masquerades());
/// # Ok::<(), svcroute::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The outcome.
    pub outcome: Outcome,
    /// For results without delivery: what happens to the packet.
    pub packet_fate: Option<PacketFate>,
    /// The endpoint picked (forward).
    pub chosen: Option<SocketAddr>,
    /// The eligible endpoints (sorted by `ip:port` string) the pick was
    /// made from; empty unless forwarded.
    pub eligible: &'a [SocketAddr],
    /// The masquerade rule (KP-20) for forwarded traffic.
    pub masquerade: Option<Masquerade>,
    /// The source address as kube-proxy sees it (a pod's or node's
    /// address of the destination's family, or the external client's).
    pub source_ip: IpAddr,
    /// The node whose kube-proxy decided (`None`: no node).
    pub node: Option<&'a str>,
    /// The Service that handled the connection.
    pub service: Option<ServiceRef<'a>>,
    /// The HTTP status of a health-check NodePort answer (KP-10), else 0.
    pub http_status: u16,
    /// For a health-check answer: how many local ready endpoints it counted.
    pub local_endpoints: usize,
}

impl Verdict<'_> {
    pub(crate) fn new(outcome: Outcome, source_ip: IpAddr) -> Self {
        Verdict {
            outcome,
            packet_fate: None,
            chosen: None,
            eligible: &[],
            masquerade: None,
            source_ip,
            node: None,
            service: None,
            http_status: 0,
            local_endpoints: 0,
        }
    }

    #[inline]
    pub(crate) fn finish(&mut self, outcome: Outcome, fate: Option<PacketFate>) {
        self.outcome = outcome;
        self.packet_fate = fate;
    }

    /// Whether the connection to [`chosen`](Self::chosen) is masqueraded
    /// (KP-20): always, or only when the source picked itself (hairpin).
    /// False when nothing was picked.
    ///
    /// ```
    /// use svcroute::dataplane::{Masquerade, Outcome, Verdict};
    /// # let dp = svcroute::dataplane::Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let mut v = dp.decide(&svcroute::dataplane::Flow { source: svcroute::dataplane::SourceRef::External { ip: "10.244.0.5".parse().unwrap(), arrives_at: None }, destination: "192.0.2.9:1".parse().unwrap(), protocol: Default::default() }, &mut svcroute::dataplane::RouteState::new(0), svcroute::dataplane::Millis(0)).unwrap();
    /// v.masquerade = Some(Masquerade::IfSelf);
    /// assert!(v.masquerades_to("10.244.0.5:80".parse().unwrap()));
    /// assert!(!v.masquerades_to("10.244.0.6:80".parse().unwrap()));
    /// ```
    pub fn masquerades(&self) -> bool {
        self.chosen.is_some_and(|ep| self.masquerades_to(ep))
    }

    /// Whether a connection to `endpoint` (one of [`eligible`](Self::eligible),
    /// picked by this verdict or by another balancer) is masqueraded.
    ///
    /// ```
    /// use svcroute::dataplane::Masquerade;
    /// # let dp = svcroute::dataplane::Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let mut v = dp.decide(&svcroute::dataplane::Flow { source: svcroute::dataplane::SourceRef::External { ip: "10.244.0.5".parse().unwrap(), arrives_at: None }, destination: "192.0.2.9:1".parse().unwrap(), protocol: Default::default() }, &mut svcroute::dataplane::RouteState::new(0), svcroute::dataplane::Millis(0)).unwrap();
    /// v.masquerade = Some(Masquerade::Yes);
    /// assert!(v.masquerades_to("10.244.0.9:80".parse().unwrap()));
    /// ```
    pub fn masquerades_to(&self, endpoint: SocketAddr) -> bool {
        match self.masquerade {
            Some(Masquerade::Yes) => true,
            Some(Masquerade::IfSelf) => endpoint.ip() == self.source_ip,
            _ => false,
        }
    }
}
