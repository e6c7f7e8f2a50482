//! Property tests for `svcroute::labels`: canonical round trip, matching
//! against an independent reference evaluation, no panics on arbitrary
//! input, no allocation in `matches`, struct-form validation agreeing with
//! conversion; and a self-check that the `selectors` conformance suite's
//! required cases all pass through `run_query`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use svcroute::labels::{
    self, LabelSelector, LabelSelectorRequirement, LabelSet, Selector, parse_selector_map,
    service_selector,
};
use svcroute_tests::conformance::{StepResult, selectors::run_query};

// ---------------------------------------------------------------------------
// Allocation counting (per thread, so parallel tests do not interfere).

struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged; the counter is a const-initialised thread-local
// without destructor, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn matches_does_not_allocate() {
    let selector: Selector =
        "a=1,b==2,c!=3,d in (x,y,z),e notin (p),f,!g,h>5,i<7,j in (v00,v01,v02,v03,v04,v05,v06,v07,v08,v09)"
            .parse()
            .unwrap();
    let pairs: Vec<(String, String)> = [
        ("a", "1"),
        ("b", "2"),
        ("c", "4"),
        ("d", "y"),
        ("e", "q"),
        ("f", ""),
        ("h", "+6"),
        ("i", "-2"),
        ("j", "v07"),
        ("k", "z"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let btree: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let hash: HashMap<String, String> = pairs.iter().cloned().collect();
    let empty: BTreeMap<String, String> = BTreeMap::new();
    let set = LabelSet::from(&btree);
    let nothing = Selector::nothing();
    let spec = BTreeMap::from([("a".to_string(), "1".to_string())]);
    let service = service_selector(Some(&spec));

    let before = allocations();
    let results = [
        selector.matches(black_box(&btree)),
        selector.matches(black_box(&hash)),
        selector.matches(black_box(&pairs)),
        selector.matches(black_box(&pairs[..])),
        selector.matches(black_box(&empty)),
        nothing.matches(black_box(&btree)),
        service.matches(black_box(&btree)),
        selector.matches(black_box(&set)),
        nothing.matches(black_box(&set)),
    ];
    let after = allocations();
    assert_eq!(after - before, 0, "matches allocated");
    assert_eq!(
        results,
        [true, true, true, true, false, false, true, true, false]
    );
    // The counter does see allocations (the test is not vacuous).
    let v = black_box(vec![1u8; 16]);
    assert!(allocations() > after);
    drop(v);
}

#[test]
fn parse_allocation_budget() {
    // One String per non-empty value and one Vec for the requirements.
    // Keys up to 22 bytes are held inline, and so are lists of up to two
    // values. The `compact` build (the WASM package's feature, switched on
    // for the whole workspace when it is built together) parses with the
    // reference parser, which first gathers list values in a Vec and so
    // allocates a little more.
    let compact = |fast: u64, more: u64| [fast, fast + more];
    let before = allocations();
    let s = Selector::parse(black_box("app=web,tier in (front,back),!canary")).unwrap();
    let used = allocations() - before;
    drop(s);
    assert!(compact(4, 1).contains(&used), "{used}");
    // Long keys and longer lists take one block each.
    let before = allocations();
    let s = Selector::parse(black_box(
        "app.kubernetes.io/component=web,x in (a,b,c),y in (,a)",
    ))
    .unwrap();
    let used = allocations() - before;
    drop(s);
    // Vec, the long key, "web", the 3-list's Vec and its 3 values, "a".
    assert!(compact(8, 2).contains(&used), "{used}");
}

// ---------------------------------------------------------------------------
// A structured model of selectors, rendered to text with random spacing, and
// evaluated independently of the library.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    DoubleEq,
    NotEq,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Debug, Clone)]
struct Req {
    key: String,
    op: Op,
    /// For `in`/`notin`: list items as written ("" = empty item); otherwise
    /// zero or one value.
    values: Vec<String>,
}

fn ws() -> impl Strategy<Value = String> {
    "[ \t\r\n]{0,2}"
}

fn ws1() -> impl Strategy<Value = String> {
    "[ \t\r\n]{1,2}"
}

fn valid_key() -> impl Strategy<Value = String> {
    let name = "[A-Za-z0-9]([A-Za-z0-9._-]{0,8}[A-Za-z0-9])?";
    let prefix = "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?){0,2}";
    prop_oneof![
        4 => name.prop_map(String::from),
        2 => (prefix, name).prop_map(|(p, n)| format!("{p}/{n}")),
        1 => Just("in".to_string()),
        1 => Just("notin".to_string()),
    ]
}

