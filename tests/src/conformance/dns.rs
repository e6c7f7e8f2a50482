//! State and queries of the `dns` and `dns-search` suites: `dns`, `search`.
//!
//! The case's cluster is built with [`super::cluster::build`]; its
//! `config.dns` becomes a [`DnsConfig`]; the [`Dns`] index is kept current with
//! [`Dns::update`] after every `apply`/`delete` step. Records are compared per README sections
//! 10.6, 10.7 and 11: multisets, names case-insensitive, addresses parsed,
//! `*` matching any SOA serial; `additional` and SOA details only at the
//! reference level.

use std::net::IpAddr;

use serde_json::Value;
use svcroute::api::{Kind, ObjectKey};
use svcroute::cluster::Cluster;
use svcroute::dns::{
    Dns, DnsConfig, ExternalRecord, ExternalRecords, Fallthrough, Outcome, Record, RecordType,
    Resolver, SearchClient, Walk,
};

use super::{CaseContext, Handler, Level, StepResult};

/// The state one execution keeps.
pub struct State {
    /// The execution's level and mode.
    ctx: CaseContext,
    /// The cluster, or why it could not be built.
    cluster: Result<Cluster, String>,
    /// The DNS options of the case.
    config: Result<DnsConfig, String>,
    /// The index over the current cluster.
    dns: Option<Dns>,
}

impl State {
    /// Builds the state from a case's `config` and `objects` (see
    /// [`super::cluster::build`]); `Err` is the step result every stateful
    /// step of the case then reports.
    pub fn new(config: &Value, objects: &[Value], ctx: CaseContext) -> Result<State, StepResult> {
        let cluster = super::cluster::build(config, objects);
        let dns_config = match &cluster {
            Ok(c) => dns_config(config, c),
            Err(e) => Err(e.clone()),
        };
        let mut state = State {
            ctx,
            cluster,
            config: dns_config,
            dns: None,
        };
        state.reindex();
        Ok(state)
    }

    fn reindex(&mut self) {
        self.dns = match (&self.cluster, &self.config) {
            (Ok(c), Ok(cfg)) => Dns::new(c, cfg.clone()).ok(),
            _ => None,
        };
    }

    fn dns(&self) -> Result<&Dns, StepResult> {
        if let Err(e) = &self.cluster {
            return Err(StepResult::Fail(format!("cluster could not be built: {e}")));
        }
        if let Err(e) = &self.config {
            return Err(StepResult::Fail(format!("dns config: {e}")));
        }
        self.dns
            .as_ref()
            .ok_or_else(|| StepResult::Fail("dns index could not be built".into()))
    }

    fn reference(&self) -> bool {
        self.ctx.level == Level::Reference
    }
}

