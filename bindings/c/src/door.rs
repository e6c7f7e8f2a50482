//! What the C and the WASM doors share about the cluster engine: the
//! configuration read from JSON, `apply` of manifest text (atomic, watch
//! events included), and the JSON shapes of changes, lists, EndpointSlices
//! and explanations.
//!
//! This one file is compiled into both `svcroute-c` and `svcroute-wasm` (the
//! WASM crate includes it by path), so the two doors give the same answers
//! in the same shapes. It only uses the core's public API and `serde_json`.
//! The shapes that are not the Kubernetes API's own (changes, explanations,
//! the configuration) would be better served by `Serialize`/`Deserialize`
//! in the core; until then they live here.
//!
//! Every function returns a [`DoorError`] on failure: a core error kind, a
//! message that says where (document, line, object, field), and the
//! problems one by one as JSON values for callers that show them in place.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use svcroute::ErrorKind;
use svcroute::api::{self, Kind, Object, ObjectKey, TypeMeta, WatchEvent};
use svcroute::cluster::{
    Changes, Cluster, ClusterConfig, ClusterError, DetectLocalMode, KubernetesServiceIp,
    LoadBalancerProvider, PodVerdict, ProxyMode, ServiceExplanation, SkipReason, explain_service,
};
use svcroute::ipam::{IpNet, PortRange};
use svcroute::labels::Selector;

/// A refused call: the kind (for the status code or `Error.code`), a message
/// that says where, and each problem as a JSON object (`document`, `item`,
/// `line`, `column`, `object`, `field`, `message`, `code`; absent parts
/// left out).
#[derive(Debug, Clone, PartialEq)]
pub struct DoorError {
    /// The classification.
    pub kind: ErrorKind,
    /// The whole message.
    pub message: String,
    /// The problems one by one (empty when there is only the message).
    pub problems: Vec<Value>,
}

