//! The wire format: RFC 1035 messages, compression, EDNS0, truncation,
//! malformed input (`dns.md#17`: the same answers as bytes).

#[path = "dns_fixture.rs"]
mod fixture;

use proptest::prelude::*;
use svcroute::dns::wire::{self, Edns, Header, Message, Question};
use svcroute::dns::{RData, Record, RecordType, Transport};

fn query_bytes(name: &str, t: RecordType, edns: Option<u16>) -> Vec<u8> {
    let mut q = Message::query(0xBEEF, name, t);
    q.edns = edns.map(|udp_size| Edns {
        udp_size,
        ..Edns::default()
    });
    wire::encode(&q).unwrap()
}

#[test]
fn a_query_round_trips_through_bytes() {
    let d = fixture::dns();
    let resp = d
        .answer_wire(
            &query_bytes("Web.shop.svc.cluster.local.", RecordType::A, None),
            Transport::Udp,
        )
        .unwrap();
    let m = wire::decode(&resp).unwrap();
    assert_eq!(m.header.id, 0xBEEF);
    assert!(m.header.qr && m.header.aa && m.header.rd && !m.header.tc);
    assert_eq!(m.header.rcode, 0);
    assert_eq!(m.questions[0].name, "Web.shop.svc.cluster.local.");
    assert_eq!(
        m.answers[0].to_string(),
        "Web.shop.svc.cluster.local. 5 IN A 10.96.0.20"
    );
    // The owner name is a pointer to the question: header, name (28), qtype/qclass, then 2+10+4.
    assert_eq!(resp.len(), 12 + 28 + 4 + 16);
}

#[test]
fn negative_answers_carry_the_soa() {
    let d = fixture::dns();
    let resp = d
        .answer_wire(
            &query_bytes("nope.shop.svc.cluster.local.", RecordType::A, None),
            Transport::Udp,
        )
        .unwrap();
    let m = wire::decode(&resp).unwrap();
    assert_eq!(m.header.rcode, 3);
    assert!(m.answers.is_empty());
    assert!(matches!(m.authority[0].data, RData::Soa { minimum: 5, .. }));
}

#[test]
fn srv_targets_are_not_compressed_and_additional_is_filled() {
    let d = fixture::dns();
    let resp = d
        .answer_wire(
            &query_bytes("_pg._tcp.db.shop.svc.cluster.local.", RecordType::Srv, None),
            Transport::Udp,
        )
        .unwrap();
    let m = wire::decode(&resp).unwrap();
    assert_eq!(m.answers.len(), 2);
    assert_eq!(m.additional.len(), 3);
    let target = b"\x04db-0\x02db\x04shop\x03svc\x07cluster\x05local\x00";
    assert!(resp.windows(target.len()).any(|w| w == target));
}

