//! `svcroute dns NAME [--type T] [--from POD | -n NS] [--resolver R]`: what
//! a program in a pod gets when it looks NAME up: the resolver's walk over
//! the pod's search list, then the answer, dig-style. Exit 1 on NXDOMAIN or
//! NODATA (DECISIONS D5).

use std::io::Write;
use std::net::IpAddr;

use clap::{Args, ValueEnum};
use serde_json::json;
use svcroute::ErrorKind;
use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::dns::{
    Dns, DnsConfig, ExternalRecords, Outcome as DnsOutcome, RecordType, Resolver, SearchClient,
    Walk,
};

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::{load, output};

/// Flags of `svcroute dns`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "\
Examples:
  svcroute dns backend -n shop -f shop.yaml
  svcroute dns _http._tcp.frontend.shop --type SRV -f shop.yaml
  svcroute dns backend.shop --from pod/staging/payments-staging --resolver musl -f shop.yaml
  svcroute dns 10.96.0.20 --type PTR -f shop.yaml")]
pub struct DnsArgs {
    /// The name as a program would type it (`backend`, `backend.shop`, an
    /// FQDN with a final dot); an IP address with --type PTR
    pub name: String,
    /// The record type: A, AAAA, SRV, PTR, CNAME, TXT, NS, SOA, … [default: A]
    #[arg(long = "type", short = 't', value_name = "T")]
    pub qtype: Option<String>,
    /// The pod that asks (pod/NAME, pod/NS/NAME): its namespace's search
    /// path and its dnsConfig (ndots, searches) [default: a pod of -n]
    #[arg(long, value_name = "POD")]
    pub from: Option<String>,
    /// Whose search-list walk: glibc (Debian, Ubuntu, distroless) or musl
    /// (Alpine)
    #[arg(long, value_enum, default_value_t = ResolverArg::Glibc)]
    pub resolver: ResolverArg,
}

/// The `--resolver` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ResolverArg {
    /// glibc `res_search`.
    #[default]
    Glibc,
    /// musl.
    Musl,
}

/// The reverse name of an address (what `dig -x` asks).
///
/// ```
/// let ip = "10.96.0.20".parse().unwrap();
/// assert_eq!(svcroute_cli::commands::dns::reverse_name(ip), "20.0.96.10.in-addr.arpa.");
/// ```
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

