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
