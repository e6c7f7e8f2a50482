//! The vocabulary of a routing question and its answer.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::ErrorKind;
use crate::ipam::IpFamily;

/// Monotonic time in milliseconds (DECISIONS D8). The core never reads a
/// clock: the caller passes `now` into every call that depends on time.
///
/// ```
/// use svcroute::dataplane::Millis;
/// assert_eq!(Millis::from_secs(3).0, 3000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `s` seconds (saturating).
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::Millis::from_secs(u64::MAX).0, u64::MAX);
    /// ```
    pub fn from_secs(s: u64) -> Millis {
        Millis(s.saturating_mul(1000))
    }
}

/// The protocol of a connection. `Http` is a TCP connection carrying an
/// HTTP GET (used for health-check NodePorts and Ingress).
///
/// ```
/// use svcroute::dataplane::Protocol;
/// assert_eq!("UDP".parse::<Protocol>(), Ok(Protocol::Udp));
/// assert_eq!(Protocol::Http.l4(), svcroute::api::Protocol::TCP);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// TCP (default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// An HTTP GET over TCP.
    Http,
}

impl Protocol {
    /// The transport protocol a Service port is matched on.
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::Protocol::Udp.l4(), svcroute::api::Protocol::UDP);
    /// ```
    pub fn l4(self) -> crate::api::Protocol {
        match self {
            Protocol::Tcp | Protocol::Http => crate::api::Protocol::TCP,
            Protocol::Udp => crate::api::Protocol::UDP,
            Protocol::Sctp => crate::api::Protocol::SCTP,
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = RouteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "TCP" => Ok(Protocol::Tcp),
            "UDP" => Ok(Protocol::Udp),
            "SCTP" => Ok(Protocol::Sctp),
            "HTTP" => Ok(Protocol::Http),
            other => Err(RouteError::Invalid(format!(
                "unknown protocol `{other}`; expected TCP, UDP, SCTP or HTTP"
            ))),
        }
    }
}

/// Where a connection starts (conformance README 10.8, DECISIONS D16).
///
/// ```
/// use svcroute::dataplane::Source;
/// let s = Source::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: Some("n1".into()) };
/// assert!(matches!(s, Source::External { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A process in a pod: `namespace/name`.
    Pod {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        name: String,
    },
    /// A host-network process on this node.
    Node(String),
    /// An off-cluster client whose packet enters the cluster at `arrives_at`
    /// (`None`: through the destination's own front door, D16).
    External {
        /// The client's address.
        ip: IpAddr,
        /// The node the packet enters at.
        arrives_at: Option<String>,
    },
}

/// An HTTP request to an Ingress controller.
///
/// ```
/// let r = svcroute::dataplane::IngressRequest { host: "Foo.com:80".into(), path: "/".into(), ..Default::default() };
/// assert_eq!(r.scheme, "");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngressRequest {
    /// The controller (`IngressClass.spec.controller`), e.g. `k8s.io/ingress-nginx`.
    pub controller: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The raw `Host` header (any case, may carry `:port`).
    pub host: String,
    /// The URL path.
    pub path: String,
}

/// An HTTP request to a Gateway listener.
///
/// ```
/// let r = svcroute::dataplane::GatewayRequest { gateway: "web/gw".into(), ..Default::default() };
/// assert!(r.listener.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GatewayRequest {
    /// The Gateway, `namespace/name`.
    pub gateway: String,
    /// The listener's name, if given.
    pub listener: Option<String>,
    /// The `Host` header.
    pub host: String,
    /// The URL path (a `?query` suffix is split off).
    pub path: String,
    /// The method (`GET` when absent).
    pub method: Option<String>,
    /// Request headers (name, value).
    pub headers: Vec<(String, String)>,
}

/// Where a connection goes.
///
/// ```
/// use svcroute::dataplane::Destination;
/// let d = Destination::Dns { name: "web".into(), port: 80, family: None };
/// assert!(matches!(d, Destination::Dns { port: 80, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An address and port.
    Ip(SocketAddr),
    /// A DNS name resolved through the source pod's search path, then `port`.
    Dns {
        /// The name as typed.
        name: String,
        /// The port dialled.
        port: u16,
        /// The address family wanted (default: IPv4 when there is one).
        family: Option<IpFamily>,
    },
    /// An HTTP request to an Ingress controller.
    Ingress(IngressRequest),
    /// An HTTP request to a Gateway listener (HTTPRoute).
    HttpRoute(GatewayRequest),
}

