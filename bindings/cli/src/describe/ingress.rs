//! `kubectl describe ingress`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use svcroute::api::{Ingress, IngressBackend, Kind, Object, ObjectKey};
use svcroute::cluster::Cluster;

use super::{annotations, events, format_endpoint_slices, labels};
use crate::tabwriter;

/// kubectl's `describeBackendV1`: `svc:port (endpoints)`.
fn backend(cluster: &Cluster, ns: &str, b: &IngressBackend) -> String {
    if let Some(s) = &b.service {
        let port = s.port.as_ref();
        let number = port.and_then(|p| p.number).unwrap_or(0);
        let port_name = port.and_then(|p| p.name.clone()).unwrap_or_default();
        let shown = if number != 0 {
            number.to_string()
        } else {
            port_name.clone()
        };
        let key = ObjectKey {
            kind: Kind::Service,
            namespace: Some(ns.to_owned()),
            name: s.name.clone(),
        };
        let object = cluster.get(&key);
        let Some(Object::Service(svc)) = object.as_deref() else {
            return format!(
                "{}:{shown} (<error: services \"{}\" not found>)",
                s.name, s.name
            );
        };
        let mut sp_name = String::new();
        for sp in &svc.spec.ports {
            if (number != 0 && number == sp.port) || (!port_name.is_empty() && port_name == sp.name)
            {
                sp_name = sp.name.clone();
            }
        }
        let mut slices = cluster.endpoint_slices(ns, &s.name);
        slices.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        return format!(
            "{}:{shown} ({})",
            s.name,
            format_endpoint_slices(&slices, Some(&sp_name))
        );
    }
    if let Some(r) = &b.resource {
        return format!(
            "APIGroup: {}, Kind: {}, Name: {}",
            r.api_group.as_deref().unwrap_or("<none>"),
            r.kind,
            r.name
        );
    }
    String::new()
}

/// kubectl's describe layout of an Ingress.
///
/// ```
/// let c = svcroute::cluster::Cluster::new(Default::default()).unwrap();
/// let ing: svcroute::api::Ingress = serde_json::from_str(r#"{"metadata": {"name": "web", "namespace": "default"},
///   "spec": {"rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
///     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}"#).unwrap();
/// let text = svcroute_cli::describe::describe_ingress(&c, &ing);
/// assert!(text.contains("\n  a.example   \n"), "{text}"); // Go's tabwriter pads the host cell
/// assert!(text.contains("/   web:80 (<error: services \"web\" not found>)\n"), "{text}");
/// ```
pub fn describe_ingress(cluster: &Cluster, ing: &Ingress) -> String {
    let mut w = String::new();
    let ns = ing.metadata.namespace.clone().unwrap_or_default();
    let _ = writeln!(w, "Name:\t{}", ing.metadata.name.as_deref().unwrap_or(""));
    labels(&mut w, "Labels", Some(&ing.metadata.labels));
    let _ = writeln!(w, "Namespace:\t{ns}");
    let addresses: BTreeSet<String> = ing
        .status
        .load_balancer
        .ingress
        .iter()
        .filter_map(|i| {
            i.ip.clone()
                .filter(|s| !s.is_empty())
                .or_else(|| i.hostname.clone())
        })
        .collect();
    let _ = writeln!(
        w,
        "Address:\t{}",
        addresses.into_iter().collect::<Vec<_>>().join(",")
    );
    let _ = writeln!(
        w,
        "Ingress Class:\t{}",
        ing.spec.ingress_class_name.as_deref().unwrap_or("<none>")
    );
    let default_backend = ing
        .spec
        .default_backend
        .as_ref()
        .map_or("<default>".to_owned(), |b| backend(cluster, &ns, b));
    let _ = writeln!(w, "Default backend:\t{default_backend}");
    if !ing.spec.tls.is_empty() {
        w.push_str("TLS:\n");
        for t in &ing.spec.tls {
            match t.secret_name.as_deref().filter(|s| !s.is_empty()) {
                None => {
                    let _ = writeln!(w, "  SNI routes {}", t.hosts.join(","));
                }
                Some(secret) => {
                    let _ = writeln!(w, "  {secret} terminates {}", t.hosts.join(","));
                }
            }
        }
    }
    w.push_str("Rules:\n  Host\tPath\tBackends\n");
    w.push_str("  ----\t----\t--------\n");
    let mut count = 0;
    for rule in &ing.spec.rules {
        let Some(http) = &rule.http else { continue };
        count += 1;
        let host = rule
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("*");
        let _ = writeln!(w, "  {host}\t");
        for p in &http.paths {
            let _ = writeln!(
                w,
                "    \t{} \t{}",
                p.path.as_deref().unwrap_or(""),
                backend(cluster, &ns, &p.backend)
            );
        }
    }
    if count == 0 {
        let _ = writeln!(w, "  *\t*\t{default_backend}");
    }
    annotations(&mut w, "Annotations", &ing.metadata.annotations);
    events(&mut w);
    tabwriter::align(&w)
}
