//! Building a [`Dataplane`] from a settled cluster.

use crate::table_hash::FastMap;
use std::net::{IpAddr, SocketAddr};

use super::front::{Front, VipKey, ip_bit};
use super::state::{stable_hash, vs_hash};
use super::{
    Dataplane, Ep, FrontKind, IndexKey, Millis, NodeInfo, PodDns, PodDnsPolicy, PodInfo, PortInfo,
    Sets, SvcInfo, SvcKind,
};
use crate::api::{
    AddressType, IPFamily, Kind, LoadBalancerIPMode, Object, Service, ServiceAffinity,
    ServiceExternalTrafficPolicy, ServiceInternalTrafficPolicy, ServiceType,
};
use crate::cluster::{Cluster, ProxyMode, SliceView, ZONE_LABEL};
use crate::ipam::{IpFamily, IpNet};
use crate::labels::Selector;

pub(super) fn compile(cluster: &Cluster, mode: ProxyMode) -> Dataplane {
    let config = cluster.config();
    let everything = Selector::everything();
    let mut dp = Dataplane {
        mode,
        cluster_domain: config
            .cluster_domain
            .trim_end_matches('.')
            .to_ascii_lowercase(),
        service_cidrs: config.service_cidrs.clone(),
        cluster_cidrs: super::local::Cidrs::new(&config.cluster_cidrs),
        masquerade_all: config.proxy.masquerade_all,
        // --nodeport-addresses without 127.0.0.0/8 also turns localhost NodePorts off.
        localhost_node_ports: config.proxy.localhost_node_ports
            && config
                .proxy
                .node_port_addresses
                .as_ref()
                .is_none_or(|c| c.iter().any(|n| n.contains(IpAddr::from([127, 0, 0, 1])))),
        node_port_cidrs: config.proxy.node_port_addresses.clone(),
        detect_local: config.proxy.detect_local_mode,
        ipvs_scheduler: config.proxy.ipvs_scheduler.clone(),
        scheduler: crate::balance::IpvsScheduler::parse(&config.proxy.ipvs_scheduler)
            .unwrap_or_default(),
        chains: crate::balance::kube::ChainTable::default(),
        draws: super::draw::ChainBounds::default(),
        nodes: Vec::new(),
        node_by_name: FastMap::default(),
        node_by_ip: FastMap::default(),
        pods: FastMap::default(),
        services: Vec::new(),
        service_by_name: FastMap::default(),
        ports: Vec::new(),
        vips: FastMap::default(),
        vip_addrs: FastMap::default(),
        lb_proxy_addrs: FastMap::default(),
        node_port_ips: FastMap::default(),
        node_port_numbers: FastMap::default(),
        health_checks: FastMap::default(),
        slice_owner: FastMap::default(),
        dead_services: 0,
        flat: super::front::Flat::default(),
        ingress: super::http::IngressTable::default(),
        gateways: super::http::GatewayTable::default(),
        dns: crate::dns::Dns::new(cluster, crate::dns::DnsConfig::for_cluster(config)).ok(),
    };

    for object in cluster.list_stored(Kind::Node, None, &everything) {
        let Object::Node(node) = object else { continue };
        let Some(name) = node.metadata.name.clone() else {
            continue;
        };
        let ips: Vec<IpAddr> = node
            .status
            .addresses
            .iter()
            .filter(|a| a.type_ == "InternalIP")
            .filter_map(|a| a.address.trim().parse().ok())
            .collect();
        let mut cidrs: Vec<&String> = node.spec.pod_cidrs.iter().collect();
        if cidrs.is_empty() {
            cidrs.extend(node.spec.pod_cidr.iter());
        }
        let pod_cidrs: Vec<IpNet> = cidrs
            .into_iter()
            .filter_map(|c| IpNet::parse_truncating(c).ok())
            .collect();
        let zone = node
            .metadata
            .labels
            .get(ZONE_LABEL)
            .cloned()
            .unwrap_or_default();
        let idx = dp.nodes.len();
        for ip in &ips {
            dp.node_by_ip.entry(*ip).or_insert(idx);
        }
        dp.node_by_name.insert(name.clone(), idx);
        for family in [IpFamily::V4, IpFamily::V6] {
            for ip in node_port_addresses(dp.mode, dp.node_port_cidrs.as_deref(), &ips, family) {
                dp.node_port_ips.insert(ip, ());
            }
        }
        dp.nodes.push(NodeInfo {
            hash: stable_hash(&[&name]),
            name,
            zone,
            ips,
            pod_cidrs: super::local::Cidrs::new(&pod_cidrs),
        });
    }

    for pod in cluster.list_pods(None, &everything) {
        let Some(ns) = pod.namespace().clone() else {
            continue;
        };
        dp.pods.insert((ns, pod.name().to_owned()), pod_info(pod));
    }

    for object in cluster.list_stored(Kind::Service, None, &everything) {
        let Object::Service(svc) = object else {
            continue;
        };
        add_service(&mut dp, cluster, svc);
    }

    super::http::compile(&mut dp, cluster);
    dp.flat.settle();
    dp
}

