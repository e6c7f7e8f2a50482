//! One function per fuzz target: it takes the raw input, drives the public
//! API of `svcroute`, and panics only when an invariant breaks (a panic
//! inside svcroute is a finding too). Uses nothing but `svcroute` and
//! `serde_json`, so the workspace's tests can include this file by path.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use svcroute::api;
use svcroute::cluster::{Cluster, ClusterConfig};
use svcroute::labels::{LabelSelector, Selector};

/// The names of the targets, in the order of [`run`].
pub const TARGETS: [&str; 3] = ["selector_parse", "label_selector_json", "load_apply"];

/// Runs the check of `target` on `data`; `false` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "selector_parse" => selector_parse(data),
        "label_selector_json" => label_selector_json(data),
        "load_apply" => load_apply(data),
        _ => return false,
    }
    true
}

/// The selector string parser never panics, and a parsed selector prints
/// to a canonical string that parses back to an equal selector, which
/// prints the same again.
pub fn selector_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(selector) = Selector::parse(text) else {
        return;
    };
    let printed = selector.to_string();
    let again = Selector::parse(&printed)
        .unwrap_or_else(|e| panic!("canonical form {printed:?} of {text:?} does not parse: {e}"));
    assert_eq!(again, selector, "round trip of {text:?} via {printed:?}");
    assert_eq!(again.to_string(), printed, "printing is not stable for {text:?}");
    let _ = selector.matches(&BTreeMap::<String, String>::new());
}

/// `LabelSelector` from JSON: validation and conversion never panic and
/// agree; a converted selector prints a string that parses back, and
/// the parsed selector is a fixed point of print and parse.
pub fn label_selector_json(data: &[u8]) {
    let Ok(ls) = serde_json::from_slice::<LabelSelector>(data) else {
        return;
    };
    let valid = ls.validate().is_ok();
    match ls.to_selector() {
        Ok(selector) => {
            assert!(valid, "to_selector accepted what validate refused: {ls:?}");
            // The struct form keeps duplicate values (`values: [b,a,b]`
            // prints `x in (a,b,b)`) and the string parser collapses them
            // (selectors.md#6, quirk 12), so the printed string need not be
            // a fixed point; the selector parsed from it must be.
            let printed = selector.to_string();
            let again = Selector::parse(&printed).unwrap_or_else(|e| {
                panic!("canonical form {printed:?} of {ls:?} does not parse: {e}")
            });
            let reprinted = again.to_string();
            assert_eq!(Selector::parse(&reprinted).ok(), Some(again), "{printed:?} is not stable");
        }
        Err(e) => assert!(!e.problems().is_empty(), "an error without problems: {ls:?}"),
    }
}

/// The manifest loader (JSON, YAML, multi-document, Lists, watch events)
/// and then an atomic apply to a fresh cluster: never panics, and a
/// refused batch leaves the cluster as it was.
pub fn load_apply(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(loaded) = api::load(text) else {
        return;
    };
    // A fresh cluster as a user gets it (namespaces, `kubernetes`
    // Service), built once and cloned: cheaper than a bootstrap per input.
    static FRESH: OnceLock<Cluster> = OnceLock::new();
    let mut cluster = FRESH
        .get_or_init(|| Cluster::new(ClusterConfig::default()).expect("the default configuration"))
        .clone();
    let before = format!("{cluster:?}");
    let events: Vec<_> = loaded.events.iter().map(|e| e.value.clone()).collect();
    if cluster.apply_batch(loaded.into_objects()).is_err() {
        assert!(format!("{cluster:?}") == before, "a refused batch changed the cluster");
    }
    for event in events {
        let _ = cluster.apply_event(event);
    }
    let _ = cluster.resync();
}