/// One routing question.
///
/// ```
/// use svcroute::dataplane::{Destination, Protocol, Request, Source};
/// let r = Request {
///     source: Source::Node("n1".into()),
///     destination: Destination::Ip("10.96.0.10:80".parse().unwrap()),
///     protocol: Protocol::Tcp,
/// };
/// assert_eq!(r.protocol, Protocol::Tcp);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Where it starts.
    pub source: Source,
    /// Where it goes.
    pub destination: Destination,
    /// The protocol.
    pub protocol: Protocol,
}

/// The outcome (the conformance README's `result` vocabulary).
///
/// ```
/// assert_eq!(svcroute::dataplane::Outcome::NotCaptured.as_str(), "not-captured");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Proxied (DNAT) to one of the eligible endpoints.
    Forward,
    /// No proxying: a headless Service; the client dials a pod IP.
    Direct,
    /// No usable endpoint anywhere (ICMP port unreachable).
    Reject,
    /// Silently dropped.
    Drop,
    /// NXDOMAIN, or nothing on that address and port belongs to a Service.
    NoSuchService,
    /// The address is a Service VIP but not with this port/protocol.
    PortNotExposed,
    /// An ExternalName Service: a DNS CNAME only.
    Cname,
    /// An address kube-proxy deliberately leaves alone.
    NotCaptured,
    /// An HTTP answer produced by infrastructure (health check, Ingress).
    Http,
}

impl Outcome {
    /// The conformance spelling (`forward`, `no-such-service`, …).
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::Outcome::PortNotExposed.as_str(), "port-not-exposed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Forward => "forward",
            Outcome::Direct => "direct",
            Outcome::Reject => "reject",
            Outcome::Drop => "drop",
            Outcome::NoSuchService => "no-such-service",
            Outcome::PortNotExposed => "port-not-exposed",
            Outcome::Cname => "cname",
            Outcome::NotCaptured => "not-captured",
            Outcome::Http => "http",
        }
    }
}

/// What happens to a packet that is not delivered.
///
/// ```
/// assert_ne!(svcroute::dataplane::PacketFate::Drop, svcroute::dataplane::PacketFate::Reject);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketFate {
    /// ICMP port unreachable (connection refused).
    Reject,
    /// Silently dropped (timeout).
    Drop,
    /// No Service rule matches; routed like any other packet.
    Unhandled,
}

impl PacketFate {
    /// `reject`, `drop` or `unhandled`.
    ///
    /// ```
    /// assert_eq!(svcroute::dataplane::PacketFate::Unhandled.as_str(), "unhandled");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PacketFate::Reject => "reject",
            PacketFate::Drop => "drop",
            PacketFate::Unhandled => "unhandled",
        }
    }
}

/// Whether the source is masqueraded (SNAT to a node IP), rule KP-20.
///
/// ```
/// assert_ne!(svcroute::dataplane::Masquerade::IfSelf, svcroute::dataplane::Masquerade::Yes);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Masquerade {
    /// The backend sees the client's IP.
    No,
    /// SNAT to a node IP.
    Yes,
    /// SNAT only when the chosen backend is the source itself (hairpin).
    IfSelf,
}

/// One hop of a decision's trace.
///
/// ```
/// let h = svcroute::dataplane::Hop { rule: Some("KP-7"), detail: "drop".into() };
/// assert_eq!(h.to_string(), "[KP-7] drop");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The rule of `services.md` applied (`KP-4`, `ING-2`, …), if one.
    pub rule: Option<&'static str>,
    /// What happened, in words.
    pub detail: String,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(r) => write!(f, "[{r}] {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// How kube-proxy would write the chosen endpoint set (rules KP-16..18).
///
/// ```
/// use svcroute::dataplane::Render;
/// let r = Render::Nftables { numgen_mod: 2, vmap_order: vec!["10.0.0.1:80".into(), "10.0.0.2:80".into()] };
/// assert!(matches!(r, Render::Nftables { numgen_mod: 2, .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Render {
    /// iptables: the service chain's rules in order.
    Iptables {
        /// Endpoints in chain order (`ip:port` string order).
        endpoint_order: Vec<String>,
        /// `statistic --probability` per rule, 10 decimals; `None` for the last.
        probabilities: Vec<Option<String>>,
    },
    /// nftables: `numgen random mod n` and its verdict map.
    Nftables {
        /// `n`.
        numgen_mod: usize,
        /// Endpoints in verdict-map order.
        vmap_order: Vec<String>,
    },
    /// IPVS: the virtual server.
    Ipvs {
        /// The scheduler (`--ipvs-scheduler`).
        scheduler: String,
        /// Real servers and their weights.
        real_server_weights: Vec<(String, u32)>,
    },
}