/// What routing needs of a Pod: its IPs and its node.
pub(super) fn pod_info(pod: crate::cluster::PodView<'_>) -> PodInfo {
    let mut ips: Vec<IpAddr> = pod
        .pod_ips()
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    if ips.is_empty() {
        ips.extend(pod.pod_ip().and_then(|p| p.parse::<IpAddr>().ok()));
    }
    use crate::api::DNSPolicy;
    let config = pod.dns_config().cloned().unwrap_or_default();
    let dns = PodDns {
        policy: match pod.dns_policy().unwrap_or(DNSPolicy::ClusterFirst) {
            DNSPolicy::ClusterFirstWithHostNet => PodDnsPolicy::Cluster,
            // On the host network ClusterFirst silently acts as Default.
            DNSPolicy::ClusterFirst if pod.host_network() => PodDnsPolicy::Node,
            DNSPolicy::ClusterFirst => PodDnsPolicy::Cluster,
            DNSPolicy::Default => PodDnsPolicy::Node,
            DNSPolicy::None => PodDnsPolicy::Own,
        },
        nameservers: config
            .nameservers
            .iter()
            .filter_map(|n| n.trim().parse().ok())
            .collect(),
        ndots: config
            .options
            .iter()
            .rev()
            .find(|o| o.name == "ndots")
            .and_then(|o| o.value.as_deref()?.trim().parse().ok()),
        searches: config.searches,
    };
    PodInfo {
        ips,
        node: pod.node_name().map(str::to_owned),
        host_network: pod.host_network(),
        dns,
    }
}

fn family_of_address_type(t: AddressType) -> Option<IpFamily> {
    match t {
        AddressType::IPv4 => Some(IpFamily::V4),
        AddressType::IPv6 => Some(IpFamily::V6),
        AddressType::FQDN => None,
    }
}

