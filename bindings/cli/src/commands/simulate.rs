//! `svcroute simulate --from … --to … --requests N [--algorithm A]`: the
//! spread of N connections over the endpoints, as a table with bars.
//!
//! By default every connection is routed by the dataplane, as kube-proxy's
//! own mode spreads them (random for iptables and nftables, the IPVS
//! scheduler, ClientIP affinity when the Service has it: one client, so
//! one endpoint). `--algorithm` instead spreads the eligible set of the
//! first connection with one of `svcroute::balance`'s algorithms, each
//! connection from a new source port.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use clap::Args;
use serde_json::json;
use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::balance::{
    Algorithm, Backend, Balancer, FlowHash, FlowKey, IpvsScheduler, KetamaConfig, MaglevConfig,
    PeakEwmaConfig, Request as LbRequest, Rng,
};
use svcroute::cluster::Cluster;
use svcroute::dataplane::{
    Dataplane, Decision, Destination, Millis, Outcome as RouteOutcome, Pick, Request, RouteState,
    Source,
};

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::request::QuestionArgs;
use crate::{load, output, table};

/// The names `--algorithm` takes.
pub const ALGORITHMS: &str = "round-robin, smooth-weighted, random, weighted-random, iptables, \
nftables, ipvs[:rr|wrr|lc|wlc|sed|nq|sh|dh|mh], least-request, peak-ewma, maglev, ketama, jump, rendezvous";

/// Flags of `svcroute simulate`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "\
Example:
  svcroute simulate -f shop.yaml -n shop --from pod/frontend-5f6d8-lp2wd --to backend:80 --requests 1000")]
