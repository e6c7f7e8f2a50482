//! The load-balancer controller of a cluster, as the cluster's provider
//! (none, a MetalLB-style pool, AWS) would write `status.loadBalancer`.
//! See [`LoadBalancerProvider`] for the shapes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::config::LoadBalancerProvider;
use crate::api::{IPFamily, LoadBalancerIPMode, LoadBalancerIngress, Service, ServiceType};
use crate::ipam::IpFamily;

/// The AWS annotation choosing the scheme (`internal` or
/// `internet-facing`).
pub const AWS_SCHEME_ANNOTATION: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
/// The legacy AWS annotation asking for an internal load balancer.
pub const AWS_INTERNAL_ANNOTATION: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";

/// MetalLB's annotation asking for specific addresses (comma-separated).
pub const METALLB_IPS_ANNOTATION: &str = "metallb.io/loadBalancerIPs";

/// The addresses a Service asks the pool for: MetalLB's annotation, else
/// the deprecated `spec.loadBalancerIP`.
fn requested_ips(svc: &Service) -> Vec<IpAddr> {
    let text = svc
        .metadata
        .annotations
        .get(METALLB_IPS_ANNOTATION)
        .cloned()
        .or_else(|| svc.spec.load_balancer_ip.clone())
        .unwrap_or_default();
    text.split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect()
}

/// Owner of a pool address: (namespace, name).
type Owner = (String, String);

/// The provider and the pool addresses in use.
#[derive(Debug, Clone, Default)]
pub(super) struct LoadBalancers {
    provider: LoadBalancerProvider,
    seed: u64,
    held: BTreeMap<IpAddr, Owner>,
}

/// A pool address that another Service holds: the field and a message.
pub(super) type PoolConflict = (String, String);

fn owner(svc: &Service) -> Owner {
    (
        svc.metadata.namespace.clone().unwrap_or_default(),
        svc.metadata.name.clone().unwrap_or_default(),
    )
}

impl LoadBalancers {
    pub(super) fn new(provider: LoadBalancerProvider, seed: u64) -> LoadBalancers {
        LoadBalancers {
            provider,
            seed,
            held: BTreeMap::new(),
        }
    }

    fn in_pool(&self, ip: IpAddr) -> bool {
        matches!(&self.provider, LoadBalancerProvider::Pool(cidrs) if cidrs.iter().any(|c| c.contains(ip)))
    }

