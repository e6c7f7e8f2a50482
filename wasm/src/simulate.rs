//! Traffic for JS: `simulate` sends N requests from a source to a
//! destination and counts where they land, with kube-proxy's own choice or
//! any algorithm of `svcroute::balance` over the same eligible endpoints.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};
use svcroute::api::{Kind, Object};
use svcroute::balance::{
    Algorithm, Backend, Balancer, FlowKey, IpvsScheduler, Request as Pick, proto,
};
use svcroute::dataplane::{Destination, Protocol, RouteState, Source};
use svcroute::labels::Selector;
use wasm_bindgen::prelude::*;

use crate::args::{invalid, to_json};
use crate::cluster::{Cluster, parse};
use crate::error::Result;
use crate::route::parse_request;

/// The most requests one `simulate` call sends.
pub const MAX_REQUESTS: u64 = 1_000_000;

#[allow(dead_code)] // read by the macro below
const TS_SIMULATE: &str = r#"
/** The algorithms `simulate` knows: kube-proxy's own choice, or one of `svcroute::balance`. */
export type SimulateAlgorithm =
  | "kube-proxy" | "round-robin" | "smooth-weighted" | "random" | "weighted-random"
  | "iptables" | "nftables" | "ipvs" | "least-request" | "peak-ewma"
  | "maglev" | "ketama" | "jump" | "rendezvous";

/** N requests from a source to a destination. */
export interface SimulateRequest extends RouteRequest {
  /** How many requests (1 to 1,000,000). */
  requests: number;
  /** Default `kube-proxy`: each request routed as kube-proxy would (affinity included). */
  algorithm?: SimulateAlgorithm;
  /** IPVS scheduler for `ipvs` (`rr`, `wrr`, `lc`, `wlc`, `sed`, `nq`, `sh`, `dh`, `mh`). */
  scheduler?: string;
  /** Seed of the random choices (default: the cluster's `seed`). */
  seed?: number;
}

/** Where the requests went. */
export interface SimulateResult {
  algorithm: SimulateAlgorithm;
  requests: number;
  /** One entry per eligible endpoint, sorted by `ip:port`, with the pod behind it. */
  endpoints: { endpoint: string; pod: string | null; node: string | null; count: number }[];
  /** Requests that reached no endpoint. */
  unrouted: number;
  /** The first request, routed with its trace. */
  first: RouteDecision;
}
"#;

#[wasm_bindgen(typescript_custom_section)]
#[allow(dead_code)] // read by the macro below
const TS_SECTION: &str = TS_SIMULATE;

/// The balancer of `name` (any name but `kube-proxy`).
fn algorithm(name: &str, scheduler: Option<&str>, seed: u64) -> Result<Algorithm> {
    let mut algorithm = Algorithm::from_name(name, seed)
        .map_err(|_| invalid(format!("algorithm: unknown algorithm {name:?}")))?;
    if let (
        Algorithm::Ipvs {
            scheduler: chosen, ..
        },
        Some(s),
    ) = (&mut algorithm, scheduler)
    {
        *chosen = IpvsScheduler::parse(s)
            .ok_or_else(|| invalid(format!("scheduler: {s:?} is not an IPVS scheduler")))?;
    }
    Ok(algorithm)
}

/// A Pod's IP with the Pod (`ns/name`) and its node.
struct PodAt {
    ip: String,
    pod: String,
    node: Option<String>,
}

/// The IPs of the cluster's Pods (a list: the playground's clusters are
/// small, and a map type of its own would be code of its own in the module).
fn pods_by_ip(cluster: &svcroute::cluster::Cluster) -> Vec<PodAt> {
    let mut out = Vec::new();
    for object in cluster.list(Kind::Pod, None, &Selector::everything()) {
        let Object::Pod(p) = &*object else { continue };
        let pod = format!(
            "{}/{}",
            p.metadata.namespace.as_deref().unwrap_or("default"),
            p.metadata.name.as_deref().unwrap_or_default()
        );
        let ips = p.status.pod_ips.iter().map(|i| i.ip.as_str());
        for ip in ips.chain(p.status.pod_ip.as_deref()) {
            out.push(PodAt {
                ip: ip.to_owned(),
                pod: pod.clone(),
                node: p.spec.node_name.clone(),
            });
        }
    }
    out
}

/// Adds `by` to the count of `endpoint` in `counts` (kept in endpoint
/// order, as the result lists them).
fn count(counts: &mut Vec<(String, u64)>, endpoint: &str, by: u64) {
    match counts.binary_search_by(|(e, _)| e.as_str().cmp(endpoint)) {
        Ok(i) => counts[i].1 += by,
        Err(i) => counts.insert(i, (endpoint.to_owned(), by)),
    }
}

