//! `svcroute urls service NAME [-n NS]`: every address that reaches a
//! Service, the way `minikube service --url` answers and beyond it: from
//! pods (the DNS names, with the short forms that work from the same and
//! from other namespaces, and the cluster IPs), from nodes and outside
//! (each node's address with the NodePort, only the nodes with a local
//! endpoint under `externalTrafficPolicy: Local`; load-balancer addresses,
//! externalIPs; the Ingress hosts and paths that lead to it). Each address
//! is written the way `svcroute route --to` takes it.

use std::collections::BTreeSet;
use std::io::Write;

use clap::Args;
use serde::Serialize;
use svcroute::ErrorKind;
use svcroute::api::{
    IngressBackend, Kind, Object, ObjectKey, Service, ServiceExternalTrafficPolicy, ServiceType,
};
use svcroute::cluster::Cluster;
use svcroute::labels::Selector;

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::{load, output};

/// Flags of `svcroute urls`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "\
Example:
  svcroute urls service frontend -n shop -f shop.yaml

Each address can be traced: svcroute route --from pod/NAME --to ADDRESS (the
DNS names and cluster IPs), --from IP@NODE or --from IP (node ports,
load balancers, external IPs), --to http://HOST/PATH (Ingress).")]
pub struct UrlsArgs {
    /// `service` (or `svc`), or `service/NAME`
    pub resource: String,
    /// The Service's name (unless given as `service/NAME`)
    pub name: Option<String>,
}

/// One address of a Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Url {
    /// Who can use it: `same-namespace`, `any-namespace`, `cluster`
    /// (pods and nodes), `outside`.
    pub from: &'static str,
    /// What it is: `dns`, `cluster-ip`, `node-port`, `load-balancer`,
    /// `external-ip`, `ingress`.
    pub kind: &'static str,
    /// The address, as `route --to` takes it.
    pub address: String,
    /// The Service port (name or number) it leads to, or the Ingress rule.
    pub note: String,
}