impl DoorError {
    /// An error with a message and no separate problems.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> DoorError {
        DoorError {
            kind,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

impl From<svcroute::Error> for DoorError {
    fn from(err: svcroute::Error) -> DoorError {
        DoorError::new(err.kind(), err.to_string())
    }
}

impl From<api::ApiError> for DoorError {
    fn from(err: api::ApiError) -> DoorError {
        let problems = err
            .problems()
            .iter()
            .map(|p| {
                let mut o = Map::new();
                o.insert("code".into(), json!(p.kind.error_kind().code()));
                o.insert("document".into(), json!(p.document));
                put(&mut o, "item", p.item.map(|i| json!(i)));
                put(&mut o, "line", p.line.map(|i| json!(i)));
                put(&mut o, "column", p.column.map(|i| json!(i)));
                put(
                    &mut o,
                    "object",
                    p.object.as_ref().map(|r| {
                        let mut obj = Map::new();
                        obj.insert("apiVersion".into(), json!(r.api_version));
                        obj.insert("kind".into(), json!(r.kind));
                        put(
                            &mut obj,
                            "namespace",
                            r.namespace.as_ref().map(|n| json!(n)),
                        );
                        put(&mut obj, "name", r.name.as_ref().map(|n| json!(n)));
                        Value::Object(obj)
                    }),
                );
                put(&mut o, "field", p.field.as_ref().map(|f| json!(f)));
                o.insert("message".into(), json!(p.message));
                Value::Object(o)
            })
            .collect();
        DoorError {
            kind: err.kind(),
            message: err.to_string(),
            problems,
        }
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v);
    }
}

fn parse_error(message: impl Into<String>) -> DoorError {
    DoorError::new(ErrorKind::Parse, message)
}

// ------------------------------------------------------------ configuration

/// The keys [`config_from_json`] reads.
pub const CONFIG_KEYS: &[&str] = &[
    "clusterDomain",
    "serviceCIDRs",
    "clusterCIDRs",
    "nodeCIDRMaskSizeIPv4",
    "nodeCIDRMaskSizeIPv6",
    "nodePortRange",
    "maxEndpointsPerSlice",
    "mirroringMaxEndpointsPerSubset",
    "proxyMode",
    "masqueradeAll",
    "localhostNodePorts",
    "nodePortAddresses",
    "ipvsScheduler",
    "detectLocalMode",
    "kubernetesServiceIP",
    "seed",
    "endpointSliceController",
    "bootstrap",
    "workloads",
    "endpointsController",
    "loadBalancer",
    "defaultNodes",
    "maxObjects",
    "maxLabelsPerObject",
    "maxInputBytes",
    "maxDocuments",
    "maxDepth",
    "maxStringBytes",
];

/// A [`ClusterConfig`] from a JSON object whose keys are those of the
/// conformance suite's `config` (`clusterDomain`, `serviceCIDRs`,
/// `clusterCIDRs`, `nodeCIDRMaskSizeIPv4`, `nodeCIDRMaskSizeIPv6`,
/// `nodePortRange` as `"30000-32767"`, `maxEndpointsPerSlice`,
/// `detectLocalMode`, `masqueradeAll`, `localhostNodePorts`,
/// `nodePortAddresses`, `ipvsScheduler`, `kubernetesServiceIP` with `null`
/// for none, `endpointSliceController`) plus `mirroringMaxEndpointsPerSubset`,
/// `proxyMode` (`iptables`, `nftables`, `ipvs`), `seed`, `bootstrap`,
/// `workloads` (run the workload controllers and the scheduler: `true`;
/// `false` for a dump whose Pods are already there), `endpointsController`
/// (`true`), `loadBalancer` (`null` or `"none"`: LoadBalancer Services stay
/// pending; `{"pool": ["192.0.2.0/28"]}`; `{"aws": {"region": "eu-west-1"}}`
/// or `"aws"`) and `defaultNodes` (taken by [`new_cluster`], not here: the
/// number of default nodes to start with, for inputs that bring none).
/// Absent keys keep upstream's defaults (a fresh real cluster: `bootstrap`
/// is `true`). `None`, an empty text or `null` is all defaults.
///
/// Errors: text that is not a JSON object, an unknown key or a value of the
/// wrong type is [`ErrorKind::Parse`]; a bad CIDR, range or mode is
/// [`ErrorKind::Invalid`]; `dns` and `allocated` (conformance keys the
/// engine does not take yet) are [`ErrorKind::Unsupported`]. Rules across
/// keys (one CIDR per family, `maxEndpointsPerSlice` in 1..=1000) are checked
/// by [`Cluster::new`].
pub fn config_from_json(text: Option<&str>) -> Result<ClusterConfig, DoorError> {
    door_config_from_json(text).map(|(config, _)| config)
}

/// [`config_from_json`] and the `defaultNodes` count (0 when absent).
fn door_config_from_json(text: Option<&str>) -> Result<(ClusterConfig, usize), DoorError> {
    let mut c = ClusterConfig::default();
    let mut default_nodes = 0;
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok((c, default_nodes));
    };
    let value: Value =
        serde_json::from_str(text).map_err(|e| parse_error(format!("config: not JSON: {e}")))?;
    let map = match value {
        Value::Null => return Ok((c, default_nodes)),
        Value::Object(map) => map,
        other => {
            return Err(parse_error(format!(
                "config: expected a JSON object, found {}",
                json_type(&other)
            )));
        }
    };
    for (key, v) in &map {
        let key = key.as_str();
        let wrong = |want: &str| {
            parse_error(format!(
                "config: {key}: expected {want}, found {}",
                json_type(v)
            ))
        };
        let invalid =
            |why: String| DoorError::new(ErrorKind::Invalid, format!("config: {key}: {why}"));
        let string = || v.as_str().ok_or_else(|| wrong("a string"));
        let boolean = || v.as_bool().ok_or_else(|| wrong("true or false"));
        let number = |max: u64| {
            v.as_u64()
                .filter(|n| *n <= max)
                .ok_or_else(|| wrong(&format!("an integer from 0 to {max}")))
        };
        let cidrs = || -> Result<Vec<IpNet>, DoorError> {
            let list = v
                .as_array()
                .ok_or_else(|| wrong("a list of CIDR strings"))?;
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    let s = s.as_str().ok_or_else(|| wrong("a list of CIDR strings"))?;
                    IpNet::parse_truncating(s).map_err(|e| invalid(format!("[{i}]: {e}")))
                })
                .collect()
        };
        match key {
            "clusterDomain" => c.cluster_domain = string()?.to_owned(),
            "serviceCIDRs" => c.service_cidrs = cidrs()?,
            "clusterCIDRs" => c.cluster_cidrs = cidrs()?,
            "nodeCIDRMaskSizeIPv4" => c.node_cidr_mask_size_ipv4 = number(32)? as u8,
            "nodeCIDRMaskSizeIPv6" => c.node_cidr_mask_size_ipv6 = number(128)? as u8,
            "nodePortRange" => {
                c.node_port_range = string()?
                    .parse::<PortRange>()
                    .map_err(|e| invalid(e.to_string()))?;
            }
            "maxEndpointsPerSlice" => {
                c.max_endpoints_per_slice = number(u64::from(u32::MAX))? as u32;
            }
            "mirroringMaxEndpointsPerSubset" => {
                c.mirroring_max_endpoints_per_subset = number(u64::from(u32::MAX))? as u32;
            }
            "proxyMode" => c.proxy.mode = string()?.parse::<ProxyMode>().map_err(invalid)?,
            "masqueradeAll" => c.proxy.masquerade_all = boolean()?,
            "localhostNodePorts" => c.proxy.localhost_node_ports = boolean()?,
            "nodePortAddresses" => {
                c.proxy.node_port_addresses = if v.is_null() { None } else { Some(cidrs()?) };
            }
            "ipvsScheduler" => c.proxy.ipvs_scheduler = string()?.to_owned(),
            "detectLocalMode" => {
                c.proxy.detect_local_mode =
                    string()?.parse::<DetectLocalMode>().map_err(invalid)?;
            }
            "kubernetesServiceIP" => {
                c.kubernetes_service_ip = match v {
                    Value::Null => KubernetesServiceIp::None,
                    Value::String(s) => KubernetesServiceIp::Address(
                        s.parse()
                            .map_err(|_| invalid(format!("{s:?} is not an IP address")))?,
                    ),
                    _ => return Err(wrong("an IP address string or null")),
                };
            }
            "seed" => c.seed = number(u64::MAX)?,
            "endpointSliceController" => c.endpoint_slice_controller = boolean()?,
            "bootstrap" => c.bootstrap = boolean()?,
            "workloads" => c.workloads = boolean()?,
            "endpointsController" => c.endpoints_controller = boolean()?,
            "defaultNodes" => default_nodes = number(256)? as usize,
            // Issue 13's limits (svcroute::cluster::ClusterLimits).
            "maxObjects" => c.limits.max_objects = number(u64::MAX)? as usize,
            "maxLabelsPerObject" => c.limits.max_labels_per_object = number(u64::MAX)? as usize,
            "maxInputBytes" => c.limits.load.max_input_bytes = number(u64::MAX)? as usize,
            "maxDocuments" => c.limits.load.max_documents = number(u64::MAX)? as usize,
            "maxDepth" => c.limits.load.max_depth = number(128)? as usize,
            "maxStringBytes" => c.limits.load.max_string_bytes = number(u64::MAX)? as usize,
            "loadBalancer" => {
                c.load_balancer = load_balancer(v).map_err(|e| match e {
                    Ok(want) => wrong(want),
                    Err(why) => invalid(why),
                })?
            }
            "dns" | "allocated" => {
                return Err(DoorError::new(
                    ErrorKind::Unsupported,
                    format!("config: {key}: not taken by the cluster engine yet"),
                ));
            }
            _ => {
                return Err(parse_error(format!(
                    "config: unknown key {key:?}; the keys are {}",
                    CONFIG_KEYS.join(", ")
                )));
            }
        }
    }
    Ok((c, default_nodes))
}

