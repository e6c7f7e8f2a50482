//! The trace-free answer: a borrowed question ([`Flow`]) and a borrowed
//! answer ([`Verdict`]), so that [`Dataplane::decide`](super::Dataplane::decide)
//! allocates nothing.

use std::net::{IpAddr, SocketAddr};

use super::{Dataplane, Destination, Masquerade, Outcome, PacketFate, Protocol, Request, Source};

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
/// It is small (the endpoint, the Service and the node are indices into
/// the dataplane's tables, the eligible set a borrowed slice), so that the
/// decision hands it back without a large copy; read it through its
/// accessors.
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
/// assert_eq!((v.outcome(), v.packet_fate()), (Outcome::Reject, Some(PacketFate::Reject)));
/// assert_eq!(v.service().unwrap().to_string(), "default/kubernetes");
/// assert!(!v.masquerades());
/// # Ok::<(), svcroute::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Verdict<'a> {
    /// The dataplane that decided (names of the Service and node).
    dp: &'a Dataplane,
    /// The eligible endpoints; empty unless forwarded.
    eligible: &'a [SocketAddr],
    /// Index in `eligible` of the endpoint picked ([`NONE`]: none).
    chosen: u32,
    /// Index of the Service in the dataplane ([`NONE`]: none).
    service: u32,
    /// Index of the node whose kube-proxy decided ([`NONE`]: none).
    node: u32,
    /// With [`Masquerade::IfSelf`]: index in `eligible` of an endpoint at
    /// the source's own address.
    hairpin: u32,
    /// For a health-check answer: how many local ready endpoints it counted.
    local_endpoints: u32,
    /// The HTTP status of a health-check NodePort answer (KP-10), else 0.
    http_status: u16,
    outcome: Outcome,
    packet_fate: Option<PacketFate>,
    masquerade: Option<Masquerade>,
}

/// "No index" in the fields of a [`Verdict`].
const NONE: u32 = u32::MAX;

/// `i` as a [`Verdict`] index: the tables it indexes (endpoints of one
/// set, Services, nodes) hold far fewer than `u32::MAX` entries.
#[cfg_attr(not(feature = "compact"), inline(always))]
fn index(i: usize) -> u32 {
    i as u32
}

impl<'a> Verdict<'a> {
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn new(dp: &'a Dataplane) -> Self {
        Verdict {
            dp,
            eligible: &[],
            chosen: NONE,
            service: NONE,
            node: NONE,
            hairpin: NONE,
            local_endpoints: 0,
            http_status: 0,
            outcome: Outcome::NoSuchService,
            packet_fate: None,
            masquerade: None,
        }
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn finish(mut self, outcome: Outcome, fate: Option<PacketFate>) -> Self {
        self.outcome = outcome;
        self.packet_fate = fate;
        self
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn set_service(&mut self, svc: usize) {
        self.service = index(svc);
    }

    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn set_node(&mut self, node: Option<usize>) {
        self.node = node.map_or(NONE, index);
    }

    /// A forward to `eligible[chosen]`, with the masquerade rule (and,
    /// for [`Masquerade::IfSelf`], the source's position in `eligible`).
    #[cfg_attr(not(feature = "compact"), inline(always))]
    pub(crate) fn forward(
        mut self,
        eligible: &'a [SocketAddr],
        chosen: usize,
        masquerade: Masquerade,
        hairpin: Option<usize>,
    ) -> Self {
        self.eligible = eligible;
        self.chosen = index(chosen);
        self.masquerade = Some(masquerade);
        self.hairpin = hairpin.map_or(NONE, index);
        self.finish(Outcome::Forward, None)
    }

    /// A health-check answer (KP-10).
    #[inline]
    pub(crate) fn health(mut self, status: u16, local_endpoints: usize) -> Self {
        self.http_status = status;
        self.local_endpoints = u32::try_from(local_endpoints).unwrap_or(u32::MAX);
        self.finish(Outcome::Http, None)
    }

    /// The outcome.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// let v = dp.decide(&Flow {
    ///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: "192.0.2.9:1".parse().unwrap(),
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.outcome(), Outcome::NoSuchService);
    /// ```
    #[inline]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// For results without delivery: what happens to the packet.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// let v = dp.decide(&Flow {
    ///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: "192.0.2.9:1".parse().unwrap(),
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.packet_fate(), Some(PacketFate::Unhandled));
    /// ```
    #[inline]
    pub fn packet_fate(&self) -> Option<PacketFate> {
        self.packet_fate
    }

