//! Label selector benches: svcroute side by side with kube-core 5.
//!
//! kube-core has no selector string parser; where svcroute parses a string,
//! kube-core is measured building the same selector from its expression
//! values (the cheapest way it has to get one). Matching and printing are
//! compared directly. `>`/`<` cannot be expressed in kube-core, so the
//! selectors here avoid them.
//!
//! Run: `cargo bench -p svcroute-benches --bench selectors -- --warm-up-time 1 --measurement-time 3`
//!
//! Instruction counts (immune to the machine's noise): with
//! `SELECTORS_CALLGRIND=parse|btreemap|slice|hashmap|label_set|miss_btreemap|miss_label_set|display`
//! the binary skips criterion and runs that operation 1000 times inside
//! `measured`; run it under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*'`
//! and divide the total by 1000.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kube_core::{Expression, SelectorExt};
use svcroute::labels::{LabelSelector, LabelSet, Selector};

/// Three requirements: equality, set membership, absence.
const THREE: &str = "app=web,tier in (front,back),!canary";

fn kube_three() -> kube_core::Selector {
    [
        Expression::Equal("app".into(), "web".into()),
        Expression::In(
            "tier".into(),
            BTreeSet::from(["front".into(), "back".into()]),
        ),
        Expression::DoesNotExist("canary".into()),
    ]
    .into_iter()
    .collect()
}

