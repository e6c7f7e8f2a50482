//! Record types, resource records and their presentation format.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{DnsError, Name};

/// A query or record type (`QTYPE`/`TYPE`, RFC 1035 section 3.2.2).
///
/// The types cluster DNS answers have their own variant; any other is
/// [`RecordType::Other`] and prints as `TYPE<n>` (RFC 3597).
///
/// ```
/// use svcroute::dns::RecordType;
/// assert_eq!("srv".parse::<RecordType>()?, RecordType::Srv);
/// assert_eq!(RecordType::from_u16(28), RecordType::Aaaa);
/// assert_eq!(RecordType::Other(99).to_string(), "TYPE99");
/// assert_eq!("TYPE99".parse::<RecordType>()?.to_u16(), 99);
/// # Ok::<(), svcroute::dns::DnsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// `A` (1): an IPv4 address.
    A,
    /// `NS` (2): a name server.
    Ns,
    /// `CNAME` (5): an alias.
    Cname,
    /// `SOA` (6): the start of a zone of authority.
    Soa,
    /// `PTR` (12): a reverse pointer.
    Ptr,
    /// `MX` (15): a mail exchange.
    Mx,
    /// `TXT` (16): text strings.
    Txt,
    /// `AAAA` (28): an IPv6 address.
    Aaaa,
    /// `SRV` (33): a service location.
    Srv,
    /// `OPT` (41): the EDNS0 pseudo-record.
    Opt,
    /// `IXFR` (251): incremental zone transfer.
    Ixfr,
    /// `AXFR` (252): zone transfer.
    Axfr,
    /// `ANY` (255).
    Any,
    /// Any other type, by number.
    Other(u16),
}

impl RecordType {
    /// The type's number on the wire.
    pub fn to_u16(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Srv => 33,
            RecordType::Opt => 41,
            RecordType::Ixfr => 251,
            RecordType::Axfr => 252,
            RecordType::Any => 255,
            RecordType::Other(n) => n,
        }
    }

    /// The type with this number.
    pub fn from_u16(n: u16) -> RecordType {
        match n {
            1 => RecordType::A,
            2 => RecordType::Ns,
            5 => RecordType::Cname,
            6 => RecordType::Soa,
            12 => RecordType::Ptr,
            15 => RecordType::Mx,
            16 => RecordType::Txt,
            28 => RecordType::Aaaa,
            33 => RecordType::Srv,
            41 => RecordType::Opt,
            251 => RecordType::Ixfr,
            252 => RecordType::Axfr,
            255 => RecordType::Any,
            n => RecordType::Other(n),
        }
    }

    /// The mnemonic (`A`, `SRV`, ... or `TYPE<n>`).
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            RecordType::A => "A",
            RecordType::Ns => "NS",
            RecordType::Cname => "CNAME",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Aaaa => "AAAA",
            RecordType::Srv => "SRV",
            RecordType::Opt => "OPT",
            RecordType::Ixfr => "IXFR",
            RecordType::Axfr => "AXFR",
            RecordType::Any => "ANY",
            RecordType::Other(n) => return std::borrow::Cow::Owned(format!("TYPE{n}")),
        })
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for RecordType {
    type Err = DnsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.to_ascii_uppercase();
        Ok(match up.as_str() {
            "A" => RecordType::A,
            "NS" => RecordType::Ns,
            "CNAME" => RecordType::Cname,
            "SOA" => RecordType::Soa,
            "PTR" => RecordType::Ptr,
            "MX" => RecordType::Mx,
            "TXT" => RecordType::Txt,
            "AAAA" => RecordType::Aaaa,
            "SRV" => RecordType::Srv,
            "OPT" => RecordType::Opt,
            "IXFR" => RecordType::Ixfr,
            "AXFR" => RecordType::Axfr,
            "ANY" => RecordType::Any,
            _ => match up.strip_prefix("TYPE").and_then(|n| n.parse::<u16>().ok()) {
                Some(n) => RecordType::from_u16(n),
                None => return Err(DnsError::UnknownType(s.to_owned())),
            },
        })
    }
}

/// The data of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name (FQDN, trailing dot).
    Cname(String),
    /// The pointed-to name (FQDN).
    Ptr(String),
    /// The name server (FQDN).
    Ns(String),
    /// A service location.
    Srv {
        /// Priority (CoreDNS: always 0).
        priority: u16,
        /// Weight (CoreDNS: `floor(100 / N)`, at least 1).
        weight: u16,
        /// The port.
        port: u16,
        /// The target host (FQDN).
        target: String,
    },
    /// Character strings.
    Txt(Vec<String>),
    /// Start of authority.
    Soa {
        /// The primary name server (`ns.dns.<zone>.`).
        mname: String,
        /// The mailbox (`hostmaster.<zone>.`).
        rname: String,
        /// The serial.
        serial: u32,
        /// Refresh (7200).
        refresh: u32,
        /// Retry (1800).
        retry: u32,
        /// Expire (86400).
        expire: u32,
        /// Minimum: the negative-caching TTL (the `ttl` option).
        minimum: u32,
    },
    /// Uninterpreted data of another type (RFC 3597 `\#` form).
    Unknown {
        /// The type.
        rtype: u16,
        /// The data.
        data: Vec<u8>,
    },
}

