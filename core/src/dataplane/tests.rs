//! Unit tests of the dataplane's small pieces.

use super::Render;
use super::render::render;
use crate::cluster::ProxyMode;

#[test]
fn iptables_probabilities() {
    let eps: Vec<std::net::SocketAddr> = (1..=3)
        .map(|i| format!("10.0.0.{i}:80").parse().unwrap())
        .collect();
    let Render::Iptables { probabilities, .. } = render(ProxyMode::Iptables, &eps, "rr") else {
        panic!("iptables");
    };
    assert_eq!(
        probabilities,
        vec![
            Some("0.3333333333".into()),
            Some("0.5000000000".into()),
            None
        ]
    );
}

mod http_matching {
    use super::super::http::{gw_host_match, ingress_wildcard, normalize_host, prefix_match};

    #[test]
    fn ing3_prefix_is_element_wise() {
        assert!(prefix_match("/foo", "/foo"));
        assert!(prefix_match("/foo", "/foo/"));
        assert!(prefix_match("/foo/", "/foo/bar"));
        assert!(prefix_match("/foo/", "/foo"));
        assert!(!prefix_match("/foo", "/foobar"));
        assert!(!prefix_match("/aaa/bb", "/aaa/bbb"));
        assert!(prefix_match("/", "/anything"));
    }

    #[test]
    fn ing2_wildcard_is_one_label() {
        assert!(ingress_wildcard("*.foo.com", "bar.foo.com"));
        assert!(!ingress_wildcard("*.foo.com", "baz.bar.foo.com"));
        assert!(!ingress_wildcard("*.foo.com", "foo.com"));
        assert!(!ingress_wildcard("*.foo.com", ".foo.com"));
        assert!(!ingress_wildcard("foo.com", "foo.com"));
    }

    #[test]
    fn ing2_host_header_case_and_port_are_ignored() {
        assert_eq!(normalize_host("Foo.Bar.com:8080"), "foo.bar.com");
        assert_eq!(normalize_host("foo.bar.com."), "foo.bar.com");
        assert_eq!(normalize_host("[fd00::1]:443"), "fd00::1");
        assert_eq!(normalize_host(""), "");
    }

    #[test]
    fn gw1_wildcards_match_any_number_of_labels() {
        assert_eq!(
            gw_host_match("api.foo.com", "api.foo.com"),
            Some((true, 11, 11))
        );
        assert!(gw_host_match("*.foo.com", "a.b.foo.com").is_some());
        assert!(gw_host_match("*.foo.com", "foo.com").is_none());
        assert!(gw_host_match("api.foo.com", "www.foo.com").is_none());
    }
}

mod categorisation {
    use super::super::compile::tests_support::categorize_for_test as categorize;
    use std::net::SocketAddr;

    /// The address `categorize_for_test` gives endpoint `i`.
    fn a(i: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, i], 80))
    }

    #[test]
    fn kp4_ready_first_then_terminating_fallback() {
        // (ready, serving, terminating, node, zones)
        let s = categorize(&[
            (true, true, false, "a", &["z1"]),
            (false, true, true, "b", &["z1"]),
            (false, false, false, "c", &[]),
        ]);
        assert!(s.has_any);
        assert_eq!(s.cluster, [a(0)]);
        assert!(!s.fallback);
        assert_eq!(
            s.local.get("b").map(|l| (&l.0[..], l.1)),
            Some((&[a(1)][..], true))
        );
        assert!(!s.local.contains_key("c"));
        let s = categorize(&[
            (false, true, true, "b", &[]),
            (false, false, true, "c", &[]),
        ]);
        assert!(s.fallback && s.has_any);
        assert_eq!(s.cluster, [a(0)]);
    }

    #[test]
    fn kp6_zone_hints_only_when_every_ready_endpoint_has_one() {
        let s = categorize(&[
            (true, true, false, "a", &["z1"]),
            (true, true, false, "b", &["z2"]),
        ]);
        assert_eq!(s.by_zone.get("z1").map(Vec::as_slice), Some(&[a(0)][..]));
        let s = categorize(&[
            (true, true, false, "a", &["z1"]),
            (true, true, false, "b", &[]),
        ]);
        assert!(s.by_zone.is_empty());
    }
}