#[test]
fn edns_is_echoed_and_udp_size_truncates() {
    let d = fixture::dns();
    let resp = d
        .answer_wire(
            &query_bytes("web.shop.svc.cluster.local.", RecordType::A, Some(1232)),
            Transport::Udp,
        )
        .unwrap();
    let m = wire::decode(&resp).unwrap();
    assert_eq!(m.edns.as_ref().map(|e| e.udp_size), Some(1232));

    // Many endpoints: over 512 bytes without EDNS, so TC over UDP, whole over TCP.
    let mut objects = String::from(
        r#"[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"big"}},
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"many","namespace":"big"},
             "spec":{"clusterIPs":["None"],"ports":[{"name":"p","port":1}]}},
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
             "metadata":{"name":"many-a","namespace":"big","labels":{"kubernetes.io/service-name":"many"}},
             "addressType":"IPv4","ports":[{"name":"p","port":1}],"endpoints":["#,
    );
    for i in 0..60 {
        if i > 0 {
            objects.push(',');
        }
        objects.push_str(&format!(r#"{{"addresses":["10.1.0.{i}"]}}"#));
    }
    objects.push_str("]}]");
    let mut c = svcroute::cluster::Cluster::new(svcroute::cluster::ClusterConfig {
        bootstrap: false,
        ..Default::default()
    })
    .unwrap();
    c.apply_batch(serde_json::from_str(&objects).unwrap())
        .unwrap();
    let d = svcroute::dns::Dns::new(&c, svcroute::dns::DnsConfig::default()).unwrap();
    let q = query_bytes("many.big.svc.cluster.local.", RecordType::A, None);
    let udp = d.answer_wire(&q, Transport::Udp).unwrap();
    assert!(udp.len() <= 512);
    let m = wire::decode(&udp).unwrap();
    assert!(m.header.tc);
    let tcp = wire::decode(&d.answer_wire(&q, Transport::Tcp).unwrap()).unwrap();
    assert!(!tcp.header.tc);
    assert_eq!(tcp.answers.len(), 60);
}

#[test]
fn malformed_and_odd_queries() {
    let d = fixture::dns();
    // Too short for a header, or a response: dropped.
    assert_eq!(d.answer_wire(&[1, 2, 3], Transport::Udp), None);
    let mut resp = query_bytes("web.shop.svc.cluster.local.", RecordType::A, None);
    resp[2] |= 0x80;
    assert_eq!(d.answer_wire(&resp, Transport::Udp), None);
    // A label running past the end: FORMERR with the id.
    let bad = [0xAB, 0xCD, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, b'a'];
    let m = wire::decode(&d.answer_wire(&bad, Transport::Udp).unwrap()).unwrap();
    assert_eq!((m.header.id, m.header.rcode), (0xABCD, 1));
    // A pointer loop.
    let looped = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
    assert!(wire::decode(&looped).is_err());
    // Two questions: FORMERR; an opcode other than QUERY: NOTIMP.
    let mut two = Message::query(1, "a.", RecordType::A);
    two.questions.push(two.questions[0].clone());
    let m = wire::decode(
        &d.answer_wire(&wire::encode(&two).unwrap(), Transport::Udp)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m.header.rcode, 1);
    let mut status = Message::query(1, "a.", RecordType::A);
    status.header.opcode = 2;
    let m = wire::decode(
        &d.answer_wire(&wire::encode(&status).unwrap(), Transport::Udp)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m.header.rcode, 4);
    // Not our zone: REFUSED (a server forwards it).
    let m = wire::decode(
        &d.answer_wire(
            &query_bytes("example.com.", RecordType::A, None),
            Transport::Udp,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(m.header.rcode, 5);
    // EDNS version 1: BADVERS (16).
    let mut v1 = Message::query(1, "web.shop.svc.cluster.local.", RecordType::A);
    v1.edns = Some(Edns {
        udp_size: 1232,
        version: 1,
        ..Edns::default()
    });
    let m = wire::decode(
        &d.answer_wire(&wire::encode(&v1).unwrap(), Transport::Udp)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m.header.rcode, 16);
}

// ------------------------------------------------------------------ proptest

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,20}"
}

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 0..5).prop_map(|l| {
        if l.is_empty() {
            ".".to_string()
        } else {
            format!("{}.", l.join("."))
        }
    })
}

fn rdata() -> impl Strategy<Value = RData> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| RData::A(b.into())),
        any::<[u8; 16]>().prop_map(|b| RData::Aaaa(b.into())),
        name().prop_map(RData::Cname),
        name().prop_map(RData::Ptr),
        name().prop_map(RData::Ns),
        (any::<u16>(), any::<u16>(), any::<u16>(), name()).prop_map(
            |(priority, weight, port, target)| {
                RData::Srv {
                    priority,
                    weight,
                    port,
                    target,
                }
            }
        ),
        prop::collection::vec("[ -~]{0,40}", 1..3).prop_map(RData::Txt),
        (name(), name(), any::<[u32; 5]>()).prop_map(|(mname, rname, v)| RData::Soa {
            mname,
            rname,
            serial: v[0],
            refresh: v[1],
            retry: v[2],
            expire: v[3],
            minimum: v[4],
        }),
        (1000u16..2000, prop::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(rtype, data)| RData::Unknown { rtype, data }),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (name(), any::<u32>(), rdata()).prop_map(|(n, ttl, data)| Record::new(n, ttl, data))
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<u16>(),
        any::<[bool; 8]>(),
        0u8..16,
        0u16..16,
        prop::collection::vec((name(), 1u16..300, any::<u16>()), 0..3),
        prop::collection::vec(record(), 0..4),
        prop::collection::vec(record(), 0..3),
        prop::collection::vec(record(), 0..3),
        prop::option::of((512u16..5000, any::<bool>())),
    )
        .prop_map(|(id, f, opcode, rcode, qs, an, ns, ar, edns)| Message {
            header: Header {
                id,
                qr: f[0],
                opcode,
                aa: f[1],
                tc: f[2],
                rd: f[3],
                ra: f[4],
                ad: f[5],
                cd: f[6],
                rcode,
            },
            questions: qs
                .into_iter()
                .map(|(name, t, qclass)| Question {
                    name,
                    qtype: RecordType::from_u16(t),
                    qclass,
                })
                .collect(),
            answers: an,
            authority: ns,
            additional: ar,
            edns: edns.map(|(udp_size, dnssec_ok)| Edns {
                udp_size,
                version: 0,
                dnssec_ok,
                options: vec![(10, vec![1, 2, 3])],
            }),
        })
}

