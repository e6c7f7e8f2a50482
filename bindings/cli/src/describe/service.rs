//! `kubectl describe service`.

use std::fmt::Write as _;

use svcroute::api::{IntOrString, Protocol, Service, ServiceType};
use svcroute::cluster::Cluster;

use super::{annotations, events, format_endpoint_slices, labels};
use crate::tabwriter;

/// kubectl's describe layout of a Service, with its endpoints read from the
/// Service's EndpointSlices. Fields the API server defaults are shown with
/// their defaults when the input left them out (as a real cluster stores
/// them).
///
/// ```
/// let c = svcroute::cluster::Cluster::new(Default::default()).unwrap();
/// let key = svcroute::api::ObjectKey { kind: svcroute::api::Kind::Service,
///     namespace: Some("default".into()), name: "kubernetes".into() };
/// let stored = c.get(&key);
/// let Some(svcroute::api::Object::Service(s)) = stored.as_deref() else { panic!() };
/// let text = svcroute_cli::describe::describe_service(&c, s);
/// assert!(text.contains("\nType:                     ClusterIP\n"), "{text}");
/// assert!(text.ends_with("\nEvents:                   <none>\n"), "{text}");
/// ```
pub fn describe_service(cluster: &Cluster, svc: &Service) -> String {
    let mut w = String::new();
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let ty = svc.service_type();
    let _ = writeln!(w, "Name:\t{name}");
    let _ = writeln!(w, "Namespace:\t{ns}");
    labels(&mut w, "Labels", Some(&svc.metadata.labels));
    annotations(&mut w, "Annotations", &svc.metadata.annotations);
    let selector = svc
        .spec
        .selector
        .as_ref()
        .map(|s| {
            s.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let _ = writeln!(
        w,
        "Selector:\t{}",
        if selector.is_empty() {
            "<none>"
        } else {
            &selector
        }
    );
    let _ = writeln!(w, "Type:\t{ty}");
    let cluster_ips: Vec<String> = svc
        .spec
        .cluster_ips
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| svc.spec.cluster_ip.clone().map(|ip| vec![ip]))
        .unwrap_or_default();
    let policy = svc
        .spec
        .ip_family_policy
        .map(|p| p.to_string())
        .or_else(|| (ty != ServiceType::ExternalName).then(|| "SingleStack".to_owned()));
    if let Some(p) = policy {
        let _ = writeln!(w, "IP Family Policy:\t{p}");
    }
    let mut families: Vec<String> = svc.spec.ip_families.iter().map(|f| f.to_string()).collect();
    if families.is_empty() && ty != ServiceType::ExternalName {
        families = cluster_ips
            .iter()
            .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| if ip.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned())
            .collect();
    }
    let _ = writeln!(
        w,
        "IP Families:\t{}",
        if families.is_empty() {
            "<none>".to_owned()
        } else {
            families.join(",")
        }
    );
    let _ = writeln!(
        w,
        "IP:\t{}",
        svc.spec
            .cluster_ip
            .clone()
            .or_else(|| cluster_ips.first().cloned())
            .unwrap_or_default()
    );
    let _ = writeln!(
        w,
        "IPs:\t{}",
        if cluster_ips.is_empty() {
            "<none>".to_owned()
        } else {
            cluster_ips.join(",")
        }
    );
    if !svc.spec.external_ips.is_empty() {
        let _ = writeln!(w, "External IPs:\t{}", svc.spec.external_ips.join(","));
    }
    if let Some(ip) = svc
        .spec
        .load_balancer_ip
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        let _ = writeln!(w, "Desired LoadBalancer IP:\t{ip}");
    }
    if let Some(n) = svc.spec.external_name.as_deref().filter(|s| !s.is_empty()) {
        let _ = writeln!(w, "External Name:\t{n}");
    }
    if !svc.status.load_balancer.ingress.is_empty() {
        let list: Vec<String> = svc
            .status
            .load_balancer
            .ingress
            .iter()
            .map(|i| match (&i.ip, i.ip_mode) {
                (Some(ip), Some(mode)) if !ip.is_empty() => format!("{ip} ({mode})"),
                (Some(ip), None) if !ip.is_empty() => ip.clone(),
                _ => i.hostname.clone().unwrap_or_default(),
            })
            .collect();
        let _ = writeln!(w, "LoadBalancer Ingress:\t{}", list.join(", "));
    }
    let mut slices = cluster.endpoint_slices(&ns, &name);
    slices.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for sp in &svc.spec.ports {
        let pname = if sp.name.is_empty() {
            "<unset>"
        } else {
            sp.name.as_str()
        };
        let proto = sp.protocol.unwrap_or(Protocol::TCP);
        let _ = writeln!(w, "Port:\t{pname}\t{}/{proto}", sp.port);
        match &sp.target_port {
            Some(IntOrString::String(s)) => {
                let _ = writeln!(w, "TargetPort:\t{s}/{proto}");
            }
            Some(IntOrString::Int(n)) if *n != 0 => {
                let _ = writeln!(w, "TargetPort:\t{n}/{proto}");
            }
            _ => {
                // The API server defaults targetPort to the port.
                let _ = writeln!(w, "TargetPort:\t{}/{proto}", sp.port);
            }
        }
        if let Some(ap) = &sp.app_protocol {
            let _ = writeln!(w, "AppProtocol:\t{ap}");
        }
        if let Some(np) = sp.node_port.filter(|n| *n != 0) {
            let _ = writeln!(w, "NodePort:\t{pname}\t{np}/{proto}");
        }
        let _ = writeln!(
            w,
            "Endpoints:\t{}",
            format_endpoint_slices(&slices, Some(&sp.name))
        );
    }
    let affinity = svc
        .spec
        .session_affinity
        .map_or("None".to_owned(), |a| a.to_string());
    let _ = writeln!(w, "Session Affinity:\t{affinity}");
    let etp = svc
        .spec
        .external_traffic_policy
        .map(|p| p.to_string())
        .or_else(|| {
            matches!(ty, ServiceType::NodePort | ServiceType::LoadBalancer)
                .then(|| "Cluster".to_owned())
        });
    if let Some(p) = etp {
        let _ = writeln!(w, "External Traffic Policy:\t{p}");
    }
    let itp = svc
        .spec
        .internal_traffic_policy
        .map(|p| p.to_string())
        .or_else(|| (ty != ServiceType::ExternalName).then(|| "Cluster".to_owned()));
    if let Some(p) = itp {
        let _ = writeln!(w, "Internal Traffic Policy:\t{p}");
    }
    if let Some(p) = svc.spec.health_check_node_port.filter(|p| *p != 0) {
        let _ = writeln!(w, "HealthCheck NodePort:\t{p}");
    }
    if !svc.spec.load_balancer_source_ranges.is_empty() {
        let _ = writeln!(
            w,
            "LoadBalancer Source Ranges:\t{}",
            svc.spec.load_balancer_source_ranges.join(",")
        );
    }
    if let Some(td) = &svc.spec.traffic_distribution {
        let _ = writeln!(w, "Traffic Distribution:\t{td}");
    }
    events(&mut w);
    tabwriter::align(&w)
}