fn valid_value() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[A-Za-z0-9]([A-Za-z0-9._-]{0,8}[A-Za-z0-9])?".prop_map(String::from),
        1 => Just(String::new()),
        1 => Just("in".to_string()),
        1 => Just("notin".to_string()),
    ]
    .boxed()
}

fn bound() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..=i64::MAX).prop_map(|n| n.to_string()),
        (0i64..100, 0usize..3).prop_map(|(n, zeros)| format!("{}{n}", "0".repeat(zeros))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::DoubleEq),
        Just(Op::NotEq),
        Just(Op::In),
        Just(Op::NotIn),
        Just(Op::Exists),
        Just(Op::DoesNotExist),
        Just(Op::Gt),
        Just(Op::Lt),
    ]
}

fn req_with(
    key: impl Strategy<Value = String>,
    value: impl Strategy<Value = String> + Clone,
    bound: impl Strategy<Value = String>,
) -> impl Strategy<Value = Req> {
    (
        key,
        op(),
        prop::collection::vec(value.clone(), 0..4),
        value,
        bound,
    )
        .prop_map(|(key, op, list, one, bound)| {
            let values = match op {
                Op::In | Op::NotIn => list,
                Op::Exists | Op::DoesNotExist => vec![],
                Op::Gt | Op::Lt => vec![bound],
                _ => vec![one],
            };
            Req { key, op, values }
        })
}

fn any_req() -> impl Strategy<Value = Req> {
    req_with(valid_key(), valid_value(), bound())
}

/// Small pools so that generated labels hit generated selectors often.
fn pool_req() -> impl Strategy<Value = Req> {
    let key = prop::sample::select(vec!["a", "b", "c", "x.io/y", "in"]).prop_map(String::from);
    let value = prop::sample::select(vec!["", "a", "b", "1", "10", "01"]).prop_map(String::from);
    let bound = prop::sample::select(vec!["0", "1", "5", "10", "01"]).prop_map(String::from);
    req_with(key, value, bound)
}

fn pool_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    let key = prop::sample::select(vec!["a", "b", "c", "x.io/y", "in", "d"]).prop_map(String::from);
    let value = prop::sample::select(vec![
        "",
        "a",
        "b",
        "1",
        "10",
        "01",
        "-3",
        "+2",
        "v2",
        "99999999999999999999",
    ])
    .prop_map(String::from);
    prop::collection::btree_map(key, value, 0..5)
}

/// Renders requirements as selector text, with the given whitespace pieces
/// (cycled) around every token.
fn render(reqs: &[Req], spaces: &[String], spaces1: &[String]) -> String {
    let mut i = 0;
    let mut sp = || {
        i += 1;
        spaces[i % spaces.len()].clone()
    };
    let mut j = 0;
    let mut sp1 = || {
        j += 1;
        spaces1[j % spaces1.len()].clone()
    };
    let mut out = String::new();
    for (n, r) in reqs.iter().enumerate() {
        if n > 0 {
            out += &format!("{},{}", sp(), sp());
        }
        let k = &r.key;
        let one = r.values.first().cloned().unwrap_or_default();
        out += &match r.op {
            Op::Exists => format!("{}{k}{}", sp(), sp()),
            Op::DoesNotExist => format!("{}!{}{k}{}", sp(), sp(), sp()),
            Op::Eq => format!("{k}{}={}{one}{}", sp(), sp(), sp()),
            Op::DoubleEq => format!("{k}{}=={}{one}{}", sp(), sp(), sp()),
            Op::NotEq => format!("{k}{}!={}{one}{}", sp(), sp(), sp()),
            Op::Gt => format!("{k}{}>{}{one}{}", sp(), sp(), sp()),
            Op::Lt => format!("{k}{}<{}{one}{}", sp(), sp(), sp()),
            Op::In | Op::NotIn => {
                let word = if r.op == Op::In { "in" } else { "notin" };
                let items: Vec<String> = r
                    .values
                    .iter()
                    .map(|v| format!("{}{v}{}", sp(), sp()))
                    .collect();
                format!("{k}{}{word}{}({}){}", sp1(), sp(), items.join(","), sp())
            }
        };
    }
    out
}

