//! State and queries of the `allocation` and `nodecidr` suites: `createService`, `addNode`, `startNodeIPAM`.
//!
//! Everything runs through `svcroute::cluster::admission`: Services of the
//! case's `objects` (and of `apply` steps) are stored state and
//! [`ServiceAdmission::occupy`] their addresses and ports; `createService`
//! is [`ServiceAdmission::create`]; node IPAM is [`NodeIpam`], started at
//! the first node query with the Nodes that exist then.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;
use svcroute::api::{Node, Service};
use svcroute::cluster::admission::{
    AdmissionError, NodeIpam, ServiceAdmission, ServiceAdmissionConfig,
};
use svcroute::ipam::{IpNet, IpRange, NodeCidrConfig, PortRange};

use super::{Handler, StepResult};

/// The seed of every execution (dynamic allocations are asserted by band only).
const SEED: u64 = 0;

/// The state one execution keeps.
pub struct State {
    /// The Service allocators, or why the configuration was refused.
    services: Result<ServiceAdmission, String>,
    /// Stored Services by (namespace, name).
    stored: BTreeMap<(String, String), Service>,
    /// The node IPAM configuration, or why it could not be read.
    node_config: Result<NodeCidrConfig, String>,
    /// Nodes that exist, by name.
    nodes: BTreeMap<String, Node>,
    /// Node IPAM once started (at the first node query).
    ipam: Option<Result<NodeIpam, AdmissionError>>,
}

fn parse_cidrs(config: &Value, key: &str, default: &str) -> Result<Vec<IpNet>, String> {
    match config.get(key) {
        None => Ok(vec![
            IpNet::parse_truncating(default).map_err(|e| e.to_string())?,
        ]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                let s = v.as_str().ok_or(format!("{key}: {v} is not a string"))?;
                IpNet::parse_truncating(s).map_err(|e| format!("{key}: {e}"))
            })
            .collect(),
        Some(other) => Err(format!("{key}: {other} is not a list")),
    }
}

fn mask(config: &Value, key: &str, default: u8) -> Result<u8, String> {
    match config.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or(format!("{key}: {v} is not a mask size")),
    }
}

fn build_services(config: &Value) -> Result<ServiceAdmission, String> {
    let service_cidrs = parse_cidrs(config, "serviceCIDRs", "10.96.0.0/16")?;
    let node_port_range = match config.get("nodePortRange") {
        None => PortRange::default(),
        Some(v) => v
            .as_str()
            .ok_or(format!("nodePortRange: {v} is not a string"))?
            .parse()
            .map_err(|e| format!("nodePortRange: {e}"))?,
    };
    let mut admission = ServiceAdmission::new(&ServiceAdmissionConfig {
        service_cidrs,
        node_port_range,
        seed: SEED,
    })
    .map_err(|e| e.to_string())?;
    match config.get("kubernetesServiceIP") {
        None => {
            admission
                .reserve_kubernetes_service_ip()
                .map_err(|e| format!("kubernetesServiceIP: {e}"))?;
        }
        Some(Value::Null) => {}
        Some(v) => {
            let ip: IpAddr = v
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or(format!("kubernetesServiceIP: {v} is not an IP"))?;
            admission
                .ip_allocator_mut()
                .allocate(ip)
                .map_err(|e| format!("kubernetesServiceIP: {e}"))?;
        }
    }
    let allocated = config.get("allocated").cloned().unwrap_or(Value::Null);
    for entry in allocated["clusterIPs"].as_array().into_iter().flatten() {
        let range: IpRange = entry
            .as_str()
            .ok_or(format!("allocated.clusterIPs: {entry} is not a string"))?
            .parse()
            .map_err(|e| format!("allocated.clusterIPs: {e}"))?;
        admission
            .ip_allocator_mut()
            .allocate_range(range)
            .map_err(|e| format!("allocated.clusterIPs: {e}"))?;
    }
    for entry in allocated["nodePorts"].as_array().into_iter().flatten() {
        let range: PortRange = match entry {
            Value::Number(n) => {
                let p = n
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or(format!("allocated.nodePorts: {n} is not a port"))?;
                PortRange::new(p, p).map_err(|e| e.to_string())?
            }
            Value::String(s) => s.parse().map_err(|e| format!("allocated.nodePorts: {e}"))?,
            other => return Err(format!("allocated.nodePorts: {other} is not a port")),
        };
        admission
            .node_port_allocator_mut()
            .allocate_range(range)
            .map_err(|e| format!("allocated.nodePorts: {e}"))?;
    }
    Ok(admission)
}