pub struct SimulateArgs {
    /// The question.
    #[command(flatten)]
    pub question: QuestionArgs,
    /// How many connections
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub requests: u32,
    /// Spread with this algorithm of svcroute::balance instead of the
    /// proxy mode's own: round-robin, smooth-weighted, random,
    /// weighted-random, iptables, nftables, ipvs\[:SCHEDULER\], least-request,
    /// peak-ewma, maglev, ketama, jump, rendezvous
    #[arg(long, value_name = "A")]
    pub algorithm: Option<String>,
    /// Seed of the random choices
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parses an `--algorithm` name.
///
/// ```
/// use svcroute_cli::commands::simulate::algorithm;
/// assert_eq!(algorithm("ipvs:wlc", 1).unwrap().name(), "ipvs");
/// assert_eq!(algorithm("maglev", 1).unwrap().name(), "maglev");
/// assert!(algorithm("fastest", 1).is_err());
/// ```
pub fn algorithm(name: &str, seed: u64) -> Result<Algorithm, CliError> {
    let (base, param) = match name.split_once(':') {
        Some((b, p)) => (b, Some(p)),
        None => (name, None),
    };
    let a = match base {
        "round-robin" | "rr" => Algorithm::RoundRobin,
        "smooth-weighted" | "swrr" => Algorithm::SmoothWeighted,
        "random" => Algorithm::Random { seed },
        "weighted-random" => Algorithm::WeightedRandom { seed },
        "iptables" => Algorithm::Iptables { seed },
        "nftables" => Algorithm::Nftables { seed },
        "ipvs" => Algorithm::Ipvs {
            scheduler: IpvsScheduler::parse(param.unwrap_or("rr")).ok_or_else(|| {
                CliError::usage(format!(
                    "--algorithm {name}: unknown IPVS scheduler (rr, wrr, lc, wlc, sed, nq, sh, dh, mh)"
                ))
            })?,
            seed,
        },
        "least-request" | "p2c" => Algorithm::LeastRequest {
            choice_count: 2,
            seed,
        },
        "peak-ewma" => Algorithm::PeakEwma(PeakEwmaConfig::default()),
        "maglev" => Algorithm::Maglev(MaglevConfig::default()),
        "ketama" => Algorithm::Ketama(KetamaConfig::default()),
        "jump" => Algorithm::Jump {
            flow_hash: FlowHash::default(),
            seed,
        },
        "rendezvous" => Algorithm::Rendezvous {
            flow_hash: FlowHash::default(),
            seed,
        },
        _ => {
            return Err(CliError::usage(format!(
                "--algorithm {name:?}: expected one of {ALGORITHMS}"
            )));
        }
    };
    if param.is_some() && base != "ipvs" {
        return Err(CliError::usage(format!(
            "--algorithm {name:?}: only ipvs takes a parameter"
        )));
    }
    Ok(a)
}

/// Runs the simulation.
pub fn run(args: &SimulateArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("simulate", &[OutputFormat::Json, OutputFormat::Yaml])?;
    if args.requests == 0 {
        return Err(CliError::usage("--requests must be at least 1"));
    }
    let chosen_algorithm = match &args.algorithm {
        Some(name) => Some(algorithm(name, args.seed)?),
        None => None,
    };
    let cluster = load::cluster(ctx)?;
    let namespace = ctx.namespace().to_owned();
    let request = args.question.request(&cluster, &namespace)?;
    let dataplane = Dataplane::compile(&cluster, cluster.config().proxy.mode);
    let mut state = RouteState::new(args.seed);
    let route = |state: &mut RouteState| -> Result<Decision, CliError> {
        dataplane
            .route(&request, state, Millis(0))
            .map_err(|e| CliError::of_kind(e.kind(), e.to_string()))
    };
    let first = route(&mut state)?;
    let mut counts: BTreeMap<String, u64> =
        first.endpoints.iter().map(|e| (e.to_string(), 0)).collect();
    let mut undelivered = 0u64;
    let spread_by = match &chosen_algorithm {
        Some(a) => {
            let keys: Vec<String> = first.endpoints.iter().map(ToString::to_string).collect();
            if !keys.is_empty() {
                let backends = Backend::list(keys.iter().map(String::as_str));
                let mut lb = a
                    .build(&backends)
                    .map_err(|e| CliError::of_kind(e.kind(), format!("--algorithm: {e}")))?;
                let mut rng = Rng::new(args.seed);
                let (src, dst) = flow_ends(&request.source, &first);
                for _ in 0..args.requests {
                    let port = 1024 + u16::try_from(rng.below(64511)).unwrap_or(0);
                    let flow = FlowKey::new(src, port, dst.ip(), dst.port(), 6);
                    match lb.pick(&LbRequest::flow(flow)) {
                        Some(i) => *counts.entry(keys[i].clone()).or_default() += 1,
                        None => undelivered += 1,
                    }
                }
            } else {
                undelivered = u64::from(args.requests);
            }
            a.name().to_owned()
        }
        None => {
            tally(&first, &mut counts, &mut undelivered);
            match fast_path(&cluster, &request, &first) {
                // A pod to a cluster IP: the dataplane's allocation-free
                // pick (the same rules as `route`, without the trace).
                Some((client, node, dest)) => {
                    for _ in 1..args.requests {
                        match dataplane.pick(
                            client,
                            &node,
                            dest,
                            request.protocol,
                            &mut state,
                            Millis(0),
                        ) {
                            Pick::Endpoint(e) => *counts.entry(e.to_string()).or_default() += 1,
                            Pick::NotClusterIp => {
                                tally(&route(&mut state)?, &mut counts, &mut undelivered)
                            }
                            Pick::Reject | Pick::Drop => undelivered += 1,
                        }
                    }
                }
                None => {
                    for _ in 1..args.requests {
                        tally(&route(&mut state)?, &mut counts, &mut undelivered);
                    }
                }
            }
            format!("kube-proxy {}", cluster.config().proxy.mode.as_str())
        }
    };
    let total = u64::from(args.requests);
    match format {
        Some(f) => {
            let rows: Vec<_> = counts
                .iter()
                .map(|(e, n)| json!({"endpoint": e, "requests": n}))
                .collect();
            let value = json!({
                "requests": total,
                "algorithm": spread_by,
                "result": first.outcome.as_str(),
                "service": first.service,
                "endpoints": rows,
                "undelivered": undelivered,
            });
            output::write_structured(ctx.stdout, f, &value)?;
        }
        None => {
            writeln!(
                ctx.stdout,
                "{total} connection(s) {} -> {} spread by {spread_by}:",
                args.question.from, args.question.to
            )?;
            let mut rows: Vec<Vec<String>> = counts
                .iter()
                .map(|(e, n)| {
                    vec![
                        e.clone(),
                        n.to_string(),
                        format!("{:.1}%", percent(*n, total)),
                        bar(*n, total),
                    ]
                })
                .collect();
            if undelivered > 0 {
                rows.push(vec![
                    format!("({})", first.outcome.as_str()),
                    undelivered.to_string(),
                    format!("{:.1}%", percent(undelivered, total)),
                    bar(undelivered, total),
                ]);
            }
            table::write(ctx.stdout, &["ENDPOINT", "REQUESTS", "SHARE", ""], &rows)?;
        }
    }
    Ok(if undelivered == total {
        Outcome::Negative
    } else {
        Outcome::Positive
    })
}

fn percent(n: u64, total: u64) -> f64 {
    n as f64 * 100.0 / total as f64
}

/// A bar of up to 40 cells for `n` of `total`.
fn bar(n: u64, total: u64) -> String {
    let cells = usize::try_from(n * 40 / total.max(1)).unwrap_or(40);
    "█".repeat(cells)
}

/// The client and destination addresses of the flows hashed by
/// `--algorithm`.
fn flow_ends(source: &Source, first: &Decision) -> (std::net::IpAddr, SocketAddr) {
    let src = match source {
        Source::External { ip, .. } => *ip,
        _ => std::net::IpAddr::from([10, 0, 0, 1]),
    };
    let dst = first
        .dns_answers
        .first()
        .map(|ip| SocketAddr::new(*ip, 0))
        .or(first.chosen)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    (src, dst)
}

/// The client address, node and cluster-IP destination of a pod's
/// connection to a Service's cluster IP, when the question is one.
fn fast_path(
    cluster: &Cluster,
    request: &Request,
    first: &Decision,
) -> Option<(std::net::IpAddr, String, SocketAddr)> {
    let Source::Pod { namespace, name } = &request.source else {
        return None;
    };
    if first.outcome != RouteOutcome::Forward {
        return None;
    }
    let dest = match &request.destination {
        Destination::Ip(a) => *a,
        Destination::Dns { port, .. } => {
            let ip = first
                .dns_answers
                .iter()
                .find(|ip| ip.is_ipv4())
                .or(first.dns_answers.first())?;
            SocketAddr::new(*ip, *port)
        }
        _ => return None,
    };
    let key = ObjectKey {
        kind: Kind::Pod,
        namespace: Some(namespace.clone()),
        name: name.clone(),
    };
    let object = cluster.get(&key);
    let Some(Object::Pod(pod)) = object.as_deref() else {
        return None;
    };
    let ip = pod
        .status
        .pod_ips
        .iter()
        .map(|p| p.ip.as_str())
        .chain(pod.status.pod_ip.as_deref())
        .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
        .find(|ip| ip.is_ipv4() == dest.is_ipv4())?;
    Some((ip, pod.spec.node_name.clone()?, dest))
}

/// Counts one routed connection: its endpoint, or one undelivered.
fn tally(d: &Decision, counts: &mut BTreeMap<String, u64>, undelivered: &mut u64) {
    match (d.chosen, d.packet_fate) {
        (Some(c), None) => *counts.entry(c.to_string()).or_default() += 1,
        _ => *undelivered += 1,
    }
}