/// The `loadBalancer` value: `Err(Ok(expected))` for a wrong shape,
/// `Err(Err(why))` for a bad CIDR.
fn load_balancer(v: &Value) -> Result<LoadBalancerProvider, Result<&'static str, String>> {
    const SHAPE: &str =
        "null, \"none\", \"aws\", {\"pool\": [CIDR, ...]} or {\"aws\": {\"region\": R}}";
    match v {
        Value::Null => Ok(LoadBalancerProvider::None),
        Value::String(s) if s == "none" => Ok(LoadBalancerProvider::None),
        Value::String(s) if s == "aws" => Ok(LoadBalancerProvider::aws()),
        Value::Object(map) if map.len() == 1 => {
            if let Some(pool) = map.get("pool") {
                let list = pool.as_array().ok_or(Ok(SHAPE))?;
                let cidrs = list
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let s = s.as_str().ok_or(Ok(SHAPE))?;
                        IpNet::parse_truncating(s).map_err(|e| Err(format!("pool[{i}]: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(LoadBalancerProvider::Pool(cidrs));
            }
            let aws = map.get("aws").ok_or(Ok(SHAPE))?;
            match aws.get("region") {
                None if aws.as_object().is_some_and(|m| m.is_empty()) => {
                    Ok(LoadBalancerProvider::aws())
                }
                Some(Value::String(region)) if aws.as_object().is_some_and(|m| m.len() == 1) => {
                    Ok(LoadBalancerProvider::Aws {
                        region: region.clone(),
                    })
                }
                _ => Err(Ok(SHAPE)),
            }
        }
        _ => Err(Ok(SHAPE)),
    }
}

/// A new cluster from a JSON configuration (see [`config_from_json`]); with
/// `defaultNodes: N`, it starts with the `N` nodes of
/// [`svcroute::cluster::default_nodes`] (three zones, Ready, with pod
/// CIDRs), so that the Pods of workload manifests that bring no Node are
/// scheduled. (This file is compiled into two crates, so its examples
/// live in its unit tests.)
pub fn new_cluster(config_json: Option<&str>) -> Result<Cluster, DoorError> {
    let (config, default_nodes) = door_config_from_json(config_json)?;
    let mut cluster =
        Cluster::new(config).map_err(|e| DoorError::from(svcroute::Error::from(e)))?;
    if default_nodes > 0 {
        let nodes = svcroute::cluster::default_nodes(default_nodes)
            .into_iter()
            .map(Object::Node)
            .collect();
        cluster
            .apply_batch(nodes)
            .map_err(|e| DoorError::from(svcroute::Error::from(e)))?;
    }
    Ok(cluster)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

// ------------------------------------------------------------ apply, delete

/// Where an applied object or event came from in the text.
#[derive(Debug, Clone, Copy)]
struct Origin {
    document: usize,
    item: Option<usize>,
    line: Option<usize>,
}

impl Origin {
    fn describe(&self) -> String {
        let mut s = format!("document {}", self.document);
        if let Some(i) = self.item {
            s.push_str(&format!(", item {i}"));
        }
        if let Some(l) = self.line {
            s.push_str(&format!(" (line {l})"));
        }
        s
    }
}

enum Entry {
    Object(Object),
    Event(WatchEvent),
}

/// Loads `text` (JSON or YAML, whichever it is, if the core was built with
/// YAML; multi-document streams, Lists and watch events) and applies it to
/// `cluster` atomically: on any error the cluster is as it was. Returns the
/// changes as JSON (see [`changes_json`]), with the unmodelled kinds that
/// were skipped (D1).
///
/// Objects and events are applied in input order: runs of objects as one
/// batch each, each event on its own. Without events the whole text is one
/// batch.
pub fn apply(cluster: &mut Cluster, text: &str) -> Result<Value, DoorError> {
    let applied = apply_objects(cluster, text)?;
    Ok(changes_json(&applied.changes, &applied.skipped))
}

/// What [`apply_objects`] did: the net [`Changes`] (what a [`Dataplane`] or
/// a DNS view patches itself with) and the unmodelled kinds skipped (D1).
///
/// [`Dataplane`]: svcroute::dataplane::Dataplane
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The net changes of the whole call.
    pub changes: Changes,
    /// Each unmodelled kind and how many objects of it were skipped.
    pub skipped: BTreeMap<TypeMeta, usize>,
    /// What the load did, in the CLI's words (issue 14).
    pub summary: svcroute::cluster::LoadSummary,
}

/// [`apply`], returning the changes as values rather than JSON, for doors
/// that keep derived state (compiled dataplanes, DNS views) in step.
pub fn apply_objects(cluster: &mut Cluster, text: &str) -> Result<Applied, DoorError> {
    // A JSON stream may start with `null` (an empty document, e.g. YAML
    // parsed in JS and passed one JSON value per document); `api::load`
    // takes only text starting with `{` or `[` for JSON.
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let leading_null = trimmed
        .strip_prefix("null")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace));
    let limits = cluster.config().limits.load;
    let loaded = if leading_null {
        api::load_json_with(text, &limits)?
    } else {
        api::load_with(text, &limits)?
    };
    let tally = svcroute::cluster::InputTally::of_loaded(&loaded);
    let mut entries: Vec<(Origin, Entry)> = Vec::new();
    for o in loaded.objects {
        let origin = Origin {
            document: o.document,
            item: o.item,
            line: o.line,
        };
        entries.push((origin, Entry::Object(o.value)));
    }
    for e in loaded.events {
        let origin = Origin {
            document: e.document,
            item: e.item,
            line: e.line,
        };
        entries.push((origin, Entry::Event(e.value)));
    }
    entries.sort_by_key(|(o, _)| (o.document, o.item));
    let has_events = entries.iter().any(|(_, e)| matches!(e, Entry::Event(_)));

    let changes = if has_events {
        // Several calls: work on a copy, keep it only if every call succeeds.
        let mut next = cluster.clone();
        let mut all = Vec::new();
        let mut batch: Vec<Object> = Vec::new();
        let mut batch_origins: Vec<Origin> = Vec::new();
        for (origin, entry) in entries {
            match entry {
                Entry::Object(o) => {
                    batch.push(o);
                    batch_origins.push(origin);
                }
                Entry::Event(e) => {
                    if !batch.is_empty() {
                        let objects = std::mem::take(&mut batch);
                        all.push(
                            next.apply_batch(objects)
                                .map_err(|err| cluster_error(err, &batch_origins))?,
                        );
                        batch_origins.clear();
                    }
                    all.push(
                        next.apply_event(e)
                            .map_err(|err| cluster_error(err, &[origin]))?,
                    );
                }
            }
        }
        if !batch.is_empty() {
            all.push(
                next.apply_batch(batch)
                    .map_err(|err| cluster_error(err, &batch_origins))?,
            );
        }
        let merged = merge_changes(&all, &next);
        *cluster = next;
        merged
    } else {
        let (origins, objects): (Vec<Origin>, Vec<Object>) = entries
            .into_iter()
            .filter_map(|(origin, e)| match e {
                Entry::Object(o) => Some((origin, o)),
                Entry::Event(_) => None,
            })
            .unzip();
        cluster
            .apply_batch(objects)
            .map_err(|err| cluster_error(err, &origins))?
    };
    Ok(Applied {
        summary: tally.finish(&changes, cluster),
        changes,
        skipped: loaded.skipped,
    })
}

