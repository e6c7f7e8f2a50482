use svcroute::api::*;
use svcroute_benches::{Scale, config, pod, synthetic_cluster};
#[global_allocator]
static GLOBAL: svcroute_benches::LiveBytes = svcroute_benches::LiveBytes;
fn main() {
    println!(
        "Object {} Pod {} ObjectMeta {} PodSpec {} PodStatus {} EndpointSlice {} Endpoint {} Endpoints {} EndpointAddress {} Service {}",
        std::mem::size_of::<Object>(),
        std::mem::size_of::<Pod>(),
        std::mem::size_of::<ObjectMeta>(),
        std::mem::size_of::<PodSpec>(),
        std::mem::size_of::<PodStatus>(),
        std::mem::size_of::<EndpointSlice>(),
        std::mem::size_of::<Endpoint>(),
        std::mem::size_of::<Endpoints>(),
        std::mem::size_of::<EndpointAddress>(),
        std::mem::size_of::<Service>()
    );
    let s = Scale::LIMITS;
    let b = svcroute_benches::live_bytes();
    let p = pod(&s, 1, 3, 7, true, "1.3");
    println!("pod heap {}", svcroute_benches::live_bytes() - b);
    drop(p);
    let b = svcroute_benches::live_bytes();
    let objs = synthetic_cluster(&s);
    println!(
        "input objects {} ({} per pod)",
        svcroute_benches::live_bytes() - b,
        (svcroute_benches::live_bytes() - b) / s.pods as isize
    );
    let t = std::time::Instant::now();
    let mut c = svcroute::cluster::Cluster::new(config()).unwrap();
    let b = svcroute_benches::live_bytes();
    c.apply_batch(objs).unwrap();
    println!(
        "build {:?}, cluster {} B/pod",
        t.elapsed(),
        (svcroute_benches::live_bytes() - b) / s.pods as isize
    );
    let t = std::time::Instant::now();
    drop(c);
    println!("drop {:?}", t.elapsed());
}
