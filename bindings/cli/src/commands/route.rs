//! `svcroute route --from SOURCE --to DESTINATION [--at S] [--via …]`:
//! what kube-proxy (or the Ingress controller) does with one connection,
//! and why, hop by hop. `-o json` is the conformance vocabulary (D16).
//! Exit 1 when the connection is not delivered (DECISIONS D5).

use std::io::Write;

use clap::{Args, ValueEnum};
use std::net::IpAddr;

use svcroute::cluster::Cluster;
use svcroute::dataplane::{
    Dataplane, Decision, Destination, Hop, Masquerade, Millis, Outcome as Result_, PacketFate,
    Render, Request, RouteState, Source,
};

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::front_door::{self, FrontDoor};
use crate::request::QuestionArgs;
use crate::{alb, load, output, via};

/// Flags of `svcroute route`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = "\
Examples:
  svcroute route -f shop.yaml -n shop --from pod/frontend-5f6d8-lp2wd --to backend:80
  svcroute route -f shop.yaml --from 198.51.100.7@node-a --to 192.168.10.12:30080
  svcroute route -f shop.yaml -n shop --to backend:80 --via port-forward --from pod/x
  svcroute route -f app.yaml --cloud aws --from 203.0.113.9 --to HOSTNAME:80

An outside client (--from IP) reaches a LoadBalancer Service by its name or
its load balancer's hostname: no address without --lb-pool or --cloud; a
pool address routes as a VIP; an AWS hostname goes to a node's NodePort.

Exit codes: 0 delivered (forward, direct, cname, HTTP < 400); 1 not delivered
(reject, drop, unhandled, not captured, no such service, HTTP >= 400 from
infrastructure); 2 bad input or usage.")]
pub struct RouteArgs {
    /// The question.
    #[command(flatten)]
    pub question: QuestionArgs,
    /// The time of the connection in seconds since the start (session
    /// affinity timeouts) [default: 0]
    #[arg(long, value_name = "SECONDS")]
    pub at: Option<f64>,
    /// Go around kube-proxy the way tutorials do: `port-forward` is
    /// `kubectl port-forward svc/NAME` (one pod, straight to its
    /// targetPort), `apiserver-proxy` is `kubectl proxy` (the API server's
    /// service proxy). --to is then NAME:PORT of a Service of -n
    #[arg(long, value_enum, value_name = "PATH")]
    pub via: Option<Via>,
    /// Seed of the random choices (which endpoint is picked)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The paths around kube-proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// `kubectl port-forward svc/NAME`.
    PortForward,
    /// `kubectl proxy` and `/api/v1/namespaces/NS/services/NAME:PORT/proxy/`.
    ApiserverProxy,
}

/// The time given with `--at`, in the core's milliseconds.
pub fn at_millis(at: Option<f64>) -> Result<Millis, CliError> {
    match at {
        None => Ok(Millis(0)),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Millis((s * 1000.0).round() as u64)),
        Some(s) => Err(CliError::usage(format!(
            "--at {s}: expected a number of seconds, 0 or more"
        ))),
    }
}