/// The net changes of several calls, as the core computes them for one.
fn merge_changes(all: &[Changes], after: &Cluster) -> Changes {
    let mut existed: BTreeMap<&ObjectKey, bool> = BTreeMap::new();
    for c in all {
        for k in &c.created {
            existed.entry(k).or_insert(false);
        }
        for k in c.updated.iter().chain(&c.deleted) {
            existed.entry(k).or_insert(true);
        }
    }
    let mut out = Changes::default();
    for (key, before) in existed {
        match (before, after.get(key).is_some()) {
            (false, true) => out.created.push(key.clone()),
            (true, true) => out.updated.push(key.clone()),
            (true, false) => out.deleted.push(key.clone()),
            (false, false) => {}
        }
    }
    out
}

/// A refused cluster call, its problems placed at the documents their
/// objects came from (`origins[i]` is where batch item `i` came from).
fn cluster_error(err: ClusterError, origins: &[Origin]) -> DoorError {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for p in err.problems() {
        let origin = p.index.and_then(|i| origins.get(i));
        let mut text = String::new();
        let mut o = Map::new();
        o.insert("code".into(), json!(p.kind.error_kind().code()));
        if let Some(origin) = origin {
            text.push_str(&origin.describe());
            text.push_str(": ");
            o.insert("document".into(), json!(origin.document));
            put(&mut o, "item", origin.item.map(|i| json!(i)));
            put(&mut o, "line", origin.line.map(|l| json!(l)));
        }
        if let Some(key) = &p.object {
            text.push_str(&key.to_string());
            text.push_str(": ");
            o.insert("object".into(), key_json(key));
        }
        if let Some(field) = &p.field {
            text.push_str(field);
            text.push_str(": ");
            o.insert("field".into(), json!(field));
        }
        text.push_str(&p.message);
        o.insert("message".into(), json!(p.message));
        lines.push(text);
        problems.push(Value::Object(o));
    }
    let message = match lines.as_slice() {
        [one] => one.clone(),
        many => {
            let mut m = format!("{} problems:", many.len());
            for l in many {
                m.push_str("\n  ");
                m.push_str(l);
            }
            m
        }
    };
    DoorError {
        kind: err.kind(),
        message,
        problems,
    }
}

