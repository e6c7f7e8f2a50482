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
//!
//! Two answers are not even made as [`Record`](super::Record)s, because
//! their owned names were most of their cost:
//!
//! * the SOA of a negative answer (NXDOMAIN, NODATA): its owner and the
//!   names in its data are the zone as the query spells it, put together
//!   on the stack;
//! * SRV answers of up to [`MAX_SRV`] entries (a Service with cluster IPs
//!   and its named ports): the lookup's entries are kept on the stack,
//!   de-duplicated and weighed as [`Dns::query`] does, and each target is
//!   written from the Service's name.
//!
//! Both go through the writer's record primitives that the general path's
//! records go through, so compression and bytes are the same
//! (`direct_path_gives_the_general_bytes`).

use std::net::IpAddr;

use super::fast::Query;
#[cfg(test)]
use super::fast::parse_query;
use super::record::NameBuf;
use super::wire::{CLASS_IN, Transport, Writer};
use super::{Answer, Dns, Entry, Host, Outcome, Question, Rcode, RecordType, SvcEntry, as_v4};

/// At most this many SRV entries are answered directly (a ClusterIP
/// Service's ports); more (headless Services) take the other paths.
const MAX_SRV: usize = 16;

/// One SRV record of a direct answer: its port and the endpoint name of
/// its target (`None`: the Service itself).
#[derive(Clone, Copy, PartialEq)]
struct Srv<'a> {
    port: u16,
    endpoint: Option<&'a str>,
}

/// One address record of the additional section.
#[derive(Clone, Copy, PartialEq)]
struct Glue<'a> {
    endpoint: Option<&'a str>,
    ip: IpAddr,
}

impl Dns {
    /// [`Dns::answer_wire_direct_parsed`] reading the query itself.
    #[cfg(test)]
    pub(super) fn answer_wire_direct(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        parse_query(query)
            .is_some_and(|q| self.answer_wire_direct_parsed(query, &q, transport, out))
    }

