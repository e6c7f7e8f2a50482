//! Running the `svcroute` binary from the tests.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The fixtures directory.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The bundled example (the README's main job).
pub const SHOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/shop.yaml");

/// A fixture's path.
pub fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Runs the binary with these arguments and an empty stdin.
pub fn svcroute(args: &[&str]) -> Output {
    svcroute_with_stdin(args, b"")
}

/// Runs the binary with these arguments and this stdin.
pub fn svcroute_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run svcroute");
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("wait for svcroute")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Runs and checks the exit code; returns stdout.
pub fn run_ok(args: &[&str], code: i32) -> String {
    let out = svcroute(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "svcroute {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The name of the first pod of a fixture whose name starts with `prefix`.
pub fn pod_named(fixture_file: &str, prefix: &str) -> String {
    let text = std::fs::read_to_string(fixture(fixture_file)).expect("fixture");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("name: "))
        .find(|n| n.starts_with(prefix) && n.matches('-').count() == 2)
        .expect("pod in fixture")
        .to_owned()
}
