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
use crate::{load, output, table};

/// Flags of `svcroute get`.
#[derive(Debug, Clone, Default, Args)]
pub struct GetArgs {
    /// Resource types, comma-separated (`pods`, `svc`, `endpointslices`, `nodes`, …)
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
    let mut found: Vec<&Object> = Vec::new();
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
                serde_json::to_value(found[0]).map_err(json_error)?
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
                let of_kind: Vec<&Object> =
                    found.iter().copied().filter(|o| o.kind() == kind).collect();
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
    let (mut headers, wide_headers): (Vec<&str>, Vec<&str>) = match kind {
        Kind::Pod => (vec!["NAME", "READY", "STATUS"], vec!["IP", "NODE"]),
        Kind::Service => (
            vec!["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
            vec!["SELECTOR"],
        ),
        Kind::Node => (vec!["NAME", "STATUS", "ROLES"], vec!["INTERNAL-IP"]),
        Kind::Namespace => (vec!["NAME", "STATUS"], vec![]),
        Kind::Endpoints => (vec!["NAME", "ENDPOINTS"], vec![]),
        Kind::EndpointSlice => (vec!["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"], vec![]),
        Kind::Ingress => (vec!["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS"], vec![]),
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet => {
            (vec!["NAME", "REPLICAS"], vec!["SELECTOR"])
        }
        _ => (vec!["NAME"], vec![]),
    };
    let extra = if wide { wide_headers.len() } else { 0 };
    headers.extend(wide_headers.iter().take(extra));
    if all_namespaces && kind.is_namespaced() {
        headers.insert(0, "NAMESPACE");
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            let mut row = cells(o);
            row.truncate(headers.len() - usize::from(all_namespaces && kind.is_namespaced()));
            if mixed {
                row[0] = format!("{}/{}", resource_of(kind), row[0]);
            }
            if all_namespaces && kind.is_namespaced() {
                row.insert(0, o.namespace().unwrap_or("").to_string());
            }
            row
        })
        .collect();
    table::write(out, &headers, &rows)
}

/// The cells of one object's row: the normal columns, then the wide ones.
fn cells(object: &Object) -> Vec<String> {
    let name = object.name().unwrap_or("").to_string();
    match object {
        Object::Pod(pod) => {
            let containers = pod.spec.containers.len();
            let ready = if pod.is_ready() { containers } else { 0 };
            let status = if pod.is_terminating() {
                "Terminating".to_string()
            } else {
                format!("{:?}", pod.phase())
            };
            let ip = pod.status.pod_ip.clone().unwrap_or_default();
            let node = pod.spec.node_name.clone().unwrap_or_default();
            vec![
                name,
                format!("{ready}/{containers}"),
                status,
                table::or_none(ip),
                table::or_none(node),
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
                format!("{:?}", svc.service_type()),
                service_cluster_ip(svc),
                service_external_ip(svc),
                service_ports(svc),
                table::or_none(selector),
            ]
        }
        Object::Node(node) => {
            let status = if node.is_ready() { "Ready" } else { "NotReady" };
            let roles: Vec<&str> = node
                .metadata
                .labels
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            let ip = node
                .status
                .addresses
                .iter()
                .find(|a| a.type_ == "InternalIP")
                .map(|a| a.address.clone())
                .unwrap_or_default();
            vec![
                name,
                status.into(),
                table::or_none(roles.join(",")),
                table::or_none(ip),
            ]
        }
        Object::Namespace(ns) => {
            let status = if ns.metadata.deletion_timestamp.is_some() {
                "Terminating"
            } else {
                "Active"
            };
            vec![name, status.into()]
        }
        Object::Endpoints(ep) => {
            let mut addrs = Vec::new();
            for subset in &ep.subsets {
                for a in &subset.addresses {
                    if subset.ports.is_empty() {
                        addrs.push(a.ip.clone());
                    }
                    for p in &subset.ports {
                        addrs.push(join_host_port(&a.ip, p.port));
                    }
                }
            }
            vec![name, table::or_none(abbreviate(&addrs))]
        }
        Object::EndpointSlice(slice) => {
            let ports: Vec<String> = slice
                .ports
                .iter()
                .filter_map(|p| p.port.map(|n| n.to_string()))
                .collect();
            let addrs: Vec<String> = slice
                .endpoints
                .iter()
                .flat_map(|e| e.addresses.iter().cloned())
                .collect();
            let ports = if ports.is_empty() {
                "<unset>".to_string()
            } else {
                ports.join(",")
            };
            vec![
                name,
                format!("{:?}", slice.address_type),
                ports,
                table::or_none(abbreviate(&addrs)),
            ]
        }
        Object::Ingress(ing) => {
            let hosts: Vec<&str> = ing
                .spec
                .rules
                .iter()
                .map(|r| r.host.as_deref().unwrap_or("*"))
                .collect();
            let address: Vec<&str> = ing
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
                address.join(","),
                ports.into(),
            ]
        }
        Object::Deployment(d) => workload(name, d.spec.replicas, d.spec.selector.as_ref()),
        Object::ReplicaSet(r) => workload(name, r.spec.replicas, r.spec.selector.as_ref()),
        Object::StatefulSet(s) => workload(name, s.spec.replicas, s.spec.selector.as_ref()),
        _ => vec![name],
    }
}

fn workload(
    name: String,
    replicas: Option<i32>,
    selector: Option<&svcroute::labels::LabelSelector>,
) -> Vec<String> {
    let selector = selector
        .and_then(|s| s.to_selector().ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    vec![
        name,
        replicas.unwrap_or(1).to_string(),
        table::or_none(selector),
    ]
}

fn join_host_port(ip: &str, port: i32) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// kubectl's endpoint list: the first three, then `+ N more...`.
fn abbreviate(items: &[String]) -> String {
    if items.len() <= 3 {
        items.join(",")
    } else {
        format!("{} + {} more...", items[..3].join(","), items.len() - 3)
    }
}

fn service_cluster_ip(svc: &Service) -> String {
    if svc.service_type() == ServiceType::ExternalName {
        return "<none>".into();
    }
    let ips = svc
        .spec
        .cluster_ips
        .clone()
        .or_else(|| svc.spec.cluster_ip.clone().map(|ip| vec![ip]))
        .unwrap_or_default();
    table::or_none(ips.join(","))
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
