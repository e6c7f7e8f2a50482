//! Cluster DNS answers over a fixture cluster, one test per section of
//! `shared/reference/dns.md` (cited as `dns.md#n`).

#[path = "dns_fixture.rs"]
mod fixture;

use fixture::{ask, dns, dns_with, strings};
use svcroute::dns::{Fallthrough, Outcome, PodMode, RecordType};

const SOA: &str =
    "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5";
const SOA_REV: &str =
    "in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1 7200 1800 86400 5";

/// Asks and checks outcome and answer (sorted strings).
fn check(d: &svcroute::dns::Dns, name: &str, t: RecordType, outcome: Outcome, answer: &[&str]) {
    let a = ask(d, name, t);
    let mut want: Vec<String> = answer.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        (a.outcome, strings(&a.answer)),
        (outcome, want),
        "{name} {t}"
    );
    match outcome {
        Outcome::NoData | Outcome::NxDomain => {
            assert_eq!(a.authority.len(), 1, "{name} {t}: SOA in authority");
            assert!(a.additional.is_empty());
        }
        _ => {}
    }
}

#[test]
fn names_ignore_case_and_keep_the_query_spelling() {
    // dns.md#1
    let d = dns();
    check(
        &d,
        "WEB.Shop.SVC.cluster.LOCAL.",
        RecordType::A,
        Outcome::Answer,
        &["WEB.Shop.SVC.cluster.LOCAL. 5 IN A 10.96.0.20"],
    );
    let srv = ask(
        &d,
        "_HTTP._Tcp.web.shop.svc.Cluster.Local.",
        RecordType::Srv,
    );
    assert_eq!(
        strings(&srv.answer),
        ["_HTTP._Tcp.web.shop.svc.Cluster.Local. 5 IN SRV 0 100 80 web.shop.svc.Cluster.Local."]
    );
    // Without the trailing dot the name is still absolute.
    check(
        &d,
        "web.shop.svc.cluster.local",
        RecordType::A,
        Outcome::Answer,
        &["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"],
    );
    assert!(d.query("web..shop.", RecordType::A).is_err());
    assert!(
        d.query(&format!("{}.cluster.local.", "a".repeat(64)), RecordType::A)
            .is_err()
    );
}

#[test]
fn cluster_ip_services_answer_their_virtual_ips() {
    // dns.md#2
    let d = dns();
    check(
        &d,
        "web.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::NoData,
        &[],
    );
    check(
        &d,
        "dual.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["dual.shop.svc.cluster.local. 5 IN A 10.96.0.21"],
    );
    check(
        &d,
        "dual.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::Answer,
        &["dual.shop.svc.cluster.local. 5 IN AAAA fd00::21"],
    );
    // Exists with no endpoints at all.
    check(
        &d,
        "empty.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["empty.shop.svc.cluster.local. 5 IN A 10.96.0.22"],
    );
    let nodata = ask(&d, "web.shop.svc.cluster.local.", RecordType::Aaaa);
    assert_eq!(nodata.authority[0].to_string(), SOA);
}

#[test]
fn srv_records_follow_coredns() {
    // dns.md#3
    let d = dns();
    let a = ask(
        &d,
        "_http._tcp.web.shop.svc.cluster.local.",
        RecordType::Srv,
    );
    assert_eq!(
        strings(&a.answer),
        ["_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 100 80 web.shop.svc.cluster.local."]
    );
    assert_eq!(
        strings(&a.additional),
        ["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"]
    );
    // The bare name lists every port, the unnamed one included: N = 2.
    let bare = ask(&d, "web.shop.svc.cluster.local.", RecordType::Srv);
    assert_eq!(
        strings(&bare.answer),
        [
            "web.shop.svc.cluster.local. 5 IN SRV 0 50 80 web.shop.svc.cluster.local.",
            "web.shop.svc.cluster.local. 5 IN SRV 0 50 9000 web.shop.svc.cluster.local.",
        ]
    );
    assert_eq!(bare.additional.len(), 1);
    // Dual-stack: two entries collapse into one SRV of weight 50.
    let dual = ask(
        &d,
        "_http._tcp.dual.shop.svc.cluster.local.",
        RecordType::Srv,
    );
    assert_eq!(
        strings(&dual.answer),
        ["_http._tcp.dual.shop.svc.cluster.local. 5 IN SRV 0 50 80 dual.shop.svc.cluster.local."]
    );
    assert_eq!(dual.additional.len(), 2);
    // Headless: per ready endpoint, the endpoint port; db-0 has v4 and v6 (N = 3).
    let db = ask(&d, "_pg._tcp.db.shop.svc.cluster.local.", RecordType::Srv);
    assert_eq!(
        strings(&db.answer),
        [
            "_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 33 5432 db-0.db.shop.svc.cluster.local.",
            "_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 33 5432 db-1.db.shop.svc.cluster.local.",
        ]
    );
    assert_eq!(
        strings(&db.additional),
        [
            "db-0.db.shop.svc.cluster.local. 5 IN A 10.244.1.50",
            "db-0.db.shop.svc.cluster.local. 5 IN AAAA fd00:244::50",
            "db-1.db.shop.svc.cluster.local. 5 IN A 10.244.2.51",
        ]
    );
    // Wrong protocol or port name, per-endpoint SRV names: NXDOMAIN.
    for name in [
        "_http._udp.web.shop.svc.cluster.local.",
        "_nope._tcp.web.shop.svc.cluster.local.",
        "_pg._tcp.db-0.db.shop.svc.cluster.local.",
    ] {
        check(&d, name, RecordType::Srv, Outcome::NxDomain, &[]);
    }
    // A headless service without ports has no SRV records.
    check(
        &d,
        "bare.shop.svc.cluster.local.",
        RecordType::Srv,
        Outcome::NoData,
        &[],
    );
}

