//! Ingress (ING-1 … ING-7) and HTTPRoute (GW-1) matching.

mod route_common;

use route_common::*;
use serde_json::json;
use svcroute::cluster::ProxyMode;
use svcroute::dataplane::{
    Dataplane, Decision, Destination, GatewayRequest, IngressRequest, Outcome,
};

fn objects(ingresses: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let mut o = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}),
        node("node-a", "zone-a", "192.168.0.10", "10.244.0.0/24"),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
               "spec": {"controller": "k8s.io/ingress-nginx"}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "other"}, "spec": {"controller": "example.com/other"}}),
    ];
    for (i, app) in ["a", "b", "c", "empty"].iter().enumerate() {
        if *app != "empty" {
            o.push(pod(
                "web",
                &format!("p-{app}"),
                app,
                "node-a",
                &format!("10.244.0.{}", 100 + i),
                true,
            ));
        }
        o.push(service(
            "web",
            &format!("svc-{app}"),
            app,
            &format!("10.96.1.{}", 10 + i),
            json!({}),
        ));
    }
    o.extend(ingresses);
    o
}

fn ingress(name: &str, class: Option<&str>, spec: serde_json::Value) -> serde_json::Value {
    let mut spec = spec;
    if let Some(c) = class {
        spec["ingressClassName"] = json!(c);
    }
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": name, "namespace": "web"}, "spec": spec})
}

fn path(p: &str, t: &str, svc: &str) -> serde_json::Value {
    json!({"path": p, "pathType": t, "backend": {"service": {"name": svc, "port": {"number": 80}}}})
}

fn ask(dp: &Dataplane, host: &str, p: &str) -> Decision {
    ask_as(dp, "k8s.io/ingress-nginx", "http", host, p)
}

fn ask_as(dp: &Dataplane, controller: &str, scheme: &str, host: &str, p: &str) -> Decision {
    route(
        dp,
        svcroute::dataplane::Source::External {
            ip: "198.51.100.7".parse().unwrap(),
            arrives_at: None,
        },
        Destination::Ingress(IngressRequest {
            controller: controller.into(),
            scheme: scheme.into(),
            host: host.into(),
            path: p.into(),
        }),
    )
}

fn rules() -> serde_json::Value {
    json!({"rules": [
        {"host": "foo.bar.com", "http": {"paths": [
            path("/foo", "Prefix", "svc-a"), path("/foo", "Exact", "svc-b"), path("/foo/bar", "Prefix", "svc-c")]}},
        {"host": "*.wild.com", "http": {"paths": [path("/", "Prefix", "svc-a")]}},
        {"http": {"paths": [path("/", "Prefix", "svc-b")]}}
    ]})
}

#[test]
fn ing1_class_selects_the_controller_and_the_default_class_applies() {
    let dp = compile(
        objects(vec![ingress("i", None, rules())]),
        ProxyMode::Iptables,
    );
    assert_eq!(ask(&dp, "foo.bar.com", "/foo").outcome, Outcome::Forward);
    let d = ask_as(&dp, "example.com/other", "http", "foo.bar.com", "/foo");
    assert_eq!(d.http.map(|h| h.status), Some(404));
}

#[test]
fn ing2_hosts_precise_wildcard_hostless() {
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), rules())]),
        ProxyMode::Iptables,
    );
    let d = ask(&dp, "x.wild.com", "/");
    assert_eq!(d.ingress_match.unwrap().host.as_deref(), Some("*.wild.com"));
    // Exactly one extra label: deeper names fall to the host-less rule.
    let d = ask(&dp, "a.b.wild.com", "/");
    assert_eq!(d.ingress_match.unwrap().host, None);
    // Case and port are ignored.
    let d = ask(&dp, "FOO.bar.com:8080", "/foo/x");
    assert_eq!(
        d.ingress_match.unwrap().host.as_deref(),
        Some("foo.bar.com")
    );
}

#[test]
fn ing3_ing4_exact_beats_prefix_and_longest_prefix_wins() {
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), rules())]),
        ProxyMode::Iptables,
    );
    let m = ask(&dp, "foo.bar.com", "/foo").ingress_match.unwrap();
    assert_eq!(
        (m.path_type.as_deref(), m.service.as_str()),
        (Some("Exact"), "web/svc-b")
    );
    let m = ask(&dp, "foo.bar.com", "/foo/bar/baz")
        .ingress_match
        .unwrap();
    assert_eq!(m.service, "web/svc-c");
    let m = ask(&dp, "foo.bar.com", "/foo/x?q=1").ingress_match.unwrap();
    assert_eq!(m.service, "web/svc-a");
    // `/foobar` is not under `/foo`.
    let d = ask(&dp, "foo.bar.com", "/foobar");
    assert_eq!((d.outcome, d.ingress_match), (Outcome::Http, None));
}

