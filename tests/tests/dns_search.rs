//! Search-list walks from a pod (`dns.md#12`).

#[path = "dns_fixture.rs"]
mod fixture;

use svcroute::dns::{
    ExternalRecord, ExternalRecords, Outcome, RecordType, Resolver, SearchClient, Walk,
};

fn external() -> ExternalRecords {
    let mut e = ExternalRecords::default();
    e.insert(
        "www.example.com.",
        ExternalRecord {
            a: Some("198.51.100.7".parse().unwrap()),
            aaaa: None,
            ttl: 300,
        },
    );
    e.insert(
        "db.example.org",
        ExternalRecord {
            a: Some("198.51.100.9".parse().unwrap()),
            aaaa: None,
            ttl: 60,
        },
    );
    e
}

fn walk(name: &str, qtype: RecordType, resolver: Resolver, ndots: u32) -> Walk {
    let d = fixture::dns();
    let mut client = SearchClient::new("shop");
    client.ndots = ndots;
    d.search(&client, name, qtype, resolver, &external())
}

fn sent(w: &Walk) -> Vec<(String, &'static str)> {
    w.sent
        .iter()
        .map(|s| (s.qname.clone(), s.outcome.as_str()))
        .collect()
}

#[test]
fn search_list_from_namespace_and_node() {
    let c = SearchClient::new("shop").with_host_search(["corp.example.", "cluster.local", "x.y"]);
    assert_eq!(
        c.search_list("cluster.local."),
        [
            "shop.svc.cluster.local",
            "svc.cluster.local",
            "cluster.local",
            "corp.example",
            "x.y"
        ]
    );
}

#[test]
fn short_names_try_the_search_list_first() {
    let w = walk("web", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(
        sent(&w),
        [("web.shop.svc.cluster.local.".to_string(), "answer")]
    );
    assert_eq!(
        w.answer[0].to_string(),
        "web.shop.svc.cluster.local. 5 IN A 10.96.0.20"
    );
    // backend.payments: read as endpoint `backend` of service `payments` first.
    let w = walk("backend.payments", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(
        sent(&w),
        [
            (
                "backend.payments.shop.svc.cluster.local.".to_string(),
                "nxdomain"
            ),
            ("backend.payments.svc.cluster.local.".to_string(), "answer"),
        ]
    );
    assert_eq!(
        w.answered_by.as_deref(),
        Some("backend.payments.svc.cluster.local.")
    );
}

#[test]
fn full_names_cost_every_search_domain() {
    let w = walk(
        "backend.payments.svc.cluster.local",
        RecordType::A,
        Resolver::Glibc,
        5,
    );
    assert_eq!(w.sent.len(), 4);
    assert_eq!(w.result, Outcome::Answer);
    let w = walk(
        "backend.payments.svc.cluster.local.",
        RecordType::A,
        Resolver::Glibc,
        5,
    );
    assert_eq!(w.sent.len(), 1);
}

#[test]
fn external_names_and_tld_shadowing() {
    let w = walk("www.example.com", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(w.sent.len(), 4);
    assert_eq!(
        w.answer[0].to_string(),
        "www.example.com. 300 IN A 198.51.100.7"
    );
    // Namespace `com` with a service `example` captures example.com.
    let w = walk("example.com", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(
        w.answered_by.as_deref(),
        Some("example.com.svc.cluster.local.")
    );
    // ndots 2: the name as typed first.
    let w = walk("www.example.com", RecordType::A, Resolver::Musl, 2);
    assert_eq!(w.candidates, ["www.example.com."]);
    assert_eq!(w.result, Outcome::Answer);
}

#[test]
fn nodata_moves_glibc_on_and_stops_musl() {
    // `payments` is a namespace: payments.svc.cluster.local is NODATA.
    let g = walk("payments", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(
        sent(&g),
        [
            ("payments.shop.svc.cluster.local.".to_string(), "nxdomain"),
            ("payments.svc.cluster.local.".to_string(), "nodata"),
            ("payments.cluster.local.".to_string(), "nxdomain"),
            ("payments.".to_string(), "nxdomain"),
        ]
    );
    assert_eq!(g.result, Outcome::NoData);
    let m = walk("payments", RecordType::A, Resolver::Musl, 5);
    assert_eq!(m.sent.len(), 2);
    assert_eq!(m.result, Outcome::NoData);
    assert_eq!(m.answered_by, None);
}

#[test]
fn musl_searches_only_address_lookups() {
    let g = walk("_http._tcp.web", RecordType::Srv, Resolver::Glibc, 5);
    assert_eq!(
        g.answered_by.as_deref(),
        Some("_http._tcp.web.shop.svc.cluster.local.")
    );
    let m = walk("_http._tcp.web", RecordType::Srv, Resolver::Musl, 5);
    assert_eq!(m.candidates, ["_http._tcp.web."]);
    assert_eq!(m.result, Outcome::NxDomain);
}

#[test]
fn as_typed_first_reports_its_own_outcome() {
    // 5 dots: asked as typed first; nothing answers; the first outcome wins.
    let w = walk("a.b.c.d.e.f", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(w.candidates[0], "a.b.c.d.e.f.");
    assert_eq!(w.result, Outcome::NxDomain);
}

#[test]
fn external_name_chase_is_resolved_outside() {
    let w = walk("ext", RecordType::A, Resolver::Glibc, 5);
    assert_eq!(
        w.answer.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "ext.shop.svc.cluster.local. 5 IN CNAME db.example.org.",
            "db.example.org. 60 IN A 198.51.100.9",
        ]
    );
}

#[test]
fn ndots_is_capped_at_15() {
    let name = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p";
    let w = walk(name, RecordType::A, Resolver::Glibc, 40);
    assert_eq!(w.candidates[0], format!("{name}."));
}