/// `config.dns` (README section 7) over the cluster's zone.
fn dns_config(config: &Value, cluster: &Cluster) -> Result<DnsConfig, String> {
    let mut c = DnsConfig::for_cluster(cluster.config());
    let Some(d) = config.get("dns") else {
        return Ok(c);
    };
    if let Some(ttl) = d.get("ttl").and_then(Value::as_u64) {
        c.ttl = u32::try_from(ttl).map_err(|e| e.to_string())?;
    }
    if let Some(p) = d.get("pods").and_then(Value::as_str) {
        c.pods = p.parse().map_err(|e| format!("{e}"))?;
    }
    if let Some(b) = d.get("endpointPodNames").and_then(Value::as_bool) {
        c.endpoint_pod_names = b;
    }
    if let Some(b) = d.get("ignoreEmptyService").and_then(Value::as_bool) {
        c.ignore_empty_service = b;
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    if let Some(ns) = d.get("namespaces") {
        c.namespaces = strings(ns);
    }
    if let Some(z) = d.get("reverseZones") {
        c.reverse_zones = strings(z);
    }
    if let Some(b) = d.get("fallthrough").and_then(Value::as_bool) {
        c.fallthrough = if b {
            Fallthrough::All
        } else {
            Fallthrough::Off
        };
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

// ------------------------------------------------------------ comparison

/// A record string in a canonical form for comparison: names lower-case
/// without trailing dot, addresses parsed and re-printed, the SOA serial
/// replaced by `*` when `wild_serial`, and (for `soa_owner_only`) only the
/// owner and type of an SOA.
fn canonical(record: &str, wild_serial: bool, soa_owner_only: bool) -> String {
    let name = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    let f: Vec<&str> = record.split_whitespace().collect();
    if f.len() < 4 {
        return record.to_owned();
    }
    let (owner, ttl, class, rtype) = (name(f[0]), f[1], f[2], f[3].to_ascii_uppercase());
    let rest = &f[4..];
    let rdata = match rtype.as_str() {
        "A" | "AAAA" => rest
            .iter()
            .map(|a| {
                a.parse::<IpAddr>()
                    .map_or(a.to_string(), |ip| ip.to_string())
            })
            .collect::<Vec<_>>()
            .join(" "),
        "SRV" if rest.len() == 4 => {
            format!("{} {} {} {}", rest[0], rest[1], rest[2], name(rest[3]))
        }
        "PTR" | "CNAME" | "NS" => rest.iter().map(|n| name(n)).collect::<Vec<_>>().join(" "),
        "SOA" if rest.len() == 7 => {
            if soa_owner_only {
                return format!("{owner} SOA");
            }
            let serial = if wild_serial { "*" } else { rest[2] };
            format!(
                "{} {} {serial} {} {} {} {}",
                name(rest[0]),
                name(rest[1]),
                rest[3],
                rest[4],
                rest[5],
                rest[6]
            )
        }
        _ => rest.join(" "),
    };
    if soa_owner_only && rtype == "SOA" {
        return format!("{owner} SOA");
    }
    format!("{owner} {ttl} {class} {rtype} {rdata}")
}

fn expected_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Compares expected record strings with actual records as multisets.
fn compare_records(
    what: &str,
    expected: &[String],
    actual: &[Record],
    soa_owner_only: bool,
) -> Result<(), String> {
    let wild = expected.iter().any(|e| {
        let f: Vec<&str> = e.split_whitespace().collect();
        f.get(3).is_some_and(|t| t.eq_ignore_ascii_case("SOA")) && f.get(6) == Some(&"*")
    });
    let mut want: Vec<String> = expected
        .iter()
        .map(|e| canonical(e, wild, soa_owner_only))
        .collect();
    let mut got: Vec<String> = actual
        .iter()
        .map(|r| canonical(&r.to_string(), wild, soa_owner_only))
        .collect();
    want.sort();
    got.sort();
    if want == got {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {expected:?}, got {:?}",
            actual.iter().map(Record::to_string).collect::<Vec<_>>()
        ))
    }
}

fn qtype_of(v: &Value) -> Result<RecordType, String> {
    v.as_str()
        .ok_or("missing type")?
        .parse::<RecordType>()
        .map_err(|e| e.to_string())
}

impl State {
    fn dns_query(&self, query: &Value, expect: &Value) -> StepResult {
        let dns = match self.dns() {
            Ok(d) => d,
            Err(e) => return e,
        };
        let name = query["name"].as_str().unwrap_or_default();
        let qtype = match qtype_of(&query["type"]) {
            Ok(t) => t,
            Err(e) => return StepResult::Fail(format!("dns: {e}")),
        };
        let answer = match dns.query(name, qtype) {
            Ok(a) => a,
            Err(e) => return StepResult::Fail(format!("dns: {e}")),
        };
        let check = || -> Result<(), String> {
            if let Some(o) = expect.get("outcome").and_then(Value::as_str)
                && o != answer.outcome.as_str()
            {
                return Err(format!(
                    "outcome: expected {o}, got {} (answer {:?})",
                    answer.outcome.as_str(),
                    answer
                        .answer
                        .iter()
                        .map(Record::to_string)
                        .collect::<Vec<_>>()
                ));
            }
            if let Some(r) = expect.get("rcode").and_then(Value::as_str) {
                let got = answer.rcode().map_or("none", |c| c.as_str());
                if r != got {
                    return Err(format!("rcode: expected {r}, got {got}"));
                }
            }
            if let Some(a) = expect.get("answer") {
                compare_records("answer", &expected_strings(a), &answer.answer, false)?;
            }
            if let Some(a) = expect.get("additional")
                && self.reference()
            {
                let mut want = expected_strings(a);
                want.sort();
                want.dedup();
                compare_records("additional", &want, &answer.additional, false)?;
            }
            if let Some(a) = expect.get("authority") {
                let want = expected_strings(a);
                if !(want.is_empty() && answer.outcome == Outcome::Answer) {
                    compare_records("authority", &want, &answer.authority, !self.reference())?;
                }
            }
            let mut want_chase: Vec<(String, String)> = expect
                .get("chase")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c["name"]
                            .as_str()
                            .unwrap_or_default()
                            .trim_end_matches('.')
                            .to_ascii_lowercase(),
                        c["qtype"].as_str().unwrap_or_default().to_ascii_uppercase(),
                    )
                })
                .collect();
            if expect.get("outcome").and_then(Value::as_str) != Some("passthrough") {
                let mut got_chase: Vec<(String, String)> = answer
                    .chase
                    .iter()
                    .map(|c| {
                        (
                            c.name.trim_end_matches('.').to_ascii_lowercase(),
                            c.qtype.to_string(),
                        )
                    })
                    .collect();
                want_chase.sort();
                want_chase.dedup();
                got_chase.sort();
                got_chase.dedup();
                if want_chase != got_chase {
                    return Err(format!("chase: expected {want_chase:?}, got {got_chase:?}"));
                }
            }
            Ok(())
        };
        match check() {
            Ok(()) => StepResult::Pass,
            Err(e) => StepResult::Fail(format!("dns {name} {qtype}: {e}")),
        }
    }

    fn search(&self, query: &Value, expect: &Value) -> StepResult {
        let dns = match self.dns() {
            Ok(d) => d,
            Err(e) => return e,
        };
        let client = &query["client"];
        let mut sc = SearchClient::new(client["namespace"].as_str().unwrap_or_default());
        if let Some(n) = client["ndots"].as_u64() {
            sc.ndots = u32::try_from(n).unwrap_or(u32::MAX);
        }
        sc.host_search = expected_strings(&client["host_search"]);
        let name = query["name"].as_str().unwrap_or_default();
        let qtype = match qtype_of(&query["qtype"]) {
            Ok(t) => t,
            Err(e) => return StepResult::Fail(format!("search: {e}")),
        };
        let mut external = ExternalRecords::default();
        if let Some(map) = query["externalRecords"].as_object() {
            for (n, r) in map {
                external.insert(
                    n,
                    ExternalRecord {
                        a: r["A"].as_str().and_then(|s| s.parse().ok()),
                        aaaa: r["AAAA"].as_str().and_then(|s| s.parse().ok()),
                        ttl: r["ttl"]
                            .as_u64()
                            .and_then(|t| u32::try_from(t).ok())
                            .unwrap_or(0),
                    },
                );
            }
        }
        let check = || -> Result<(), String> {
            if let Some(list) = expect.get("search_list") {
                let got = sc.search_list(&dns.config().zone);
                if expected_strings(list) != got {
                    return Err(format!("search_list: expected {list}, got {got:?}"));
                }
            }
            let glibc = dns.search(&sc, name, qtype, Resolver::Glibc, &external);
            let musl = dns.search(&sc, name, qtype, Resolver::Musl, &external);
            if let Some(c) = expect.get("candidates") {
                compare_names("candidates", &expected_strings(c), &glibc.candidates)?;
            }
            if let Some(g) = expect.get("glibc") {
                compare_walk("glibc", g, &glibc)?;
            }
            match expect.get("musl") {
                Some(m) => compare_walk("musl", m, &musl)?,
                None if expect.get("glibc").is_some()
                    && (musl.sent != glibc.sent
                        || musl.result != glibc.result
                        || musl.answered_by != glibc.answered_by) =>
                {
                    return Err(format!(
                        "musl walk should equal glibc's: glibc {glibc:?}, musl {musl:?}"
                    ));
                }
                None => {}
            }
            Ok(())
        };
        match check() {
            Ok(()) => StepResult::Pass,
            Err(e) => StepResult::Fail(format!("search {name} {qtype}: {e}")),
        }
    }
}