/// The matched Ingress rule (or defaultBackend).
///
/// ```
/// let m = svcroute::dataplane::IngressMatch { ingress: "web/i".into(), default_backend: true, host: None, path: None, path_type: None, service: "web/svc".into(), port: Some(80) };
/// assert!(m.default_backend);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressMatch {
    /// The Ingress, `namespace/name`.
    pub ingress: String,
    /// `true` when the Ingress's `defaultBackend` took the request.
    pub default_backend: bool,
    /// The rule's host (`None`: a host-less rule, or the defaultBackend).
    pub host: Option<String>,
    /// The rule's path.
    pub path: Option<String>,
    /// The rule's path type.
    pub path_type: Option<String>,
    /// The backend Service, `namespace/name`.
    pub service: String,
    /// The backend Service port number (resolved from a name if needed).
    pub port: Option<u16>,
}

/// The HTTPRoute rule that won.
///
/// ```
/// let m = svcroute::dataplane::RouteMatch { http_route: "web/r".into(), rule: 0 };
/// assert_eq!(m.rule, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The HTTPRoute, `namespace/name`.
    pub http_route: String,
    /// 0-based rule index.
    pub rule: usize,
}

/// TLS termination used for an Ingress request.
///
/// ```
/// let t = svcroute::dataplane::TlsTermination { secret_name: Some("tls".into()) };
/// assert_eq!(t.secret_name.as_deref(), Some("tls"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTermination {
    /// The Secret named by the TLS entry.
    pub secret_name: Option<String>,
}

/// An HTTP answer generated by infrastructure.
///
/// ```
/// let a = svcroute::dataplane::HttpAnswer { status: 503, body: String::new() };
/// assert!(a.status >= 500);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The body (JSON for health checks; empty otherwise).
    pub body: String,
}

/// The answer to a [`Request`](super::Request): the outcome, the eligible
/// endpoints, the pick, and a trace of how it came about.
///
/// ```
/// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
/// use svcroute::dataplane::*;
/// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
/// let d = Dataplane::compile(&c, ProxyMode::Iptables).route(&Request {
///     source: Source::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
///     destination: Destination::Ip("192.0.2.1:80".parse().unwrap()),
///     protocol: Protocol::Tcp,
/// }, &mut RouteState::new(0), Millis(0))?;
/// assert_eq!((d.outcome, d.packet_fate), (Outcome::NoSuchService, Some(PacketFate::Unhandled)));
/// assert!(!d.trace.is_empty());
/// # Ok::<(), svcroute::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// The eligible set (sorted by `ip:port` string) before affinity narrows it.
    pub endpoints: Vec<SocketAddr>,
    /// The backend picked (forward/direct).
    pub chosen: Option<SocketAddr>,
    /// SNAT, for delivered traffic.
    pub masquerade: Option<Masquerade>,
    /// For results without delivery.
    pub packet_fate: Option<PacketFate>,
    /// A/AAAA answers of a DNS destination.
    pub dns_answers: Vec<IpAddr>,
    /// ExternalName target.
    pub cname: Option<String>,
    /// HTTP answer of infrastructure.
    pub http: Option<HttpAnswer>,
    /// The Service that handled it, `namespace/name`.
    pub service: Option<String>,
    /// Rendering of the endpoint set in this mode (forward results).
    pub render: Option<Render>,
    /// Ingress rule that won.
    pub ingress_match: Option<IngressMatch>,
    /// HTTPRoute rule that won.
    pub route_match: Option<RouteMatch>,
    /// TLS termination.
    pub tls: Option<TlsTermination>,
    /// The hops, in order.
    pub trace: Vec<Hop>,
}

