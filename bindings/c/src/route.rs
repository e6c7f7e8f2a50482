//! `svcroute_route`: where a connection goes, as kube-proxy decides it,
//! through the C door, without allocating on the hot path.
//!
//! ## The decision
//!
//! Every flow to an address (cluster IPs, NodePorts, load-balancer IPs,
//! externalIPs, health-check NodePorts, from a packet or a host process)
//! takes [`Dataplane::decide`], the core's trace-free, allocation-free
//! form of [`Dataplane::route`] (the same decision function), masquerade
//! (KP-20) included. When an algorithm was chosen for the Service port,
//! it picks among the eligible endpoints the decision reports. An HTTP
//! request to an Ingress controller takes [`Dataplane::ingress_pick`].
//!
//! ## Threads
//!
//! Routes read the cluster's published snapshot without a lock
//! ([`crate::snapshot`]). What changes per pick — ClientIP affinity memory
//! (KP-19), IPVS turns, the random source — lives in [`SHARDS`] shards,
//! each behind its own mutex, chosen by a hash of the source address. One
//! client therefore always meets the same affinity memory (as the
//! kernel's is per node, not per CPU), and threads routing for different
//! clients rarely wait for each other. The balancers of chosen algorithms
//! sit behind one mutex, so that load events reach them all.
//!
//! [`Dataplane::decide`]: svcroute::dataplane::Dataplane::decide
//! [`Dataplane::route`]: svcroute::dataplane::Dataplane::route
//! [`Dataplane::ingress_pick`]: svcroute::dataplane::Dataplane::ingress_pick

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use svcroute::balance::{FlowKey, proto};
use svcroute::dataplane::{
    HttpPick, IngressRequest, Millis, Outcome, Protocol, RouteState, SourceRef,
};

use crate::algorithm::Balancers;
use crate::engine::View;
use crate::error::FfiError;
use crate::status::svcroute_status;

/// No address (`svcroute_address.family`).
pub const SVCROUTE_FAMILY_NONE: u8 = 0;
/// An IPv4 address in the first 4 bytes (`svcroute_address.family`).
pub const SVCROUTE_FAMILY_IPV4: u8 = 4;
/// An IPv6 address in all 16 bytes (`svcroute_address.family`).
pub const SVCROUTE_FAMILY_IPV6: u8 = 6;
/// The size of `svcroute_route_result.endpoint_text`: room for any
/// `[IPv6]:port` and its NUL.
pub const SVCROUTE_ENDPOINT_TEXT_SIZE: usize = 64;

/// An IP address as bytes in network order.
///
/// `family` is `SVCROUTE_FAMILY_IPV4` (the address in `bytes[0..4]`, the
/// rest ignored), `SVCROUTE_FAMILY_IPV6` (all 16 bytes) or
/// `SVCROUTE_FAMILY_NONE` (no address). `svcroute_address_parse` fills one
/// from text; `inet_pton` into `bytes` works as well.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct svcroute_address {
    /// `SVCROUTE_FAMILY_NONE`, `SVCROUTE_FAMILY_IPV4` or `SVCROUTE_FAMILY_IPV6`.
    pub family: u8,
    /// The address, network byte order.
    pub bytes: [u8; 16],
}

impl svcroute_address {
    /// The address of a Rust `IpAddr`.
    ///
    /// ```
    /// use svcroute_c::route::{svcroute_address, SVCROUTE_FAMILY_IPV4};
    /// let a = svcroute_address::from_ip("10.96.0.10".parse().unwrap());
    /// assert_eq!((a.family, &a.bytes[..4]), (SVCROUTE_FAMILY_IPV4, &[10, 96, 0, 10][..]));
    /// assert_eq!(a.to_ip("destination").unwrap().to_string(), "10.96.0.10");
    /// ```
    pub fn from_ip(ip: IpAddr) -> svcroute_address {
        let mut bytes = [0; 16];
        let family = match ip {
            IpAddr::V4(a) => {
                bytes[..4].copy_from_slice(&a.octets());
                SVCROUTE_FAMILY_IPV4
            }
            IpAddr::V6(a) => {
                bytes = a.octets();
                SVCROUTE_FAMILY_IPV6
            }
        };
        svcroute_address { family, bytes }
    }

    /// The address as a Rust `IpAddr`; `name` names the field in the error.
    pub fn to_ip(&self, name: &str) -> Result<IpAddr, FfiError> {
        match self.family {
            SVCROUTE_FAMILY_IPV4 => {
                let [a, b, c, d, ..] = self.bytes;
                Ok(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            SVCROUTE_FAMILY_IPV6 => Ok(IpAddr::V6(Ipv6Addr::from(self.bytes))),
            other => Err(FfiError::new(
                svcroute_status::Invalid,
                format!(
                    "flow: {name}.family is {other}; expected SVCROUTE_FAMILY_IPV4 (4) or \
                     SVCROUTE_FAMILY_IPV6 (6)"
                ),
            )),
        }
    }
}

/// The transport protocol of a flow (`svcroute_flow.protocol`): the IANA
/// protocol numbers.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum svcroute_protocol {
    /// TCP.
    Tcp = 6,
    /// UDP.
    Udp = 17,
    /// SCTP.
    Sctp = 132,
    /// An HTTP request to an Ingress controller, described by
    /// `svcroute_flow.http` (not an IANA number).
    Http = 256,
}

/// `svcroute_flow.options`: fill `svcroute_route_result.endpoint_text`
/// (otherwise it is left `""`, which saves formatting on the hot path).
pub const SVCROUTE_ROUTE_ENDPOINT_TEXT: u32 = 1;

/// An HTTP request to an Ingress controller (`svcroute_flow.http`, with
/// `protocol` `SVCROUTE_PROTOCOL_HTTP`): the Ingress rules of the
/// controller's classes pick the backend (ING-1 … ING-6).
///
/// Every field is a NUL-terminated UTF-8 string borrowed for the call only;
/// only `controller` is required.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct svcroute_http {
    /// The controller, as IngressClasses name it in `spec.controller`
    /// (e.g. `"k8s.io/ingress-nginx"`).
    pub controller: *const c_char,
    /// `"http"` or `"https"`; NULL: `"http"`.
    pub scheme: *const c_char,
    /// The `Host` header, any case, may carry `:port`; NULL: none.
    pub host: *const c_char,
    /// The URL path (a `?query` is ignored); NULL: `"/"`.
    pub path: *const c_char,
}

