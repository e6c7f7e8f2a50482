//! State and queries of the cluster suites: `endpoints`, `reconcileSlices`
//! (later `dns`, `search`, `route`).
//!
//! The case's `config` becomes a [`ClusterConfig`] (bootstrap off), its
//! `objects` one atomic [`Cluster::apply_batch`]. `reconcileSlices` lists
//! the controller's slices of the Service with the action that produced
//! them, by comparing with the controller's slices as they were before the
//! last settle (the case's `objects` at first, then the state before each
//! `apply`/`delete` step); the query's answer becomes the new baseline.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use svcroute::api::{EndpointSlice, Kind, Object, ObjectKey};
use svcroute::cluster::{
    CONTROLLER_NAME, Cluster, ClusterConfig, DetectLocalMode, KubernetesServiceIp,
};
use svcroute::ipam::{IpNet, PortRange};

use super::{Handler, StepResult};

/// The state one execution keeps.
pub struct State {
    /// The cluster, or why it could not be built.
    cluster: Result<Cluster, String>,
    /// The controller's slices before the last settle, by name.
    baseline: Vec<EndpointSlice>,
}

impl State {
    /// Builds the state from a case's `config` and `objects`; `Err` is the
    /// step result every stateful step of the case then reports.
    pub fn new(config: &Value, objects: &[Value]) -> Result<State, StepResult> {
        let built = (|| {
            let config = cluster_config(config)?;
            let objects = decode_objects(objects)?;
            let baseline = objects
                .iter()
                .filter_map(|o| match o {
                    Object::EndpointSlice(s) if is_controller(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let mut cluster = Cluster::new(config).map_err(|e| e.to_string())?;
            cluster.apply_batch(objects).map_err(|e| e.to_string())?;
            Ok::<_, String>((cluster, baseline))
        })();
        Ok(match built {
            Ok((cluster, baseline)) => State {
                cluster: Ok(cluster),
                baseline,
            },
            Err(e) => State {
                cluster: Err(e),
                baseline: Vec::new(),
            },
        })
    }

    fn snapshot(&mut self) {
        if let Ok(c) = &self.cluster {
            self.baseline = c
                .list(
                    Kind::EndpointSlice,
                    None,
                    &svcroute::labels::Selector::everything(),
                )
                .into_iter()
                .filter_map(|o| match o.as_ref() {
                    Object::EndpointSlice(s) if is_controller(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
        }
    }
}

fn is_controller(s: &EndpointSlice) -> bool {
    s.metadata
        .labels
        .get(EndpointSlice::MANAGED_BY_LABEL)
        .map(String::as_str)
        == Some(CONTROLLER_NAME)
}

/// The case's `objects` as typed objects (every problem reported).
pub fn decode_objects(values: &[Value]) -> Result<Vec<Object>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value::<Object>(v.clone()).map_err(|e| format!("object {i}: {e}"))
        })
        .collect()
}

/// The case's `config` (README section 7) as a [`ClusterConfig`], bootstrap off.
pub fn cluster_config(v: &Value) -> Result<ClusterConfig, String> {
    let mut c = ClusterConfig {
        bootstrap: false,
        ..ClusterConfig::default()
    };
    let cidrs = |key: &str| -> Result<Option<Vec<IpNet>>, String> {
        match v.get(key) {
            None => Ok(None),
            Some(list) => list
                .as_array()
                .ok_or(format!("{key} is not a list"))?
                .iter()
                .map(|s| {
                    IpNet::parse_truncating(s.as_str().unwrap_or_default())
                        .map_err(|e| format!("{key}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    };
    if let Some(d) = v.get("clusterDomain").and_then(Value::as_str) {
        c.cluster_domain = d.to_owned();
    }
    if let Some(n) = cidrs("serviceCIDRs")? {
        c.service_cidrs = n;
    }
    if let Some(n) = cidrs("clusterCIDRs")? {
        c.cluster_cidrs = n;
    }
    let u8_of = |key: &str| v.get(key).and_then(Value::as_u64).map(|n| n as u8);
    if let Some(n) = u8_of("nodeCIDRMaskSizeIPv4") {
        c.node_cidr_mask_size_ipv4 = n;
    }
    if let Some(n) = u8_of("nodeCIDRMaskSizeIPv6") {
        c.node_cidr_mask_size_ipv6 = n;
    }
    if let Some(r) = v.get("nodePortRange").and_then(Value::as_str) {
        let (a, b) = r.split_once('-').ok_or("nodePortRange")?;
        let p = |s: &str| {
            s.trim()
                .parse::<u16>()
                .map_err(|e| format!("nodePortRange: {e}"))
        };
        c.node_port_range = PortRange::new(p(a)?, p(b)?).map_err(|e| e.to_string())?;
    }
    if let Some(m) = v.get("detectLocalMode").and_then(Value::as_str) {
        c.proxy.detect_local_mode = m.parse::<DetectLocalMode>()?;
    }
    if let Some(b) = v.get("masqueradeAll").and_then(Value::as_bool) {
        c.proxy.masquerade_all = b;
    }
    if let Some(b) = v.get("localhostNodePorts").and_then(Value::as_bool) {
        c.proxy.localhost_node_ports = b;
    }
    if let Some(s) = v.get("ipvsScheduler").and_then(Value::as_str) {
        c.proxy.ipvs_scheduler = s.to_owned();
    }
    if let Some(n) = v.get("maxEndpointsPerSlice").and_then(Value::as_u64) {
        c.max_endpoints_per_slice = u32::try_from(n).unwrap_or(u32::MAX);
    }
    match v.get("kubernetesServiceIP") {
        Some(Value::Null) => c.kubernetes_service_ip = KubernetesServiceIp::None,
        Some(Value::String(s)) => {
            c.kubernetes_service_ip = KubernetesServiceIp::Address(
                s.parse().map_err(|e| format!("kubernetesServiceIP: {e}"))?,
            )
        }
        _ => {}
    }
    if let Some(b) = v.get("endpointSliceController").and_then(Value::as_bool) {
        c.endpoint_slice_controller = b;
    }
    Ok(c)
}

fn split_service(q: &Value) -> Option<(&str, &str)> {
    q.get("service")?.as_str()?.split_once('/')
}

/// One endpoint as the `endpoints` query records it.
fn endpoint_record(slice: &EndpointSlice, ep: &svcroute::api::Endpoint) -> Value {
    let ports: serde_json::Map<String, Value> = slice
        .ports
        .iter()
        .map(|p| (p.name.clone().unwrap_or_default(), json!(p.port)))
        .collect();
    let hints = ep
        .hints
        .as_ref()
        .filter(|h| !h.for_zones.is_empty() || !h.for_nodes.is_empty());
    json!({
        "addresses": ep.addresses,
        "pod": ep.target_ref.as_ref().map(|r| r.name.clone()),
        "ready": ep.conditions.is_ready(),
        "serving": ep.conditions.is_serving(),
        "terminating": ep.conditions.is_terminating(),
        "nodeName": ep.node_name,
        "zone": ep.zone,
        "hostname": ep.hostname,
        "hints": hints.map(|h| json!({
            "forZones": h.for_zones.iter().map(|z| z.name.clone()).collect::<Vec<_>>(),
            "forNodes": h.for_nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
        })),
        "ports": ports,
    })
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// Does the actual record satisfy every key of the expected one?
fn record_matches(expected: &Value, actual: &Value) -> Result<(), String> {
    let Some(map) = expected.as_object() else {
        return Err("expected record is not an object".into());
    };
    for (key, want) in map {
        let got = &actual[key.as_str()];
        let ok = match key.as_str() {
            "hints" => match (want, got) {
                (Value::Null, Value::Null) => true,
                (Value::Object(w), Value::Object(_)) => w
                    .iter()
                    .all(|(k, list)| sorted_strings(list) == sorted_strings(&got[k.as_str()])),
                _ => false,
            },
            _ => want == got,
        };
        if !ok {
            return Err(format!("{key}: expected {want}, got {got}"));
        }
    }
    Ok(())
}

impl State {
    fn endpoints(&self, query: &Value, expect: &Value) -> StepResult {
        let cluster = match &self.cluster {
            Ok(c) => c,
            Err(e) => return StepResult::Fail(format!("cluster could not be built: {e}")),
        };
        let Some((ns, name)) = split_service(query) else {
            return StepResult::Fail("endpoints: bad `service`".into());
        };
        let slices = cluster.endpoint_slices(ns, name);
        let Some(want) = expect.as_object() else {
            return StepResult::Fail("endpoints: expectation is not an object".into());
        };
        for (family, records) in want {
            let actual: Vec<Value> = slices
                .iter()
                .filter(|s| s.address_type.as_str() == family)
                .flat_map(|s| s.endpoints.iter().map(|ep| endpoint_record(s, ep)))
                .collect();
            let records = records.as_array().map_or(&[][..], Vec::as_slice);
            if records.len() != actual.len() {
                return StepResult::Fail(format!(
                    "{family}: expected {} endpoints, got {}: {}",
                    records.len(),
                    actual.len(),
                    Value::Array(actual.clone())
                ));
            }
            for r in records {
                let Some(a) = actual.iter().find(|a| a["addresses"] == r["addresses"]) else {
                    return StepResult::Fail(format!(
                        "{family}: no endpoint with addresses {}",
                        r["addresses"]
                    ));
                };
                if let Err(why) = record_matches(r, a) {
                    return StepResult::Fail(format!("{family} {}: {why}", r["addresses"]));
                }
            }
        }
        StepResult::Pass
    }

    fn reconcile_slices(&mut self, query: &Value, expect: &Value) -> StepResult {
        let cluster = match &self.cluster {
            Ok(c) => c,
            Err(e) => return StepResult::Fail(format!("cluster could not be built: {e}")),
        };
        let Some((ns, name)) = split_service(query) else {
            return StepResult::Fail("reconcileSlices: bad `service`".into());
        };
        let mine = |s: &&EndpointSlice| {
            s.metadata.namespace.as_deref() == Some(ns) && s.service_name() == Some(name)
        };
        let before: BTreeMap<&str, &EndpointSlice> = self
            .baseline
            .iter()
            .filter(mine)
            .filter_map(|s| Some((s.metadata.name.as_deref()?, s)))
            .collect();
        let slices = cluster.endpoint_slices(ns, name);
        let now: Vec<&EndpointSlice> = slices
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| is_controller(s))
            .collect();
        let mut actual: Vec<String> = now
            .iter()
            .map(|s| {
                let slice_name = s.metadata.name.as_deref().unwrap_or_default();
                let (action, shown) = match before.get(slice_name) {
                    None => ("create", Value::Null),
                    Some(old)
                        if old.endpoints == s.endpoints
                            && old.ports == s.ports
                            && old.metadata.labels == s.metadata.labels =>
                    {
                        ("unchanged", json!(slice_name))
                    }
                    Some(_) => ("update", json!(slice_name)),
                };
                let ports: Vec<Value> = s
                    .ports
                    .iter()
                    .map(|p| {
                        json!({"name": p.name.clone().unwrap_or_default(), "port": p.port,
                                    "protocol": p.protocol.unwrap_or_default().as_str()})
                    })
                    .collect();
                json!({"name": shown, "addressType": s.address_type.as_str(), "ports": ports,
                       "endpointCount": s.endpoints.len(), "action": action})
                .to_string()
            })
            .collect();
        let mut wanted: Vec<String> = expect["slices"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                let mut v = v.clone();
                if let Some(ports) = v.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        if p.get("protocol").is_none() {
                            p["protocol"] = json!("TCP");
                        }
                        if p.get("name").is_none() {
                            p["name"] = json!("");
                        }
                    }
                }
                v.to_string()
            })
            .collect();
        actual.sort();
        wanted.sort();
        // Advance the baseline for this Service.
        let current: Vec<EndpointSlice> = now.iter().map(|s| (*s).clone()).collect();
        self.baseline.retain(|s| !mine(&s));
        self.baseline.extend(current);
        if actual == wanted {
            StepResult::Pass
        } else {
            StepResult::Fail(format!(
                "slices: expected [{}], got [{}]",
                wanted.join(", "),
                actual.join(", ")
            ))
        }
    }
}

impl Handler for State {
    fn query(&mut self, kind: &str, query: &Value, expect: &Value) -> Option<StepResult> {
        match kind {
            "endpoints" => Some(self.endpoints(query, expect)),
            "reconcileSlices" => Some(self.reconcile_slices(query, expect)),
            _ => None,
        }
    }

    fn apply(&mut self, objects: &[Value]) -> StepResult {
        self.snapshot();
        let Ok(cluster) = &mut self.cluster else {
            return StepResult::Pass; // reported by the cluster's queries
        };
        let objects = match decode_objects(objects) {
            Ok(o) => o,
            Err(e) => return StepResult::Fail(format!("apply: {e}")),
        };
        match cluster.apply_batch(objects) {
            Ok(_) => StepResult::Pass,
            Err(e) => StepResult::Fail(format!("apply: {e}")),
        }
    }

    fn delete(&mut self, refs: &[Value]) -> StepResult {
        self.snapshot();
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
            Ok(_) => StepResult::Pass,
            Err(e) => StepResult::Fail(format!("delete: {e}")),
        }
    }
}

/// A settled cluster built from a case's `config` and `objects`, the way
/// every cluster-backed suite starts (README section 6).
pub fn build(config: &Value, objects: &[Value]) -> Result<Cluster, String> {
    let mut cluster = Cluster::new(cluster_config(config)?).map_err(|e| e.to_string())?;
    cluster
        .apply_batch(decode_objects(objects)?)
        .map_err(|e| e.to_string())?;
    Ok(cluster)
}
