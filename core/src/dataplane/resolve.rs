//! Rule KP-2: a DNS-name destination, resolved as the source sees it.
//!
//! A pod walks its search path as glibc does, written from its `dnsPolicy`
//! and `dnsConfig` (dns.md section 12), and asks the first nameserver of
//! its resolv.conf (glibc moves to the next one only when a server fails,
//! never on NXDOMAIN):
//!
//! * `ClusterFirst` (off the host network) and `ClusterFirstWithHostNet`:
//!   the cluster DNS, search `<ns>.svc.<zone> svc.<zone> <zone>` then
//!   `dnsConfig.searches`, ndots 5 (`dnsConfig` ndots overrides);
//! * `Default`, and `ClusterFirst` on the host network: the node's
//!   resolv.conf, whose nameservers come first. They are not the cluster
//!   DNS, so no cluster name resolves (NXDOMAIN: `no-such-service`), not
//!   even a fully qualified one;
//! * `None`: only `dnsConfig`: when its first nameserver is the cluster DNS
//!   the walk is over `dnsConfig.searches` with ndots 1 (or its own
//!   ndots); any other first nameserver knows no cluster name.
//!
//! The cluster DNS listens on the cluster IPs and the endpoint IPs of its
//! Service ([`crate::dns::DnsConfig::dns_service`], `kube-system/kube-dns`);
//! a cluster without that Service is taken to use the installers' address,
//! the 10th of the service CIDR (10.96.0.10 for 10.96.0.0/12, ALLOC-3).
//!
//! Not expressible with the conformance vocabulary (and so not modelled):
//! the node's own resolv.conf (its nameservers, search domains, options)
//! and what its resolver answers for names outside the cluster, a node
//! resolver that forwards the cluster zone to the cluster DNS (node-local
//! caches), and failover to a second nameserver. A node or an external
//! client asks the name as written, absolute, of the cluster DNS.

use std::net::{IpAddr, SocketAddr};

use super::front::VipKey;
use super::{
    Dataplane, Decision, FrontKind, IndexKey, Outcome, PodDns, PodDnsPolicy, RouteState, Source,
    SvcKind,
};
use crate::dns::{
    Dns, ExternalRecords, Outcome as DnsOutcome, RData, RecordType, Resolver, SearchClient, Sent,
    Walk,
};
use crate::ipam::{IpFamily, IpNet};
use crate::table_hash::NamePair;

/// The records of `qtype` in an answer section, as addresses.
fn addresses(records: &[crate::dns::Record]) -> impl Iterator<Item = IpAddr> + '_ {
    records.iter().filter_map(|r| match &r.data {
        RData::A(a) => Some(IpAddr::V4(*a)),
        RData::Aaaa(a) => Some(IpAddr::V6(*a)),
        _ => None,
    })
}

/// One lookup as `source` makes it; `pod` is the source pod's resolver
/// configuration when the source is a known pod, and whether its first
/// nameserver is the cluster DNS.
fn walk(
    dns: &Dns,
    source: &Source,
    pod: Option<(&PodDns, bool)>,
    name: &str,
    qtype: RecordType,
) -> Walk {
    let none = ExternalRecords::default();
    if let Source::Pod { namespace, .. } = source {
        match pod {
            Some((p, cluster_dns)) if p.policy != PodDnsPolicy::Cluster => {
                // Default / None: no cluster search list; glibc's ndots 1
                // unless dnsConfig says otherwise.
                let ndots = p.ndots.unwrap_or(1);
                return if cluster_dns {
                    custom_walk(dns, &p.searches, ndots, name, qtype)
                } else {
                    outside_walk(&p.searches, ndots, name, qtype)
                };
            }
            _ => {
                let pod = pod.map(|(p, _)| p);
                let mut client = SearchClient::new(namespace.clone())
                    .with_host_search(pod.map(|p| p.searches.clone()).unwrap_or_default());
                if let Some(n) = pod.and_then(|p| p.ndots) {
                    client.ndots = n;
                }
                return dns.search(&client, name, qtype, Resolver::Glibc, &none);
            }
        }
    }
    let fq = if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    };
    let a = dns.resolve(&fq, qtype, &none);
    let result = match a.outcome {
        DnsOutcome::Answer | DnsOutcome::NoData => a.outcome,
        _ => DnsOutcome::NxDomain,
    };
    Walk {
        candidates: vec![fq.clone()],
        sent: vec![Sent {
            qname: fq.clone(),
            outcome: result,
        }],
        answered_by: (result == DnsOutcome::Answer).then_some(fq),
        result,
        answer: a.answer,
    }
}

