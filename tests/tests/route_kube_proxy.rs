//! kube-proxy's decisions, one test per rule of `services.md` section 3.

mod route_common;

use route_common::*;
use serde_json::json;
use svcroute::cluster::ProxyMode;
use svcroute::dataplane::{
    Destination, Masquerade, Outcome, PacketFate, Protocol, Render, RouteState,
};

const MODES: [ProxyMode; 3] = [ProxyMode::Iptables, ProxyMode::Nftables, ProxyMode::Ipvs];

fn web(extra: serde_json::Value) -> Vec<serde_json::Value> {
    let mut o = base();
    o.push(pod("shop", "web-1", "web", "node-a", "10.244.0.11", true));
    o.push(pod("shop", "web-2", "web", "node-b", "10.244.1.12", true));
    o.push(pod("shop", "web-3", "web", "node-c", "10.244.2.13", false));
    o.push(service("shop", "web", "web", "10.96.0.20", extra));
    o
}

#[test]
fn kp4_only_ready_endpoints_are_eligible() {
    for mode in MODES {
        let dp = compile(web(json!({})), mode);
        let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
        assert_eq!(d.outcome, Outcome::Forward);
        assert_eq!(eps(&d), ["10.244.0.11:8080", "10.244.1.12:8080"]);
        assert_eq!(d.masquerade, Some(Masquerade::No));
        assert!(d.endpoints.contains(&d.chosen.unwrap()));
    }
}

#[test]
fn kp2_dns_short_names_use_the_pod_search_path() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    for name in [
        "web",
        "web.shop",
        "web.shop.svc",
        "web.shop.svc.cluster.local",
        "web.shop.svc.cluster.local.",
    ] {
        let d = route(
            &dp,
            from_pod("shop/client-a"),
            Destination::Dns {
                name: name.into(),
                port: 80,
                family: None,
            },
        );
        assert_eq!(d.outcome, Outcome::Forward, "{name}");
        assert_eq!(
            d.dns_answers,
            ["10.96.0.20".parse::<std::net::IpAddr>().unwrap()]
        );
    }
    let d = route(
        &dp,
        from_pod("shop/client-a"),
        Destination::Dns {
            name: "nope".into(),
            port: 80,
            family: None,
        },
    );
    assert_eq!(d.outcome, Outcome::NoSuchService);
}

#[test]
fn kp12_no_usable_endpoint_rejects_in_every_mode() {
    for mode in MODES {
        let mut o = base();
        o.push(pod("shop", "web-1", "web", "node-a", "10.244.0.11", false));
        o.push(service("shop", "web", "web", "10.96.0.20", json!({})));
        let dp = compile(o, mode);
        let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
        assert_eq!(
            (d.outcome, d.packet_fate),
            (Outcome::Reject, Some(PacketFate::Reject))
        );
    }
}

#[test]
fn kp13_unknown_port_and_unallocated_address_per_mode() {
    for (mode, fate, unallocated) in [
        (
            ProxyMode::Iptables,
            PacketFate::Unhandled,
            Outcome::NoSuchService,
        ),
        (ProxyMode::Nftables, PacketFate::Reject, Outcome::Drop),
        (ProxyMode::Ipvs, PacketFate::Reject, Outcome::NoSuchService),
    ] {
        let dp = compile(web(json!({})), mode);
        let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:443"));
        assert_eq!(
            (d.outcome, d.packet_fate),
            (Outcome::PortNotExposed, Some(fate))
        );
        let d = route(&dp, from_pod("shop/client-a"), to("10.96.9.9:80"));
        assert_eq!(d.outcome, unallocated, "{mode:?}");
    }
}

#[test]
fn kp3_protocol_is_part_of_the_match() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    let d = route_at(
        &dp,
        &mut RouteState::new(0),
        from_pod("shop/client-a"),
        to("10.96.0.20:80"),
        Protocol::Udp,
        0,
    );
    assert_eq!(d.outcome, Outcome::PortNotExposed);
}