/// Lists the addresses.
pub fn run(args: &UrlsArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("urls", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let (resource, name) = match args.resource.split_once('/') {
        Some((r, n)) => (r, Some(n.to_owned())),
        None => (args.resource.as_str(), args.name.clone()),
    };
    if !matches!(resource, "service" | "services" | "svc") {
        return Err(CliError::usage(format!(
            "urls answers for Services: `svcroute urls service NAME` (got \"{resource}\")"
        )));
    }
    let name = name.ok_or_else(|| CliError::usage("urls service needs a NAME"))?;
    let cluster = load::cluster(ctx)?;
    let namespace = ctx.namespace().to_owned();
    let key = ObjectKey {
        kind: Kind::Service,
        namespace: Some(namespace.clone()),
        name: name.clone(),
    };
    let object = cluster.get(&key);
    let Some(Object::Service(svc)) = object.as_deref() else {
        return Err(CliError::of_kind(
            ErrorKind::NotFound,
            format!("services \"{name}\" not found in namespace \"{namespace}\""),
        ));
    };
    let urls = service_urls(&cluster, svc);
    match format {
        Some(f) => output::write_structured(ctx.stdout, f, &urls)?,
        None => write_text(ctx.stdout, svc, &urls)?,
    }
    Ok(Outcome::Positive)
}

fn port_label(name: &str, port: i32) -> String {
    if name.is_empty() {
        format!("port {port}")
    } else {
        format!("port {name}")
    }
}

/// Every address of `svc`, grouped in the order they are printed.
pub fn service_urls(cluster: &Cluster, svc: &Service) -> Vec<Url> {
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let zone = cluster.config().cluster_domain.clone();
    let mut urls = Vec::new();
    let mut push = |from, kind, address: String, note: String| {
        urls.push(Url {
            from,
            kind,
            address,
            note,
        })
    };
    let ty = svc.service_type();
    let ports: Vec<(String, i32)> = svc
        .spec
        .ports
        .iter()
        .map(|p| (p.name.clone(), p.port))
        .collect();
    let dns_ports: Vec<(String, i32)> = if ports.is_empty() {
        // An ExternalName or a port-less headless Service: the name alone.
        vec![(String::new(), 0)]
    } else {
        ports.clone()
    };
    let with_port = |host: &str, port: i32| {
        if port == 0 {
            host.to_owned()
        } else {
            format!("{host}:{port}")
        }
    };
    let what = match ty {
        ServiceType::ExternalName => {
            format!("CNAME {}", svc.spec.external_name.as_deref().unwrap_or(""))
        }
        _ if svc.is_headless() => "the ready pods' IPs (headless)".to_owned(),
        _ => "the cluster IP".to_owned(),
    };
    for (pname, port) in &dns_ports {
        let note = if *port == 0 {
            what.clone()
        } else {
            format!("{}, {what}", port_label(pname, *port))
        };
        push(
            "same-namespace",
            "dns",
            with_port(&name, *port),
            note.clone(),
        );
    }
    for suffix in [
        format!("{name}.{ns}"),
        format!("{name}.{ns}.svc"),
        format!("{name}.{ns}.svc.{zone}"),
    ] {
        for (pname, port) in &dns_ports {
            let note = if *port == 0 {
                what.clone()
            } else {
                format!("{}, {what}", port_label(pname, *port))
            };
            push("any-namespace", "dns", with_port(&suffix, *port), note);
        }
    }
    if ty == ServiceType::ExternalName {
        return urls;
    }
    if svc.is_headless() {
        // Per-pod names of a headless Service (StatefulSets' stable names).
        for slice in cluster.endpoint_slices(&ns, &name) {
            for e in &slice.endpoints {
                if let Some(h) = &e.hostname {
                    push(
                        "any-namespace",
                        "dns",
                        format!("{h}.{name}.{ns}.svc.{zone}"),
                        format!("endpoint {}", e.addresses.join(",")),
                    );
                }
            }
        }
        return urls;
    }
    let cluster_ips: Vec<String> = svc
        .spec
        .cluster_ips
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| svc.spec.cluster_ip.clone().map(|ip| vec![ip]))
        .unwrap_or_default();
    for ip in &cluster_ips {
        for (pname, port) in &ports {
            push(
                "cluster",
                "cluster-ip",
                host_port(ip, *port),
                port_label(pname, *port),
            );
        }
    }
    let local_only = svc.spec.external_traffic_policy == Some(ServiceExternalTrafficPolicy::Local);
    let local_nodes: BTreeSet<String> = cluster
        .endpoint_slices(&ns, &name)
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.conditions.ready != Some(false))
        .filter_map(|e| e.node_name.clone())
        .collect();
    if matches!(ty, ServiceType::NodePort | ServiceType::LoadBalancer) {
        for o in cluster.list(Kind::Node, None, &Selector::everything()) {
            let Object::Node(node) = &*o else { continue };
            let node_name = node.metadata.name.clone().unwrap_or_default();
            if local_only && !local_nodes.contains(&node_name) {
                continue;
            }
            for a in node
                .status
                .addresses
                .iter()
                .filter(|a| a.type_ == "InternalIP")
            {
                for p in &svc.spec.ports {
                    if let Some(np) = p.node_port {
                        let note = if local_only {
                            format!(
                                "{}, node {node_name} (has a local endpoint)",
                                port_label(&p.name, p.port)
                            )
                        } else {
                            format!("{}, node {node_name}", port_label(&p.name, p.port))
                        };
                        push("outside", "node-port", host_port(&a.address, np), note);
                    }
                }
            }
        }
    }
    if ty == ServiceType::LoadBalancer {
        for ing in &svc.status.load_balancer.ingress {
            let Some(host) = ing.ip.clone().or_else(|| ing.hostname.clone()) else {
                continue;
            };
            let elb = ing.ip.is_none().then(|| {
                let a = &svc.metadata.annotations;
                let internal = a.get(crate::front_door::AWS_SCHEME).map(String::as_str)
                    == Some("internal")
                    || a.get(crate::front_door::AWS_INTERNAL)
                        .is_some_and(|v| v != "false");
                if internal {
                    ", load balancer (scheme internal)"
                } else {
                    ", load balancer (scheme internet-facing)"
                }
            });
            for (pname, port) in &ports {
                push(
                    "outside",
                    "load-balancer",
                    host_port(&host, *port),
                    format!("{}{}", port_label(pname, *port), elb.unwrap_or("")),
                );
            }
        }
    }
    for ip in &svc.spec.external_ips {
        for (pname, port) in &ports {
            push(
                "outside",
                "external-ip",
                host_port(ip, *port),
                port_label(pname, *port),
            );
        }
    }
    for o in cluster.list(Kind::Ingress, Some(&ns), &Selector::everything()) {
        let Object::Ingress(ing) = &*o else { continue };
        let ing_name = format!("{ns}/{}", ing.metadata.name.as_deref().unwrap_or(""));
        let is_ours = |b: &IngressBackend| b.service.as_ref().is_some_and(|s| s.name == name);
        let tls_hosts: BTreeSet<&str> = ing
            .spec
            .tls
            .iter()
            .flat_map(|t| t.hosts.iter().map(String::as_str))
            .collect();
        let address = ing
            .status
            .load_balancer
            .ingress
            .iter()
            .find_map(|i| i.ip.clone().or_else(|| i.hostname.clone()));
        for rule in &ing.spec.rules {
            let Some(http) = &rule.http else { continue };
            for p in &http.paths {
                if !is_ours(&p.backend) {
                    continue;
                }
                let path = p.path.clone().unwrap_or_else(|| "/".to_owned());
                let path_type = p
                    .path_type
                    .map_or("ImplementationSpecific".to_owned(), |t| format!("{t:?}"));
                let host = match (&rule.host, &address) {
                    (Some(h), _) => h.replace('*', "any"),
                    (None, Some(a)) => a.clone(),
                    (None, None) => "any-host".to_owned(),
                };
                let scheme = match &rule.host {
                    Some(h) if tls_hosts.contains(h.as_str()) => "https",
                    _ => "http",
                };
                push(
                    "outside",
                    "ingress",
                    format!("{scheme}://{host}{path}"),
                    format!("Ingress {ing_name}, {path_type} {path}"),
                );
            }
        }
        if ing.spec.default_backend.as_ref().is_some_and(is_ours) {
            let host = address.clone().unwrap_or_else(|| "any-host".to_owned());
            push(
                "outside",
                "ingress",
                format!("http://{host}/"),
                format!("Ingress {ing_name}, defaultBackend (any host and path no rule takes)"),
            );
        }
    }
    urls
}