/// glibc's walk asked of a nameserver that is not the cluster DNS: it
/// knows no cluster name and the model knows no other, so every candidate
/// is NXDOMAIN.
fn outside_walk(list: &[String], ndots: u32, name: &str, qtype: RecordType) -> Walk {
    let candidates = Resolver::Glibc.candidates(name, list, ndots, qtype);
    Walk {
        sent: candidates
            .iter()
            .map(|c| Sent {
                qname: c.clone(),
                outcome: DnsOutcome::NxDomain,
            })
            .collect(),
        candidates,
        answered_by: None,
        result: DnsOutcome::NxDomain,
        answer: Vec::new(),
    }
}

/// glibc's walk over a search list of the pod's own (`dnsPolicy` Default
/// or None), asked of the cluster DNS (dns.md section 12).
fn custom_walk(dns: &Dns, list: &[String], ndots: u32, name: &str, qtype: RecordType) -> Walk {
    let none = ExternalRecords::default();
    dns.walk_list(list, ndots, name, qtype, Resolver::Glibc, &none)
}

/// The `n`th address of `net` (`None` beyond it).
fn nth_address(net: &IpNet, n: u32) -> Option<IpAddr> {
    let ip = match net.network() {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).checked_add(n)?.into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_add(u128::from(n))?.into()),
    };
    net.contains(ip).then_some(ip)
}

impl Dataplane {
    /// Is `ip` where the cluster DNS listens (see the module documentation)?
    fn is_cluster_dns(&self, ip: IpAddr) -> bool {
        let service = self
            .dns
            .as_ref()
            .and_then(|d| d.config().dns_service.as_ref())
            .and_then(|(ns, name)| {
                self.service_by_name
                    .get(&(ns.as_str(), name.as_str()) as &dyn NamePair)
            });
        let Some(&svc) = service else {
            // ALLOC-3: the installers' convention, the 10th address.
            return self
                .service_cidrs
                .iter()
                .any(|c| nth_address(c, 10) == Some(ip));
        };
        let s = &self.services[svc];
        let cluster_ip = s.keys.iter().any(|k| match *k {
            IndexKey::Vip(a, port, proto) => {
                a == ip
                    && self
                        .vips
                        .get(&VipKey::new(a, port, proto))
                        .is_some_and(|f| f.kind == FrontKind::ClusterIp)
            }
            _ => false,
        });
        cluster_ip
            || s.ports
                .iter()
                .any(|&p| self.ports[p].eps.iter().any(|e| e.addr.ip() == ip))
    }

    /// The Service a cluster DNS name `<svc>.<ns>.svc.<zone>.` names.
    fn service_named(&self, fqdn: &str) -> Option<usize> {
        let lower = fqdn.trim_end_matches('.').to_ascii_lowercase();
        let rest = lower.strip_suffix(&format!(".svc.{}", self.cluster_domain))?;
        let (svc, ns) = rest.split_once('.')?;
        if ns.contains('.') {
            return None;
        }
        self.service_by_name
            .get(&(ns.to_owned(), svc.to_owned()))
            .copied()
    }

