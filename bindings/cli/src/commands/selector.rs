//! `svcroute selector 'EXPR' [--labels k=v,…]`: parse a label selector as
//! the API server does (canonical form, or the error pointed at its byte),
//! and optionally match it against a label set.

use clap::Args;
use serde::Serialize;
use svcroute::ErrorKind;
use svcroute::labels::{Selector, parse_selector_map};

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::exit::{CliError, Outcome};
use crate::output;

/// Flags of `svcroute selector`.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectorArgs {
    /// The selector, in the string grammar (`app=web,tier in (a,b),!canary`)
    pub expression: String,
    /// Labels to match against, as `k=v,k2=v2` (exit 1 when they do not match)
    #[arg(long, value_name = "K=V,...")]
    pub labels: Option<String>,
}

/// The `-o json|yaml` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    canonical: String,
    requirements: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    matches: Option<bool>,
}

/// The input with a caret under byte `position` (kubectl-free, like a compiler).
fn pointed(input: &str, position: usize) -> String {
    let shown: String = input
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    let column = input
        .get(..position.min(input.len()))
        .map_or(position, |prefix| prefix.chars().count());
    format!("  {shown}\n  {}^", " ".repeat(column))
}

/// Parses, prints the canonical form and, with `--labels`, whether it matches.
pub fn run(args: &SelectorArgs, ctx: &mut Context<'_>) -> Result<Outcome, CliError> {
    let format = ctx.output_format("selector", &[OutputFormat::Json, OutputFormat::Yaml])?;
    let selector = Selector::parse(&args.expression).map_err(|e| {
        CliError::of_kind(
            ErrorKind::Parse,
            format!(
                "invalid selector: {e}\n{}",
                pointed(&args.expression, e.position())
            ),
        )
    })?;
    let matches = match &args.labels {
        None => None,
        Some(text) => {
            let labels = parse_selector_map(text).map_err(|e| {
                CliError::of_kind(
                    ErrorKind::Parse,
                    format!("invalid --labels: {e}\n{}", pointed(text, e.position())),
                )
            })?;
            Some(selector.matches(&labels))
        }
    };
    let answer = Answer {
        canonical: selector.to_string(),
        requirements: selector.requirements().len(),
        matches,
    };
    match format {
        Some(format) => output::write_structured(ctx.stdout, format, &answer)?,
        None => {
            let shown = if answer.canonical.is_empty() {
                "(empty: matches everything)"
            } else {
                &answer.canonical
            };
            writeln!(ctx.stdout, "{shown}")?;
            if let Some(m) = matches {
                writeln!(
                    ctx.stdout,
                    "{}",
                    if m { "matches" } else { "does not match" }
                )?;
            }
        }
    }
    Ok(match matches {
        Some(false) => Outcome::Negative,
        _ => Outcome::Positive,
    })
}
