use super::*;

#[test]
fn reverse_names() {
    assert_eq!(
        address_from_reverse("10.100.96.10.in-addr.arpa."),
        Some("10.96.100.10".parse().unwrap())
    );
    assert_eq!(address_from_reverse("96.10.in-addr.arpa."), None);
    assert_eq!(
        address_from_reverse(
            "0.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa."
        ),
        Some("fd00:10:244:1::70".parse().unwrap())
    );
    assert_eq!(address_from_reverse("1.0.ip6.arpa."), None);
}

#[test]
fn endpoint_names() {
    assert_eq!(
        endpoint_name("10.244.1.60", None, None, false),
        "10-244-1-60"
    );
    assert_eq!(
        endpoint_name("fd00:10:244:2::71", None, None, false),
        "fd00-10-244-2--71"
    );
    assert_eq!(endpoint_name("fd00::", None, None, false), "fd00--0");
    assert_eq!(
        endpoint_name("10.0.0.1", Some("web-0"), Some("p"), true),
        "web-0"
    );
    assert_eq!(endpoint_name("10.0.0.1", None, Some("p"), true), "p");
    let long = "p".repeat(64);
    assert_eq!(
        endpoint_name("10.0.0.1", None, Some(&long), true),
        "10-0-0-1"
    );
}

#[test]
fn base_labels() {
    let b = Base::split("a.b.c.");
    assert_eq!(b.as_slice(), ["a", "b", "c"]);
    assert_eq!(Base::split("a\\.b.c").as_slice(), ["a\\.b", "c"]);
    assert!(Base::split("").as_slice().is_empty());
    assert!(Base::split("1.2.3.4.5.6.7.8.9.").overflow);
}

/// The reverse-name parse as first written (joins on the heap): the
/// stack-built one must agree with it on every name.
fn address_from_reverse_joined(lower: &str) -> Option<IpAddr> {
    if let Some(rest) = lower.strip_suffix(".in-addr.arpa.") {
        let parts: Vec<&str> = rest.split('.').rev().collect();
        return parts.join(".").parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    if let Some(rest) = lower.strip_suffix(".ip6.arpa.") {
        let parts: Vec<&str> = rest.split('.').rev().collect();
        if parts.len() / 4 != 8 {
            return None;
        }
        let groups: Vec<String> = parts.chunks(4).take(8).map(|c| c.concat()).collect();
        return groups.join(":").parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    None
}

#[test]
fn reverse_names_edge_cases_match_the_joined_parse() {
    let long_v6 = format!("{}ip6.arpa.", "0.".repeat(33));
    let odd_v6 = format!("{}ip6.arpa.", "00.".repeat(32));
    for name in [
        "1.2.3.4.in-addr.arpa.",
        "01.2.3.4.in-addr.arpa.",
        "1.2.3.4.5.in-addr.arpa.",
        "1..3.4.in-addr.arpa.",
        ".in-addr.arpa.",
        "256.2.3.4.in-addr.arpa.",
        "1.2.3.1.2.3.1.2.3.1.2.3.1.2.3.1.2.3.1.2.3.in-addr.arpa.",
        long_v6.as_str(),
        odd_v6.as_str(),
    ] {
        assert_eq!(
            address_from_reverse(name),
            address_from_reverse_joined(name),
            "{name}"
        );
    }
}

proptest::proptest! {
    #[test]
    fn reverse_names_match_the_joined_parse(
        labels in proptest::prop_oneof![
            proptest::collection::vec("[0-9a-f]{0,4}", 0..40),
            proptest::collection::vec("[0-9]{1,3}", 4..=4),
            proptest::collection::vec("[0-9a-f]", 31..=36),
        ],
        v6 in proptest::bool::ANY,
    ) {
        let zone = if v6 { "ip6.arpa." } else { "in-addr.arpa." };
        let name = format!("{}.{zone}", labels.join("."));
        proptest::prop_assert_eq!(
            address_from_reverse(&name),
            address_from_reverse_joined(&name)
        );
    }
}
