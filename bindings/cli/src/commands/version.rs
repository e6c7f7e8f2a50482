//! `svcroute version`: the version of svcroute.

use clap::Args;
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::output;

/// Flags of `svcroute version` (none of its own; `-o json|yaml` applies).
#[derive(Debug, Clone, Default, Args)]
pub struct VersionArgs {}

/// The `-o json|yaml` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    /// The version of svcroute (`MAJOR.MINOR.PATCH`).
    svcroute_version: &'static str,
}

/// Prints `svcroute X.Y.Z`, or `{"svcrouteVersion": "X.Y.Z"}` with `-o json`.
pub fn run(_args: &VersionArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let version = Version {
        svcroute_version: env!("CARGO_PKG_VERSION"),
    };
    match ctx.output_format("version", &[OutputFormat::Json, OutputFormat::Yaml])? {
        Some(format) => output::write_structured(ctx.stdout, format, &version)?,
        None => writeln!(ctx.stdout, "svcroute {}", version.svcroute_version)?,
    }
    Ok(Outcome::Positive)
}