pub(super) fn add_service(dp: &mut Dataplane, cluster: &Cluster, svc: &Service) {
    let (Some(ns), Some(name)) = (svc.metadata.namespace.clone(), svc.metadata.name.clone()) else {
        return;
    };
    let spec = &svc.spec;
    let stype = svc.service_type();
    let kind = if stype == ServiceType::ExternalName {
        SvcKind::ExternalName
    } else if svc.is_headless() {
        SvcKind::Headless
    } else {
        SvcKind::Proxied
    };
    let mut cluster_ips: Vec<IpAddr> = Vec::new();
    if matches!(kind, SvcKind::Proxied) {
        let listed: Vec<&String> = match &spec.cluster_ips {
            Some(ips) if !ips.is_empty() => ips.iter().collect(),
            _ => spec.cluster_ip.iter().collect(),
        };
        for ip in listed {
            if let Ok(ip) = ip.trim().parse::<IpAddr>()
                && !cluster_ips.contains(&ip)
            {
                cluster_ips.push(ip);
            }
        }
    }
    // Families whose endpoints matter: those of the cluster IPs; for a
    // headless Service, ipFamilies (or every family).
    let families: Vec<IpFamily> = if !cluster_ips.is_empty() {
        let mut f: Vec<IpFamily> = Vec::new();
        for ip in &cluster_ips {
            let fam = IpFamily::of(ip);
            if !f.contains(&fam) {
                f.push(fam);
            }
        }
        f
    } else if !spec.ip_families.is_empty() {
        spec.ip_families
            .iter()
            .map(|f| match f {
                IPFamily::IPv4 => IpFamily::V4,
                IPFamily::IPv6 => IpFamily::V6,
            })
            .collect()
    } else {
        vec![IpFamily::V4, IpFamily::V6]
    };
    let external_ips: Vec<IpAddr> = spec
        .external_ips
        .iter()
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let is_lb = stype == ServiceType::LoadBalancer;
    let externally_accessible = matches!(stype, ServiceType::NodePort | ServiceType::LoadBalancer)
        || !external_ips.is_empty();
    let etp_local = externally_accessible
        && spec.external_traffic_policy == Some(ServiceExternalTrafficPolicy::Local);
    let itp_local = spec.internal_traffic_policy == Some(ServiceInternalTrafficPolicy::Local);
    let affinity_timeout = (spec.session_affinity == Some(ServiceAffinity::ClientIP)).then(|| {
        let secs = spec
            .session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .filter(|t| *t > 0)
            .unwrap_or(10800);
        Millis::from_secs(u64::try_from(secs).unwrap_or(10800))
    });
    let mut source_ranges: Vec<IpNet> = spec
        .load_balancer_source_ranges
        .iter()
        .filter_map(|r| IpNet::parse_truncating(r.trim()).ok())
        .collect();
    if source_ranges.iter().any(|r| r.prefix_len() == 0) {
        source_ranges.clear();
    }

    let slices = cluster.endpoint_slice_views(&ns, &name);
    let svc_idx = dp.services.len();
    let mut port_ids = Vec::new();
    let mut keys: Vec<IndexKey> = Vec::new();
    if matches!(kind, SvcKind::Proxied) {
        for sp in &spec.ports {
            let Ok(port) = u16::try_from(sp.port) else {
                continue;
            };
            let protocol = sp.protocol.unwrap_or_default();
            for &family in &families {
                let eps = endpoints_for(&slices, &sp.name, protocol, family);
                let sets = categorize(&eps);
                dp.chains.ensure(eps.len());
                for n in set_sizes(&sets) {
                    dp.draws.ensure(&dp.chains, n);
                }
                let ip_filter = eps.iter().fold(0, |f, e| f | ip_bit(e.addr.ip()));
                let pidx = dp.ports.len();
                dp.ports.push(PortInfo {
                    svc: svc_idx,
                    name: sp.name.clone(),
                    fingerprint: fingerprint(&eps),
                    port,
                    protocol,
                    family,
                    node_port: sp
                        .node_port
                        .and_then(|n| u16::try_from(n).ok())
                        .filter(|n| *n != 0),
                    eps,
                    scope: stable_hash(&[&ns, &name, &sp.name, protocol.as_str(), family.as_str()]),
                    cluster_vs: {
                        let ip = cluster_ips
                            .iter()
                            .copied()
                            .find(|ip| IpFamily::of(ip) == family)
                            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
                        vs_hash(ip, port, protocol)
                    },
                    sets,
                    ip_filter,
                });
                port_ids.push(pidx);
                let cluster = dp.flat.push(&dp.ports[pidx].sets.cluster);
                let p = &dp.ports[pidx];
                let (mode, has_any, cluster_vs, scope) =
                    (dp.mode, p.sets.has_any, p.cluster_vs, p.scope);
                let topology =
                    !p.sets.fallback && (!p.sets.by_node.is_empty() || !p.sets.by_zone.is_empty());
                let fallback = p.sets.fallback;
                let front = |kind: FrontKind, ip: IpAddr| Front {
                    port: pidx,
                    svc: u32::try_from(svc_idx).unwrap_or(u32::MAX),
                    kind,
                    has_any,
                    itp_local,
                    externally_accessible,
                    topology,
                    fallback,
                    ip_filter,
                    affinity: affinity_timeout,
                    scope: match (mode, kind) {
                        (ProxyMode::Ipvs, FrontKind::ClusterIp) => cluster_vs,
                        (ProxyMode::Ipvs, _) => vs_hash(ip, port, protocol),
                        _ => scope,
                    },
                    cluster,
                };
                for ip in cluster_ips.iter().filter(|ip| IpFamily::of(ip) == family) {
                    dp.vips
                        .entry(VipKey::new(*ip, port, protocol))
                        .or_insert(front(FrontKind::ClusterIp, *ip));
                    dp.vip_addrs
                        .entry(*ip)
                        .or_insert((FrontKind::ClusterIp, 0))
                        .1 += 1;
                    keys.push(IndexKey::Vip(*ip, port, protocol));
                }
                for ip in external_ips.iter().filter(|ip| IpFamily::of(ip) == family) {
                    dp.vips
                        .entry(VipKey::new(*ip, port, protocol))
                        .or_insert(front(FrontKind::ExternalIp, *ip));
                    dp.vip_addrs
                        .entry(*ip)
                        .or_insert((FrontKind::ExternalIp, 0))
                        .1 += 1;
                    keys.push(IndexKey::Vip(*ip, port, protocol));
                }
                if is_lb {
                    for ing in &svc.status.load_balancer.ingress {
                        let Some(ip) = ing
                            .ip
                            .as_ref()
                            .and_then(|i| i.trim().parse::<IpAddr>().ok())
                        else {
                            continue; // hostname-only: left to the real LB (ALLOC-13)
                        };
                        if IpFamily::of(&ip) != family {
                            continue;
                        }
                        if ing.ip_mode == Some(LoadBalancerIPMode::Proxy) {
                            dp.lb_proxy_addrs.entry(ip).or_insert(svc_idx);
                            keys.push(IndexKey::LbProxy(ip));
                        } else {
                            dp.vips
                                .entry(VipKey::new(ip, port, protocol))
                                .or_insert(front(FrontKind::LoadBalancer, ip));
                            dp.vip_addrs
                                .entry(ip)
                                .or_insert((FrontKind::LoadBalancer, 0))
                                .1 += 1;
                            keys.push(IndexKey::Vip(ip, port, protocol));
                        }
                    }
                }
                let np = dp.ports[pidx].node_port;
                if let (Some(np), true) = (
                    np,
                    matches!(stype, ServiceType::NodePort | ServiceType::LoadBalancer),
                ) {
                    dp.node_port_numbers
                        .entry((np, protocol, family))
                        .or_insert(pidx);
                    // One entry per port, not per node address: a NodePort
                    // answers on every address of `node_port_ips`.
                    keys.push(IndexKey::NodePortNumber(np, protocol, family));
                }
            }
        }
        if is_lb
            && etp_local
            && let Some(hc) = spec
                .health_check_node_port
                .and_then(|p| u16::try_from(p).ok())
        {
            dp.health_checks.entry(hc).or_insert(svc_idx);
            keys.push(IndexKey::Health(hc));
        }
    }
    for slice in &slices {
        if let Some(slice_name) = &slice.metadata().name {
            dp.slice_owner
                .insert((ns.clone(), slice_name.clone()), name.clone());
        }
    }
    dp.service_by_name
        .insert((ns.clone(), name.clone()), svc_idx);
    dp.services.push(SvcInfo {
        namespace: ns,
        name,
        kind,
        etp_local,
        affinity_timeout,
        source_ranges,
        ports: port_ids,
        keys,
        slices: slices
            .iter()
            .filter_map(|s| s.metadata().name.clone())
            .collect(),
    });
}

