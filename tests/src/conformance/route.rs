//! State and queries of the routing suites (`services`, `topology`, `affinity`, `ingress`, `gateway`): `route` and the `mutate` step.
//!
//! The handler keeps its own settled [`Cluster`] (built with
//! [`super::cluster::build`]), a [`Dataplane`] compiled for the execution's
//! mode (patched with the cluster's `Changes` after every `apply`, `delete` and `mutate`), the
//! [`RouteState`] (affinity memory survives recompiles, as kernel state
//! survives a kube-proxy sync) and the backend chosen by every `route` step.
//!
//! Step indices (for `sameAsStep` and `mutate`'s step references) are the
//! case's own, told by the runner through [`Handler::begin_step`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde_json::{Value, json};
use svcroute::api::{ConditionStatus, Kind, Object, ObjectKey, PodCondition, PodPhase};
use svcroute::cluster::{Cluster, ProxyMode};
use svcroute::dataplane::{Dataplane, Decision, Masquerade, Millis, Request, RouteState, Verdict};
use svcroute::labels::Selector;

use super::{CaseContext, Handler, StepResult};

/// The state one execution keeps.
pub struct State {
    /// The execution's level and mode.
    ctx: CaseContext,
    /// The cluster and its compiled dataplane, or why they could not be built.
    built: Result<(Cluster, Dataplane), String>,
    /// Affinity memory and the seeded random source.
    state: RouteState,
    /// The index of the step being run (from the runner).
    step: usize,
    /// Backend chosen by each `route` step, by step index.
    chosen: HashMap<usize, SocketAddr>,
}

impl State {
    /// Builds the state from a case's `config` and `objects` (see
    /// [`super::cluster::build`]); `Err` is the step result every stateful
    /// step of the case then reports.
    pub fn new(config: &Value, objects: &[Value], ctx: CaseContext) -> Result<State, StepResult> {
        let mode = ctx
            .mode
            .and_then(|m| m.parse::<ProxyMode>().ok())
            .unwrap_or_default();
        let built = super::cluster::build(config, objects).map(|c| {
            let dp = Dataplane::compile(&c, mode);
            (c, dp)
        });
        Ok(State {
            ctx,
            built,
            state: RouteState::new(0x5eed),
            step: 0,
            chosen: HashMap::new(),
        })
    }

    fn mode(&self) -> ProxyMode {
        self.ctx
            .mode
            .and_then(|m| m.parse::<ProxyMode>().ok())
            .unwrap_or_default()
    }

    /// Brings the dataplane up to date with what the cluster reported.
    fn patch(&mut self, changes: &svcroute::cluster::Changes) {
        if let Ok((c, dp)) = &mut self.built {
            dp.patch(c, changes);
        }
    }

    fn route(&mut self, index: usize, query: &Value, expect: &Value) -> StepResult {
        let request = match parse_request(query) {
            Ok(r) => r,
            Err(e) => return e,
        };
        let now = Millis(
            (query
                .get("atSeconds")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                * 1000.0) as u64,
        );
        let dp = match &self.built {
            Ok((_, dp)) => dp,
            Err(e) => return StepResult::Fail(format!("cluster could not be built: {e}")),
        };
        // The trace-free decision from the same state must be the same.
        let verdict = request.flow().map(|flow| {
            let mut state = self.state.clone();
            dp.decide(&flow, &mut state, now)
                .map(|v| verdict_summary(&v))
                .map_err(|e| e.to_string())
        });
        let decision = match dp.route(&request, &mut self.state, now) {
            Ok(d) => d,
            Err(e) => {
                if let Some(Ok(v)) = verdict {
                    return StepResult::Fail(format!("route: {e}, but decide answered {v}"));
                }
                return StepResult::Fail(format!("route: {e}"));
            }
        };
        if let Some(v) = verdict {
            let want = decision_summary(&decision);
            if v.as_ref() != Ok(&want) {
                return StepResult::Fail(format!("decide answered {v:?}, route {want}"));
            }
        }
        if let Some(c) = decision.chosen {
            self.chosen.insert(index, c);
        }
        let expect = effective_expect(expect, self.ctx.mode);
        match self.check(&decision, &expect) {
            StepResult::Fail(why) => StepResult::Fail(format!(
                "{why}\n    trace: {}",
                decision
                    .trace
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )),
            other => other,
        }
    }

