//! DNS messages on the wire (RFC 1035 section 4, EDNS0 of RFC 6891).
//!
//! A decoder and an encoder written for this crate (no dependency, so the
//! same code runs on `wasm32`): names with compression pointers (followed
//! backwards only, so no loop), the record types cluster DNS serves typed
//! and every other one kept as opaque data, the OPT pseudo-record read into
//! [`Edns`]. Decoding never panics: any input is a [`Message`] or a
//! [`DnsError::Malformed`] naming the byte where reading stopped.
//!
//! [`Dns::answer_wire`] turns a query message into the response message.
//!
//! ```
//! use svcroute::dns::wire::{self, Message};
//! use svcroute::dns::{Dns, DnsConfig, RecordType, Transport};
//!
//! let cluster = svcroute::cluster::Cluster::new(Default::default())?;
//! let dns = Dns::new(&cluster, DnsConfig::default())?;
//! let query = Message::query(0x1234, "kubernetes.default.svc.cluster.local.", RecordType::A);
//! let bytes = dns.answer_wire(&wire::encode(&query)?, Transport::Udp).unwrap();
//! let response = wire::decode(&bytes)?;
//! assert_eq!(response.header.id, 0x1234);
//! assert!(response.header.qr && response.header.aa);
//! assert_eq!(response.answers[0].to_string(),
//!            "kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1");
//!
//! // Malformed queries get FORMERR, never a panic.
//! let bad = dns.answer_wire(&[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63], Transport::Udp).unwrap();
//! assert_eq!(wire::decode(&bad)?.header.rcode, 1);
//! # Ok::<(), svcroute::Error>(())
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Dns, DnsError, Outcome, RData, Rcode, Record, RecordType};

/// The class `IN`.
pub const CLASS_IN: u16 = 1;

/// The fixed header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Query identifier, echoed in the response.
    pub id: u16,
    /// QR: this is a response.
    pub qr: bool,
    /// OPCODE (0 = QUERY).
    pub opcode: u8,
    /// AA: authoritative answer.
    pub aa: bool,
    /// TC: truncated.
    pub tc: bool,
    /// RD: recursion desired.
    pub rd: bool,
    /// RA: recursion available.
    pub ra: bool,
    /// AD: authentic data.
    pub ad: bool,
    /// CD: checking disabled.
    pub cd: bool,
    /// RCODE, with the EDNS extended bits above the low four (12 bits).
    pub rcode: u16,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked (presentation format, trailing dot, `\.` and `\DDD`
    /// escapes for bytes that need them).
    pub name: String,
    /// QTYPE.
    pub qtype: RecordType,
    /// QCLASS (1 = IN).
    pub qclass: u16,
}

/// The EDNS0 OPT pseudo-record (RFC 6891).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edns {
    /// The requestor's UDP payload size.
    pub udp_size: u16,
    /// EDNS version (0).
    pub version: u8,
    /// DO: DNSSEC OK.
    pub dnssec_ok: bool,
    /// Options: (code, data).
    pub options: Vec<(u16, Vec<u8>)>,
}

/// A DNS message. Records are class `IN` (the class of decoded records is
/// not kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The header (counts are derived from the sections).
    pub header: Header,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section, without the OPT record.
    pub additional: Vec<Record>,
    /// The OPT record, if any.
    pub edns: Option<Edns>,
}

impl Message {
    /// A standard query with recursion desired.
    ///
    /// ```
    /// use svcroute::dns::{RecordType, wire::Message};
    /// let q = Message::query(7, "web.shop.svc.cluster.local.", RecordType::Srv);
    /// assert_eq!(q.questions[0].qtype, RecordType::Srv);
    /// assert!(q.header.rd && !q.header.qr);
    /// ```
    pub fn query(id: u16, name: &str, qtype: RecordType) -> Message {
        Message {
            header: Header {
                id,
                rd: true,
                ..Header::default()
            },
            questions: vec![Question {
                name: name.to_owned(),
                qtype,
                qclass: CLASS_IN,
            }],
            ..Message::default()
        }
    }
}