#[test]
fn headless_services_answer_ready_endpoints() {
    // dns.md#4, dns.md#5
    let d = dns();
    check(
        &d,
        "db.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &[
            "db.shop.svc.cluster.local. 5 IN A 10.244.1.50",
            "db.shop.svc.cluster.local. 5 IN A 10.244.2.51",
        ],
    );
    check(
        &d,
        "db.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::Answer,
        &["db.shop.svc.cluster.local. 5 IN AAAA fd00:244::50"],
    );
    check(
        &d,
        "db-0.db.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::Answer,
        &["db-0.db.shop.svc.cluster.local. 5 IN AAAA fd00:244::50"],
    );
    check(
        &d,
        "db-1.db.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::NoData,
        &[],
    );
    // ready=false is published nowhere; no ready endpoint at all is NXDOMAIN.
    check(
        &d,
        "db-2.db.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &d,
        "gone.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &d,
        "bare.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["bare.shop.svc.cluster.local. 5 IN A 10.244.4.1"],
    );
    // Endpoint names under a ClusterIP service (CoreDNS extension).
    check(
        &d,
        "10-244-1-10.web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["10-244-1-10.web.shop.svc.cluster.local. 5 IN A 10.244.1.10"],
    );
    check(
        &d,
        "10-244-1-11.web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &d,
        "web-1.web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    let named = dns_with(|c| c.endpoint_pod_names = true);
    check(
        &named,
        "web-1.web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["web-1.web.shop.svc.cluster.local. 5 IN A 10.244.1.10"],
    );
}