    /// Resolves a DNS destination: `Some(address)` to route on, or `None`
    /// when `d` already holds the outcome (NXDOMAIN, a CNAME, a headless
    /// Service's direct pod address).
    pub(super) fn resolve_destination(
        &self,
        source: &Source,
        name: &str,
        port: u16,
        family: Option<IpFamily>,
        state: &mut RouteState,
        d: &mut Decision,
    ) -> Option<SocketAddr> {
        let Some(dns) = &self.dns else {
            d.hop(Some("KP-2"), format!("{name}: no cluster DNS"));
            d.end(Outcome::NoSuchService, None);
            return None;
        };
        let qtypes: &[RecordType] = match family {
            Some(IpFamily::V4) => &[RecordType::A],
            Some(IpFamily::V6) => &[RecordType::Aaaa],
            None => &[RecordType::A, RecordType::Aaaa],
        };
        let pod = match source {
            Source::Pod { namespace, name } => self
                .pods
                .get(&(namespace.as_str(), name.as_str()) as &dyn NamePair)
                .map(|p| &p.dns),
            _ => None,
        };
        // Whose nameserver the pod asks (dns.md section 12).
        let pod = pod.map(|p| {
            let first = p.nameservers.first().copied();
            let cluster_dns = match p.policy {
                PodDnsPolicy::Cluster => true,
                PodDnsPolicy::Node => {
                    d.hop(
                        Some("KP-2"),
                        format!(
                            "dnsPolicy Default (or ClusterFirst on the host network): the node's nameservers come first and do not serve {}: no cluster name resolves",
                            self.cluster_domain
                        ),
                    );
                    false
                }
                PodDnsPolicy::Own => {
                    let ours = first.is_some_and(|ip| self.is_cluster_dns(ip));
                    let ns = first.map_or_else(|| "none".to_owned(), |ip| ip.to_string());
                    d.hop(
                        Some("KP-2"),
                        if ours {
                            format!("dnsPolicy None: nameserver {ns} is the cluster DNS; dnsConfig searches only")
                        } else {
                            format!("dnsPolicy None: nameserver {ns} is not the cluster DNS: no cluster name resolves")
                        },
                    );
                    ours
                }
            };
            (p, cluster_dns)
        });
        let mut found = walk(dns, source, pod, name, qtypes[0]);
        for &qtype in &qtypes[1..] {
            if found.result == DnsOutcome::Answer {
                break;
            }
            found = walk(dns, source, pod, name, qtype);
        }
        let tried: Vec<String> = found
            .sent
            .iter()
            .filter(|s| s.outcome != DnsOutcome::Answer)
            .map(|s| format!("{} {}", s.qname, s.outcome.as_str().to_ascii_uppercase()))
            .collect();
        if !tried.is_empty() {
            d.hop(Some("KP-2"), format!("tried {}", tried.join(", ")));
        }
        let Some(fq) = found.answered_by.clone() else {
            d.hop(Some("KP-2"), format!("{name}: NXDOMAIN"));
            d.end(Outcome::NoSuchService, None);
            return None;
        };
        d.hop(Some("KP-2"), format!("{name} → {fq}"));
        let svc = self.service_named(&fq);
        if let Some(i) = svc {
            let s = &self.services[i];
            d.service = Some(format!("{}/{}", s.namespace, s.name));
        }
        if let Some(target) = found.answer.iter().find_map(|r| match &r.data {
            RData::Cname(t) => Some(t.trim_end_matches('.').to_owned()),
            _ => None,
        }) {
            d.hop(Some("KP-1"), format!("ExternalName: CNAME {target}"));
            d.cname = Some(target);
            d.end(Outcome::Cname, None);
            return None;
        }
        // The answers of both families (what `dnsAnswers` reports).
        let mut answers: Vec<IpAddr> = addresses(&found.answer).collect();
        let other = if answers.first().is_some_and(IpAddr::is_ipv4) {
            RecordType::Aaaa
        } else {
            RecordType::A
        };
        if let Ok(more) = dns.query(&fq, other) {
            answers.extend(addresses(&more.answer));
        }
        let fam = family.unwrap_or_else(|| {
            if answers.iter().any(IpAddr::is_ipv4) {
                IpFamily::V4
            } else {
                IpFamily::V6
            }
        });
        let of_family: Vec<IpAddr> = answers
            .iter()
            .copied()
            .filter(|ip| IpFamily::of(ip) == fam)
            .collect();
        d.dns_answers = answers;
        let proxied = match svc.map(|i| &self.services[i].kind) {
            Some(SvcKind::Proxied) => true,
            Some(_) => false,
            None => of_family.iter().any(|ip| self.vip_addrs.contains_key(ip)),
        };
        if proxied {
            let Some(ip) = of_family.first() else {
                d.hop(Some("KP-2"), format!("no {} address", fam.as_str()));
                d.end(Outcome::NoSuchService, None);
                return None;
            };
            return Some(SocketAddr::new(*ip, port));
        }
        d.hop(
            Some("KP-1"),
            "headless Service: no proxy rules; the client dials a pod IP",
        );
        let mut eps: Vec<SocketAddr> = of_family
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        crate::order::sort_by_key(&mut eps, ToString::to_string);
        if eps.is_empty() {
            d.end(Outcome::NoSuchService, None);
            return None;
        }
        d.chosen = Some(eps[state.below(eps.len())]);
        d.endpoints = eps;
        d.end(Outcome::Direct, None);
        None
    }
}