/// Answers one routing question.
pub fn run(args: &RouteArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("route", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let now = at_millis(args.at)?;
    let cluster = load::cluster(ctx)?;
    let namespace = ctx.namespace().to_owned();
    if let Some(path) = args.via {
        let answer = match path {
            Via::PortForward => via::port_forward(&cluster, &namespace, &args.question.to)?,
            Via::ApiserverProxy => {
                via::apiserver_proxy(&cluster, &namespace, &args.question.to, args.seed)?
            }
        };
        match format {
            Some(f) => output::write_structured(ctx.stdout, f, &answer.to_json())?,
            None => write_text(
                ctx.stdout,
                &format!("{} svc/{}", path_name(path), args.question.to),
                &answer,
            )?,
        }
        return Ok(verdict(&answer));
    }
    let request = args.question.request(&cluster, &namespace)?;
    let dataplane = Dataplane::compile(&cluster, cluster.config().proxy.mode);
    let mut state = RouteState::new(args.seed);
    let route = |request: &Request, state: &mut RouteState| {
        dataplane
            .route(request, state, now)
            .map_err(|e| CliError::of_kind(e.kind(), e.to_string()))
    };
    let decision = match front_door_of(&cluster, &namespace, &request) {
        (FrontDoor::Direct, _) => route(&request, &mut state)?,
        (FrontDoor::Pending { service }, _) => {
            front_door::pending(route(&request, &mut state)?, &service)
        }
        (FrontDoor::Address { service, to }, _) => {
            let mut asked = request.clone();
            asked.destination = Destination::Ip(to);
            let hop = Hop {
                rule: None,
                detail: format!(
                    "{} is the load-balancer address of {service} (status.loadBalancer.ingress)",
                    to.ip()
                ),
            };
            front_door::with_hops(route(&asked, &mut state)?, vec![hop])
        }
        (
            FrontDoor::Alb {
                ingress,
                scheme,
                target_type,
            },
            client,
        ) => {
            let mut asked = request.clone();
            let host = match &mut asked.destination {
                Destination::Ingress(r) => {
                    r.controller = alb::CONTROLLER.to_owned();
                    r.host.clone()
                }
                _ => String::new(),
            };
            let matched = route(&asked, &mut state)?;
            let mut hops = vec![Hop {
                rule: None,
                detail: format!(
                    "{host} is served by the ALB of Ingress {ingress} (class alb, scheme {scheme}, target type {target_type})"
                ),
            }];
            if scheme == "internal" && !front_door::in_vpc(client) {
                let mut d = matched.clone();
                d.outcome = Result_::Reject;
                d.packet_fate = Some(PacketFate::Reject);
                d.http = None;
                hops.push(Hop {
                    rule: None,
                    detail: format!(
                        "the ALB is internal: it has only private addresses, and the client {client} \
                         is outside the VPC (not a private RFC 1918 or ULA address), so it cannot reach it"
                    ),
                });
                d.trace = hops;
                d
            } else {
                let backend = matched.ingress_match.clone().and_then(|m| {
                    let (ns, name) = m.service.split_once('/')?;
                    let key = svcroute::api::ObjectKey {
                        kind: svcroute::api::Kind::Service,
                        namespace: Some(ns.to_owned()),
                        name: name.to_owned(),
                    };
                    match cluster.get(&key).as_deref() {
                        Some(svcroute::api::Object::Service(s)) => Some((s.clone(), m.port?)),
                        _ => None,
                    }
                });
                match (target_type, backend) {
                    ("instance", Some((svc, port))) => {
                        hops.extend(matched.trace.iter().cloned());
                        let elb = front_door::elb(&cluster, &svc, &host, port);
                        let (sent, more) = elb.forward(client, args.seed);
                        hops.extend(more.into_iter().skip(1));
                        match sent {
                            Some(sent) => {
                                let mut d = front_door::with_hops(route(&sent, &mut state)?, hops);
                                d.ingress_match = matched.ingress_match.clone();
                                d
                            }
                            None => {
                                let mut d = matched.clone();
                                d.outcome = Result_::Http;
                                d.http = Some(svcroute::dataplane::HttpAnswer {
                                    status: 503,
                                    body: String::new(),
                                });
                                d.packet_fate = None;
                                hops.push(Hop {
                                rule: None,
                                detail: "target type instance needs the backend Service's NodePort and a healthy node: the ALB answers 503".to_owned(),
                            });
                                d.trace = hops;
                                d
                            }
                        }
                    }
                    _ => {
                        if target_type == "ip" {
                            hops.push(Hop {
                                rule: None,
                                detail: "target type ip: the ALB sends to the pod IPs".to_owned(),
                            });
                        }
                        front_door::with_hops(matched, hops)
                    }
                }
            }
        }
        (FrontDoor::Elb(elb), client) => {
            let (sent, hops) = elb.forward(client, args.seed);
            match sent {
                Some(mut sent) => {
                    sent.protocol = request.protocol;
                    front_door::with_hops(route(&sent, &mut state)?, hops)
                }
                None => {
                    let mut d = route(&request, &mut state)?;
                    d.service = Some(elb.service.clone());
                    d.outcome = Result_::Reject;
                    d.packet_fate = Some(PacketFate::Reject);
                    d.trace = hops;
                    d
                }
            }
        }
    };
    match format {
        Some(f) => output::write_structured(ctx.stdout, f, &decision.to_json())?,
        None => write_text(
            ctx.stdout,
            &format!(
                "{} -> {} ({})",
                args.question.from,
                args.question.to,
                cluster.config().proxy.mode.as_str()
            ),
            &decision,
        )?,
    }
    Ok(verdict(&decision))
}

/// The front door of an outside client's `NAME:PORT` (D16; see
/// [`front_door`]), with the client's address.
fn front_door_of(cluster: &Cluster, namespace: &str, request: &Request) -> (FrontDoor, IpAddr) {
    match (&request.source, &request.destination) {
        (
            Source::External {
                ip,
                arrives_at: None,
            },
            Destination::Dns { name, port, .. },
        ) => (front_door::resolve(cluster, namespace, name, *port), *ip),
        (
            Source::External {
                ip,
                arrives_at: None,
            },
            Destination::Ingress(r),
        ) => match alb::ingress_for_host(cluster, &r.host).as_ref() {
            Some(i) => (
                FrontDoor::Alb {
                    ingress: format!(
                        "{}/{}",
                        i.metadata.namespace.as_deref().unwrap_or_default(),
                        i.metadata.name.as_deref().unwrap_or_default()
                    ),
                    scheme: alb::scheme(i),
                    target_type: alb::target_type(i),
                },
                *ip,
            ),
            None => (FrontDoor::Direct, *ip),
        },
        (source, _) => {
            let ip = match source {
                Source::External { ip, .. } => *ip,
                _ => IpAddr::from([0, 0, 0, 0]),
            };
            (FrontDoor::Direct, ip)
        }
    }
}

fn path_name(via: Via) -> &'static str {
    match via {
        Via::PortForward => "kubectl port-forward",
        Via::ApiserverProxy => "kubectl proxy",
    }
}

