//! Every other question of the plain shape (SRV, PTR, NXDOMAIN, NODATA,
//! TXT, ...), answered without building a [`Message`](super::wire::Message).
//!
//! [`Dns::answer_wire_into`] takes this path after the A/AAAA fast path
//! ([`super::fast`]) declines: the query is read in place by the same
//! parser, answered by the same lookup as [`Dns::query`], and the records
//! are written straight into the caller's buffer by the same encoder the
//! general path uses, so the bytes are those of the general path. What it
//! leaves to the general path: malformed or unusual queries (escapes in
//! the name, several questions, EDNS versions above 0, classes other than
//! IN) and responses over the client's size (truncation).

use super::fast::parse_query;
use super::wire::{CLASS_IN, Transport, Writer};
use super::{Dns, Outcome, Rcode, RecordType, check_name};

impl Dns {
    /// The response to a plain query, appended to `out`; `false`, with
    /// `out` unchanged, when the query or its response is of a shape the
    /// general path handles.
    pub(super) fn answer_wire_direct(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(q) = parse_query(query) else {
            return false;
        };
        let Some(qname) = q.name() else {
            return false;
        };
        if check_name(qname).is_err() {
            return false;
        }
        let qtype = RecordType::from_u16(q.qtype);
        let answer = self.answer_for(qname, qtype);
        let (rcode, aa) = match answer.rcode() {
            None => (Rcode::Refused, false),
            Some(rcode) => (rcode, answer.outcome != Outcome::Refused),
        };
        let empty: &[super::Record] = &[];
        let (answers, authority, additional) = if answer.outcome == Outcome::Passthrough {
            (empty, empty, empty)
        } else {
            (
                answer.answer.as_slice(),
                answer.authority.as_slice(),
                answer.additional.as_slice(),
            )
        };
        let count = |n: usize| u16::try_from(n).ok();
        let (Some(an), Some(ns), Some(ar)) = (
            count(answers.len()),
            count(authority.len()),
            count(additional.len() + usize::from(q.has_edns())),
        ) else {
            return false;
        };
        let base = out.len();
        let mut w = Writer::new(out);
        w.buf.extend_from_slice(&query[..2]);
        w.u16(q.response_flags(aa, rcode.to_u8()));
        w.u16(1);
        w.u16(an);
        w.u16(ns);
        w.u16(ar);
        let mut ok = w.name(qname, true).is_ok();
        w.u16(q.qtype);
        w.u16(CLASS_IN);
        for r in answers.iter().chain(authority).chain(additional) {
            ok = ok && w.record(r).is_ok();
        }
        q.write_opt(w.buf);
        if !ok || out.len() - base > q.limit(transport) {
            out.truncate(base);
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::cluster::Cluster;
    use crate::dns::DnsConfig;
    use crate::dns::wire::{self, Edns, Message};

    fn dns() -> Dns {
        let mut cluster = Cluster::new(Default::default()).expect("cluster");
        let objects: Vec<Object> = serde_json::from_str(
            r#"[
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "web", "namespace": "default"},
             "spec": {"clusterIPs": ["10.96.0.20", "fd00::20"], "ipFamilies": ["IPv4", "IPv6"],
                      "ipFamilyPolicy": "PreferDualStack",
                      "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "db", "namespace": "default"},
             "spec": {"clusterIP": "None", "ports": [{"port": 5432, "name": "pg"}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "db-1", "namespace": "default",
                          "labels": {"kubernetes.io/service-name": "db"}},
             "addressType": "IPv4",
             "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
             "endpoints": [
               {"addresses": ["10.0.0.1"], "hostname": "db-0", "conditions": {"ready": true}},
               {"addresses": ["10.0.0.2"], "conditions": {"ready": true}},
               {"addresses": ["10.0.0.3"], "conditions": {"ready": false}}]},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "ext", "namespace": "default"},
             "spec": {"type": "ExternalName", "externalName": "example.com"}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "alias", "namespace": "default"},
             "spec": {"type": "ExternalName", "externalName": "web.default.svc.cluster.local"}}
            ]"#,
        )
        .expect("json");
        cluster.apply_batch(objects).expect("applies");
        Dns::new(&cluster, DnsConfig::default()).expect("dns")
    }

    fn general(dns: &Dns, query: &[u8], t: Transport) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        dns.answer_wire_general(query, t, &mut out).then_some(out)
    }

    #[test]
    fn direct_path_gives_the_general_bytes() {
        let dns = dns();
        let names = [
            "_http._tcp.web.default.svc.cluster.local.",
            "_HTTP._TCP.Web.Default.svc.cluster.local.",
            "web.default.svc.cluster.local.",
            "db.default.svc.cluster.local.",
            "_pg._tcp.db.default.svc.cluster.local.",
            "db-0.db.default.svc.cluster.local.",
            "10-0-0-2.db.default.svc.cluster.local.",
            "ext.default.svc.cluster.local.",
            "alias.default.svc.cluster.local.",
            "nope.default.svc.cluster.local.",
            "nope.nosuch.svc.cluster.local.",
            "default.svc.cluster.local.",
            "cluster.local.",
            "Cluster.Local.",
            "ns.dns.cluster.local.",
            "dns-version.cluster.local.",
            "20.0.96.10.in-addr.arpa.",
            "1.0.0.10.in-addr.arpa.",
            "3.0.0.10.in-addr.arpa.",
            "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.",
            "in-addr.arpa.",
            "example.com.",
            "x.dns.cluster.local.",
        ];
        let types = [
            RecordType::A,
            RecordType::Aaaa,
            RecordType::Srv,
            RecordType::Ptr,
            RecordType::Txt,
            RecordType::Cname,
            RecordType::Ns,
            RecordType::Soa,
            RecordType::Mx,
            RecordType::Axfr,
            RecordType::Any,
            RecordType::Other(99),
        ];
        let mut direct_hits = 0;
        for name in names {
            for qtype in types {
                let mut m = Message::query(0x4321, name, qtype);
                let mut shapes = vec![wire::encode(&m).expect("encode")];
                m.header.cd = true;
                m.header.rd = false;
                m.edns = Some(Edns {
                    udp_size: 1232,
                    version: 0,
                    dnssec_ok: true,
                    options: vec![(10, vec![1, 2, 3, 4, 5, 6, 7, 8])],
                });
                shapes.push(wire::encode(&m).expect("encode"));
                m.edns = Some(Edns {
                    udp_size: 100,
                    version: 0,
                    dnssec_ok: false,
                    options: Vec::new(),
                });
                shapes.push(wire::encode(&m).expect("encode"));
                for q in shapes {
                    for t in [Transport::Udp, Transport::Tcp] {
                        let mut out = vec![7];
                        if dns.answer_wire_direct(&q, t, &mut out) {
                            direct_hits += 1;
                            assert_eq!(
                                Some(out[1..].to_vec()),
                                general(&dns, &q, t),
                                "{name} {qtype} {t:?}"
                            );
                        } else {
                            assert_eq!(out, [7], "unchanged when not taken");
                        }
                        let mut via_api = Vec::new();
                        assert!(dns.answer_wire_into(&q, t, &mut via_api));
                        assert_eq!(Some(via_api), general(&dns, &q, t), "{name} {qtype}");
                    }
                }
            }
        }
        assert!(direct_hits > 1000, "direct path taken {direct_hits} times");
    }

    #[test]
    fn malformed_queries_are_left_to_the_general_path() {
        let dns = dns();
        let good = wire::encode(&Message::query(
            1,
            "_pg._tcp.db.default.svc.cluster.local.",
            RecordType::Srv,
        ))
        .expect("encode");
        let mut out = Vec::new();
        for cut in 0..good.len() {
            assert!(!dns.answer_wire_direct(&good[..cut], Transport::Udp, &mut out));
            assert!(out.is_empty());
        }
        let mut escaped = good.clone();
        escaped[14] = b'.';
        assert!(!dns.answer_wire_direct(&escaped, Transport::Udp, &mut out));
        assert!(dns.answer_wire_direct(&good, Transport::Udp, &mut out));
    }
}