proptest! {
    #[test]
    fn encode_decode_round_trip(m in message()) {
        let bytes = wire::encode(&m).unwrap();
        prop_assert_eq!(wire::decode(&bytes).unwrap(), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = wire::decode(&bytes);
        let d = fixture::dns();
        if let Some(resp) = d.answer_wire(&bytes, Transport::Udp) {
            prop_assert!(resp.len() <= 4096);
            prop_assert!(wire::decode(&resp).is_ok());
        }
    }

    #[test]
    fn mutated_queries_never_panic(flip in any::<(usize, u8)>(), cut in any::<usize>()) {
        let d = fixture::dns();
        let mut q = query_bytes("_pg._tcp.db.shop.svc.cluster.local.", RecordType::Srv, Some(1232));
        let i = flip.0 % q.len();
        q[i] ^= flip.1;
        q.truncate(cut % (q.len() + 1));
        if let Some(resp) = d.answer_wire(&q, Transport::Udp) {
            prop_assert!(wire::decode(&resp).is_ok());
        }
    }

    #[test]
    fn query_never_panics(name in "[a-z0-9.*_-]{0,80}", t in any::<u16>()) {
        let d = fixture::dns();
        let _ = d.query(&name, RecordType::from_u16(t));
    }
}

fn fixture_name() -> impl Strategy<Value = String> {
    let labels = prop::sample::select(vec![
        "web",
        "dual",
        "db",
        "db-0",
        "ext",
        "alias",
        "_http",
        "_tcp",
        "_pg",
        "shop",
        "payments",
        "svc",
        "pod",
        "10-244-1-10",
        "WEB",
        "x",
    ]);
    (prop::collection::vec(labels, 0..5), any::<bool>()).prop_map(|(l, reverse)| {
        if reverse {
            format!(
                "{}20.0.96.10.in-addr.arpa.",
                l.iter().map(|s| format!("{s}.")).collect::<String>()
            )
        } else {
            format!(
                "{}cluster.local.",
                l.iter().map(|s| format!("{s}.")).collect::<String>()
            )
        }
    })
}

proptest! {
    #[test]
    fn wire_answers_are_the_query_answers(
        name in fixture_name(),
        t in prop::sample::select(vec![
            RecordType::A, RecordType::Aaaa, RecordType::Srv, RecordType::Ptr,
            RecordType::Cname, RecordType::Txt, RecordType::Soa, RecordType::Ns, RecordType::Mx,
        ]),
    ) {
        let d = fixture::dns();
        let direct = d.query(&name, t).unwrap();
        let bytes = d.answer_wire(&query_bytes(&name, t, Some(4096)), Transport::Tcp).unwrap();
        let m = wire::decode(&bytes).unwrap();
        prop_assert_eq!(Some(m.header.rcode as u8), direct.rcode().map(|r| r.to_u8()));
        prop_assert_eq!(m.answers, direct.answer);
        prop_assert_eq!(m.authority, direct.authority);
        prop_assert_eq!(m.additional, direct.additional);
    }
}