impl RData {
    /// The type of this data.
    pub fn record_type(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Cname(_) => RecordType::Cname,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Ns(_) => RecordType::Ns,
            RData::Srv { .. } => RecordType::Srv,
            RData::Txt(_) => RecordType::Txt,
            RData::Soa { .. } => RecordType::Soa,
            RData::Unknown { rtype, .. } => RecordType::from_u16(*rtype),
        }
    }
}

impl fmt::Display for RData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(ip) => write!(f, "{ip}"),
            RData::Aaaa(ip) => write!(f, "{ip}"),
            RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => f.write_str(n),
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {target}"),
            RData::Txt(strings) => {
                for (i, s) in strings.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str("\"")?;
                    // A string holds one octet per char (as the wire
                    // decoder makes them); wider chars print as UTF-8 octets.
                    for c in s.chars() {
                        match u8::try_from(c) {
                            Ok(b'"' | b'\\') => write!(f, "\\{c}")?,
                            Ok(0x20..=0x7e) => write!(f, "{c}")?,
                            Ok(b) => write!(f, "\\{b:03}")?,
                            Err(_) => {
                                let mut buf = [0u8; 4];
                                for b in c.encode_utf8(&mut buf).bytes() {
                                    write!(f, "\\{b:03}")?;
                                }
                            }
                        }
                    }
                    f.write_str("\"")?;
                }
                Ok(())
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => write!(
                f,
                "{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"
            ),
            RData::Unknown { data, .. } => {
                write!(f, "\\# {}", data.len())?;
                if !data.is_empty() {
                    f.write_str(" ")?;
                    for b in data {
                        write!(f, "{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// One resource record of class `IN`.
///
/// Prints in presentation format, `NAME TTL IN TYPE RDATA`, names fully
/// qualified:
///
/// ```
/// use svcroute::dns::{RData, Record};
/// let r = Record::new("web.shop.svc.cluster.local.", 5, RData::A("10.96.0.20".parse()?));
/// assert_eq!(r.to_string(), "web.shop.svc.cluster.local. 5 IN A 10.96.0.20");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The owner name (FQDN, trailing dot; the query's spelling).
    pub name: Name,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data; its variant is the record's type.
    pub data: RData,
}

impl Record {
    /// A record.
    pub fn new(name: impl Into<Name>, ttl: u32, data: RData) -> Record {
        Record {
            name: name.into(),
            ttl,
            data,
        }
    }

    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        self.data.record_type()
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} IN {} {}",
            self.name,
            self.ttl,
            self.record_type(),
            self.data
        )
    }
}

// ------------------------------------------------------------ name helpers

/// Makes a name fully qualified (adds the trailing dot when missing).
pub(crate) fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        let mut s = String::with_capacity(name.len() + 1);
        s.push_str(name);
        s.push('.');
        s
    }
}

/// Is `name` equal to `zone` or below it (case-insensitive, both FQDN-ish)?
pub(crate) fn is_subdomain(zone: &str, name: &str) -> bool {
    let zone = zone.trim_end_matches('.');
    let name = name.trim_end_matches('.');
    if zone.is_empty() {
        return true;
    }
    if name.len() < zone.len() {
        return false;
    }
    let split = name.len() - zone.len();
    if !name.is_char_boundary(split) || !name[split..].eq_ignore_ascii_case(zone) {
        return false;
    }
    split == 0 || name.as_bytes()[split - 1] == b'.'
}

/// A name put together on the stack from pieces (presentation format),
/// for the wire paths that write records without owning them.
pub(super) struct NameBuf {
    buf: [u8; NameBuf::CAPACITY],
    len: usize,
}

impl NameBuf {
    /// Room for a zone (at most 254 octets) under a few labels; longer
    /// names are not legal, and their answers take the general path.
    const CAPACITY: usize = 320;

    pub(super) fn new() -> NameBuf {
        NameBuf {
            buf: [0; NameBuf::CAPACITY],
            len: 0,
        }
    }

    /// Appends `s`; `None` (the buffer unchanged) when it does not fit.
    pub(super) fn push(&mut self, s: &str) -> Option<()> {
        let dst = self.buf.get_mut(self.len..self.len + s.len())?;
        dst.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Some(())
    }

    /// The name so far.
    pub(super) fn as_str(&self) -> &str {
        // Only whole `&str`s are pushed, so the bytes are UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(is_subdomain("cluster.local.", "x.Cluster.Local."));
        assert!(is_subdomain("cluster.local.", "cluster.local."));
        assert!(!is_subdomain("cluster.local.", "xcluster.local."));
        assert!(is_subdomain(".", "anything."));
    }

    #[test]
    fn txt_escapes() {
        let r = Record::new("x.", 1, RData::Txt(vec!["a\"b\u{1}".into()]));
        assert_eq!(r.to_string(), "x. 1 IN TXT \"a\\\"b\\001\"");
    }
}
