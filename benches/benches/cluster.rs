//! Cluster engine benches at Kubernetes' published limits (5,000 nodes,
//! 150,000 pods, 10,000 Services, up to 250 endpoints per Service):
//!
//! * `cluster/build`: apply every object in one batch, all EndpointSlices
//!   computed (target < 300 ms);
//! * `cluster/build_borrowed`: the same batch lent
//!   (`Cluster::apply_batch_borrowed`), the caller keeping its objects;
//! * `cluster/pod_label_change/*` and `cluster/readiness_flip/*`: one Pod
//!   changed at that scale, slices settled (target < 5 µs median), for a
//!   Pod of a 15-pod Service and of a 250-pod Service;
//! * memory per pod, measured once with a counting allocator and printed
//!   (target < 400 bytes).
//!
//! Run: `cargo bench -p svcroute-benches --bench cluster -- --warm-up-time 1 --measurement-time 3`
//!
//! Instruction counts (immune to the machine's noise): with
//! `CLUSTER_CALLGRIND=label_15|flip_15|label_250|flip_250|build|build_borrowed`
//! the binary skips criterion, builds the cluster and runs that change 200
//! times (the build once) inside `measured`; run it under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*'`
//! and divide the total by 200.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use svcroute::api::Object;
use svcroute::cluster::Cluster;
use svcroute_benches::{Scale, config, pod, pod_slots, synthetic_cluster};

/// Counts live heap bytes (see [`svcroute_benches::LiveBytes`]).
#[global_allocator]
static GLOBAL: svcroute_benches::LiveBytes = svcroute_benches::LiveBytes;

fn build(objects: Vec<Object>) -> Cluster {
    let mut cluster = Cluster::new(config()).expect("config");
    cluster
        .apply_batch(objects)
        .expect("synthetic cluster applies");
    cluster
}

fn build_borrowed(objects: &[Object]) -> Cluster {
    let mut cluster = Cluster::new(config()).expect("config");
    cluster
        .apply_batch_borrowed(objects)
        .expect("synthetic cluster applies");
    cluster
}

fn memory_report(scale: &Scale) {
    let before = svcroute_benches::live_bytes();
    let cluster = build(synthetic_cluster(scale));
    let total = svcroute_benches::live_bytes() - before;
    let no_pods = Scale {
        pods: 0,
        max_endpoints: 0,
        ..*scale
    };
    let before = svcroute_benches::live_bytes();
    let empty = build(synthetic_cluster(&no_pods));
    let base = svcroute_benches::live_bytes() - before;
    println!(
        "cluster/memory: {} objects, {:.1} MiB in all, {} B per pod in all, {} B per pod above the pod-less cluster ({:.1} MiB)",
        cluster.len(),
        total as f64 / (1 << 20) as f64,
        total / scale.pods as isize,
        (total - base) / scale.pods as isize,
        base as f64 / (1 << 20) as f64,
    );
    drop((cluster, empty));
}

/// The code whose instructions callgrind counts (`--toggle-collect`).
#[inline(never)]
fn measured<T>(f: impl FnOnce() -> T) -> T {
    black_box(f())
}

/// `CLUSTER_CALLGRIND=WHAT`: one figure for callgrind, no criterion.
fn callgrind(what: &str) {
    let scale = Scale::LIMITS;
    let objects = synthetic_cluster(&scale);
    if what == "build" {
        drop(measured(|| build(objects)));
        return;
    }
    if what == "build_borrowed" {
        drop(measured(|| build_borrowed(&objects)));
        return;
    }
    let mut cluster = build(objects);
    let slots = pod_slots(&scale);
    let (kind, size) = what.split_once('_').expect("KIND_SIZE");
    let service = if size == "250" { 0 } else { 1 };
    let &(i, k, n) = slots.iter().find(|s| s.0 == service).expect("pod");
    let variants = if kind == "label" {
        [
            pod(&scale, i, k, n, true, "1.4"),
            pod(&scale, i, k, n, true, "1.3"),
        ]
    } else {
        [
            pod(&scale, i, k, n, false, "1.3"),
            pod(&scale, i, k, n, true, "1.3"),
        ]
    };
    for round in 0..200 {
        let o = Object::Pod(variants[round % 2].clone());
        let changes = measured(|| cluster.apply(o).expect("applies"));
        drop(changes);
    }
}

fn benches(c: &mut Criterion) {
    if let Ok(what) = std::env::var("CLUSTER_CALLGRIND") {
        callgrind(&what);
        std::process::exit(0);
    }
    let scale = Scale::LIMITS;
    memory_report(&scale);

    let objects = synthetic_cluster(&scale);
    let mut group = c.benchmark_group("cluster");
    group.sample_size(10);
    group.bench_function("build", |b| {
        b.iter_batched(|| objects.clone(), build, BatchSize::PerIteration)
    });
    group.bench_function("build_borrowed", |b| {
        b.iter_with_large_drop(|| build_borrowed(&objects))
    });
    group.finish();

    let mut cluster = build(objects);
    let slots = pod_slots(&scale);
    let mut group = c.benchmark_group("cluster");
    for (what, service) in [("service_of_15", 1usize), ("service_of_250", 0)] {
        let &(i, k, n) = slots.iter().find(|s| s.0 == service).expect("pod");
        let variants = [
            Object::Pod(pod(&scale, i, k, n, true, "1.4")),
            Object::Pod(pod(&scale, i, k, n, true, "1.3")),
        ];
        let flip = Cell::new(0usize);
        group.bench_function(format!("pod_label_change/{what}"), |b| {
            b.iter_batched(
                || {
                    flip.set(flip.get() + 1);
                    variants[flip.get() % 2].clone()
                },
                |o| black_box(cluster.apply(o).expect("applies")),
                BatchSize::SmallInput,
            )
        });
        let variants = [
            Object::Pod(pod(&scale, i, k, n, false, "1.3")),
            Object::Pod(pod(&scale, i, k, n, true, "1.3")),
        ];
        group.bench_function(format!("readiness_flip/{what}"), |b| {
            b.iter_batched(
                || {
                    flip.set(flip.get() + 1);
                    variants[flip.get() % 2].clone()
                },
                |o| black_box(cluster.apply(o).expect("applies")),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(cluster_benches, benches);
criterion_main!(cluster_benches);
