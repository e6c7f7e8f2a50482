//! The cost of one routing call through the C ABI (`svcroute_route`, an
//! `extern "C"` function called here as C would call it) against the same
//! question asked of the core in Rust, on a synthetic cluster of the
//! benches' small scale (50 nodes, 1,500 pods, 100 Services):
//!
//! * `c_call/cluster_ip/rust_pick`: [`Dataplane::pick`], the core's
//!   allocation-free answer for a cluster IP alone (no masquerade);
//! * `c_call/cluster_ip/rust_decide`: [`Dataplane::decide`], the core's
//!   trace-free, allocation-free decision with masquerade (what
//!   `svcroute_route` asks the core for every flow to an address): the
//!   Rust figure the C call is held to;
//! * `c_call/cluster_ip/c_route`: `svcroute_route` for the same flow (flow
//!   checks, panic boundary, last-error reset, the published snapshot,
//!   per-source state mutex, masquerade rule, result struct);
//!   `c_route_text` also asks for the endpoint's text;
//! * `c_call/cluster_ip/rust_door_route` and `fill_result`: the binding's
//!   Rust routing function without the C layer, and filling the result
//!   struct (where the time of `c_route` goes);
//! * `c_call/cluster_ip/rust_route` and `c_call/host_source/rust_route`:
//!   the full decision with its trace ([`Dataplane::route`]);
//!   `c_call/host_source/c_route`: a host-process source through the C ABI
//!   (now the trace-free decision too).
//!
//! Run: `cargo bench -p svcroute-benches --bench c_call -- --warm-up-time 1 --measurement-time 3`
//!
//! [`Dataplane::pick`]: svcroute::dataplane::Dataplane::pick
//! [`Dataplane::decide`]: svcroute::dataplane::Dataplane::decide
//! [`Dataplane::route`]: svcroute::dataplane::Dataplane::route

use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};

use criterion::{Criterion, criterion_group, criterion_main};
use svcroute::cluster::{Cluster, ProxyMode};
use svcroute::dataplane::{
    Dataplane, Destination, Flow, Millis, Protocol, Request, RouteState, Source, SourceRef,
};
use svcroute_benches::{Scale, config, synthetic_cluster};
use svcroute_c::route::{
    Answer, svcroute_address, svcroute_flow, svcroute_protocol, svcroute_route,
    svcroute_source_kind,
};
use svcroute_c::{svcroute_cluster, svcroute_status};

/// The cluster of `config()` as the C door's configuration.
const CONFIG: &std::ffi::CStr = c"{\"bootstrap\": false, \"clusterCIDRs\": [\"10.0.0.0/8\"], \"serviceCIDRs\": [\"172.16.0.0/12\"]}";