fn host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn write_text(out: &mut dyn Write, svc: &Service, urls: &[Url]) -> Result<(), CliError> {
    let ns = svc.metadata.namespace.as_deref().unwrap_or("");
    let name = svc.metadata.name.as_deref().unwrap_or("");
    writeln!(out, "Service {ns}/{name} ({:?})", svc.service_type())?;
    let width = urls.iter().map(|u| u.address.len()).max().unwrap_or(0);
    let groups: [(&str, &str); 4] = [
        ("same-namespace", "From pods in namespace {ns}:"),
        ("any-namespace", "From pods in any namespace:"),
        ("cluster", "From pods and nodes (cluster IP):"),
        ("outside", "From outside the cluster:"),
    ];
    for (from, title) in groups {
        let of: Vec<&Url> = urls.iter().filter(|u| u.from == from).collect();
        if of.is_empty() {
            continue;
        }
        writeln!(out, "{}", title.replace("{ns}", ns))?;
        for u in of {
            writeln!(out, "  {:<width$}   {}", u.address, u.note)?;
        }
    }
    if svc.service_type() == ServiceType::LoadBalancer
        && svc.status.load_balancer.ingress.is_empty()
    {
        writeln!(
            out,
            "Load balancer: <pending> (no load-balancer controller has given it an address; \
             try --lb-pool CIDR or --cloud aws)"
        )?;
    }
    let local = svc.spec.external_traffic_policy == Some(ServiceExternalTrafficPolicy::Local);
    if local
        && matches!(
            svc.service_type(),
            ServiceType::NodePort | ServiceType::LoadBalancer
        )
    {
        writeln!(
            out,
            "externalTrafficPolicy Local: only nodes with a ready local endpoint answer on the node port"
        )?;
    }
    Ok(())
}
