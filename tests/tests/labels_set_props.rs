//! `LabelSet`, `BTreeMap`, `HashMap` and slices all match exactly as a
//! straightforward evaluation of `selectors.md#3` does, for arbitrary
//! selectors (any operator, repeated keys, keys that share their first 8
//! or 16 bytes, keys that are prefixes of each other; values of every
//! length class of the match plan, sharing prefixes, with NUL bytes) and
//! label sets from empty to well past the walk's stepping limit. The
//! absent-key meaning of `!=`, `notin` and `!key`, and the numeric `>`/`<`,
//! come from `selectors.md#3`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use svcroute::labels::{LabelSet, Labels, Operator, Requirement, Selector};

/// Keys that collide on their first 8 bytes, are prefixes of each other,
/// or are short: every branch of the key comparison.
const KEYS: &[&str] = &[
    "a",
    "app",
    "aqp",
    "app.kub",
    "app.kube",
    "app.kubernetes.io/name",
    "app.kubernetes.io/nam",
    "app.kubernetes.io/name2",
    "app.kubernetes.io/component",
    "tier",
    "topology.kubernetes.io/zone",
    "z",
    // 16 and 17 bytes, the last key length compared as a number and the
    // first compared byte by byte, sharing their first 16 bytes.
    "app.kubernetes.i",
    "app.kubernetes.io",
];

/// Values of every length class of the match plan (0, 1–3, 4–7, 8–16,
/// past 16), sharing their first 8 or 16 bytes, or prefixes of each other.
const VALUES: &[&str] = &[
    "",
    "a",
    "web",
    "wab",
    "1",
    "10",
    "-3",
    "+2",
    "v2",
    "front",
    "abcdefg",
    "abcdefgh",
    "abcdefgi",
    "abcdefghi",
    "productio",
    "production",
    "production-eu-w1",
    "production-eu-w2",
    "production-eu-w1a",
    "production-eu-w1b",
    "production-eu-w1a-extra-long",
];

/// Label values no selector can hold (labels are not validated): a NUL
/// byte, or a NUL padding that makes a value look like a shorter one.
const ODD_VALUES: &[&str] = &[
    "web\0",
    "\0",
    "abcdefgh\0",
    "production\0\0\0\0\0\0",
    "fronT",
];

/// A valid label key of `len` bytes (up to 317): a prefix of 49-byte DNS
/// labels, then a 63-byte name.
fn long_key(len: usize, c: char) -> String {
    let name = c.to_string().repeat(63);
    let prefix: String = (0..len - 64)
        .map(|i| if i % 50 == 49 { '.' } else { c })
        .collect();
    format!("{prefix}/{name}")
}

/// Long keys whose lengths collide with short ones in the walk's length
/// filters: 65 and 129 bytes (`1` and `app` modulo 64), 257 (`a` modulo
/// 256), 255, 256 and 300 (all held as 255 in the packed key lengths).
fn long_keys() -> Vec<String> {
    let mut keys: Vec<String> = [(65, 'a'), (67, 'a'), (129, 'b'), (255, 'c'), (256, 'c')]
        .into_iter()
        .chain([(257, 'd'), (300, 'e'), (300, 'f')])
        .map(|(n, c)| long_key(n, c))
        .collect();
    keys.push("a".repeat(63));
    keys
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(KEYS).prop_map(String::from),
        2 => "[a-z]{1,3}(\\.[a-z]{1,9})?(/[a-z]{1,12})?",
        1 => prop::sample::select(long_keys()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(VALUES).prop_map(String::from)
}

fn operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(vec![
        Operator::Equals,
        Operator::DoubleEquals,
        Operator::NotEquals,
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
        Operator::GreaterThan,
        Operator::LessThan,
    ])
}

fn requirement() -> impl Strategy<Value = Requirement> {
    (
        key(),
        operator(),
        prop::collection::vec(value(), 1..4),
        -5i64..15,
    )
        .prop_filter_map("valid requirement", |(key, op, values, bound)| {
            let values = match op {
                Operator::In | Operator::NotIn => values,
                Operator::Exists | Operator::DoesNotExist => vec![],
                Operator::GreaterThan | Operator::LessThan => vec![bound.abs().to_string()],
                _ => values[..1].to_vec(),
            };
            Requirement::new(key, op, values).ok()
        })
}

/// A label's value: mostly one a selector can name.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => value(),
        1 => prop::sample::select(ODD_VALUES).prop_map(String::from),
        1 => "[a-z0-9.-]{0,20}",
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop_oneof![
        3 => prop::collection::btree_map(key(), label_value(), 0..12),
        1 => prop::collection::btree_map(key(), label_value(), 12..60),
    ]
}

/// The straightforward evaluation of `selectors.md#3`: one lookup per
/// requirement, values compared as strings, `>`/`<` parsed as int64.
fn reference(selector: &Selector, labels: &BTreeMap<String, String>) -> bool {
    selector.requirements().iter().all(|r| {
        let got = labels.get(r.key()).map(String::as_str);
        let listed = |v: &str| r.values().iter().any(|x| x == v);
        let bound = || r.values()[0].parse::<i64>().unwrap();
        match r.operator() {
            Operator::Equals | Operator::DoubleEquals | Operator::In => got.is_some_and(listed),
            Operator::NotEquals | Operator::NotIn => !got.is_some_and(listed),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan => got
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|n| n > bound()),
            Operator::LessThan => got
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|n| n < bound()),
        }
    })
}

