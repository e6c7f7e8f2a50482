//! # svcroute-cli: the `svcroute` command line
//!
//! Ask a cluster what kube-proxy and CoreDNS would do, and why, from its
//! manifests or a `kubectl get … -o json` dump, with kubectl's conventions.
//! This crate is a thin door: it reads files, parses flags, calls the core
//! and prints; every answer is the core's.
//!
//! ## Layout
//!
//! | module | owns |
//! | --- | --- |
//! | [`cli`] | the clap types: [`cli::Cli`], the global flags ([`cli::GlobalArgs`]), [`cli::OutputFormat`] |
//! | [`commands`] | the [`commands::Command`] enum and one module per subcommand |
//! | [`context`] | [`context::Context`]: what a command gets (resolved flags, input, output streams) |
//! | [`input`] | reading `-f` files, directories and stdin |
//! | [`load`] | the input folded into objects and a cluster; errors with file, document, object, field |
//! | [`config`] | the one place that builds the `ClusterConfig`: `--config` and inference |
//! | [`nodes`], [`pod_state`] | default nodes (`--nodes`), `--not-ready`/`--terminating` (the summary line and the namespace warnings are the core's `LoadSummary`) |
//! | [`output`] | printing values as JSON or YAML |
//! | [`table`], [`age`] | kubectl's tables and its AGE column |
//! | [`describe`], [`tabwriter`] | kubectl's describe layouts, aligned as Go's tabwriter does |
//! | [`request`] | `--from`/`--to` of `route` and `simulate` (DECISIONS D15, D16) |
//! | [`front_door`] | an outside client's way in to a LoadBalancer Service: pending, a pool VIP, an AWS ELB hostname to a node's NodePort |
//! | [`alb`] | Ingresses of class `alb` under `--cloud aws`: the class, ALB hostnames, instance or ip targets |
//! | [`via`] | `route --via port-forward` and `--via apiserver-proxy`: the paths around kube-proxy |
//! | [`exit`] | exit codes (DECISIONS D5), [`exit::Outcome`] and [`exit::CliError`] |
//!
//! ## Adding a subcommand
//!
//! 1. Write `src/commands/NAME.rs` with a `#[derive(clap::Args)] pub struct
//!    NameArgs` (its own flags and positionals; doc comments are the help
//!    text) and `pub fn run(args: &NameArgs, ctx: &mut Context) -> Result<Outcome, CliError>`.
//! 2. Declare the module and add a variant `Name(name::NameArgs)` to
//!    [`commands::Command`] (its doc comment is the one-line help), and a
//!    match arm in [`commands::Command::run`].
//! 3. Build the cluster with [`load::cluster`] (it reads `-f` and
//!    `--config`; [`config::cluster_config`] is the one place that turns
//!    settings into a `ClusterConfig`, so new cluster flags go there), the namespace with
//!    [`context::Context::namespace`] / [`context::Context::scope`], check the
//!    output format with [`context::Context::output_format`], write to
//!    `ctx.stdout`. Return [`exit::Outcome::Negative`] for a negative answer
//!    (exit 1) and a [`exit::CliError`] for bad input or usage (exit 2).
//! 4. Test it by running the binary (`bindings/cli/tests/cli.rs`).
//!
//! ## Exit codes
//!
//! 0: the command answered and the answer is positive; 1: the answer is
//! negative (no endpoints, NXDOMAIN, a rejected route, a selector that does
//! not match); 2: bad input or usage. Errors go to stderr as `error: …`.

use std::ffi::OsString;
use std::io::{Read, Write};

use clap::Parser;

pub mod age;
pub mod alb;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod describe;
pub mod exit;
pub mod front_door;
pub mod input;
pub mod load;
pub mod nodes;
pub mod output;
pub mod pod_state;
pub mod request;
pub mod table;
pub mod tabwriter;
pub mod via;

use context::Context;
use exit::{CliError, EXIT_USAGE};

/// Runs the command line given by `args` (the program name first) with the
/// given streams, and returns the process exit code.
///
/// ```
/// let mut out = Vec::new();
/// let mut err = Vec::new();
/// let code = svcroute_cli::run(["svcroute", "version"], &mut std::io::empty(), &mut out, &mut err);
/// assert_eq!(code, 0);
/// assert_eq!(String::from_utf8(out).unwrap(), format!("svcroute {}\n", env!("CARGO_PKG_VERSION")));
/// ```
pub fn run<I, T>(
    args: I,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are answers; anything else is a usage error.
            let mut text = err.render().to_string();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            return if err.use_stderr() {
                let _ = write!(stderr, "{text}");
                EXIT_USAGE
            } else {
                match write!(stdout, "{text}") {
                    Ok(()) => 0,
                    Err(e) => report(&CliError::from(e), stderr),
                }
            };
        }
    };
    let mut ctx = Context {
        global: &cli.global,
        stdin,
        stdout,
        stderr: &mut *stderr,
    };
    let result = cli.command.run(&mut ctx).and_then(|outcome| {
        ctx.stdout.flush()?;
        Ok(outcome)
    });
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => report(&err, stderr),
    }
}

/// Prints `err` to stderr and returns its exit code.
fn report(err: &CliError, stderr: &mut dyn Write) -> u8 {
    if err.is_broken_pipe() {
        // The reader went away (`svcroute get pods | head`): not an error.
        return 0;
    }
    let _ = writeln!(stderr, "error: {err}");
    let _ = stderr.flush();
    err.exit_code()
}
