//! Shared support for svcroute's integration tests: the conformance runner.

pub mod conformance;

/// README.md's Rust examples, run as doc tests so the README cannot rot.
#[doc = include_str!("../../README.md")]
pub mod readme {}