fn build_node_config(config: &Value) -> Result<NodeCidrConfig, String> {
    Ok(NodeCidrConfig {
        cluster_cidrs: parse_cidrs(config, "clusterCIDRs", "10.244.0.0/16")?,
        node_mask_ipv4: mask(config, "nodeCIDRMaskSizeIPv4", 24)?,
        node_mask_ipv6: mask(config, "nodeCIDRMaskSizeIPv6", 64)?,
        service_cidrs: parse_cidrs(config, "serviceCIDRs", "10.96.0.0/16")?,
    })
}

fn key_of(meta: &svcroute::api::ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_default(),
    )
}

impl State {
    /// Builds the state from a case's `config` and `objects`; `Err` is the
    /// step result every stateful step of the case then reports.
    pub fn new(config: &Value, objects: &[Value]) -> Result<State, StepResult> {
        let mut state = State {
            services: build_services(config),
            stored: BTreeMap::new(),
            node_config: build_node_config(config),
            nodes: BTreeMap::new(),
            ipam: None,
        };
        // Objects other suites use but this model cannot read are left to
        // the handlers that use them.
        state.store(objects);
        Ok(state)
    }

    /// Stored objects: Services occupy, Nodes exist (and occupy once node
    /// IPAM runs).
    fn store(&mut self, objects: &[Value]) {
        for object in objects {
            match (object["apiVersion"].as_str(), object["kind"].as_str()) {
                (Some("v1"), Some("Service")) => {
                    let Ok(svc) = serde_json::from_value::<Service>(object.clone()) else {
                        continue;
                    };
                    let key = key_of(&svc.metadata);
                    if let Ok(admission) = &mut self.services {
                        if let Some(old) = self.stored.get(&key) {
                            admission.release(old);
                        }
                        admission.occupy(&svc);
                    }
                    self.stored.insert(key, svc);
                }
                (Some("v1"), Some("Node")) => {
                    let Ok(mut node) = serde_json::from_value::<Node>(object.clone()) else {
                        continue;
                    };
                    let name = node.metadata.name.clone().unwrap_or_default();
                    if let Some(Ok(ipam)) = &mut self.ipam {
                        ipam.delete(&name);
                        let _ = ipam.add(&mut node);
                    }
                    self.nodes.insert(name, node);
                }
                _ => {}
            }
        }
    }

    fn start_ipam(&mut self) -> &Result<NodeIpam, AdmissionError> {
        if self.ipam.is_none() {
            let started = match &self.node_config {
                Ok(config) => {
                    let nodes: Vec<Node> = self.nodes.values().cloned().collect();
                    NodeIpam::start(config, &nodes)
                }
                Err(why) => Err(AdmissionError::Config {
                    source: svcroute::ipam::IpamError::InvalidConfig {
                        reason: why.clone(),
                    },
                }),
            };
            self.ipam = Some(started);
        }
        self.ipam.as_ref().expect("just set")
    }

    fn create_service(&mut self, body: &Value, expect: &Value) -> StepResult {
        let admission = match &mut self.services {
            Ok(a) => a,
            Err(why) => return StepResult::Fail(format!("service configuration refused: {why}")),
        };
        let outcome = match serde_json::from_value::<Service>(body.clone()) {
            Err(e) => Err(("invalid".to_string(), None, e.to_string())),
            Ok(svc) => match admission.create(svc) {
                Err(e) => Err((
                    e.code().to_string(),
                    e.field().map(str::to_string),
                    e.to_string(),
                )),
                Ok(stored) => match self.stored.entry(key_of(&stored.metadata)) {
                    std::collections::btree_map::Entry::Occupied(e) => {
                        admission.release(&stored);
                        Err((
                            "already-exists".to_string(),
                            None,
                            format!("service {:?} already exists", e.key()),
                        ))
                    }
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(stored.clone());
                        Ok(stored)
                    }
                },
            },
        };
        check_create(&outcome, expect)
    }

    fn add_node(&mut self, body: &Value, expect: &Value) -> StepResult {
        let mut node: Node = match serde_json::from_value(body.clone()) {
            Ok(n) => n,
            Err(e) => return StepResult::Fail(format!("addNode: cannot read the Node: {e}")),
        };
        if let Err(e) = self.start_ipam() {
            return StepResult::Fail(format!("node IPAM did not start: {e}"));
        }
        let Some(Ok(ipam)) = &mut self.ipam else {
            return StepResult::Fail("node IPAM did not start".into());
        };
        let result = ipam.add(&mut node);
        let name = node.metadata.name.clone().unwrap_or_default();
        self.nodes.insert(name, node.clone());
        let (got, error): (Vec<IpNet>, Option<&'static str>) = match &result {
            Ok(cidrs) => (cidrs.clone(), None),
            Err(e) => (Vec::new(), Some(e.code())),
        };
        let mut problems = Vec::new();
        if let Some(want) = expect.get("podCIDRs") {
            let want: Vec<Option<IpNet>> = want
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().and_then(|s| IpNet::parse_truncating(s).ok()))
                .collect();
            let got_opt: Vec<Option<IpNet>> = got.iter().copied().map(Some).collect();
            if want != got_opt {
                problems.push(format!(
                    "podCIDRs: expected {}, got {:?}",
                    expect["podCIDRs"],
                    got.iter().map(ToString::to_string).collect::<Vec<_>>()
                ));
            }
        }
        match (expect.get("error").and_then(Value::as_str), error) {
            (Some(w), Some(g)) if w == g => {}
            (None, None) => {}
            (w, _) => problems.push(format!(
                "error: expected {w:?}, got {:?}",
                result.as_ref().err().map(ToString::to_string)
            )),
        }
        verdict(problems)
    }

    fn start_node_ipam(&mut self, expect: &Value) -> StepResult {
        let result = self.start_ipam();
        let got = result.as_ref().err();
        match (expect.get("error").and_then(Value::as_str), got) {
            (Some(w), Some(g)) if w == g.code() => StepResult::Pass,
            (None, None) => StepResult::Pass,
            (w, g) => StepResult::Fail(format!(
                "startNodeIPAM: expected error {w:?}, got {:?}",
                g.map(ToString::to_string)
            )),
        }
    }
}

