//! Unit tests of the loader internals; the behaviour on real manifests is
//! tested in `tests/tests/api_load.rs`.

use super::*;

#[test]
fn json_depth_limit_is_an_error_not_a_crash() {
    let ok = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {}1{}}}",
        "[".repeat(120),
        "]".repeat(120)
    );
    assert_eq!(load_json(&ok).unwrap().skipped_count(), 1);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = load_json(&deep).unwrap_err();
    assert_eq!(err.problems()[0].kind, ProblemKind::Limit);
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_depth_limit_is_an_error_not_a_crash() {
    let ok = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata: {}1{}\n",
        "[".repeat(120),
        "]".repeat(120)
    );
    assert_eq!(load_yaml(&ok).unwrap().skipped_count(), 1);
    for n in [129, 1000, 100_000] {
        let deep = format!("a: {}{}", "[".repeat(n), "]".repeat(n));
        let err = load_yaml(&deep).unwrap_err();
        assert!(
            matches!(err.problems()[0].kind, ProblemKind::Limit),
            "{n}: {err}"
        );
    }
    let deep_block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert_eq!(
        load_yaml(&deep_block).unwrap_err().problems()[0].kind,
        ProblemKind::Limit
    );
}

/// What serde-saphyr's own typed deserializer does with YAML 1.1 scalars
/// into a `String` field, for the record: it hands over the text of `yes`,
/// `on`, `true`, `12` and `0755` (so `0755` stays `"0755"`), and refuses
/// `~`/`null`. svcroute does not use that path: it resolves scalars the
/// way `kubectl` does (go-yaml v2, YAML 1.1) and decodes strictly, so those
/// unquoted values are booleans and numbers, not strings (see the `yaml`
/// module).
#[cfg(feature = "yaml")]
#[test]
fn serde_saphyr_typed_strings_for_the_record() {
    #[derive(serde::Deserialize)]
    struct S {
        v: String,
    }
    for (text, expect) in [
        ("yes", Some("yes")),
        ("on", Some("on")),
        ("true", Some("true")),
        ("12", Some("12")),
        ("0755", Some("0755")),
        ("1e3", Some("1e3")),
        ("~", None),
        ("null", None),
    ] {
        let got = serde_saphyr::from_str::<S>(&format!("v: {text}\n"))
            .ok()
            .map(|s| s.v);
        assert_eq!(got.as_deref(), expect, "{text}");
    }
    // And into an untyped value, its YAML 1.1-style guessing.
    let v: serde_json::Value = serde_saphyr::from_str("[yes, on, 0755, 1e3, y]").unwrap();
    println!("serde-saphyr untyped: {v}");
}

#[cfg(feature = "yaml")]
#[test]
fn problems_carry_positions() {
    let err = load("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    canary: yes\n")
        .unwrap_err();
    let p = &err.problems()[0];
    assert_eq!((p.document, p.line, p.column), (0, Some(6), Some(13)));
    assert_eq!(p.field.as_deref(), Some("metadata.labels.canary"));
    assert_eq!(p.object.as_ref().unwrap().to_string(), "Pod p");
    assert_eq!(
        p.to_string(),
        "document 0 (line 6, column 13): Pod p: metadata.labels.canary: value must be a string, \
         found the boolean `true` (YAML reads unquoted true, false, yes, no, on, off, y and n \
         as booleans); quote it"
    );
}

/// The crate-level "Getting started" example, minus the selector (which
/// lives in `labels`).
#[cfg(feature = "yaml")]
#[test]
fn getting_started_example() -> Result<(), crate::Error> {
    let manifest = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels: {app: web, tier: front}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
"#;
    let loaded = load(manifest)?;
    assert_eq!(loaded.skipped_count(), 1);
    let mut pods = 0;
    for object in loaded.iter_objects() {
        if let Object::Pod(pod) = object {
            assert_eq!(pod.metadata.labels["tier"], "front");
            pods += 1;
        }
    }
    assert_eq!(pods, 1);
    Ok(())
}
