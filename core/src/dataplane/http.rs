//! HTTP front doors: Ingress (rules ING-1 … ING-7) and Gateway API
//! HTTPRoute precedence (GW-1). Both send traffic straight to the backend
//! Service's ready endpoints (no kube-proxy: no traffic policy, no affinity).

use std::net::SocketAddr;

use super::{
    Dataplane, Decision, GatewayRequest, HttpAnswer, HttpPick, IngressMatch, IngressRequest,
    Outcome, PortInfo, RouteError, RouteMatch, RouteState, SvcKind, TlsTermination,
};
use crate::api::{IngressBackend, Kind, Object, PathMatchType, PathType};
use crate::cluster::Cluster;
use crate::labels::Selector;
use crate::table_hash::{FastMap, NamePair};

#[derive(Debug, Clone, Default)]
pub(super) struct IngressTable {
    /// (class name, controller).
    classes: Vec<(String, String)>,
    /// Ordered oldest first (creationTimestamp, then namespace/name).
    ingresses: Vec<IngInfo>,
    /// controller → its host index.
    by_controller: FastMap<String, HostIndex>,
}

/// The rules one controller serves, indexed by host (ING-2). Entries are
/// (ingress, rule) indices in Ingress order, then rule order.
#[derive(Debug, Clone, Default)]
struct HostIndex {
    /// The classes of this controller.
    classes: Vec<String>,
    /// Served Ingresses, oldest first.
    served: Vec<usize>,
    precise: FastMap<String, Vec<(usize, usize)>>,
    /// `*.suffix` rules by suffix.
    wildcard: FastMap<String, Vec<(usize, usize)>>,
    hostless: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct IngInfo {
    created: String,
    namespace: String,
    name: String,
    class: Option<String>,
    default_backend: Option<Backend>,
    rules: Vec<RuleInfo>,
    tls: Vec<(Vec<String>, Option<String>)>,
}

#[derive(Debug, Clone)]
struct RuleInfo {
    /// Lowercased; `None` = host-less.
    host: Option<String>,
    paths: Vec<PathInfo>,
}

#[derive(Debug, Clone)]
struct PathInfo {
    path: String,
    path_type: PathType,
    backend: Backend,
}

#[derive(Debug, Clone)]
struct Backend {
    service: String,
    port_number: Option<i32>,
    port_name: Option<String>,
}

fn backend(b: &IngressBackend) -> Option<Backend> {
    let s = b.service.as_ref()?;
    Some(Backend {
        service: s.name.clone(),
        port_number: s.port.as_ref().and_then(|p| p.number),
        port_name: s.port.as_ref().and_then(|p| p.name.clone()),
    })
}

#[derive(Debug, Clone, Default)]
pub(super) struct GatewayTable {
    gateways: Vec<GwInfo>,
    routes: Vec<RouteInfo>,
}

/// (name, hostname, port, namespaces whose routes may attach: `None` = all).
type Listener = (String, Option<String>, i32, Option<Vec<String>>);

#[derive(Debug, Clone)]
struct GwInfo {
    namespace: String,
    name: String,
    listeners: Vec<Listener>,
}

#[derive(Debug, Clone)]
struct RouteInfo {
    namespace: String,
    name: String,
    created: String,
    /// (namespace, name, sectionName, port).
    parents: Vec<(String, String, Option<String>, Option<i32>)>,
    hostnames: Vec<String>,
    rules: Vec<GwRule>,
}

#[derive(Debug, Clone)]
struct GwRule {
    matches: Vec<GwMatch>,
    /// (namespace, service, port, weight).
    backends: Vec<(String, String, Option<i32>, i32)>,
}

#[derive(Debug, Clone)]
struct GwMatch {
    exact: bool,
    regex: bool,
    path: String,
    method: Option<String>,
    headers: Vec<(String, String, bool)>,
    query: Vec<(String, String, bool)>,
}

pub(super) fn compile(dp: &mut Dataplane, cluster: &Cluster) {
    let everything = Selector::everything();
    let mut defaults: Vec<(String, String)> = Vec::new(); // (created, name)
    for o in cluster.list_stored(Kind::IngressClass, None, &everything) {
        let Object::IngressClass(c) = o else { continue };
        let Some(name) = c.metadata.name.clone() else {
            continue;
        };
        if c.is_default_class() {
            defaults.push((
                c.metadata.creation_timestamp.clone().unwrap_or_default(),
                name.clone(),
            ));
        }
        dp.ingress
            .classes
            .push((name, c.spec.controller.clone().unwrap_or_default()));
    }
    // ING-1: with several defaults the newest wins, ties broken by name.
    crate::order::sort_by(&mut defaults, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let default_class = defaults.first().map(|d| d.1.clone());

    let mut ings: Vec<(String, IngInfo)> = Vec::new();
    for o in cluster.list_stored(Kind::Ingress, None, &everything) {
        let Object::Ingress(i) = o else { continue };
        let (Some(ns), Some(name)) = (i.metadata.namespace.clone(), i.metadata.name.clone()) else {
            continue;
        };
        let class = i
            .spec
            .ingress_class_name
            .clone()
            .or_else(|| {
                i.metadata
                    .annotations
                    .get("kubernetes.io/ingress.class")
                    .cloned()
            })
            .or_else(|| default_class.clone());
        let rules = i
            .spec
            .rules
            .iter()
            .map(|r| RuleInfo {
                host: r
                    .host
                    .as_ref()
                    .filter(|h| !h.is_empty())
                    .map(|h| h.to_ascii_lowercase()),
                paths: r
                    .http
                    .iter()
                    .flat_map(|h| h.paths.iter())
                    .filter_map(|p| {
                        Some(PathInfo {
                            path: p.path.clone().unwrap_or_else(|| "/".to_owned()),
                            path_type: p.path_type.unwrap_or(PathType::ImplementationSpecific),
                            backend: backend(&p.backend)?,
                        })
                    })
                    .collect(),
            })
            .collect();
        let info = IngInfo {
            created: i.metadata.creation_timestamp.clone().unwrap_or_default(),
            namespace: ns,
            name,
            class,
            default_backend: i.spec.default_backend.as_ref().and_then(backend),
            rules,
            tls: i
                .spec
                .tls
                .iter()
                .map(|t| {
                    (
                        t.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                        t.secret_name.clone(),
                    )
                })
                .collect(),
        };
        ings.push((
            i.metadata.creation_timestamp.clone().unwrap_or_default(),
            info,
        ));
    }
    crate::order::sort_by(&mut ings, |a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.namespace.cmp(&b.1.namespace))
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
    dp.ingress.ingresses = ings.into_iter().map(|(_, i)| i).collect();
    let mut by_controller: FastMap<String, HostIndex> = FastMap::default();
    for (class, controller) in &dp.ingress.classes {
        by_controller
            .entry(controller.clone())
            .or_default()
            .classes
            .push(class.clone());
    }
    for (ii, ing) in dp.ingress.ingresses.iter().enumerate() {
        let Some(class) = &ing.class else { continue };
        let Some(idx) = by_controller
            .values_mut()
            .find(|h| h.classes.contains(class))
        else {
            continue;
        };
        idx.served.push(ii);
        for (ri, rule) in ing.rules.iter().enumerate() {
            match rule.host.as_deref() {
                None => idx.hostless.push((ii, ri)),
                Some(h) => match h.strip_prefix("*.") {
                    Some(suffix) => idx
                        .wildcard
                        .entry(suffix.to_owned())
                        .or_default()
                        .push((ii, ri)),
                    None => idx.precise.entry(h.to_owned()).or_default().push((ii, ri)),
                },
            }
        }
    }
    dp.ingress.by_controller = by_controller;

    for o in cluster.list_stored(Kind::Gateway, None, &everything) {
        let Object::Gateway(g) = o else { continue };
        let (Some(ns), Some(name)) = (g.metadata.namespace.clone(), g.metadata.name.clone()) else {
            continue;
        };
        let listeners = g
            .spec
            .listeners
            .iter()
            .map(|l| {
                // allowedRoutes.namespaces: Same (default), All, or Selector
                // over the Namespaces' labels.
                let from = l
                    .allowed_routes
                    .as_ref()
                    .and_then(|a| a.namespaces.as_ref());
                let allowed = match from.and_then(|n| n.from) {
                    Some(crate::api::FromNamespaces::All) => None,
                    Some(crate::api::FromNamespaces::Selector) => {
                        let selector = from
                            .and_then(|n| n.selector.as_ref())
                            .and_then(|s| s.to_selector().ok());
                        Some(match selector {
                            Some(sel) => cluster
                                .list_stored(Kind::Namespace, None, &sel)
                                .into_iter()
                                .filter_map(|o| o.metadata().name.clone())
                                .collect(),
                            None => Vec::new(),
                        })
                    }
                    _ => Some(vec![ns.clone()]),
                };
                (
                    l.name.clone(),
                    l.hostname.as_ref().map(|h| h.to_ascii_lowercase()),
                    l.port,
                    allowed,
                )
            })
            .collect();
        dp.gateways.gateways.push(GwInfo {
            namespace: ns,
            name,
            listeners,
        });
    }
    for o in cluster.list_stored(Kind::HTTPRoute, None, &everything) {
        let Object::HTTPRoute(r) = o else { continue };
        let (Some(ns), Some(name)) = (r.metadata.namespace.clone(), r.metadata.name.clone()) else {
            continue;
        };
        let parents = r
            .spec
            .parent_refs
            .iter()
            .filter(|p| p.kind.as_deref().is_none_or(|k| k == "Gateway"))
            .map(|p| {
                (
                    p.namespace.clone().unwrap_or_else(|| ns.clone()),
                    p.name.clone(),
                    p.section_name.clone(),
                    p.port,
                )
            })
            .collect();
        let rules = r
            .spec
            .rules
            .iter()
            .map(|rule| {
                let mut matches: Vec<GwMatch> = rule
                    .matches
                    .iter()
                    .map(|m| {
                        let (exact, regex, path) = match &m.path {
                            None => (false, false, "/".to_owned()),
                            Some(p) => (
                                p.type_ == Some(PathMatchType::Exact),
                                p.type_ == Some(PathMatchType::RegularExpression),
                                p.value.clone().unwrap_or_else(|| "/".to_owned()),
                            ),
                        };
                        GwMatch {
                            exact,
                            regex,
                            path,
                            method: m.method.map(|x| x.as_str().to_owned()),
                            headers: m
                                .headers
                                .iter()
                                .map(|h| {
                                    (
                                        h.name.to_ascii_lowercase(),
                                        h.value.clone(),
                                        h.type_
                                            == Some(crate::api::HeaderMatchType::RegularExpression),
                                    )
                                })
                                .collect(),
                            query: m
                                .query_params
                                .iter()
                                .map(|q| {
                                    (
                                        q.name.clone(),
                                        q.value.clone(),
                                        q.type_
                                            == Some(
                                                crate::api::QueryParamMatchType::RegularExpression,
                                            ),
                                    )
                                })
                                .collect(),
                        }
                    })
                    .collect();
                if matches.is_empty() {
                    matches.push(GwMatch {
                        exact: false,
                        regex: false,
                        path: "/".to_owned(),
                        method: None,
                        headers: Vec::new(),
                        query: Vec::new(),
                    });
                }
                GwRule {
                    matches,
                    backends: rule
                        .backend_refs
                        .iter()
                        .filter(|b| b.kind.as_deref().is_none_or(|k| k == "Service"))
                        .map(|b| {
                            (
                                b.namespace.clone().unwrap_or_else(|| ns.clone()),
                                b.name.clone(),
                                b.port,
                                b.weight.unwrap_or(1),
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        dp.gateways.routes.push(RouteInfo {
            namespace: ns,
            name,
            created: r.metadata.creation_timestamp.clone().unwrap_or_default(),
            parents,
            hostnames: r
                .spec
                .hostnames
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            rules,
        });
    }
}

/// `Host` header → lowercased host without `:port`.
pub(super) fn normalize_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    if h.starts_with('[') {
        return h
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
            .to_owned();
    }
    match h.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
        _ => h,
    }
    .trim_end_matches('.')
    .to_owned()
}

/// Element-wise prefix match on `/` segments (ING-3, GW-1).
pub(super) fn prefix_match(rule: &str, path: &str) -> bool {
    let rule = rule.trim_end_matches('/');
    if rule.is_empty() {
        return path.starts_with('/') || path.is_empty();
    }
    path == rule
        || path
            .strip_prefix(rule)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// ING-2: `*.foo.com` matches exactly one extra leading label.
pub(super) fn ingress_wildcard(rule: &str, host: &str) -> bool {
    let Some(suffix) = rule.strip_prefix("*.") else {
        return false;
    };
    host.strip_suffix(suffix)
        .and_then(|front| front.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

/// What the rules of one controller say about a request (ING-2 … ING-5).
enum IngressHit<'a> {
    /// The best path of the rules of the best host tier.
    Rule(&'a IngInfo, &'a RuleInfo, &'a PathInfo),
    /// No path matched: this Ingress's defaultBackend.
    Default(&'a IngInfo, &'a Backend),
    /// The controller's 404.
    NotFound,
}

/// Already lower case, without a port, a bracket or a trailing dot: a
/// `Host` header [`normalize_host`] would return unchanged.
fn plain_host(host: &str) -> bool {
    !host.ends_with('.')
        && host.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'*'
        })
}

impl Dataplane {
    /// ING-2 … ING-5 for a normalized host and a path: precise hosts, then
    /// wildcards (one extra label), then host-less rules; the first tier
    /// with rules decides. Within it Exact beats Prefix, then the longest
    /// path. Without a matching path, the defaultBackend of the tier's
    /// oldest Ingress (for unknown hosts, of any served Ingress).
    fn match_ingress<'a>(&'a self, index: &'a HostIndex, host: &str, path: &str) -> IngressHit<'a> {
        let ings = &self.ingress.ingresses;
        let wildcard_key = host
            .split_once('.')
            .filter(|(label, _)| !label.is_empty())
            .map(|(_, suffix)| suffix);
        let tiers: [&[(usize, usize)]; 3] = [
            index.precise.get(host).map_or(&[], Vec::as_slice),
            wildcard_key
                .and_then(|k| index.wildcard.get(k))
                .map_or(&[], Vec::as_slice),
            &index.hostless,
        ];
        let mut best: Option<(bool, usize, &IngInfo, &RuleInfo, &PathInfo)> = None;
        let mut decided: Option<&[(usize, usize)]> = None;
        for tier in tiers {
            for &(ii, ri) in tier {
                let ing = &ings[ii];
                let rule = &ing.rules[ri];
                for p in &rule.paths {
                    let (ok, exact) = match p.path_type {
                        PathType::Exact => (p.path == path, true),
                        _ => (prefix_match(&p.path, path), false),
                    };
                    if !ok {
                        continue;
                    }
                    let len = p.path.trim_end_matches('/').len();
                    let better = match &best {
                        None => true,
                        Some((bx, bl, ..)) => (exact && !bx) || (exact == *bx && len > *bl),
                    };
                    if better {
                        best = Some((exact, len, ing, rule, p));
                    }
                }
            }
            if !tier.is_empty() {
                decided = Some(tier);
                break;
            }
        }
        if let Some((_, _, ing, rule, p)) = best {
            return IngressHit::Rule(ing, rule, p);
        }
        let fallback = match decided {
            None => index
                .served
                .iter()
                .map(|&i| &ings[i])
                .find(|i| i.default_backend.is_some()),
            // ingress-nginx: the Ingress that first created the host, ties
            // in reverse namespace/name order.
            Some(tier) => tier
                .iter()
                .map(|&(ii, _)| &ings[ii])
                .min_by(|a, b| {
                    a.created
                        .cmp(&b.created)
                        .then_with(|| (&b.namespace, &b.name).cmp(&(&a.namespace, &a.name)))
                })
                .filter(|i| i.default_backend.is_some()),
        };
        match fallback.and_then(|i| Some((i, i.default_backend.as_ref()?))) {
            Some((ing, b)) => IngressHit::Default(ing, b),
            None => IngressHit::NotFound,
        }
    }

    /// The hot path for an Ingress request: the same rules as
    /// [`route`](Self::route) with [`Destination::Ingress`](super::Destination::Ingress)
    /// (ING-1 … ING-6), without a trace and, for a lower-case `Host`
    /// without a port, without allocating. The endpoint is drawn from the
    /// backend Service port's ready endpoints with `state`'s random source.
    ///
    /// ```
    /// use svcroute::cluster::{Cluster, ClusterConfig, ProxyMode};
    /// use svcroute::dataplane::{Dataplane, HttpPick, IngressRequest, RouteState};
    /// let c = Cluster::new(ClusterConfig { bootstrap: false, ..Default::default() })?;
    /// let dp = Dataplane::compile(&c, ProxyMode::Iptables);
    /// let r = IngressRequest { controller: "k8s.io/ingress-nginx".into(), scheme: "http".into(),
    ///                          host: "shop.example.com".into(), path: "/".into() };
    /// assert_eq!(dp.ingress_pick(&r, &mut RouteState::new(0)), HttpPick::Status(404));
    /// # Ok::<(), svcroute::cluster::ClusterError>(())
    /// ```
    pub fn ingress_pick(&self, r: &IngressRequest, state: &mut RouteState) -> HttpPick {
        let Some(index) = self.ingress.by_controller.get(r.controller.as_str()) else {
            return HttpPick::Status(404);
        };
        let owned;
        let host = if plain_host(&r.host) {
            r.host.as_str()
        } else {
            owned = normalize_host(&r.host);
            owned.as_str()
        };
        let path = r.path.split('?').next().unwrap_or("");
        let (namespace, b) = match self.match_ingress(index, host, path) {
            IngressHit::Rule(ing, _, p) => (ing.namespace.as_str(), &p.backend),
            IngressHit::Default(ing, b) => (ing.namespace.as_str(), b),
            IngressHit::NotFound => return HttpPick::Status(404),
        };
        let Some(&idx) = self
            .service_by_name
            .get(&(namespace, b.service.as_str()) as &dyn NamePair)
        else {
            return HttpPick::Status(503);
        };
        let svc = &self.services[idx];
        if !matches!(svc.kind, SvcKind::Proxied) {
            return HttpPick::Status(503);
        }
        let hit = |p: &&PortInfo| match (b.port_number, b.port_name.as_deref()) {
            (Some(n), _) => i32::from(p.port) == n,
            (None, Some(nm)) => p.name == nm,
            (None, None) => svc.ports.len() == 1,
        };
        // Ready endpoints only: the cluster set unless it is the fallback.
        fn ready(p: &PortInfo) -> &[SocketAddr] {
            if p.sets.fallback {
                &[]
            } else {
                &p.sets.cluster
            }
        }
        let ports = || svc.ports.iter().map(|&i| &self.ports[i]).filter(hit);
        let total: usize = ports().map(|p| ready(p).len()).sum();
        if total == 0 {
            return HttpPick::Status(503);
        }
        let mut k = state.below(total);
        for p in ports() {
            let set = ready(p);
            if let Some(&addr) = set.get(k) {
                return HttpPick::Endpoint(addr);
            }
            k -= set.len();
        }
        HttpPick::Status(503)
    }

    /// The ready endpoints of a Service port (by number or name), as an
    /// Ingress controller or Gateway sends to them; `None` when there is no
    /// such Service or port.
    fn http_backend(
        &self,
        namespace: &str,
        service: &str,
        number: Option<i32>,
        name: Option<&str>,
    ) -> Option<(u16, Vec<SocketAddr>)> {
        let idx = *self
            .service_by_name
            .get(&(namespace, service) as &dyn NamePair)?;
        let svc = &self.services[idx];
        if !matches!(svc.kind, SvcKind::Proxied) {
            return None;
        }
        let mut found = None;
        let mut eps: Vec<SocketAddr> = Vec::new();
        for &pidx in &svc.ports {
            let p = &self.ports[pidx];
            let hit = match (number, name) {
                (Some(n), _) => i32::from(p.port) == n,
                (None, Some(nm)) => p.name == nm,
                (None, None) => svc.ports.len() == 1,
            };
            if hit {
                found = Some(p.port);
                eps.extend(p.eps.iter().filter(|e| e.ready).map(|e| e.addr));
            }
        }
        crate::order::sort_by_key(&mut eps, ToString::to_string);
        eps.dedup();
        found.map(|port| (port, eps))
    }

    fn http_answer(d: &mut Decision, status: u16) {
        d.http = Some(HttpAnswer {
            status,
            body: String::new(),
        });
        d.end(Outcome::Http, None);
    }

    fn deliver(
        &self,
        d: &mut Decision,
        state: &mut RouteState,
        found: Option<(u16, Vec<SocketAddr>)>,
        rule: &'static str,
    ) {
        match found {
            Some((_, eps)) if !eps.is_empty() => {
                d.chosen = Some(eps[state.below(eps.len())]);
                d.hop(Some(rule), format!("{} ready endpoint(s)", eps.len()));
                d.endpoints = eps;
                d.end(Outcome::Forward, None);
            }
            Some(_) => {
                d.hop(Some(rule), "the backend has no ready endpoint: 503");
                Self::http_answer(d, 503);
            }
            None => {
                d.hop(
                    Some(rule),
                    "the backend Service or port does not exist: 503",
                );
                Self::http_answer(d, 503);
            }
        }
    }

    pub(super) fn route_ingress(
        &self,
        r: &IngressRequest,
        state: &mut RouteState,
        mut d: Decision,
    ) -> Decision {
        let empty = HostIndex::default();
        let index = self
            .ingress
            .by_controller
            .get(&r.controller)
            .unwrap_or(&empty);
        let ings = &self.ingress.ingresses;
        let served: Vec<&IngInfo> = index.served.iter().map(|&i| &ings[i]).collect();
        d.hop(
            Some("ING-1"),
            format!(
                "controller {} serves classes {:?}: {} Ingress(es)",
                r.controller,
                index.classes,
                served.len()
            ),
        );
        let host = normalize_host(&r.host);
        let path = r.path.split('?').next().unwrap_or("");
        if r.scheme.eq_ignore_ascii_case("https") {
            let secret = served.iter().find_map(|i| {
                i.tls
                    .iter()
                    .find(|(hosts, _)| {
                        hosts
                            .iter()
                            .any(|h| *h == host || ingress_wildcard(h, &host))
                    })
                    .map(|(_, s)| s.clone())
            });
            d.hop(Some("ING-7"), format!("TLS terminated for {host}"));
            d.tls = Some(TlsTermination {
                secret_name: secret.flatten(),
            });
        }
        let hit = self.match_ingress(index, &host, path);
        if let IngressHit::Rule(ing, rule, p) = hit {
            d.hop(
                Some("ING-4"),
                format!(
                    "{}/{}: host {:?} path {} ({})",
                    ing.namespace,
                    ing.name,
                    rule.host,
                    p.path,
                    p.path_type.as_str()
                ),
            );
            let found = self.http_backend(
                &ing.namespace,
                &p.backend.service,
                p.backend.port_number,
                p.backend.port_name.as_deref(),
            );
            d.service = Some(format!("{}/{}", ing.namespace, p.backend.service));
            d.ingress_match = Some(IngressMatch {
                ingress: format!("{}/{}", ing.namespace, ing.name),
                default_backend: false,
                host: rule.host.clone(),
                path: Some(p.path.clone()),
                path_type: Some(p.path_type.as_str().to_owned()),
                service: format!("{}/{}", ing.namespace, p.backend.service),
                port: found.as_ref().map(|f| f.0),
            });
            self.deliver(&mut d, state, found, "ING-6");
            return d;
        }
        match hit {
            IngressHit::Default(ing, b) => {
                d.hop(
                    Some("ING-5"),
                    format!(
                        "no rule matched: defaultBackend of {}/{}",
                        ing.namespace, ing.name
                    ),
                );
                let found = self.http_backend(
                    &ing.namespace,
                    &b.service,
                    b.port_number,
                    b.port_name.as_deref(),
                );
                d.service = Some(format!("{}/{}", ing.namespace, b.service));
                d.ingress_match = Some(IngressMatch {
                    ingress: format!("{}/{}", ing.namespace, ing.name),
                    default_backend: true,
                    host: None,
                    path: None,
                    path_type: None,
                    service: format!("{}/{}", ing.namespace, b.service),
                    port: found.as_ref().map(|f| f.0),
                });
                self.deliver(&mut d, state, found, "ING-6");
            }
            _ => {
                d.hop(
                    Some("ING-5"),
                    "no rule and no defaultBackend: the controller's 404",
                );
                Self::http_answer(&mut d, 404);
            }
        }
        d
    }

    pub(super) fn route_gateway(
        &self,
        r: &GatewayRequest,
        state: &mut RouteState,
        mut d: Decision,
    ) -> Result<Decision, RouteError> {
        let (gns, gname) = r.gateway.split_once('/').ok_or_else(|| {
            RouteError::Invalid(format!("gateway {:?} is not ns/name", r.gateway))
        })?;
        let gw = self
            .gateways
            .gateways
            .iter()
            .find(|g| g.namespace == gns && g.name == gname)
            .ok_or_else(|| RouteError::UnknownGateway(r.gateway.clone()))?;
        let host = normalize_host(&r.host);
        let (path, query) = r.path.split_once('?').unwrap_or((r.path.as_str(), ""));
        let query: Vec<(&str, &str)> = query
            .split('&')
            .filter(|q| !q.is_empty())
            .map(|q| q.split_once('=').unwrap_or((q, "")))
            .collect();
        let method = r.method.as_deref().unwrap_or("GET");
        let listeners: Vec<&Listener> = gw
            .listeners
            .iter()
            .filter(|l| r.listener.as_deref().is_none_or(|n| n == l.0))
            .filter(|l| {
                l.1.as_deref()
                    .is_none_or(|h| gw_host_match(h, &host).is_some())
            })
            .collect();
        // GW-1: of the listeners that accept the host, the most specific
        // hostname wins (exact, then the longest wildcard, then none).
        let specificity = |l: &&Listener| {
            l.1.as_deref()
                .and_then(|h| gw_host_match(h, &host))
                .map_or((false, 0, 0), |m| (true, usize::from(m.0), m.2))
        };
        let top = listeners.iter().map(specificity).max();
        let listeners: Vec<_> = listeners
            .into_iter()
            .filter(|l| Some(specificity(l)) == top)
            .collect();
        if listeners.is_empty() {
            d.hop(
                Some("GW-1"),
                format!("no listener of {} accepts host {host}", r.gateway),
            );
            Self::http_answer(&mut d, 404);
            return Ok(d);
        }
        // (key for ordering, route, rule index)
        type Key = (bool, usize, usize, bool, usize, bool, usize, usize);
        let mut best: Option<(Key, &RouteInfo, usize)> = None;
        for route in &self.gateways.routes {
            let attached = route.parents.iter().any(|(ns, name, section, port)| {
                ns == gns
                    && name == gname
                    && listeners.iter().any(|l| {
                        section.as_deref().is_none_or(|s| s == l.0)
                            && port.is_none_or(|p| p == l.2)
                            && l.3.as_ref().is_none_or(|a| a.contains(&route.namespace))
                    })
            });
            if !attached {
                continue;
            }
            let host_key = if route.hostnames.is_empty() {
                Some((false, 0, 0))
            } else {
                route
                    .hostnames
                    .iter()
                    .filter_map(|h| gw_host_match(h, &host))
                    .max()
            };
            let Some((precise, precise_len, host_len)) = host_key else {
                continue;
            };
            for (ri, rule) in route.rules.iter().enumerate() {
                for m in &rule.matches {
                    if m.regex || m.headers.iter().any(|h| h.2) || m.query.iter().any(|q| q.2) {
                        d.hop(
                            Some("GW-1"),
                            format!(
                                "{}/{} rule {ri}: regular expressions are not modelled",
                                route.namespace, route.name
                            ),
                        );
                        continue;
                    }
                    let path_ok = if m.exact {
                        path == m.path
                    } else {
                        prefix_match(&m.path, path)
                    };
                    let method_ok = m.method.as_deref().is_none_or(|x| x == method);
                    let headers_ok = m.headers.iter().all(|(n, v, _)| {
                        r.headers
                            .iter()
                            .any(|(rn, rv)| rn.eq_ignore_ascii_case(n) && rv == v)
                    });
                    let query_ok = m
                        .query
                        .iter()
                        .all(|(n, v, _)| query.iter().any(|(qn, qv)| qn == n && qv == v));
                    if !(path_ok && method_ok && headers_ok && query_ok) {
                        continue;
                    }
                    let key: Key = (
                        precise,
                        precise_len,
                        host_len,
                        m.exact,
                        m.path.len(),
                        m.method.is_some(),
                        m.headers.len(),
                        m.query.len(),
                    );
                    let better = match &best {
                        None => true,
                        Some((bk, br, bri)) => {
                            key > *bk
                                || (key == *bk
                                    && (
                                        route.created.as_str(),
                                        route.namespace.as_str(),
                                        route.name.as_str(),
                                        ri,
                                    ) < (
                                        br.created.as_str(),
                                        br.namespace.as_str(),
                                        br.name.as_str(),
                                        *bri,
                                    ))
                        }
                    };
                    if better {
                        best = Some((key, route, ri));
                    }
                }
            }
        }
        let Some((_, route, ri)) = best else {
            d.hop(Some("GW-1"), "no HTTPRoute rule matches: 404");
            Self::http_answer(&mut d, 404);
            return Ok(d);
        };
        d.hop(
            Some("GW-1"),
            format!("{}/{} rule {ri} wins", route.namespace, route.name),
        );
        d.route_match = Some(RouteMatch {
            http_route: format!("{}/{}", route.namespace, route.name),
            rule: ri,
        });
        let mut any = false;
        let mut eps: Vec<SocketAddr> = Vec::new();
        for (ns, name, port, weight) in &route.rules[ri].backends {
            if *weight == 0 {
                continue;
            }
            if let Some((_, e)) = self.http_backend(ns, name, *port, None) {
                any = true;
                d.service.get_or_insert_with(|| format!("{ns}/{name}"));
                eps.extend(e);
            }
        }
        crate::order::sort_by_key(&mut eps, ToString::to_string);
        eps.dedup();
        if !any {
            d.hop(Some("GW-1"), "no valid backendRef: 500");
            Self::http_answer(&mut d, 500);
            return Ok(d);
        }
        self.deliver(&mut d, state, Some((0, eps)), "GW-1");
        Ok(d)
    }
}

/// Gateway hostname match (GW-1): exact, or `*.suffix` with any number of
/// labels. Returns (precise, length of the precise name, hostname length).
pub(super) fn gw_host_match(rule: &str, host: &str) -> Option<(bool, usize, usize)> {
    if let Some(suffix) = rule.strip_prefix("*.") {
        let front = host.strip_suffix(suffix)?.strip_suffix('.')?;
        (!front.is_empty()).then_some((false, 0, rule.len()))
    } else {
        (rule == host).then_some((true, rule.len(), rule.len()))
    }
}
