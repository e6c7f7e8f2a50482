//! Backend selection: svcroute's picks and builds side by side with peers
//! (pingora-ketama, maglev, jumphash, hashring).
//!
//! Run: `benches/quiet balance [FILTER]` (pinned under SCHED_FIFO; the
//! figures in the notes are taken this way), or plain
//! `cargo bench -p svcroute-benches --bench balance -- --warm-up-time 1 --measurement-time 3`.
//!
//! pingora-load-balancing is not a peer here: besides cmake (for
//! libz-ng-sys) it pulls about 120 crates (tokio, h2, zstd-sys, brotli,
//! clap, ...) into every build of this package's benches, a cost every
//! bench run would pay on a 2-core machine. Its raw selectors are measured
//! in the reference (balancers.md, section 3.1).
//!
//! Keys: 1024 distinct 13-byte pseudo 5-tuples, cycled; backends are
//! `10.x.y.z:8080`. Every pick bench hashes the key inside the loop unless
//! its name says `prehashed`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::SocketAddr;
use svcroute::balance::hash::xxhash64;
use svcroute::balance::{
    Backend, Balancer, FlowKey, Ketama, KetamaConfig, LeastRequest, Maglev, MaglevConfig, Random,
    Request, RoundRobin, SmoothWeighted, jump_consistent_hash,
};

fn addr(i: usize) -> String {
    format!("10.{}.{}.{}:8080", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn backends(n: usize) -> Vec<Backend> {
    (0..n).map(|i| Backend::new(addr(i), 1)).collect()
}

fn flows() -> Vec<FlowKey> {
    (0..1024u32)
        .map(|i| {
            let src = std::net::Ipv4Addr::from(0x0A00_0000u32 ^ i.wrapping_mul(2_654_435_761));
            FlowKey::new(
                src.into(),
                1024 + i as u16,
                "10.96.0.10".parse().unwrap(),
                80,
                6,
            )
        })
        .collect()
}

fn key_bytes() -> Vec<[u8; 13]> {
    flows()
        .iter()
        .map(|f| {
            let mut buf = [0u8; 37];
            let mut k = [0u8; 13];
            k.copy_from_slice(f.encode(&mut buf));
            k
        })
        .collect()
}

fn maglev(c: &mut Criterion) {
    let flows = flows();
    let keys = key_bytes();
    let hashes: Vec<u64> = keys.iter().map(|k| xxhash64(k, 0)).collect();
    let mut g = c.benchmark_group("maglev_pick");
    for n in [100usize, 1000] {
        let b = backends(n);
        let lb = Maglev::new(&b, &MaglevConfig::default()).unwrap();
        g.bench_function(BenchmarkId::new("svcroute_prehashed", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                lb.lookup(black_box(hashes[i]))
            })
        });
        let mut lb2 = lb.clone();
        g.bench_function(BenchmarkId::new("svcroute_flow", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                lb2.pick(&Request::flow(black_box(flows[i])))
            })
        });
        g.bench_function(BenchmarkId::new("svcroute_xxh64_bytes", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                lb.lookup(xxhash64(black_box(&keys[i]), 0))
            })
        });
        let peer = maglev::Maglev::with_capacity(
            b.iter().map(|x| x.key.clone()).collect::<Vec<_>>(),
            65537,
        );
        g.bench_function(BenchmarkId::new("maglev_crate", n), |bch| {
            use maglev::ConsistentHasher;
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                peer.get(black_box(&keys[i])).map(|s| s.len())
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("maglev_build_65537");
    g.sample_size(20);
    for n in [100usize, 1000, 10_000] {
        let b = backends(n);
        g.bench_function(BenchmarkId::new("svcroute", n), |bch| {
            bch.iter(|| Maglev::new(black_box(&b), &MaglevConfig::default()).unwrap())
        });
    }
    let weighted: Vec<Backend> = (0..1000)
        .map(|i| Backend::new(addr(i), 1 + (i % 4) as u32))
        .collect();
    g.bench_function(BenchmarkId::new("svcroute_weighted_envoy", 1000), |bch| {
        bch.iter(|| Maglev::new(black_box(&weighted), &MaglevConfig::default()).unwrap())
    });
    let keys100: Vec<String> = backends(100).into_iter().map(|b| b.key).collect();
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("maglev_crate", 100), |bch| {
        bch.iter(|| maglev::Maglev::with_capacity(black_box(keys100.clone()), 65537))
    });
    g.finish();
}