/// Who sends a flow (`svcroute_flow.source_kind`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum svcroute_source_kind {
    /// A packet from `source` (a pod, or a client outside the cluster)
    /// arriving at node `node`, the node whose kube-proxy decides. With
    /// `node` NULL, the packet comes in through the destination's own front
    /// door (the node owning a node address; for a load-balancer IP, the
    /// first node that passes the health check; else the first node).
    Packet = 0,
    /// A host-network process on node `node` (required); `source` is
    /// ignored: the node's InternalIP of the destination's family is used.
    Host = 1,
}

/// One connection to place.
///
/// Zero-initialise it (`svcroute_flow flow = {0};`) and fill the fields;
/// `source_kind` 0 is `SVCROUTE_SOURCE_KIND_PACKET`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct svcroute_flow {
    /// An `svcroute_source_kind`.
    pub source_kind: c_int,
    /// An `svcroute_protocol` (6, 17 or 132).
    pub protocol: c_int,
    /// The client's address (ignored for `SVCROUTE_SOURCE_KIND_HOST`).
    pub source: svcroute_address,
    /// The client's port (hashed by algorithms keyed on the 5-tuple).
    pub source_port: u16,
    /// The address dialled: a cluster IP, a node address, a load-balancer
    /// IP, an externalIP, anything.
    pub destination: svcroute_address,
    /// The port dialled.
    pub destination_port: u16,
    /// The node (its `metadata.name`), NUL-terminated; NULL: see
    /// `svcroute_source_kind`. Borrowed for the call only.
    pub node: *const c_char,
    /// Options: 0, or `SVCROUTE_ROUTE_ENDPOINT_TEXT`.
    pub options: u32,
    /// For `SVCROUTE_PROTOCOL_HTTP`: the request (required); ignored for
    /// other protocols. Borrowed for the call only.
    pub http: *const svcroute_http,
}

/// What happens to a connection (the conformance suite's `result`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum svcroute_outcome {
    /// Proxied (DNAT) to `endpoint`:`endpoint_port`.
    Forward = 1,
    /// No proxying (a headless Service): the client dials a pod directly.
    Direct = 2,
    /// No usable endpoint anywhere: the connection is refused (ICMP port
    /// unreachable, KP-12).
    Reject = 3,
    /// Silently dropped (e.g. internalTrafficPolicy Local with no endpoint
    /// on the node, KP-7; nftables for an unallocated service IP, KP-13).
    Drop = 4,
    /// Nothing on that address and port belongs to a Service; the packet
    /// is routed like any other.
    NoService = 5,
    /// The address is a Service's, but not with this port and protocol.
    PortNotExposed = 6,
    /// An ExternalName Service: DNS only (a CNAME).
    Cname = 7,
    /// An address kube-proxy deliberately leaves alone (a load-balancer
    /// IP with ipMode Proxy, a localhost NodePort it does not serve).
    NotCaptured = 8,
    /// Infrastructure answers itself over HTTP (a health-check NodePort);
    /// the status is in `http_status`.
    Http = 9,
}

impl svcroute_outcome {
    fn of(outcome: Outcome) -> svcroute_outcome {
        match outcome {
            Outcome::Forward => svcroute_outcome::Forward,
            Outcome::Direct => svcroute_outcome::Direct,
            Outcome::Reject => svcroute_outcome::Reject,
            Outcome::Drop => svcroute_outcome::Drop,
            Outcome::NoSuchService => svcroute_outcome::NoService,
            Outcome::PortNotExposed => svcroute_outcome::PortNotExposed,
            Outcome::Cname => svcroute_outcome::Cname,
            Outcome::NotCaptured => svcroute_outcome::NotCaptured,
            Outcome::Http => svcroute_outcome::Http,
        }
    }

    /// The conformance spelling, NUL-terminated; `None` for a number that
    /// is no outcome.
    pub fn name_of(number: i64) -> Option<&'static CStr> {
        Some(match number {
            1 => c"forward",
            2 => c"direct",
            3 => c"reject",
            4 => c"drop",
            5 => c"no-such-service",
            6 => c"port-not-exposed",
            7 => c"cname",
            8 => c"not-captured",
            9 => c"http",
            _ => return None,
        })
    }
}