// ------------------------------------------------------------------ decode

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn malformed<T>(offset: usize, reason: &'static str) -> Result<T, DnsError> {
    Err(DnsError::Malformed { offset, reason })
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, DnsError> {
        let b = *self.buf.get(self.pos).ok_or(DnsError::Malformed {
            offset: self.pos,
            reason: "message ends early",
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Result<u32, DnsError> {
        Ok(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return malformed(self.pos, "message ends early");
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A (possibly compressed) name, in presentation format.
    fn name(&mut self) -> Result<String, DnsError> {
        let mut out = String::with_capacity(64);
        let mut pos = self.pos;
        let mut jumped = false;
        let mut wire_len = 1usize;
        // Pointers must point strictly backwards: no loops.
        let mut limit = self.pos;
        loop {
            let Some(&len) = self.buf.get(pos) else {
                return malformed(pos, "name runs past the end");
            };
            match len & 0xC0 {
                0x00 => {
                    if len == 0 {
                        pos += 1;
                        if !jumped {
                            self.pos = pos;
                        }
                        break;
                    }
                    let start = pos + 1;
                    let end = start + len as usize;
                    if end > self.buf.len() {
                        return malformed(pos, "label runs past the end");
                    }
                    wire_len += len as usize + 1;
                    if wire_len > 255 {
                        return malformed(pos, "name longer than 255 octets");
                    }
                    push_label(&mut out, &self.buf[start..end]);
                    pos = end;
                }
                0xC0 => {
                    let Some(&low) = self.buf.get(pos + 1) else {
                        return malformed(pos, "pointer runs past the end");
                    };
                    let target = (((len & 0x3F) as usize) << 8) | low as usize;
                    if target >= limit {
                        return malformed(pos, "compression pointer does not point backwards");
                    }
                    if !jumped {
                        self.pos = pos + 2;
                    }
                    jumped = true;
                    limit = target;
                    pos = target;
                }
                _ => return malformed(pos, "unknown label type"),
            }
        }
        if out.is_empty() {
            out.push('.');
        }
        Ok(out)
    }
}

fn push_label(out: &mut String, label: &[u8]) {
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(b as char);
            }
            0x21..=0x7E => out.push(b as char),
            _ => {
                out.push('\\');
                out.push_str(&format!("{b:03}"));
            }
        }
    }
    out.push('.');
}

/// Reads a message.
///
/// ```
/// use svcroute::dns::wire;
/// assert!(wire::decode(&[0; 5]).is_err());
/// let m = wire::decode(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
/// assert_eq!(m.header.id, 1);
/// # Ok::<(), svcroute::dns::DnsError>(())
/// ```
pub fn decode(buf: &[u8]) -> Result<Message, DnsError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    let mut m = Message {
        header: Header {
            id,
            qr: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0xF) as u8,
            aa: flags & 0x0400 != 0,
            tc: flags & 0x0200 != 0,
            rd: flags & 0x0100 != 0,
            ra: flags & 0x0080 != 0,
            ad: flags & 0x0020 != 0,
            cd: flags & 0x0010 != 0,
            rcode: flags & 0xF,
        },
        ..Message::default()
    };
    for _ in 0..counts[0] {
        let name = r.name()?;
        let qtype = RecordType::from_u16(r.u16()?);
        let qclass = r.u16()?;
        m.questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    for (section, &count) in counts.iter().enumerate().skip(1) {
        for _ in 0..count {
            let start = r.pos;
            let name = r.name()?;
            let rtype = r.u16()?;
            let class = r.u16()?;
            let ttl = r.u32()?;
            let rdlen = r.u16()? as usize;
            let rdata_start = r.pos;
            let rdata = r.bytes(rdlen)?;
            if rtype == RecordType::Opt.to_u16() {
                if section != 3 || m.edns.is_some() || name != "." {
                    return malformed(start, "misplaced OPT record");
                }
                let mut options = Vec::new();
                let mut o = Reader { buf: rdata, pos: 0 };
                while o.pos < rdata.len() {
                    let code = o.u16().map_err(|_| DnsError::Malformed {
                        offset: rdata_start + o.pos,
                        reason: "bad EDNS option",
                    })?;
                    let len = o.u16().map_err(|_| DnsError::Malformed {
                        offset: rdata_start + o.pos,
                        reason: "bad EDNS option",
                    })?;
                    let data = o.bytes(len as usize).map_err(|_| DnsError::Malformed {
                        offset: rdata_start + o.pos,
                        reason: "bad EDNS option",
                    })?;
                    options.push((code, data.to_vec()));
                }
                m.header.rcode |= ((ttl >> 24) as u16 & 0xFF) << 4;
                m.edns = Some(Edns {
                    udp_size: class,
                    version: (ttl >> 16) as u8,
                    dnssec_ok: ttl & 0x8000 != 0,
                    options,
                });
                continue;
            }
            let data = decode_rdata(buf, rdata_start, rdlen, rtype)?;
            let rec = Record::new(name, ttl, data);
            match section {
                1 => m.answers.push(rec),
                2 => m.authority.push(rec),
                _ => m.additional.push(rec),
            }
        }
    }
    if r.pos != buf.len() {
        return malformed(r.pos, "bytes after the last record");
    }
    Ok(m)
}

fn decode_rdata(buf: &[u8], start: usize, len: usize, rtype: u16) -> Result<RData, DnsError> {
    let end = start + len;
    let mut r = Reader {
        buf: &buf[..end],
        pos: start,
    };
    let data = match RecordType::from_u16(rtype) {
        RecordType::A if len == 4 => {
            let b = r.bytes(4)?;
            RData::A(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
        RecordType::Aaaa if len == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(r.bytes(16)?);
            RData::Aaaa(Ipv6Addr::from(a))
        }
        RecordType::A | RecordType::Aaaa => return malformed(start, "bad address length"),
        RecordType::Cname => RData::Cname(r.name()?),
        RecordType::Ptr => RData::Ptr(r.name()?),
        RecordType::Ns => RData::Ns(r.name()?),
        RecordType::Srv => RData::Srv {
            priority: r.u16()?,
            weight: r.u16()?,
            port: r.u16()?,
            target: r.name()?,
        },
        RecordType::Soa => RData::Soa {
            mname: r.name()?,
            rname: r.name()?,
            serial: r.u32()?,
            refresh: r.u32()?,
            retry: r.u32()?,
            expire: r.u32()?,
            minimum: r.u32()?,
        },
        RecordType::Txt => {
            let mut strings = Vec::new();
            while r.pos < end {
                let n = r.u8()? as usize;
                let s = r.bytes(n)?;
                strings.push(s.iter().map(|&b| b as char).collect());
            }
            RData::Txt(strings)
        }
        _ => RData::Unknown {
            rtype,
            data: r.bytes(len)?.to_vec(),
        },
    };
    if r.pos != end {
        return malformed(r.pos, "record data length does not match its content");
    }
    Ok(data)
}

// ------------------------------------------------------------------ encode

/// Writes a presentation-format name (escapes honoured) in wire form into
/// `out`: length-prefixed labels and the root's zero. Returns the length.
fn to_wire(name: &str, out: &mut [u8; 256]) -> Result<usize, DnsError> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Err(DnsError::Encode("empty name"));
    }
    if b == b"." {
        out[0] = 0;
        return Ok(1);
    }
    let mut len = 1usize; // out[0] is the first label's length byte
    let mut label_at = 0usize;
    let mut label_len = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = match b[i] {
            b'\\' => {
                let d = &b[i + 1..];
                if d.len() >= 3 && d[..3].iter().all(u8::is_ascii_digit) {
                    let v = u32::from(d[0] - b'0') * 100
                        + u32::from(d[1] - b'0') * 10
                        + u32::from(d[2] - b'0');
                    i += 4;
                    u8::try_from(v).map_err(|_| DnsError::Encode("escape above \\255"))?
                } else if let Some(&c) = d.first() {
                    i += 2;
                    c
                } else {
                    return Err(DnsError::Encode("name ends with a backslash"));
                }
            }
            b'.' => {
                if label_len == 0 {
                    return Err(DnsError::Encode("empty label"));
                }
                out[label_at] = label_len as u8;
                i += 1;
                if i == b.len() {
                    break;
                }
                if len >= 255 {
                    return Err(DnsError::Encode("name longer than 255 octets"));
                }
                label_at = len;
                label_len = 0;
                len += 1;
                continue;
            }
            c => {
                i += 1;
                c
            }
        };
        if len >= 255 {
            return Err(DnsError::Encode("name longer than 255 octets"));
        }
        out[len] = c;
        len += 1;
        label_len += 1;
        if label_len > 63 {
            return Err(DnsError::Encode("label longer than 63 octets"));
        }
    }
    if label_len > 0 {
        out[label_at] = label_len as u8;
    }
    if len >= 255 {
        return Err(DnsError::Encode("name longer than 255 octets"));
    }
    out[len] = 0;
    Ok(len + 1)
}