fn compare_names(what: &str, want: &[String], got: &[String]) -> Result<(), String> {
    let norm = |s: &String| s.to_ascii_lowercase();
    if want.iter().map(norm).eq(got.iter().map(norm)) {
        Ok(())
    } else {
        Err(format!("{what}: expected {want:?}, got {got:?}"))
    }
}

fn compare_walk(which: &str, want: &Value, got: &Walk) -> Result<(), String> {
    if let Some(c) = want.get("candidates") {
        compare_names(
            &format!("{which}.candidates"),
            &expected_strings(c),
            &got.candidates,
        )?;
    }
    if let Some(sent) = want.get("sent").and_then(Value::as_array) {
        let want_sent: Vec<(String, String)> = sent
            .iter()
            .map(|s| {
                (
                    s["qname"].as_str().unwrap_or_default().to_ascii_lowercase(),
                    s["outcome"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let got_sent: Vec<(String, String)> = got
            .sent
            .iter()
            .map(|s| (s.qname.to_ascii_lowercase(), s.outcome.as_str().to_owned()))
            .collect();
        if want_sent != got_sent {
            return Err(format!(
                "{which}.sent: expected {want_sent:?}, got {got_sent:?}"
            ));
        }
    }
    if let Some(a) = want.get("answered_by") {
        let w = a.as_str().map(str::to_ascii_lowercase);
        let g = got.answered_by.as_deref().map(str::to_ascii_lowercase);
        if w != g {
            return Err(format!("{which}.answered_by: expected {w:?}, got {g:?}"));
        }
    }
    if let Some(r) = want.get("result").and_then(Value::as_str)
        && r != got.result.as_str()
    {
        return Err(format!(
            "{which}.result: expected {r}, got {}",
            got.result.as_str()
        ));
    }
    if let Some(a) = want.get("answer") {
        compare_records(
            &format!("{which}.answer"),
            &expected_strings(a),
            &got.answer,
            false,
        )?;
    }
    Ok(())
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        match kind {
            "dns" => Some(self.dns_query(query, expect)),
            "search" => Some(self.search(query, expect)),
            _ => None,
        }
    }

    fn apply(&mut self, objects: &[Value]) -> StepResult {
        let Ok(cluster) = &mut self.cluster else {
            return StepResult::Pass;
        };
        let objects = match super::cluster::decode_objects(objects) {
            Ok(o) => o,
            Err(e) => return StepResult::Fail(format!("apply: {e}")),
        };
        match cluster.apply_batch(objects) {
            Ok(changes) => {
                if let Some(d) = &mut self.dns {
                    d.update(cluster, &changes);
                }
                StepResult::Pass
            }
            Err(e) => StepResult::Fail(format!("apply: {e}")),
        }
    }

    fn delete(&mut self, refs: &[Value]) -> StepResult {
        let Ok(cluster) = &mut self.cluster else {
            return StepResult::Pass;
        };
        let mut keys = Vec::new();
        for r in refs {
            let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            let Some(kind) = Kind::from_type(text("apiVersion"), text("kind")) else {
                return StepResult::Fail(format!("delete: unknown kind in {r}"));
            };
            keys.push(ObjectKey {
                kind,
                namespace: r
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                name: text("name").to_owned(),
            });
        }
        match cluster.delete_batch(&keys) {
            Ok(changes) => {
                if let Some(d) = &mut self.dns {
                    d.update(cluster, &changes);
                }
                StepResult::Pass
            }
            Err(e) => StepResult::Fail(format!("delete: {e}")),
        }
    }
}
