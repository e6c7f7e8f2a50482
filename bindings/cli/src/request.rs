//! The routing question from the command line: `--from`, `--to` and
//! `--protocol` as `route` and `simulate` take them (DECISIONS D15, D16).
//!
//! | `--from` | meaning |
//! | --- | --- |
//! | `pod/NAME` | a pod of the `-n` namespace |
//! | `pod/NS/NAME` | a pod of another namespace |
//! | `node/NAME` | a host-network process on that node |
//! | `IP@NODE` | an outside client whose packet enters at NODE |
//! | `IP` | an outside client through the destination's own front door |
//!
//! | `--to` | meaning |
//! | --- | --- |
//! | `NAME:PORT` | a DNS name (the pod's search path applies), then the port |
//! | `IP:PORT`, `[IPv6]:PORT` | an address |
//! | `http://HOST[:PORT]/PATH`, `https://…` | an HTTP request to the Ingress controller |

use std::net::{IpAddr, SocketAddr};

use svcroute::api::{Kind, Object};
use svcroute::cluster::Cluster;
use svcroute::dataplane::{Destination, IngressRequest, Source};
use svcroute::labels::Selector;

use crate::exit::CliError;

/// Parses `--from`; `namespace` is the `-n` namespace for `pod/NAME`.
///
/// ```
/// use svcroute::dataplane::Source;
/// use svcroute_cli::request::parse_source;
/// assert_eq!(parse_source("pod/client", "shop").unwrap(),
///            Source::Pod { namespace: "shop".into(), name: "client".into() });
/// assert_eq!(parse_source("pod/other/client", "shop").unwrap(),
///            Source::Pod { namespace: "other".into(), name: "client".into() });
/// assert_eq!(parse_source("node/n1", "shop").unwrap(), Source::Node("n1".into()));
/// assert_eq!(parse_source("198.51.100.7@n1", "shop").unwrap(),
///            Source::External { ip: "198.51.100.7".parse().unwrap(), arrives_at: Some("n1".into()) });
/// assert!(parse_source("client", "shop").is_err());
/// ```
pub fn parse_source(text: &str, namespace: &str) -> Result<Source, CliError> {
    let bad = || {
        CliError::usage(format!(
            "--from {text:?}: expected pod/NAME, pod/NAMESPACE/NAME, node/NAME, IP@NODE or IP"
        ))
    };
    if let Some(rest) = text
        .strip_prefix("pod/")
        .or_else(|| text.strip_prefix("pods/"))
        .or_else(|| text.strip_prefix("po/"))
    {
        let (ns, name) = match rest.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (namespace, rest),
        };
        if ns.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        return Ok(Source::Pod {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        });
    }
    if let Some(name) = text
        .strip_prefix("node/")
        .or_else(|| text.strip_prefix("nodes/"))
        .or_else(|| text.strip_prefix("no/"))
    {
        if name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        return Ok(Source::Node(name.to_owned()));
    }
    let (ip, node) = match text.split_once('@') {
        Some((ip, node)) if !node.is_empty() => (ip, Some(node.to_owned())),
        Some(_) => return Err(bad()),
        None => (text, None),
    };
    let ip: IpAddr = ip
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    Ok(Source::External {
        ip,
        arrives_at: node,
    })
}

/// A parsed `--to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `NAME:PORT`.
    Name {
        /// The DNS name as typed.
        name: String,
        /// The port.
        port: u16,
    },
    /// `IP:PORT`.
    Address(SocketAddr),
    /// `http(s)://HOST/PATH`.
    Http {
        /// `http` or `https`.
        scheme: String,
        /// The Host header (with a `:port` if given).
        host: String,
        /// The path (`/` when absent).
        path: String,
    },
}

