//! DNS for JS: one question to the cluster DNS (`dnsQuery`), the options of
//! the CoreDNS `kubernetes` plugin (`setDnsConfig`), and the walk a pod's
//! resolver makes through its search list (`dnsSearch`).

use serde_json::{Value, json};
use svcroute::dns::{
    Answer, Dns, DnsConfig, ExternalRecord, ExternalRecords, Fallthrough, Record, RecordType,
    Resolver, SearchClient, Walk,
};
use wasm_bindgen::prelude::*;

use crate::args::{invalid, namespaced, parse_error, text, to_json};
use crate::cluster::{Cluster, parse};
use crate::error::{CodedError, Result};

#[allow(dead_code)] // read by the macro below
const TS_DNS: &str = r#"
/** The options of the CoreDNS `kubernetes` plugin (the conformance suite's `dns` keys). */
export interface DnsOptions {
  ttl?: number;
  pods?: "disabled" | "insecure" | "verified";
  endpointPodNames?: boolean;
  ignoreEmptyService?: boolean;
  namespaces?: string[];
  reverseZones?: string[];
  fallthrough?: boolean;
}

export type DnsOutcome = "answer" | "nodata" | "nxdomain" | "passthrough" | "refused";

/** The answer to one DNS question; records in presentation form (`name ttl IN TYPE rdata`). */
export interface DnsAnswer {
  outcome: DnsOutcome;
  /** `NOERROR`, `NXDOMAIN`, `REFUSED`; absent for `passthrough`. */
  rcode?: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** ExternalName targets outside the cluster still to resolve. */
  chase: { name: string; qtype: string }[];
}

/** Who asks, for a search-list walk: a pod (its namespace) or a namespace. */
export interface DnsClient {
  /** `"ns/name"` of a pod: its namespace is used. */
  pod?: string;
  namespace?: string;
  /** resolv.conf `ndots` (default 5). */
  ndots?: number;
  /** The node's own search domains. */
  hostSearch?: string[];
}

/** The walk a pod's resolver makes for a name as typed. */
export interface DnsWalk {
  searchList: string[];
  /** The names the resolver would try, in order. */
  candidates: string[];
  /** The queries sent, in order, and what each came to. */
  sent: { qname: string; outcome: DnsOutcome }[];
  answeredBy: string | null;
  result: "answer" | "nodata" | "nxdomain";
  answer: string[];
}

/** The DNS outside the cluster: FQDN → its addresses. */
export type ExternalRecordTable = Record<string, { A?: string; AAAA?: string; ttl?: number }>;
"#;

#[wasm_bindgen(typescript_custom_section)]
#[allow(dead_code)] // read by the macro below
const TS_SECTION: &str = TS_DNS;

fn dns_error(err: svcroute::dns::DnsError) -> CodedError {
    CodedError::new(err.kind(), err.to_string())
}

fn records(records: &[Record]) -> Value {
    Value::Array(records.iter().map(|r| json!(r.to_string())).collect())
}

/// An answer as `DnsAnswer`.
fn answer_json(a: &Answer) -> Value {
    let mut o = json!({
        "outcome": a.outcome.as_str(),
        "answer": records(&a.answer),
        "authority": records(&a.authority),
        "additional": records(&a.additional),
        "chase": a.chase.iter().map(|c| json!({"name": c.name, "qtype": c.qtype.name()})).collect::<Vec<_>>(),
    });
    if let Some(rcode) = a.rcode() {
        o["rcode"] = json!(rcode.as_str());
    }
    o
}

fn walk_json(search_list: &[String], w: &Walk) -> Value {
    json!({
        "searchList": search_list,
        "candidates": w.candidates,
        "sent": w.sent.iter().map(|s| json!({"qname": s.qname, "outcome": s.outcome.as_str()})).collect::<Vec<_>>(),
        "answeredBy": w.answered_by,
        "result": w.result.as_str(),
        "answer": records(&w.answer),
    })
}