/// Where a connection goes: filled by `svcroute_route`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct svcroute_route_result {
    /// What happens.
    pub outcome: svcroute_outcome,
    /// Whether the connection is masqueraded (SNAT to a node address,
    /// KP-20): `--masquerade-all`, a source that is not a local pod, or a
    /// pod reaching itself through its Service. False when not forwarded.
    pub masquerade: bool,
    /// The HTTP status for `SVCROUTE_OUTCOME_HTTP` (a health-check
    /// NodePort's 200 or 503; an Ingress controller's 404 or 503), else 0.
    pub http_status: u16,
    /// For `SVCROUTE_OUTCOME_FORWARD` and `SVCROUTE_OUTCOME_DIRECT`: the
    /// endpoint picked; else family `SVCROUTE_FAMILY_NONE`.
    pub endpoint: svcroute_address,
    /// The endpoint's port, or 0.
    pub endpoint_port: u16,
    /// The endpoint as text, `10.244.1.5:8080` or `[fd00::5]:8080`,
    /// NUL-terminated, when the flow's options ask for it
    /// (`SVCROUTE_ROUTE_ENDPOINT_TEXT`); `""` otherwise and when there is no
    /// endpoint.
    pub endpoint_text: [c_char; SVCROUTE_ENDPOINT_TEXT_SIZE],
}

/// The answer in Rust terms (what `svcroute_route_result` is filled from).
///
/// ```
/// use svcroute_c::route::{Answer, svcroute_outcome};
/// let mut out = Answer::empty_result();
/// let a = Answer { outcome: svcroute_outcome::Forward, endpoint: Some("10.244.1.5:8080".parse().unwrap()),
///                  masquerade: false, http_status: 0 };
/// a.fill(&mut out, true);
/// let text = unsafe { std::ffi::CStr::from_ptr(out.endpoint_text.as_ptr()) };
/// assert_eq!(text.to_str().unwrap(), "10.244.1.5:8080");
/// assert_eq!(out.endpoint_port, 8080);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The outcome.
    pub outcome: svcroute_outcome,
    /// The endpoint picked.
    pub endpoint: Option<SocketAddr>,
    /// SNAT.
    pub masquerade: bool,
    /// HTTP status of infrastructure answers.
    pub http_status: u16,
}

impl Answer {
    /// Writes the answer into a result struct, with the endpoint's text if
    /// `with_text`, without allocating.
    pub fn fill(&self, out: &mut svcroute_route_result, with_text: bool) {
        out.outcome = self.outcome;
        out.masquerade = self.masquerade;
        out.http_status = self.http_status;
        match self.endpoint {
            Some(ep) if !with_text => {
                out.endpoint = svcroute_address::from_ip(ep.ip());
                out.endpoint_port = ep.port();
                out.endpoint_text[0] = 0;
            }
            Some(ep) => {
                out.endpoint = svcroute_address::from_ip(ep.ip());
                out.endpoint_port = ep.port();
                let mut text = TextBuf {
                    buf: [0; SVCROUTE_ENDPOINT_TEXT_SIZE],
                    len: 0,
                };
                match ep {
                    SocketAddr::V4(v4) => {
                        // By hand: a few times faster than `Display`.
                        for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                            if i > 0 {
                                text.push(b'.');
                            }
                            text.decimal(u32::from(octet));
                        }
                        text.push(b':');
                        text.decimal(u32::from(v4.port()));
                    }
                    SocketAddr::V6(_) => {
                        // Cannot fail: the buffer holds any socket address.
                        let _ = write!(text, "{ep}");
                    }
                }
                out.endpoint_text = text.buf.map(|b| b as c_char);
            }
            None => {
                out.endpoint = svcroute_address::default();
                out.endpoint_port = 0;
                out.endpoint_text[0] = 0;
            }
        }
    }

    /// An empty result struct (outcome "no service"), for callers that
    /// need one to pass in.
    pub fn empty_result() -> svcroute_route_result {
        svcroute_route_result {
            outcome: svcroute_outcome::NoService,
            masquerade: false,
            http_status: 0,
            endpoint: svcroute_address::default(),
            endpoint_port: 0,
            endpoint_text: [0; SVCROUTE_ENDPOINT_TEXT_SIZE],
        }
    }
}

/// Formats into a fixed buffer, always leaving a NUL at the end.
struct TextBuf {
    buf: [u8; SVCROUTE_ENDPOINT_TEXT_SIZE],
    len: usize,
}

impl TextBuf {
    /// Appends one byte (dropped if only the NUL would fit).
    fn push(&mut self, b: u8) {
        if self.len + 1 < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// Appends `n` in decimal.
    fn decimal(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in &digits[i..] {
            self.push(d);
        }
    }
}

impl std::fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            if self.len + 1 >= self.buf.len() {
                return Err(std::fmt::Error);
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// A flow read from C and checked.
///
/// ```
/// use svcroute_c::route::{svcroute_address, svcroute_flow, svcroute_protocol, Flow};
/// let flow = svcroute_flow {
///     source_kind: 0,
///     protocol: svcroute_protocol::Tcp as i32,
///     source: svcroute_address::from_ip("10.244.1.9".parse().unwrap()),
///     source_port: 40000,
///     destination: svcroute_address::from_ip("10.96.0.20".parse().unwrap()),
///     destination_port: 80,
///     node: c"n1".as_ptr(),
///     options: 0,
///     http: std::ptr::null(),
/// };
/// // SAFETY: `node` is a static C string.
/// let read = unsafe { Flow::read(&flow) }.unwrap();
/// assert_eq!(read.node, Some("n1"));
/// assert!(read.http.is_none() && !read.endpoint_text);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Flow<'a> {
    /// Who sends it.
    pub kind: svcroute_source_kind,
    /// The protocol.
    pub protocol: Protocol,
    /// Its IANA number, for flow keys.
    pub protocol_number: u8,
    /// The client's address and port.
    pub source: SocketAddr,
    /// Where it goes.
    pub destination: SocketAddr,
    /// The node, if named.
    pub node: Option<&'a str>,
    /// For an HTTP flow, the request to the Ingress controller.
    pub http: Option<HttpFlow<'a>>,
    /// Whether the result gets the endpoint's text.
    pub endpoint_text: bool,
}

/// An HTTP request read from C (`svcroute_http`), absent fields defaulted.
///
/// ```
/// let h = svcroute_c::route::HttpFlow { controller: "k8s.io/ingress-nginx", scheme: "http", host: "shop.example.com", path: "/" };
/// assert_eq!(h.path, "/");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpFlow<'a> {
    /// `IngressClass.spec.controller`.
    pub controller: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The `Host` header.
    pub host: &'a str,
    /// The URL path.
    pub path: &'a str,
}