/// Parses `--to`.
///
/// ```
/// use svcroute_cli::request::{parse_target, Target};
/// assert_eq!(parse_target("web:80").unwrap(), Target::Name { name: "web".into(), port: 80 });
/// assert_eq!(parse_target("10.96.0.20:80").unwrap(), Target::Address("10.96.0.20:80".parse().unwrap()));
/// assert_eq!(parse_target("[fd00::1]:80").unwrap(), Target::Address("[fd00::1]:80".parse().unwrap()));
/// assert_eq!(parse_target("http://shop.example/cart?x=1").unwrap(),
///            Target::Http { scheme: "http".into(), host: "shop.example".into(), path: "/cart?x=1".into() });
/// assert!(parse_target("web").is_err());
/// ```
pub fn parse_target(text: &str) -> Result<Target, CliError> {
    let bad = |why: &str| {
        CliError::usage(format!(
            "--to {text:?}: {why}; expected NAME:PORT, IP:PORT or http://HOST/PATH"
        ))
    };
    for scheme in ["http", "https"] {
        if let Some(rest) = text
            .strip_prefix(scheme)
            .and_then(|r| r.strip_prefix("://"))
        {
            let (host, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            if host.is_empty() {
                return Err(bad("no host"));
            }
            return Ok(Target::Http {
                scheme: scheme.to_owned(),
                host: host.to_owned(),
                path: path.to_owned(),
            });
        }
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(Target::Address(addr));
    }
    let Some((name, port)) = text.rsplit_once(':') else {
        return Err(bad("no port"));
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| bad("the port is not a number in 1-65535"))?;
    if name.is_empty() || name.parse::<IpAddr>().is_ok() || name.contains(['/', ':', '@']) {
        return Err(bad("not a DNS name"));
    }
    Ok(Target::Name {
        name: name.to_owned(),
        port,
    })
}

impl Target {
    /// The dataplane's destination; HTTP targets go to the controller of
    /// `ingress_class` (see [`ingress_controller`]).
    pub fn destination(
        &self,
        cluster: &Cluster,
        ingress_class: Option<&str>,
    ) -> Result<Destination, CliError> {
        Ok(match self {
            Target::Name { name, port } => Destination::Dns {
                name: name.clone(),
                port: *port,
                family: None,
            },
            Target::Address(a) => Destination::Ip(*a),
            Target::Http { scheme, host, path } => Destination::Ingress(IngressRequest {
                controller: ingress_controller(cluster, ingress_class)?,
                scheme: scheme.clone(),
                host: host.clone(),
                path: path.clone(),
            }),
        })
    }
}

/// The Ingress controller an HTTP request goes to: the one of the class
/// named, else the only controller among the IngressClasses, else the
/// default class's; `""` when the cluster has no IngressClass (then no
/// controller serves anything, rule ING-1).
///
/// ```
/// let c = svcroute::cluster::Cluster::new(Default::default()).unwrap();
/// assert_eq!(svcroute_cli::request::ingress_controller(&c, None).unwrap(), "");
/// assert!(svcroute_cli::request::ingress_controller(&c, Some("nginx")).is_err());
/// ```
pub fn ingress_controller(cluster: &Cluster, class: Option<&str>) -> Result<String, CliError> {
    let classes: Vec<(String, String, bool)> = cluster
        .list(Kind::IngressClass, None, &Selector::everything())
        .iter()
        .filter_map(|o| match o.as_ref() {
            Object::IngressClass(c) => Some((
                c.metadata.name.clone().unwrap_or_default(),
                c.spec.controller.clone().unwrap_or_default(),
                c.is_default_class(),
            )),
            _ => None,
        })
        .collect();
    if let Some(want) = class {
        return classes
            .iter()
            .find(|(name, _, _)| name == want)
            .map(|(_, controller, _)| controller.clone())
            .ok_or_else(|| {
                CliError::of_kind(
                    svcroute::ErrorKind::NotFound,
                    format!("ingressclasses.networking.k8s.io \"{want}\" not found"),
                )
            });
    }
    let mut controllers: Vec<&str> = classes.iter().map(|(_, c, _)| c.as_str()).collect();
    controllers.sort_unstable();
    controllers.dedup();
    match controllers.as_slice() {
        [] => Ok(String::new()),
        [one] => Ok((*one).to_owned()),
        _ => classes
            .iter()
            .find(|(_, _, default)| *default)
            .map(|(_, c, _)| c.clone())
            .ok_or_else(|| {
                CliError::usage(
                    "several Ingress controllers and no default IngressClass: pick one with --ingress-class",
                )
            }),
    }
}

/// The flags that ask a routing question (`route` and `simulate`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QuestionArgs {
    /// Where the connection starts: pod/NAME, pod/NAMESPACE/NAME, node/NAME,
    /// IP@NODE (an outside client entering at NODE) or IP (an outside client
    /// through the destination's own front door)
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// Where it goes: NAME:PORT (a DNS name, resolved with the source pod's
    /// search path), IP:PORT, or http://HOST/PATH (the Ingress controller)
    #[arg(long, value_name = "DESTINATION")]
    pub to: String,
    /// TCP, UDP, SCTP or HTTP (a GET over TCP) [default: TCP]
    #[arg(long, value_name = "PROTO", ignore_case = true)]
    pub protocol: Option<String>,
    /// The IngressClass whose controller takes http:// destinations
    /// [default: the only controller, or the default class's]
    #[arg(long, value_name = "CLASS")]
    pub ingress_class: Option<String>,
}

impl QuestionArgs {
    /// The dataplane's request; `namespace` is the `-n` namespace.
    pub fn request(
        &self,
        cluster: &Cluster,
        namespace: &str,
    ) -> Result<svcroute::dataplane::Request, CliError> {
        let target = parse_target(&self.to)?;
        let protocol = match &self.protocol {
            Some(p) => p
                .to_ascii_uppercase()
                .parse()
                .map_err(|e| CliError::usage(format!("--protocol: {e}")))?,
            None if matches!(target, Target::Http { .. }) => svcroute::dataplane::Protocol::Http,
            None => svcroute::dataplane::Protocol::Tcp,
        };
        Ok(svcroute::dataplane::Request {
            source: parse_source(&self.from, namespace)?,
            destination: target.destination(cluster, self.ingress_class.as_deref())?,
            protocol,
        })
    }
}