/// Does the name written at `off` in `buf` (pointers followed) equal the
/// wire-form suffix `want` exactly?
fn same_name_at(buf: &[u8], mut off: usize, want: &[u8]) -> bool {
    let mut w = 0;
    let mut hops = 0;
    loop {
        let Some(&l) = buf.get(off) else {
            return false;
        };
        if l & 0xC0 == 0xC0 {
            let Some(&low) = buf.get(off + 1) else {
                return false;
            };
            off = (((l & 0x3F) as usize) << 8) | low as usize;
            hops += 1;
            if hops > 64 {
                return false;
            }
            continue;
        }
        let n = l as usize + 1;
        if buf.get(off..off + n) != want.get(w..w + n) {
            return false;
        }
        if l == 0 {
            return true;
        }
        off += n;
        w += n;
    }
}

/// Compression targets remembered per message: enough for every name of
/// a usual response; past it names are written whole (still correct).
const MAX_TARGETS: usize = 128;

/// A hash of each suffix of a wire-form name: `hashes[k]` covers the name
/// from its `k`-th label on, and `starts[k]` is where that label starts.
/// Each label counts by its length and its first and last octets: a weak
/// hash, but a candidate target is compared byte by byte only when its
/// hash matches, so looking for a suffix costs a few integer compares per
/// target instead of a walk. Returns the number of labels.
fn suffix_hashes(wire: &[u8], starts: &mut [u8; 128], hashes: &mut [u32; 128]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while wire[i] != 0 && n < starts.len() {
        starts[n] = i as u8;
        n += 1;
        i += wire[i] as usize + 1;
    }
    let mut h: u32 = 0;
    for k in (0..n).rev() {
        let at = usize::from(starts[k]);
        let len = usize::from(wire[at]);
        let label =
            u32::from(wire[at]) << 16 | u32::from(wire[at + 1]) << 8 | u32::from(wire[at + len]);
        h = (h.rotate_left(7) ^ label).wrapping_mul(0x9e37_79b1);
        hashes[k] = h;
    }
    n
}