fn bench(c: &mut Criterion) {
    let objects = synthetic_cluster(&Scale::SMALL);
    let mut cluster = Cluster::new(config()).expect("config");
    cluster
        .apply_batch(objects.clone())
        .expect("synthetic cluster");
    let dp = Dataplane::compile(&cluster, ProxyMode::Iptables);

    let text = serde_json::to_string(&objects).expect("objects as JSON");
    let mut handle: *mut svcroute_cluster = std::ptr::null_mut();
    // SAFETY: a NUL-terminated config and a valid out-pointer.
    let s = unsafe { svcroute_c::cluster::svcroute_cluster_new(CONFIG.as_ptr(), &mut handle) };
    assert_eq!(s, svcroute_status::Ok);
    // SAFETY: a live handle and `text.len()` readable bytes.
    let s = unsafe {
        svcroute_c::cluster::svcroute_cluster_apply(
            handle,
            text.as_ptr(),
            text.len(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(s, svcroute_status::Ok);

    // A pod on node-0001 to Service svc-3's cluster IP.
    let client: IpAddr = "10.0.1.200".parse().unwrap();
    let dest: SocketAddr = "172.16.1.3:80".parse().unwrap();
    let node = "node-0001";
    let mut flow = svcroute_flow {
        source_kind: svcroute_source_kind::Packet as i32,
        protocol: svcroute_protocol::Tcp as i32,
        source: svcroute_address::from_ip(client),
        source_port: 40000,
        destination: svcroute_address::from_ip(dest.ip()),
        destination_port: dest.port(),
        node: c"node-0001".as_ptr(),
        options: 0,
        http: std::ptr::null(),
    };
    let mut out = Answer::empty_result();
    // SAFETY: live handle, valid flow and result.
    let s = unsafe { svcroute_route(handle, &flow, 0, &mut out) };
    assert_eq!(s, svcroute_status::Ok);
    assert_eq!(out.outcome, svcroute_c::route::svcroute_outcome::Forward);

    let mut g = c.benchmark_group("c_call/cluster_ip");
    let mut state = RouteState::new(1);
    g.bench_function("rust_pick", |b| {
        b.iter(|| {
            black_box(dp.pick(
                black_box(client),
                black_box(node),
                black_box(dest),
                Protocol::Tcp,
                &mut state,
                Millis(0),
            ))
        })
    });
    let question = Flow {
        source: SourceRef::External {
            ip: client,
            arrives_at: Some(node),
        },
        destination: dest,
        protocol: Protocol::Tcp,
    };
    g.bench_function("rust_decide", |b| {
        b.iter(|| black_box(dp.decide(black_box(&question), &mut state, Millis(0))))
    });
    g.bench_function("c_route", |b| {
        b.iter(|| {
            // SAFETY: live handle, valid flow and result.
            let s = unsafe { svcroute_route(black_box(handle), black_box(&flow), 0, &mut out) };
            black_box((s, &out));
        })
    });
    let mut with_text = flow;
    with_text.options = svcroute_c::route::SVCROUTE_ROUTE_ENDPOINT_TEXT;
    g.bench_function("c_route_text", |b| {
        b.iter(|| {
            // SAFETY: live handle, valid flow and result.
            let s =
                unsafe { svcroute_route(black_box(handle), black_box(&with_text), 0, &mut out) };
            black_box((s, &out));
        })
    });
    // The same call without the C ABI layer (no flow checks, no panic
    // boundary, no result struct): where the time goes.
    // SAFETY: a live handle, freed only at the end.
    let handle_ref = unsafe { &*handle };
    // SAFETY: the flow's node is a static C string.
    let parsed = unsafe { svcroute_c::route::Flow::read(&flow) }.expect("flow");
    g.bench_function("rust_door_route", |b| {
        b.iter(|| {
            black_box(handle_ref.view(|view| {
                svcroute_c::route::route(view, handle_ref.shards(), black_box(&parsed), 0)
            }))
        })
    });
    let answer = handle_ref
        .view(|view| svcroute_c::route::route(view, handle_ref.shards(), &parsed, 0))
        .expect("route");
    g.bench_function("fill_result", |b| {
        b.iter(|| {
            black_box(&answer).fill(&mut out, true);
            black_box(&out);
        })
    });
    let external = Request {
        source: Source::External {
            ip: client,
            arrives_at: Some(node.to_owned()),
        },
        destination: Destination::Ip(dest),
        protocol: Protocol::Tcp,
    };
    g.bench_function("rust_route", |b| {
        b.iter(|| black_box(dp.route(black_box(&external), &mut state, Millis(0))))
    });
    g.finish();

    let mut g = c.benchmark_group("c_call/host_source");
    let host = Request {
        source: Source::Node(node.to_owned()),
        destination: Destination::Ip(dest),
        protocol: Protocol::Tcp,
    };
    g.bench_function("rust_route", |b| {
        b.iter(|| black_box(dp.route(black_box(&host), &mut state, Millis(0))))
    });
    let host_question = Flow {
        source: SourceRef::Node(node),
        ..question
    };
    g.bench_function("rust_decide", |b| {
        b.iter(|| black_box(dp.decide(black_box(&host_question), &mut state, Millis(0))))
    });
    flow.source_kind = svcroute_source_kind::Host as i32;
    g.bench_function("c_route", |b| {
        b.iter(|| {
            // SAFETY: live handle, valid flow and result.
            let s = unsafe { svcroute_route(black_box(handle), black_box(&flow), 0, &mut out) };
            black_box((s, &out));
        })
    });
    g.finish();

    // SAFETY: the handle is not used after this.
    unsafe { svcroute_c::cluster::svcroute_cluster_free(handle) };
}

criterion_group!(benches, bench);
criterion_main!(benches);