/// `DnsOptions` over the cluster's defaults.
fn dns_config(options: &Value, cluster: &svcroute::cluster::Cluster) -> Result<DnsConfig> {
    let mut c = DnsConfig::for_cluster(cluster.config());
    let Some(map) = options.as_object() else {
        return match options {
            Value::Null => Ok(c),
            _ => Err(parse_error("dns options: expected an object")),
        };
    };
    let strings = |v: &Value, key: &str| -> Result<Vec<String>> {
        v.as_array()
            .ok_or_else(|| parse_error(format!("dns options: {key}: expected a list of strings")))?
            .iter()
            .map(|s| {
                s.as_str().map(str::to_owned).ok_or_else(|| {
                    parse_error(format!("dns options: {key}: expected a list of strings"))
                })
            })
            .collect()
    };
    for (key, v) in map {
        let boolean = || {
            v.as_bool()
                .ok_or_else(|| parse_error(format!("dns options: {key}: expected true or false")))
        };
        match key.as_str() {
            "ttl" => {
                c.ttl = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| parse_error("dns options: ttl: expected an integer"))?;
            }
            "pods" => {
                c.pods = v
                    .as_str()
                    .ok_or_else(|| parse_error("dns options: pods: expected a string"))?
                    .parse()
                    .map_err(dns_error)?;
            }
            "endpointPodNames" => c.endpoint_pod_names = boolean()?,
            "ignoreEmptyService" => c.ignore_empty_service = boolean()?,
            "namespaces" => c.namespaces = strings(v, key)?,
            "reverseZones" => c.reverse_zones = strings(v, key)?,
            "fallthrough" => {
                c.fallthrough = if boolean()? {
                    Fallthrough::All
                } else {
                    Fallthrough::Off
                };
            }
            other => return Err(parse_error(format!("dns options: unknown key {other:?}"))),
        }
    }
    c.validate().map_err(dns_error)?;
    Ok(c)
}

fn record_type(qtype: Option<String>) -> Result<RecordType> {
    match qtype.as_deref() {
        None | Some("") => Ok(RecordType::A),
        Some(t) => t.parse().map_err(dns_error),
    }
}

fn external_records(table: &Value) -> Result<ExternalRecords> {
    let mut out = ExternalRecords::default();
    let Some(map) = table.as_object() else {
        return Ok(out);
    };
    for (name, r) in map {
        fn addr<T: std::str::FromStr>(r: &Value, name: &str, key: &str) -> Result<Option<T>> {
            text(r, key)
                .map(|a| {
                    a.parse().map_err(|_| {
                        invalid(format!("external records: {name}: {key}: not an address"))
                    })
                })
                .transpose()
        }
        out.insert(
            name,
            ExternalRecord {
                a: addr(r, name, "A")?,
                aaaa: addr(r, name, "AAAA")?,
                ttl: r
                    .get("ttl")
                    .and_then(Value::as_u64)
                    .and_then(|t| u32::try_from(t).ok())
                    .unwrap_or(300),
            },
        );
    }
    Ok(out)
}

impl Cluster {
    /// The DNS index, built on first use.
    fn dns(&mut self) -> Result<&Dns> {
        if self.dns.is_none() {
            let config = DnsConfig::for_cluster(self.inner.config());
            self.dns = Some(Dns::new(&self.inner, config).map_err(dns_error)?);
        }
        Ok(self.dns.as_ref().expect("just built"))
    }
}