#[test]
fn ing5_default_backend_and_404() {
    let spec = json!({"defaultBackend": {"service": {"name": "svc-c", "port": {"number": 80}}},
                      "rules": [{"host": "foo.bar.com", "http": {"paths": [path("/a", "Exact", "svc-a")]}}]});
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), spec)]),
        ProxyMode::Iptables,
    );
    let m = ask(&dp, "foo.bar.com", "/b").ingress_match.unwrap();
    assert!(m.default_backend);
    assert_eq!(m.service, "web/svc-c");
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), json!({"rules": []}))]),
        ProxyMode::Iptables,
    );
    assert_eq!(ask(&dp, "any", "/").http.map(|h| h.status), Some(404));
}

#[test]
fn ing6_backend_without_ready_endpoints_is_503() {
    let spec = json!({"rules": [{"http": {"paths": [path("/", "Prefix", "svc-empty"), path("/missing", "Prefix", "nope")]}}]});
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), spec)]),
        ProxyMode::Iptables,
    );
    assert_eq!(ask(&dp, "x", "/").http.map(|h| h.status), Some(503));
    assert_eq!(ask(&dp, "x", "/missing").http.map(|h| h.status), Some(503));
}

#[test]
fn ing7_tls_terminates_without_changing_the_route() {
    let mut spec = rules();
    spec["tls"] = json!([{"hosts": ["foo.bar.com"], "secretName": "s"}]);
    let dp = compile(
        objects(vec![ingress("i", Some("nginx"), spec)]),
        ProxyMode::Iptables,
    );
    let d = ask_as(&dp, "k8s.io/ingress-nginx", "https", "foo.bar.com", "/foo");
    assert_eq!(d.tls.unwrap().secret_name.as_deref(), Some("s"));
    assert_eq!(d.ingress_match.unwrap().service, "web/svc-b");
}

#[test]
fn gw1_precise_hostname_then_oldest_route() {
    let mut o = objects(vec![]);
    o.push(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                  "metadata": {"name": "gw", "namespace": "web"},
                  "spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}),
    );
    for (name, ts, hosts, svc) in [
        (
            "r-wild",
            "2024-01-01T00:00:00Z",
            json!(["*.foo.com"]),
            "svc-a",
        ),
        (
            "r-api",
            "2024-06-01T00:00:00Z",
            json!(["api.foo.com"]),
            "svc-b",
        ),
        ("r-new", "2024-07-01T00:00:00Z", json!([]), "svc-c"),
        ("r-old", "2024-02-01T00:00:00Z", json!([]), "svc-a"),
    ] {
        o.push(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                      "metadata": {"name": name, "namespace": "web", "creationTimestamp": ts},
                      "spec": {"parentRefs": [{"name": "gw"}], "hostnames": hosts,
                               "rules": [{"backendRefs": [{"name": svc, "port": 80}]}]}}),
        );
    }
    let dp = compile(o, ProxyMode::Iptables);
    let ask = |host: &str| {
        route(
            &dp,
            svcroute::dataplane::Source::External {
                ip: "198.51.100.7".parse().unwrap(),
                arrives_at: None,
            },
            Destination::HttpRoute(GatewayRequest {
                gateway: "web/gw".into(),
                host: host.into(),
                path: "/".into(),
                ..Default::default()
            }),
        )
        .route_match
        .map(|m| m.http_route)
    };
    assert_eq!(ask("api.foo.com").as_deref(), Some("web/r-api"));
    assert_eq!(ask("a.b.foo.com").as_deref(), Some("web/r-wild"));
    assert_eq!(ask("other.example").as_deref(), Some("web/r-old"));
}