    #[allow(clippy::collapsible_match)] // one arm per key reads better
    fn check(&self, d: &Decision, expect: &Value) -> StepResult {
        let Some(map) = expect.as_object() else {
            return StepResult::Fail("expectation is not an object".into());
        };
        let known = [
            "result",
            "endpoints",
            "masquerade",
            "packetFate",
            "dnsAnswers",
            "cname",
            "httpStatus",
            "body",
            "sameAsStep",
            "minusEndpointOfStep",
            "ingressMatch",
            "routeMatch",
            "tls",
            "render",
        ];
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return StepResult::Unsupported(format!("route expectation `{k}`"));
        }
        let fail = |key: &str, want: &Value, got: Value| {
            StepResult::Fail(format!("{key}: expected {want}, got {got}"))
        };
        for (key, want) in map {
            match key.as_str() {
                "result" => {
                    if want.as_str() != Some(d.outcome.as_str()) {
                        return fail(key, want, json!(d.outcome.as_str()));
                    }
                }
                "endpoints" => {
                    let mut wanted: Vec<String> = strings(want);
                    if let Some(k) = map.get("minusEndpointOfStep").and_then(Value::as_u64) {
                        let Some(c) = self.chosen.get(&(k as usize)) else {
                            return StepResult::Fail(format!("step {k} chose no endpoint"));
                        };
                        let c = c.to_string();
                        wanted.retain(|w| *w != c);
                    }
                    wanted.sort();
                    let mut got: Vec<String> =
                        d.endpoints.iter().map(ToString::to_string).collect();
                    got.sort();
                    if want.is_null() {
                        if !got.is_empty() {
                            return fail(key, want, json!(got));
                        }
                    } else if wanted != got {
                        return fail(key, &json!(wanted), json!(got));
                    }
                }
                "masquerade" => {
                    let got = match d.masquerade {
                        None => Value::Null,
                        Some(Masquerade::No) => json!(false),
                        Some(Masquerade::Yes) => json!(true),
                        Some(Masquerade::IfSelf) => json!("if-self"),
                    };
                    if *want != got {
                        return fail(key, want, got);
                    }
                }
                "packetFate" => {
                    let got = d.packet_fate.map_or(Value::Null, |f| json!(f.as_str()));
                    if *want != got {
                        return fail(key, want, got);
                    }
                }
                "dnsAnswers" => {
                    let mut w: Vec<IpAddr> = strings(want)
                        .iter()
                        .filter_map(|s| s.parse().ok())
                        .collect();
                    let mut g = d.dns_answers.clone();
                    w.sort();
                    g.sort();
                    g.dedup();
                    if w != g {
                        return fail(key, want, json!(g));
                    }
                }
                "cname" => {
                    let got = d.cname.as_ref().map_or(Value::Null, |c| json!(c));
                    if *want != got {
                        return fail(key, want, got);
                    }
                }
                "httpStatus" => {
                    let got = d.http.as_ref().map_or(Value::Null, |h| json!(h.status));
                    if *want != got {
                        return fail(key, want, got);
                    }
                }
                "body" => {
                    let got: Value = d
                        .http
                        .as_ref()
                        .and_then(|h| serde_json::from_str(&h.body).ok())
                        .unwrap_or(Value::Null);
                    if !subset(want, &got) {
                        return fail(key, want, got);
                    }
                }
                "sameAsStep" => {
                    let Some(k) = want.as_u64() else {
                        return StepResult::Fail("sameAsStep is not a step index".into());
                    };
                    let before = self.chosen.get(&(k as usize));
                    if before.is_none() || before != d.chosen.as_ref() {
                        return StepResult::Fail(format!(
                            "sameAsStep {k}: step {k} chose {before:?}, now {:?}",
                            d.chosen
                        ));
                    }
                }
                "minusEndpointOfStep" => {}
                "ingressMatch" | "routeMatch" | "tls" => {
                    // The library's own rendering of the vocabulary.
                    let got = d
                        .to_json()
                        .get(key.as_str())
                        .cloned()
                        .unwrap_or(Value::Null);
                    if !subset(want, &got) {
                        return fail(key, want, got);
                    }
                }
                "render" => {
                    if let Some(r) = self.check_render(d, want) {
                        return r;
                    }
                }
                _ => {}
            }
        }
        StepResult::Pass
    }

    /// `render` (README 10.8): only the entry of this execution's mode.
    fn check_render(&self, d: &Decision, want: &Value) -> Option<StepResult> {
        let mode = self.mode();
        let want = want.get(mode.as_str())?;
        let got = d.to_json()["render"][mode.as_str()].clone();
        let Some(map) = want.as_object() else {
            return Some(StepResult::Fail("render entry is not an object".into()));
        };
        for (k, v) in map {
            let Some(g) = got.get(k) else {
                return Some(StepResult::Unsupported(format!(
                    "render key `{}.{k}`",
                    mode.as_str()
                )));
            };
            if g != v {
                return Some(StepResult::Fail(format!(
                    "render.{}.{k}: expected {v}, got {g}",
                    mode.as_str()
                )));
            }
        }
        None
    }

    fn mutate_pod(&mut self, index: usize, mutation: &Value) -> StepResult {
        let _ = index;
        let Some(k) = mutation
            .get("podOfEndpointChosenInStep")
            .and_then(Value::as_u64)
        else {
            return StepResult::Unsupported("mutate without podOfEndpointChosenInStep".into());
        };
        let Some(chosen) = self.chosen.get(&(k as usize)).copied() else {
            return StepResult::Fail(format!("mutate: step {k} chose no endpoint"));
        };
        let Ok((cluster, _)) = &mut self.built else {
            return StepResult::Pass;
        };
        let ip = chosen.ip().to_string();
        let pod = cluster
            .list(Kind::Pod, None, &Selector::everything())
            .into_iter()
            .find_map(|o| match o.as_ref() {
                Object::Pod(p)
                    if p.status.pod_ips.iter().any(|x| x.ip == ip)
                        || p.status.pod_ip.as_deref() == Some(ip.as_str()) =>
                {
                    Some(p.clone())
                }
                _ => None,
            });
        let Some(mut pod) = pod else {
            return StepResult::Fail(format!("mutate: no pod has IP {ip}"));
        };
        let set = &mutation["set"];
        if let Some(ready) = set.get("ready").and_then(Value::as_bool) {
            let status = if ready {
                ConditionStatus::True
            } else {
                ConditionStatus::False
            };
            match pod
                .status
                .conditions
                .iter_mut()
                .find(|c| c.type_ == "Ready")
            {
                Some(c) => c.status = status,
                None => pod.status.conditions.push(PodCondition {
                    type_: "Ready".into(),
                    status,
                    last_transition_time: None,
                    reason: None,
                    message: None,
                }),
            }
        }
        if let Some(t) = set.get("terminating").and_then(Value::as_bool) {
            pod.metadata.deletion_timestamp = t.then(|| "2026-01-01T00:00:00Z".to_owned());
        }
        if let Some(phase) = set.get("phase").and_then(Value::as_str) {
            match phase.parse::<PodPhase>() {
                Ok(p) => pod.status.phase = Some(p),
                Err(e) => return StepResult::Fail(format!("mutate: {e}")),
            }
        }
        let changes = match cluster.apply(Object::Pod(pod)) {
            Ok(c) => c,
            Err(e) => return StepResult::Fail(format!("mutate: {e}")),
        };
        self.patch(&changes);
        StepResult::Pass
    }
}

