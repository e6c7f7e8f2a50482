//! The common question answered without the general machinery: A or AAAA
//! of `<service>.<namespace>.svc.<zone>` for a Service with cluster IPs.
//!
//! [`Dns::query`] takes it for its answer records, and
//! [`Dns::answer_wire_into`] for a whole response: the question is read in
//! place (plain labels, one question, at most an OPT record), the name is
//! folded to lower case on the stack, and the response is written straight
//! into the caller's buffer, each answer's owner a compression pointer to
//! the question. Anything else (other shapes, escapes, NXDOMAIN, NODATA,
//! truncation) takes the general path, which gives the same bytes.

use std::net::IpAddr;

use super::wire::{MAX_UDP_SIZE, Transport};
use super::{
    Answer, Dns, Ips, Outcome, RData, Record, RecordType, SvcEntry, SvcKind, as_v4, is_reverse_name,
};

/// The longest name on the wire (RFC 1035 2.3.4).
const MAX_NAME: usize = 255;

/// Header and question offsets of a DNS message.
const HEADER: usize = 12;

/// Where the question name starts: the target of every answer's pointer.
const QUESTION_POINTER: [u8; 2] = [0xC0, HEADER as u8];

/// The OPT record type.
const OPT: u16 = 41;

impl Dns {
    /// The cluster IPs a `<service>.<namespace>.svc.<zone>` name answers
    /// with (lower-case FQDN), when the general lookup would give exactly
    /// one entry per cluster IP; `None` sends the caller down that path.
    ///
    /// `zone` is the name's zone ([`Dns::zone_of`]): only the forward zone
    /// (index 0) holds Services.
    pub(super) fn cluster_ips_of(&self, lower: &str, zone: usize) -> Option<&Ips> {
        if zone != 0 {
            return None;
        }
        let zone = self.zones.first()?;
        if zone == "." || !lower.ends_with(zone.as_str()) || is_reverse_name(lower) {
            return None;
        }
        let base = lower[..lower.len() - zone.len()].strip_suffix('.')?;
        if base.contains('\\') {
            return None;
        }
        let mut labels = base.split('.');
        let (service, namespace, svc) = (labels.next()?, labels.next()?, labels.next()?);
        if labels.next().is_some() || svc != "svc" || service.is_empty() || namespace.is_empty() {
            return None;
        }
        self.answerable_cluster_ips(namespace, service)
    }

    /// [`Dns::cluster_ips_of`] for a lower-case FQDN of plain labels
    /// whose first `n_dots` (at most three) dots are at `dots`: the zone
    /// compared once, no second split.
    fn service_ips(&self, lower: &str, dots: [usize; 3], n_dots: usize) -> Option<&Ips> {
        if n_dots < 3 || !self.forward_zone_first {
            return None;
        }
        // The flag also says no such name is a reverse name.
        let zone = self.zones.first()?;
        if lower.get(dots[2] + 1..)? != zone.as_str()
            || lower.as_bytes().get(dots[1] + 1..dots[2]) != Some(b"svc")
        {
            return None;
        }
        // `<service>.<namespace>` is the Service's flat key as it stands.
        let entry = self.service_by_key(lower.as_bytes().get(..dots[1])?, dots[0])?;
        self.answerable_ips(entry)
    }

    /// The cluster IPs of `namespace/service` when the Service has a
    /// cluster IP and a port, and is not hidden by `ignore_empty_service`.
    fn answerable_cluster_ips(&self, namespace: &str, service: &str) -> Option<&Ips> {
        self.answerable_ips(self.service(namespace, service)?)
    }

