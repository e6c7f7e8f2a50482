//! The pod resolver's search-list walk (`dns.md` section 12).

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::record::fqdn;
use super::{Answer, Dns, Outcome, RData, Record, RecordType};

/// The largest `ndots` glibc and musl honour (`RES_MAXNDOTS`).
pub const MAX_NDOTS: u32 = 15;

/// A pod as its resolver sees DNS: `dnsPolicy: ClusterFirst` in a
/// namespace, with the node's search domains and `ndots`.
///
/// ```
/// use svcroute::dns::SearchClient;
/// let c = SearchClient::new("shop").with_host_search(["corp.example", "svc.cluster.local"]);
/// assert_eq!(c.ndots, 5);
/// assert_eq!(c.search_list("cluster.local."),
///            ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchClient {
    /// The pod's namespace.
    pub namespace: String,
    /// resolv.conf `ndots` (5 unless the pod's `dnsConfig` changed it;
    /// values above [`MAX_NDOTS`] count as 15).
    pub ndots: u32,
    /// The node's own search domains, appended by the kubelet.
    pub host_search: Vec<String>,
}

impl SearchClient {
    /// A pod of this namespace with `ndots:5` and no node search domains.
    pub fn new(namespace: impl Into<String>) -> SearchClient {
        SearchClient {
            namespace: namespace.into(),
            ndots: 5,
            host_search: Vec::new(),
        }
    }

    /// The same client with these node search domains.
    pub fn with_host_search<I, S>(mut self, domains: I) -> SearchClient
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.host_search = domains.into_iter().map(Into::into).collect();
        self
    }

    /// The kubelet's search list: `<ns>.svc.<zone>`, `svc.<zone>`, `<zone>`,
    /// then the node's domains, duplicates dropped (written without the
    /// trailing dot, as in resolv.conf).
    pub fn search_list(&self, zone: &str) -> Vec<String> {
        let zone = zone.trim_end_matches('.');
        let mut out: Vec<String> = Vec::new();
        let first = [
            format!("{}.svc.{zone}", self.namespace),
            format!("svc.{zone}"),
            zone.to_owned(),
        ];
        for d in first.into_iter().chain(
            self.host_search
                .iter()
                .map(|d| d.trim_end_matches('.').to_owned()),
        ) {
            if !d.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&d)) {
                out.push(d);
            }
        }
        out
    }
}

/// Which resolver library walks the search list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// glibc `res_search`: every query type searches; NODATA moves on.
    Glibc,
    /// musl: no search at `ndots` dots or more, a NODATA ends the walk, and
    /// only address lookups search.
    Musl,
}

impl Resolver {
    /// The names this resolver tries, in order (FQDNs with trailing dot).
    ///
    /// ```
    /// use svcroute::dns::{RecordType, Resolver};
    /// let list = ["shop.svc.cluster.local".to_string(), "svc.cluster.local".into()];
    /// assert_eq!(Resolver::Glibc.candidates("web", &list, 5, RecordType::A),
    ///            ["web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web."]);
    /// assert_eq!(Resolver::Musl.candidates("_http._tcp.web", &list, 5, RecordType::Srv),
    ///            ["_http._tcp.web."]);
    /// assert_eq!(Resolver::Glibc.candidates("a.b.c.d.e.f", &list, 5, RecordType::A)[0], "a.b.c.d.e.f.");
    /// ```
    pub fn candidates(
        self,
        name: &str,
        search_list: &[String],
        ndots: u32,
        qtype: RecordType,
    ) -> Vec<String> {
        if name.is_empty() {
            return Vec::new();
        }
        if name.ends_with('.') {
            return vec![name.to_owned()];
        }
        let dots = u32::try_from(name.matches('.').count()).unwrap_or(u32::MAX);
        // Both libraries cap `ndots` at 15 when they read resolv.conf.
        let ndots = ndots.min(MAX_NDOTS);
        let searched = search_list.iter().map(|d| format!("{name}.{d}."));
        match self {
            Resolver::Glibc if dots >= ndots => {
                std::iter::once(fqdn(name)).chain(searched).collect()
            }
            Resolver::Glibc => searched.chain(std::iter::once(fqdn(name))).collect(),
            Resolver::Musl
                if dots >= ndots || !matches!(qtype, RecordType::A | RecordType::Aaaa) =>
            {
                vec![fqdn(name)]
            }
            Resolver::Musl => searched.chain(std::iter::once(fqdn(name))).collect(),
        }
    }
}

/// The addresses of one name outside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExternalRecord {
    /// Its A record.
    pub a: Option<Ipv4Addr>,
    /// Its AAAA record.
    pub aaaa: Option<Ipv6Addr>,
    /// The TTL of both.
    pub ttl: u32,
}

/// The DNS outside the cluster, as a table: a listed name with a record of
/// the asked type answers it, a listed name without one is NODATA, any other
/// name is NXDOMAIN.
///
/// ```
/// use svcroute::dns::{ExternalRecord, ExternalRecords, Outcome, RecordType};
/// let mut ext = ExternalRecords::default();
/// ext.insert("www.example.com", ExternalRecord { a: Some("198.51.100.7".parse()?), aaaa: None, ttl: 300 });
/// assert_eq!(ext.lookup("WWW.example.com.", RecordType::A).answer[0].to_string(),
///            "WWW.example.com. 300 IN A 198.51.100.7");
/// assert_eq!(ext.lookup("www.example.com.", RecordType::Aaaa).outcome, Outcome::NoData);
/// assert_eq!(ext.lookup("example.org.", RecordType::A).outcome, Outcome::NxDomain);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalRecords {
    names: HashMap<String, ExternalRecord>,
}

