//! Ingresses of class `alb` under `--cloud aws`, as the AWS Load Balancer
//! Controller serves them: the IngressClass `alb` (controller
//! `ingress.k8s.aws/alb`) when the input has none, an ALB hostname in each
//! such Ingress's `status.loadBalancer`, and the way in for an outside
//! client: the rule that matches, then the backend Service's NodePort on
//! a node (target type `instance`, the default) or the pods straight away
//! (`alb.ingress.kubernetes.io/target-type: ip`).
//!
//! The core serves Ingress rules and knows no ALB: this layer is the
//! command line's, on top of the dataplane's Ingress and NodePort routing.

use svcroute::api::{Ingress, Kind, Object};
use svcroute::cluster::Cluster;
use svcroute::labels::Selector;

/// The AWS Load Balancer Controller's name in `IngressClass.spec.controller`.
pub const CONTROLLER: &str = "ingress.k8s.aws/alb";
/// The class name the controller's install creates.
pub const CLASS: &str = "alb";
/// The annotation choosing instance or ip targets.
pub const TARGET_TYPE: &str = "alb.ingress.kubernetes.io/target-type";
/// The annotation choosing the scheme (default `internal`).
pub const SCHEME: &str = "alb.ingress.kubernetes.io/scheme";
/// The legacy class annotation.
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Is this Ingress of class `alb` (by `spec.ingressClassName` or the
/// legacy annotation)?
///
/// ```
/// let i: svcroute::api::Ingress = serde_json::from_str(r#"{"apiVersion": "networking.k8s.io/v1",
///   "kind": "Ingress", "metadata": {"name": "web"}, "spec": {"ingressClassName": "alb"}}"#).unwrap();
/// assert!(svcroute_cli::alb::is_alb(&i));
/// ```
pub fn is_alb(ingress: &Ingress) -> bool {
    ingress.spec.ingress_class_name.as_deref() == Some(CLASS)
        || ingress
            .metadata
            .annotations
            .get(CLASS_ANNOTATION)
            .map(String::as_str)
            == Some(CLASS)
}

/// `internal` or `internet-facing` (the controller's default is internal).
pub fn scheme(ingress: &Ingress) -> &'static str {
    match ingress.metadata.annotations.get(SCHEME).map(String::as_str) {
        Some("internet-facing") => "internet-facing",
        _ => "internal",
    }
}

/// `instance` (default) or `ip`.
pub fn target_type(ingress: &Ingress) -> &'static str {
    match ingress
        .metadata
        .annotations
        .get(TARGET_TYPE)
        .map(String::as_str)
    {
        Some("ip") => "ip",
        _ => "instance",
    }
}

/// The hostname the controller gives an ALB:
/// `[internal-]k8s-<ns>-<name>-<10 hex>-<10 digits>.<region>.elb.amazonaws.com`
/// (namespace and name cut to 8 characters), from a hash of the
/// namespace, the name and `seed`.
///
/// ```
/// let h = svcroute_cli::alb::hostname("shop", "storefront", "eu-west-1", false, 0);
/// assert!(h.starts_with("k8s-shop-storefro-") && h.ends_with(".eu-west-1.elb.amazonaws.com"), "{h}");
/// ```
pub fn hostname(namespace: &str, name: &str, region: &str, internal: bool, seed: u64) -> String {
    // FNV-1a, 64 bits: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in namespace.bytes().chain([b'/']).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let cut = |s: &str| s.chars().take(8).collect::<String>();
    format!(
        "{}k8s-{}-{}-{:010x}-{:010}.{region}.elb.amazonaws.com",
        if internal { "internal-" } else { "" },
        cut(namespace),
        cut(name),
        h >> 24,
        h % 10_000_000_000
    )
}

/// The objects the controller would add or change in `cluster`: the
/// IngressClass `alb` when an `alb` Ingress exists and the class does
/// not, and each `alb` Ingress without an address with its hostname.
pub fn controller_writes(cluster: &Cluster, region: &str) -> Vec<Object> {
    let listed = cluster.list(Kind::Ingress, None, &Selector::everything());
    let ingresses: Vec<&Ingress> = listed
        .iter()
        .filter_map(|o| match o.as_ref() {
            Object::Ingress(i) if is_alb(i) => Some(i),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if ingresses.is_empty() {
        return out;
    }
    let has_class = cluster
        .list(Kind::IngressClass, None, &Selector::everything())
        .iter()
        .any(|o| o.name() == Some(CLASS));
    if !has_class
        && let Ok(class) = serde_json::from_value::<Object>(serde_json::json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": CLASS},
            "spec": {"controller": CONTROLLER}
        }))
    {
        out.push(class);
    }
    let seed = cluster.config().seed;
    for i in ingresses {
        if !i.status.load_balancer.ingress.is_empty() {
            continue;
        }
        let mut i = i.clone();
        let ns = i.metadata.namespace.clone().unwrap_or_default();
        let name = i.metadata.name.clone().unwrap_or_default();
        let host = hostname(&ns, &name, region, scheme(&i) == "internal", seed);
        if let Ok(entry) = serde_json::from_value(serde_json::json!({"hostname": host})) {
            i.status.load_balancer.ingress.push(entry);
            out.push(Object::Ingress(i));
        }
    }
    out
}

/// The `alb` Ingress whose ALB answers `host` (its hostname, or a host of
/// its rules), if any.
pub fn ingress_for_host(cluster: &Cluster, host: &str) -> Option<Ingress> {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let listed = cluster.list(Kind::Ingress, None, &Selector::everything());
    let alb: Vec<&Ingress> = listed
        .iter()
        .filter_map(|o| match o.as_ref() {
            Object::Ingress(i) if is_alb(i) => Some(i),
            _ => None,
        })
        .collect();
    alb.iter()
        .copied()
        .find(|i| {
            i.status
                .load_balancer
                .ingress
                .iter()
                .any(|e| e.hostname.as_deref() == Some(host.as_str()))
        })
        .or_else(|| {
            alb.iter().copied().find(|i| {
                i.spec
                    .rules
                    .iter()
                    .any(|r| r.host.as_deref() == Some(host.as_str()))
            })
        })
        .cloned()
}