#[test]
fn kp7_internal_traffic_policy_local_drops_without_local_endpoint() {
    let dp = compile(
        web(json!({"internalTrafficPolicy": "Local"})),
        ProxyMode::Iptables,
    );
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    assert_eq!(eps(&d), ["10.244.0.11:8080"]);
    let d = route(&dp, from_pod("shop/client-c"), to("10.96.0.20:80"));
    assert_eq!(
        (d.outcome, d.packet_fate),
        (Outcome::Drop, Some(PacketFate::Drop))
    );
    // KP-12: IPVS leaves the virtual server of a ClusterIP-only Service empty.
    let dp = compile(
        web(json!({"internalTrafficPolicy": "Local"})),
        ProxyMode::Ipvs,
    );
    let d = route(&dp, from_pod("shop/client-c"), to("10.96.0.20:80"));
    assert_eq!(d.outcome, Outcome::Reject);
}

fn lb_local() -> Vec<serde_json::Value> {
    let mut o = web(
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                           "healthCheckNodePort": 32100,
                           "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}),
    );
    if let Some(svc) = o.last_mut() {
        svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
    }
    o
}

#[test]
fn kp8_external_traffic_policy_local_keeps_the_client_ip_or_drops() {
    for mode in [ProxyMode::Iptables, ProxyMode::Nftables] {
        let dp = compile(lb_local(), mode);
        let d = route(
            &dp,
            external("198.51.100.7", "node-a"),
            to("203.0.113.10:80"),
        );
        assert_eq!(eps(&d), ["10.244.0.11:8080"]);
        assert_eq!(d.masquerade, Some(Masquerade::No));
        let d = route(
            &dp,
            external("198.51.100.7", "node-c"),
            to("192.168.0.12:30080"),
        );
        assert_eq!(
            (d.outcome, d.packet_fate),
            (Outcome::Drop, Some(PacketFate::Drop))
        );
    }
}

#[test]
fn kp9_pods_and_the_node_are_short_circuited_ipvs_falls_back() {
    let dp = compile(lb_local(), ProxyMode::Iptables);
    let d = route(&dp, from_pod("shop/client-c"), to("203.0.113.10:80"));
    assert_eq!(eps(&d), ["10.244.0.11:8080", "10.244.1.12:8080"]);
    assert_eq!(d.masquerade, Some(Masquerade::No));
    let d = route(
        &dp,
        svcroute::dataplane::Source::Node("node-c".into()),
        to("192.168.0.12:30080"),
    );
    assert_eq!(eps(&d).len(), 2);
    assert_eq!(d.masquerade, Some(Masquerade::Yes));
    let dp = compile(lb_local(), ProxyMode::Ipvs);
    let d = route(
        &dp,
        external("198.51.100.7", "node-c"),
        to("192.168.0.12:30080"),
    );
    assert_eq!(d.outcome, Outcome::Forward);
    assert_eq!(eps(&d).len(), 2);
}

#[test]
fn kp10_health_check_node_port_counts_local_ready_endpoints() {
    for mode in MODES {
        let dp = compile(lb_local(), mode);
        let d = route_at(
            &dp,
            &mut RouteState::new(0),
            external("198.51.100.7", "node-a"),
            to("192.168.0.10:32100"),
            Protocol::Http,
            0,
        );
        let http = d.http.expect("http answer");
        assert_eq!(http.status, 200);
        let body: serde_json::Value = serde_json::from_str(&http.body).unwrap();
        assert_eq!(body["localEndpoints"], 1);
        assert_eq!(body["service"]["name"], "web");
        let d = route(
            &dp,
            external("198.51.100.7", "node-c"),
            to("192.168.0.12:32100"),
        );
        assert_eq!(d.http.map(|h| h.status), Some(503));
    }
}

