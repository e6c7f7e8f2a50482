//! Exit codes (DECISIONS D5) and the command line's error type.

use std::fmt;

use svcroute::ErrorKind;

/// Exit code for bad input or usage.
pub const EXIT_USAGE: u8 = 2;

/// What a command that answered found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The answer is positive: exit 0.
    Positive,
    /// The answer is negative (no endpoints, NXDOMAIN or NODATA, a route that
    /// ends in reject or drop, a selector that does not match): exit 1.
    Negative,
}

impl Outcome {
    /// The process exit code: 0 or 1.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Positive => 0,
            Outcome::Negative => 1,
        }
    }
}

/// Bad input or usage: printed as `error: …` on stderr, exit 2.
#[derive(Debug)]
pub struct CliError {
    kind: Option<ErrorKind>,
    message: String,
    io: Option<std::io::ErrorKind>,
}

impl CliError {
    /// A usage error (a flag combination, a missing argument) with its message.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            kind: None,
            message: message.into(),
            io: None,
        }
    }

    /// An input error of one of the core's kinds, raised by the command line
    /// itself (for instance a file that is not UTF-8 is a `parse` error).
    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> CliError {
        CliError {
            kind: Some(kind),
            message: message.into(),
            io: None,
        }
    }

    /// The core's classification, when the error has one.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The message, without the `error: ` prefix and the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit code (always 2).
    pub fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }

    /// Whether this is a write to a closed pipe (`svcroute … | head`), which
    /// ends the program quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.io == Some(std::io::ErrorKind::BrokenPipe)
    }
}

/// `parse: <message>` for the core's kinds (the code the other doors use);
/// the bare message for usage errors.
impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Some(kind) => write!(f, "{}: {}", kind.code(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CliError {}

impl From<svcroute::Error> for CliError {
    fn from(err: svcroute::Error) -> CliError {
        CliError::of_kind(err.kind(), err.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> CliError {
        CliError {
            kind: None,
            message: err.to_string(),
            io: Some(err.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_d5() {
        assert_eq!(Outcome::Positive.exit_code(), 0);
        assert_eq!(Outcome::Negative.exit_code(), 1);
        assert_eq!(CliError::usage("x").exit_code(), 2);
    }

    #[test]
    fn core_kinds_prefix_the_message() {
        let e = CliError::of_kind(ErrorKind::NotFound, "services \"web\" not found");
        assert_eq!(e.to_string(), "not-found: services \"web\" not found");
        assert_eq!(CliError::usage("no -f given").to_string(), "no -f given");
    }

    #[test]
    fn broken_pipe_is_recognised() {
        let e = CliError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
        assert!(!CliError::usage("x").is_broken_pipe());
    }
}