fn verdict(problems: Vec<String>) -> StepResult {
    if problems.is_empty() {
        StepResult::Pass
    } else {
        StepResult::Fail(problems.join("; "))
    }
}

type Outcome = Result<Service, (String, Option<String>, String)>;

/// Compares a `createService` outcome with README 10.11's expectation.
fn check_create(outcome: &Outcome, expect: &Value) -> StepResult {
    let want_result = expect["result"].as_str().unwrap_or("");
    let stored = match (outcome, want_result) {
        (Ok(stored), "created") => stored,
        (Err((code, _field, msg)), "error") => {
            // `field` is advisory (README 10.11): only the code counts.
            return match expect["error"].as_str() {
                Some(want) if want != code => StepResult::Fail(format!(
                    "expected error {want:?} at {}, got {code:?}: {msg}",
                    expect["field"]
                )),
                _ => StepResult::Pass,
            };
        }
        (Ok(stored), _) => {
            return StepResult::Fail(format!(
                "expected {}, but the Service was created: {}",
                expect,
                serde_json::to_string(stored).unwrap_or_default()
            ));
        }
        (Err((code, _, msg)), _) => {
            return StepResult::Fail(format!("expected creation, got {code}: {msg}"));
        }
    };
    let actual = match serde_json::to_value(stored) {
        Ok(v) => v,
        Err(e) => return StepResult::Fail(format!("cannot serialize the Service: {e}")),
    };
    let spec = &actual["spec"];
    let mut problems = Vec::new();
    if let Some(want) = expect.get("clusterIPs") {
        let got: Vec<Value> = spec["clusterIPs"].as_array().cloned().unwrap_or_default();
        let want = want.as_array().cloned().unwrap_or_default();
        if got.len() != want.len() {
            problems.push(format!("clusterIPs: expected {want:?}, got {got:?}"));
        } else {
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                if let Err(e) = check_alloc(w, Some(g), &|_| None) {
                    problems.push(format!("clusterIPs[{i}]: {e}"));
                }
            }
        }
    }
    if let Some(want) = expect.get("ipFamilies") {
        let got = spec
            .get("ipFamilies")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        if &got != want {
            problems.push(format!("ipFamilies: expected {want}, got {got}"));
        }
    }
    if let Some(want) = expect.get("ipFamilyPolicy") {
        let got = spec.get("ipFamilyPolicy").cloned().unwrap_or(Value::Null);
        if &got != want {
            problems.push(format!("ipFamilyPolicy: expected {want}, got {got}"));
        }
    }
    let node_port = |i: &str| -> Option<Value> {
        let i: usize = i.parse().ok()?;
        spec["ports"].get(i)?.get("nodePort").cloned()
    };
    if let Some(want) = expect.get("nodePorts").and_then(Value::as_object) {
        for (index, w) in want {
            let got = node_port(index);
            if let Err(e) = check_alloc(w, got.as_ref(), &node_port) {
                problems.push(format!("nodePorts[{index}]: {e}"));
            }
        }
    }
    if let Some(want) = expect.get("healthCheckNodePort") {
        let got = spec.get("healthCheckNodePort");
        if let Err(e) = check_alloc(want, got, &node_port) {
            problems.push(format!("healthCheckNodePort: {e}"));
        }
    }
    if let Some(want) = expect.get("defaults").and_then(Value::as_object) {
        for (path, w) in want {
            let got = lookup(&actual, path).unwrap_or(Value::Null);
            if !same_value(w, &got) {
                problems.push(format!("{path}: expected {w}, got {got}"));
            }
        }
    }
    verdict(problems)
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// An ordered value for `inRange`/`equals`: a number or an IP address.
#[derive(Debug, PartialEq, PartialOrd)]
enum Scalar {
    Num(f64),
    Ip(IpAddr),
    Text(String),
}

fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::Number(n) => n.as_f64().map(Scalar::Num),
        Value::String(s) => Some(
            s.parse::<IpAddr>()
                .map(Scalar::Ip)
                .unwrap_or_else(|_| Scalar::Text(s.clone())),
        ),
        _ => None,
    }
}

fn same_kind(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Num(_), Scalar::Num(_)) => true,
        (Scalar::Ip(x), Scalar::Ip(y)) => x.is_ipv4() == y.is_ipv4(),
        _ => false,
    }
}

/// README 10.11 `ALLOC`: `{"equals": x}`, `{"inRange": [lo, hi]}`,
/// `{"sameAs": "<port index>"}`, `"None"`, `null`; a plain string or number
/// is compared as is.
fn check_alloc(
    want: &Value,
    got: Option<&Value>,
    sibling: &dyn Fn(&str) -> Option<Value>,
) -> Result<(), String> {
    let got = got.filter(|g| !g.is_null());
    let show = || got.map_or("nothing".to_string(), ToString::to_string);
    match want {
        Value::Null => match got {
            None => Ok(()),
            Some(_) => Err(format!("expected nothing allocated, got {}", show())),
        },
        Value::Object(map) => {
            let g = got
                .and_then(scalar)
                .ok_or(format!("expected {want}, got {}", show()))?;
            if let Some(x) = map.get("equals") {
                let x = scalar(x).ok_or(format!("bad expectation {want}"))?;
                if x != g {
                    return Err(format!("expected {want}, got {}", show()));
                }
            }
            if let Some(range) = map.get("inRange") {
                let lo = scalar(&range[0]).ok_or(format!("bad expectation {want}"))?;
                let hi = scalar(&range[1]).ok_or(format!("bad expectation {want}"))?;
                if !(same_kind(&lo, &g) && lo <= g && g <= hi) {
                    return Err(format!("expected {want}, got {}", show()));
                }
            }
            if let Some(other) = map.get("sameAs") {
                let index = other
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| other.to_string());
                let o = sibling(&index).as_ref().and_then(scalar);
                if o.as_ref() != Some(&g) {
                    return Err(format!("expected {want} ({o:?}), got {}", show()));
                }
            }
            Ok(())
        }
        plain => {
            let ok = match (scalar(plain), got.and_then(scalar)) {
                (Some(w), Some(g)) => w == g,
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!("expected {plain}, got {}", show()))
            }
        }
    }
}

/// The value at a `spec.ports[0].protocol`-style path.
fn lookup(root: &Value, path: &str) -> Option<Value> {
    let mut cur = root;
    for segment in path.split('.') {
        let (name, rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.trim_end_matches(']').parse().ok()?;
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        match kind {
            "createService" => Some(self.create_service(query, expect)),
            "addNode" => Some(self.add_node(query, expect)),
            "startNodeIPAM" => Some(self.start_node_ipam(expect)),
            _ => None,
        }
    }

    fn apply(&mut self, objects: &[Value]) -> StepResult {
        self.store(objects);
        StepResult::Pass
    }

    fn delete(&mut self, refs: &[Value]) -> StepResult {
        for r in refs {
            let name = r["name"].as_str().unwrap_or("").to_string();
            match (r["apiVersion"].as_str(), r["kind"].as_str()) {
                (Some("v1"), Some("Service")) => {
                    let ns = r["namespace"].as_str().unwrap_or("default").to_string();
                    if let Some(old) = self.stored.remove(&(ns, name))
                        && let Ok(admission) = &mut self.services
                    {
                        admission.release(&old);
                    }
                }
                (Some("v1"), Some("Node")) => {
                    self.nodes.remove(&name);
                    if let Some(Ok(ipam)) = &mut self.ipam {
                        ipam.delete(&name);
                    }
                }
                _ => {}
            }
        }
        StepResult::Pass
    }
}