    /// Sets or clears `svc.status.loadBalancer` as the controller would,
    /// after admission. `status_given`: the applied object carried its own
    /// status (kept as it is).
    pub(super) fn reconcile(
        &mut self,
        svc: &mut Service,
        status_given: bool,
    ) -> Result<(), PoolConflict> {
        let me = owner(svc);
        if svc.service_type() != ServiceType::LoadBalancer {
            // The controller removes the load balancer of a Service that
            // stops being one.
            self.release_owner(&me, &[]);
            if !status_given {
                svc.status.load_balancer.ingress.clear();
            }
            return Ok(());
        }
        let listed: Vec<IpAddr> = svc
            .status
            .load_balancer
            .ingress
            .iter()
            .filter_map(|i| i.ip.as_deref()?.parse().ok())
            .collect();
        if !svc.status.load_balancer.ingress.is_empty() {
            for (i, ingress) in svc.status.load_balancer.ingress.iter().enumerate() {
                let Some(ip) = ingress.ip.as_deref().and_then(|t| t.parse::<IpAddr>().ok()) else {
                    continue;
                };
                if !self.in_pool(ip) {
                    continue;
                }
                match self.held.get(&ip) {
                    Some(o) if *o != me => {
                        return Err((
                            format!("status.loadBalancer.ingress[{i}].ip"),
                            format!("{ip} is already assigned to Service {}/{}", o.0, o.1),
                        ));
                    }
                    _ => {}
                }
            }
            for ip in &listed {
                if self.in_pool(*ip) {
                    self.held.insert(*ip, me.clone());
                }
            }
            self.release_owner(&me, &listed);
            return Ok(());
        }
        self.release_owner(&me, &[]);
        match self.provider.clone() {
            LoadBalancerProvider::None => {}
            LoadBalancerProvider::Pool(cidrs) => {
                let requested = requested_ips(svc);
                if !requested.is_empty() {
                    // MetalLB: the requested addresses or nothing (pending
                    // when one is outside the pool or taken).
                    let ok = requested
                        .iter()
                        .all(|ip| self.in_pool(*ip) && self.held.get(ip).is_none_or(|o| *o == me));
                    if ok {
                        for ip in requested {
                            self.held.insert(ip, me.clone());
                            svc.status.load_balancer.ingress.push(LoadBalancerIngress {
                                ip: Some(ip.to_string()),
                                ip_mode: Some(LoadBalancerIPMode::VIP),
                                ..LoadBalancerIngress::default()
                            });
                        }
                    }
                    return Ok(());
                }
                let families: Vec<IpFamily> = if svc.spec.ip_families.is_empty() {
                    cidrs.first().map(|c| c.family()).into_iter().collect()
                } else {
                    svc.spec
                        .ip_families
                        .iter()
                        .map(|f| match f {
                            IPFamily::IPv4 => IpFamily::V4,
                            IPFamily::IPv6 => IpFamily::V6,
                        })
                        .collect()
                };
                for family in families {
                    let free = cidrs
                        .iter()
                        .filter(|c| c.family() == family)
                        .flat_map(|c| c.iter())
                        .find(|ip| !self.held.contains_key(ip));
                    if let Some(ip) = free {
                        self.held.insert(ip, me.clone());
                        svc.status.load_balancer.ingress.push(LoadBalancerIngress {
                            ip: Some(ip.to_string()),
                            ip_mode: Some(LoadBalancerIPMode::VIP),
                            ..LoadBalancerIngress::default()
                        });
                    }
                }
            }
            LoadBalancerProvider::Aws { region } => {
                svc.status.load_balancer.ingress.push(LoadBalancerIngress {
                    hostname: Some(aws_hostname(svc, &region, self.seed)),
                    ..LoadBalancerIngress::default()
                });
            }
        }
        Ok(())
    }

    /// The Service is deleted: its pool addresses are free again.
    pub(super) fn release(&mut self, svc: &Service) {
        self.release_owner(&owner(svc), &[]);
    }

    fn release_owner(&mut self, me: &Owner, keep: &[IpAddr]) {
        self.held.retain(|ip, o| o != me || keep.contains(ip));
    }
}

/// Is the Service asking AWS for an internal load balancer?
fn aws_internal(svc: &Service) -> bool {
    let a = &svc.metadata.annotations;
    a.get(AWS_SCHEME_ANNOTATION).map(String::as_str) == Some("internal")
        || a.get(AWS_INTERNAL_ANNOTATION)
            .is_some_and(|v| !v.eq_ignore_ascii_case("false"))
}

/// FNV-1a over the bytes, from a seeded basis.
fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The classic-ELB hostname the AWS cloud provider gives a Service.
fn aws_hostname(svc: &Service, region: &str, seed: u64) -> String {
    let (ns, name) = owner(svc);
    let key = format!("{ns}/{name}");
    let h1 = fnv(seed, key.as_bytes());
    let h2 = fnv(h1, key.as_bytes());
    let h3 = fnv(h2, b"elb");
    let elb = match svc.metadata.uid.as_deref().filter(|u| !u.is_empty()) {
        Some(uid) => {
            let hex: String = uid.chars().filter(|c| *c != '-').collect();
            format!("a{hex}")
        }
        None => format!("a{h1:016x}{h2:016x}"),
    };
    let elb: String = elb.chars().take(32).collect();
    let digits = h3 % 10_000_000_000;
    let prefix = if aws_internal(svc) { "internal-" } else { "" };
    format!("{prefix}{elb}-{digits:010}.{region}.elb.amazonaws.com")
}
