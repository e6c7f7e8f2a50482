//! The subcommands: one module each, one variant of [`Command`] each.
//!
//! To add one, see the crate documentation ("Adding a subcommand").

use clap::Subcommand;

use crate::context::Context;
use crate::exit::{CliError, Outcome};

pub mod describe;
pub mod dns;
pub mod explain;
pub mod get;
pub mod route;
pub mod selector;
pub mod simulate;
pub mod urls;
pub mod version;

/// What `svcroute` is asked to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show an object the way `kubectl describe` does: service, endpoints, pod, ingress
    Describe(describe::DescribeArgs),
    /// Look a name up as a pod would: the search-list walk and the answer, dig-style
    Dns(dns::DnsArgs),
    /// Why a Service has (or lacks) each pod as an endpoint
    Explain(explain::ExplainArgs),
    /// List objects like `kubectl get`: pods, services, endpointslices, nodes, …
    Get(get::GetArgs),
    /// Trace one connection: what kube-proxy or the Ingress controller does with it, and why
    Route(route::RouteArgs),
    /// Parse a label selector (canonical form or a pointed error) and match it
    Selector(selector::SelectorArgs),
    /// Spread N connections over the endpoints and show the counts with bars
    Simulate(simulate::SimulateArgs),
    /// Every address that reaches a Service: DNS names, cluster IPs, node ports, load balancers, Ingress
    Urls(urls::UrlsArgs),
    /// Print the version of svcroute
    Version(version::VersionArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(&self, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
        match self {
            Command::Describe(args) => describe::run(args, ctx),
            Command::Dns(args) => dns::run(args, ctx),
            Command::Explain(args) => explain::run(args, ctx),
            Command::Get(args) => get::run(args, ctx),
            Command::Route(args) => route::run(args, ctx),
            Command::Selector(args) => selector::run(args, ctx),
            Command::Simulate(args) => simulate::run(args, ctx),
            Command::Urls(args) => urls::run(args, ctx),
            Command::Version(args) => version::run(args, ctx),
        }
    }
}