impl Decision {
    pub(crate) fn new(outcome: Outcome) -> Decision {
        Decision {
            outcome,
            endpoints: Vec::new(),
            chosen: None,
            masquerade: None,
            packet_fate: None,
            dns_answers: Vec::new(),
            cname: None,
            http: None,
            service: None,
            render: None,
            ingress_match: None,
            route_match: None,
            tls: None,
            trace: Vec::new(),
        }
    }

    /// The decision in the conformance vocabulary (README 10.8, DECISIONS
    /// D16): `result`, `endpoints`, `chosen`, `masquerade`, `packetFate`,
    /// `dnsAnswers`, `cname`, `httpStatus`, `body`, `ingressMatch`,
    /// `routeMatch`, `tls`, `render`, `trace`; keys without a value are left out.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::*;
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let d = Dataplane::compile(&c, ProxyMode::Nftables).route(&Request {
    ///     source: Source::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: None },
    ///     destination: Destination::Ip("10.96.7.7:80".parse().unwrap()),
    ///     protocol: Protocol::Tcp,
    /// }, &mut RouteState::new(0), Millis(0))?;
    /// let j = d.to_json();
    /// assert_eq!(j["result"], "drop");
    /// assert_eq!(j["packetFate"], "drop");
    /// assert_eq!(j["trace"][0]["rule"], "KP-13");
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let mut m = Map::new();
        m.insert("result".into(), json!(self.outcome.as_str()));
        if !self.endpoints.is_empty() {
            let eps: Vec<String> = self.endpoints.iter().map(ToString::to_string).collect();
            m.insert("endpoints".into(), json!(eps));
        }
        if let Some(c) = self.chosen {
            m.insert("chosen".into(), json!(c.to_string()));
        }
        if let Some(x) = self.masquerade {
            let v = match x {
                Masquerade::No => json!(false),
                Masquerade::Yes => json!(true),
                Masquerade::IfSelf => json!("if-self"),
            };
            m.insert("masquerade".into(), v);
        }
        if let Some(f) = self.packet_fate {
            m.insert("packetFate".into(), json!(f.as_str()));
        }
        if !self.dns_answers.is_empty() {
            let a: Vec<String> = self.dns_answers.iter().map(ToString::to_string).collect();
            m.insert("dnsAnswers".into(), json!(a));
        }
        if let Some(c) = &self.cname {
            m.insert("cname".into(), json!(c));
        }
        if let Some(h) = &self.http {
            m.insert("httpStatus".into(), json!(h.status));
            if let Ok(body) = serde_json::from_str::<Value>(&h.body) {
                m.insert("body".into(), body);
            }
        }
        if let Some(s) = &self.service {
            m.insert("service".into(), json!(s));
        }
        if let Some(i) = &self.ingress_match {
            let backend = json!({"service": i.service, "port": i.port});
            m.insert(
                "ingressMatch".into(),
                if i.default_backend {
                    json!({"ingress": i.ingress, "defaultBackend": true, "backend": backend})
                } else {
                    json!({"ingress": i.ingress, "host": i.host, "path": i.path,
                           "pathType": i.path_type, "backend": backend})
                },
            );
        }
        if let Some(r) = &self.route_match {
            m.insert(
                "routeMatch".into(),
                json!({"httpRoute": r.http_route, "rule": r.rule}),
            );
        }
        if let Some(t) = &self.tls {
            m.insert(
                "tls".into(),
                json!({"terminated": true, "secretName": t.secret_name}),
            );
        }
        if let Some(r) = &self.render {
            let v = match r {
                Render::Iptables {
                    endpoint_order,
                    probabilities,
                } => {
                    json!({"iptables": {"endpointOrder": endpoint_order, "probabilities": probabilities}})
                }
                Render::Nftables {
                    numgen_mod,
                    vmap_order,
                } => json!({"nftables": {"numgenMod": numgen_mod, "vmapOrder": vmap_order}}),
                Render::Ipvs {
                    scheduler,
                    real_server_weights,
                } => {
                    let w: Map<String, Value> = real_server_weights
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    json!({"ipvs": {"scheduler": scheduler, "realServerWeights": w}})
                }
            };
            m.insert("render".into(), v);
        }
        let trace: Vec<Value> = self
            .trace
            .iter()
            .map(|h| json!({"rule": h.rule, "detail": h.detail}))
            .collect();
        m.insert("trace".into(), Value::Array(trace));
        Value::Object(m)
    }

    pub(crate) fn hop(&mut self, rule: Option<&'static str>, detail: impl Into<String>) {
        self.trace.push(Hop {
            rule,
            detail: detail.into(),
        });
    }

    pub(crate) fn end(&mut self, outcome: Outcome, fate: Option<PacketFate>) {
        self.outcome = outcome;
        self.packet_fate = fate;
    }
}

/// Formats an endpoint as kube-proxy does (`ip:port`, `[ipv6]:port`).
///
/// ```
/// let a: std::net::SocketAddr = "[fd00::1]:80".parse().unwrap();
/// assert_eq!(svcroute::dataplane::endpoint_string(&a), "[fd00::1]:80");
/// ```
pub fn endpoint_string(a: &SocketAddr) -> String {
    a.to_string()
}

/// Why a routing question could not be asked.
///
/// ```
/// use svcroute::dataplane::RouteError;
/// assert_eq!(RouteError::UnknownPod("a/b".into()).kind(), svcroute::ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The source pod does not exist.
    #[error("pod {0} not found")]
    UnknownPod(String),
    /// The source pod has no IP of the family needed.
    #[error("pod {0} has no IP of the destination's family")]
    PodWithoutIp(String),
    /// The node does not exist.
    #[error("node {0} not found")]
    UnknownNode(String),
    /// The node has no InternalIP of the family needed.
    #[error("node {0} has no InternalIP of the destination's family")]
    NodeWithoutIp(String),
    /// The Gateway does not exist.
    #[error("gateway {0} not found")]
    UnknownGateway(String),
    /// A request with a value that is wrong (an address that does not
    /// parse, an unknown protocol).
    #[error("invalid route request: {0}")]
    Invalid(String),
    /// A request missing a part it must have (no source kind, no
    /// destination kind, no port): its shape is wrong, not a value.
    #[error("malformed route request: {0}")]
    Malformed(String),
}

