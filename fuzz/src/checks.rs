//! One function per fuzz target: it takes the raw input, drives the public
//! API of `svcroute`, and panics only when an invariant breaks (a panic
//! inside svcroute is a finding too). Uses nothing but `svcroute` and
//! `serde_json`, so the workspace's tests can include this file by path.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use svcroute::api::{self, Object};
use svcroute::cluster::{Cluster, ClusterConfig};
use svcroute::dns::{Dns, DnsConfig, Transport, wire};
use svcroute::labels::{LabelSelector, Selector};

/// The names of the targets, in the order of [`run`].
pub const TARGETS: [&str; 5] = [
    "selector_parse",
    "label_selector_json",
    "load_apply",
    "dns_wire",
    "c_api",
];

/// Runs the check of `target` on `data`; `false` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "selector_parse" => selector_parse(data),
        "label_selector_json" => label_selector_json(data),
        "load_apply" => load_apply(data),
        "dns_wire" => dns_wire(data),
        "c_api" => c_api(data),
        _ => return false,
    }
    true
}

/// The selector string parser never panics, and a parsed selector prints
/// to a canonical string that parses back to an equal selector, which
/// prints the same again.
pub fn selector_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(selector) = Selector::parse(text) else {
        return;
    };
    let printed = selector.to_string();
    let again = Selector::parse(&printed)
        .unwrap_or_else(|e| panic!("canonical form {printed:?} of {text:?} does not parse: {e}"));
    assert_eq!(again, selector, "round trip of {text:?} via {printed:?}");
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not stable for {text:?}"
    );
    let _ = selector.matches(&BTreeMap::<String, String>::new());
}

/// `LabelSelector` from JSON: validation and conversion never panic and
/// agree; a converted selector prints a string that parses back, and
/// the parsed selector is a fixed point of print and parse.
pub fn label_selector_json(data: &[u8]) {
    let Ok(ls) = serde_json::from_slice::<LabelSelector>(data) else {
        return;
    };
    let valid = ls.validate().is_ok();
    match ls.to_selector() {
        Ok(selector) => {
            assert!(valid, "to_selector accepted what validate refused: {ls:?}");
            // The struct form keeps duplicate values (`values: [b,a,b]`
            // prints `x in (a,b,b)`) and the string parser collapses them
            // (selectors.md#6, quirk 12), so the printed string need not be
            // a fixed point; the selector parsed from it must be.
            let printed = selector.to_string();
            let again = Selector::parse(&printed).unwrap_or_else(|e| {
                panic!("canonical form {printed:?} of {ls:?} does not parse: {e}")
            });
            let reprinted = again.to_string();
            assert_eq!(
                Selector::parse(&reprinted).ok(),
                Some(again),
                "{printed:?} is not stable"
            );
        }
        Err(e) => assert!(
            !e.problems().is_empty(),
            "an error without problems: {ls:?}"
        ),
    }
}

/// The manifest loader (JSON, YAML, multi-document, Lists, watch events)
/// and then an atomic apply to a fresh cluster: never panics, and a
/// refused batch leaves the cluster as it was.
pub fn load_apply(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(loaded) = api::load(text) else {
        return;
    };
    // A fresh cluster as a user gets it (namespaces, `kubernetes`
    // Service), built once and cloned: cheaper than a bootstrap per input.
    // Its `Debug` form is printed once too: every input starts from the
    // same state, so a refused batch must leave exactly that text.
    static FRESH: OnceLock<(Cluster, String)> = OnceLock::new();
    let (fresh, before) = FRESH.get_or_init(|| {
        let cluster = Cluster::new(ClusterConfig::default()).expect("the default configuration");
        let text = format!("{cluster:?}");
        (cluster, text)
    });
    let mut cluster = fresh.clone();
    let events: Vec<_> = loaded.events.iter().map(|e| e.value.clone()).collect();
    if cluster.apply_batch(loaded.into_objects()).is_err() {
        assert!(
            format!("{cluster:?}") == *before,
            "a refused batch changed the cluster"
        );
    }
    for event in events {
        let _ = cluster.apply_event(event);
    }
    let _ = cluster.resync();
}