impl<'a> HttpFlow<'a> {
    /// Reads and checks a C request.
    ///
    /// # Safety
    ///
    /// Every non-NULL field of `http` is a NUL-terminated string valid for `'a`.
    unsafe fn read(http: &svcroute_http) -> Result<HttpFlow<'a>, FfiError> {
        /// # Safety: `ptr` is NULL or NUL-terminated, valid for `'a`.
        unsafe fn field<'a>(
            ptr: *const c_char,
            name: &str,
            absent: Option<&'a str>,
        ) -> Result<&'a str, FfiError> {
            if ptr.is_null() {
                return absent.ok_or_else(|| FfiError::null_argument(name));
            }
            // SAFETY: the caller's guarantee: a NUL-terminated string.
            let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
            crate::args::utf8(bytes, name)
        }
        // SAFETY: the caller's guarantees, field by field.
        unsafe {
            Ok(HttpFlow {
                controller: field(http.controller, "flow.http.controller", None)?,
                scheme: field(http.scheme, "flow.http.scheme", Some("http"))?,
                host: field(http.host, "flow.http.host", Some(""))?,
                path: field(http.path, "flow.http.path", Some("/"))?,
            })
        }
    }
}

impl<'a> Flow<'a> {
    /// Reads and checks a C flow.
    ///
    /// # Safety
    ///
    /// `flow.node` is NULL or a NUL-terminated string valid for `'a`;
    /// `flow.http` is NULL or points to an `svcroute_http` whose non-NULL
    /// fields are such strings.
    pub unsafe fn read(flow: &svcroute_flow) -> Result<Flow<'a>, FfiError> {
        let kind = match flow.source_kind {
            0 => svcroute_source_kind::Packet,
            1 => svcroute_source_kind::Host,
            other => {
                return Err(FfiError::new(
                    svcroute_status::Invalid,
                    format!("flow: source_kind is {other}; expected 0 (PACKET) or 1 (HOST)"),
                ));
            }
        };
        let (protocol, protocol_number) = match flow.protocol {
            6 => (Protocol::Tcp, proto::TCP),
            17 => (Protocol::Udp, proto::UDP),
            132 => (Protocol::Sctp, proto::SCTP),
            256 => (Protocol::Tcp, proto::TCP),
            other => {
                return Err(FfiError::new(
                    svcroute_status::Invalid,
                    format!(
                        "flow: protocol is {other}; expected 6 (TCP), 17 (UDP), 132 (SCTP) \
                         or 256 (HTTP)"
                    ),
                ));
            }
        };
        let http = if flow.protocol == svcroute_protocol::Http as c_int {
            // SAFETY: the caller's guarantee.
            let http = unsafe { flow.http.as_ref() }
                .ok_or_else(|| FfiError::null_argument("flow.http"))?;
            // SAFETY: as above.
            Some(unsafe { HttpFlow::read(http) }?)
        } else {
            None
        };
        // An HTTP request needs no addresses: the controller names the door.
        let unused = |a: &svcroute_address| http.is_some() && a.family == SVCROUTE_FAMILY_NONE;
        let destination = if unused(&flow.destination) {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), flow.destination_port)
        } else {
            SocketAddr::new(
                flow.destination.to_ip("destination")?,
                flow.destination_port,
            )
        };
        let source = match kind {
            svcroute_source_kind::Host if flow.source.family == SVCROUTE_FAMILY_NONE => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), flow.source_port)
            }
            _ if unused(&flow.source) => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), flow.source_port)
            }
            _ => SocketAddr::new(flow.source.to_ip("source")?, flow.source_port),
        };
        let node = if flow.node.is_null() {
            None
        } else {
            // SAFETY: the caller's guarantee: a NUL-terminated string.
            let bytes = unsafe { CStr::from_ptr(flow.node) }.to_bytes();
            Some(crate::args::utf8(bytes, "flow.node")?)
        };
        if kind == svcroute_source_kind::Host && node.is_none() && http.is_none() {
            return Err(FfiError::null_argument("flow.node"));
        }
        Ok(Flow {
            kind,
            protocol,
            protocol_number,
            source,
            destination,
            node,
            http,
            endpoint_text: flow.options & SVCROUTE_ROUTE_ENDPOINT_TEXT != 0,
        })
    }

    fn key(&self) -> FlowKey {
        FlowKey::new(
            self.source.ip(),
            self.source.port(),
            self.destination.ip(),
            self.destination.port(),
            self.protocol_number,
        )
    }
}

/// How many shards of kube-proxy's route state a cluster keeps.
pub const SHARDS: usize = 16;

/// The per-pick state of a cluster: kube-proxy's (affinity, cursors,
/// random source) in [`SHARDS`] mutex-guarded shards chosen by the source
/// address, and the balancers of chosen algorithms with the load events
/// reported to them, behind one mutex (a least-request balancer must see
/// every connection, whoever routed it).
///
/// ```
/// let shards = svcroute_c::route::Shards::new(42); // shard i seeded with 42 + i
/// assert_eq!(shards.balancers().open_connections("10.0.0.1:80".parse().unwrap()), 0);
/// ```
#[derive(Debug)]
pub struct Shards {
    states: Box<[Mutex<RouteState>]>,
    balancers: Mutex<Balancers>,
}

