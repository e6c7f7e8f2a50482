//! Issue 13 at the command line: every input limit, set low in the
//! `--config` file's `limits`, is exit 2 with a message that names the file
//! and the limit; within the limits the same input loads.

mod common;

use common::*;

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("svcroute-cli-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

const NS: &str =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {a: b, c: d, e: f}}\n";

fn refused(key: &str, value: usize, input: &str) -> String {
    let config = tmp(
        &format!("{key}.yaml"),
        &format!("limits: {{{key}: {value}}}\n"),
    );
    let file = tmp(&format!("{key}-input.yaml"), input);
    let out = svcroute(&["--config", &config, "-f", &file, "get", "namespaces"]);
    assert_eq!(out.status.code(), Some(2), "{key}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("({key})")), "{key}: {err}");
    err
}

#[test]
fn each_limit_is_exit_2_naming_it() {
    let err = refused("maxInputBytes", 20, NS);
    assert!(err.contains("-input.yaml: document 0"), "{err}");
    refused("maxDocuments", 1, &format!("{NS}---\n{NS}"));
    refused("maxDepth", 2, NS);
    refused("maxStringBytes", 8, NS);
    let err = refused("maxLabelsPerObject", 2, NS);
    assert!(err.contains("metadata.labels"), "{err}");
    refused("maxObjects", 5, NS);
}

#[test]
fn within_the_limits_it_loads() {
    let config = tmp(
        "ok.yaml",
        "limits: {maxDocuments: 2, maxLabelsPerObject: 3}\n",
    );
    let file = tmp("ok-input.yaml", NS);
    let out = run_ok(&["--config", &config, "-f", &file, "get", "namespaces"], 0);
    assert!(out.contains("team"), "{out}");
}
