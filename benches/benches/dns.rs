//! Cluster DNS lookups at Kubernetes' published limits (10,000 Services,
//! 150,000 pods, the largest Service headless with 250 endpoints):
//!
//! * `dns/query/*`: one question answered as typed records (`Dns::query`):
//!   an A record of a ClusterIP Service (issue 4 target: < 200 ns), SRV of a
//!   named port, A of the 250-endpoint headless Service, NXDOMAIN, PTR of a
//!   cluster IP;
//! * `dns/answer_wire/*`: query message to response message, appended to a
//!   reused buffer (target: < 1 µs for an A query);
//! * `dns/update/*`: `Dns::update` after one pod changed readiness (the
//!   cluster's own apply is outside the measured time);
//! * `dns/build`: the index built from scratch;
//! * `dns/memory` (printed, not timed): the heap the `Dns` index holds,
//!   per Pod+Service, counted by a global allocator (CoreDNS publishes
//!   0.86 KB per Pod+Service for its whole process).
//!
//! Run: `cargo bench -p svcroute-benches --bench dns -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use svcroute::api::Object;
use svcroute::cluster::Cluster;
use svcroute::dns::wire::{self, Message};
use svcroute::dns::{Answer, Dns, DnsConfig, RecordType, Transport};
use svcroute_benches::{Scale, config, pod, pod_slots, synthetic_cluster};

/// Counts live heap bytes (see [`svcroute_benches::LiveBytes`]).
#[global_allocator]
static GLOBAL: svcroute_benches::LiveBytes = svcroute_benches::LiveBytes;

/// Prints the heap the index holds, in all and per Pod+Service.
fn memory_report(scale: &Scale, cluster: &Cluster, config: &DnsConfig) {
    let before = svcroute_benches::live_bytes();
    let dns = Dns::new(cluster, config.clone()).expect("dns");
    let bytes = svcroute_benches::live_bytes() - before;
    let objects = (scale.pods + scale.services) as f64;
    println!(
        "dns/memory: the Dns index holds {:.1} MiB for {} pods + {} Services: {:.0} B per Pod+Service (CoreDNS: 860 B per Pod+Service, whole process)",
        bytes as f64 / (1 << 20) as f64,
        scale.pods,
        scale.services,
        bytes as f64 / objects,
    );
    drop(dns);
}

/// The headless Service (250 endpoints at the limits scale).
const HEADLESS: usize = 0;

fn cluster(scale: &Scale) -> Cluster {
    let mut objects = synthetic_cluster(scale);
    for o in &mut objects {
        if let Object::Service(svc) = o
            && svc.metadata.name.as_deref() == Some(&format!("svc-{HEADLESS}"))
        {
            svc.spec.cluster_ip = Some("None".to_owned());
            svc.spec.cluster_ips = Some(vec!["None".to_owned()]);
        }
    }
    let mut cluster = Cluster::new(config()).expect("config");
    cluster
        .apply_batch(objects)
        .expect("synthetic cluster applies");
    cluster
}

fn name(scale: &Scale, i: usize) -> String {
    format!(
        "svc-{i}.team-{:02}.svc.cluster.local.",
        i % scale.namespaces
    )
}

/// Every 7th ClusterIP Service (not the headless ones), 1,000 of them.
fn names(scale: &Scale) -> Vec<String> {
    (0..1000)
        .map(|j| (j * 7 + 1) % scale.services)
        .map(|i| if i % 100 == 0 { i + 1 } else { i })
        .map(|i| name(scale, i))
        .collect()
}

