//! The checks each fuzz target runs, shared with the regression replay
//! test of the workspace (`tests/tests/fuzz_regressions.rs` includes
//! `checks.rs` by path), so that a minimised crash input replays through
//! exactly the code that found it.

pub mod checks;