    /// [`Dns::answerable_cluster_ips`] of an entry found.
    fn answerable_ips<'s>(&self, entry: &'s SvcEntry) -> Option<&'s Ips> {
        if !self.ns_states.get(entry.ns as usize)?.answerable() {
            return None;
        }
        let empty =
            self.config.ignore_empty_service && entry.subsets.iter().all(|s| s.addrs.is_empty());
        match &entry.kind {
            SvcKind::ClusterIp { ips, ports } if !ports.is_empty() && !empty => Some(ips),
            _ => None,
        }
    }

    /// The A or AAAA records of a Service's cluster IPs, named as asked
    /// (what the general path gives for the names [`Dns::cluster_ips_of`]
    /// accepts); none when no address is of the family.
    pub(super) fn cluster_ip_records(
        &self,
        qname: &str,
        qtype: RecordType,
        ips: &Ips,
        records: &mut Vec<Record>,
    ) {
        for &ip in ips.iter() {
            let data = match (as_v4(ip), qtype) {
                (Ok(v4), RecordType::A) => RData::A(v4),
                (Err(v6), RecordType::Aaaa) => RData::Aaaa(v6),
                _ => continue,
            };
            if records.iter().any(|r| r.data == data) {
                continue;
            }
            if records.capacity() == 0 {
                records.reserve_exact(ips.iter().count());
            }
            records.push(Record::new(qname, self.config.ttl, data));
        }
    }

    /// The A/AAAA answer of a Service's cluster IPs for a fully qualified
    /// `name`, written over `out` with its records reused; `false`, with
    /// `out` unchanged, when the name is of another shape, not legal, or
    /// the answer would be empty (the general path answers).
    pub(super) fn cluster_ip_answer(
        &self,
        name: &str,
        qtype: RecordType,
        out: &mut Answer,
    ) -> bool {
        // Only plain names of at most 254 octets (no escapes: those take
        // the general path); the first three labels must be legal, and
        // the rest is the zone itself when the name is answered here.
        let bytes = name.as_bytes();
        if bytes.len() + 1 > MAX_NAME || !name.is_ascii() || bytes.contains(&b'\\') {
            return false;
        }
        let mut dots = [0usize; 3];
        let mut label_start = 0;
        for slot in &mut dots {
            let Some(len) = bytes[label_start..].iter().position(|&b| b == b'.') else {
                return false;
            };
            if len == 0 || len > 63 {
                return false;
            }
            *slot = label_start + len;
            label_start += len + 1;
        }
        let n_dots = dots.len();
        // Folded to lower case on the stack only when it has capitals.
        let upper = bytes
            .iter()
            .fold(false, |any, b| any | b.is_ascii_uppercase());
        let folded;
        let lower = if upper {
            folded = fold_lower(bytes);
            match folded
                .get(..bytes.len())
                .and_then(|f| std::str::from_utf8(f).ok())
            {
                Some(lower) => lower,
                None => return false,
            }
        } else {
            name
        };
        let Some(ips) = self.service_ips(lower, dots, n_dots) else {
            return false;
        };
        let ttl = self.config.ttl;
        let mut n = 0;
        for &ip in ips.iter() {
            let data = match (as_v4(ip), qtype) {
                (Ok(v4), RecordType::A) => RData::A(v4),
                (Err(v6), RecordType::Aaaa) => RData::Aaaa(v6),
                _ => continue,
            };
            if out.answer[..n.min(out.answer.len())]
                .iter()
                .any(|r| r.data == data)
            {
                continue;
            }
            if n == 0 {
                out.authority.clear();
                out.additional.clear();
                out.chase.clear();
            }
            match out.answer.get_mut(n) {
                Some(r) => {
                    r.name.set(name);
                    r.ttl = ttl;
                    r.data = data;
                }
                None => {
                    if out.answer.capacity() == 0 {
                        out.answer.reserve_exact(ips.iter().count());
                    }
                    out.answer.push(Record::new(name, ttl, data));
                }
            }
            n += 1;
        }
        if n == 0 {
            return false;
        }
        out.answer.truncate(n);
        out.outcome = Outcome::Answer;
        true
    }

    /// [`Dns::answer_wire_fast_parsed`] reading the query itself.
    #[cfg(test)]
    pub(super) fn answer_wire_fast(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        parse_query(query).is_some_and(|q| self.answer_wire_fast_parsed(query, &q, transport, out))
    }

    /// The response to a plain A/AAAA query (already read by
    /// [`parse_query`]) for a Service with cluster IPs, appended to `out`;
    /// `false`, with `out` unchanged, when the query is of another shape
    /// (the general path answers it).
    pub(super) fn answer_wire_fast_parsed(
        &self,
        query: &[u8],
        q: &Query,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        if !matches!(q.qtype, 1 | 28) {
            return false;
        }
        let Some(lower) = q.lower() else {
            return false;
        };
        let ips = if self.forward_zone_first {
            self.service_ips(lower, q.dots, q.n_dots)
        } else {
            self.zone_of(lower)
                .and_then(|zone| self.cluster_ips_of(lower, zone))
        };
        let Some(ips) = ips else {
            return false;
        };
        let (a, rdlen) = match q.qtype {
            1 => (true, 4usize),
            _ => (false, 16usize),
        };
        // The addresses of the asked family, duplicates dropped, in order.
        let mut picked: [Option<IpAddr>; 8] = [None; 8];
        let mut n = 0;
        for &ip in ips.iter() {
            let ip = match (as_v4(ip), a) {
                (Ok(v4), true) => IpAddr::V4(v4),
                (Err(v6), false) => IpAddr::V6(v6),
                _ => continue,
            };
            if picked[..n].contains(&Some(ip)) {
                continue;
            }
            if n == picked.len() {
                return false;
            }
            picked[n] = Some(ip);
            n += 1;
        }
        if n == 0 {
            return false; // NODATA: the general path adds the SOA.
        }
        let limit = q.limit(transport);
        let size = q.question_end + n * (12 + rdlen) + if q.edns.is_some() { 11 } else { 0 };
        if size > limit {
            return false;
        }
        out.reserve(size);
        out.extend_from_slice(&query[..2]);
        out.extend_from_slice(&q.response_flags(true, 0).to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&u16::from(q.edns.is_some()).to_be_bytes());
        out.extend_from_slice(&query[HEADER..q.question_end]);
        let ttl = self.config.ttl.to_be_bytes();
        for ip in picked[..n].iter().flatten() {
            out.extend_from_slice(&QUESTION_POINTER);
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&ttl);
            out.extend_from_slice(&(rdlen as u16).to_be_bytes());
            match ip {
                IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
                IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
            }
        }
        q.write_opt(out);
        true
    }
}