fn benches(c: &mut Criterion) {
    let scale = Scale::LIMITS;
    let mut cluster = cluster(&scale);
    let dns_config = DnsConfig::for_cluster(cluster.config());

    memory_report(&scale, &cluster, &dns_config);
    let mut group = c.benchmark_group("dns");
    group.sample_size(10);
    group.bench_function("build", |b| {
        b.iter(|| black_box(Dns::new(&cluster, dns_config.clone()).expect("dns")))
    });
    group.finish();

    let mut dns = Dns::new(&cluster, dns_config).expect("dns");
    let names = names(&scale);
    let srv: Vec<String> = names.iter().map(|n| format!("_http._tcp.{n}")).collect();
    let headless = name(&scale, HEADLESS);
    // svc-7's cluster IP (172.16.1.7), reversed.
    let ptr = "7.1.16.172.in-addr.arpa.";

    let mut group = c.benchmark_group("dns/query");
    let mut i = 0usize;
    group.bench_function("a_service", |b| {
        b.iter(|| {
            i = (i + 1) % names.len();
            black_box(dns.query(&names[i], RecordType::A).expect("answer"))
        })
    });
    // The same question into an answer kept from query to query.
    let mut reused = Answer::default();
    group.bench_function("a_service_into", |b| {
        b.iter(|| {
            i = (i + 1) % names.len();
            dns.query_into(&names[i], RecordType::A, &mut reused)
                .expect("answer");
            black_box(&reused);
        })
    });
    group.bench_function("srv_named_port", |b| {
        b.iter(|| {
            i = (i + 1) % srv.len();
            black_box(dns.query(&srv[i], RecordType::Srv).expect("answer"))
        })
    });
    group.bench_function("a_headless_250", |b| {
        b.iter(|| black_box(dns.query(&headless, RecordType::A).expect("answer")))
    });
    group.bench_function("nxdomain", |b| {
        b.iter(|| {
            black_box(
                dns.query("nope.team-07.svc.cluster.local.", RecordType::A)
                    .expect("answer"),
            )
        })
    });
    group.bench_function("ptr_cluster_ip", |b| {
        b.iter(|| black_box(dns.query(ptr, RecordType::Ptr).expect("answer")))
    });
    group.finish();

    let wire_a: Vec<Vec<u8>> = names
        .iter()
        .map(|n| wire::encode(&Message::query(1, n, RecordType::A)).expect("query"))
        .collect();
    let wire_srv: Vec<Vec<u8>> = srv
        .iter()
        .map(|n| wire::encode(&Message::query(1, n, RecordType::Srv)).expect("query"))
        .collect();
    let wire_nx = wire::encode(&Message::query(
        1,
        "nope.team-07.svc.cluster.local.",
        RecordType::A,
    ))
    .expect("query");
    let wire_ptr = wire::encode(&Message::query(1, ptr, RecordType::Ptr)).expect("query");
    let mut out = Vec::with_capacity(4096);
    let mut group = c.benchmark_group("dns/answer_wire");
    group.bench_function("a_service", |b| {
        b.iter(|| {
            i = (i + 1) % wire_a.len();
            out.clear();
            black_box(dns.answer_wire_into(&wire_a[i], Transport::Udp, &mut out))
        })
    });
    group.bench_function("srv_named_port", |b| {
        b.iter(|| {
            i = (i + 1) % wire_srv.len();
            out.clear();
            black_box(dns.answer_wire_into(&wire_srv[i], Transport::Udp, &mut out))
        })
    });
    group.bench_function("nxdomain", |b| {
        b.iter(|| {
            out.clear();
            black_box(dns.answer_wire_into(&wire_nx, Transport::Udp, &mut out))
        })
    });
    group.bench_function("ptr_cluster_ip", |b| {
        b.iter(|| {
            out.clear();
            black_box(dns.answer_wire_into(&wire_ptr, Transport::Udp, &mut out))
        })
    });
    group.finish();

    // One pod of a 15-pod Service and one of the 250-pod headless Service
    // flip readiness; the cluster settles outside the measured time.
    let slots = pod_slots(&scale);
    let mut group = c.benchmark_group("dns/update");
    for (what, service) in [("pod_of_15", 1usize), ("pod_of_headless_250", HEADLESS)] {
        let &(s, k, n) = slots.iter().find(|x| x.0 == service).expect("pod");
        let variants = [
            Object::Pod(pod(&scale, s, k, n, false, "1.3")),
            Object::Pod(pod(&scale, s, k, n, true, "1.3")),
        ];
        let mut flip = 0usize;
        group.bench_function(what, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    flip += 1;
                    let changes = cluster.apply(variants[flip % 2].clone()).expect("applies");
                    let start = Instant::now();
                    dns.update(&cluster, &changes);
                    spent += start.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(dns_benches, benches);
criterion_main!(dns_benches);