#[test]
fn kp11_terminating_endpoints_only_when_nothing_is_ready() {
    let mut o = base();
    o.push(terminating(pod(
        "shop",
        "web-1",
        "web",
        "node-a",
        "10.244.0.11",
        true,
    )));
    o.push(pod("shop", "web-2", "web", "node-b", "10.244.1.12", false));
    o.push(service("shop", "web", "web", "10.96.0.20", json!({})));
    let dp = compile(o, ProxyMode::Nftables);
    let d = route(&dp, from_pod("shop/client-c"), to("10.96.0.20:80"));
    assert_eq!(eps(&d), ["10.244.0.11:8080"]);
}

#[test]
fn kp14_source_ranges_filter_only_the_lb_vip() {
    let mut o = web(
        json!({"type": "LoadBalancer", "loadBalancerSourceRanges": ["198.51.100.0/24"],
                           "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30090}]}),
    );
    if let Some(svc) = o.last_mut() {
        svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.20"}]}});
    }
    for mode in MODES {
        let dp = compile(o.clone(), mode);
        let d = route(
            &dp,
            external("203.0.113.99", "node-a"),
            to("203.0.113.20:80"),
        );
        assert_eq!(d.outcome, Outcome::Drop);
        let d = route(
            &dp,
            external("198.51.100.1", "node-a"),
            to("203.0.113.20:80"),
        );
        assert_eq!(d.outcome, Outcome::Forward);
        let d = route(
            &dp,
            external("203.0.113.99", "node-a"),
            to("192.168.0.10:30090"),
        );
        assert_eq!(d.outcome, Outcome::Forward);
    }
}

#[test]
fn kp15_localhost_node_ports_only_in_iptables() {
    let o = web(json!({"type": "NodePort",
                       "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30081}]}));
    for (mode, outcome) in [
        (ProxyMode::Iptables, Outcome::Forward),
        (ProxyMode::Nftables, Outcome::NotCaptured),
        (ProxyMode::Ipvs, Outcome::NotCaptured),
    ] {
        let dp = compile(o.clone(), mode);
        let d = route(
            &dp,
            svcroute::dataplane::Source::Node("node-a".into()),
            to("127.0.0.1:30081"),
        );
        assert_eq!(d.outcome, outcome, "{mode:?}");
    }
}

#[test]
fn kp16_to_kp18_rendering() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    assert_eq!(
        d.render,
        Some(Render::Iptables {
            endpoint_order: vec!["10.244.0.11:8080".into(), "10.244.1.12:8080".into()],
            probabilities: vec![Some("0.5000000000".into()), None],
        })
    );
    let dp = compile(web(json!({})), ProxyMode::Ipvs);
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    assert!(matches!(d.render, Some(Render::Ipvs { ref scheduler, .. }) if scheduler == "rr"));
}

#[test]
fn kp19_affinity_sticks_until_the_timeout_and_is_scoped_per_mode() {
    let extra = json!({"type": "NodePort", "sessionAffinity": "ClientIP",
                       "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
                       "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30083}]});
    for mode in MODES {
        let dp = compile(web(extra.clone()), mode);
        let mut st = RouteState::new(3);
        let first = route_at(
            &dp,
            &mut st,
            from_pod("shop/client-a"),
            to("10.96.0.20:80"),
            Protocol::Tcp,
            0,
        )
        .chosen;
        for t in [10, 60, 119] {
            let again = route_at(
                &dp,
                &mut st,
                from_pod("shop/client-a"),
                to("10.96.0.20:80"),
                Protocol::Tcp,
                t,
            )
            .chosen;
            assert_eq!(again, first, "{mode:?} at {t}s");
        }
    }
    // iptables/nftables share the memory between ClusterIP and NodePort; IPVS does not.
    let dp = compile(web(extra), ProxyMode::Iptables);
    let mut st = RouteState::new(3);
    let a = route_at(
        &dp,
        &mut st,
        from_pod("shop/client-a"),
        to("10.96.0.20:80"),
        Protocol::Tcp,
        0,
    )
    .chosen;
    for _ in 0..5 {
        let b = route_at(
            &dp,
            &mut st,
            from_pod("shop/client-a"),
            to("192.168.0.10:30083"),
            Protocol::Tcp,
            1,
        )
        .chosen;
        assert_eq!(a, b);
    }
}

#[test]
fn kp20_hairpin_is_if_self_and_host_sources_are_masqueraded() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    let d = route(&dp, from_pod("shop/web-1"), to("10.96.0.20:80"));
    assert_eq!(d.masquerade, Some(Masquerade::IfSelf));
    let d = route(
        &dp,
        svcroute::dataplane::Source::Node("node-a".into()),
        to("10.96.0.20:80"),
    );
    assert_eq!(d.masquerade, Some(Masquerade::Yes));
}

#[test]
fn kp6_zone_hints_narrow_the_cluster_set() {
    let dp = compile(
        web(json!({"trafficDistribution": "PreferClose"})),
        ProxyMode::Nftables,
    );
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    assert_eq!(eps(&d), ["10.244.0.11:8080", "10.244.1.12:8080"]);
    // zone-b has no hinted endpoint: no filtering.
    let d = route(&dp, from_pod("shop/client-c"), to("10.96.0.20:80"));
    assert_eq!(eps(&d).len(), 2);
}

#[test]
fn kp1_headless_is_direct_and_external_name_is_a_cname() {
    let mut o = web(json!({}));
    o.push(service("shop", "peers", "web", "None", json!({})));
    o.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
                  "spec": {"type": "ExternalName", "externalName": "example.com"}}));
    let dp = compile(o, ProxyMode::Iptables);
    let d = route(
        &dp,
        from_pod("shop/client-a"),
        Destination::Dns {
            name: "peers".into(),
            port: 5432,
            family: None,
        },
    );
    assert_eq!(d.outcome, Outcome::Direct);
    assert_eq!(eps(&d), ["10.244.0.11:5432", "10.244.1.12:5432"]);
    let d = route(
        &dp,
        from_pod("shop/client-a"),
        Destination::Dns {
            name: "ext".into(),
            port: 443,
            family: None,
        },
    );
    assert_eq!(
        (d.outcome, d.cname.as_deref()),
        (Outcome::Cname, Some("example.com"))
    );
}

#[test]
fn every_decision_has_a_trace() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    assert!(d.trace.iter().any(|h| h.rule == Some("KP-3")));
    assert!(
        d.trace
            .iter()
            .any(|h| h.detail.contains("10.244.2.13:8080 excluded: not ready"))
    );
}

#[test]
fn unknown_sources_are_errors_not_panics() {
    let dp = compile(web(json!({})), ProxyMode::Iptables);
    let r = dp.route(
        &svcroute::dataplane::Request {
            source: from_pod("shop/ghost"),
            destination: to("10.96.0.20:80"),
            protocol: Protocol::Tcp,
        },
        &mut RouteState::new(0),
        svcroute::dataplane::Millis(0),
    );
    assert_eq!(r.unwrap_err().kind(), svcroute::ErrorKind::NotFound);
}

#[test]
fn pick_is_the_allocation_free_route_for_cluster_ips() {
    use svcroute::dataplane::{Millis, Pick};
    for extra in [
        json!({}),
        json!({"internalTrafficPolicy": "Local"}),
        json!({"sessionAffinity": "ClientIP"}),
    ] {
        for mode in MODES {
            let dp = compile(web(extra.clone()), mode);
            for (client, node, ip) in [
                ("shop/client-a", "node-a", "10.244.0.50"),
                ("shop/client-c", "node-c", "10.244.2.50"),
            ] {
                let d = route(&dp, from_pod(client), to("10.96.0.20:80"));
                let p = dp.pick(
                    ip.parse().unwrap(),
                    node,
                    "10.96.0.20:80".parse().unwrap(),
                    Protocol::Tcp,
                    &mut RouteState::new(1),
                    Millis(0),
                );
                match p {
                    Pick::Endpoint(e) => assert!(d.endpoints.contains(&e), "{mode:?} {client}"),
                    Pick::Drop => assert_eq!(d.outcome, Outcome::Drop),
                    Pick::Reject => assert_eq!(d.outcome, Outcome::Reject),
                    Pick::NotClusterIp => panic!("10.96.0.20 is a cluster IP"),
                }
            }
        }
    }
}

#[test]
fn trace_names_the_rule_that_excluded_each_endpoint() {
    let dp = compile(
        web(json!({"internalTrafficPolicy": "Local"})),
        ProxyMode::Iptables,
    );
    let d = route(&dp, from_pod("shop/client-a"), to("10.96.0.20:80"));
    let hop = d
        .trace
        .iter()
        .find(|h| h.detail.starts_with("10.244.1.12:8080 excluded"))
        .expect("an exclusion hop");
    assert_eq!(hop.rule, Some("KP-7"));
    let dp = compile(
        web(json!({"trafficDistribution": "PreferClose"})),
        ProxyMode::Iptables,
    );
    let d = route(&dp, from_pod("shop/client-c"), to("10.96.0.20:80"));
    assert!(
        d.trace.iter().all(|h| h.rule != Some("KP-6")),
        "zone-b has no hinted endpoint"
    );
}

#[test]
fn d16_an_lb_without_arrival_node_uses_a_node_that_passes_its_health_check() {
    let mut o = base();
    o.push(pod("shop", "web-2", "web", "node-b", "10.244.1.12", true));
    let mut svc = service(
        "shop",
        "web",
        "web",
        "10.96.0.20",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 32100,
               "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}),
    );
    svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
    o.push(svc);
    let dp = compile(o, ProxyMode::Iptables);
    // node-a (first by name) would drop it; node-b passes the health check (KP-10).
    let d = route(
        &dp,
        svcroute::dataplane::Source::External {
            ip: "198.51.100.7".parse().unwrap(),
            arrives_at: None,
        },
        to("203.0.113.10:80"),
    );
    assert_eq!(d.outcome, Outcome::Forward);
    assert_eq!(eps(&d), ["10.244.1.12:8080"]);
}

#[test]
fn kp15_nodeport_addresses_restrict_where_node_ports_listen() {
    use svcroute::api::Object;
    use svcroute::cluster::{Cluster, ClusterConfig, ProxyConfig};
    let mut c = Cluster::new(ClusterConfig {
        bootstrap: false,
        proxy: ProxyConfig {
            node_port_addresses: Some(vec!["192.168.0.10/32".parse().unwrap()]),
            ..ProxyConfig::default()
        },
        ..Default::default()
    })
    .unwrap();
    let o = web(json!({"type": "NodePort",
                       "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30081}]}));
    c.apply_batch(
        o.into_iter()
            .map(|v| serde_json::from_value::<Object>(v).unwrap())
            .collect(),
    )
    .unwrap();
    let dp = svcroute::dataplane::Dataplane::compile(&c, ProxyMode::Iptables);
    let d = route(
        &dp,
        external("198.51.100.7", "node-a"),
        to("192.168.0.10:30081"),
    );
    assert_eq!(d.outcome, Outcome::Forward);
    let d = route(
        &dp,
        external("198.51.100.7", "node-b"),
        to("192.168.0.11:30081"),
    );
    assert_eq!(d.outcome, Outcome::NoSuchService);
    // 127.0.0.1 is outside the CIDRs: no localhost NodePorts either.
    let d = route(
        &dp,
        svcroute::dataplane::Source::Node("node-a".into()),
        to("127.0.0.1:30081"),
    );
    assert_eq!(d.outcome, Outcome::NotCaptured);
}
