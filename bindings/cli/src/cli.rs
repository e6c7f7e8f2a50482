//! The argument types: the program, its global flags and the output formats.
//!
//! Global flags are kubectl's and may stand before or after the subcommand
//! (`svcroute -n shop get svc` = `svcroute get svc -n shop`).

use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};

use crate::commands::Command;

const ABOUT: &str = "Ask a cluster what kube-proxy and CoreDNS would do, and why.";

const LONG_ABOUT: &str = "\
Ask a cluster what kube-proxy and CoreDNS would do, and why.

svcroute reads Kubernetes manifests or a `kubectl get ... -o json` dump (-f) and \
answers the way the cluster's own components would: which pods a Service selects, \
what the EndpointSlices hold, what DNS answers, where a connection goes. It never \
talks to a cluster.";

const AFTER_HELP: &str = "\
Exit codes:
  0  the command answered and the answer is positive
  1  the answer is negative (no endpoints, NXDOMAIN, a rejected route, no match)
  2  bad input or usage (the error is printed on stderr)";

/// The `svcroute` command line.
#[derive(Debug, Parser)]
#[command(
    name = "svcroute",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    arg_required_else_help = true,
    propagate_version = false,
    max_term_width = 100
)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's global flags, accepted before or after any subcommand.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Manifests to read: a file, a directory (its .json, .yaml and .yml
    /// files; subdirectories with -R), or - for stdin. Repeatable. JSON or
    /// YAML; single objects, multi-document streams, Lists, `kubectl get -o
    /// json|yaml` dumps and watch-event streams (`kubectl get -w -o json`:
    /// the state the events leave). Kinds svcroute does not model are
    /// skipped with one notice
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        global = true,
        help_heading = "Input"
    )]
    pub filenames: Vec<PathBuf>,

    /// Cluster settings (YAML or JSON): cluster domain, service and cluster
    /// CIDRs, node CIDR mask, node-port range, proxy mode and options. What
    /// it leaves out is inferred from the input where it can be, and said
    #[arg(long, value_name = "FILE", global = true, help_heading = "Input")]
    pub config: Option<PathBuf>,

    /// Read the directories given with -f recursively
    #[arg(short = 'R', long, global = true, help_heading = "Input")]
    pub recursive: bool,

    /// The namespace the command is about, and the one given to objects of
    /// -f input that name none [default: default]
    #[arg(
        short = 'n',
        long,
        value_name = "NS",
        global = true,
        help_heading = "Scope"
    )]
    pub namespace: Option<String>,

    /// Every namespace (wins over -n)
    #[arg(short = 'A', long, global = true, help_heading = "Scope")]
    pub all_namespaces: bool,

    /// Label selector to filter on: `=`, `==`, `!=`, `in (...)`, `notin
    /// (...)`, `key`, `!key`; a comma means AND (e.g. -l 'app=web,tier!=db')
    #[arg(
        short = 'l',
        long,
        value_name = "SELECTOR",
        global = true,
        help_heading = "Scope"
    )]
    pub selector: Option<String>,

    /// Output format (each command says which it supports; default: text)
    #[arg(
        short = 'o',
        long,
        value_enum,
        value_name = "FORMAT",
        global = true,
        help_heading = "Output"
    )]
    pub output: Option<OutputFormat>,
}

/// The `-o` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Machine-readable JSON
    Json,
    /// YAML
    Yaml,
    /// The table with extra columns
    Wide,
    /// Only `kind/name` per object
    Name,
}

impl OutputFormat {
    /// The flag value (`json`, `yaml`, `wide`, `name`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Json => "json",
            OutputFormat::Yaml => "yaml",
            OutputFormat::Wide => "wide",
            OutputFormat::Name => "name",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let before = Cli::try_parse_from([
            "svcroute", "-n", "shop", "-f", "a.yaml", "-o", "json", "version",
        ])
        .unwrap();
        let after = Cli::try_parse_from([
            "svcroute", "version", "-n", "shop", "-f", "a.yaml", "-o", "json",
        ])
        .unwrap();
        for cli in [before, after] {
            assert_eq!(cli.global.namespace.as_deref(), Some("shop"));
            assert_eq!(cli.global.filenames, [PathBuf::from("a.yaml")]);
            assert_eq!(cli.global.output, Some(OutputFormat::Json));
        }
    }

    #[test]
    fn filenames_repeat_and_flags_have_long_forms() {
        let cli = Cli::try_parse_from([
            "svcroute",
            "version",
            "-f",
            "a.yaml",
            "--filename",
            "dir",
            "-f",
            "-",
            "-R",
            "--all-namespaces",
            "--selector",
            "app=web",
            "--output=yaml",
        ])
        .unwrap();
        let g = cli.global;
        assert_eq!(
            g.filenames,
            [PathBuf::from("a.yaml"), "dir".into(), "-".into()]
        );
        assert!(g.recursive && g.all_namespaces);
        assert_eq!(g.selector.as_deref(), Some("app=web"));
        assert_eq!(g.output, Some(OutputFormat::Yaml));
    }

    #[test]
    fn bad_output_format_is_a_usage_error() {
        let err = Cli::try_parse_from(["svcroute", "version", "-o", "xml"]).unwrap_err();
        assert!(err.use_stderr());
        assert_eq!(err.exit_code(), 2);
    }
}