impl Shards {
    /// Fresh state; shard `i`'s random source follows `seed + i`.
    pub fn new(seed: u64) -> Shards {
        Shards {
            states: (0..SHARDS as u64)
                .map(|i| Mutex::new(RouteState::new(seed.wrapping_add(i))))
                .collect(),
            balancers: Mutex::new(Balancers::default()),
        }
    }

    /// The balancers of chosen algorithms (a panic in an earlier call does
    /// not lock them out).
    pub fn balancers(&self) -> MutexGuard<'_, Balancers> {
        self.balancers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn of(&self, ip: IpAddr) -> &Mutex<RouteState> {
        let h = match ip {
            IpAddr::V4(a) => u64::from(u32::from(a)),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                (v as u64) ^ ((v >> 64) as u64)
            }
        };
        let h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        &self.states[(h as usize) % self.states.len()]
    }
}

/// Places `flow` at time `now_ms` (see the module documentation).
///
/// ```
/// use svcroute_c::engine::Engine;
/// use svcroute_c::route::{route, svcroute_outcome, svcroute_source_kind, Flow, Shards};
/// use svcroute_c::svcroute::dataplane::Protocol;
/// let engine = Engine::new(svcroute_c::door::new_cluster(None).unwrap()).unwrap();
/// let flow = Flow {
///     kind: svcroute_source_kind::Packet,
///     protocol: Protocol::Tcp,
///     protocol_number: 6,
///     source: "198.51.100.7:40000".parse().unwrap(),
///     destination: "10.96.0.1:443".parse().unwrap(), // default/kubernetes, no endpoints
///     node: None,
///     http: None,
///     endpoint_text: false,
/// };
/// let a = route(&engine.view, &Shards::new(0), &flow, 0).unwrap();
/// assert_eq!(a.outcome, svcroute_outcome::Reject);
/// ```
pub fn route(
    view: &View,
    shards: &Shards,
    flow: &Flow<'_>,
    now_ms: u64,
) -> Result<Answer, FfiError> {
    let now = Millis(now_ms);
    let shard = shards.of(flow.source.ip());
    if let Some(http) = &flow.http {
        let mut state = shard.lock().unwrap_or_else(PoisonError::into_inner);
        return Ok(ingress(view, http, &mut state));
    }
    let source = match flow.kind {
        svcroute_source_kind::Packet => SourceRef::External {
            ip: flow.source.ip(),
            arrives_at: flow.node,
        },
        svcroute_source_kind::Host => SourceRef::Node(flow.node.unwrap_or_default()),
    };
    let question = svcroute::dataplane::Flow {
        source,
        destination: flow.destination,
        protocol: flow.protocol,
    };
    let mut state = shard.lock().unwrap_or_else(PoisonError::into_inner);
    let verdict = view.dataplane.decide(&question, &mut state, now);
    drop(state);
    let v = verdict.map_err(|e| FfiError::from(svcroute::Error::from(e)))?;
    let mut chosen = v.chosen();
    if v.outcome() == Outcome::Forward
        && !view.algorithms.is_empty()
        && let Some(service) = v.service()
        && let Some(entry) = view.algorithms.lookup(
            flow.destination,
            flow.protocol.l4(),
            service.namespace,
            service.name,
        )
    {
        chosen = shards
            .balancers()
            .pick(&view.algorithms, entry, v.eligible(), flow.key(), now.0)
            .map_err(|e| FfiError::new(svcroute_status::from_kind(e.kind), e.message))?
            .or(chosen);
    }
    let endpoint = chosen.filter(|_| matches!(v.outcome(), Outcome::Forward | Outcome::Direct));
    Ok(Answer {
        outcome: svcroute_outcome::of(v.outcome()),
        endpoint,
        masquerade: endpoint.is_some_and(|ep| v.masquerades_to(ep)),
        http_status: v.http_status(),
    })
}

thread_local! {
    /// The request `ingress` hands the core, reused so that its strings
    /// keep their capacity: no allocation once warm.
    static INGRESS_REQUEST: RefCell<IngressRequest> = RefCell::new(IngressRequest::default());
}

/// An HTTP request to an Ingress controller: [`Dataplane::ingress_pick`]
/// (ING-1 … ING-6), the same answer as the full decision without its trace.
///
/// [`Dataplane::ingress_pick`]: svcroute::dataplane::Dataplane::ingress_pick
fn ingress(view: &View, http: &HttpFlow<'_>, state: &mut RouteState) -> Answer {
    let fill = |r: &mut IngressRequest| {
        for (to, from) in [
            (&mut r.controller, http.controller),
            (&mut r.scheme, http.scheme),
            (&mut r.host, http.host),
            (&mut r.path, http.path),
        ] {
            to.clear();
            to.push_str(from);
        }
    };
    let pick = INGRESS_REQUEST
        .try_with(|r| {
            let mut r = r.try_borrow_mut().ok()?;
            fill(&mut r);
            Some(view.dataplane.ingress_pick(&r, state))
        })
        .ok()
        .flatten();
    let pick = pick.unwrap_or_else(|| {
        let mut r = IngressRequest::default();
        fill(&mut r);
        view.dataplane.ingress_pick(&r, state)
    });
    match pick {
        HttpPick::Endpoint(ep) => Answer {
            outcome: svcroute_outcome::Forward,
            endpoint: Some(ep),
            masquerade: false,
            http_status: 0,
        },
        HttpPick::Status(status) => Answer {
            outcome: svcroute_outcome::Http,
            endpoint: None,
            masquerade: false,
            http_status: status,
        },
    }
}