/// The IP of an endpoint string `ip:port` / `[v6]:port`.
fn endpoint_ip(endpoint: &str) -> &str {
    let host = endpoint.rsplit_once(':').map_or(endpoint, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// Sends `requests` requests from `source` to `destination` and counts
    /// where they land (`SimulateRequest` → `SimulateResult`). With the
    /// `kube-proxy` algorithm (the default) every request is routed as
    /// kube-proxy would route it, ClientIP affinity included; with any
    /// other the eligible endpoints of the first request are handed to that
    /// balancer, keyed by each request's flow (a new source port each).
    /// Deterministic for a seed. Throws like `route`, and `invalid` for an
    /// unknown algorithm or a count outside 1..=1,000,000.
    ///
    /// ```js
    /// const r = cluster.simulate({ source: { pod: "shop/client" },
    ///   destination: { dns: "web", port: 80 }, requests: 1000, algorithm: "round-robin" });
    /// r.endpoints.map(e => e.count); // [334, 333, 333]
    /// ```
    #[wasm_bindgen(unchecked_return_type = "SimulateResult")]
    pub fn simulate(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "SimulateRequest")] request: JsValue,
    ) -> Result<JsValue> {
        let query = to_json(&request, "request")?;
        let n = query
            .get("requests")
            .and_then(Value::as_u64)
            .filter(|n| (1..=MAX_REQUESTS).contains(n))
            .ok_or_else(|| invalid("requests: expected a whole number from 1 to 1000000"))?;
        let name = query
            .get("algorithm")
            .and_then(Value::as_str)
            .unwrap_or("kube-proxy")
            .to_owned();
        let seed = query
            .get("seed")
            .and_then(Value::as_u64)
            .unwrap_or(self.inner.config().seed);
        let parsed = parse_request(&query)?;
        // The first request, traced, on a state of its own (the simulation
        // does not touch the cluster's affinity memory).
        let saved = std::mem::replace(&mut self.route_state, RouteState::new(seed));
        let first = self.route_parsed(&parsed);
        let mut counts: Vec<(String, u64)> = Vec::new();
        let mut unrouted = 0u64;
        let outcome = first.and_then(|first| {
            for e in &first.endpoints {
                count(&mut counts, &svcroute::dataplane::endpoint_string(e), 0);
            }
            if name == "kube-proxy" {
                self.route_state = RouteState::new(seed);
                let other = self.dataplane_for(parsed.mode);
                let dp = other
                    .as_ref()
                    .or(self.dataplane.as_ref())
                    .expect("compiled");
                for _ in 0..n {
                    let chosen = dp
                        .route(&parsed.request, &mut self.route_state, parsed.now)
                        .ok()
                        .and_then(|d| d.chosen);
                    match chosen {
                        Some(c) => count(&mut counts, &svcroute::dataplane::endpoint_string(&c), 1),
                        None => unrouted += 1,
                    }
                }
            } else {
                let algo = algorithm(&name, query.get("scheduler").and_then(Value::as_str), seed)?;
                let keys: Vec<String> = counts.iter().map(|(e, _)| e.clone()).collect();
                if keys.is_empty() {
                    unrouted = n;
                } else {
                    let mut lb = algo
                        .build(&Backend::list(keys.iter().cloned()))
                        .map_err(|e| crate::error::CodedError::new(e.kind(), e.to_string()))?;
                    let src = self.source_ip(&parsed.request.source);
                    let (dst, dport) = match &parsed.request.destination {
                        Destination::Ip(a) => (a.ip(), a.port()),
                        Destination::Dns { port, .. } => (
                            first
                                .dns_answers
                                .first()
                                .copied()
                                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                            *port,
                        ),
                        _ => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80),
                    };
                    let protocol = match parsed.request.protocol {
                        Protocol::Udp => proto::UDP,
                        Protocol::Sctp => proto::SCTP,
                        _ => proto::TCP,
                    };
                    for i in 0..n {
                        let sport = 1024 + (i % 64_512) as u16;
                        let flow = FlowKey::new(src, sport, dst, dport, protocol);
                        match lb.pick(&Pick::flow(flow).at(i)) {
                            // `keys` are `counts`' endpoints, in its order.
                            Some(k) if k < counts.len() => counts[k].1 += 1,
                            Some(_) => unrouted += 1,
                            None => unrouted += 1,
                        }
                    }
                }
            }
            Ok(first)
        });
        self.route_state = saved;
        let first = outcome?;
        let pods = pods_by_ip(&self.inner);
        let endpoints: Vec<Value> = counts
            .iter()
            .map(|(endpoint, count)| {
                let ip = endpoint_ip(endpoint);
                // The last Pod of an IP, as before (host-network Pods share one).
                let pod = pods.iter().rev().find(|p| p.ip == ip);
                json!({
                    "endpoint": endpoint,
                    "pod": pod.map(|p| &p.pod),
                    "node": pod.and_then(|p| p.node.as_ref()),
                    "count": count,
                })
            })
            .collect();
        parse(
            &json!({
                "algorithm": name,
                "requests": n,
                "endpoints": endpoints,
                "unrouted": unrouted,
                "first": first.to_json(),
            })
            .to_string(),
        )
    }
}

impl Cluster {
    /// The address a source's packets carry (0.0.0.0 when unknown).
    fn source_ip(&self, source: &Source) -> IpAddr {
        let unknown = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        match source {
            Source::External { ip, .. } => *ip,
            Source::Pod { namespace, name } => crate::pods::pod(&self.inner, namespace, name)
                .ok()
                .and_then(|p| p.status.pod_ip.as_deref()?.parse().ok())
                .unwrap_or(unknown),
            Source::Node(_) => unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_named_algorithm_builds() {
        for &name in svcroute::balance::Algorithm::NAMES {
            let a = super::algorithm(name, None, 1).unwrap();
            assert_eq!(a.name(), name);
        }
        assert!(super::algorithm("nope", None, 1).is_err());
        assert!(super::algorithm("ipvs", Some("lblc"), 1).is_err());
    }

    #[test]
    fn endpoint_ips_of_both_families() {
        assert_eq!(super::endpoint_ip("10.0.0.1:80"), "10.0.0.1");
        assert_eq!(super::endpoint_ip("[fd00::1]:80"), "fd00::1");
    }
}