/// `base` with, for requirement `i`, its key set by `fit[i]`: 0 leaves it
/// as it is, 1 sets the first listed value (or the bound, plus one for
/// `>`), 2 a value no selector lists, 3 removes the key.
fn fitted(
    selector: &Selector,
    base: &BTreeMap<String, String>,
    fit: &[u8],
) -> BTreeMap<String, String> {
    let mut map = base.clone();
    for (r, how) in selector.requirements().iter().zip(fit) {
        let key = r.key().to_string();
        match how {
            1 => {
                let value = match (r.operator(), r.values().first()) {
                    (Operator::GreaterThan, Some(b)) => (b.parse::<i64>().unwrap() + 1).to_string(),
                    (Operator::LessThan, Some(b)) => (b.parse::<i64>().unwrap() - 1).to_string(),
                    (_, Some(v)) => v.clone(),
                    (_, None) => String::new(),
                };
                map.insert(key, value);
            }
            2 => {
                map.insert(key, "fronT".to_string());
            }
            3 => {
                map.remove(&key);
            }
            _ => {}
        }
    }
    map
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn label_set_matches_like_the_map(
        // Up to 8 requirements take the walk's packed path, more the
        // general one.
        reqs in prop_oneof![
            3 => prop::collection::vec(requirement(), 0..7),
            1 => prop::collection::vec(requirement(), 7..14),
        ],
        extra in prop::option::of(requirement()),
        sets in prop::collection::vec(labels(), 1..5),
        fit in prop::collection::vec(0..4u8, 15),
    ) {
        let mut selector = Selector::from_requirements(reqs.clone());
        if let Some(r) = extra {
            selector = selector.with(r);
        }
        // One more label set fitted to the selector, so that most of its
        // requirements hold and each one's outcome decides the match.
        let fitted = fitted(&selector, &sets[0], &fit);
        for map in sets.iter().chain([&fitted]) {
            let set = LabelSet::from(map);
            let want = reference(&selector, map);
            prop_assert_eq!(selector.matches(map), want, "{} on {:?}", selector, map);
            let pairs: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(selector.matches(&pairs[..]), want, "{} on {:?}", selector, map);
            // A slice counts the first pair of a key (as `Labels::get`
            // does): later pairs with a seen key change nothing.
            let mut twice = pairs.clone();
            twice.extend(pairs.iter().map(|(k, _)| (*k, "fronT")));
            prop_assert_eq!(selector.matches(&twice[..]), want, "{} on {:?}", selector, twice);
            let hash: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
            prop_assert_eq!(selector.matches(&hash), want, "{} on {:?}", selector, map);
            // EP-3-style selection rests on this: selectors.md#3.
            prop_assert_eq!(selector.matches(&set), want, "{} on {:?}", selector, map);
            // Requirement by requirement (plain lookups) agrees too.
            let each = selector.requirements().iter().all(|r| r.matches(&set));
            prop_assert_eq!(each, want, "{} on {:?}", selector, map);
            prop_assert_eq!(Selector::nothing().matches(&set), false);
            for (k, v) in map {
                prop_assert_eq!(Labels::get(&set, k), Some(v.as_str()));
            }
            for k in KEYS {
                prop_assert_eq!(set.get(k), map.get(*k).map(String::as_str));
            }
        }
    }

    #[test]
    fn collecting_pairs_keeps_the_last_value(
        pairs in prop::collection::vec((key(), value()), 0..30),
    ) {
        let set: LabelSet = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let map: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(set.len(), map.len());
        prop_assert!(set.iter().eq(map.iter().map(|(k, v)| (*k, *v))));
        prop_assert_eq!(&set, &LabelSet::from(&map));
    }
}

#[test]
fn absent_keys_follow_selectors_md_3() {
    let set: LabelSet = [("app", "web"), ("replicas", "3")].into_iter().collect();
    let holds = |s: &str| Selector::parse(s).unwrap().matches(&set);
    // `!=`, `notin` and `!key` hold when the key is absent.
    assert!(holds("tier!=db"));
    assert!(holds("tier notin (db)"));
    assert!(holds("!tier"));
    // `=`, `in`, `key`, `>` and `<` need it.
    assert!(!holds("tier=db"));
    assert!(!holds("tier in (db)"));
    assert!(!holds("tier"));
    assert!(!holds("tier>1"));
    assert!(!holds("tier<1"));
    // Numeric comparisons on a present key.
    assert!(holds("replicas>2,replicas<4"));
    assert!(!holds("replicas>3"));
    assert!(!holds("app>1")); // not an integer
}

#[test]
fn long_keys_are_valid_label_keys() {
    let lengths: Vec<usize> = long_keys().iter().map(String::len).collect();
    assert_eq!(lengths, [65, 67, 129, 255, 256, 257, 300, 300, 63]);
    for k in long_keys() {
        assert!(
            svcroute::labels::validate_label_key(&k).is_ok(),
            "{k}: {:?}",
            svcroute::labels::validate_label_key(&k)
        );
    }
}