/// The value set a requirement stands for (list items as a set, with an
/// empty list meaning {""}).
fn value_set(r: &Req) -> Vec<String> {
    let mut v = r.values.clone();
    if matches!(r.op, Op::In | Op::NotIn) && v.is_empty() {
        v.push(String::new());
    }
    v.sort();
    v.dedup();
    v
}

/// Expected canonical string, built from the model.
fn reference_canonical(reqs: &[Req]) -> String {
    let mut sorted: Vec<&Req> = reqs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key)); // stable
    let parts: Vec<String> = sorted
        .iter()
        .map(|r| {
            let vals = value_set(r).join(",");
            match r.op {
                Op::Exists => r.key.clone(),
                Op::DoesNotExist => format!("!{}", r.key),
                Op::Eq => format!("{}={vals}", r.key),
                Op::DoubleEq => format!("{}=={vals}", r.key),
                Op::NotEq => format!("{}!={vals}", r.key),
                Op::Gt => format!("{}>{vals}", r.key),
                Op::Lt => format!("{}<{vals}", r.key),
                Op::In => format!("{} in ({vals})", r.key),
                Op::NotIn => format!("{} notin ({vals})", r.key),
            }
        })
        .collect();
    parts.join(",")
}

/// Straightforward evaluation of the model (selectors.md#3).
fn reference_matches(reqs: &[Req], labels: &BTreeMap<String, String>) -> bool {
    reqs.iter().all(|r| {
        let set = value_set(r);
        let got = labels.get(&r.key);
        match r.op {
            Op::Eq | Op::DoubleEq | Op::In => matches!(got, Some(v) if set.contains(v)),
            Op::NotEq | Op::NotIn => match got {
                None => true,
                Some(v) => !set.contains(v),
            },
            Op::Exists => got.is_some(),
            Op::DoesNotExist => got.is_none(),
            Op::Gt | Op::Lt => {
                let Some(label) = got.and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let bound: i64 = set[0].parse().unwrap();
                if r.op == Op::Gt {
                    label > bound
                } else {
                    label < bound
                }
            }
        }
    })
}

fn spacing() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    (
        prop::collection::vec(ws(), 1..6),
        prop::collection::vec(ws1(), 1..3),
    )
}

fn check_round_trip(selector: &Selector) -> Result<(), TestCaseError> {
    let text = selector.to_string();
    let again = Selector::parse(&text)
        .map_err(|e| TestCaseError::fail(format!("{text:?} re-parse: {e}")))?;
    prop_assert_eq!(&again, selector, "{:?}", text);
    prop_assert_eq!(again.to_string(), text);
    Ok(())
}

/// Bytes 0..=255 mapped to the chars U+0000..U+00FF.
fn latin1() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| b.into_iter().map(char::from).collect())
}