#[test]
fn gw1_the_most_specific_listener_takes_the_request() {
    let mut o = objects(vec![]);
    o.push(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                  "metadata": {"name": "gw", "namespace": "web"},
                  "spec": {"listeners": [
                      {"name": "any", "port": 80, "protocol": "HTTP"},
                      {"name": "wild", "port": 80, "protocol": "HTTP", "hostname": "*.foo.com"},
                      {"name": "exact", "port": 80, "protocol": "HTTP", "hostname": "api.foo.com"}]}}));
    for (name, section, svc) in [
        ("r-any", "any", "svc-a"),
        ("r-wild", "wild", "svc-b"),
        ("r-exact", "exact", "svc-c"),
    ] {
        o.push(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                      "metadata": {"name": name, "namespace": "web"},
                      "spec": {"parentRefs": [{"name": "gw", "sectionName": section}],
                               "rules": [{"backendRefs": [{"name": svc, "port": 80}]}]}}),
        );
    }
    let dp = compile(o, ProxyMode::Iptables);
    let ask = |host: &str| {
        route(
            &dp,
            svcroute::dataplane::Source::External {
                ip: "198.51.100.7".parse().unwrap(),
                arrives_at: None,
            },
            Destination::HttpRoute(GatewayRequest {
                gateway: "web/gw".into(),
                host: host.into(),
                path: "/".into(),
                ..Default::default()
            }),
        )
        .route_match
        .map(|m| m.http_route)
    };
    assert_eq!(ask("api.foo.com").as_deref(), Some("web/r-exact"));
    assert_eq!(ask("www.foo.com").as_deref(), Some("web/r-wild"));
    assert_eq!(ask("example.org").as_deref(), Some("web/r-any"));
}

#[test]
fn gw1_allowed_routes_namespaces_same_all_and_selector() {
    let mut o = objects(vec![]);
    o[0] = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "labels": {"gw": "yes"}}});
    o.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "infra"}}));
    o.push(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                  "metadata": {"name": "gw", "namespace": "infra"},
                  "spec": {"listeners": [
                      {"name": "same", "port": 80, "protocol": "HTTP", "hostname": "same.example"},
                      {"name": "sel", "port": 80, "protocol": "HTTP", "hostname": "sel.example",
                       "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"gw": "yes"}}}}}]}}));
    o.push(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                  "metadata": {"name": "r", "namespace": "web"},
                  "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                           "rules": [{"backendRefs": [{"name": "svc-a", "port": 80}]}]}}),
    );
    let dp = compile(o, ProxyMode::Iptables);
    let ask = |host: &str| {
        route(
            &dp,
            svcroute::dataplane::Source::External {
                ip: "198.51.100.7".parse().unwrap(),
                arrives_at: None,
            },
            Destination::HttpRoute(GatewayRequest {
                gateway: "infra/gw".into(),
                host: host.into(),
                path: "/".into(),
                ..Default::default()
            }),
        )
    };
    // A route of namespace web may attach only through the Selector listener.
    assert_eq!(
        ask("sel.example")
            .route_match
            .map(|m| m.http_route)
            .as_deref(),
        Some("web/r")
    );
    let d = ask("same.example");
    assert_eq!((d.route_match, d.http.map(|h| h.status)), (None, Some(404)));
}

/// `ingress_pick`, the trace-free hot path, answers as `route` does (ING-1
/// … ING-6): the same status, or an endpoint of the same eligible set.
#[test]
fn ingress_pick_agrees_with_route() {
    use svcroute::dataplane::{HttpPick, RouteState};
    let mut with_default = rules();
    with_default["defaultBackend"] = json!({"service": {"name": "svc-c", "port": {"number": 80}}});
    let empty = json!({"rules": [{"host": "empty.com", "http": {"paths": [path("/", "Prefix", "svc-empty")]}},
                                  {"host": "gone.com", "http": {"paths": [path("/", "Prefix", "svc-gone")]}}]});
    for objs in [
        objects(vec![ingress("i", Some("nginx"), rules())]),
        objects(vec![
            ingress("i", Some("nginx"), with_default),
            ingress("j", None, empty),
        ]),
    ] {
        let dp = compile(objs, ProxyMode::Iptables);
        let mut st = RouteState::new(3);
        for controller in ["k8s.io/ingress-nginx", "example.com/other", "nobody"] {
            for host in [
                "foo.bar.com",
                "FOO.bar.com:80",
                "x.wild.com",
                "a.b.wild.com",
                "other.org",
                "empty.com",
                "gone.com",
                "[::1]:8080",
                "",
            ] {
                for p in ["/", "/foo", "/foo/", "/foo/bar/x", "/foox", "/x?q=1", ""] {
                    let d = ask_as(&dp, controller, "http", host, p);
                    let r = IngressRequest {
                        controller: controller.into(),
                        scheme: "http".into(),
                        host: host.into(),
                        path: p.into(),
                    };
                    match dp.ingress_pick(&r, &mut st) {
                        HttpPick::Endpoint(e) => {
                            assert_eq!(d.outcome, Outcome::Forward, "{controller} {host} {p}");
                            assert!(d.endpoints.contains(&e), "{controller} {host} {p}");
                        }
                        HttpPick::Status(s) => {
                            assert_eq!(
                                d.http.map(|h| h.status),
                                Some(s),
                                "{controller} {host} {p}"
                            );
                        }
                    }
                }
            }
        }
    }
}