    /// The endpoint picked (forward), one of [`eligible`](Self::eligible).
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// let v = dp.decide(&Flow {
    ///     source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: "10.96.0.1:443".parse().unwrap(), // no endpoints: reject
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.chosen(), None);
    /// ```
    #[inline]
    pub fn chosen(&self) -> Option<SocketAddr> {
        self.eligible.get(self.chosen as usize).copied()
    }

    /// The position of [`chosen`](Self::chosen) in
    /// [`eligible`](Self::eligible).
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.chosen_index(), None);
    /// ```
    #[inline]
    pub fn chosen_index(&self) -> Option<usize> {
        let i = self.chosen as usize;
        (i < self.eligible.len()).then_some(i)
    }

    /// The eligible endpoints (sorted by `ip:port` string) the pick was
    /// made from; empty unless forwarded.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert!(v.eligible().is_empty());
    /// ```
    #[inline]
    pub fn eligible(&self) -> &'a [SocketAddr] {
        self.eligible
    }

    /// The masquerade rule (KP-20) for forwarded traffic.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.masquerade(), None); // rejected: nothing to masquerade
    /// ```
    #[inline]
    pub fn masquerade(&self) -> Option<Masquerade> {
        self.masquerade
    }

    /// With [`Masquerade::IfSelf`]: the eligible endpoint at the source's
    /// own address (the source is a backend of the Service; hairpin).
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.hairpin(), None);
    /// ```
    #[inline]
    pub fn hairpin(&self) -> Option<SocketAddr> {
        self.eligible.get(self.hairpin as usize).copied()
    }

    /// The node whose kube-proxy decided (`None`: no node).
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.node(), None); // a cluster without nodes
    /// ```
    #[inline]
    pub fn node(&self) -> Option<&'a str> {
        self.dp.node_name(self.node as usize)
    }

    /// The Service that handled the connection.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.service(), Some(ServiceRef { namespace: "default", name: "kubernetes" }));
    /// ```
    #[inline]
    pub fn service(&self) -> Option<ServiceRef<'a>> {
        self.dp.service_at(self.service as usize)
    }

    /// The HTTP status of a health-check NodePort answer (KP-10), else 0.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.http_status(), 0);
    /// ```
    #[inline]
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// For a health-check answer: how many local ready endpoints it counted.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert_eq!(v.local_endpoints(), 0);
    /// ```
    #[inline]
    pub fn local_endpoints(&self) -> usize {
        self.local_endpoints as usize
    }

    /// Whether the connection to [`chosen`](Self::chosen) is masqueraded
    /// (KP-20): always, or only when the source picked itself (hairpin).
    /// False when nothing was picked.
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert!(!v.masquerades()); // nothing picked
    /// ```
    #[inline]
    pub fn masquerades(&self) -> bool {
        self.chosen().is_some_and(|ep| self.masquerades_to(ep))
    }

    /// Whether a connection to `endpoint` (one of [`eligible`](Self::eligible),
    /// picked by this verdict or by another balancer) is masqueraded:
    /// with [`Masquerade::Yes`] always, with [`Masquerade::IfSelf`] when
    /// it is at the source's own address ([`hairpin`](Self::hairpin)).
    ///
    /// ```
    /// # use svcroute::dataplane::*;
    /// # let dp = Dataplane::compile(&svcroute::cluster::Cluster::new(Default::default()).unwrap(), Default::default());
    /// # let v = dp.decide(&Flow { source: SourceRef::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None }, destination: "10.96.0.1:443".parse().unwrap(), protocol: Protocol::Tcp }, &mut RouteState::new(0), Millis(0)).unwrap();
    /// assert!(!v.masquerades_to("10.244.0.9:80".parse().unwrap())); // not forwarded
    /// ```
    #[inline]
    pub fn masquerades_to(&self, endpoint: SocketAddr) -> bool {
        match self.masquerade {
            Some(Masquerade::Yes) => true,
            Some(Masquerade::IfSelf) => self.hairpin().is_some_and(|h| h.ip() == endpoint.ip()),
            _ => false,
        }
    }
}

impl PartialEq for Verdict<'_> {
    /// Equal answers from one dataplane.
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self.dp, o.dp)
            && self.eligible == o.eligible
            && (self.chosen, self.service, self.node, self.hairpin)
                == (o.chosen, o.service, o.node, o.hairpin)
            && (self.local_endpoints, self.http_status) == (o.local_endpoints, o.http_status)
            && (self.outcome, self.packet_fate, self.masquerade)
                == (o.outcome, o.packet_fate, o.masquerade)
    }
}

impl Eq for Verdict<'_> {}

impl std::fmt::Debug for Verdict<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdict")
            .field("outcome", &self.outcome)
            .field("packet_fate", &self.packet_fate)
            .field("chosen", &self.chosen())
            .field("eligible", &self.eligible)
            .field("masquerade", &self.masquerade)
            .field("hairpin", &self.hairpin())
            .field("node", &self.node())
            .field("service", &self.service())
            .field("http_status", &self.http_status)
            .field("local_endpoints", &self.local_endpoints)
            .finish()
    }
}
