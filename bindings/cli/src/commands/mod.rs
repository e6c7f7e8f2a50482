//! The subcommands: one module each, one variant of [`Command`] each.
//!
//! To add one, see the crate documentation ("Adding a subcommand").

use clap::Subcommand;

use crate::context::Context;
use crate::exit::{CliError, Outcome};

pub mod explain;
pub mod get;
pub mod selector;
pub mod serve_dns;
pub mod version;

/// What `svcroute` is asked to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Why a Service has (or lacks) each pod as an endpoint
    Explain(explain::ExplainArgs),
    /// List objects like `kubectl get`: pods, services, endpointslices, nodes, …
    Get(get::GetArgs),
    /// Parse a label selector (canonical form or a pointed error) and match it
    Selector(selector::SelectorArgs),
    /// Serve cluster DNS over UDP and TCP from the -f manifests
    ServeDns(serve_dns::ServeDnsArgs),
    /// Print the version of svcroute
    Version(version::VersionArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(&self, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
        match self {
            Command::Explain(args) => explain::run(args, ctx),
            Command::Get(args) => get::run(args, ctx),
            Command::Selector(args) => selector::run(args, ctx),
            Command::ServeDns(args) => serve_dns::run(args, ctx),
            Command::Version(args) => version::run(args, ctx),
        }
    }
}
