//! The `svcroute` command line (being written).
fn main() {}
