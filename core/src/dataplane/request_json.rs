//! A route request read from the conformance vocabulary (conformance
//! README 10.8): `source` (`pod`, `node`, or `external` with `arrivesAt`),
//! `destination` (`dns` with `port` and `family`, `ip` with `port`,
//! `ingress`, `httproute`) and `protocol`.

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use super::{Destination, GatewayRequest, IngressRequest, Protocol, Request, RouteError, Source};
use crate::ipam::IpFamily;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn invalid(what: String) -> RouteError {
    RouteError::Invalid(what)
}

fn malformed(what: String) -> RouteError {
    RouteError::Malformed(what)
}

impl Request {
    /// Reads a request written as the conformance suites write a `route`
    /// query. Keys the request does not use (`atSeconds`) are ignored.
    ///
    /// ```
    /// use svcroute::dataplane::{Destination, Protocol, Request, Source};
    /// let q = serde_json::json!({
    ///     "source": {"pod": "shop/client"},
    ///     "destination": {"dns": "web", "port": 80},
    ///     "protocol": "UDP"
    /// });
    /// let r = Request::from_json(&q)?;
    /// assert_eq!(r.source, Source::Pod { namespace: "shop".into(), name: "client".into() });
    /// assert!(matches!(r.destination, Destination::Dns { port: 80, .. }));
    /// assert_eq!(r.protocol, Protocol::Udp);
    /// let bad = serde_json::json!({"source": {"pod": "client"}, "destination": {"ip": "10.0.0.1", "port": 80}});
    /// assert_eq!(Request::from_json(&bad).unwrap_err().to_string(),
    ///            "invalid route request: source.pod: \"client\" is not namespace/name");
    /// # Ok::<(), svcroute::dataplane::RouteError>(())
    /// ```
    pub fn from_json(query: &Value) -> Result<Request, RouteError> {
        Ok(Request {
            source: source(&query["source"])?,
            destination: destination(&query["destination"])?,
            protocol: match query.get("protocol") {
                None | Some(Value::Null) => Protocol::Tcp,
                Some(Value::String(p)) => p
                    .parse()
                    .map_err(|e: RouteError| invalid(format!("protocol: {e}")))?,
                Some(other) => return Err(malformed(format!("protocol: {other} is not a string"))),
            },
        })
    }
}

fn source(v: &Value) -> Result<Source, RouteError> {
    if let Some(pod) = text(v, "pod") {
        let (namespace, name) = pod
            .split_once('/')
            .ok_or_else(|| invalid(format!("source.pod: {pod:?} is not namespace/name")))?;
        return Ok(Source::Pod {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        });
    }
    if let Some(node) = text(v, "node") {
        return Ok(Source::Node(node.to_owned()));
    }
    if let Some(ip) = text(v, "external") {
        return Ok(Source::External {
            ip: ip
                .parse()
                .map_err(|_| invalid(format!("source.external: {ip:?} is not an IP address")))?,
            arrives_at: text(v, "arrivesAt").map(str::to_owned),
        });
    }
    Err(malformed(format!(
        "source: {v} has none of pod, node, external"
    )))
}

fn port(v: &Value) -> Result<u16, RouteError> {
    v.get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| malformed("destination.port: missing or not a port number".into()))
}

fn destination(v: &Value) -> Result<Destination, RouteError> {
    if let Some(name) = text(v, "dns") {
        return Ok(Destination::Dns {
            name: name.to_owned(),
            port: port(v)?,
            family: match text(v, "family") {
                None => None,
                Some("IPv4") => Some(IpFamily::V4),
                Some("IPv6") => Some(IpFamily::V6),
                Some(f) => {
                    return Err(invalid(format!(
                        "destination.family: {f:?}; expected IPv4 or IPv6"
                    )));
                }
            },
        });
    }
    if let Some(ip) = text(v, "ip") {
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| invalid(format!("destination.ip: {ip:?} is not an IP address")))?;
        return Ok(Destination::Ip(SocketAddr::new(ip, port(v)?)));
    }
    if let Some(i) = v.get("ingress") {
        let mut path = text(i, "path").unwrap_or("/").to_owned();
        if let Some(q) = text(i, "query") {
            path = format!("{path}?{q}");
        }
        return Ok(Destination::Ingress(IngressRequest {
            controller: text(i, "controller").unwrap_or_default().to_owned(),
            scheme: text(i, "scheme").unwrap_or("http").to_owned(),
            host: text(i, "host").unwrap_or_default().to_owned(),
            path,
        }));
    }
    if let Some(h) = v.get("httproute") {
        return Ok(Destination::HttpRoute(GatewayRequest {
            gateway: text(h, "gateway").unwrap_or_default().to_owned(),
            listener: text(h, "listener").map(str::to_owned),
            host: text(h, "host").unwrap_or_default().to_owned(),
            path: text(h, "path").unwrap_or("/").to_owned(),
            method: text(h, "method").map(str::to_owned),
            headers: h
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect(),
        }));
    }
    Err(malformed(format!(
        "destination: {v} has none of dns, ip, ingress, httproute"
    )))
}
