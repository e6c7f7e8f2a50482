//! Shared helpers for svcroute's benches (synthetic clusters and inputs).
//!
//! [`synthetic_cluster`] builds a cluster at Kubernetes' published
//! scalability limits (5,000 nodes, 150,000 pods, 10,000 Services, up to 250
//! endpoints per Service) as plain API objects, deterministically, with the
//! label sets real workloads carry (`app`, `app.kubernetes.io/*`,
//! `pod-template-hash`, `version`, `tier`, `env`, `team`).

use std::collections::BTreeMap;

use svcroute::api::{
    ConditionStatus, Container, ContainerPort, IntOrString, Namespace, Node, NodeAddress,
    NodeCondition, NodeSpec, NodeStatus, Object, ObjectMeta, Pod, PodCondition, PodIP, PodPhase,
    PodSpec, PodStatus, Service, ServicePort, ServiceSpec,
};
use svcroute::cluster::ClusterConfig;
use svcroute::ipam::IpNet;

/// The size of a synthetic cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Nodes (spread over three zones).
    pub nodes: usize,
    /// Pods in total.
    pub pods: usize,
    /// Services; each selects its own Deployment's pods.
    pub services: usize,
    /// Every 100th Service has this many pods (the others share the rest).
    pub max_endpoints: usize,
    /// Namespaces the Services are spread over.
    pub namespaces: usize,
}

impl Scale {
    /// Kubernetes' published limits: 5,000 nodes, 150,000 pods, 10,000
    /// Services, 250 endpoints for the largest Services.
    pub const LIMITS: Scale = Scale {
        nodes: 5_000,
        pods: 150_000,
        services: 10_000,
        max_endpoints: 250,
        namespaces: 100,
    };

    /// A small cluster of the same shape (for tests).
    pub const SMALL: Scale = Scale {
        nodes: 50,
        pods: 1_500,
        services: 100,
        max_endpoints: 250,
        namespaces: 5,
    };
}

/// The configuration the synthetic cluster is valid for: cluster CIDR
/// `10.0.0.0/8` (one /24 per node), service CIDR `172.16.0.0/12`,
/// no bootstrap objects.
pub fn config() -> ClusterConfig {
    ClusterConfig {
        cluster_cidrs: vec![IpNet::parse_truncating("10.0.0.0/8").expect("literal")],
        service_cidrs: vec![IpNet::parse_truncating("172.16.0.0/12").expect("literal")],
        bootstrap: false,
        ..ClusterConfig::default()
    }
}

fn meta(name: String, namespace: Option<String>, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace,
        labels,
        ..ObjectMeta::default()
    }
}