/// A small cluster for the DNS and C targets: a ClusterIP Service with a
/// named port, a headless one with two ready pods (one with a hostname),
/// an ExternalName, in namespace `shop`.
pub const SMALL_CLUSTER: &str = r#"[
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"podCIDR": "10.244.0.0/24"}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"nodeName": "n1", "hostname": "web-0", "subdomain": "web-h",
           "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
  "status": {"phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
             "conditions": [{"type": "Ready", "status": "True"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
  "status": {"phase": "Running", "podIP": "10.244.0.6", "podIPs": [{"ip": "10.244.0.6"}],
             "conditions": [{"type": "Ready", "status": "True"}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
  "spec": {"clusterIP": "10.96.0.20", "selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-h", "namespace": "shop"},
  "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
  "spec": {"type": "ExternalName", "externalName": "api.example.com"}}
]"#;

/// DNS over [`SMALL_CLUSTER`], built once.
fn small_dns() -> &'static Dns {
    static DNS: OnceLock<Dns> = OnceLock::new();
    DNS.get_or_init(|| {
        let objects: Vec<Object> = serde_json::from_str(SMALL_CLUSTER).expect("the small cluster");
        let mut cluster =
            Cluster::new(ClusterConfig::default()).expect("the default configuration");
        cluster
            .apply_batch(objects)
            .expect("the small cluster applies");
        Dns::new(&cluster, DnsConfig::for_cluster(cluster.config())).expect("DNS")
    })
}

/// The DNS wire path: any bytes as a query over UDP and TCP never panic;
/// an answer decodes, re-encodes to bytes that decode to the same message,
/// carries the query's id, and over UDP fits the 512-byte default unless
/// the query offered more (EDNS).
pub fn dns_wire(data: &[u8]) {
    let dns = small_dns();
    for transport in [Transport::Udp, Transport::Tcp] {
        let Some(response) = dns.answer_wire(data, transport) else {
            continue;
        };
        assert!(response.len() >= 12, "a response shorter than a header");
        assert_eq!(
            response[..2],
            data[..2],
            "the response id differs from the query's"
        );
        assert!(response[2] & 0x80 != 0, "QR is not set in a response");
        if transport == Transport::Udp && wire::decode(data).is_ok_and(|q| q.edns.is_none()) {
            assert!(
                response.len() <= 512,
                "a UDP response over 512 bytes without EDNS"
            );
        }
        let decoded = wire::decode(&response)
            .unwrap_or_else(|e| panic!("our own response does not decode: {e}"));
        let encoded = wire::encode(&decoded).expect("a decoded response encodes");
        let again = wire::decode(&encoded).expect("the re-encoded response decodes");
        assert_eq!(again, decoded, "decode -> encode -> decode is not stable");
    }
}

/// The C API entry points that take bytes, called as a C caller would:
/// the first byte picks apply (JSON/YAML) or DNS (UDP/TCP), the rest is the
/// payload. No call may report a caught panic or an internal error, and
/// the cluster stays usable after a refused apply.
pub fn c_api(data: &[u8]) {
    use std::ptr;
    use svcroute_c::cluster::{
        svcroute_cluster_apply, svcroute_cluster_free, svcroute_cluster_new,
    };
    use svcroute_c::dns::{svcroute_dns_answer, svcroute_dns_answer_tcp};
    use svcroute_c::{svcroute_cluster, svcroute_status, svcroute_string_free};

    let Some((&op, payload)) = data.split_first() else {
        return;
    };
    let mut cluster: *mut svcroute_cluster = ptr::null_mut();
    // SAFETY: valid out-pointer; a NULL config is the documented default.
    let status = unsafe { svcroute_cluster_new(ptr::null(), &mut cluster) };
    assert_eq!(status, svcroute_status::Ok);
    let bad = |s: svcroute_status| matches!(s, svcroute_status::Panic | svcroute_status::Internal);
    let small = SMALL_CLUSTER.as_bytes();
    let mut changes: *mut std::ffi::c_char = ptr::null_mut();
    // SAFETY: live cluster, valid buffers for the stated lengths.
    unsafe {
        let s = svcroute_cluster_apply(cluster, small.as_ptr(), small.len(), &mut changes);
        assert_eq!(s, svcroute_status::Ok);
        svcroute_string_free(changes);
        changes = ptr::null_mut();
        if op % 2 == 0 {
            let s = svcroute_cluster_apply(cluster, payload.as_ptr(), payload.len(), &mut changes);
            assert!(!bad(s), "apply reported {s:?}");
            svcroute_string_free(changes);
        }
        let mut out = [0u8; 4096];
        let mut out_len = 0usize;
        let answer = if op % 4 == 1 {
            svcroute_dns_answer_tcp
        } else {
            svcroute_dns_answer
        };
        let s = answer(
            cluster,
            payload.as_ptr(),
            payload.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        );
        assert!(!bad(s), "DNS answer reported {s:?}");
        // Still usable: the fixture's Service answers after whatever came before.
        let q = wire::encode(&wire::Message::query(
            7,
            "web.shop.svc.cluster.local.",
            svcroute::dns::RecordType::A,
        ))
        .expect("a query encodes");
        let s = svcroute_dns_answer(
            cluster,
            q.as_ptr(),
            q.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        );
        assert_eq!(s, svcroute_status::Ok);
        assert!(out_len > 12, "no answer for web.shop after the fuzz input");
        svcroute_cluster_free(cluster);
    }
}
