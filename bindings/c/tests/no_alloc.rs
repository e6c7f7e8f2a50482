//! That `svcroute_route` answers every kind of flow without allocating, called through
//! the exported `extern "C"` functions as a C proxy calls them, with a
//! counting global allocator (per thread, so other tests' threads do not
//! count).

use std::cell::Cell;
use std::ffi::CStr;
use std::net::IpAddr;

use svcroute_c::cluster::{
    svcroute_cluster_apply, svcroute_cluster_free, svcroute_cluster_new, svcroute_set_algorithm,
};
use svcroute_c::events::{svcroute_conn_close, svcroute_conn_open};
use svcroute_c::route::{
    Answer, SVCROUTE_ROUTE_ENDPOINT_TEXT, svcroute_address, svcroute_flow, svcroute_http,
    svcroute_outcome, svcroute_route,
};
use svcroute_c::{svcroute_cluster, svcroute_status};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: forwards to the system allocator; only counts.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: the caller's layout.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: forwarded.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MANIFEST: &str = include_str!("data/two-nodes.yaml");

const EXTRA: &str = r#"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /cart, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  healthCheckNodePort: 32100
  selector: {app: cache}
  ports: [{port: 6379, nodePort: 30379}]
"#;

fn cluster() -> *mut svcroute_cluster {
    let mut c = std::ptr::null_mut();
    let cfg = c"{\"bootstrap\": false}";
    // SAFETY: a NUL-terminated config and a valid out-pointer.
    assert_eq!(
        unsafe { svcroute_cluster_new(cfg.as_ptr(), &mut c) },
        svcroute_status::Ok
    );
    for text in [MANIFEST, EXTRA] {
        // SAFETY: a live cluster and `text.len()` readable bytes.
        let s =
            unsafe { svcroute_cluster_apply(c, text.as_ptr(), text.len(), std::ptr::null_mut()) };
        assert_eq!(s, svcroute_status::Ok);
    }
    c
}

fn address(text: &str) -> svcroute_address {
    svcroute_address::from_ip(text.parse::<IpAddr>().unwrap())
}

fn flow(src: &str, dst: &str, port: u16, node: Option<&'static CStr>) -> svcroute_flow {
    svcroute_flow {
        source_kind: 0,
        protocol: 6,
        source: address(src),
        source_port: 40000,
        destination: address(dst),
        destination_port: port,
        node: node.map_or(std::ptr::null(), CStr::as_ptr),
        options: 0,
        http: std::ptr::null(),
    }
}

/// Allocations of 100 routes of `flow` after one to warm up (the affinity
/// table learns the client, thread-local buffers get their capacity).
fn allocations(c: *const svcroute_cluster, flow: &svcroute_flow) -> (svcroute_outcome, u64) {
    let mut out = Answer::empty_result();
    // SAFETY: a live cluster, a valid flow and result.
    assert_eq!(
        unsafe { svcroute_route(c, flow, 0, &mut out) },
        svcroute_status::Ok
    );
    let before = ALLOCATIONS.with(Cell::get);
    for now in 0..100 {
        // SAFETY: as above.
        assert_eq!(
            unsafe { svcroute_route(c, flow, now, &mut out) },
            svcroute_status::Ok
        );
    }
    (out.outcome, ALLOCATIONS.with(Cell::get) - before)
}

