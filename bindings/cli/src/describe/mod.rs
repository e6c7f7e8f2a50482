//! `kubectl describe` layouts, field for field and byte for byte (kubectl's
//! `pkg/describe/describe.go`): each describer writes tab-separated lines
//! the way kubectl's `PrefixWriter` does, and [`crate::tabwriter`] aligns
//! them as Go's tabwriter would. svcroute holds no Events, so every
//! layout ends with `Events:  <none>`, as kubectl prints for an object
//! without events.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use svcroute::api::EndpointSlice;

mod endpoints;
mod ingress;
mod pod;
mod service;

pub use endpoints::describe_endpoints;
pub use ingress::describe_ingress;
pub use pod::describe_pod;
pub use service::describe_service;

/// kubectl's annotation the describers leave out.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// kubectl's `maxAnnotationLen`.
const MAX_ANNOTATION_LEN: usize = 140;

/// `Title:\tk=v\n\tk2=v2\n` (kubectl's `printLabelsMultiline`).
fn labels(w: &mut String, title: &str, labels: Option<&BTreeMap<String, String>>) {
    let _ = write!(w, "{title}:\t");
    match labels.filter(|l| !l.is_empty()) {
        None => w.push_str("<none>\n"),
        Some(l) => {
            for (i, (k, v)) in l.iter().enumerate() {
                if i > 0 {
                    w.push('\t');
                }
                let _ = writeln!(w, "{k}={v}");
            }
        }
    }
}

/// kubectl's `printAnnotationsMultiline`.
fn annotations(w: &mut String, title: &str, annotations: &BTreeMap<String, String>) {
    let _ = write!(w, "{title}:\t");
    let keys: Vec<&String> = annotations.keys().filter(|k| *k != LAST_APPLIED).collect();
    if keys.is_empty() {
        w.push_str("<none>\n");
        return;
    }
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        let value = annotations[*key].trim_end_matches('\n');
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            let _ = writeln!(w, "{key}:");
            for s in value.split('\n') {
                let _ = writeln!(w, "\t  {}", shorten(s, MAX_ANNOTATION_LEN - 2));
            }
        } else {
            let _ = writeln!(w, "{key}: {value}");
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_owned()
    }
}

/// `Events:\t<none>\n`: svcroute records no events.
fn events(w: &mut String) {
    w.push_str("Events:\t<none>\n");
}

/// `host:port` as Go's `net.JoinHostPort`.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// kubectl's `formatEndpointSlices`: the ready addresses of the slices'
/// ports named `port_name` (every address of port-less slices), the first
/// three, then `+ N more...`.
fn format_endpoint_slices(slices: &[Cow<'_, EndpointSlice>], port_name: Option<&str>) -> String {
    if slices.is_empty() {
        return "<none>".to_owned();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for slice in slices {
        let ready = |e: &&svcroute::api::Endpoint| e.conditions.ready != Some(false);
        if slice.ports.is_empty() {
            for e in slice.endpoints.iter() {
                if list.len() == MAX {
                    more = true;
                }
                if !ready(&e) {
                    continue;
                }
                if !more {
                    list.push(e.addresses.first().cloned().unwrap_or_default());
                }
                count += 1;
            }
        } else {
            for p in &slice.ports {
                let name = p.name.as_deref().unwrap_or("");
                if port_name.is_some_and(|want| want != name) {
                    continue;
                }
                for e in slice.endpoints.iter() {
                    if list.len() == MAX {
                        more = true;
                    }
                    if !ready(&e) {
                        continue;
                    }
                    if !more {
                        let addr = e.addresses.first().cloned().unwrap_or_default();
                        list.push(join_host_port(&addr, p.port.unwrap_or(0)));
                    }
                    count += 1;
                }
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count.saturating_sub(MAX))
    } else {
        ret
    }
}