/// `name` (at most [`MAX_NAME`] octets) in lower case, on the stack.
fn fold_lower(name: &[u8]) -> [u8; MAX_NAME + 1] {
    let mut buf = [0u8; MAX_NAME + 1];
    for (d, b) in buf.iter_mut().zip(name) {
        *d = b.to_ascii_lowercase();
    }
    buf
}

/// The EDNS facts a response echoes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Edns {
    udp_size: u16,
    dnssec_ok: bool,
}

/// A query of the common shape, read in place.
pub(super) struct Query {
    /// The question name as asked, presentation form (FQDN).
    pub(super) name: [u8; MAX_NAME + 1],
    /// The question name folded to lower case.
    lower: [u8; MAX_NAME + 1],
    pub(super) lower_len: usize,
    /// Where the first `n_dots` (at most three) labels end in the name.
    pub(super) dots: [usize; 3],
    pub(super) n_dots: usize,
    /// Where the question section ends.
    question_end: usize,
    /// The question type.
    pub(super) qtype: u16,
    rd: bool,
    cd: bool,
    edns: Option<Edns>,
}

impl Query {
    /// The question name as asked.
    pub(super) fn name(&self) -> Option<&str> {
        std::str::from_utf8(&self.name[..self.lower_len]).ok()
    }