/// Selector-ish token soup, to reach deep parser states.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "x", "y", "in", "notin", "=", "==", "!=", "!", "(", ")", ",", "<", ">", " ", "\t",
            "\n", "\r", "\u{c}", "\0", "1", "-", "a.b/c", "é", "", "\u{a0}",
        ]),
        0..16,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn canonical_round_trip(reqs in prop::collection::vec(any_req(), 0..6), (s, s1) in spacing()) {
        let text = render(&reqs, &s, &s1);
        let selector = Selector::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} rejected: {e}")))?;
        prop_assert_eq!(selector.to_string(), reference_canonical(&reqs), "{:?}", text);
        check_round_trip(&selector)?;
    }

    #[test]
    fn matches_reference(
        reqs in prop::collection::vec(pool_req(), 0..5),
        (s, s1) in spacing(),
        sets in prop::collection::vec(pool_labels(), 1..6),
    ) {
        let text = render(&reqs, &s, &s1);
        let selector = Selector::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?} rejected: {e}")))?;
        for labels in &sets {
            let want = reference_matches(&reqs, labels);
            prop_assert_eq!(selector.matches(labels), want, "{:?} on {:?}", text, labels);
            let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(selector.matches(&pairs[..]), want);
            let hash: HashMap<&str, &str> = pairs.iter().copied().collect();
            prop_assert_eq!(selector.matches(&hash), want);
            prop_assert_eq!(selector.matches(&LabelSet::from(labels)), want);
        }
    }

    #[test]
    fn never_panics(a in any::<String>(), b in latin1(), c in soup()) {
        for s in [&a, &b, &c] {
            if let Ok(selector) = Selector::parse(s) {
                check_round_trip(&selector)?;
                prop_assert!(!s.contains('\0'));
            }
            let _ = labels::validate_label_key(s);
            let _ = labels::validate_label_value(s);
            let _ = labels::validate_dns1123_label(s);
            let _ = labels::validate_dns1123_subdomain(s);
            let _ = labels::validate_dns1035_label(s);
            let _ = parse_selector_map(s);
            let _ = LabelSelector::parse(s);
            if let Err(e) = Selector::parse(s) {
                prop_assert!(e.position() <= s.len());
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn label_selector_checks_agree(ls in label_selector(), sets in prop::collection::vec(pool_labels(), 1..4)) {
        let valid = ls.validate().is_ok();
        let converted = ls.to_selector();
        prop_assert_eq!(valid, converted.is_ok(), "{:?}", ls);
        if let Ok(selector) = converted {
            for labels in &sets {
                prop_assert_eq!(selector.matches(labels), struct_matches(&ls, labels), "{:?}", ls);
            }
            // Its canonical string parses to a selector that matches the same.
            let reparsed = Selector::parse(&selector.to_string())
                .map_err(|e| TestCaseError::fail(format!("{selector}: {e}")))?;
            for labels in &sets {
                prop_assert_eq!(reparsed.matches(labels), selector.matches(labels));
            }
        }
    }
}

fn label_selector() -> impl Strategy<Value = LabelSelector> {
    let key = prop::sample::select(vec!["a", "b", "x.io/y", "", "-a", "A.io/b", "in"])
        .prop_map(String::from);
    let value = prop::sample::select(vec!["", "a", "b", "1", "-x", "a b"]).prop_map(String::from);
    let operator = prop::sample::select(vec![
        "In",
        "In",
        "NotIn",
        "NotIn",
        "Exists",
        "DoesNotExist",
        "in",
        "Gt",
        "",
        "Equals",
    ])
    .prop_map(String::from);
    let expr = (
        key.clone(),
        operator,
        prop::option::of(prop::collection::vec(value.clone(), 0..3)),
    )
        .prop_map(|(key, operator, values)| LabelSelectorRequirement {
            key,
            operator,
            values,
        });
    (
        prop::option::of(prop::collection::btree_map(key, value, 0..3)),
        prop::option::of(prop::collection::vec(expr, 0..3)),
    )
        .prop_map(|(match_labels, match_expressions)| LabelSelector {
            match_labels,
            match_expressions,
        })
}

/// Direct evaluation of a valid struct selector (selectors.md#6).
fn struct_matches(ls: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = ls
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = ls.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        let got = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => got.is_some_and(|v| values.contains(v)),
            "NotIn" => got.is_none_or(|v| !values.contains(v)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            other => panic!("valid selector with operator {other:?}"),
        }
    });
    labels_ok && exprs_ok
}

// ---------------------------------------------------------------------------
// Conformance self-check: the selectors suite through `run_query`.

#[test]
fn conformance_selectors_suite() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/selectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let suite: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(suite["format"], "svcroute-conformance/1");
    let cases = suite["cases"].as_array().unwrap();
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let level = case["level"].as_str().unwrap();
        let mut outcome = StepResult::Pass;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let (kind, body) = step["query"]
                .as_object()
                .and_then(|q| q.iter().next())
                .unwrap();
            let result = run_query(kind, body, &step["expect"])
                .unwrap_or_else(|| StepResult::Unsupported(format!("query {kind}")));
            if result != StepResult::Pass {
                outcome = match result {
                    StepResult::Fail(t) => StepResult::Fail(format!("step {i}: {t}")),
                    other => other,
                };
                break;
            }
        }
        let slot = counts.entry(level).or_default();
        match outcome {
            StepResult::Pass => slot[0] += 1,
            StepResult::Fail(t) => {
                slot[1] += 1;
                failures.push((level.to_string(), id.to_string(), t));
            }
            StepResult::Unsupported(t) => {
                slot[2] += 1;
                failures.push((
                    level.to_string(),
                    id.to_string(),
                    format!("unsupported: {t}"),
                ));
            }
        }
    }
    for (level, [passed, failed, unsupported]) in &counts {
        println!("selectors {level}: {passed} passed, {failed} failed, {unsupported} unsupported");
    }
    for (level, id, why) in &failures {
        println!("  {level} {id}: {why}");
    }
    let required: Vec<&(String, String, String)> =
        failures.iter().filter(|f| f.0 == "required").collect();
    assert!(
        required.is_empty(),
        "required selectors cases failed: {required:?}"
    );
}