/// A pod with ten labels that the three-requirement selector matches (so
/// every requirement is evaluated).
fn pod() -> BTreeMap<String, String> {
    [
        ("app", "web"),
        ("tier", "front"),
        ("app.kubernetes.io/name", "web"),
        ("app.kubernetes.io/instance", "web-prod"),
        ("app.kubernetes.io/version", "1.2.3"),
        ("app.kubernetes.io/component", "frontend"),
        ("app.kubernetes.io/part-of", "shop"),
        ("pod-template-hash", "5d8f7c9b6d"),
        ("environment", "production"),
        ("topology.kubernetes.io/zone", "eu-west-1a"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Runs `f` where callgrind can count it (see the module docs).
#[inline(never)]
fn measured<T>(f: impl FnOnce() -> T) -> T {
    black_box(f())
}

/// The pod's labels as a sorted slice of pairs, a `HashMap` and a
/// `LabelSet` (the same labels prepared once for many matches).
fn other_forms(
    labels: &BTreeMap<String, String>,
) -> (Vec<(&str, &str)>, HashMap<String, String>, LabelSet) {
    let pairs = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let hash = labels.clone().into_iter().collect();
    (pairs, hash, LabelSet::from(labels))
}

/// `SELECTORS_CALLGRIND=WHAT`: one figure for callgrind, no criterion.
fn callgrind(what: &str) {
    const ROUNDS: usize = 1000;
    let labels = pod();
    let (pairs, hash, set) = other_forms(&labels);
    let ours = Selector::parse(THREE).unwrap();
    let miss = Selector::parse(MISS).unwrap();
    for _ in 0..ROUNDS {
        match what {
            "parse" => drop(measured(|| Selector::parse(black_box(THREE)))),
            "btreemap" => assert!(measured(|| black_box(&ours).matches(black_box(&labels)))),
            "slice" => assert!(measured(|| black_box(&ours).matches(black_box(&pairs[..])))),
            "hashmap" => assert!(measured(|| black_box(&ours).matches(black_box(&hash)))),
            "label_set" => assert!(measured(|| black_box(&ours).matches(black_box(&set)))),
            "miss_btreemap" => assert!(!measured(|| black_box(&miss).matches(black_box(&labels)))),
            "miss_label_set" => assert!(!measured(|| black_box(&miss).matches(black_box(&set)))),
            "display" => drop(measured(|| black_box(&ours).to_string())),
            _ => panic!("unknown SELECTORS_CALLGRIND={what}"),
        }
    }
}

/// The three-requirement selector whose first requirement fails on [`pod`].
const MISS: &str = "app=db,tier in (front,back),!canary";

fn parse(c: &mut Criterion) {
    if let Ok(what) = std::env::var("SELECTORS_CALLGRIND") {
        callgrind(&what);
        std::process::exit(0);
    }
    let mut g = c.benchmark_group("parse_3req");
    g.bench_function("svcroute/parse", |b| {
        b.iter(|| Selector::parse(black_box(THREE)).unwrap())
    });
    g.bench_function("kube-core/build_from_expressions", |b| {
        b.iter(|| black_box(kube_three()))
    });
    g.finish();
}

fn matching(c: &mut Criterion) {
    let labels = pod();
    let ours = Selector::parse(THREE).unwrap();
    let theirs = kube_three();
    assert!(ours.matches(&labels) && theirs.matches(&labels));
    let (pairs, hash, set) = other_forms(&labels);

    let mut g = c.benchmark_group("match_3req_10labels");
    g.bench_function("svcroute/btreemap", |b| {
        b.iter(|| black_box(&ours).matches(black_box(&labels)))
    });
    g.bench_function("kube-core/btreemap", |b| {
        b.iter(|| black_box(&theirs).matches(black_box(&labels)))
    });
    g.bench_function("svcroute/slice", |b| {
        b.iter(|| black_box(&ours).matches(black_box(&pairs[..])))
    });
    g.bench_function("svcroute/hashmap", |b| {
        b.iter(|| black_box(&ours).matches(black_box(&hash)))
    });
    g.bench_function("svcroute/label_set", |b| {
        b.iter(|| black_box(&ours).matches(black_box(&set)))
    });
    g.finish();

    // A selector that fails on its first requirement (the common case when
    // scanning many pods).
    let miss_ours = Selector::parse(MISS).unwrap();
    let miss_theirs: kube_core::Selector = [
        Expression::Equal("app".into(), "db".into()),
        Expression::In(
            "tier".into(),
            BTreeSet::from(["front".into(), "back".into()]),
        ),
        Expression::DoesNotExist("canary".into()),
    ]
    .into_iter()
    .collect();
    assert!(!miss_ours.matches(&labels) && !miss_theirs.matches(&labels));
    let mut g = c.benchmark_group("match_3req_10labels_miss");
    g.bench_function("svcroute/btreemap", |b| {
        b.iter(|| black_box(&miss_ours).matches(black_box(&labels)))
    });
    g.bench_function("kube-core/btreemap", |b| {
        b.iter(|| black_box(&miss_theirs).matches(black_box(&labels)))
    });
    g.bench_function("svcroute/label_set", |b| {
        b.iter(|| black_box(&miss_ours).matches(black_box(&set)))
    });
    g.finish();
}

/// Building a `LabelSet` from a 10-label map: the one-off cost that
/// matching against it saves per selector.
fn label_set_build(c: &mut Criterion) {
    let labels = pod();
    let mut g = c.benchmark_group("label_set_from_10labels");
    g.bench_function("svcroute/from_btreemap", |b| {
        b.iter(|| LabelSet::from(black_box(&labels)))
    });
    g.finish();
}

fn display(c: &mut Criterion) {
    let ours = Selector::parse(THREE).unwrap();
    let theirs = kube_three();
    let mut g = c.benchmark_group("display_3req");
    g.bench_function("svcroute", |b| b.iter(|| black_box(&ours).to_string()));
    g.bench_function("kube-core", |b| b.iter(|| black_box(&theirs).to_string()));
    g.finish();
}

fn struct_form(c: &mut Criterion) {
    let json = r#"{"matchLabels": {"app": "web"},
                   "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]},
                                        {"key": "canary", "operator": "DoesNotExist"}]}"#;
    let ours: LabelSelector = serde_json::from_str(json).unwrap();
    let theirs: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_str(json).unwrap();
    let mut g = c.benchmark_group("label_selector_to_selector");
    g.bench_function("svcroute (validating)", |b| {
        b.iter(|| black_box(&ours).to_selector().unwrap())
    });
    // kube-core's conversion consumes its input: the clone is set-up, not measured.
    g.bench_function("kube-core (no validation)", |b| {
        b.iter_batched(
            || theirs.clone(),
            |ls| kube_core::Selector::try_from(ls).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    parse,
    matching,
    label_set_build,
    display,
    struct_form
);
criterion_main!(benches);