fn labels(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The pod count of Service `i`.
fn pods_of(scale: &Scale, i: usize) -> usize {
    let big = scale.services.div_ceil(100);
    if i.is_multiple_of(100) {
        return scale.max_endpoints;
    }
    let rest = scale.pods.saturating_sub(big * scale.max_endpoints);
    let small = scale.services - big;
    // Spread the rest evenly; the first `rest % small` small Services get one more.
    let j = i - i / 100 - 1;
    rest / small + usize::from(j < rest % small)
}

/// How many pods the Services before `i` have (the index of Service `i`'s
/// first pod in [`pod_slots`]).
fn first_pod(scale: &Scale, i: usize) -> usize {
    if scale.services == 0 {
        return 0;
    }
    let big_before = i.div_ceil(100);
    let small_before = i - big_before;
    let big = scale.services.div_ceil(100);
    let small = scale.services - big;
    let rest = scale.pods.saturating_sub(big * scale.max_endpoints);
    let each = rest.checked_div(small).unwrap_or(0);
    let extra = rest.checked_rem(small).unwrap_or(0);
    big_before * scale.max_endpoints + small_before * each + small_before.min(extra)
}

/// The Pod `k` of Service `i` (for benches that change one pod).
pub fn pod(scale: &Scale, i: usize, k: usize, node: usize, ready: bool, version: &str) -> Pod {
    let ns = format!("team-{:02}", i % scale.namespaces);
    let app = format!("svc-{i}");
    let hash = format!(
        "{:010x}",
        (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24
    );
    // The pod's ordinal on its node (pods are dealt to nodes in turn), so
    // that no two pods of a node share an IP.
    let ordinal = (first_pod(scale, i) + k) / scale.nodes.max(1);
    let ip = format!("10.{}.{}.{}", node >> 8, node & 255, 2 + (ordinal % 250));
    Pod {
        metadata: meta(
            format!("{app}-{hash}-{k:05}"),
            Some(ns.clone()),
            labels(&[
                ("app", app.clone()),
                ("app.kubernetes.io/name", app.clone()),
                ("app.kubernetes.io/part-of", format!("system-{}", i % 37)),
                ("pod-template-hash", hash),
                ("version", version.to_owned()),
                (
                    "tier",
                    ["frontend", "backend", "cache", "worker"][i % 4].to_owned(),
                ),
                ("env", "production".to_owned()),
                ("team", ns),
            ]),
        ),
        spec: PodSpec {
            node_name: Some(format!("node-{node:04}")),
            containers: vec![Container {
                name: "app".to_owned(),
                ports: vec![
                    ContainerPort {
                        name: Some("http".to_owned()),
                        container_port: 8080,
                        ..ContainerPort::default()
                    },
                    ContainerPort {
                        name: Some("metrics".to_owned()),
                        container_port: 9090,
                        ..ContainerPort::default()
                    },
                ],
                ..Container::default()
            }],
            ..PodSpec::default()
        },
        status: PodStatus {
            phase: Some(PodPhase::Running),
            pod_ip: Some(ip.clone()),
            pod_ips: vec![PodIP { ip }],
            conditions: vec![PodCondition {
                type_: "Ready".to_owned(),
                status: if ready {
                    ConditionStatus::True
                } else {
                    ConditionStatus::False
                },
                last_transition_time: None,
                reason: None,
                message: None,
            }],
            ..PodStatus::default()
        },
    }
}

/// The Node `n`.
pub fn node(n: usize) -> Node {
    Node {
        metadata: meta(
            format!("node-{n:04}"),
            None,
            labels(&[
                (
                    "topology.kubernetes.io/zone",
                    format!("zone-{}", ["a", "b", "c"][n % 3]),
                ),
                ("kubernetes.io/hostname", format!("node-{n:04}")),
                ("node.kubernetes.io/instance-type", "m5.2xlarge".to_owned()),
            ]),
        ),
        spec: NodeSpec {
            pod_cidr: Some(format!("10.{}.{}.0/24", n >> 8, n & 255)),
            pod_cidrs: vec![format!("10.{}.{}.0/24", n >> 8, n & 255)],
            ..NodeSpec::default()
        },
        status: NodeStatus {
            addresses: vec![NodeAddress {
                type_: "InternalIP".to_owned(),
                address: format!("192.168.{}.{}", n >> 8, n & 255),
            }],
            conditions: vec![NodeCondition {
                type_: "Ready".to_owned(),
                status: ConditionStatus::True,
                last_transition_time: None,
                reason: None,
            }],
            ..NodeStatus::default()
        },
    }
}

/// The Service `i`: ClusterIP, selector `app=svc-<i>`, ports http and metrics.
pub fn service(scale: &Scale, i: usize) -> Service {
    let ip = format!("172.16.{}.{}", (i + 256) >> 8, (i + 256) & 255);
    Service {
        metadata: meta(
            format!("svc-{i}"),
            Some(format!("team-{:02}", i % scale.namespaces)),
            labels(&[("app", format!("svc-{i}"))]),
        ),
        spec: ServiceSpec {
            selector: Some(labels(&[("app", format!("svc-{i}"))])),
            cluster_ip: Some(ip.clone()),
            cluster_ips: Some(vec![ip]),
            ports: vec![
                ServicePort {
                    name: "http".to_owned(),
                    port: 80,
                    target_port: Some(IntOrString::String("http".to_owned())),
                    ..ServicePort::default()
                },
                ServicePort {
                    name: "metrics".to_owned(),
                    port: 9090,
                    target_port: Some(IntOrString::Int(9090)),
                    ..ServicePort::default()
                },
            ],
            ..ServiceSpec::default()
        },
        ..Service::default()
    }
}

/// Where the pods of a synthetic cluster are: `(service, pod index, node)`.
pub fn pod_slots(scale: &Scale) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::with_capacity(scale.pods);
    for i in 0..scale.services {
        for k in 0..pods_of(scale, i) {
            out.push((i, k, out.len() % scale.nodes));
        }
    }
    out
}

/// Every object of a synthetic cluster: namespaces, nodes, Services, then
/// pods (all ready, version `1.3`).
///
/// ```
/// use svcroute_benches::{Scale, synthetic_cluster};
/// let objects = synthetic_cluster(&Scale::SMALL);
/// assert_eq!(objects.len(), 5 + 50 + 100 + 1_500);
/// // Pod IPs are unique.
/// let mut ips: Vec<String> = objects.iter().filter_map(|o| match o {
///     svcroute::api::Object::Pod(p) => p.status.pod_ip.clone(),
///     _ => None,
/// }).collect();
/// ips.sort();
/// ips.dedup();
/// assert_eq!(ips.len(), 1_500);
/// ```
pub fn synthetic_cluster(scale: &Scale) -> Vec<Object> {
    let mut out = Vec::with_capacity(scale.namespaces + scale.nodes + scale.services + scale.pods);
    for n in 0..scale.namespaces {
        out.push(Object::Namespace(Namespace {
            metadata: meta(format!("team-{n:02}"), None, BTreeMap::new()),
            ..Namespace::default()
        }));
    }
    out.extend((0..scale.nodes).map(|n| Object::Node(node(n))));
    out.extend((0..scale.services).map(|i| Object::Service(service(scale, i))));
    out.extend(
        pod_slots(scale)
            .into_iter()
            .map(|(i, k, n)| Object::Pod(pod(scale, i, k, n, true, "1.3"))),
    );
    out
}

/// A global allocator that counts the live heap bytes of the process, for
/// the memory figures of the benches (bytes per pod, per record). Every
/// call goes to the system allocator unchanged; the count is one relaxed
/// atomic add, so it slows allocation-heavy benches a little.
///
/// ```no_run
/// #[global_allocator]
/// static GLOBAL: svcroute_benches::LiveBytes = svcroute_benches::LiveBytes;
///
/// let before = svcroute_benches::live_bytes();
/// let v = vec![0u8; 1 << 20];
/// assert!(svcroute_benches::live_bytes() - before >= 1 << 20);
/// drop(v);
/// ```
pub struct LiveBytes;

static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

/// The heap bytes live now, as counted by [`LiveBytes`] (0 when the
/// program does not use it as its global allocator).
///
/// ```
/// let _bytes: isize = svcroute_benches::live_bytes();
/// ```
pub fn live_bytes() -> isize {
    LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter only observes sizes.
unsafe impl std::alloc::GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            std::sync::atomic::Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}
