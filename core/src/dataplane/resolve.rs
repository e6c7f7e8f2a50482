//! Rule KP-2: a DNS-name destination, resolved by the cluster DNS
//! ([`crate::dns`]) as the source sees it: a pod walks its search path
//! (`<ns>.svc.<zone> svc.<zone> <zone>`, ndots 5) as glibc does; a node or
//! an external client asks the name as written, absolute.

use std::net::{IpAddr, SocketAddr};

use super::{Dataplane, Decision, Outcome, RouteState, Source, SvcKind};
use crate::dns::{
    Dns, ExternalRecords, Outcome as DnsOutcome, RData, RecordType, Resolver, SearchClient, Sent,
    Walk,
};
use crate::ipam::IpFamily;

/// The records of `qtype` in an answer section, as addresses.
fn addresses(records: &[crate::dns::Record]) -> impl Iterator<Item = IpAddr> + '_ {
    records.iter().filter_map(|r| match &r.data {
        RData::A(a) => Some(IpAddr::V4(*a)),
        RData::Aaaa(a) => Some(IpAddr::V6(*a)),
        _ => None,
    })
}

/// One lookup as `source` makes it.
fn walk(dns: &Dns, source: &Source, name: &str, qtype: RecordType) -> Walk {
    let none = ExternalRecords::default();
    if let Source::Pod { namespace, .. } = source {
        return dns.search(
            &SearchClient::new(namespace.clone()),
            name,
            qtype,
            Resolver::Glibc,
            &none,
        );
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

impl Dataplane {
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
        let mut found = walk(dns, source, name, qtypes[0]);
        for &qtype in &qtypes[1..] {
            if found.result == DnsOutcome::Answer {
                break;
            }
            found = walk(dns, source, name, qtype);
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