    /// The response to a plain query (already read by the fast path's
    /// parser), appended to `out`; `false`, with `out` unchanged, when the
    /// query or its response is of a shape the general path handles.
    pub(super) fn answer_wire_direct_parsed(
        &self,
        query: &[u8],
        q: &Query,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        // A parsed name is legal (plain labels of 1 to 63 octets, at most
        // 255 in all), as `check_name` would find.
        let Some(qname) = q.name() else {
            return false;
        };
        let qtype = RecordType::from_u16(q.qtype);
        if qtype == RecordType::Srv
            && let Some(done) = self.srv_wire(query, q, qname, transport, out)
        {
            return done;
        }
        let mut answer = Answer::default();
        let soa = self.answer_without_soa(qname, qtype, &mut answer);
        let (rcode, aa) = match answer.rcode() {
            None => (Rcode::Refused, false),
            Some(rcode) => (rcode, answer.outcome != Outcome::Refused),
        };
        let count = |n: usize| u16::try_from(n).ok();
        let (Some(an), Some(ns), Some(ar)) = (
            count(answer.answer.len()),
            count(answer.authority.len() + usize::from(soa.is_some())),
            count(answer.additional.len() + usize::from(q.has_edns())),
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
        w.wire_name(q.wire_name(query), true);
        let mut ok = true;
        w.u16(q.qtype);
        w.u16(CLASS_IN);
        for r in answer.answer.iter().chain(&answer.authority) {
            ok = ok && w.record(r).is_ok();
        }
        if let Some(zone_q) = soa {
            ok = ok && self.write_soa(&mut w, zone_q).is_some();
        }
        for r in &answer.additional {
            ok = ok && w.record(r).is_ok();
        }
        q.write_opt(w.buf);
        if !ok || out.len() - base > q.limit(transport) {
            out.truncate(base);
            return false;
        }
        true
    }

    /// The zone's SOA record ([`Dns::soa`]) written without making it.
    fn write_soa(&self, w: &mut Writer<'_>, zone_q: &str) -> Option<()> {
        let (ttl, numbers) = self.soa_numbers();
        let join = |label: &str| {
            let mut n = NameBuf::new();
            n.push(label)?;
            if zone_q != "." {
                n.push(zone_q)?;
            }
            Some(n)
        };
        let (mname, rname) = (join("ns.dns.")?, join("hostmaster.")?);
        let len_at = w.start_record(zone_q, RecordType::Soa, ttl).ok()?;
        w.soa_data(mname.as_str(), rname.as_str(), numbers).ok()?;
        w.end_record(len_at).ok()
    }

    /// An SRV answer of at most [`MAX_SRV`] records, written as the
    /// general path would write what [`Dns::query`] gives; `None` (with
    /// `out` unchanged) for every other outcome (NXDOMAIN, NODATA, many
    /// records, truncation), which the caller answers another way.
    fn srv_wire(
        &self,
        query: &[u8],
        q: &Query,
        qname: &str,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        let lower = q.lower()?;
        let zone = self.zone_of(lower)?;
        let zone_len = self.zones[zone].len();
        if self.zones[zone] == "." {
            return None;
        }
        let zone_q = &qname[qname.len() - zone_len..];
        let question = Question {
            qname,
            lower,
            zone,
            zone_q,
            all_ports: true,
        };
        let mut entries: [Option<Entry<'_>>; MAX_SRV] = [None; MAX_SRV];
        let (mut n, mut more) = (0, false);
        self.services(
            &question,
            RecordType::Srv,
            &mut |e| match entries.get_mut(n) {
                Some(slot) => {
                    *slot = Some(e);
                    n += 1;
                }
                None => more = true,
            },
        )
        .ok()?;
        if more || n == 0 {
            return None;
        }
        // As `Dns::srv`: weight floor(100 / N) over every entry; SRV
        // records unique by (port, target), glue by (target, address).
        let total = 100.0 * n as f64;
        let w1 = (100.0 / total * 100.0).floor();
        let weight = if w1 < 1.0 { 1 } else { w1 as u16 };
        let mut svc: Option<&SvcEntry> = None;
        let mut srvs: [Option<Srv<'_>>; MAX_SRV] = [None; MAX_SRV];
        let mut glue: [Option<Glue<'_>>; MAX_SRV] = [None; MAX_SRV];
        let (mut n_srv, mut n_glue) = (0, 0);
        for e in entries[..n].iter().flatten() {
            if e.port == -1 {
                continue;
            }
            let Host::Ip(ip) = e.host else { continue };
            let Ok(port) = u16::try_from(e.port) else {
                continue;
            };
            // One Service per answer, whose name every target carries.
            let s = e.svc?;
            if svc.is_some_and(|prev| !std::ptr::eq(prev, s)) {
                return None;
            }
            svc = Some(s);
            let ip = match as_v4(ip) {
                Ok(v4) => IpAddr::V4(v4),
                Err(v6) => IpAddr::V6(v6),
            };
            let srv = Srv {
                port,
                endpoint: e.endpoint,
            };
            if !srvs[..n_srv].contains(&Some(srv)) {
                srvs[n_srv] = Some(srv);
                n_srv += 1;
            }
            let g = Glue {
                endpoint: e.endpoint,
                ip,
            };
            if !glue[..n_glue].contains(&Some(g)) {
                glue[n_glue] = Some(g);
                n_glue += 1;
            }
        }
        let svc = svc?;
        if n_srv == 0 {
            return None;
        }
        // Targets in wire form: their labels, then the zone as the query
        // carries it (a name's offsets are the same in both forms).
        let qwire = q.wire_name(query);
        let zone_wire = qwire.get(qname.len() - zone_len..)?;
        let mut target_buf = [0u8; 256];
        let target = |target_buf: &mut [u8; 256], endpoint: Option<&str>| -> Option<usize> {
            let mut len = 0;
            let labels = [
                endpoint.unwrap_or_default(),
                &svc.name,
                &svc.namespace,
                "svc",
            ];
            for label in labels.into_iter().skip(usize::from(endpoint.is_none())) {
                let plain = (1..=63).contains(&label.len())
                    && !label.bytes().any(|b| b == b'.' || b == b'\\');
                if !plain {
                    return None;
                }
                *target_buf.get_mut(len)? = label.len() as u8;
                target_buf
                    .get_mut(len + 1..len + 1 + label.len())?
                    .copy_from_slice(label.as_bytes());
                len += 1 + label.len();
            }
            target_buf
                .get_mut(len..len + zone_wire.len())?
                .copy_from_slice(zone_wire);
            len += zone_wire.len();
            (len <= 255).then_some(len)
        };
        let ttl = self.config.ttl;
        let base = out.len();
        let mut w = Writer::new(out);
        let written = (|| {
            w.buf.extend_from_slice(&query[..2]);
            w.u16(q.response_flags(true, Rcode::NoError.to_u8()));
            w.u16(1);
            w.u16(n_srv as u16);
            w.u16(0);
            w.u16((n_glue + usize::from(q.has_edns())) as u16);
            w.wire_name(qwire, true);
            w.u16(q.qtype);
            w.u16(CLASS_IN);
            for srv in srvs[..n_srv].iter().flatten() {
                let len = target(&mut target_buf, srv.endpoint)?;
                let len_at = w.start_record_wire(qwire, RecordType::Srv, ttl);
                w.srv_data_wire(0, weight, srv.port, &target_buf[..len]);
                w.end_record(len_at).ok()?;
            }
            for g in glue[..n_glue].iter().flatten() {
                let len = target(&mut target_buf, g.endpoint)?;
                let rtype = match g.ip {
                    IpAddr::V4(_) => RecordType::A,
                    IpAddr::V6(_) => RecordType::Aaaa,
                };
                let len_at = w.start_record_wire(&target_buf[..len], rtype, ttl);
                match g.ip {
                    IpAddr::V4(v4) => w.buf.extend_from_slice(&v4.octets()),
                    IpAddr::V6(v6) => w.buf.extend_from_slice(&v6.octets()),
                }
                w.end_record(len_at).ok()?;
            }
            q.write_opt(w.buf);
            Some(())
        })();
        if written.is_none() || out.len() - base > q.limit(transport) {
            out.truncate(base);
            return None;
        }
        Some(true)
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
             "metadata": {"name": "v6", "namespace": "default"},
             "spec": {"clusterIPs": ["fd00::60"], "ipFamilies": ["IPv6"],
                      "ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "http", "protocol": "UDP"},
                                {"port": 82}]}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "wide", "namespace": "default"},
             "spec": {"clusterIPs": ["10.96.0.70", "fd00::70"], "ipFamilies": ["IPv4", "IPv6"],
                      "ipFamilyPolicy": "PreferDualStack",
                      "ports": [{"port": 1, "name": "p1"}, {"port": 2, "name": "p2"}, {"port": 3, "name": "p3"},
                                {"port": 4, "name": "p4"}, {"port": 5, "name": "p5"}, {"port": 6, "name": "p6"},
                                {"port": 7, "name": "p7"}, {"port": 8, "name": "p8"}, {"port": 9, "name": "p9"}]}},
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
            "_http._tcp.WEB.default.svc.cluster.local.",
            "_http._udp.web.default.svc.cluster.local.",
            "_nope._tcp.web.default.svc.cluster.local.",
            "_http._tcp.v6.default.svc.cluster.local.",
            "_http.v6.default.svc.cluster.local.",
            "http.v6.default.svc.cluster.local.",
            "v6.default.svc.cluster.local.",
            "wide.default.svc.cluster.local.",
            "_p9._tcp.wide.default.svc.cluster.local.",
            "_pg._udp.db.default.svc.cluster.local.",
            "_pg._tcp.db-0.db.default.svc.cluster.local.",
            "hostmaster.cluster.local.",
            "dns.cluster.local.",
            "Ns.Dns.cluster.local.",
            "svc.cluster.local.",
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
        let mut srv_hits = 0;
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
                        let mut srv_out = vec![7];
                        if qtype == RecordType::Srv
                            && let Some(parsed) = parse_query(&q)
                            && let Some(qname) = parsed.name()
                            && let Some(done) = dns.srv_wire(&q, &parsed, qname, t, &mut srv_out)
                        {
                            assert!(done);
                            srv_hits += 1;
                            assert_eq!(
                                Some(srv_out[1..].to_vec()),
                                general(&dns, &q, t),
                                "{name} {qtype} {t:?}"
                            );
                        } else {
                            assert_eq!(srv_out, [7], "unchanged when not taken");
                        }
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
        assert!(srv_hits >= 60, "direct SRV path taken {srv_hits} times");
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
