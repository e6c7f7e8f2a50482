//! Where a built cluster's memory goes: type sizes, the input's bytes per
//! pod, the build time, the store's bytes per pod above the input, the
//! drop time; then the same build with the v1 Endpoints controller off,
//! and with both endpoint controllers off, so that the slices' and the
//! Endpoints objects' shares can be told apart from the store's own. Each
//! build also prints the store's slot size and how many pod shapes the
//! compact pods share.
//!
//! Run: `cargo run --release -p svcroute-benches --example memsplit`
use svcroute::api::*;
use svcroute::cluster::{Cluster, ClusterConfig};
use svcroute_benches::{Scale, config, live_bytes, pod, synthetic_cluster};

#[global_allocator]
static GLOBAL: svcroute_benches::LiveBytes = svcroute_benches::LiveBytes;

/// Builds the synthetic cluster with this configuration and prints what
/// it holds above its input, per pod.
fn build(what: &str, cfg: ClusterConfig, scale: &Scale) {
    let b = live_bytes();
    let objs = synthetic_cluster(scale);
    let input = live_bytes() - b;
    let t = std::time::Instant::now();
    let mut c = Cluster::new(cfg).expect("config");
    let b = live_bytes();
    c.apply_batch(objs).expect("applies");
    let built = t.elapsed();
    let held = live_bytes() - b;
    let shapes = c.pod_shapes();
    let per_pod = |n: isize| n / scale.pods as isize;
    println!(
        "{what}: input {} B/pod; build {built:?}; cluster {} B/pod in all, {} B/pod above the input",
        per_pod(input),
        per_pod(held + input),
        per_pod(held),
    );
    println!(
        "{what}: {} objects in slots of {} B; {shapes} pod shapes for {} pods",
        c.len(),
        Cluster::slot_bytes(),
        scale.pods
    );
    let t = std::time::Instant::now();
    drop(c);
    println!("{what}: drop {:?}", t.elapsed());
}

fn main() {
    use std::mem::size_of;
    println!(
        "Object {} Pod {} ObjectMeta {} PodSpec {} PodStatus {} EndpointSlice {} Endpoint {} Endpoints {} EndpointAddress {} Service {} ObjectKey {}",
        size_of::<Object>(),
        size_of::<Pod>(),
        size_of::<ObjectMeta>(),
        size_of::<PodSpec>(),
        size_of::<PodStatus>(),
        size_of::<EndpointSlice>(),
        size_of::<Endpoint>(),
        size_of::<Endpoints>(),
        size_of::<EndpointAddress>(),
        size_of::<Service>(),
        size_of::<ObjectKey>(),
    );
    let s = Scale::LIMITS;
    let b = live_bytes();
    let p = pod(&s, 1, 3, 7, true, "1.3");
    println!("pod heap {}", live_bytes() - b);
    drop(p);
    build("all controllers", config(), &s);
    build(
        "no v1 Endpoints",
        ClusterConfig {
            endpoints_controller: false,
            ..config()
        },
        &s,
    );
    build(
        "no endpoint controllers",
        ClusterConfig {
            endpoints_controller: false,
            endpoint_slice_controller: false,
            ..config()
        },
        &s,
    );
}
