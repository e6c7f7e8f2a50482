//! `svcroute get TYPE[,TYPE…] [NAME] [-n NS | -A] [-l SELECTOR] [-o …]`:
//! list objects the way `kubectl get` does.

use std::collections::BTreeSet;
use std::io::Write;

use clap::Args;
use serde_json::{Value, json};
use svcroute::ErrorKind;
use svcroute::api::{Kind, Object, Service, ServiceType};
use svcroute::labels::Selector;

use crate::cli::OutputFormat;
use crate::context::{Context, Scope};

use crate::exit::{CliError, Outcome};
use crate::{age, load, output, table};

/// Flags of `svcroute get`.
#[derive(Debug, Clone, Default, Args)]
pub struct GetArgs {
    /// Resource types, comma-separated: services (svc), endpoints (ep),
    /// endpointslices, pods (po), deployments (deploy), replicasets (rs),
    /// statefulsets (sts), daemonsets (ds), nodes (no), namespaces (ns),
    /// ingresses (ing), ingressclasses
    pub types: String,
    /// Only the object with this name
    pub name: Option<String>,
}

/// The kind a kubectl resource name or short name stands for.
pub fn kind_of(resource: &str) -> Option<Kind> {
    Some(match resource.to_ascii_lowercase().as_str() {
        "po" | "pod" | "pods" => Kind::Pod,
        "svc" | "service" | "services" => Kind::Service,
        "no" | "node" | "nodes" => Kind::Node,
        "ns" | "namespace" | "namespaces" => Kind::Namespace,
        "ep" | "endpoints" => Kind::Endpoints,
        "endpointslice" | "endpointslices" => Kind::EndpointSlice,
        "ing" | "ingress" | "ingresses" => Kind::Ingress,
        "ingressclass" | "ingressclasses" => Kind::IngressClass,
        "deploy" | "deployment" | "deployments" => Kind::Deployment,
        "rs" | "replicaset" | "replicasets" => Kind::ReplicaSet,
        "sts" | "statefulset" | "statefulsets" => Kind::StatefulSet,
        "ds" | "daemonset" | "daemonsets" => Kind::DaemonSet,
        "gateway" | "gateways" => Kind::Gateway,
        "httproute" | "httproutes" => Kind::HTTPRoute,
        _ => return None,
    })
}

/// kubectl's lower-case resource name of a kind (`-o name`, mixed tables).
pub fn resource_of(kind: Kind) -> String {
    match kind {
        Kind::EndpointSlice => "endpointslice.discovery.k8s.io".into(),
        Kind::Ingress => "ingress.networking.k8s.io".into(),
        Kind::IngressClass => "ingressclass.networking.k8s.io".into(),
        Kind::Deployment => "deployment.apps".into(),
        Kind::ReplicaSet => "replicaset.apps".into(),
        Kind::StatefulSet => "statefulset.apps".into(),
        Kind::DaemonSet => "daemonset.apps".into(),
        Kind::Gateway => "gateway.gateway.networking.k8s.io".into(),
        Kind::HTTPRoute => "httproute.gateway.networking.k8s.io".into(),
        other => other.as_str().to_ascii_lowercase(),
    }
}