/// What `decide` and `route` must agree on, in one line.
fn verdict_summary(v: &Verdict<'_>) -> String {
    format!(
        "{} fate={:?} chosen={:?} eligible={:?} masq={:?} service={:?} http={}",
        v.outcome().as_str(),
        v.packet_fate(),
        v.chosen(),
        v.eligible(),
        v.masquerade(),
        v.service().map(|s| s.to_string()),
        v.http_status()
    )
}

/// [`verdict_summary`] of a traced decision.
fn decision_summary(d: &Decision) -> String {
    format!(
        "{} fate={:?} chosen={:?} eligible={:?} masq={:?} service={:?} http={}",
        d.outcome.as_str(),
        d.packet_fate,
        d.chosen,
        d.endpoints,
        d.masquerade,
        d.service,
        d.http.as_ref().map_or(0, |h| h.status)
    )
}

/// The expectation with this mode's `perMode` overrides applied (a `null`
/// override removes the key).
fn effective_expect(expect: &Value, mode: Option<&str>) -> Value {
    let mut e = expect.clone();
    let overrides = e
        .get("perMode")
        .and_then(|p| p.get(mode.unwrap_or_default()))
        .cloned();
    if let Some(map) = e.as_object_mut() {
        map.remove("perMode");
        if let Some(Value::Object(o)) = overrides {
            for (k, v) in o {
                if v.is_null() {
                    map.remove(&k);
                } else {
                    map.insert(k, v);
                }
            }
        }
    }
    e
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Every key of `want` matches in `got`, recursively; other values equal.
fn subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, v)| subset(v, g.get(k).unwrap_or(&Value::Null))),
        _ => want == got,
    }
}