#[test]
fn ptr_records() {
    // dns.md#6
    let d = dns();
    check(
        &d,
        "20.0.96.10.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::Answer,
        &["20.0.96.10.in-addr.arpa. 5 IN PTR web.shop.svc.cluster.local."],
    );
    check(
        &d,
        "10.1.244.10.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::Answer,
        &["10.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-10.web.shop.svc.cluster.local."],
    );
    let v6 = "1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.";
    check(
        &d,
        v6,
        RecordType::Ptr,
        Outcome::Answer,
        &[&format!("{v6} 5 IN PTR dual.shop.svc.cluster.local.")],
    );
    let unready = ask(&d, "11.1.244.10.in-addr.arpa.", RecordType::Ptr);
    assert_eq!(unready.outcome, Outcome::NxDomain);
    assert_eq!(unready.authority[0].to_string(), SOA_REV);
    check(
        &d,
        "web.shop.svc.cluster.local.",
        RecordType::Ptr,
        Outcome::NoData,
        &[],
    );
    // dns.md#15: partial reverse names are NXDOMAIN.
    check(
        &d,
        "96.10.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::NxDomain,
        &[],
    );
    check(&d, "in-addr.arpa.", RecordType::Ptr, Outcome::NoData, &[]);
    // Without reverse zones PTR queries are not ours.
    let none = dns_with(|c| c.reverse_zones.clear());
    check(
        &none,
        "20.0.96.10.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::Passthrough,
        &[],
    );
    let through = dns_with(|c| c.fallthrough = Fallthrough::Zones(vec!["in-addr.arpa.".into()]));
    check(
        &through,
        "1.0.0.127.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::Passthrough,
        &[],
    );
    check(
        &through,
        "nope.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
}

#[test]
fn external_name_services() {
    // dns.md#7
    let d = dns();
    let a = ask(&d, "ext.shop.svc.cluster.local.", RecordType::A);
    assert_eq!(
        strings(&a.answer),
        ["ext.shop.svc.cluster.local. 5 IN CNAME db.example.org."]
    );
    assert_eq!(a.chase.len(), 1);
    assert_eq!(
        (a.chase[0].name.as_str(), a.chase[0].qtype),
        ("db.example.org.", RecordType::A)
    );
    check(
        &d,
        "ext.shop.svc.cluster.local.",
        RecordType::Cname,
        Outcome::Answer,
        &["ext.shop.svc.cluster.local. 5 IN CNAME db.example.org."],
    );
    // In-cluster target resolved in the same answer.
    check(
        &d,
        "alias.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &[
            "alias.shop.svc.cluster.local. 5 IN CNAME web.shop.svc.cluster.local.",
            "web.shop.svc.cluster.local. 5 IN A 10.96.0.20",
        ],
    );
    assert!(
        ask(&d, "alias.shop.svc.cluster.local.", RecordType::A)
            .chase
            .is_empty()
    );
    check(
        &d,
        "alias.shop.svc.cluster.local.",
        RecordType::Aaaa,
        Outcome::NoData,
        &[],
    );
    check(
        &d,
        "dangling.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NoData,
        &[],
    );
    check(
        &d,
        "ip-alias.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &d,
        "ext.shop.svc.cluster.local.",
        RecordType::Srv,
        Outcome::NoData,
        &[],
    );
    check(
        &d,
        "ext.shop.svc.cluster.local.",
        RecordType::Txt,
        Outcome::NoData,
        &[],
    );
    check(
        &d,
        "_p._tcp.ext.shop.svc.cluster.local.",
        RecordType::Srv,
        Outcome::NxDomain,
        &[],
    );
    check(
        &d,
        "www.ext.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
}

#[test]
fn pod_records_per_mode() {
    // dns.md#8
    let off = dns();
    check(
        &off,
        "10-244-1-10.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &off,
        "shop.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    let insecure = dns_with(|c| c.pods = PodMode::Insecure);
    check(
        &insecure,
        "1-2-3-4.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["1-2-3-4.shop.pod.cluster.local. 5 IN A 1.2.3.4"],
    );
    check(
        &insecure,
        "1-2-3-4.shop.pod.cluster.local.",
        RecordType::Aaaa,
        Outcome::NoData,
        &[],
    );
    check(
        &insecure,
        "fd00-244--10.shop.pod.cluster.local.",
        RecordType::Aaaa,
        Outcome::Answer,
        &["fd00-244--10.shop.pod.cluster.local. 5 IN AAAA fd00:244::10"],
    );
    check(
        &insecure,
        "shop.pod.cluster.local.",
        RecordType::A,
        Outcome::NoData,
        &[],
    );
    check(
        &insecure,
        "web.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &insecure,
        "1-2-3-4.nons.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    let verified = dns_with(|c| c.pods = PodMode::Verified);
    check(
        &verified,
        "10-244-1-10.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["10-244-1-10.shop.pod.cluster.local. 5 IN A 10.244.1.10"],
    );
    check(
        &verified,
        "10-244-1-10.payments.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &verified,
        "fd00-244--10.shop.pod.cluster.local.",
        RecordType::Aaaa,
        Outcome::NxDomain,
        &[],
    );
    check(
        &verified,
        "1-2-3-4.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    // dns.md#15: an extra label in front is ignored.
    check(
        &verified,
        "x.10-244-1-10.shop.pod.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["x.10-244-1-10.shop.pod.cluster.local. 5 IN A 10.244.1.10"],
    );
}

#[test]
fn schema_version() {
    // dns.md#9, dns.md#15
    let d = dns_with(|c| c.ttl = 30);
    check(
        &d,
        "dns-version.cluster.local.",
        RecordType::Txt,
        Outcome::Answer,
        &["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""],
    );
    check(
        &d,
        "dns-version.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
}

#[test]
fn nxdomain_versus_nodata() {
    // dns.md#10
    let d = dns();
    use Outcome::{NoData, NxDomain};
    for (name, t, outcome) in [
        ("nosuch.shop.svc.cluster.local.", RecordType::A, NxDomain),
        ("web.nosuchns.svc.cluster.local.", RecordType::A, NxDomain),
        ("shop.svc.cluster.local.", RecordType::A, NoData),
        ("svc.cluster.local.", RecordType::A, NoData),
        ("pod.cluster.local.", RecordType::A, NoData),
        ("cluster.local.", RecordType::A, NoData),
        ("foo.cluster.local.", RecordType::A, NxDomain),
        ("a.b.c.web.shop.svc.cluster.local.", RecordType::A, NxDomain),
        ("web.shop.svc.cluster.local.", RecordType::Mx, NoData),
        ("web.shop.svc.cluster.local.", RecordType::Txt, NoData),
        ("web.shop.svc.cluster.local.", RecordType::Ns, NoData),
        ("web.shop.svc.cluster.local.", RecordType::Cname, NoData),
        ("nosuch.shop.svc.cluster.local.", RecordType::Mx, NxDomain),
        ("*.shop.svc.cluster.local.", RecordType::A, NxDomain),
        ("web.*.svc.cluster.local.", RecordType::A, NxDomain),
        ("any.shop.svc.cluster.local.", RecordType::A, NxDomain),
        // dns.md#15
        ("shop.svc.cluster.local.", RecordType::Txt, NxDomain),
        ("cluster.local.", RecordType::Txt, NxDomain),
        ("nosuch.shop.svc.cluster.local.", RecordType::Soa, NoData),
    ] {
        check(&d, name, t, outcome, &[]);
    }
    // dns.md#15: an A query on an SRV-shaped name answers the service IP.
    check(
        &d,
        "_http._tcp.web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["_http._tcp.web.shop.svc.cluster.local. 5 IN A 10.96.0.20"],
    );
    assert_eq!(
        ask(&d, "example.com.", RecordType::A).outcome,
        Outcome::Passthrough
    );
    assert_eq!(ask(&d, "example.com.", RecordType::A).rcode(), None);
    assert_eq!(
        ask(&d, "cluster.local.", RecordType::Axfr).outcome,
        Outcome::Refused
    );
}

#[test]
fn soa_and_ns_at_the_apex() {
    // dns.md#11
    let d = dns();
    check(
        &d,
        "cluster.local.",
        RecordType::Soa,
        Outcome::Answer,
        &[SOA],
    );
    let long = dns_with(|c| {
        c.ttl = 600;
        c.soa_serial = 42;
    });
    assert_eq!(
        ask(&long, "nosuch.shop.svc.cluster.local.", RecordType::A).authority[0].to_string(),
        "cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 600"
    );
    let ns = ask(&d, "cluster.local.", RecordType::Ns);
    assert_eq!(
        strings(&ns.answer),
        ["cluster.local. 5 IN NS kube-dns.kube-system.svc.cluster.local."]
    );
    assert_eq!(
        strings(&ns.additional),
        ["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10"]
    );
    check(
        &d,
        "ns.dns.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["ns.dns.cluster.local. 5 IN A 10.96.0.10"],
    );
}

#[test]
fn options() {
    // dns.md#14
    let empty = dns_with(|c| c.ignore_empty_service = true);
    check(
        &empty,
        "empty.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &empty,
        "web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"],
    );
    check(
        &empty,
        "ext.shop.svc.cluster.local.",
        RecordType::Cname,
        Outcome::Answer,
        &["ext.shop.svc.cluster.local. 5 IN CNAME db.example.org."],
    );
    let only_shop = dns_with(|c| c.namespaces = vec!["shop".into()]);
    check(
        &only_shop,
        "backend.payments.svc.cluster.local.",
        RecordType::A,
        Outcome::NxDomain,
        &[],
    );
    check(
        &only_shop,
        "1.20.96.10.in-addr.arpa.",
        RecordType::Ptr,
        Outcome::NxDomain,
        &[],
    );
    check(
        &only_shop,
        "web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"],
    );
    let all = dns_with(|c| c.fallthrough = Fallthrough::All);
    check(
        &all,
        "nosuch.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Passthrough,
        &[],
    );
    check(
        &all,
        "shop.svc.cluster.local.",
        RecordType::A,
        Outcome::NoData,
        &[],
    );
    let ttl = dns_with(|c| c.ttl = 30);
    check(
        &ttl,
        "web.shop.svc.cluster.local.",
        RecordType::A,
        Outcome::Answer,
        &["web.shop.svc.cluster.local. 30 IN A 10.96.0.20"],
    );
}

#[test]
fn the_index_follows_a_rebuild() {
    // dns.md#17: a pure function of the cluster snapshot.
    let mut c = fixture::cluster();
    let svc: svcroute::api::Object = serde_json::from_str(
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late", "namespace": "shop"},
            "spec": {"clusterIPs": ["10.96.9.9"], "ports": [{"port": 1}]}}"#,
    )
    .unwrap();
    let before = svcroute::dns::Dns::new(&c, svcroute::dns::DnsConfig::default()).unwrap();
    c.apply(svc).unwrap();
    let after = svcroute::dns::Dns::new(&c, svcroute::dns::DnsConfig::default()).unwrap();
    let q = "late.shop.svc.cluster.local.";
    assert_eq!(ask(&before, q, RecordType::A).outcome, Outcome::NxDomain);
    assert_eq!(ask(&after, q, RecordType::A).outcome, Outcome::Answer);
}