#[wasm_bindgen(js_class = Cluster)]
impl Cluster {
    /// Sets the options of the cluster DNS (`DnsOptions`: `ttl`, `pods`,
    /// `endpointPodNames`, `ignoreEmptyService`, `namespaces`,
    /// `reverseZones`, `fallthrough`; absent keys take CoreDNS's defaults).
    /// Throws `parse` for an unknown key or a wrong type, `invalid` for a
    /// bad value.
    ///
    /// ```js
    /// cluster.setDnsConfig({ ttl: 30, pods: "verified" });
    /// ```
    #[wasm_bindgen(js_name = setDnsConfig)]
    pub fn set_dns_config(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "DnsOptions | null | undefined")] options: JsValue,
    ) -> Result<()> {
        let config = dns_config(&to_json(&options, "dns options")?, &self.inner)?;
        self.dns = Some(Dns::new(&self.inner, config).map_err(dns_error)?);
        Ok(())
    }

    /// One question to the cluster DNS: `name` fully qualified (a missing
    /// trailing dot is added), `type` `A` (the default), `AAAA`, `SRV`,
    /// `PTR`, `CNAME`, `TXT`, `SOA`, `NS`, `MX`… Records come in
    /// presentation form. Throws `invalid` for a malformed name.
    ///
    /// ```js
    /// cluster.dnsQuery("web.shop.svc.cluster.local.", "A").answer;
    /// // ["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"]
    /// ```
    #[wasm_bindgen(js_name = dnsQuery, unchecked_return_type = "DnsAnswer")]
    pub fn dns_query(&mut self, name: &str, qtype: Option<String>) -> Result<JsValue> {
        let qtype = record_type(qtype)?;
        let name = if name.ends_with('.') {
            name.to_owned()
        } else {
            format!("{name}.")
        };
        let answer = self.dns()?.query(&name, qtype).map_err(dns_error)?;
        parse(&answer_json(&answer).to_string())
    }

    /// The walk a pod's resolver makes for `name` as typed in it
    /// (`dnsPolicy: ClusterFirst`): the search list, the candidates, the
    /// queries sent and what each came to, and the answer. `client` is a pod
    /// (`{pod: "ns/name"}`) or a namespace, with `ndots` and the node's
    /// `hostSearch`; `resolver` is `glibc` (the default) or `musl`;
    /// `external` is the DNS outside the cluster (`{"www.example.com.": {A:
    /// "198.51.100.7"}}`; other names outside are NXDOMAIN). Throws
    /// `not-found` for an unknown pod.
    ///
    /// ```js
    /// const walk = cluster.dnsSearch({ pod: "shop/client" }, "web", "A");
    /// walk.sent;  // [{qname: "web.shop.svc.cluster.local.", outcome: "answer"}]
    /// ```
    #[wasm_bindgen(js_name = dnsSearch, unchecked_return_type = "DnsWalk")]
    pub fn dns_search(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "DnsClient")] client: JsValue,
        name: &str,
        qtype: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "\"glibc\" | \"musl\" | null | undefined")]
        resolver: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "ExternalRecordTable | null | undefined")]
        external: JsValue,
    ) -> Result<JsValue> {
        let client = to_json(&client, "client")?;
        let qtype = record_type(qtype)?;
        let resolver = match resolver.as_deref() {
            None | Some("") | Some("glibc") => Resolver::Glibc,
            Some("musl") => Resolver::Musl,
            Some(other) => {
                return Err(invalid(format!("resolver: {other:?} is not glibc or musl")));
            }
        };
        let external = external_records(&to_json(&external, "external")?)?;
        let namespace = match (text(&client, "pod"), text(&client, "namespace")) {
            (Some(pod), _) => {
                let (ns, pod_name) = namespaced(pod);
                crate::pods::pod(&self.inner, ns, pod_name)?;
                ns.to_owned()
            }
            (None, Some(ns)) => ns.to_owned(),
            (None, None) => "default".to_owned(),
        };
        let mut sc = SearchClient::new(namespace);
        if let Some(n) = client.get("ndots").and_then(Value::as_u64) {
            sc.ndots = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(hosts) = client.get("hostSearch").and_then(Value::as_array) {
            sc.host_search = hosts
                .iter()
                .filter_map(|h| h.as_str().map(str::to_owned))
                .collect();
        }
        let dns = self.dns()?;
        let list = sc.search_list(&dns.config().zone);
        let walk = dns.search(&sc, name, qtype, resolver, &external);
        parse(&walk_json(&list, &walk).to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn dns_options_read_the_conformance_keys() {
        let cluster = svcroute::cluster::Cluster::new(Default::default()).unwrap();
        let c = super::dns_config(
            &json!({"ttl": 30, "pods": "verified", "fallthrough": true}),
            &cluster,
        )
        .unwrap();
        assert_eq!(c.ttl, 30);
        assert_eq!(c.pods, svcroute::dns::PodMode::Verified);
        assert!(super::dns_config(&json!({"nope": 1}), &cluster).is_err());
        assert!(super::dns_config(&json!({"ttl": 9999}), &cluster).is_err());
    }
}