/// The addresses a node's NodePorts listen on in this mode (KP-15): with
/// `--nodeport-addresses` CIDRs, the InternalIPs inside them; otherwise
/// every InternalIP (iptables, ipvs) or the first of the family (nftables).
fn node_port_addresses(
    mode: ProxyMode,
    cidrs: Option<&[IpNet]>,
    ips: &[IpAddr],
    family: IpFamily,
) -> Vec<IpAddr> {
    let of_family = ips.iter().copied().filter(|ip| IpFamily::of(ip) == family);
    match (cidrs, mode) {
        (Some(cidrs), _) => of_family
            .filter(|ip| cidrs.iter().any(|c| c.contains(*ip)))
            .collect(),
        (None, ProxyMode::Nftables) => of_family.take(1).collect(),
        (None, _) => of_family.collect(),
    }
}

/// Rule EP-13: the endpoints kube-proxy reads for one Service port.
fn endpoints_for(
    slices: &[SliceView<'_>],
    port_name: &str,
    protocol: crate::api::Protocol,
    family: IpFamily,
) -> Vec<Ep> {
    // Every endpoint with its `ip:port` text, in slice order; a sorted list
    // rather than a map (issue 8: no map type of its own in the WASM module).
    let mut by_key: Vec<(String, Ep)> = Vec::new();
    for slice in slices {
        if family_of_address_type(slice.address_type()) != Some(family) {
            continue;
        }
        for sp in slice.ports() {
            let (Some(name), Some(number)) = (sp.name.as_deref().or(Some("")), sp.port) else {
                continue;
            };
            if name != port_name || sp.protocol.unwrap_or_default() != protocol {
                continue;
            }
            let Ok(number) = u16::try_from(number) else {
                continue;
            };
            if number == 0 {
                continue;
            }
            for ep in slice.endpoints() {
                let Some(ip) = ep
                    .addresses()
                    .next()
                    .and_then(|a| a.trim().parse::<IpAddr>().ok())
                else {
                    continue;
                };
                if IpFamily::of(&ip) != family {
                    continue;
                }
                let addr = SocketAddr::new(ip, number);
                let hints = ep.hints();
                let conditions = ep.conditions();
                let e = Ep {
                    addr,
                    ready: conditions.is_ready(),
                    serving: conditions.is_serving(),
                    terminating: conditions.is_terminating(),
                    node: ep.node_name().map(str::to_owned),
                    for_zones: hints
                        .as_ref()
                        .map(|h| h.for_zones.iter().map(|z| z.name.clone()).collect())
                        .unwrap_or_default(),
                    for_nodes: hints
                        .as_ref()
                        .map(|h| h.for_nodes.iter().map(|n| n.name.clone()).collect())
                        .unwrap_or_default(),
                };
                by_key.push((addr.to_string(), e));
            }
        }
    }
    // In `ip:port` string order; the sort is stable, so equal keys stay in
    // slice order: the first is kept unless it is terminating and a later
    // one is not.
    crate::order::sort_by(&mut by_key, |a, b| a.0.cmp(&b.0));
    let mut out: Vec<Ep> = Vec::with_capacity(by_key.len());
    let mut last: Option<String> = None;
    for (key, e) in by_key {
        if last.as_ref() == Some(&key) {
            if let Some(kept) = out.last_mut()
                && kept.terminating
                && !e.terminating
            {
                *kept = e;
            }
        } else {
            out.push(e);
            last = Some(key);
        }
    }
    out
}

/// An order-sensitive fingerprint of an endpoint list: what the IPVS
/// scheduler state of a virtual server is kept for.
fn fingerprint(eps: &[Ep]) -> u64 {
    let mut parts: Vec<String> = Vec::with_capacity(eps.len());
    for e in eps {
        parts.push(format!(
            "{}|{}{}{}|{}|{:?}|{:?}",
            e.addr,
            u8::from(e.ready),
            u8::from(e.serving),
            u8::from(e.terminating),
            e.node.as_deref().unwrap_or(""),
            e.for_zones,
            e.for_nodes
        ));
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    stable_hash(&refs)
}

/// The sizes of every eligible set of a port (KP-16 one-draw bounds).
fn set_sizes(sets: &Sets) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(sets.cluster.len())
        .chain(sets.by_node.values().map(Vec::len))
        .chain(sets.by_zone.values().map(Vec::len))
        .chain(sets.local.values().map(|(v, _)| v.len()))
}

/// Rule KP-4 (with KP-6 and KP-11) for every node at once.
pub(super) fn categorize(eps: &[Ep]) -> Sets {
    let ready: Vec<&Ep> = eps.iter().filter(|e| e.ready).collect();
    let serving_terminating = |e: &Ep| !e.ready && e.serving && e.terminating;
    let mut sets = Sets {
        has_any: eps.iter().any(|e| e.ready || (e.serving && e.terminating)),
        ..Sets::default()
    };
    if ready.is_empty() {
        sets.fallback = true;
        sets.cluster = eps
            .iter()
            .filter(|e| serving_terminating(e))
            .map(|e| e.addr)
            .collect();
    } else {
        if ready.iter().all(|e| !e.for_nodes.is_empty()) {
            for e in &ready {
                for n in &e.for_nodes {
                    let list = sets.by_node.entry(n.clone()).or_default();
                    if !list.contains(&e.addr) {
                        list.push(e.addr);
                    }
                }
            }
        }
        if ready.iter().all(|e| !e.for_zones.is_empty()) {
            for e in &ready {
                for z in &e.for_zones {
                    let list = sets.by_zone.entry(z.clone()).or_default();
                    if !list.contains(&e.addr) {
                        list.push(e.addr);
                    }
                }
            }
        }
        sets.cluster = ready.iter().map(|e| e.addr).collect();
    }
    for e in eps {
        let Some(node) = &e.node else { continue };
        let entry = sets.local.entry(node.clone()).or_insert((Vec::new(), true));
        if e.ready {
            if entry.1 {
                // The first ready endpoint on the node replaces the fallback.
                entry.0.clear();
                entry.1 = false;
            }
            entry.0.push(e.addr);
        } else if entry.1 && e.serving && e.terminating {
            entry.0.push(e.addr);
        }
    }
    sets.local.retain(|_, (v, _)| !v.is_empty());
    sets
}

#[cfg(test)]
pub(super) mod tests_support {
    use super::super::{Ep, Sets};
    use super::categorize;

    /// Endpoints from (ready, serving, terminating, node, zone hints).
    pub(in crate::dataplane) fn categorize_for_test(
        eps: &[(bool, bool, bool, &str, &[&str])],
    ) -> Sets {
        let eps: Vec<Ep> = eps
            .iter()
            .enumerate()
            .map(|(i, (ready, serving, terminating, node, zones))| Ep {
                addr: std::net::SocketAddr::from(([10, 0, 0, i as u8], 80)),
                ready: *ready,
                serving: *serving,
                terminating: *terminating,
                node: Some((*node).to_owned()),
                for_zones: zones.iter().map(|z| (*z).to_owned()).collect(),
                for_nodes: Vec::new(),
            })
            .collect();
        categorize(&eps)
    }
}
