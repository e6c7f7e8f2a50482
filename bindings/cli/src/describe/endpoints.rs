//! `kubectl describe endpoints`.

use std::fmt::Write as _;

use svcroute::api::{Endpoints, Protocol};

use super::{annotations, events, labels};
use crate::tabwriter;

/// kubectl's describe layout of a v1 Endpoints object.
///
/// ```
/// let ep: svcroute::api::Endpoints = serde_json::from_str(r#"{"metadata": {"name": "web", "namespace": "shop"},
///   "subsets": [{"addresses": [{"ip": "10.244.0.5"}], "ports": [{"port": 8080}]}]}"#).unwrap();
/// let text = svcroute_cli::describe::describe_endpoints(&ep);
/// assert!(text.contains("\n  Addresses:          10.244.0.5\n"), "{text}");
/// ```
pub fn describe_endpoints(ep: &Endpoints) -> String {
    let mut w = String::new();
    let _ = writeln!(w, "Name:\t{}", ep.metadata.name.as_deref().unwrap_or(""));
    let _ = writeln!(
        w,
        "Namespace:\t{}",
        ep.metadata.namespace.as_deref().unwrap_or("")
    );
    labels(&mut w, "Labels", Some(&ep.metadata.labels));
    annotations(&mut w, "Annotations", &ep.metadata.annotations);
    w.push_str("Subsets:\n");
    for subset in &ep.subsets {
        let list = |a: &[svcroute::api::EndpointAddress]| {
            let ips: Vec<&str> = a.iter().map(|a| a.ip.as_str()).collect();
            if ips.is_empty() {
                "<none>".to_owned()
            } else {
                ips.join(",")
            }
        };
        let _ = writeln!(w, "  Addresses:\t{}", list(&subset.addresses));
        let _ = writeln!(
            w,
            "  NotReadyAddresses:\t{}",
            list(&subset.not_ready_addresses)
        );
        if !subset.ports.is_empty() {
            w.push_str("  Ports:\n");
            w.push_str("    Name\tPort\tProtocol\n");
            w.push_str("    ----\t----\t--------\n");
            for p in &subset.ports {
                let name = if p.name.is_empty() {
                    "<unset>"
                } else {
                    &p.name
                };
                let _ = writeln!(
                    w,
                    "    {name}\t{}\t{}",
                    p.port,
                    p.protocol.unwrap_or(Protocol::TCP)
                );
            }
        }
        w.push('\n');
    }
    events(&mut w);
    tabwriter::align(&w)
}