impl ExternalRecords {
    /// Adds (or replaces) a name.
    pub fn insert(&mut self, name: &str, record: ExternalRecord) {
        self.names.insert(fqdn(&name.to_ascii_lowercase()), record);
    }

    /// The answer of the outside DNS.
    pub fn lookup(&self, name: &str, qtype: RecordType) -> Answer {
        let mut out = Answer {
            outcome: Outcome::NxDomain,
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            chase: Vec::new(),
        };
        let owner = fqdn(name);
        let Some(rec) = self.names.get(&owner.to_ascii_lowercase()) else {
            return out;
        };
        let data = match qtype {
            RecordType::A => rec.a.map(RData::A),
            RecordType::Aaaa => rec.aaaa.map(RData::Aaaa),
            _ => None,
        };
        match data {
            Some(d) => {
                out.outcome = Outcome::Answer;
                out.answer.push(Record::new(owner, rec.ttl, d));
            }
            None => out.outcome = Outcome::NoData,
        }
        out
    }
}

/// One query a resolver sent during a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The name asked (FQDN).
    pub qname: String,
    /// What it came to: answer, NODATA or NXDOMAIN.
    pub outcome: Outcome,
}

/// A search-list walk: what a resolver tried, and what the program got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The names the resolver would try, in order.
    pub candidates: Vec<String>,
    /// The queries actually sent, in order (the walk stops early).
    pub sent: Vec<Sent>,
    /// The candidate that answered.
    pub answered_by: Option<String>,
    /// What the program sees: [`Outcome::Answer`], [`Outcome::NoData`] or
    /// [`Outcome::NxDomain`].
    pub result: Outcome,
    /// The answering candidate's records.
    pub answer: Vec<Record>,
}

impl Dns {
    /// One name resolved by the cluster DNS, or outside it: names the
    /// cluster passes on are answered by `external`, and the ExternalName
    /// targets an answer chases are appended from it.
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig, ExternalRecords, Outcome, RecordType};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let a = dns.resolve("example.com.", RecordType::A, &ExternalRecords::default());
    /// assert_eq!(a.outcome, Outcome::NxDomain);
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn resolve(&self, name: &str, qtype: RecordType, external: &ExternalRecords) -> Answer {
        let mut answer = match self.query(name, qtype) {
            Ok(a) => a,
            Err(_) => return external.lookup("", qtype),
        };
        if answer.outcome == Outcome::Passthrough {
            return external.lookup(name, qtype);
        }
        for chase in &answer.chase {
            let more = external.lookup(&chase.name, chase.qtype);
            answer.answer.extend(more.answer);
        }
        answer
    }

    /// The walk a resolver makes for a name typed in a pod (a single query
    /// type, as `res_search` does; README section 10.7).
    ///
    /// ```
    /// use svcroute::dns::{Dns, DnsConfig, ExternalRecords, Outcome, RecordType, Resolver, SearchClient};
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let walk = dns.search(&SearchClient::new("shop"), "kubernetes.default", RecordType::A,
    ///                       Resolver::Glibc, &ExternalRecords::default());
    /// assert_eq!(walk.sent.len(), 2);
    /// assert_eq!(walk.answered_by.as_deref(), Some("kubernetes.default.svc.cluster.local."));
    /// assert_eq!(walk.result, Outcome::Answer);
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn search(
        &self,
        client: &SearchClient,
        name: &str,
        qtype: RecordType,
        resolver: Resolver,
        external: &ExternalRecords,
    ) -> Walk {
        let list = client.search_list(&self.config.zone);
        self.walk_list(&list, client.ndots, name, qtype, resolver, external)
    }

    /// [`Dns::search`] over a search list and `ndots` given as they are
    /// (a pod's own `dnsConfig`, `dnsPolicy` None or Default) rather than
    /// derived from a [`SearchClient`].
    pub(crate) fn walk_list(
        &self,
        list: &[String],
        ndots: u32,
        name: &str,
        qtype: RecordType,
        resolver: Resolver,
        external: &ExternalRecords,
    ) -> Walk {
        let candidates = resolver.candidates(name, list, ndots, qtype);
        let as_typed_first = name.ends_with('.')
            || u32::try_from(name.matches('.').count()).unwrap_or(u32::MAX) >= ndots.min(MAX_NDOTS);
        let mut walk = Walk {
            candidates: candidates.clone(),
            sent: Vec::new(),
            answered_by: None,
            result: Outcome::NxDomain,
            answer: Vec::new(),
        };
        let mut any_nodata = false;
        for c in &candidates {
            let a = self.resolve(c, qtype, external);
            let outcome = match a.outcome {
                Outcome::Answer | Outcome::NoData => a.outcome,
                _ => Outcome::NxDomain,
            };
            walk.sent.push(Sent {
                qname: c.clone(),
                outcome,
            });
            match outcome {
                Outcome::Answer => {
                    walk.answered_by = Some(c.clone());
                    walk.result = Outcome::Answer;
                    walk.answer = a.answer;
                    return walk;
                }
                Outcome::NoData => {
                    any_nodata = true;
                    if resolver == Resolver::Musl {
                        walk.result = Outcome::NoData;
                        return walk;
                    }
                }
                _ => {}
            }
        }
        walk.result = match resolver {
            Resolver::Glibc if as_typed_first => {
                walk.sent.first().map_or(Outcome::NxDomain, |s| s.outcome)
            }
            _ if any_nodata => Outcome::NoData,
            _ => Outcome::NxDomain,
        };
        walk
    }
}
