//! Unit tests: the pitfalls of `selectors.md#8`, each citing its rule, and
//! the corner cases of the grammar, matching and validation.

use std::collections::BTreeMap;

use super::*;

fn parse(s: &str) -> Selector {
    match Selector::parse(s) {
        Ok(sel) => sel,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn canonical(s: &str) -> String {
    parse(s).to_string()
}

fn err_kind(s: &str) -> SelectorErrorKind {
    match Selector::parse(s) {
        Ok(sel) => panic!("{s:?} should be rejected, parsed as {sel:?}"),
        Err(e) => e.kind(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn m(sel: &str, pairs: &[(&str, &str)]) -> bool {
    parse(sel).matches(&labels(pairs))
}

// ---- selectors.md#8 pitfalls ----

#[test]
fn pitfall_1_not_equals_and_notin_match_missing_keys() {
    // selectors.md#8.1, selectors.md#3: `!=`/`notin` match absent keys.
    assert!(m("x!=a", &[]));
    assert!(m("x notin (a,b)", &[("y", "a")]));
    assert!(!m("x!=a", &[("x", "a")]));
    // Requiring presence takes an explicit exists requirement.
    assert!(!m("x,x!=a", &[]));
    assert!(m("x,x!=a", &[("x", "b")]));
}

#[test]
fn pitfall_2_empty_values_are_legal() {
    // selectors.md#8.2, selectors.md#2.2: a missing value is the empty value.
    assert_eq!(canonical("x="), "x=");
    assert_eq!(canonical("x= "), "x=");
    assert_eq!(canonical("x != "), "x!=");
    assert_eq!(canonical("x in ()"), "x in ()");
    assert!(m("x=", &[("x", "")]));
    assert!(!m("x=", &[]));
    assert!(!m("x=", &[("x", "a")]));
    assert!(m("x in ()", &[("x", "")]));
    assert!(!m("x in ()", &[("x", "a")]));
    assert!(m("x!=", &[]));
    assert!(m("x!=", &[("x", "a")]));
    assert!(!m("x!=", &[("x", "")]));
    assert!(m("x notin ()", &[]));
    assert!(!m("x notin ()", &[("x", "")]));
}

#[test]
fn pitfall_3_empty_list_items_are_empty_values() {
    // selectors.md#8.3, selectors.md#2.2: each empty item stands for "".
    assert_eq!(canonical("x in ( )"), "x in ()");
    assert_eq!(canonical("x in (,)"), "x in ()");
    assert_eq!(canonical("x in (a,)"), "x in (,a)");
    assert_eq!(canonical("x in (,a)"), "x in (,a)");
    assert_eq!(canonical("x in (a,,b)"), "x in (,a,b)");
    assert_eq!(canonical("x in (a,,,,)"), "x in (,a)");
    assert_eq!(canonical("x in (abc,abc)"), "x in (abc)");
    assert_eq!(
        canonical("x notin (abc,,def),bar,z in (),w"),
        "bar,w,x notin (,abc,def),z in ()"
    );
}

#[test]
fn pitfall_4_keywords_only_in_operator_position() {
    // selectors.md#8.4, selectors.md#2.1.
    assert_eq!(canonical("in"), "in");
    assert_eq!(canonical("in in (in)"), "in in (in)");
    assert_eq!(canonical("x=in"), "x=in");
    assert_eq!(canonical("notin=in"), "notin=in");
    assert_eq!(canonical("a in (x,y,notin, z,in)"), "a in (in,notin,x,y,z)");
    assert_eq!(canonical("!notin"), "!notin");
    assert_eq!(canonical("notin notin (notin)"), "notin notin (notin)");
    // Keywords are case-sensitive and `gt`/`lt`/`exists` are never keywords.
    assert_eq!(err_kind("x IN (a)"), SelectorErrorKind::Syntax);
    assert_eq!(err_kind("x gt 1"), SelectorErrorKind::Syntax);
    assert_eq!(err_kind("x exists"), SelectorErrorKind::Syntax);
    assert!(m("notin=in", &[("notin", "in")]));
}

#[test]
fn pitfall_5_double_equals_survives() {
    // selectors.md#8.5, selectors.md#4.
    assert_eq!(canonical("x == a"), "x==a");
    assert_ne!(parse("x==a"), parse("x=a"));
    assert!(m("x==a", &[("x", "a")]));
    assert!(!m("x==a", &[("x", "b")]));
}

#[test]
fn pitfall_6_gt_lt_numeric_and_string_only() {
    // selectors.md#8.6, selectors.md#2.3 rule 6, selectors.md#3.
    assert_eq!(canonical("x > 1"), "x>1");
    assert_eq!(canonical("x>01"), "x>01");
    assert_eq!(canonical("x<0"), "x<0");
    assert_eq!(
        canonical(&format!("x<{}", i64::MAX)),
        format!("x<{}", i64::MAX)
    );
    for bad in [
        "x>1.5",
        "x>",
        "x>0x10",
        "x>1e3",
        "x>9223372036854775808",
        "x<a",
    ] {
        assert_eq!(err_kind(bad), SelectorErrorKind::GtLtValue, "{bad}");
    }
    // A negative or signed bound is an int64 but not a label value.
    assert_eq!(err_kind("x>-1"), SelectorErrorKind::InvalidValue);
    assert_eq!(err_kind("x>+1"), SelectorErrorKind::InvalidValue);
    // `>=`, `<>`, `gt` are not operators.
    assert_eq!(err_kind("x>=1"), SelectorErrorKind::Syntax);
    assert_eq!(err_kind("x<>1"), SelectorErrorKind::Syntax);
    assert_eq!(err_kind("x>(1)"), SelectorErrorKind::Syntax);
    // Numeric, strict comparisons.
    assert!(m("x>9", &[("x", "10")]));
    assert!(m("x>1", &[("x", "2")]));
    assert!(!m("x>1", &[("x", "01")]));
    assert!(!m("x<10", &[("x", "10")]));
    // Labels that do not parse never match; nor does a missing key.
    for v in ["v2", "2.5", "", "99999999999999999999", " 2", "0x10"] {
        assert!(!m("x>1", &[("x", v)]), "{v:?}");
        assert!(!m("x<1000", &[("x", v)]), "{v:?}");
    }
    assert!(!m("x>1", &[]));
    assert!(!m("x<1", &[]));
    // The label side accepts what strconv.ParseInt accepts (upstream quirk).
    assert!(m("x<5", &[("x", "-3")]));
    assert!(m("x>1", &[("x", "+2")]));
    assert!(m("x<1", &[("x", "-9223372036854775808")]));
    // The struct form has no Gt/Lt.
    let ls: LabelSelector = serde_json::from_str(
        r#"{"matchExpressions": [{"key": "x", "operator": "Gt", "values": ["1"]}]}"#,
    )
    .unwrap();
    assert!(ls.validate().is_err() && ls.to_selector().is_err());
    assert!(LabelSelector::parse("x>1").is_err());
}

#[test]
fn pitfall_7_whitespace_is_exactly_four_bytes() {
    // selectors.md#8.7, selectors.md#2.1.
    assert_eq!(canonical("\tx\t=\ta\t"), "x=a");
    assert_eq!(canonical("x\n=\na"), "x=a");
    assert_eq!(canonical("\rx"), "x");
    assert_eq!(canonical("x notin\n (abc)"), "x notin (abc)");
    assert_eq!(canonical("foo  in\t (abc)"), "foo in (abc)");
    assert_eq!(err_kind("x\u{c}=a"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("x\u{b}=a"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("x\u{a0}=a"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("x=a\u{2003}"), SelectorErrorKind::InvalidValue);
}

#[test]
fn pitfall_8_nul_is_rejected() {
    // selectors.md#8.8, selectors.md#2.1 (NUL quirk), selectors.md#9: upstream
    // ends lexing at NUL; we reject it (documented deviation).
    for s in ["\0x=a", "x=a\0", "x\0=a", "\0", "x in (a,\0)"] {
        let e = Selector::parse(s).unwrap_err();
        assert_eq!(e.kind(), SelectorErrorKind::Syntax, "{s:?}");
        assert_eq!(e.expected(), Expected::NotNul);
        assert_eq!(e.position(), s.find('\0').unwrap());
    }
}

#[test]
fn pitfall_9_empty_string_matches_everything() {
    // selectors.md#8.9, selectors.md#5.
    for s in ["", " ", "\t\r\n "] {
        let sel = parse(s);
        assert!(sel.is_everything());
        assert!(sel.matches(&labels(&[])));
        assert!(sel.matches(&labels(&[("a", "b")])));
        assert_eq!(sel.to_string(), "");
    }
    // Nothing prints the same but matches nothing.
    assert_eq!(Selector::nothing().to_string(), "");
    assert!(!Selector::nothing().matches(&labels(&[])));
    assert_ne!(Selector::nothing(), Selector::everything());
}

#[test]
fn pitfall_10_service_empty_selects_nothing() {
    // selectors.md#8.10, selectors.md#5, selectors.md#7.
    let pod = labels(&[("app", "web")]);
    assert!(!service_selector(None).matches(&pod));
    assert!(!service_selector(Some(&BTreeMap::new())).matches(&pod));
    // ...whereas LabelSelector: absent = nothing, empty = everything.
    assert!(!label_selector_as_selector(None).unwrap().matches(&pod));
    for json in [
        r#"{}"#,
        r#"{"matchLabels": {}}"#,
        r#"{"matchExpressions": []}"#,
        r#"{"matchLabels": {}, "matchExpressions": []}"#,
    ] {
        let ls: LabelSelector = serde_json::from_str(json).unwrap();
        let s = label_selector_as_selector(Some(&ls)).unwrap();
        assert!(s.is_everything() && s.matches(&pod), "{json}");
        assert!(ls.validate().is_ok());
    }
    // Subset match with exact values.
    let spec = labels(&[("app", "web"), ("tier", "fe")]);
    assert!(service_selector(Some(&spec)).matches(&labels(&[
        ("app", "web"),
        ("tier", "fe"),
        ("x", "y")
    ])));
    assert!(!service_selector(Some(&spec)).matches(&pod));
    assert!(!service_selector(Some(&labels(&[("app", "")]))).matches(&labels(&[("app", "x")])));
}

#[test]
fn pitfall_11_duplicate_keys_are_anded() {
    // selectors.md#8.11, selectors.md#3, selectors.md#4.
    assert_eq!(canonical("x,!x"), "x,!x");
    assert_eq!(canonical("!x,x"), "!x,x");
    assert_eq!(canonical("a=b,a=b"), "a=b,a=b");
    assert_eq!(canonical("x=b,y,x=a"), "x=b,x=a,y");
    assert!(!m("x,!x", &[("x", "a")]));
    assert!(!m("x,!x", &[]));
    assert!(!m("x=a,x=b", &[("x", "a")]));
    assert!(m("x=a,x!=b", &[("x", "a")]));
    assert!(!m("x in (a),x notin (a)", &[("x", "a")]));
}

#[test]
fn pitfall_12_struct_values_keep_duplicates() {
    // selectors.md#8.12, selectors.md#4, selectors.md#6.
    let ls: LabelSelector = serde_json::from_str(
        r#"{"matchExpressions": [{"key": "x", "operator": "In", "values": ["b", "a", "b"]}]}"#,
    )
    .unwrap();
    let s = ls.to_selector().unwrap();
    assert_eq!(s.to_string(), "x in (a,b,b)");
    // The string parser deduplicates.
    assert_eq!(canonical("x in (b,a,b)"), "x in (a,b)");
    assert!(s.matches(&labels(&[("x", "b")])));
}

// ---- grammar corners (selectors.md#2) ----

#[test]
fn syntax_errors() {
    // selectors.md#2.2, selectors.md#2.4.
    for s in [
        "x,,y",
        ",x,y",
        "x,",
        ",",
        "x=a,",
        "a in (xyz),",
        "!x=a",
        "!x in (a)",
        "!x=",
        "!!x",
        "!",
        "! ",
        "x y",
        "x !",
        "x (",
        "x )",
        "x=(a)",
        "x=!a",
        "x==a==b",
        "x=a=b",
        "x!==a",
        "x=a b",
        "x in (a)(b)",
        "a in (xyz)b notin ()",
        "x in",
        "x in a",
        "x in ((a))",
        "x in (a b)",
        "x in (a",
        "x in (",
        "x in (a,=)",
        "x notin",
        "(",
        ")",
        "=",
        "==a",
        "x=a)",
        "x<>1",
        "x>(1)",
        "x>>1",
    ] {
        assert_eq!(err_kind(s), SelectorErrorKind::Syntax, "{s:?}");
    }
}

#[test]
fn accepted_forms() {
    // selectors.md#2.2.
    let cases = [
        ("x", "x"),
        ("!x", "!x"),
        ("! x", "!x"),
        ("x,y in (a)", "x,y in (a)"),
        ("x=a,a=x", "a=x,x=a"),
        ("b,A,a", "A,a,b"),
        ("x in(a)", "x in (a)"),
        ("x in ( a , b )", "x in (a,b)"),
        ("x in (b,a,c)", "x in (a,b,c)"),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
        ),
        (
            "this-is-a-dns.domain.com/key-with-dash",
            "this-is-a-dns.domain.com/key-with-dash",
        ),
        ("x>1,z<5", "x>1,z<5"),
        ("a.b/c=d", "a.b/c=d"),
        ("z=1,y=2,x=3", "x=3,y=2,z=1"),
        ("b=c,!a", "!a,b=c"),
    ];
    for (input, want) in cases {
        assert_eq!(canonical(input), want, "{input:?}");
    }
}

#[test]
fn key_and_value_errors_and_their_order() {
    // selectors.md#2.3 rule 1: the key is checked as soon as it is read.
    assert_eq!(err_kind("-x y"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("x:y in (a"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("a:b=c"), SelectorErrorKind::InvalidKey);
    assert_eq!(err_kind("ключ"), SelectorErrorKind::InvalidKey);
    assert_eq!(
        err_kind(&format!("{}=v", "a".repeat(64))),
        SelectorErrorKind::InvalidKey
    );
    // Values are checked once the requirement is complete, before what follows.
    assert_eq!(err_kind("x=a||y=b"), SelectorErrorKind::InvalidValue);
    assert_eq!(err_kind("x=a- b"), SelectorErrorKind::InvalidValue);
    assert_eq!(err_kind("x in (a-) b"), SelectorErrorKind::InvalidValue);
    // ...but a syntax error inside the list comes first.
    assert_eq!(err_kind("x in (a-,(b))"), SelectorErrorKind::Syntax);
    // The integer check precedes the value check (NewRequirement order).
    assert_eq!(err_kind("x>a-"), SelectorErrorKind::GtLtValue);
    for s in [
        "a=b-",
        "a=b/c",
        "a=$b",
        "x=é",
        &format!("a={}", "a".repeat(64)),
    ] {
        assert_eq!(err_kind(s), SelectorErrorKind::InvalidValue, "{s:?}");
    }
    assert_eq!(
        canonical(&format!("a={}", "a".repeat(63))),
        format!("a={}", "a".repeat(63))
    );
}

#[test]
fn error_positions() {
    let e = Selector::parse("x=a,").unwrap_err();
    assert_eq!(
        (e.position(), e.found(), e.expected()),
        (4, &Found::EndOfInput, Expected::Requirement)
    );
    let e = Selector::parse("app=web,-bad=1").unwrap_err();
    assert_eq!((e.position(), e.kind()), (8, SelectorErrorKind::InvalidKey));
    assert_eq!(e.found(), &Found::Text("-bad".into()));
    let e = Selector::parse("x in (ok,b_,c)").unwrap_err();
    assert_eq!(
        (e.position(), e.kind()),
        (9, SelectorErrorKind::InvalidValue)
    );
    let e = Selector::parse("x>1.5").unwrap_err();
    assert_eq!((e.position(), e.expected()), (2, Expected::Integer));
    let e = Selector::parse("x>").unwrap_err();
    assert_eq!((e.position(), e.kind()), (2, SelectorErrorKind::GtLtValue));
    let e = Selector::parse("x y").unwrap_err();
    assert_eq!(e.expected(), Expected::OperatorCommaOrEnd);
}

#[test]
fn hostile_inputs_do_not_recurse_or_panic() {
    for s in [
        "(".repeat(100_000),
        "!".repeat(100_000),
        "x in (".to_string() + &",".repeat(100_000) + ")",
        "x,".repeat(50_000) + "x",
        "=".repeat(100_000),
        "é".repeat(10_000),
    ] {
        let _ = Selector::parse(&s);
    }
    let many = "x,".repeat(20_000) + "x";
    assert_eq!(parse(&many).requirements().len(), 20_001);
}

#[test]
fn canonical_round_trip_examples() {
    // selectors.md#4: the canonical string re-parses to itself.
    for s in [
        "x notin (abc,,def),bar,z in (),w",
        "x==a,x=b,x!=,x>01,x<5,!y,y",
        "in in (in,notin),notin=in",
        "a.b/c in (,A,a)",
    ] {
        let once = parse(s);
        let text = once.to_string();
        let twice = parse(&text);
        assert_eq!(once, twice, "{s:?}");
        assert_eq!(twice.to_string(), text);
    }
}

#[test]
fn labels_trait_impls_agree() {
    let sel = parse("a=1,b!=2,c,!d,e in (x,y),f>3");
    let pairs = [("a", "1"), ("b", "3"), ("c", ""), ("e", "y"), ("f", "4")];
    let btree: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    let hash: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let vec: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(sel.matches(&pairs));
    assert!(sel.matches(&pairs[..]));
    assert!(sel.matches(&btree));
    assert!(sel.matches(&hash));
    assert!(sel.matches(&vec));
    assert!(sel.matches(&Some(btree.clone())));
    assert!(!sel.matches(&None::<BTreeMap<String, String>>));
    assert!(!sel.matches(&&pairs[..2]));
}

#[test]
fn many_values_use_binary_search_correctly() {
    let vals: Vec<String> = (0..40).map(|i| format!("v{i:02}")).collect();
    let sel = parse(&format!("x in ({})", vals.join(",")));
    for v in &vals {
        assert!(sel.matches(&[("x", v.as_str())]));
    }
    assert!(!sel.matches(&[("x", "v40")]));
    assert!(!sel.matches(&[("x", "")]));
}

#[test]
fn go_parse_int() {
    use super::selector::parse_int;
    assert_eq!(parse_int("0"), Some(0));
    assert_eq!(parse_int("-0"), Some(0));
    assert_eq!(parse_int("+7"), Some(7));
    assert_eq!(parse_int("007"), Some(7));
    assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
    for bad in [
        "",
        "+",
        "-",
        "9223372036854775808",
        "-9223372036854775809",
        "1_000",
        " 1",
        "1 ",
        "١",
        "0x1",
        "--1",
    ] {
        assert_eq!(parse_int(bad), None, "{bad:?}");
    }
}

// ---- validation (selectors.md#1) ----

#[test]
fn label_keys() {
    // selectors.md#1.1
    for ok in [
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with.dashes-and.dots/simple",
        "Uppercase_Is_OK_123",
        "A",
        "a.b",
        "a..b",
        "example.com/a..b",
        &format!("{}/{}", "a".repeat(253), "b".repeat(63)),
        &format!("{}.com/x", "a".repeat(100)),
    ] {
        assert!(validate_label_key(ok).is_ok(), "{ok:?}");
    }
    for bad in [
        "",
        "cantendwithadash-",
        "Example.com/abc",
        "example_com/abc",
        "/simple",
        "_a",
        "a_",
        ".a",
        "a.",
        "-example.com/a",
        "/",
        "a/",
        "a/b/c",
        "a..b/c",
        "x\n",
        "x y",
        &format!("{}/abc", "a".repeat(254)),
        &"a".repeat(64),
    ] {
        assert!(validate_label_key(bad).is_err(), "{bad:?}");
    }
    // Errors are collected.
    let e = validate_label_key(&format!("{}/", "A".repeat(254))).unwrap_err();
    let rules: Vec<(Option<KeyPart>, Rule)> =
        e.violations().iter().map(|v| (v.part, v.rule)).collect();
    assert_eq!(
        rules,
        vec![
            (Some(KeyPart::Prefix), Rule::MaxLength { max: 253 }),
            (
                Some(KeyPart::Prefix),
                Rule::Pattern(Pattern::Dns1123Subdomain)
            ),
            (Some(KeyPart::Name), Rule::NonEmpty),
            (Some(KeyPart::Name), Rule::Pattern(Pattern::LabelName)),
        ]
    );
    let e = validate_label_key("a/b/c").unwrap_err();
    assert_eq!(
        e.violations(),
        [Violation {
            part: None,
            rule: Rule::AtMostOneSlash
        }]
    );
}

#[test]
fn label_values() {
    // selectors.md#1.2
    for ok in [
        "",
        "simple",
        "1-starts-with-num",
        "0",
        "a..b",
        "1.5",
        "A_b",
        &"a".repeat(63),
    ] {
        assert!(validate_label_value(ok).is_ok(), "{ok:?}");
    }
    for bad in [
        "nospecialchars%^=@",
        "bad,value",
        "?#$notsogood",
        "a/b",
        "a_",
        "-1",
        "é",
        "a b",
        "+1",
        ":",
        "x\n",
        &"a".repeat(64),
    ] {
        assert!(validate_label_value(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dns_names() {
    // selectors.md#1.3
    for ok in ["ab", "0", "1-a", &"a".repeat(63)] {
        assert!(validate_dns1123_label(ok).is_ok(), "{ok:?}");
    }
    for bad in ["", "aBc", "a-", "-a", "a_b", "a b", "a.b", &"a".repeat(64)] {
        assert!(validate_dns1123_label(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        validate_dns1123_label("a.b").unwrap_err().violations()[0].rule,
        Rule::NoDots
    );
    for ok in [
        "1.2.3.4.5",
        "0.a",
        &format!("{}.com", "a".repeat(64)),
        &"a".repeat(253),
    ] {
        assert!(validate_dns1123_subdomain(ok).is_ok(), "{ok:?}");
    }
    for bad in [
        "",
        "a_b",
        "a b",
        "a..b",
        ".a",
        "a.",
        "A.b",
        &"a".repeat(254),
    ] {
        assert!(validate_dns1123_subdomain(bad).is_err(), "{bad:?}");
    }
    for ok in ["a", "web-1", &"a".repeat(63)] {
        assert!(validate_dns1035_label(ok).is_ok(), "{ok:?}");
    }
    for bad in ["", "1a", "-a", "a-", "A", "a.b", &"a".repeat(64)] {
        assert!(validate_dns1035_label(bad).is_err(), "{bad:?}");
    }
}

// ---- struct form (selectors.md#6) ----

fn ls(json: &str) -> LabelSelector {
    serde_json::from_str(json).unwrap()
}

#[test]
fn label_selector_validation_and_conversion_agree() {
    // selectors.md#6: both checks accept and reject the same selectors.
    let valid = [
        r#"{"matchExpressions": [{"key": "baz", "operator": "Exists"}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "Exists", "values": []}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "DoesNotExist", "values": null}]}"#,
        r#"{"matchExpressions": [{"key": "x", "operator": "NotIn", "values": [""]}]}"#,
        r#"{"matchLabels": {"a": ""}}"#,
    ];
    let invalid = [
        r#"{"matchExpressions": [{"key": "baz", "operator": "Exists", "values": ["qux"]}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "In"}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "In", "values": null}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "NotIn", "values": []}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "in", "values": ["a"]}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "operator": "", "values": ["a"]}]}"#,
        r#"{"matchExpressions": [{"key": "baz", "values": ["a"]}]}"#,
        r#"{"matchExpressions": [{"operator": "Exists"}]}"#,
        r#"{"matchExpressions": [{"key": "-key", "operator": "In", "values": ["v"]}]}"#,
        r#"{"matchExpressions": [{"key": "key", "operator": "In", "values": ["-value"]}]}"#,
        r#"{"matchLabels": {"Example.com/a": "b"}}"#,
        r#"{"matchLabels": {"nocommasallowed": "bad,value"}}"#,
    ];
    for j in valid {
        let l = ls(j);
        assert!(l.validate().is_ok(), "{j}");
        assert!(l.to_selector().is_ok(), "{j}");
    }
    for j in invalid {
        let l = ls(j);
        assert!(l.validate().is_err(), "{j}");
        assert!(l.to_selector().is_err(), "{j}");
    }
}

#[test]
fn label_selector_conversion_order() {
    // selectors.md#6: matchLabels entries first among equal keys; stable.
    let l = ls(r#"{"matchLabels": {"x": "a", "b": "c"},
                   "matchExpressions": [{"key": "x", "operator": "Exists"},
                                        {"key": "a", "operator": "In", "values": ["2", "1"]},
                                        {"key": "x", "operator": "In", "values": ["b"]}]}"#);
    assert_eq!(
        l.to_selector().unwrap().to_string(),
        "a in (1,2),b=c,x=a,x,x in (b)"
    );
    let l = ls(
        r#"{"matchExpressions": [{"key": "x", "operator": "In", "values": ["a"]},
                                        {"key": "x", "operator": "In", "values": ["b"]}]}"#,
    );
    let s = l.to_selector().unwrap();
    assert_eq!(s.to_string(), "x in (a),x in (b)");
    assert!(!s.matches(&labels(&[("x", "a")])));
}

#[test]
fn parse_to_label_selector() {
    // selectors.md#6: string -> struct, lossy spots.
    let l = LabelSelector::parse("x=a,x==b,y in (b,a,b),z,!w").unwrap();
    assert_eq!(
        l.match_labels,
        Some(BTreeMap::from([("x".to_string(), "b".to_string())]))
    );
    let exprs = l.match_expressions.as_ref().unwrap();
    assert_eq!(exprs.len(), 3);
    assert_eq!(
        (exprs[0].key.as_str(), exprs[0].operator.as_str()),
        ("w", "DoesNotExist")
    );
    assert_eq!(
        exprs[1].values,
        Some(vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(LabelSelector::parse("").unwrap(), LabelSelector::default());
    for s in ["x!=a", "x>1", "x<1"] {
        let e = LabelSelector::parse(s).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Invalid, "{s}");
    }
    assert_eq!(
        LabelSelector::parse("x in a").unwrap_err().kind(),
        crate::ErrorKind::Parse
    );
}

#[test]
fn label_selector_as_map() {
    // selectors.md#6: struct -> map.
    let l = ls(
        r#"{"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "In", "values": ["2"]}]}"#,
    );
    assert_eq!(l.to_map().unwrap(), labels(&[("a", "1"), ("b", "2")]));
    for j in [
        r#"{"matchExpressions": [{"key": "b", "operator": "In", "values": ["2", "3"]}]}"#,
        r#"{"matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["2"]}]}"#,
        r#"{"matchExpressions": [{"key": "b", "operator": "Exists"}]}"#,
        r#"{"matchExpressions": [{"key": "b", "operator": "Gt", "values": ["1"]}]}"#,
    ] {
        assert!(ls(j).to_map().is_err(), "{j}");
    }
}

// ---- map forms (selectors.md#7) ----

#[test]
fn selector_map_strings() {
    // selectors.md#7: ConvertSelectorToLabelsMap.
    assert_eq!(parse_selector_map("x=a").unwrap(), labels(&[("x", "a")]));
    assert_eq!(
        parse_selector_map(" x = a , y = b , z = c ").unwrap(),
        labels(&[("x", "a"), ("y", "b"), ("z", "c")])
    );
    assert_eq!(
        parse_selector_map("x=a,x=b").unwrap(),
        labels(&[("x", "b")])
    );
    assert_eq!(parse_selector_map("x=").unwrap(), labels(&[("x", "")]));
    assert_eq!(
        parse_selector_map("\u{a0}x\u{a0}=\u{2003}a\u{85}").unwrap(),
        labels(&[("x", "a")])
    );
    assert!(parse_selector_map("").unwrap().is_empty());
    for bad in [
        "x",
        "x==y",
        "x!=y",
        "x in (y)",
        "x y",
        "x=a,",
        " ",
        "x=a,,y=b",
        &format!("x={}", "a".repeat(64)),
    ] {
        assert!(parse_selector_map(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn set_string_vs_selector_string() {
    // selectors.md#7: Set.String sorts whole texts; selectors sort by key.
    let set = labels(&[("a", "x"), ("a.b", "y")]);
    assert_eq!(format_label_set(&set), "a.b=y,a=x");
    assert_eq!(service_selector(Some(&set)).to_string(), "a=x,a.b=y");
    assert_eq!(parse(&format_label_set(&set)), service_selector(Some(&set)));
}

#[test]
fn error_kinds_map_to_crate_kinds() {
    let e: crate::Error = Selector::parse("x in a").unwrap_err().into();
    assert_eq!(e.kind(), crate::ErrorKind::Parse);
    let e: crate::Error = Selector::parse("x>a").unwrap_err().into();
    assert_eq!(e.kind(), crate::ErrorKind::Invalid);
    let e: crate::Error = validate_label_key("-").unwrap_err().into();
    assert_eq!(e.kind(), crate::ErrorKind::Invalid);
}

/// Labels that can only be looked up one key at a time: the path every
/// [`Labels`] implementation gets by default.
struct LookupOnly<'a>(&'a BTreeMap<String, String>);

impl Labels for LookupOnly<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

#[test]
fn one_walk_agrees_with_lookups_on_absent_keys() {
    // selectors.md#3: `!=`, `notin` and `!k` hold on an absent key, the
    // others fail; the walk over the labels must keep that exactly,
    // including repeated keys and keys of equal length.
    let pod = labels(&[("app", "web"), ("env", ""), ("tier", "fe"), ("zone", "a")]);
    for s in [
        "app=web,tier in (fe,be),!canary",
        "app!=db,abc notin (x),!xyz",
        "app,!app",
        "app=web,app=db",
        "env=,env in (),env notin (a)",
        "abc",
        "abc!=x,abc",
        "tier>1",
        "zone=a,zon=a",
    ] {
        let sel = parse(s);
        let expected = sel.matches(&LookupOnly(&pod));
        let pairs: Vec<(&str, &str)> = pod.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let hash: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        assert_eq!(sel.matches(&pod), expected, "{s}");
        assert_eq!(sel.matches(&pairs), expected, "{s}");
        assert_eq!(sel.matches(&hash), expected, "{s}");
        assert_eq!(sel.matches(&Some(&pod)), expected, "{s}");
        let none: Option<&BTreeMap<String, String>> = None;
        assert_eq!(
            sel.matches(&none),
            sel.matches(&LookupOnly(&BTreeMap::new())),
            "{s}"
        );
    }
    // A slice with a repeated key: the first pair counts, as in `get`.
    assert!(parse("x=1").matches(&[("x", "1"), ("x", "2")]));
    assert!(!parse("x=2").matches(&[("x", "1"), ("x", "2")]));
}

proptest::proptest! {
    /// The walk over a map, a slice and a `HashMap` gives the same answer as
    /// one lookup per requirement, for any selector over a small key pool.
    #[test]
    fn one_walk_agrees_with_lookups(
        reqs in proptest::collection::vec(
            ("(a|b|ab|ba|abc|x/a)", 0..9usize, "(|1|2|ab)"), 0..6),
        pod in proptest::collection::btree_map("(a|b|ab|ba|abc|x/a|c|cd)", "(|1|2|ab|-3)", 0..8),
    ) {
        let ops = ["=", "==", "!=", " in ", " notin ", "", "!", ">", "<"];
        let text: Vec<String> = reqs
            .iter()
            .map(|(k, op, v)| match ops[*op] {
                "" => k.clone(),
                "!" => format!("!{k}"),
                " in " | " notin " => format!("{k}{}({v},2)", ops[*op]),
                ">" | "<" => format!("{k}{}1", ops[*op]),
                o => format!("{k}{o}{v}"),
            })
            .collect();
        let sel = parse(&text.join(","));
        let expected = sel.matches(&LookupOnly(&pod));
        let pairs: Vec<(&str, &str)> = pod.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let hash: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        proptest::prop_assert_eq!(sel.matches(&pod), expected);
        proptest::prop_assert_eq!(sel.matches(&pairs), expected);
        proptest::prop_assert_eq!(sel.matches(&hash), expected);
    }

    /// The yes/no key check of the fast parser agrees with the full one.
    #[test]
    #[cfg(not(feature = "compact"))]
    fn quick_key_check_agrees(key in "[a-zA-Z0-9./_-]{0,70}", long in "[a-z.]{250,256}/[a-z]{1,3}") {
        for k in [key.as_str(), long.as_str()] {
            proptest::prop_assert_eq!(validation::is_label_key(k), validate_label_key(k).is_ok(), "{:?}", k);
        }
    }
}