/// Places one connection as kube-proxy would on `flow.node`, and fills
/// `*out`: the outcome, the endpoint picked (bytes, port and text), the
/// masquerade flag and, for infrastructure answers, the HTTP status.
///
/// `now_ms` is the caller's monotonic clock in milliseconds (only
/// ClientIP session affinity, KP-19, and time-aware algorithms read it).
/// Placement follows the cluster's proxy mode (iptables and nftables:
/// uniformly at random, reproducible from the config's `seed`; IPVS: round
/// robin), or the algorithm `svcroute_set_algorithm` chose for the Service
/// port, among the endpoints kube-proxy's rules make eligible.
///
/// Fails with `SVCROUTE_STATUS_NULL_ARGUMENT` (`cluster`, `flow` or `out`
/// NULL; `flow->node` NULL for a host source), `SVCROUTE_STATUS_INVALID`
/// (a family, protocol or source kind that is none of the constants),
/// `SVCROUTE_STATUS_INVALID_UTF8` (`flow->node`) or
/// `SVCROUTE_STATUS_NOT_FOUND` (no node of that name); `*out` is then left
/// unchanged.
///
/// Cost: the call does not allocate (no lock on the cluster, a per-source
/// mutex, hash lookups; a chosen algorithm adds a per-cluster mutex), once
/// the per-pick state knows the client and the thread has routed once.
///
/// Ownership: `flow` (and `flow->node`) are borrowed for the call only;
/// `*out` is the caller's.
/// Threads: a read: any number of threads may route on one cluster at
/// once, while another applies changes.
///
/// # Safety
///
/// `cluster` is NULL or a live cluster, not freed during this call; `flow`
/// is NULL or points to a valid `svcroute_flow` whose `node` is NULL or
/// NUL-terminated; `out` is NULL or valid for writing one
/// `svcroute_route_result`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_route(
    cluster: *const crate::svcroute_cluster,
    flow: *const svcroute_flow,
    now_ms: u64,
    out: *mut svcroute_route_result,
) -> svcroute_status {
    crate::boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let cluster = unsafe { crate::owned::handle_ref(cluster, "cluster") }?;
        // SAFETY: as above.
        let flow = unsafe { flow.as_ref() }.ok_or_else(|| FfiError::null_argument("flow"))?;
        // SAFETY: as above.
        let out = unsafe { out.as_mut() }.ok_or_else(|| FfiError::null_argument("out"))?;
        // SAFETY: as above.
        let flow = unsafe { Flow::read(flow) }?;
        let answer = cluster.view(|view| route(view, cluster.shards(), &flow, now_ms))?;
        answer.fill(out, flow.endpoint_text);
        Ok(())
    })
}

/// The conformance spelling of an outcome: `"forward"`, `"direct"`,
/// `"reject"`, `"drop"`, `"no-such-service"`, `"port-not-exposed"`,
/// `"cname"`, `"not-captured"`, `"http"`; `"unknown"` for a number that is
/// no outcome.
///
/// Ownership: the string is static; do not free it. Never NULL.
/// Threads: may be called from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn svcroute_outcome_name(outcome: c_int) -> *const c_char {
    svcroute_outcome::name_of(i64::from(outcome))
        .unwrap_or(c"unknown")
        .as_ptr()
}