/// Looks the name up.
pub fn run(args: &DnsArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("dns", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let qtype: RecordType = match &args.qtype {
        Some(t) => t
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| CliError::usage(format!("--type {t:?}: not a DNS record type")))?,
        None => RecordType::A,
    };
    let cluster = load::cluster(ctx)?;
    let mut client = SearchClient::new(ctx.namespace());
    let mut asker = format!("a pod of namespace {}", ctx.namespace());
    if let Some(from) = &args.from {
        let rest = from
            .strip_prefix("pod/")
            .or_else(|| from.strip_prefix("po/"))
            .unwrap_or(from);
        let (ns, name) = rest.split_once('/').unwrap_or((ctx.namespace(), rest));
        let key = ObjectKey {
            kind: Kind::Pod,
            namespace: Some(ns.to_owned()),
            name: name.to_owned(),
        };
        let object = cluster.get(&key);
        let Some(Object::Pod(pod)) = object.as_deref() else {
            return Err(CliError::of_kind(
                ErrorKind::NotFound,
                format!("pods \"{name}\" not found in namespace \"{ns}\""),
            ));
        };
        client = SearchClient::new(ns);
        if let Some(cfg) = &pod.spec.dns_config {
            client.host_search = cfg.searches.clone();
            for o in &cfg.options {
                if o.name == "ndots"
                    && let Some(n) = o.value.as_deref().and_then(|v| v.parse().ok())
                {
                    client.ndots = n;
                }
            }
        }
        asker = format!("pod {ns}/{name}");
    }
    let name = match args.name.parse::<IpAddr>() {
        Ok(ip) if qtype == RecordType::Ptr => reverse_name(ip),
        _ => args.name.clone(),
    };
    let resolver = match args.resolver {
        ResolverArg::Glibc => Resolver::Glibc,
        ResolverArg::Musl => Resolver::Musl,
    };
    let dns = Dns::new(&cluster, DnsConfig::for_cluster(cluster.config()))
        .map_err(|e| CliError::of_kind(e.kind(), e.to_string()))?;
    let external = ExternalRecords::default();
    let walk = dns.search(&client, &name, qtype, resolver, &external);
    // The negative answer's authority (the zone SOA), from the last query.
    let last = walk
        .answered_by
        .clone()
        .or_else(|| walk.sent.last().map(|s| s.qname.clone()));
    let authority: Vec<String> = match (&last, walk.result) {
        (Some(q), DnsOutcome::NxDomain | DnsOutcome::NoData) => dns
            .query(q, qtype)
            .map(|a| a.authority.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let search_list = client.search_list(&dns.config().zone);
    match format {
        Some(f) => {
            let value = json!({
                "name": args.name,
                "type": qtype.name(),
                "from": asker,
                "resolver": format!("{resolver:?}").to_ascii_lowercase(),
                "ndots": client.ndots,
                "searchList": search_list,
                "candidates": walk.candidates,
                "sent": walk.sent.iter().map(|s| json!({"qname": s.qname, "outcome": s.outcome.as_str()})).collect::<Vec<_>>(),
                "result": walk.result.as_str(),
                "answeredBy": walk.answered_by,
                "answer": walk.answer.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "authority": authority,
            });
            output::write_structured(ctx.stdout, f, &value)?;
        }
        None => write_text(
            ctx.stdout,
            &args.name,
            qtype,
            &asker,
            resolver,
            &client,
            &search_list,
            &walk,
            last.as_deref(),
            &authority,
        )?,
    }
    Ok(match walk.result {
        DnsOutcome::Answer => Outcome::Positive,
        _ => Outcome::Negative,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_text(
    out: &mut dyn Write,
    typed: &str,
    qtype: RecordType,
    asker: &str,
    resolver: Resolver,
    client: &SearchClient,
    search_list: &[String],
    walk: &Walk,
    last: Option<&str>,
    authority: &[String],
) -> Result<(), CliError> {
    let lib = match resolver {
        Resolver::Glibc => "glibc",
        Resolver::Musl => "musl",
    };
    writeln!(
        out,
        "; <<>> svcroute dns <<>> {typed} {} (from {asker}, {lib}, ndots:{})",
        qtype.name(),
        client.ndots
    )?;
    writeln!(out, ";; search {}", search_list.join(" "))?;
    for s in &walk.sent {
        let status = match s.outcome {
            DnsOutcome::Answer => "NOERROR",
            DnsOutcome::NoData => "NOERROR, no records (NODATA)",
            _ => "NXDOMAIN",
        };
        writeln!(out, ";; tried {} {}: {status}", s.qname, qtype.name())?;
    }
    let not_sent = walk.candidates.len() - walk.sent.len();
    if not_sent > 0 {
        writeln!(out, ";; ({not_sent} more candidate(s) not tried)")?;
    }
    let status = match walk.result {
        DnsOutcome::Answer => "NOERROR",
        DnsOutcome::NoData => "NOERROR (NODATA)",
        _ => "NXDOMAIN",
    };
    writeln!(out, ";; ->>HEADER<<- opcode: QUERY, status: {status}")?;
    writeln!(out)?;
    if let Some(q) = last {
        writeln!(out, ";; QUESTION SECTION:")?;
        writeln!(out, ";{q}\t\tIN\t{}", qtype.name())?;
        writeln!(out)?;
    }
    if !walk.answer.is_empty() {
        writeln!(out, ";; ANSWER SECTION:")?;
        for r in &walk.answer {
            writeln!(out, "{r}")?;
        }
        writeln!(out)?;
        if walk
            .answer
            .iter()
            .all(|r| r.record_type() == RecordType::Cname)
        {
            writeln!(
                out,
                ";; the CNAME target is outside the cluster: the pod's resolver asks again and the upstream DNS answers"
            )?;
        }
    }
    if !authority.is_empty() {
        writeln!(out, ";; AUTHORITY SECTION:")?;
        for r in authority {
            writeln!(out, "{r}")?;
        }
    }
    Ok(())
}