/// Deletes one object (atomic; a missing object is [`ErrorKind::NotFound`]).
/// `namespace` `None` (or empty) is `default` for namespaced kinds and
/// ignored for cluster-scoped ones.
pub fn delete(
    cluster: &mut Cluster,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Value, DoorError> {
    let changes = delete_object(cluster, kind, namespace, name)?;
    Ok(changes_json(&changes, &BTreeMap::new()))
}

/// [`delete`], returning the [`Changes`] as values rather than JSON.
pub fn delete_object(
    cluster: &mut Cluster,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Changes, DoorError> {
    let kind = parse_kind(kind)?;
    let key = ObjectKey {
        kind,
        namespace: if kind.is_namespaced() {
            Some(
                namespace
                    .filter(|n| !n.is_empty())
                    .unwrap_or("default")
                    .to_owned(),
            )
        } else {
            None
        },
        name: name.to_owned(),
    };
    cluster.delete(&key).map_err(|e| cluster_error(e, &[]))
}

/// The modelled kind named `kind` (`Service`, `EndpointSlice`, …; ASCII case
/// ignored).
pub fn parse_kind(kind: &str) -> Result<Kind, DoorError> {
    Kind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str().eq_ignore_ascii_case(kind))
        .ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            DoorError::new(
                ErrorKind::Unsupported,
                format!(
                    "{kind:?} is not a kind svcroute models; the kinds are {}",
                    names.join(", ")
                ),
            )
        })
}

// ------------------------------------------------------------ views

/// An object key as JSON: `{"apiVersion", "kind", "namespace"?, "name"}`.
pub fn key_json(key: &ObjectKey) -> Value {
    let mut o = Map::new();
    o.insert("apiVersion".into(), json!(key.kind.api_version()));
    o.insert("kind".into(), json!(key.kind.as_str()));
    put(
        &mut o,
        "namespace",
        key.namespace.as_ref().map(|n| json!(n)),
    );
    o.insert("name".into(), json!(key.name));
    Value::Object(o)
}

/// Changes as JSON: `{"created": [key…], "updated": [key…], "deleted":
/// [key…], "skipped": [{"apiVersion", "kind", "count"}…]}`; keys as in
/// [`key_json`], the controllers' writes (EndpointSlices, namespaces)
/// included.
pub fn changes_json(changes: &Changes, skipped: &BTreeMap<TypeMeta, usize>) -> Value {
    let keys = |v: &[ObjectKey]| Value::Array(v.iter().map(key_json).collect());
    json!({
        "created": keys(&changes.created),
        "updated": keys(&changes.updated),
        "deleted": keys(&changes.deleted),
        "skipped": skipped
            .iter()
            .map(|(t, n)| json!({"apiVersion": t.api_version, "kind": t.kind, "count": n}))
            .collect::<Vec<_>>(),
    })
}

/// A `v1` List of the items, as `kubectl get -o json` prints it (each item
/// with its fields in the API's order).
fn list_of<'a, T: serde::Serialize + 'a>(
    items: impl IntoIterator<Item = &'a T>,
) -> Result<String, DoorError> {
    let mut out = String::from(
        r#"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":["#,
    );
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = serde_json::to_string(item)
            .map_err(|e| DoorError::new(ErrorKind::Invalid, format!("cannot serialize: {e}")))?;
        out.push_str(&text);
    }
    out.push_str("]}");
    Ok(out)
}

