//! Shared support for svcroute's integration tests: the conformance runner.

pub mod conformance;
