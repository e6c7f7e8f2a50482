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

const SHOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/shop.yaml");

// kubectl's table: upper-case headers, three spaces between columns; PORT(S)
// as `port:nodePort/PROTO`; unmodelled kinds skipped with one notice (D1).
#[test]
fn get_lists_services_like_kubectl() {
    let out = svcroute(&["get", "services", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "NAME       TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE\n\
         backend    ClusterIP   10.96.0.20   <none>        80/TCP         <unknown>\n\
         frontend   NodePort    10.96.0.30   <none>        80:30080/TCP   <unknown>\n\
         payments   ClusterIP   10.96.0.40   <none>        9000/TCP       <unknown>\n"
    );
    assert_eq!(
        stderr(&out),
        "skipped 1 object of kinds svcroute does not model: ConfigMap (1)\n"
    );
}

// selectors.md#3 through `-l`; `-o wide` adds IP and NODE; `-A` a NAMESPACE column.
#[test]
fn get_filters_by_selector_and_namespace() {
    let out = svcroute(&[
        "get",
        "po",
        "-A",
        "-l",
        "app in (backend)",
        "-o",
        "wide",
        "-f",
        SHOP,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("NAMESPACE   NAME"), "{text}");
    assert!(
        lines[1].contains("0/1") && lines[1].contains("10.244.1.12"),
        "{text}"
    );
    assert!(
        lines[2].contains("1/1") && lines[2].contains("node-a"),
        "{text}"
    );

    // Nothing in `default`: kubectl's notice on stderr, exit 0 (D5).
    let out = svcroute(&["get", "pods", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).ends_with("No resources found in default namespace.\n"));

    // A named object that is not there is an error.
    let out = svcroute(&["get", "svc", "nope", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("service \"nope\" not found"),
        "{}",
        stderr(&out)
    );
}

// `-o json` of several objects is a v1 List of the objects in API shape;
// objects without a namespace get `-n`'s (D15).
#[test]
fn get_as_json_list_and_names() {
    let manifest = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    let out = svcroute_with_stdin(
        &["get", "svc", "-n", "team", "-f", "-", "-o", "json"],
        manifest.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["kind"], "List");
    assert_eq!(json["items"][0]["metadata"]["namespace"], "team");
    assert_eq!(json["items"][0]["spec"]["ports"][0]["port"], 80);

    let out = svcroute(&["get", "svc,deploy", "-n", "shop", "-f", SHOP, "-o", "name"]);
    assert_eq!(
        stdout(&out),
        "service/backend\nservice/frontend\nservice/payments\n"
    );
}

// Errors name the file, the document and the field, and exit 2.
#[test]
fn get_reports_bad_manifests() {
    let manifest =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: eighty}]\n";
    let out = svcroute_with_stdin(&["get", "svc", "-f", "-"], manifest.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("spec.ports[0].port"), "{err}");
    assert!(err.contains("-:"), "{err}");
    let out = svcroute(&["get", "widgets", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
}

// The cluster settles before `get` answers: the EndpointSlice controller
// publishes slices (EP-1..EP-5: the frontend's named targetPort `http`
// resolves to the pod's containerPort 8000; the not-ready backend pod is
// still listed), and a fresh cluster has the `kubernetes` Service (D7).
#[test]
fn get_shows_what_the_controllers_publish() {
    let out = svcroute(&["get", "endpointslices", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0][0].starts_with("backend-"), "{text}");
    assert_eq!(
        &rows[0][1..],
        ["IPv4", "8080", "10.244.0.11,10.244.1.12", "<unknown>"]
    );
    assert!(rows[1][0].starts_with("frontend-"), "{text}");
    assert_eq!(&rows[1][1..], ["IPv4", "8000", "10.244.0.21", "<unknown>"]);
    // EP-9: a Service with nothing to publish gets one placeholder slice.
    assert!(rows[2][0].starts_with("payments-"), "{text}");
    assert_eq!(&rows[2][1..], ["IPv4", "<unset>", "<unset>", "<unknown>"]);

    let out = svcroute(&["get", "svc", "kubernetes", "-f", SHOP, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["spec"]["clusterIP"], "10.96.0.1");
}

// EP-1/EP-2/EP-5 explained: the closest near miss first, pods of other
// namespaces last; no ready endpoint exits 1 (D5).
#[test]
fn explain_says_why_a_service_has_no_endpoints() {
    let out = svcroute(&["explain", "service", "payments", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Service shop/payments (ClusterIP)");
    assert_eq!(lines[1], "Selector: app=payments");
    assert_eq!(lines[3], "Ready endpoints: 0");
    assert!(
        lines[4].starts_with("  payments-6c9f7-zt4kq")
            && lines[4].ends_with("not selected: label app=payment, selector wants payments"),
        "{text}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("  staging/payments-staging")
            && lines.last().unwrap().contains("own namespace only"),
        "{text}"
    );

    let out = svcroute(&[
        "explain",
        "svc/frontend",
        "-n",
        "shop",
        "-f",
        SHOP,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["readyEndpoints"], 1);
    assert_eq!(json["pods"][0]["name"], "frontend-5f6d8-lp2wd");
    assert_eq!(json["pods"][0]["ports"][0]["targetPort"], 8000);

    let out = svcroute(&["explain", "service", "nope", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not-found"), "{}", stderr(&out));
}