    /// The question name folded to lower case.
    pub(super) fn lower(&self) -> Option<&str> {
        std::str::from_utf8(&self.lower[..self.lower_len]).ok()
    }

    /// The question name in wire form, as the query carries it (plain
    /// labels, no pointers): `query` is the message this was read from.
    pub(super) fn wire_name<'m>(&self, query: &'m [u8]) -> &'m [u8] {
        query
            .get(HEADER..self.question_end.saturating_sub(4))
            .unwrap_or_default()
    }

    /// The most a response over `transport` may hold.
    pub(super) fn limit(&self, transport: Transport) -> usize {
        match (transport, self.edns) {
            (Transport::Tcp, _) => 65535,
            (Transport::Udp, Some(e)) => usize::from(e.udp_size.clamp(512, MAX_UDP_SIZE)),
            (Transport::Udp, None) => 512,
        }
    }

    /// The response's flags for this `rcode`: QR, AA as given, RD and CD
    /// copied.
    pub(super) fn response_flags(&self, aa: bool, rcode: u8) -> u16 {
        0x8000
            | (u16::from(aa) << 10)
            | (u16::from(self.rd) << 8)
            | (u16::from(self.cd) << 4)
            | u16::from(rcode)
    }

    /// Appends the response's OPT record (the echo of the query's), if any.
    pub(super) fn write_opt(&self, out: &mut Vec<u8>) {
        if let Some(e) = self.edns {
            out.push(0);
            out.extend_from_slice(&OPT.to_be_bytes());
            out.extend_from_slice(&e.udp_size.clamp(512, MAX_UDP_SIZE).to_be_bytes());
            out.extend_from_slice(&(u32::from(e.dnssec_ok) << 15).to_be_bytes());
            out.extend_from_slice(&0u16.to_be_bytes());
        }
    }

    /// Whether the query carried an OPT record.
    pub(super) fn has_edns(&self) -> bool {
        self.edns.is_some()
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// A QUERY with one IN question whose name is plain labels (letters,
/// digits, `-`, `_`), nothing else but an optional version-0 OPT record;
/// `None` for every other message.
pub(super) fn parse_query(m: &[u8]) -> Option<Query> {
    if m.len() < HEADER {
        return None;
    }
    let flags = be16(m, 2)?;
    // QR clear, opcode QUERY.
    if flags & 0xF800 != 0 {
        return None;
    }
    let counts = [be16(m, 4)?, be16(m, 6)?, be16(m, 8)?, be16(m, 10)?];
    if counts[0] != 1 || counts[1] != 0 || counts[2] != 0 || counts[3] > 1 {
        return None;
    }
    let mut q = Query {
        name: [0; MAX_NAME + 1],
        lower: [0; MAX_NAME + 1],
        lower_len: 0,
        dots: [0; 3],
        n_dots: 0,
        question_end: 0,
        qtype: 0,
        rd: flags & 0x0100 != 0,
        cd: flags & 0x0010 != 0,
        edns: None,
    };
    let mut pos = HEADER;
    loop {
        let len = usize::from(*m.get(pos)?);
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 || pos - HEADER + len > MAX_NAME - 1 {
            return None;
        }
        let label = m.get(pos..pos + len)?;
        for &b in label {
            if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return None;
            }
            q.name[q.lower_len] = b;
            q.lower[q.lower_len] = b.to_ascii_lowercase();
            q.lower_len += 1;
        }
        q.name[q.lower_len] = b'.';
        q.lower[q.lower_len] = b'.';
        if let Some(slot) = q.dots.get_mut(q.n_dots) {
            *slot = q.lower_len;
            q.n_dots += 1;
        }
        q.lower_len += 1;
        pos += len;
    }
    if q.lower_len == 0 {
        return None;
    }
    q.qtype = be16(m, pos)?;
    if be16(m, pos + 2)? != 1 {
        return None;
    }
    pos += 4;
    q.question_end = pos;
    if counts[3] == 1 {
        // OPT: root owner, type 41, class = payload size, TTL = extended
        // rcode, version, flags; then the options.
        if *m.get(pos)? != 0 || be16(m, pos + 1)? != OPT {
            return None;
        }
        let udp_size = be16(m, pos + 3)?;
        let version = *m.get(pos + 6)?;
        let dnssec_ok = be16(m, pos + 7)? & 0x8000 != 0;
        let rdlen = usize::from(be16(m, pos + 9)?);
        pos += 11;
        let rdata = m.get(pos..pos + rdlen)?;
        let mut o = 0;
        while o < rdata.len() {
            let len = usize::from(be16(rdata, o + 2)?);
            o += 4 + len;
            if o > rdata.len() {
                return None;
            }
        }
        if version != 0 {
            return None;
        }
        pos += rdlen;
        q.edns = Some(Edns {
            udp_size,
            dnssec_ok,
        });
    }
    (pos == m.len()).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::cluster::Cluster;
    use crate::dns::DnsConfig;
    use crate::dns::wire::{self, Edns as WireEdns, Message};

    fn dns() -> Dns {
        let mut cluster = Cluster::new(Default::default()).expect("cluster");
        for json in [
            r#"{"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": "web", "namespace": "default"},
              "spec": {"clusterIPs": ["10.96.0.20", "fd00::20"], "ipFamilies": ["IPv4", "IPv6"],
                       "ipFamilyPolicy": "PreferDualStack", "ports": [{"port": 80, "name": "http"}]}}"#,
            r#"{"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": "noports", "namespace": "default"},
              "spec": {"clusterIPs": ["10.96.0.21"]}}"#,
        ] {
            let o: Object = serde_json::from_str(json).expect("json");
            let _ = cluster.apply(o);
        }
        Dns::new(&cluster, DnsConfig::default()).expect("dns")
    }

    /// The general path's bytes (the fast path bypassed).
    fn general(dns: &Dns, query: &[u8], t: Transport) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        dns.answer_wire_general(query, t, &mut out).then_some(out)
    }

    fn queries() -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for name in [
            "web.default.svc.cluster.local.",
            "WEB.Default.svc.Cluster.Local.",
            "kubernetes.default.svc.cluster.local.",
            "noports.default.svc.cluster.local.",
            "nope.default.svc.cluster.local.",
            "web.nosuch.svc.cluster.local.",
            "http.web.default.svc.cluster.local.",
            "_http._tcp.web.default.svc.cluster.local.",
            "web.default.pod.cluster.local.",
            "web.default.svc.cluster.local.example.",
            "20.0.96.10.in-addr.arpa.",
        ] {
            for qtype in [RecordType::A, RecordType::Aaaa, RecordType::Srv] {
                let mut m = Message::query(0x1234, name, qtype);
                all.push(wire::encode(&m).expect("encode"));
                m.header.cd = true;
                m.header.rd = false;
                m.edns = Some(WireEdns {
                    udp_size: 1232,
                    version: 0,
                    dnssec_ok: true,
                    options: vec![(10, vec![1, 2, 3, 4, 5, 6, 7, 8])],
                });
                all.push(wire::encode(&m).expect("encode"));
                m.edns = Some(WireEdns {
                    udp_size: 100,
                    version: 1,
                    dnssec_ok: false,
                    options: Vec::new(),
                });
                all.push(wire::encode(&m).expect("encode"));
            }
        }
        all
    }

    #[test]
    fn fast_path_gives_the_general_bytes() {
        let dns = dns();
        let mut fast_hits = 0;
        for q in queries() {
            for t in [Transport::Udp, Transport::Tcp] {
                let mut out = vec![7];
                let fast = dns.answer_wire_fast(&q, t, &mut out);
                if fast {
                    fast_hits += 1;
                    assert_eq!(Some(out[1..].to_vec()), general(&dns, &q, t), "{q:?}");
                } else {
                    assert_eq!(out, [7], "unchanged when not taken");
                }
                let mut via_api = Vec::new();
                assert_eq!(
                    dns.answer_wire_into(&q, t, &mut via_api),
                    general(&dns, &q, t).is_some()
                );
                assert_eq!(Some(via_api), general(&dns, &q, t).or(Some(Vec::new())));
            }
        }
        assert!(fast_hits >= 8, "fast path taken {fast_hits} times");
    }

    #[test]
    fn malformed_queries_are_left_to_the_general_path() {
        let dns = dns();
        let good = wire::encode(&Message::query(
            1,
            "web.default.svc.cluster.local.",
            RecordType::A,
        ))
        .expect("encode");
        let mut out = Vec::new();
        for cut in 0..good.len() {
            assert!(!dns.answer_wire_fast(&good[..cut], Transport::Udp, &mut out));
            assert!(out.is_empty());
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(!dns.answer_wire_fast(&trailing, Transport::Udp, &mut out));
        let mut escaped = good.clone();
        escaped[13] = b'.';
        assert!(!dns.answer_wire_fast(&escaped, Transport::Udp, &mut out));
        assert!(dns.answer_wire_fast(&good, Transport::Udp, &mut out));
    }

    #[test]
    fn a_reused_answer_equals_a_fresh_one() {
        let dns = dns();
        let mut reused = crate::dns::Answer::default();
        let names = [
            "web.default.svc.cluster.local.",
            "WEB.Default.svc.Cluster.Local.",
            "nope.default.svc.cluster.local.",
            "kubernetes.default.svc.cluster.local.",
            "noports.default.svc.cluster.local.",
            "_http._tcp.web.default.svc.cluster.local.",
            "web.default.svc.cluster.local",
            "20.0.96.10.in-addr.arpa.",
            "web.default.SVC.Cluster.local.",
            "web.default.svc.cluster.local.example.",
            "web.default.svc.cluster.",
            "web..default.svc.cluster.local.",
            "w\\eb.default.svc.cluster.local.",
            "x.web.default.svc.cluster.local.",
            "web.default.pod.cluster.local.",
        ];
        for _ in 0..2 {
            for name in names {
                for qtype in [
                    RecordType::A,
                    RecordType::Aaaa,
                    RecordType::Srv,
                    RecordType::Ptr,
                ] {
                    let Ok(fresh) = dns.query(name, qtype) else {
                        assert!(dns.query_general(name, qtype).is_err());
                        assert!(dns.query_into(name, qtype, &mut reused).is_err());
                        continue;
                    };
                    dns.query_into(name, qtype, &mut reused).expect("answer");
                    assert_eq!(reused, fresh, "{name} {qtype}");
                    assert_eq!(fresh, dns.query_general(name, qtype).expect("answer"));
                }
            }
        }
        let long = format!("{}.default.svc.cluster.local.", "w".repeat(64));
        assert_eq!(
            dns.query_into(&long, RecordType::A, &mut reused).is_err(),
            dns.query_general(&long, RecordType::A).is_err()
        );
        let before = reused.clone();
        assert!(dns.query_into("a..b.", RecordType::A, &mut reused).is_err());
        assert_eq!(reused, before, "left as it was on error");
    }

    #[test]
    fn cluster_ips_only_for_service_names() {
        let dns = dns();
        assert!(
            dns.cluster_ips_of("web.default.svc.cluster.local.", 0)
                .is_some()
        );
        assert!(
            dns.cluster_ips_of("noports.default.svc.cluster.local.", 0)
                .is_none()
        );
        assert!(
            dns.cluster_ips_of("x.web.default.svc.cluster.local.", 0)
                .is_none()
        );
        assert!(
            dns.cluster_ips_of("web.default.pod.cluster.local.", 0)
                .is_none()
        );
        assert!(
            dns.cluster_ips_of("default.svc.cluster.local.", 0)
                .is_none()
        );
    }
}