pub(super) struct Writer<'a> {
    pub(super) buf: &'a mut Vec<u8>,
    /// Where the message starts in `buf` (offsets count from there).
    base: usize,
    /// Offsets of name suffixes written so far (compression targets).
    names: [u16; MAX_TARGETS],
    /// The [`suffix_hashes`] hash of the name at each target.
    hashes: [u32; MAX_TARGETS],
    n_names: usize,
}

impl<'a> Writer<'a> {
    /// A writer of one message starting at `buf.len()`.
    pub(super) fn new(buf: &'a mut Vec<u8>) -> Writer<'a> {
        Writer {
            base: buf.len(),
            buf,
            names: [0; MAX_TARGETS],
            hashes: [0; MAX_TARGETS],
            n_names: 0,
        }
    }

    pub(super) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(super) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes a presentation-format name; with `compress`, its longest
    /// suffix already in the message becomes a pointer to the first place
    /// it was written. Every label written is remembered as a target
    /// either way.
    pub(super) fn name(&mut self, name: &str, compress: bool) -> Result<(), DnsError> {
        let mut wire = [0u8; 256];
        let len = to_wire(name, &mut wire)?;
        self.wire_name(&wire[..len], compress);
        Ok(())
    }

    /// [`Writer::name`] for a name already in wire form (labels and the
    /// root's zero, at most 255 octets).
    pub(super) fn wire_name(&mut self, wire: &[u8], compress: bool) {
        let mut starts = [0u8; 128];
        let mut hashes = [0u32; 128];
        let n = suffix_hashes(wire, &mut starts, &mut hashes);
        // Only targets of earlier names can match: a suffix of this name
        // is shorter than every suffix of it before.
        let earlier = self.n_names;
        let at = self.buf.len() - self.base;
        // The labels before the first suffix found are copied in one go.
        let mut end = n.checked_sub(1).map_or(0, |last| {
            let i = usize::from(starts[last]);
            i + usize::from(wire[i]) + 1
        });
        let mut pointer = None;
        for k in 0..n {
            let i = usize::from(starts[k]);
            let suffix = &wire[i..];
            if compress
                && let Some(t) = (0..earlier).find(|&t| {
                    self.hashes[t] == hashes[k]
                        && same_name_at(&self.buf[self.base..], self.names[t] as usize, suffix)
                })
            {
                end = i;
                pointer = Some(self.names[t]);
                break;
            }
            if let Ok(off) = u16::try_from(at + i)
                && off < 0x4000
                && self.n_names < MAX_TARGETS
            {
                self.names[self.n_names] = off;
                self.hashes[self.n_names] = hashes[k];
                self.n_names += 1;
            }
        }
        self.buf.extend_from_slice(&wire[..end]);
        match pointer {
            Some(target) => self.u16(0xC000 | target),
            None => self.buf.push(0),
        }
    }

    /// Starts a record: owner (compressed), type, class IN, TTL and a
    /// place for the data length, whose position is returned for
    /// [`Writer::end_record`].
    pub(super) fn start_record(
        &mut self,
        owner: &str,
        rtype: RecordType,
        ttl: u32,
    ) -> Result<usize, DnsError> {
        self.name(owner, true)?;
        Ok(self.record_header(rtype, ttl))
    }

    /// [`Writer::start_record`] for an owner already in wire form.
    pub(super) fn start_record_wire(&mut self, owner: &[u8], rtype: RecordType, ttl: u32) -> usize {
        self.wire_name(owner, true);
        self.record_header(rtype, ttl)
    }

    /// Type, class IN, TTL and a place for the data length (returned).
    fn record_header(&mut self, rtype: RecordType, ttl: u32) -> usize {
        self.u16(rtype.to_u16());
        self.u16(CLASS_IN);
        self.u32(ttl);
        let len_at = self.buf.len();
        self.u16(0);
        len_at
    }

    /// Fills in the data length of the record started at `len_at`.
    pub(super) fn end_record(&mut self, len_at: usize) -> Result<(), DnsError> {
        let len = u16::try_from(self.buf.len() - len_at - 2)
            .map_err(|_| DnsError::Encode("record data over 65535 octets"))?;
        self.buf[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// The data of an SRV record (the target uncompressed, RFC 2782).
    pub(super) fn srv_data(
        &mut self,
        priority: u16,
        weight: u16,
        port: u16,
        target: &str,
    ) -> Result<(), DnsError> {
        self.u16(priority);
        self.u16(weight);
        self.u16(port);
        self.name(target, false)
    }

    /// [`Writer::srv_data`] for a target already in wire form.
    pub(super) fn srv_data_wire(&mut self, priority: u16, weight: u16, port: u16, target: &[u8]) {
        self.u16(priority);
        self.u16(weight);
        self.u16(port);
        self.wire_name(target, false);
    }

    /// The data of an SOA record.
    pub(super) fn soa_data(
        &mut self,
        mname: &str,
        rname: &str,
        numbers: [u32; 5],
    ) -> Result<(), DnsError> {
        self.name(mname, true)?;
        self.name(rname, true)?;
        for v in numbers {
            self.u32(v);
        }
        Ok(())
    }

    pub(super) fn record(&mut self, r: &Record) -> Result<(), DnsError> {
        let len_at = self.start_record(&r.name, r.record_type(), r.ttl)?;
        match &r.data {
            RData::A(ip) => self.buf.extend_from_slice(&ip.octets()),
            RData::Aaaa(ip) => self.buf.extend_from_slice(&ip.octets()),
            RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => self.name(n, true)?,
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => self.srv_data(*priority, *weight, *port, target)?,
            RData::Txt(strings) => {
                for s in strings {
                    // One octet per char; wider chars go as their UTF-8 octets.
                    let mut bytes = Vec::with_capacity(s.len());
                    for c in s.chars() {
                        match u8::try_from(c) {
                            Ok(b) => bytes.push(b),
                            Err(_) => {
                                let mut buf = [0u8; 4];
                                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            }
                        }
                    }
                    for chunk in bytes.chunks(255) {
                        self.buf.push(chunk.len() as u8);
                        self.buf.extend_from_slice(chunk);
                    }
                    if bytes.is_empty() {
                        self.buf.push(0);
                    }
                }
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => self.soa_data(mname, rname, [*serial, *refresh, *retry, *expire, *minimum])?,
            RData::Unknown { data, .. } => self.buf.extend_from_slice(data),
        }
        self.end_record(len_at)
    }
}

/// Writes a message, compressing names (not SRV targets, RFC 2782).
///
/// ```
/// use svcroute::dns::{RecordType, wire};
/// let q = wire::Message::query(1, "a.example.", RecordType::A);
/// let bytes = wire::encode(&q)?;
/// assert_eq!(bytes.len(), 12 + 11 + 4);
/// assert_eq!(wire::decode(&bytes)?, q);
/// # Ok::<(), svcroute::dns::DnsError>(())
/// ```
pub fn encode(m: &Message) -> Result<Vec<u8>, DnsError> {
    let mut out = Vec::with_capacity(512);
    encode_into(m, &mut out)?;
    Ok(out)
}

/// [`encode`] appending to `out` (compression offsets count from where the
/// message starts, so `out` may already hold, say, a TCP length prefix).
/// On error `out` is left as it was.
///
/// ```
/// use svcroute::dns::{RecordType, wire};
/// let q = wire::Message::query(1, "a.example.", RecordType::A);
/// let mut out = vec![0, 27];
/// wire::encode_into(&q, &mut out)?;
/// assert_eq!(out[2..], wire::encode(&q)?[..]);
/// # Ok::<(), svcroute::dns::DnsError>(())
/// ```
pub fn encode_into(m: &Message, out: &mut Vec<u8>) -> Result<(), DnsError> {
    let base = out.len();
    let result = write_message(m, out, base);
    if result.is_err() {
        out.truncate(base);
    }
    result
}

fn write_message(m: &Message, out: &mut Vec<u8>, base: usize) -> Result<(), DnsError> {
    debug_assert_eq!(base, out.len());
    let mut w = Writer::new(out);
    let h = &m.header;
    w.u16(h.id);
    let flags = (u16::from(h.qr) << 15)
        | (u16::from(h.opcode & 0xF) << 11)
        | (u16::from(h.aa) << 10)
        | (u16::from(h.tc) << 9)
        | (u16::from(h.rd) << 8)
        | (u16::from(h.ra) << 7)
        | (u16::from(h.ad) << 5)
        | (u16::from(h.cd) << 4)
        | (h.rcode & 0xF);
    w.u16(flags);
    let count = |n: usize| u16::try_from(n).map_err(|_| DnsError::Encode("over 65535 records"));
    w.u16(count(m.questions.len())?);
    w.u16(count(m.answers.len())?);
    w.u16(count(m.authority.len())?);
    w.u16(count(m.additional.len() + usize::from(m.edns.is_some()))?);
    for q in &m.questions {
        w.name(&q.name, true)?;
        w.u16(q.qtype.to_u16());
        w.u16(q.qclass);
    }
    for r in m.answers.iter().chain(&m.authority).chain(&m.additional) {
        w.record(r)?;
    }
    if let Some(e) = &m.edns {
        w.buf.push(0);
        w.u16(RecordType::Opt.to_u16());
        w.u16(e.udp_size);
        let ttl = (u32::from((h.rcode >> 4) as u8) << 24)
            | (u32::from(e.version) << 16)
            | (u32::from(e.dnssec_ok) << 15);
        w.u32(ttl);
        let len_at = w.buf.len();
        w.u16(0);
        for (code, data) in &e.options {
            w.u16(*code);
            w.u16(count(data.len())?);
            w.buf.extend_from_slice(data);
        }
        let len = count(w.buf.len() - len_at - 2)?;
        w.buf[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
    }
    if w.buf.len() - base > 65535 {
        return Err(DnsError::Encode("message over 65535 octets"));
    }
    Ok(())
}

// ------------------------------------------------------------------ serve

/// How the response travels: it must fit 512 octets (or the EDNS size the
/// client announced) over UDP, 65535 over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: truncated (TC) over the client's size.
    Udp,
    /// TCP.
    Tcp,
}

/// The largest UDP payload the server offers in its OPT record.
pub const MAX_UDP_SIZE: u16 = 4096;

impl Dns {
    /// Answers a DNS query message with the response message.
    ///
    /// * Messages too short for a header, and responses (QR set), get no
    ///   answer (`None`), as servers drop them.
    /// * A message that cannot be read, or holds other than one question,
    ///   gets FORMERR; an opcode other than QUERY NOTIMP; a class other than
    ///   IN, a name outside the served zones (a server would forward it) and
    ///   zone transfers REFUSED; an EDNS version above 0 BADVERS.
    /// * The OPT record is echoed (payload size up to [`MAX_UDP_SIZE`], DO
    ///   bit); over UDP a response larger than the client's size loses its
    ///   additional section, then answer records, and is flagged TC.
    /// * ExternalName targets outside the cluster ([`super::Answer::chase`])
    ///   are not resolved here: the response holds the CNAME only.
    pub fn answer_wire(&self, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.answer_wire_into(query, transport, &mut out)
            .then_some(out)
    }

    /// [`Dns::answer_wire`] appending the response to `out` (a buffer a
    /// server reuses from query to query); `false`, with `out` unchanged,
    /// when the query gets no answer.
    ///
    /// ```
    /// use svcroute::dns::wire::{self, Message};
    /// use svcroute::dns::{Dns, DnsConfig, RecordType, Transport};
    ///
    /// let cluster = svcroute::cluster::Cluster::new(Default::default())?;
    /// let dns = Dns::new(&cluster, DnsConfig::default())?;
    /// let query = wire::encode(&Message::query(9, "kubernetes.default.svc.cluster.local.", RecordType::A))?;
    /// let mut out = vec![0, 0]; // room for a TCP length prefix
    /// assert!(dns.answer_wire_into(&query, Transport::Tcp, &mut out));
    /// assert_eq!(wire::decode(&out[2..])?.answers.len(), 1);
    /// assert!(!dns.answer_wire_into(&[1, 2, 3], Transport::Udp, &mut out));
    /// # Ok::<(), svcroute::Error>(())
    /// ```
    pub fn answer_wire_into(&self, query: &[u8], transport: Transport, out: &mut Vec<u8>) -> bool {
        // The common shapes are read once, in place.
        if let Some(q) = super::fast::parse_query(query)
            && (self.answer_wire_fast_parsed(query, &q, transport, out)
                || self.answer_wire_direct_parsed(query, &q, transport, out))
        {
            return true;
        }
        self.answer_wire_general(query, transport, out)
    }

    /// [`Dns::answer_wire_into`] through [`decode`], [`Dns::query`] and
    /// [`encode_into`]: every query shape.
    pub(super) fn answer_wire_general(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        let base = out.len();
        let Some(resp) = self.response(query, transport) else {
            return false;
        };
        let (mut resp, limit) = resp;
        if encode_into(&resp, out).is_err() {
            return false;
        }
        if out.len() - base > limit {
            out.truncate(base);
            resp.additional.clear();
            if encode_into(&resp, out).is_err() {
                return false;
            }
            while out.len() - base > limit
                && (!resp.answers.is_empty() || !resp.authority.is_empty())
            {
                resp.header.tc = true;
                if resp.authority.pop().is_none() {
                    resp.answers.pop();
                }
                out.truncate(base);
                if encode_into(&resp, out).is_err() {
                    return false;
                }
            }
        }
        true
    }

    /// The response message and the size it must fit.
    fn response(&self, query: &[u8], transport: Transport) -> Option<(Message, usize)> {
        if query.len() < 12 || query[2] & 0x80 != 0 {
            return None;
        }
        let id = u16::from_be_bytes([query[0], query[1]]);
        let opcode = (query[2] >> 3) & 0xF;
        let rd = query[2] & 1 != 0;
        let mut resp = Message {
            header: Header {
                id,
                qr: true,
                opcode,
                rd,
                ..Header::default()
            },
            ..Message::default()
        };
        let done = |mut resp: Message, rcode: u16| {
            resp.header.rcode = rcode;
            Some((resp, 65535))
        };
        let mut q = match decode(query) {
            Ok(q) => q,
            Err(_) => return done(resp, u16::from(Rcode::FormErr.to_u8())),
        };
        resp.header.cd = q.header.cd;
        resp.questions = std::mem::take(&mut q.questions);
        let limit = match (transport, &q.edns) {
            (Transport::Tcp, _) => 65535,
            (Transport::Udp, Some(e)) => usize::from(e.udp_size.clamp(512, MAX_UDP_SIZE)),
            (Transport::Udp, None) => 512,
        };
        if let Some(e) = &q.edns {
            resp.edns = Some(Edns {
                udp_size: e.udp_size.clamp(512, MAX_UDP_SIZE),
                version: 0,
                dnssec_ok: e.dnssec_ok,
                options: Vec::new(),
            });
            if e.version > 0 {
                resp.questions.clear();
                return done(resp, 16); // BADVERS
            }
        }
        if opcode != 0 {
            return done(resp, u16::from(Rcode::NotImp.to_u8()));
        }
        if resp.questions.len() != 1 {
            return done(resp, u16::from(Rcode::FormErr.to_u8()));
        }
        let question = &resp.questions[0];
        if question.qclass != CLASS_IN {
            return done(resp, u16::from(Rcode::Refused.to_u8()));
        }
        // A name that is not legal is no name of ours: passthrough.
        let answer = self
            .query(&question.name, question.qtype)
            .unwrap_or_default();
        match answer.rcode() {
            None => resp.header.rcode = u16::from(Rcode::Refused.to_u8()),
            Some(rcode) => {
                resp.header.rcode = u16::from(rcode.to_u8());
                resp.header.aa = answer.outcome != Outcome::Refused;
                resp.answers = answer.answer;
                resp.authority = answer.authority;
                resp.additional = answer.additional;
            }
        }
        Some((resp, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compressor as first written, label by label, searching every
    /// target: the bulk copy must give the same bytes.
    fn wire_name_by_label(w: &mut Writer<'_>, wire: &[u8], compress: bool) {
        let mut starts = [0u8; 128];
        let mut hashes = [0u32; 128];
        let n = suffix_hashes(wire, &mut starts, &mut hashes);
        for k in 0..n {
            let i = usize::from(starts[k]);
            let suffix = &wire[i..];
            if compress {
                let found = (0..w.n_names).find(|&t| {
                    w.hashes[t] == hashes[k]
                        && same_name_at(&w.buf[w.base..], w.names[t] as usize, suffix)
                });
                if let Some(t) = found {
                    w.u16(0xC000 | w.names[t]);
                    return;
                }
            }
            if let Ok(off) = u16::try_from(w.buf.len() - w.base)
                && off < 0x4000
                && w.n_names < MAX_TARGETS
            {
                w.names[w.n_names] = off;
                w.hashes[w.n_names] = hashes[k];
                w.n_names += 1;
            }
            let l = wire[i] as usize + 1;
            w.buf.extend_from_slice(&wire[i..i + l]);
        }
        w.buf.push(0);
    }

    proptest::proptest! {
        #[test]
        fn compression_matches_the_label_by_label_writer(
            names in proptest::collection::vec(
                (proptest::collection::vec("[ab]{1,3}", 0..5), proptest::bool::ANY),
                1..12,
            ),
            prefix in 0usize..3,
        ) {
            let (mut fast, mut slow) = (vec![7u8; prefix], vec![7u8; prefix]);
            let (mut wf, mut ws) = (Writer::new(&mut fast), Writer::new(&mut slow));
            for (labels, compress) in &names {
                let name = format!("{}.", labels.join("."));
                let mut wire = [0u8; 256];
                let len = to_wire(&name, &mut wire).expect("legal name");
                wf.wire_name(&wire[..len], *compress);
                wire_name_by_label(&mut ws, &wire[..len], *compress);
            }
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