/// Lists the objects.
pub fn run(args: &GetArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format(
        "get",
        &[
            OutputFormat::Json,
            OutputFormat::Yaml,
            OutputFormat::Wide,
            OutputFormat::Name,
        ],
    )?;
    let mut kinds = Vec::new();
    for resource in args.types.split(',').filter(|r| !r.is_empty()) {
        let kind = kind_of(resource).ok_or_else(|| {
            CliError::usage(format!(
                "the server doesn't have a resource type \"{resource}\""
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err(CliError::usage(
            "you must specify the type of resource to get",
        ));
    }
    let selector = match ctx.selector() {
        Some(text) => Selector::parse(text).map_err(|e| {
            CliError::of_kind(ErrorKind::Parse, format!("invalid -l selector: {e}"))
        })?,
        None => Selector::everything(),
    };
    let cluster = load::cluster(ctx)?;
    let all_namespaces = ctx.scope() == Scope::All;
    let namespace = ctx.namespace().to_string();
    let mut found: Vec<std::borrow::Cow<'_, Object>> = Vec::new();
    for kind in &kinds {
        let ns = (!all_namespaces && kind.is_namespaced()).then_some(namespace.as_str());
        found.extend(
            cluster
                .list(*kind, ns, &selector)
                .into_iter()
                .filter(|o| args.name.is_none() || o.name() == args.name.as_deref()),
        );
    }
    found.sort_by(|a, b| {
        let pos = |o: &Object| kinds.iter().position(|k| *k == o.kind());
        (pos(a), a.namespace(), a.name()).cmp(&(pos(b), b.namespace(), b.name()))
    });

    if found.is_empty() {
        if let Some(name) = &args.name {
            return Err(CliError::of_kind(
                ErrorKind::NotFound,
                format!("{} \"{name}\" not found", resource_of(kinds[0])),
            ));
        }
        if !all_namespaces && kinds.iter().any(|k| k.is_namespaced()) {
            writeln!(ctx.stderr, "No resources found in {namespace} namespace.")?;
        } else {
            writeln!(ctx.stderr, "No resources found")?;
        }
        return Ok(Outcome::Positive);
    }

    match format {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            let value = if found.len() == 1 && args.name.is_some() {
                serde_json::to_value(&found[0]).map_err(json_error)?
            } else {
                let items: Result<Vec<Value>, _> = found.iter().map(serde_json::to_value).collect();
                json!({"apiVersion": "v1", "kind": "List", "items": items.map_err(json_error)?,
                       "metadata": {"resourceVersion": ""}})
            };
            output::write_structured(ctx.stdout, f, &value)?;
        }
        Some(OutputFormat::Name) => {
            for o in &found {
                writeln!(
                    ctx.stdout,
                    "{}/{}",
                    resource_of(o.kind()),
                    o.name().unwrap_or("")
                )?;
            }
        }
        _ => {
            let wide = format == Some(OutputFormat::Wide);
            let all = all_namespaces;
            let mixed = kinds.len() > 1;
            let shown: BTreeSet<usize> = kinds
                .iter()
                .enumerate()
                .filter(|(_, k)| found.iter().any(|o| o.kind() == **k))
                .map(|(i, _)| i)
                .collect();
            for (n, i) in shown.iter().enumerate() {
                if n > 0 {
                    writeln!(ctx.stdout)?;
                }
                let kind = kinds[*i];
                let of_kind: Vec<&Object> = found
                    .iter()
                    .map(AsRef::as_ref)
                    .filter(|o| o.kind() == kind)
                    .collect();
                write_table(ctx.stdout, kind, &of_kind, wide, all, mixed)?;
            }
        }
    }
    Ok(Outcome::Positive)
}

fn json_error(e: serde_json::Error) -> CliError {
    CliError::of_kind(ErrorKind::Invalid, format!("cannot encode object: {e}"))
}

fn write_table(
    out: &mut dyn Write,
    kind: Kind,
    objects: &[&Object],
    wide: bool,
    all_namespaces: bool,
    mixed: bool,
) -> Result<(), CliError> {
    let (mut headers, wide_headers) = headers(kind);
    if wide {
        headers.extend(wide_headers);
    }
    let namespaced = all_namespaces && kind.is_namespaced();
    if namespaced {
        headers.insert(0, "NAMESPACE");
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            let mut row = cells(o);
            row.truncate(headers.len() - usize::from(namespaced));
            if mixed {
                row[0] = format!("{}/{}", resource_of(kind), row[0]);
            }
            if namespaced {
                row.insert(0, o.namespace().unwrap_or("").to_string());
            }
            row
        })
        .collect();
    table::write(out, &headers, &rows)
}

/// kubectl's columns of a kind: the normal ones, then the `-o wide` ones.
pub fn headers(kind: Kind) -> (Vec<&'static str>, Vec<&'static str>) {
    match kind {
        Kind::Pod => (
            vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            vec!["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        Kind::Service => (
            vec![
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            vec!["SELECTOR"],
        ),
        Kind::Node => (
            vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            vec![
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        ),
        Kind::Namespace => (vec!["NAME", "STATUS", "AGE"], vec![]),
        Kind::Endpoints => (vec!["NAME", "ENDPOINTS", "AGE"], vec![]),
        Kind::EndpointSlice => (
            vec!["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
            vec![],
        ),
        Kind::Ingress => (
            vec!["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
            vec![],
        ),
        Kind::IngressClass => (vec!["NAME", "CONTROLLER", "PARAMETERS", "AGE"], vec![]),
        Kind::Deployment => (
            vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            vec!["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        Kind::ReplicaSet => (
            vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            vec!["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        Kind::StatefulSet => (vec!["NAME", "READY", "AGE"], vec!["CONTAINERS", "IMAGES"]),
        Kind::DaemonSet => (
            vec![
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            vec!["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        _ => (vec!["NAME", "AGE"], vec![]),
    }
}

/// The cells of one object's row: the normal columns, then the wide ones.
fn cells(object: &Object) -> Vec<String> {
    let name = object.name().unwrap_or("").to_string();
    let age = age::age(object.metadata().creation_timestamp.as_deref());
    match object {
        Object::Pod(pod) => {
            let containers = pod.spec.containers.len();
            let ready = if pod.is_ready() { containers } else { 0 };
            let status = if pod.is_terminating() {
                "Terminating".to_string()
            } else {
                pod.phase().to_string()
            };
            let ip = pod
                .status
                .pod_ip
                .clone()
                .or_else(|| pod.status.pod_ips.first().map(|p| p.ip.clone()))
                .unwrap_or_default();
            let node = pod.spec.node_name.clone().unwrap_or_default();
            vec![
                name,
                format!("{ready}/{containers}"),
                status,
                "0".into(),
                age,
                table::or_none(ip),
                table::or_none(node),
                "<none>".into(),
                "<none>".into(),
            ]
        }
        Object::Service(svc) => {
            let selector = svc
                .spec
                .selector
                .as_ref()
                .map(|m| svcroute::labels::format_label_set(m.iter()))
                .unwrap_or_default();
            vec![
                name,
                svc.service_type().to_string(),
                service_cluster_ip(svc),
                service_external_ip(svc),
                service_ports(svc),
                age,
                table::or_none(selector),
            ]
        }
        Object::Node(node) => {
            let mut status = if node.is_ready() {
                "Ready".to_string()
            } else {
                "NotReady".to_string()
            };
            if node.spec.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<&str> = node
                .metadata
                .labels
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .filter(|r| !r.is_empty())
                        .or_else(|| (k == "kubernetes.io/role").then_some(v.as_str()))
                })
                .collect();
            roles.sort_unstable();
            roles.dedup();
            let address = |t: &str| {
                node.status
                    .addresses
                    .iter()
                    .find(|a| a.type_ == t)
                    .map(|a| a.address.clone())
                    .unwrap_or_default()
            };
            vec![
                name,
                status,
                table::or_none(roles.join(",")),
                age,
                "<unknown>".into(),
                table::or_none(address("InternalIP")),
                table::or_none(address("ExternalIP")),
                "<unknown>".into(),
                "<unknown>".into(),
                "<unknown>".into(),
            ]
        }
        Object::Namespace(ns) => {
            let status = if ns.metadata.deletion_timestamp.is_some() {
                "Terminating".to_string()
            } else {
                ns.status.phase.clone().unwrap_or_else(|| "Active".into())
            };
            vec![name, status, age]
        }
        Object::Endpoints(ep) => vec![name, format_endpoints(ep), age],
        Object::EndpointSlice(slice) => {
            let ports: Vec<String> = slice
                .ports
                .iter()
                .map(|p| p.port.map_or("<unset>".to_string(), |n| n.to_string()))
                .collect();
            let addrs: Vec<String> = slice
                .endpoints
                .iter()
                .flat_map(|e| e.addresses.iter().cloned())
                .collect();
            vec![
                name,
                slice.address_type.to_string(),
                if ports.is_empty() {
                    "<unset>".into()
                } else {
                    abbreviate(&ports)
                },
                if addrs.is_empty() {
                    "<unset>".into()
                } else {
                    abbreviate(&addrs)
                },
                age,
            ]
        }
        Object::Ingress(ing) => {
            let hosts: Vec<&str> = ing
                .spec
                .rules
                .iter()
                .filter_map(|r| r.host.as_deref())
                .collect();
            let address: BTreeSet<&str> = ing
                .status
                .load_balancer
                .ingress
                .iter()
                .filter_map(|i| i.ip.as_deref().or(i.hostname.as_deref()))
                .collect();
            let ports = if ing.spec.tls.is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name,
                table::or_none(ing.spec.ingress_class_name.clone().unwrap_or_default()),
                if hosts.is_empty() {
                    "*".into()
                } else {
                    hosts.join(",")
                },
                address.into_iter().collect::<Vec<_>>().join(","),
                ports.into(),
                age,
            ]
        }
        Object::IngressClass(ic) => vec![
            name,
            ic.spec.controller.clone().unwrap_or_default(),
            ic.spec
                .parameters
                .as_ref()
                .map_or("<none>".to_string(), |p| format!("{}/{}", p.kind, p.name)),
            age,
        ],
        Object::Deployment(d) => {
            let want = d.spec.replicas.unwrap_or(1);
            let st = &d.status;
            let mut row = vec![
                name,
                format!("{}/{want}", st.ready_replicas.unwrap_or(0)),
                st.replicas.unwrap_or(0).to_string(),
                st.available_replicas.unwrap_or(0).to_string(),
                age,
            ];
            row.extend(template(&d.spec.template, d.spec.selector.as_ref()));
            row
        }
        Object::ReplicaSet(r) => {
            let st = &r.status;
            let mut row = vec![
                name,
                r.spec.replicas.unwrap_or(1).to_string(),
                st.replicas.unwrap_or(0).to_string(),
                st.ready_replicas.unwrap_or(0).to_string(),
                age,
            ];
            row.extend(template(&r.spec.template, r.spec.selector.as_ref()));
            row
        }
        Object::StatefulSet(s) => {
            let mut row = vec![
                name,
                format!(
                    "{}/{}",
                    s.status.ready_replicas.unwrap_or(0),
                    s.spec.replicas.unwrap_or(1)
                ),
                age,
            ];
            let mut t = template(&s.spec.template, s.spec.selector.as_ref());
            t.truncate(2);
            row.extend(t);
            row
        }
        Object::DaemonSet(ds) => {
            let st = &ds.status;
            let node_selector = ds
                .spec
                .template
                .spec
                .node_selector
                .as_ref()
                .map(|m| svcroute::labels::format_label_set(m.iter()))
                .unwrap_or_default();
            let mut row = vec![
                name,
                st.desired_number_scheduled.unwrap_or(0).to_string(),
                st.current_number_scheduled.unwrap_or(0).to_string(),
                st.number_ready.unwrap_or(0).to_string(),
                st.current_number_scheduled.unwrap_or(0).to_string(),
                st.number_ready.unwrap_or(0).to_string(),
                table::or_none(node_selector),
                age,
            ];
            row.extend(template(&ds.spec.template, ds.spec.selector.as_ref()));
            row
        }
        _ => vec![name, age],
    }
}

/// The wide CONTAINERS, IMAGES and SELECTOR cells of a workload.
fn template(
    t: &svcroute::api::PodTemplateSpec,
    selector: Option<&svcroute::labels::LabelSelector>,
) -> Vec<String> {
    let names: Vec<&str> = t.spec.containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = t
        .spec
        .containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    let selector = selector
        .and_then(|s| s.to_selector().ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    vec![names.join(","), images.join(","), table::or_none(selector)]
}

fn join_host_port(ip: &str, port: i32) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// kubectl's `formatEndpoints`: per subset, per port, per ready address.
fn format_endpoints(ep: &svcroute::api::Endpoints) -> String {
    if ep.subsets.is_empty() {
        return "<none>".into();
    }
    let mut addrs = Vec::new();
    for subset in &ep.subsets {
        if subset.ports.is_empty() {
            addrs.extend(subset.addresses.iter().map(|a| a.ip.clone()));
        }
        for p in &subset.ports {
            addrs.extend(
                subset
                    .addresses
                    .iter()
                    .map(|a| join_host_port(&a.ip, p.port)),
            );
        }
    }
    abbreviate(&addrs)
}

/// kubectl's lists: the first three, then `+ N more...`.
fn abbreviate(items: &[String]) -> String {
    if items.len() <= 3 {
        items.join(",")
    } else {
        format!("{} + {} more...", items[..3].join(","), items.len() - 3)
    }
}

fn service_cluster_ip(svc: &Service) -> String {
    let ip = svc
        .spec
        .cluster_ip
        .clone()
        .or_else(|| {
            svc.spec
                .cluster_ips
                .as_ref()
                .and_then(|v| v.first().cloned())
        })
        .unwrap_or_default();
    table::or_none(ip)
}

fn service_external_ip(svc: &Service) -> String {
    let mut ips: Vec<String> = Vec::new();
    match svc.service_type() {
        ServiceType::ExternalName => {
            return table::or_none(svc.spec.external_name.clone().unwrap_or_default());
        }
        ServiceType::LoadBalancer => {
            ips.extend(
                svc.status
                    .load_balancer
                    .ingress
                    .iter()
                    .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone())),
            );
            ips.extend(svc.spec.external_ips.iter().cloned());
            if ips.is_empty() {
                return "<pending>".into();
            }
        }
        _ => ips.extend(svc.spec.external_ips.iter().cloned()),
    }
    table::or_none(ips.join(","))
}

fn service_ports(svc: &Service) -> String {
    let ports: Vec<String> = svc
        .spec
        .ports
        .iter()
        .map(|p| {
            let proto = p.protocol.map_or("TCP".to_string(), |p| format!("{p:?}"));
            match p.node_port {
                Some(np) => format!("{}:{np}/{proto}", p.port),
                None => format!("{}/{proto}", p.port),
            }
        })
        .collect();
    table::or_none(ports.join(","))
}