/// The objects of `kind` in `namespace` (`None` or `""`, Kubernetes'
/// `NamespaceAll`: all namespaces) whose
/// labels match `selector` (kubectl's grammar; `None` or empty: all), as a
/// `v1` List ordered by namespace and name.
pub fn list(
    cluster: &Cluster,
    kind: &str,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<String, DoorError> {
    let kind = parse_kind(kind)?;
    let selector = match selector {
        None => Selector::everything(),
        Some(s) => s
            .parse::<Selector>()
            .map_err(|e| DoorError::from(svcroute::Error::from(e)))?,
    };
    let namespace = namespace.filter(|n| !n.is_empty());
    list_of(
        cluster
            .list(kind, namespace, &selector)
            .iter()
            .map(AsRef::as_ref),
    )
}

/// The EndpointSlices of Service `namespace/service` (the controllers' and
/// any labelled with `kubernetes.io/service-name`), as a `v1` List ordered by
/// name. [`ErrorKind::NotFound`] when there is no such Service and no slice
/// names it.
pub fn endpoint_slices(
    cluster: &Cluster,
    namespace: &str,
    service: &str,
) -> Result<String, DoorError> {
    let slices = cluster.endpoint_slices(namespace, service);
    if slices.is_empty() && !service_exists(cluster, namespace, service) {
        return Err(service_not_found(namespace, service));
    }
    list_of(slices.iter().map(AsRef::as_ref))
}

fn service_exists(cluster: &Cluster, namespace: &str, name: &str) -> bool {
    cluster
        .get(&ObjectKey {
            kind: Kind::Service,
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        })
        .is_some()
}

fn service_not_found(namespace: &str, name: &str) -> DoorError {
    DoorError::new(
        ErrorKind::NotFound,
        format!("Service {namespace}/{name}: not found"),
    )
}

/// Why Service `namespace/service` has the endpoints it has, as JSON (see
/// [`explanation_json`]); [`ErrorKind::NotFound`] when there is no such
/// Service.
pub fn explain(cluster: &Cluster, namespace: &str, service: &str) -> Result<Value, DoorError> {
    explain_service(cluster, namespace, service)
        .map(|why| explanation_json(&why))
        .ok_or_else(|| service_not_found(namespace, service))
}

/// An explanation as JSON:
///
/// ```text
/// {"namespace", "name", "type", "selector": string|null, "externalName": string|null,
///  "ports": [{"name", "port", "protocol", "targetPort"}],
///  "readyEndpoints": n,
///  "pods": [{"namespace", "name", "ip": string|null, "node": string|null,
///            "verdict": "Ready"|"NotReady"|"Terminating"|"Skipped"|"NotSelected"|"OtherNamespace",
///            "serving"?: bool,                     (Terminating)
///            "reason"?: "NoIp"|"Terminal"|"NodeMissing", "phase"?, "missingNode"?,  (Skipped)
///            "labelMisses"?: [{"key", "wanted", "found": string|null}],            (NotSelected)
///            "message": the verdict in words,
///            "ports": [{"name", "targetPort": number|null}]}]}
/// ```
pub fn explanation_json(why: &ServiceExplanation) -> Value {
    let pods: Vec<Value> = why
        .pods
        .iter()
        .map(|p| {
            let mut o = Map::new();
            o.insert("namespace".into(), json!(p.namespace));
            o.insert("name".into(), json!(p.name));
            o.insert("ip".into(), json!(p.ip));
            o.insert("node".into(), json!(p.node));
            let verdict = match &p.verdict {
                PodVerdict::Ready => "Ready",
                PodVerdict::NotReady => "NotReady",
                PodVerdict::Terminating { serving } => {
                    o.insert("serving".into(), json!(serving));
                    "Terminating"
                }
                PodVerdict::Skipped(reason) => {
                    match reason {
                        SkipReason::NoIp => {
                            o.insert("reason".into(), json!("NoIp"));
                        }
                        SkipReason::Terminal(phase) => {
                            o.insert("reason".into(), json!("Terminal"));
                            o.insert("phase".into(), json!(phase.as_str()));
                        }
                        SkipReason::NodeMissing(node) => {
                            o.insert("reason".into(), json!("NodeMissing"));
                            o.insert("missingNode".into(), json!(node));
                        }
                        SkipReason::Pending(message) => {
                            o.insert("reason".into(), json!("Pending"));
                            o.insert("message".into(), json!(message));
                        }
                    }
                    "Skipped"
                }
                PodVerdict::NotSelected(misses) => {
                    o.insert(
                        "labelMisses".into(),
                        misses
                            .iter()
                            .map(|m| json!({"key": m.key, "wanted": m.wanted, "found": m.found}))
                            .collect(),
                    );
                    "NotSelected"
                }
                PodVerdict::OtherNamespace => "OtherNamespace",
            };
            o.insert("verdict".into(), json!(verdict));
            o.insert("message".into(), json!(p.verdict.to_string()));
            o.insert(
                "ports".into(),
                p.ports
                    .iter()
                    .map(|(n, r)| json!({"name": n, "targetPort": r}))
                    .collect(),
            );
            Value::Object(o)
        })
        .collect();
    json!({
        "namespace": why.namespace,
        "name": why.name,
        "type": why.service_type.as_str(),
        "selector": why.selector,
        "externalName": why.external_name,
        "ports": why.ports.iter().map(|p| json!({
            "name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.target,
        })).collect::<Vec<_>>(),
        "readyEndpoints": why.ready_endpoints(),
        "pods": pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Cluster {
        new_cluster(Some(r#"{"bootstrap": false}"#)).unwrap()
    }

    #[test]
    fn config_keys_and_defaults() {
        assert_eq!(config_from_json(None).unwrap(), ClusterConfig::default());
        assert_eq!(
            config_from_json(Some(" ")).unwrap(),
            ClusterConfig::default()
        );
        assert_eq!(
            config_from_json(Some("null")).unwrap(),
            ClusterConfig::default()
        );
        let c = config_from_json(Some(
            r#"{"clusterDomain": "corp.example", "serviceCIDRs": ["10.100.0.0/24", "fd00::/108"],
                "clusterCIDRs": ["10.200.0.0/16"], "nodeCIDRMaskSizeIPv4": 25,
                "nodeCIDRMaskSizeIPv6": 80, "nodePortRange": "31000-31010",
                "maxEndpointsPerSlice": 3, "mirroringMaxEndpointsPerSubset": 9,
                "proxyMode": "ipvs", "masqueradeAll": true, "localhostNodePorts": false,
                "nodePortAddresses": ["192.168.0.0/16"], "ipvsScheduler": "wrr",
                "detectLocalMode": "NodeCIDR", "kubernetesServiceIP": null, "seed": 42,
                "endpointSliceController": false, "bootstrap": false,
                "workloads": false, "endpointsController": false,
                "loadBalancer": {"aws": {"region": "eu-west-1"}}, "defaultNodes": 2}"#,
        ))
        .unwrap();
        assert_eq!(c.cluster_domain, "corp.example");
        assert_eq!(c.service_cidrs.len(), 2);
        assert_eq!(c.cluster_cidrs[0].to_string(), "10.200.0.0/16");
        assert_eq!(
            (c.node_cidr_mask_size_ipv4, c.node_cidr_mask_size_ipv6),
            (25, 80)
        );
        assert_eq!(
            (c.node_port_range.first(), c.node_port_range.last()),
            (31000, 31010)
        );
        assert_eq!(
            (
                c.max_endpoints_per_slice,
                c.mirroring_max_endpoints_per_subset
            ),
            (3, 9)
        );
        assert_eq!(c.proxy.mode, ProxyMode::Ipvs);
        assert!(c.proxy.masquerade_all && !c.proxy.localhost_node_ports);
        assert_eq!(c.proxy.node_port_addresses.as_ref().unwrap().len(), 1);
        assert_eq!(c.proxy.ipvs_scheduler, "wrr");
        assert_eq!(c.proxy.detect_local_mode, DetectLocalMode::NodeCIDR);
        assert_eq!(c.kubernetes_service_ip, KubernetesServiceIp::None);
        assert_eq!(c.seed, 42);
        assert!(!c.endpoint_slice_controller && !c.bootstrap);
        assert!(!c.workloads && !c.endpoints_controller);
        assert_eq!(
            c.load_balancer,
            LoadBalancerProvider::Aws {
                region: "eu-west-1".into()
            }
        );
        let pool = config_from_json(Some(r#"{"loadBalancer": {"pool": ["192.0.2.0/28"]}}"#));
        assert!(
            matches!(pool.unwrap().load_balancer, LoadBalancerProvider::Pool(p) if p.len() == 1)
        );
        let bad = config_from_json(Some(r#"{"loadBalancer": {"pool": ["nope"]}}"#)).unwrap_err();
        assert_eq!(bad.kind, ErrorKind::Invalid);
        assert!(bad.message.contains("loadBalancer"), "{}", bad.message);
        // Every key documented is read.
        assert_eq!(CONFIG_KEYS.len(), 28);
    }

    #[test]
    fn default_nodes_start_the_cluster() {
        let c = new_cluster(Some(r#"{"defaultNodes": 3}"#)).unwrap();
        let nodes = c.list(Kind::Node, None, &Selector::everything());
        assert_eq!(nodes.len(), 3);
        assert!(new_cluster(Some(r#"{"defaultNodes": 257}"#)).is_err());
        assert!(new_cluster(Some(r#"{"loadBalancer": {"pool": "x"}}"#)).is_err());
    }

    #[test]
    fn config_errors_name_the_key() {
        let err = |text: &str| config_from_json(Some(text)).unwrap_err();
        let e = err(r#"{"seed": -1}"#);
        assert_eq!(e.kind, ErrorKind::Parse);
        assert_eq!(
            e.message,
            "config: seed: expected an integer from 0 to 18446744073709551615, found a number"
        );
        let e = err(r#"{"nodeCIDRMaskSizeIPv4": 33}"#);
        assert!(
            e.message.starts_with("config: nodeCIDRMaskSizeIPv4:"),
            "{}",
            e.message
        );
        let e = err(r#"{"serviceCIDRs": ["10.0.0.0/8", "bad"]}"#);
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(
            e.message.starts_with("config: serviceCIDRs: [1]: "),
            "{}",
            e.message
        );
        assert_eq!(err(r#"{"nodePortRange": "9-1"}"#).kind, ErrorKind::Invalid);
        assert_eq!(err(r#"{"kubernetesServiceIP": 1}"#).kind, ErrorKind::Parse);
        assert_eq!(
            err(r#"{"kubernetesServiceIP": "x"}"#).kind,
            ErrorKind::Invalid
        );
        assert_eq!(err(r#"{"dns": {}}"#).kind, ErrorKind::Unsupported);
        assert_eq!(err("[]").kind, ErrorKind::Parse);
        assert_eq!(err("{").kind, ErrorKind::Parse);
        let e = new_cluster(Some(r#"{"serviceCIDRs": ["10.0.0.0/16", "10.1.0.0/16"]}"#))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.message.contains("serviceCIDRs[1]"), "{}", e.message);
    }

    #[test]
    fn apply_reports_skipped_kinds_and_net_changes() {
        let mut c = fresh();
        let text = concat!(
            r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}}"#,
            "\n",
            r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}"#,
            "\n",
            r#"{"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "y"}}}}"#,
            "\n",
            r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}"#,
        );
        let changes = apply(&mut c, text).unwrap();
        assert_eq!(
            changes,
            json!({
                "created": [
                    {"apiVersion": "v1", "kind": "Namespace", "name": "a"},
                    {"apiVersion": "v1", "kind": "Namespace", "name": "b"},
                ],
                "updated": [],
                "deleted": [],
                "skipped": [{"apiVersion": "v1", "kind": "Secret", "count": 1}],
            })
        );
        // Applied again: nothing new; `a` was written twice (its labels
        // dropped, then back), which counts as updated, as in one core call.
        let again = apply(&mut c, text).unwrap();
        assert_eq!(again["created"], json!([]));
        assert_eq!(
            again["updated"],
            json!([{"apiVersion": "v1", "kind": "Namespace", "name": "a"}])
        );
    }

    #[test]
    fn a_refused_event_stream_changes_nothing_and_says_where() {
        let mut c = fresh();
        let text = concat!(
            r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}"#,
            "\n",
            r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}}"#,
            "\n\n",
            r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "b"}}"#,
        );
        let e = apply(&mut c, text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(
            e.message,
            "document 2 (line 4): Pod b/: metadata.name: name is required"
        );
        assert_eq!(e.problems[0]["document"], 2);
        assert_eq!(e.problems[0]["object"]["kind"], "Pod");
        assert!(c.is_empty());
    }

    #[test]
    fn a_json_stream_may_start_with_an_empty_document() {
        let mut c = fresh();
        let e = apply(
            &mut c,
            "null\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": 5}}",
        )
        .unwrap_err();
        assert_eq!(e.problems[0]["document"], 1);
        let changes = apply(&mut c, "null\nnull").unwrap();
        assert_eq!(changes["created"], json!([]));
    }

    #[test]
    fn parse_errors_keep_every_problem() {
        let mut c = fresh();
        let e = apply(
            &mut c,
            r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 5}}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Parse);
        assert_eq!(e.problems[0]["field"], "metadata.name");
        assert_eq!(e.problems[0]["object"]["kind"], "Pod");
        assert_eq!(e.problems[0]["code"], "parse");
    }

    #[test]
    fn kinds_lists_and_lookups() {
        assert_eq!(parse_kind("endpointslice").unwrap(), Kind::EndpointSlice);
        assert_eq!(
            parse_kind("ConfigMap").unwrap_err().kind,
            ErrorKind::Unsupported
        );
        let c = new_cluster(None).unwrap();
        let services: Value =
            serde_json::from_str(&list(&c, "Service", None, None).unwrap()).unwrap();
        assert_eq!(services["items"][0]["metadata"]["name"], "kubernetes");
        assert_eq!(
            list(&c, "Namespace", Some(""), Some("")).unwrap(),
            list(&c, "Namespace", None, None).unwrap()
        );
        let empty = list_of(Vec::<&Object>::new()).unwrap();
        assert_eq!(
            empty,
            r#"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[]}"#
        );
        // The default/kubernetes Service has no selector: no slices of the
        // controller, and an explanation that says so.
        let slices: Value =
            serde_json::from_str(&endpoint_slices(&c, "default", "kubernetes").unwrap()).unwrap();
        assert_eq!(slices["items"], json!([]));
        let why = explain(&c, "default", "kubernetes").unwrap();
        assert_eq!(why["selector"], Value::Null);
        assert_eq!(
            explain(&c, "default", "nope").unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            list(&c, "Pod", None, Some("a in (")).unwrap_err().kind,
            ErrorKind::Parse
        );
    }
}
