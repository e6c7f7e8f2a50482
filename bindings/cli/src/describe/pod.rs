//! `kubectl describe pod` (the fields svcroute models; volumes, resources
//! and tolerations are not modelled and show as kubectl shows them empty).

use std::fmt::Write as _;

use svcroute::api::{ContainerPort, Pod, Protocol};

use super::{annotations, events, labels};
use crate::tabwriter;

fn ports(ports: &[ContainerPort], host: bool) -> String {
    let list: Vec<String> = ports
        .iter()
        .map(|p| {
            let n = if host {
                p.host_port.unwrap_or(0)
            } else {
                p.container_port
            };
            let s = format!("{n}/{}", p.protocol.unwrap_or(Protocol::TCP));
            match &p.name {
                Some(name) if !name.is_empty() => format!("{s} ({name})"),
                _ => s,
            }
        })
        .collect();
    list.join(", ")
}

/// kubectl's describe layout of a Pod. `node_ip` is the node's InternalIP,
/// shown when the pod's `status.hostIP` is not in the input (the kubelet
/// sets it to that address).
///
/// ```
/// let pod: svcroute::api::Pod = serde_json::from_str(r#"{"metadata": {"name": "web-1", "namespace": "shop"},
///   "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
///   "status": {"phase": "Running", "podIP": "10.244.0.5", "hostIP": "192.168.0.1"}}"#).unwrap();
/// let text = svcroute_cli::describe::describe_pod(&pod, Some("192.168.0.9"));
/// assert!(text.contains("\nNode:         n1/192.168.0.1\n"), "{text}");
/// assert!(text.contains("\n    Port:         80/TCP\n"), "{text}");
/// ```
pub fn describe_pod(pod: &Pod, node_ip: Option<&str>) -> String {
    let mut w = String::new();
    let _ = writeln!(w, "Name:\t{}", pod.metadata.name.as_deref().unwrap_or(""));
    let _ = writeln!(
        w,
        "Namespace:\t{}",
        pod.metadata.namespace.as_deref().unwrap_or("")
    );
    match &pod.spec.node_name {
        None => w.push_str("Node:\t<none>\n"),
        Some(node) => {
            let _ = writeln!(
                w,
                "Node:\t{node}/{}",
                pod.status.host_ip.as_deref().or(node_ip).unwrap_or("")
            );
        }
    }
    labels(&mut w, "Labels", Some(&pod.metadata.labels));
    annotations(&mut w, "Annotations", &pod.metadata.annotations);
    let phase = pod.phase();
    if pod.metadata.deletion_timestamp.is_some()
        && !matches!(phase.as_str(), "Failed" | "Succeeded")
    {
        w.push_str("Status:\tTerminating (lasts <unknown>)\n");
    } else {
        let _ = writeln!(w, "Status:\t{phase}");
    }
    let first_ip = pod
        .status
        .pod_ip
        .clone()
        .or_else(|| pod.status.pod_ips.first().map(|p| p.ip.clone()))
        .unwrap_or_default();
    let _ = writeln!(w, "IP:\t{first_ip}");
    if pod.status.pod_ips.is_empty() && first_ip.is_empty() {
        w.push_str("IPs:\t<none>\n");
    } else {
        w.push_str("IPs:\n");
        let ips: Vec<String> = if pod.status.pod_ips.is_empty() {
            vec![first_ip.clone()]
        } else {
            pod.status.pod_ips.iter().map(|p| p.ip.clone()).collect()
        };
        for ip in ips {
            let _ = writeln!(w, "  IP:\t{ip}");
        }
    }
    if let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
    {
        let _ = writeln!(w, "Controlled By:\t{}/{}", owner.kind, owner.name);
    }
    let containers = &pod.spec.containers;
    let _ = writeln!(
        w,
        "Containers:{}",
        if containers.is_empty() { " <none>" } else { "" }
    );
    for c in containers {
        let _ = writeln!(w, "  {}:", c.name);
        let _ = writeln!(w, "    Image:\t{}", c.image.as_deref().unwrap_or(""));
        let p = ports(&c.ports, false);
        if p.contains(',') {
            let _ = writeln!(w, "    Ports:\t{p}");
        } else {
            let _ = writeln!(w, "    Port:\t{}", if p.is_empty() { "<none>" } else { &p });
        }
        let h = ports(&c.ports, true);
        if h.contains(',') {
            let _ = writeln!(w, "    Host Ports:\t{h}");
        } else {
            let _ = writeln!(
                w,
                "    Host Port:\t{}",
                if h.is_empty() { "<none>" } else { &h }
            );
        }
        w.push_str("    Environment:\t<none>\n");
        w.push_str("    Mounts:\t<none>\n");
    }
    if !pod.status.conditions.is_empty() {
        w.push_str("Conditions:\n  Type\tStatus\n");
        for c in &pod.status.conditions {
            let _ = writeln!(w, "  {} \t{} ", c.type_, c.status);
        }
    }
    w.push_str("Volumes:\t<none>\n");
    w.push_str("QoS Class:\tBestEffort\n");
    labels(&mut w, "Node-Selectors", pod.spec.node_selector.as_ref());
    w.push_str("Tolerations:\t<none>\n");
    events(&mut w);
    tabwriter::align(&w)
}
