//! The subcommands: one module each, one variant of [`Command`] each.
//!
//! To add one, see the crate documentation ("Adding a subcommand").

use clap::Subcommand;

use crate::context::Context;
use crate::exit::{CliError, Outcome};

pub mod version;

/// What `svcroute` is asked to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version of svcroute
    Version(version::VersionArgs),
}

impl Command {
    /// Runs the command.
    pub fn run(&self, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
        match self {
            Command::Version(args) => version::run(args, ctx),
        }
    }
}