/// D5: delivered is positive; anything that ends the connection, or an
/// HTTP error made by infrastructure, is negative.
pub fn verdict(d: &Decision) -> Outcome {
    let delivered = match d.outcome {
        Result_::Forward | Result_::Direct | Result_::Cname => d.packet_fate.is_none(),
        Result_::Http => d.http.as_ref().is_some_and(|h| h.status < 400),
        _ => false,
    };
    if delivered {
        Outcome::Positive
    } else {
        Outcome::Negative
    }
}

/// The decision in words: the outcome, the sets, then the numbered trace.
pub fn write_text(out: &mut dyn Write, header: &str, d: &Decision) -> Result<(), CliError> {
    writeln!(out, "{header}")?;
    writeln!(out, "Result:       {}", d.outcome.as_str())?;
    if let Some(s) = &d.service {
        writeln!(out, "Service:      {s}")?;
    }
    if !d.dns_answers.is_empty() {
        let a: Vec<String> = d.dns_answers.iter().map(ToString::to_string).collect();
        writeln!(out, "DNS answers:  {}", a.join(", "))?;
    }
    if let Some(c) = &d.cname {
        writeln!(out, "CNAME:        {c}")?;
    }
    if !d.endpoints.is_empty() {
        let e: Vec<String> = d.endpoints.iter().map(ToString::to_string).collect();
        writeln!(out, "Endpoints:    {}", e.join(", "))?;
    }
    if let Some(c) = d.chosen {
        writeln!(out, "Chosen:       {c}")?;
    }
    if let Some(m) = d.masquerade {
        let m = match m {
            Masquerade::No => "no (the backend sees the client's address)",
            Masquerade::Yes => "yes (SNAT to the node's address)",
            Masquerade::IfSelf => "only if the chosen backend is the client itself (hairpin)",
        };
        writeln!(out, "Masquerade:   {m}")?;
    }
    if let Some(f) = d.packet_fate {
        let what = match f.as_str() {
            "reject" => "reject (ICMP port unreachable: connection refused)",
            "drop" => "drop (silently: the client times out)",
            _ => "unhandled (no Service rule matches; routed like any other packet)",
        };
        writeln!(out, "Packet:       {what}")?;
    }
    if let Some(h) = &d.http {
        writeln!(out, "HTTP status:  {}", h.status)?;
    }
    if let Some(m) = &d.ingress_match {
        let rule = if m.default_backend {
            "defaultBackend".to_owned()
        } else {
            format!(
                "host {} path {} ({})",
                m.host.as_deref().unwrap_or("*"),
                m.path.as_deref().unwrap_or("/"),
                m.path_type.as_deref().unwrap_or("ImplementationSpecific")
            )
        };
        let port = m.port.map_or(String::new(), |p| format!(":{p}"));
        writeln!(
            out,
            "Ingress:      {} {rule} -> {}{port}",
            m.ingress, m.service
        )?;
    }
    if let Some(r) = &d.render {
        match r {
            Render::Iptables {
                endpoint_order,
                probabilities,
            } => {
                let rules: Vec<String> = endpoint_order
                    .iter()
                    .zip(probabilities)
                    .map(|(e, p)| match p {
                        Some(p) => format!("{e} (--probability {p})"),
                        None => e.clone(),
                    })
                    .collect();
                writeln!(out, "iptables:     {}", rules.join(", "))?;
            }
            Render::Nftables {
                numgen_mod,
                vmap_order,
            } => writeln!(
                out,
                "nftables:     numgen random mod {numgen_mod} vmap {{ {} }}",
                vmap_order
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("{i} : {e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            Render::Ipvs {
                scheduler,
                real_server_weights,
            } => writeln!(
                out,
                "IPVS:         scheduler {scheduler}, real servers {}",
                real_server_weights
                    .iter()
                    .map(|(e, w)| format!("{e} weight {w}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
        }
    }
    writeln!(out, "Trace:")?;
    for (i, hop) in d.trace.iter().enumerate() {
        writeln!(out, "  {}. {hop}", i + 1)?;
    }
    Ok(())
}
