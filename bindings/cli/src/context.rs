//! What a command gets: the global flags resolved, the input, the output.

use std::io::{Read, Write};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::exit::CliError;
use crate::input::{self, Source};

/// The namespace used when `-n` is not given.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Which namespaces a command looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// `-A`: every namespace.
    All,
    /// One namespace: `-n NS`, or `default`.
    Namespace(&'a str),
}

/// The environment of one command run.
pub struct Context<'a> {
    /// The global flags as given.
    pub global: &'a GlobalArgs,
    /// Where `-f -` reads from.
    pub stdin: &'a mut dyn Read,
    /// Where answers go.
    pub stdout: &'a mut dyn Write,
    /// Where notices go (skipped kinds, "No resources found"); errors are
    /// printed by the caller of the command, not by the command.
    pub stderr: &'a mut dyn Write,
}

impl Context<'_> {
    /// The namespace the command is about, and the one given to objects of
    /// `-f` input that name none (DECISIONS D15): `-n`, or `default`.
    pub fn namespace(&self) -> &str {
        self.global
            .namespace
            .as_deref()
            .unwrap_or(DEFAULT_NAMESPACE)
    }

    /// The namespaces to list: `-A` wins over `-n`.
    pub fn scope(&self) -> Scope<'_> {
        if self.global.all_namespaces {
            Scope::All
        } else {
            Scope::Namespace(self.namespace())
        }
    }

    /// The `-l` selector text, if given (parsed by the core).
    pub fn selector(&self) -> Option<&str> {
        self.global.selector.as_deref()
    }

    /// Reads every `-f` input; it is an error to give none.
    pub fn sources(&mut self) -> Result<Vec<Source>, CliError> {
        if self.global.filenames.is_empty() {
            return Err(CliError::usage(
                "no input: give manifests with -f FILE, -f DIR or -f - (stdin)",
            ));
        }
        input::read_sources(&self.global.filenames, self.global.recursive, self.stdin)
    }

    /// The `-o` format, checked against what the command `command` supports;
    /// `None` means the command's default text form.
    pub fn output_format(
        &self,
        command: &str,
        supported: &[OutputFormat],
    ) -> Result<Option<OutputFormat>, CliError> {
        match self.global.output {
            Some(format) if !supported.contains(&format) => {
                let list: Vec<&str> = supported.iter().map(|f| f.as_str()).collect();
                Err(CliError::usage(format!(
                    "--output {} is not supported by `{command}` (supported: {})",
                    format.as_str(),
                    if list.is_empty() {
                        "none".to_owned()
                    } else {
                        list.join(", ")
                    }
                )))
            }
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<R>(global: GlobalArgs, f: impl FnOnce(&mut Context<'_>) -> R) -> R {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ctx = Context {
            global: &global,
            stdin: &mut std::io::empty(),
            stdout: &mut out,
            stderr: &mut err,
        };
        f(&mut ctx)
    }

    #[test]
    fn namespace_defaults_and_all_namespaces_wins() {
        with(GlobalArgs::default(), |ctx| {
            assert_eq!(ctx.namespace(), "default");
            assert_eq!(ctx.scope(), Scope::Namespace("default"));
        });
        let g = GlobalArgs {
            namespace: Some("shop".into()),
            all_namespaces: true,
            ..GlobalArgs::default()
        };
        with(g, |ctx| {
            assert_eq!(ctx.namespace(), "shop");
            assert_eq!(ctx.scope(), Scope::All);
        });
    }

    #[test]
    fn sources_need_a_filename() {
        with(GlobalArgs::default(), |ctx| {
            let e = ctx.sources().unwrap_err();
            assert!(e.message().starts_with("no input"), "{e}");
        });
    }

    #[test]
    fn unsupported_output_is_a_usage_error() {
        let g = GlobalArgs {
            output: Some(OutputFormat::Wide),
            ..GlobalArgs::default()
        };
        with(g, |ctx| {
            let e = ctx
                .output_format("version", &[OutputFormat::Json, OutputFormat::Yaml])
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                "--output wide is not supported by `version` (supported: json, yaml)"
            );
            assert_eq!(
                ctx.output_format("get", &[OutputFormat::Wide]).unwrap(),
                Some(OutputFormat::Wide)
            );
        });
    }
}
