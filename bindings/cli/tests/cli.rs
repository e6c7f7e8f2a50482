//! The `svcroute` binary as a person runs it: help, version, exit codes,
//! errors on stderr.
//!
//! These tests live in the CLI crate (not in `tests/`) because only a
//! package's own integration tests get `CARGO_BIN_EXE_svcroute`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn svcroute(args: &[&str]) -> Output {
    svcroute_with_stdin(args, b"")
}

fn svcroute_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run svcroute");
    // A command that does not read stdin may exit before we write.
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("wait for svcroute")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn version_prints_the_version() {
    let out = svcroute(&["version"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("svcroute {VERSION}\n"));
    assert_eq!(stderr(&out), "");

    let out = svcroute(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("svcroute {VERSION}\n"));
}

#[test]
fn version_as_json_and_yaml() {
    let out = svcroute(&["version", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json, serde_json::json!({ "svcrouteVersion": VERSION }));

    // Global flags may also come first.
    let out = svcroute(&["-o", "yaml", "version"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = stdout(&out);
    assert!(yaml.starts_with("svcrouteVersion: "), "{yaml}");
    assert!(yaml.contains(VERSION), "{yaml}");
}

#[test]
fn help_is_on_stdout_with_exit_0() {
    for flag in ["--help", "-h"] {
        let out = svcroute(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(
            text.contains("Usage: svcroute [OPTIONS] <COMMAND>"),
            "{text}"
        );
        for needle in [
            "version",
            "-f, --filename <FILE>",
            "-R, --recursive",
            "-n, --namespace <NS>",
            "-A, --all-namespaces",
            "-l, --selector <SELECTOR>",
            "-o, --output <FORMAT>",
            "Exit codes:",
        ] {
            assert!(
                text.contains(needle),
                "{flag}: missing {needle:?} in\n{text}"
            );
        }
        assert_eq!(stderr(&out), "");
    }
    let out = svcroute(&["help", "version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("Usage: svcroute version"),
        "{}",
        stdout(&out)
    );
    let out = svcroute(&["version", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Print the version of svcroute"));
}

#[test]
fn usage_errors_go_to_stderr_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "Usage: svcroute"),
        (&["versoin"], "unrecognized subcommand 'versoin'"),
        (
            &["version", "-o", "xml"],
            "invalid value 'xml' for '--output <FORMAT>'",
        ),
        (
            &["version", "--no-such-flag"],
            "unexpected argument '--no-such-flag'",
        ),
        (
            &["version", "-n"],
            "a value is required for '--namespace <NS>'",
        ),
        (
            &["version", "-o", "wide"],
            "error: --output wide is not supported by `version` (supported: json, yaml)",
        ),
    ];
    for (args, needle) in cases {
        let out = svcroute(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}: nothing on stdout");
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {needle:?} not in\n{err}");
    }
}

#[test]
fn global_flags_are_accepted_everywhere() {
    let out = svcroute_with_stdin(
        &[
            "-n", "shop", "-A", "-l", "app=web", "version", "-f", "-", "-R",
        ],
        b"kind: Service\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("svcroute {VERSION}\n"));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    // `svcroute version | true`: the reader is gone before we write.
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcroute"))
        .args(["version", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run svcroute");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

// selectors.md#4: the canonical form sorts requirements by key and values
// inside the parentheses; D5: a non-matching `--labels` exits 1.
#[test]
fn selector_prints_canonical_form_and_matches() {
    let out = svcroute(&[
        "selector",
        "tier in (b,a),app=web,!canary",
        "--labels",
        "app=web,tier=a",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "app=web,!canary,tier in (a,b)\nmatches\n");

    // selectors.md#3: `!=` matches objects that lack the key.
    let out = svcroute(&["selector", "track!=canary", "--labels", "app=web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = svcroute(&["selector", "app=web", "--labels", "app=db", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({"canonical": "app=web", "requirements": 1, "matches": false})
    );

    let out = svcroute(&["selector", "  "]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "(empty: matches everything)\n");
}

// selectors.md#2: `in` needs a parenthesised list; the error points at the byte.
#[test]
fn selector_errors_point_at_the_byte() {
    let out = svcroute(&["selector", "x in a"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.starts_with("error: parse: invalid selector"), "{err}");
    assert!(err.contains("  x in a\n       ^"), "{err}");

    let out = svcroute(&["selector", "app=web", "--labels", "app"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid --labels"),
        "{}",
        stderr(&out)
    );
}