impl RouteError {
    /// The classification of this error.
    ///
    /// ```
    /// use svcroute::{ErrorKind, dataplane::RouteError};
    /// assert_eq!(RouteError::Invalid("x".into()).kind(), ErrorKind::Invalid);
    /// assert_eq!(RouteError::Malformed("x".into()).kind(), ErrorKind::Parse);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            RouteError::UnknownPod(_)
            | RouteError::UnknownNode(_)
            | RouteError::UnknownGateway(_) => ErrorKind::NotFound,
            RouteError::PodWithoutIp(_) | RouteError::NodeWithoutIp(_) | RouteError::Invalid(_) => {
                ErrorKind::Invalid
            }
            RouteError::Malformed(_) => ErrorKind::Parse,
        }
    }
}

/// The answer of the allocation-free [`Dataplane::pick`](super::Dataplane::pick).
///
/// ```
/// let p = svcroute::dataplane::Pick::Endpoint("10.244.0.5:8080".parse().unwrap());
/// assert!(matches!(p, svcroute::dataplane::Pick::Endpoint(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pick {
    /// DNAT to this endpoint.
    Endpoint(SocketAddr),
    /// No usable endpoint anywhere (KP-12).
    Reject,
    /// Dropped (internalTrafficPolicy Local without a local endpoint, KP-7).
    Drop,
    /// Not a (cluster IP, port, protocol) of a Service: ask
    /// [`Dataplane::route`](super::Dataplane::route).
    NotClusterIp,
}

/// What an Ingress controller does with one request, without the trace:
/// the answer of [`Dataplane::ingress_pick`](super::Dataplane::ingress_pick).
///
/// ```
/// use svcroute::dataplane::HttpPick;
/// assert_ne!(HttpPick::Status(404), HttpPick::Status(503));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpPick {
    /// Proxied to this endpoint of the backend Service (ING-6).
    Endpoint(SocketAddr),
    /// Answered by the controller: 404 when no rule and no defaultBackend
    /// matched (ING-5), 503 when the backend has no ready endpoint or does
    /// not exist (ING-6).
    Status(u16),
}