fn ketama(c: &mut Criterion) {
    let keys = key_bytes();
    let mut g = c.benchmark_group("ketama_pick");
    for n in [100usize, 10_000] {
        let b = backends(n);
        let ring = Ketama::new(&b, &KetamaConfig::default()).unwrap();
        g.bench_function(BenchmarkId::new("svcroute_crc32_bytes", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                ring.lookup_bytes(black_box(&keys[i]))
            })
        });
        let pos: Vec<u32> = keys.iter().map(|k| ring.key_position(k)).collect();
        g.bench_function(BenchmarkId::new("svcroute_prehashed", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                ring.lookup(black_box(pos[i]))
            })
        });
        let buckets: Vec<pingora_ketama::Bucket> = b
            .iter()
            .map(|x| pingora_ketama::Bucket::new(x.key.parse::<SocketAddr>().unwrap(), 1))
            .collect();
        let peer = pingora_ketama::Continuum::new(&buckets);
        g.bench_function(BenchmarkId::new("pingora_ketama", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                peer.node(black_box(&keys[i]))
            })
        });
        let mut ring_peer = hashring::HashRing::new();
        ring_peer.batch_add(
            b.iter()
                .flat_map(|x| (0..160u32).map(move |v| (x.key.clone(), v)))
                .collect(),
        );
        g.bench_function(BenchmarkId::new("hashring_160_vnodes", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                ring_peer.get(black_box(&keys[i])).map(|x| x.1)
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("ketama_build");
    g.sample_size(10);
    for n in [100usize, 1000] {
        let b = backends(n);
        g.bench_function(BenchmarkId::new("svcroute", n), |bch| {
            bch.iter(|| Ketama::new(black_box(&b), &KetamaConfig::default()).unwrap())
        });
        let buckets: Vec<pingora_ketama::Bucket> = b
            .iter()
            .map(|x| pingora_ketama::Bucket::new(x.key.parse::<SocketAddr>().unwrap(), 1))
            .collect();
        g.bench_function(BenchmarkId::new("pingora_ketama", n), |bch| {
            bch.iter(|| pingora_ketama::Continuum::new(black_box(&buckets)))
        });
    }
    g.finish();
}

fn jump(c: &mut Criterion) {
    let keys = key_bytes();
    let hashes: Vec<u64> = keys.iter().map(|k| xxhash64(k, 0)).collect();
    let mut g = c.benchmark_group("jump_pick");
    for n in [100u32, 10_000] {
        g.bench_function(BenchmarkId::new("svcroute_prehashed", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                jump_consistent_hash(black_box(hashes[i]), n)
            })
        });
        g.bench_function(BenchmarkId::new("svcroute_xxh64_bytes", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                jump_consistent_hash(xxhash64(black_box(&keys[i]), 0), n)
            })
        });
        let peer = jumphash::JumpHasher::new_with_keys(1, 2);
        g.bench_function(BenchmarkId::new("jumphash_siphash", n), |bch| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) & 1023;
                peer.slot(black_box(&keys[i]), n)
            })
        });
    }
    g.finish();
}

fn turns(c: &mut Criterion) {
    let mut g = c.benchmark_group("turns_pick");
    let b = backends(10_000);
    let mut rr = RoundRobin::new(&b);
    g.bench_function(BenchmarkId::new("round_robin", 10_000), |bch| {
        bch.iter(|| rr.next())
    });
    let few: Vec<Backend> = (0..10_000)
        .map(|i| Backend::new(addr(i), 1 + (i % 4) as u32))
        .collect();
    let mut sw = SmoothWeighted::new(&few);
    g.bench_function(BenchmarkId::new("smooth_wrr_4_weights", 10_000), |bch| {
        bch.iter(|| sw.next())
    });
    let many: Vec<Backend> = (0..10_000)
        .map(|i| Backend::new(addr(i), 1 + ((i as u64 * 2_654_435_761) % 100) as u32))
        .collect();
    let mut sw = SmoothWeighted::new(&many);
    g.bench_function(BenchmarkId::new("smooth_wrr_100_weights", 10_000), |bch| {
        bch.iter(|| sw.next())
    });
    let mut rnd = Random::new(&b, 1);
    g.bench_function(BenchmarkId::new("random", 10_000), |bch| {
        bch.iter(|| rnd.next())
    });
    let mut p2c = LeastRequest::new(&b, 2, 1);
    g.bench_function(BenchmarkId::new("least_request_p2c", 10_000), |bch| {
        bch.iter(|| p2c.pick(&Request::none()))
    });
    g.finish();
}

criterion_group!(benches, maglev, ketama, jump, turns);
criterion_main!(benches);