/// Cluster-IP flows from a named node (forward, ClientIP affinity KP-19,
/// Local KP-7 forward and drop, reject KP-12), with and without the
/// endpoint's text, and HTTP requests to an Ingress controller (a rule's
/// backend, the 404) do not allocate.
#[test]
fn cluster_ip_and_ingress_flows_do_not_allocate() {
    let c = cluster();
    let n1 = Some(c"n1");
    let n2 = Some(c"n2");
    let mut cases = vec![
        (
            "forward",
            flow("10.244.1.9", "10.96.0.20", 80, n1),
            svcroute_outcome::Forward,
        ),
        (
            "affinity",
            flow("10.244.1.9", "10.96.0.24", 80, n1),
            svcroute_outcome::Forward,
        ),
        (
            "local",
            flow("10.244.1.9", "10.96.0.21", 6379, n1),
            svcroute_outcome::Forward,
        ),
        (
            "local drop",
            flow("10.244.2.9", "10.96.0.21", 6379, n2),
            svcroute_outcome::Drop,
        ),
        (
            "reject",
            flow("10.244.1.9", "10.96.0.22", 5432, n1),
            svcroute_outcome::Reject,
        ),
        (
            "masquerade",
            flow("198.51.100.7", "10.96.0.20", 80, n1),
            svcroute_outcome::Forward,
        ),
    ];
    let mut with_text = cases[0].1;
    with_text.options = SVCROUTE_ROUTE_ENDPOINT_TEXT;
    cases.push(("text", with_text, svcroute_outcome::Forward));
    let hit = svcroute_http {
        controller: c"k8s.io/ingress-nginx".as_ptr(),
        scheme: std::ptr::null(),
        host: c"shop.example.com".as_ptr(),
        path: c"/cart/1".as_ptr(),
    };
    let miss = svcroute_http {
        host: c"other.example.com".as_ptr(),
        ..hit
    };
    for (name, http, outcome) in [
        ("ingress", &hit, svcroute_outcome::Forward),
        ("ingress 404", &miss, svcroute_outcome::Http),
    ] {
        let mut f = flow("0.0.0.0", "0.0.0.0", 80, None);
        f.protocol = 256;
        f.http = http;
        cases.push((name, f, outcome));
    }
    for (name, f, outcome) in cases {
        assert_eq!(allocations(c, &f), (outcome, 0), "{name}");
    }
    // SAFETY: not used after this.
    unsafe { svcroute_cluster_free(c) };
}

/// Load events do not allocate once the endpoint is known.
#[test]
fn load_events_do_not_allocate() {
    let c = cluster();
    let web1 = address("10.244.1.5");
    // SAFETY: a live cluster and a valid address.
    unsafe {
        assert_eq!(svcroute_conn_open(c, &web1, 8080), svcroute_status::Ok);
        let before = ALLOCATIONS.with(Cell::get);
        for _ in 0..100 {
            assert_eq!(svcroute_conn_open(c, &web1, 8080), svcroute_status::Ok);
            assert_eq!(svcroute_conn_close(c, &web1, 8080), svcroute_status::Ok);
        }
        assert_eq!(ALLOCATIONS.with(Cell::get), before);
        svcroute_cluster_free(c);
    }
}

/// The flows that are no cluster IP at a named node (NodePorts, KP-3;
/// host-process sources; front doors without a node, D16; a health-check
/// NodePort's HTTP answer, KP-10) and ports with a chosen algorithm (here
/// maglev and least-request) do not allocate either.
#[test]
fn every_other_flow_kind_does_not_allocate() {
    let c = cluster();
    let mut host = flow("0.0.0.0", "10.96.0.20", 80, Some(c"n1"));
    host.source_kind = 1;
    let cases = [
        (
            "nodeport",
            flow("198.51.100.7", "192.168.0.2", 30080, None),
            svcroute_outcome::Forward,
        ),
        (
            "nodeport at n1",
            flow("198.51.100.7", "192.168.0.2", 30080, Some(c"n1")),
            svcroute_outcome::Forward,
        ),
        ("host", host, svcroute_outcome::Forward),
        (
            "no node",
            flow("10.244.1.9", "10.96.0.20", 80, None),
            svcroute_outcome::Forward,
        ),
        (
            "health check",
            flow("198.51.100.7", "192.168.0.1", 32100, None),
            svcroute_outcome::Http,
        ),
        (
            "no service",
            flow("198.51.100.7", "192.0.2.1", 80, None),
            svcroute_outcome::NoService,
        ),
    ];
    for (name, f, outcome) in cases {
        assert_eq!(allocations(c, &f), (outcome, 0), "{name}");
    }
    for algorithm in [c"maglev", c"least-request"] {
        // SAFETY: a live cluster and NUL-terminated strings.
        let s = unsafe {
            svcroute_set_algorithm(c, c"shop".as_ptr(), c"web".as_ptr(), 80, algorithm.as_ptr())
        };
        assert_eq!(s, svcroute_status::Ok);
        for f in [
            flow("10.244.1.9", "10.96.0.20", 80, Some(c"n1")),
            flow("198.51.100.7", "192.168.0.2", 30080, None),
        ] {
            assert_eq!(
                allocations(c, &f),
                (svcroute_outcome::Forward, 0),
                "{algorithm:?}"
            );
        }
    }
    // SAFETY: not used after this.
    unsafe { svcroute_cluster_free(c) };
}