/// A request whose shape we do not know (a source or destination kind
/// from a newer vector set) is unsupported; a bad value is a failure.
fn parse_request(query: &Value) -> Result<Request, StepResult> {
    Request::from_json(query).map_err(|e| match e {
        svcroute::dataplane::RouteError::Malformed(_) => {
            StepResult::Unsupported(format!("route query: {e}"))
        }
        _ => StepResult::Fail(format!("route query: {e}")),
    })
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        match kind {
            "route" => {
                let index = self.step;
                Some(self.route(index, query, expect))
            }
            _ => None,
        }
    }

    fn apply(&mut self, objects: &[Value]) -> StepResult {
        let Ok((cluster, _)) = &mut self.built else {
            return StepResult::Pass; // reported by the route queries
        };
        let objects = match super::cluster::decode_objects(objects) {
            Ok(o) => o,
            Err(e) => return StepResult::Fail(format!("apply: {e}")),
        };
        let changes = match cluster.apply_batch(objects) {
            Ok(c) => c,
            Err(e) => return StepResult::Fail(format!("apply: {e}")),
        };
        self.patch(&changes);
        StepResult::Pass
    }

    fn delete(&mut self, refs: &[Value]) -> StepResult {
        let Ok((cluster, _)) = &mut self.built else {
            return StepResult::Pass;
        };
        let mut keys = Vec::new();
        for r in refs {
            let t = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            let Some(kind) = Kind::from_type(t("apiVersion"), t("kind")) else {
                return StepResult::Fail(format!("delete: unknown kind in {r}"));
            };
            keys.push(ObjectKey {
                kind,
                namespace: r
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                name: t("name").to_owned(),
            });
        }
        let changes = match cluster.delete_batch(&keys) {
            Ok(c) => c,
            Err(e) => return StepResult::Fail(format!("delete: {e}")),
        };
        self.patch(&changes);
        StepResult::Pass
    }

    fn mutate(&mut self, mutation: &Value) -> Option<StepResult> {
        let index = self.step;
        Some(self.mutate_pod(index, mutation))
    }

    fn begin_step(&mut self, index: usize) {
        self.step = index;
    }
}