/// Reads an IPv4 (`"10.96.0.10"`) or IPv6 (`"fd00::10"`) address into
/// `*out`.
///
/// Fails with `SVCROUTE_STATUS_PARSE` (not an address),
/// `SVCROUTE_STATUS_NULL_ARGUMENT` or `SVCROUTE_STATUS_INVALID_UTF8`; `*out`
/// is then left unchanged.
///
/// Ownership: `text` is borrowed for the call only.
/// Threads: may be called from any thread at any time.
///
/// # Safety
///
/// `text` is NULL or NUL-terminated; `out` is NULL or valid for writing one
/// `svcroute_address`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcroute_address_parse(
    text: *const c_char,
    out: *mut svcroute_address,
) -> svcroute_status {
    crate::boundary::status(|| {
        // SAFETY: the caller's guarantees, as documented above.
        let text = unsafe { crate::args::str_arg(text, "text") }?;
        // SAFETY: as above.
        let out = unsafe { crate::args::out_arg(out, "out") }?;
        let ip: IpAddr = text.trim().parse().map_err(|_| {
            FfiError::new(
                svcroute_status::Parse,
                format!("{text:?} is not an IPv4 or IPv6 address"),
            )
        })?;
        out.write(svcroute_address::from_ip(ip));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::HashSet;

    use super::*;
    use crate::engine::Engine;
    use svcroute::dataplane::{Destination, Masquerade, Request, Source};

    const MANIFEST: &str = include_str!("../tests/data/two-nodes.yaml");

    fn engine(config: &str) -> Engine {
        let mut e = Engine::new(crate::door::new_cluster(Some(config)).unwrap()).unwrap();
        e.apply(MANIFEST).unwrap();
        e
    }

    fn flow<'a>(src: &str, dst: &str, node: Option<&'a str>) -> Flow<'a> {
        Flow {
            kind: svcroute_source_kind::Packet,
            protocol: Protocol::Tcp,
            protocol_number: proto::TCP,
            source: format!("{src}:40000").parse().unwrap(),
            destination: dst.parse().unwrap(),
            node,
            http: None,
            endpoint_text: false,
        }
    }

    /// Every flow of the small cluster answers as the core's full decision
    /// with its trace (outcome, the endpoint among the eligible ones,
    /// masquerade, HTTP status): cluster IPs, NodePorts, node addresses,
    /// from a packet at a node, at the front door, or a host process
    /// (KP-3, KP-4, KP-7, KP-10, KP-12, KP-20).
    #[test]
    fn route_answers_as_the_full_decision() {
        let sources = [
            "10.244.1.9",
            "10.244.2.9",
            "192.168.0.1",
            "198.51.100.7",
            "10.244.1.5",
        ];
        let dests = [
            "10.96.0.20:80",
            "10.96.0.21:6379",
            "10.96.0.22:5432",
            "10.96.0.23:80",
            "10.96.0.24:80",
            "10.96.0.20:81",
            "10.96.9.9:80",
            "192.168.0.1:30080",
            "192.168.0.2:30080",
            "192.168.0.2:30081",
        ];
        for config in [
            r#"{"bootstrap": false}"#,
            r#"{"bootstrap": false, "proxyMode": "ipvs"}"#,
            r#"{"bootstrap": false, "proxyMode": "nftables", "masqueradeAll": true}"#,
            r#"{"bootstrap": false, "detectLocalMode": "NodeCIDR"}"#,
        ] {
            let e = engine(config);
            let shards = Shards::new(1);
            for src in sources {
                for dst in dests {
                    for node in [Some("n1"), Some("n2"), None] {
                        for kind in [svcroute_source_kind::Packet, svcroute_source_kind::Host] {
                            if kind == svcroute_source_kind::Host && node.is_none() {
                                continue;
                            }
                            let mut f = flow(src, dst, node);
                            f.kind = kind;
                            let got = route(&e.view, &shards, &f, 0).unwrap();
                            let source = match kind {
                                svcroute_source_kind::Packet => Source::External {
                                    ip: f.source.ip(),
                                    arrives_at: node.map(str::to_owned),
                                },
                                svcroute_source_kind::Host => Source::Node(node.unwrap().into()),
                            };
                            let req = Request {
                                source,
                                destination: Destination::Ip(f.destination),
                                protocol: Protocol::Tcp,
                            };
                            let d = e
                                .view
                                .dataplane
                                .route(&req, &mut RouteState::new(0), Millis(0))
                                .unwrap();
                            let case = format!(
                                "{config} {src} -> {dst} at {node:?} {kind:?}: {got:?} vs {d:?}"
                            );
                            assert_eq!(got.outcome, svcroute_outcome::of(d.outcome), "{case}");
                            assert_eq!(
                                got.http_status,
                                d.http.as_ref().map_or(0, |h| h.status),
                                "{case}"
                            );
                            match got.endpoint {
                                Some(ep) if got.outcome == svcroute_outcome::Forward => {
                                    assert!(d.endpoints.contains(&ep), "{case}");
                                    match d.masquerade {
                                        Some(Masquerade::Yes) => assert!(got.masquerade, "{case}"),
                                        // A hairpin depends on the pick.
                                        Some(Masquerade::IfSelf) => {}
                                        _ => assert!(!got.masquerade, "{case}"),
                                    }
                                }
                                Some(_) => {}
                                None => assert!(!got.masquerade, "{case}"),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn outcomes_of_the_small_cluster() {
        let e = engine(r#"{"bootstrap": false}"#);
        let s = Shards::new(0);
        let at = |src: &str, dst: &str, node: Option<&str>| {
            route(&e.view, &s, &flow(src, dst, node), 0).unwrap()
        };
        // ClusterIP: forward to a ready endpoint (KP-4); a pod source is not masqueraded.
        let a = at("10.244.1.9", "10.96.0.20:80", Some("n1"));
        assert_eq!(a.outcome, svcroute_outcome::Forward);
        assert!(
            ["10.244.1.5:8080", "10.244.2.6:8080"]
                .contains(&a.endpoint.unwrap().to_string().as_str())
        );
        assert!(!a.masquerade);
        // KP-20: a source outside the cluster CIDR is masqueraded.
        assert!(at("198.51.100.7", "10.96.0.20:80", Some("n1")).masquerade);
        // KP-7: internalTrafficPolicy Local without a local endpoint drops.
        assert_eq!(
            at("10.244.2.9", "10.96.0.21:6379", Some("n2")).outcome,
            svcroute_outcome::Drop
        );
        assert_eq!(
            at("10.244.1.9", "10.96.0.21:6379", Some("n1"))
                .endpoint
                .unwrap()
                .to_string(),
            "10.244.1.7:6379"
        );
        // KP-12: no ready endpoint rejects.
        assert_eq!(
            at("10.244.1.9", "10.96.0.22:5432", Some("n1")).outcome,
            svcroute_outcome::Reject
        );
        // NodePort on a node address (the full path): forward, masqueraded.
        let np = at("198.51.100.7", "192.168.0.2:30080", None);
        assert_eq!(np.outcome, svcroute_outcome::Forward);
        assert!(np.masquerade);
        assert_eq!(
            at("10.244.1.9", "10.96.0.20:81", Some("n1")).outcome,
            svcroute_outcome::PortNotExposed
        );
        assert_eq!(
            at("10.244.1.9", "10.1.2.3:80", Some("n1")).outcome,
            svcroute_outcome::NoService
        );
        // KP-19: ClientIP affinity holds on the fast path.
        let first = at("10.244.1.9", "10.96.0.24:80", Some("n1")).endpoint;
        for _ in 0..20 {
            assert_eq!(
                at("10.244.1.9", "10.96.0.24:80", Some("n1")).endpoint,
                first
            );
        }
        // An unknown node is an error on both paths.
        let err = route(
            &e.view,
            &s,
            &flow("10.244.1.9", "10.96.0.20:80", Some("n9")),
            0,
        )
        .unwrap_err();
        assert_eq!(err.status, svcroute_status::NotFound);
        assert_eq!(err.message, "node n9 not found");
    }

    #[test]
    fn a_chosen_algorithm_picks_among_the_eligible_endpoints() {
        let mut e = engine(r#"{"bootstrap": false}"#);
        e.set_algorithm("shop", "web", 80, "maglev").unwrap();
        let s = Shards::new(0);
        let mut seen = HashSet::new();
        for port in 1000..1400 {
            let mut f = flow("10.244.1.9", "10.96.0.20:80", Some("n1"));
            f.source.set_port(port);
            let a = route(&e.view, &s, &f, 0).unwrap();
            // Consistent hashing: the same flow, the same endpoint, in any shard.
            let again = route(&e.view, &Shards::new(9), &f, 0).unwrap();
            assert_eq!(a.endpoint, again.endpoint);
            seen.insert(a.endpoint.unwrap());
        }
        assert_eq!(seen.len(), 2);
        // The NodePort of the same Service port uses it too.
        let np = route(
            &e.view,
            &s,
            &flow("198.51.100.7", "192.168.0.1:30080", None),
            0,
        )
        .unwrap();
        assert_eq!(np.outcome, svcroute_outcome::Forward);
        assert!(e.set_algorithm("shop", "web", 80, "fastest").is_err());
        e.set_algorithm("shop", "web", 80, "kube-proxy").unwrap();
        assert!(e.view.algorithms.is_empty());
    }

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    struct Counting;

    // SAFETY: forwards to the system allocator; only counts.
    unsafe impl std::alloc::GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
            // SAFETY: the caller's layout.
            unsafe { std::alloc::System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            // SAFETY: forwarded.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// The hot path of `svcroute_route` (C flow in, C result out) does not
    /// allocate once the affinity table holds the client.
    #[test]
    fn the_cluster_ip_path_does_not_allocate() {
        let mut c = std::ptr::null_mut();
        let cfg = c"{\"bootstrap\": false}";
        assert_eq!(
            unsafe { crate::cluster::svcroute_cluster_new(cfg.as_ptr(), &mut c) },
            svcroute_status::Ok
        );
        let s = unsafe {
            crate::cluster::svcroute_cluster_apply(
                c,
                MANIFEST.as_ptr(),
                MANIFEST.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(s, svcroute_status::Ok);
        let mut flow = svcroute_flow {
            source_kind: 0,
            protocol: 6,
            source: svcroute_address::from_ip("10.244.1.9".parse().unwrap()),
            source_port: 40000,
            destination: svcroute_address::from_ip("10.96.0.24".parse().unwrap()),
            destination_port: 80,
            node: c"n1".as_ptr(),
            options: SVCROUTE_ROUTE_ENDPOINT_TEXT,
            http: std::ptr::null(),
        };
        let mut out = Answer::empty_result();
        // Forward, forward with ClientIP affinity, Local forward, reject.
        for (dst, port) in [
            ("10.96.0.20", 80),
            ("10.96.0.24", 80),
            ("10.96.0.21", 6379),
            ("10.96.0.22", 5432),
        ] {
            flow.destination = svcroute_address::from_ip(dst.parse().unwrap());
            flow.destination_port = port;
            // Warm up (the affinity table learns the client).
            assert_eq!(
                unsafe { svcroute_route(c, &flow, 0, &mut out) },
                svcroute_status::Ok
            );
            let before = ALLOCATIONS.with(Cell::get);
            for now in 0..100 {
                assert_eq!(
                    unsafe { svcroute_route(c, &flow, now, &mut out) },
                    svcroute_status::Ok
                );
            }
            assert_eq!(ALLOCATIONS.with(Cell::get), before, "{dst}");
        }
        let text = unsafe { CStr::from_ptr(out.endpoint_text.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "");
        flow.destination = svcroute_address::from_ip("10.96.0.20".parse().unwrap());
        flow.destination_port = 80;
        assert_eq!(
            unsafe { svcroute_route(c, &flow, 0, &mut out) },
            svcroute_status::Ok
        );
        let text = unsafe { CStr::from_ptr(out.endpoint_text.as_ptr()) }
            .to_str()
            .unwrap();
        assert!(
            text == "10.244.1.5:8080" || text == "10.244.2.6:8080",
            "{text}"
        );
        unsafe { crate::cluster::svcroute_cluster_free(c) };
    }

    #[test]
    fn endpoint_text_is_the_socket_address() {
        for text in [
            "0.0.0.0:0",
            "10.244.1.5:8080",
            "255.255.255.255:65535",
            "[fd00::5]:80",
        ] {
            let ep: SocketAddr = text.parse().unwrap();
            let mut out = Answer::empty_result();
            let answer = Answer {
                outcome: svcroute_outcome::Forward,
                endpoint: Some(ep),
                masquerade: false,
                http_status: 0,
            };
            answer.fill(&mut out, true);
            let got = unsafe { CStr::from_ptr(out.endpoint_text.as_ptr()) };
            assert_eq!(got.to_str().unwrap(), text);
        }
    }

    #[test]
    fn endpoint_text_fits_any_address() {
        let mut out = Answer::empty_result();
        let ep: SocketAddr = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"
            .parse()
            .unwrap();
        Answer {
            outcome: svcroute_outcome::Forward,
            endpoint: Some(ep),
            masquerade: false,
            http_status: 0,
        }
        .fill(&mut out, true);
        let text = unsafe { CStr::from_ptr(out.endpoint_text.as_ptr()) }
            .to_str()
            .unwrap();
        assert_eq!(text, ep.to_string());
        assert_eq!(out.endpoint.family, SVCROUTE_FAMILY_IPV6);
    }
}
