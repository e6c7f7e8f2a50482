//! Routing for JS: `route(request)` answers what kube-proxy (or the Ingress
//! controller) does with one connection, with its trace.
//!
//! The routing tables are compiled from the cluster on first use and then
//! patched with the changes of every later call (`Dataplane::patch`), not
//! rebuilt.

use serde_json::Value;
use svcroute::cluster::ProxyMode;
use svcroute::dataplane::{Dataplane, Decision, Millis, Request};
use wasm_bindgen::prelude::*;

use crate::args::{invalid, text, to_json};
use crate::cluster::{Cluster, parse};
use crate::error::{CodedError, Result};

#[allow(dead_code)] // read by the macro below
const TS_ROUTE: &str = r#"
/** Where a connection starts: a pod (`"ns/name"`), a node's host network, or an outside client. */
export type RouteSource =
  | { pod: string }
  | { node: string }
  | { external: string; arrivesAt?: string };

/** Where a connection goes. */
export type RouteDestination =
  | { ip: string; port: number }
  | { dns: string; port: number; family?: "IPv4" | "IPv6" }
  | { ingress: { controller?: string; scheme?: "http" | "https"; host: string; path?: string; query?: string } }
  | { httproute: { gateway: string; listener?: string; host?: string; path?: string; method?: string; headers?: Record<string, string> } };

/** One routing question (the conformance suite's `route` query). */
export interface RouteRequest {
  source: RouteSource;
  destination: RouteDestination;
  protocol?: "TCP" | "UDP" | "SCTP" | "HTTP";
  /** The monotonic clock, for ClientIP affinity timeouts (default 0). */
  atSeconds?: number;
  /** The kube-proxy mode (default: the cluster's `proxyMode`). */
  mode?: "iptables" | "nftables" | "ipvs";
}

/** One hop of a trace: the rule of `services.md` applied, and what happened. */
export interface Hop {
  rule?: string;
  detail: string;
}

/** What happened to a connection, in the conformance vocabulary. */
export interface RouteDecision {
  result: "forward" | "direct" | "reject" | "drop" | "not-captured" | "no-such-service" | "cname" | "http" | string;
  /** The eligible backends, `ip:port`, before affinity narrows them. */
  endpoints?: string[];
  /** The backend picked. */
  chosen?: string;
  masquerade?: boolean | "if-self";
  packetFate?: "reject" | "drop" | "unhandled";
  dnsAnswers?: string[];
  cname?: string;
  httpStatus?: number;
  body?: unknown;
  /** The Service that handled it, `namespace/name`. */
  service?: string;
  ingressMatch?: unknown;
  routeMatch?: unknown;
  tls?: unknown;
  render?: unknown;
  trace: Hop[];
}
"#;

#[wasm_bindgen(typescript_custom_section)]
#[allow(dead_code)] // read by the macro below
const TS_SECTION: &str = TS_ROUTE;

fn route_error(err: svcroute::dataplane::RouteError) -> CodedError {
    CodedError::new(err.kind(), err.to_string())
}

/// A parsed `RouteRequest`: the core's request, the clock, the mode.
pub(crate) struct Parsed {
    pub(crate) request: Request,
    pub(crate) now: Millis,
    pub(crate) mode: Option<ProxyMode>,
}

/// Reads a `RouteRequest` (the conformance vocabulary, README 10.8).
pub(crate) fn parse_request(query: &Value) -> Result<Parsed> {
    // The page lets a pod be named without its namespace (`default`).
    let request = match text(&query["source"], "pod") {
        Some(pod) if !pod.contains('/') => {
            let mut query = query.clone();
            query["source"]["pod"] = Value::String(format!("default/{pod}"));
            Request::from_json(&query)
        }
        _ => Request::from_json(query),
    }
    .map_err(route_error)?;
    let now = Millis(
        query
            .get("atSeconds")
            .and_then(Value::as_f64)
            .map_or(0, |s| (s.max(0.0) * 1000.0) as u64),
    );
    let mode = match text(query, "mode") {
        None => None,
        Some(m) => Some(
            m.parse()
                .map_err(|_| invalid(format!("mode: {m:?} is not iptables, nftables or ipvs")))?,
        ),
    };
    Ok(Parsed { request, now, mode })
}

impl Cluster {
    /// The routing tables for `mode`: the cached ones (compiled on first
    /// use, patched since) for the cluster's own mode, fresh ones for
    /// another.
    pub(crate) fn dataplane_for(&mut self, mode: Option<ProxyMode>) -> Option<Dataplane> {
        let own = self.inner.config().proxy.mode;
        match mode {
            Some(m) if m != own => Some(Dataplane::compile(&self.inner, m)),
            _ => {
                if self.dataplane.is_none() {
                    self.dataplane = Some(Dataplane::compile(&self.inner, own));
                }
                None
            }
        }
    }

    /// Routes one parsed request, with the cluster's route state.
    pub(crate) fn route_parsed(&mut self, p: &Parsed) -> Result<Decision> {
        let other = self.dataplane_for(p.mode);
        let dp = other
            .as_ref()
            .or(self.dataplane.as_ref())
            .expect("compiled above");
        dp.route(&p.request, &mut self.route_state, p.now)
            .map_err(route_error)
    }
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// What happens to one connection (`RouteRequest`: source,
    /// destination, protocol, `atSeconds`, `mode`): the result, the
    /// eligible endpoints, the backend chosen, masquerade, and the trace of
    /// hops with the rule of each. ClientIP affinity memory carries over
    /// between calls. Throws `parse`/`invalid` for a malformed request,
    /// `not-found` for an unknown source pod or node.
    ///
    /// ```js
    /// const d = cluster.route({ source: { pod: "shop/client" },
    ///                           destination: { dns: "web", port: 80 } });
    /// d.result; // "forward"
    /// d.chosen; // "10.244.0.5:8080"
    /// d.trace;  // [{rule: "KP-2", detail: "..."}, ...]
    /// ```
    #[wasm_bindgen(unchecked_return_type = "RouteDecision")]
    pub fn route(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "RouteRequest")] request: JsValue,
    ) -> Result<JsValue> {
        let parsed = parse_request(&to_json(&request, "request")?)?;
        let decision = self.route_parsed(&parsed)?;
        parse(&decision.to_json().to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use svcroute::dataplane::{Destination, Source};

    #[test]
    fn requests_read_the_conformance_vocabulary() {
        let p = super::parse_request(&json!({
            "source": {"pod": "shop/client"},
            "destination": {"dns": "web", "port": 80},
            "atSeconds": 2, "mode": "ipvs"
        }))
        .unwrap();
        assert!(matches!(p.request.source, Source::Pod { ref name, .. } if name == "client"));
        assert!(matches!(
            p.request.destination,
            Destination::Dns { port: 80, .. }
        ));
        assert_eq!(p.now.0, 2000);
        assert!(super::parse_request(&json!({"source": {}, "destination": {}})).is_err());
        assert!(
            super::parse_request(
                &json!({"source": {"node": "n1"}, "destination": {"ip": "x", "port": 1}})
            )
            .is_err()
        );
    }
}
