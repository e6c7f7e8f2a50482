//! The conformance runner: reads `svcroute-conformance/1` suites and runs
//! each case through svcroute's public API.

pub mod selectors;

/// What one step (or one case) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Every checked expectation held.
    Pass,
    /// An expectation did not hold; the text says which.
    Fail(String),
    /// The query needs something svcroute does not offer yet; the text names it.
    Unsupported(String),
}
