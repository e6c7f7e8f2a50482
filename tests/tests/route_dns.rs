//! DNS-name destinations go through the cluster DNS (`svcroute::dns`), kept
//! up to date by `Dataplane::patch` (rule KP-2).

mod route_common;

use route_common::*;
use serde_json::json;
use svcroute::api::Object;
use svcroute::cluster::ProxyMode;
use svcroute::dataplane::{Dataplane, Destination, Outcome};

fn dns(name: &str) -> Destination {
    Destination::Dns {
        name: name.into(),
        port: 80,
        family: None,
    }
}

#[test]
fn kp2_names_follow_patches() {
    let mut objects = base();
    objects.push(pod("shop", "api-1", "api", "node-b", "10.244.1.40", true));
    let mut c = cluster(objects);
    let mut dp = Dataplane::compile(&c, ProxyMode::Nftables);
    let d = route(&dp, from_pod("shop/client-a"), dns("api"));
    assert_eq!(d.outcome, Outcome::NoSuchService);
    // glibc tried every search domain, then the name as written.
    assert!(
        d.trace
            .iter()
            .any(|h| h.detail.contains("api.shop.svc.cluster.local.")),
        "{:?}",
        d.trace
    );

    let svc: Object =
        serde_json::from_value(service("shop", "api", "api", "10.96.0.40", json!({}))).unwrap();
    let changes = c.apply(svc).unwrap();
    dp.patch(&c, &changes);
    let d = route(&dp, from_pod("shop/client-a"), dns("api"));
    assert_eq!(d.outcome, Outcome::Forward);
    assert_eq!(d.service.as_deref(), Some("shop/api"));
    assert_eq!(d.chosen, Some("10.244.1.40:8080".parse().unwrap()));

    let changes = c
        .delete(&svcroute::api::ObjectKey {
            kind: svcroute::api::Kind::Service,
            namespace: Some("shop".into()),
            name: "api".into(),
        })
        .unwrap();
    dp.patch(&c, &changes);
    assert_eq!(
        route(&dp, from_pod("shop/client-a"), dns("api")).outcome,
        Outcome::NoSuchService
    );
}

#[test]
fn kp2_other_namespaces_need_their_name_and_nodes_ask_as_written() {
    let mut objects = base();
    objects.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}));
    objects.push(pod("ops", "mon-1", "mon", "node-b", "10.244.1.41", true));
    objects.push(service("ops", "mon", "mon", "10.96.0.41", json!({})));
    let dp = Dataplane::compile(&cluster(objects), ProxyMode::Iptables);
    assert_eq!(
        route(&dp, from_pod("shop/client-a"), dns("mon")).outcome,
        Outcome::NoSuchService
    );
    let d = route(&dp, from_pod("shop/client-a"), dns("mon.ops"));
    assert_eq!(d.outcome, Outcome::Forward);
    assert_eq!(d.service.as_deref(), Some("ops/mon"));
    // A node's resolver has no cluster search path.
    let node = svcroute::dataplane::Source::Node("node-a".into());
    assert_eq!(
        route(&dp, node.clone(), dns("mon.ops")).outcome,
        Outcome::NoSuchService
    );
    assert_eq!(
        route(&dp, node, dns("mon.ops.svc.cluster.local")).outcome,
        Outcome::Forward
    );
}

#[test]
fn kp1_headless_answers_are_dialled_directly() {
    let mut objects = base();
    objects.push(pod("shop", "db-0", "db", "node-b", "10.244.1.42", true));
    objects.push(pod("shop", "db-1", "db", "node-c", "10.244.2.42", false));
    objects.push(service(
        "shop",
        "db",
        "db",
        "None",
        json!({"clusterIP": "None", "clusterIPs": ["None"]}),
    ));
    let dp = Dataplane::compile(&cluster(objects), ProxyMode::Ipvs);
    let d = route(&dp, from_pod("shop/client-a"), dns("db"));
    assert_eq!(d.outcome, Outcome::Direct);
    // Only the ready endpoint is published (EP-3 readiness in DNS).
    assert_eq!(
        d.dns_answers,
        ["10.244.1.42".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(d.chosen, Some("10.244.1.42:80".parse().unwrap()));
}

/// A client pod of `shop` on node-a with this `dnsPolicy`, `dnsConfig`
/// and `hostNetwork`.
fn dns_client(
    name: &str,
    policy: Option<&str>,
    config: serde_json::Value,
    host: bool,
) -> serde_json::Value {
    let ip = if host {
        "192.168.0.10".to_owned()
    } else {
        format!("10.244.0.{}", 60 + name.len())
    };
    let mut p = pod("shop", name, "client", "node-a", &ip, true);
    if let Some(policy) = policy {
        p["spec"]["dnsPolicy"] = json!(policy);
    }
    if !config.is_null() {
        p["spec"]["dnsConfig"] = config;
    }
    p["spec"]["hostNetwork"] = json!(host);
    p
}

#[test]
fn kp2_the_search_path_follows_dns_policy_and_dns_config() {
    // dns.md section 12.
    let mut objects = base();
    objects.push(pod("shop", "web-1", "web", "node-b", "10.244.1.12", true));
    objects.push(service("shop", "web", "web", "10.96.0.20", json!({})));
    objects.push(dns_client("plain", None, json!(null), false));
    objects.push(dns_client(
        "ndots1",
        None,
        json!({"options": [{"name": "ndots", "value": "1"}]}),
        false,
    ));
    objects.push(dns_client(
        "none",
        Some("None"),
        json!({"nameservers": ["10.96.0.10"]}),
        false,
    ));
    objects.push(dns_client(
        "none-search",
        Some("None"),
        json!({"nameservers": ["10.96.0.10"], "searches": ["shop.svc.cluster.local"]}),
        false,
    ));
    objects.push(dns_client("default", Some("Default"), json!(null), false));
    objects.push(dns_client(
        "hostnet",
        Some("ClusterFirst"),
        json!(null),
        true,
    ));
    objects.push(dns_client(
        "hostnet-cf",
        Some("ClusterFirstWithHostNet"),
        json!(null),
        true,
    ));
    let dp = Dataplane::compile(&cluster(objects), ProxyMode::Iptables);
    let ask = |who: &str, name: &str| route(&dp, from_pod(&format!("shop/{who}")), dns(name));

    // ClusterFirst: the cluster search list, ndots 5.
    assert_eq!(ask("plain", "web").outcome, Outcome::Forward);
    let d = ask("plain", "web.shop");
    assert_eq!(d.outcome, Outcome::Forward);
    assert!(
        !d.trace
            .iter()
            .any(|h| h.detail.contains("tried web.shop. ")),
        "{:?}",
        d.trace
    );
    // ndots 1: a name with a dot is asked as typed first, then searched.
    let d = ask("ndots1", "web.shop");
    assert_eq!(d.outcome, Outcome::Forward);
    assert!(
        d.trace
            .iter()
            .any(|h| h.detail.contains("tried web.shop. NXDOMAIN")),
        "{:?}",
        d.trace
    );
    // None: only dnsConfig's searches.
    assert_eq!(ask("none", "web").outcome, Outcome::NoSuchService);
    assert_eq!(
        ask("none", "web.shop.svc.cluster.local").outcome,
        Outcome::Forward
    );
    assert_eq!(ask("none-search", "web").outcome, Outcome::Forward);
    // Default, and ClusterFirst on the host network: no cluster search list.
    assert_eq!(ask("default", "web").outcome, Outcome::NoSuchService);
    assert_eq!(ask("hostnet", "web").outcome, Outcome::NoSuchService);
    assert_eq!(ask("hostnet-cf", "web").outcome, Outcome::Forward);
    // Default asks the node's nameservers: not even a fully qualified
    // cluster name resolves there.
    for who in ["default", "hostnet"] {
        let d = ask(who, "web.shop.svc.cluster.local");
        assert_eq!(d.outcome, Outcome::NoSuchService, "{who}");
        assert!(
            d.trace
                .iter()
                .any(|h| h.detail.contains("node's nameservers")),
            "{:?}",
            d.trace
        );
    }
}

#[test]
fn kp2_dns_policy_none_resolves_only_through_a_cluster_dns_nameserver() {
    // dns.md section 12: None uses only dnsConfig; its first nameserver
    // answers (glibc moves on only when a server fails). The cluster DNS
    // listens on its Service's cluster IP (here kube-system/kube-dns at
    // 10.96.0.53, so the installers' 10.96.0.10 is nobody).
    let mut objects = base();
    objects.push(pod("shop", "web-1", "web", "node-b", "10.244.1.12", true));
    objects.push(service("shop", "web", "web", "10.96.0.20", json!({})));
    objects.push(service(
        "kube-system",
        "kube-dns",
        "coredns",
        "10.96.0.53",
        json!({}),
    ));
    let searches = json!(["shop.svc.cluster.local"]);
    for (who, ns) in [
        ("own-dns", "10.96.0.53"),
        ("conv", "10.96.0.10"),
        ("public", "8.8.8.8"),
        ("fallback", "8.8.8.8"),
    ] {
        // `fallback` lists the cluster DNS second: never asked on NXDOMAIN.
        let servers = if who == "fallback" {
            json!([ns, "10.96.0.53"])
        } else {
            json!([ns])
        };
        objects.push(dns_client(
            who,
            Some("None"),
            json!({"nameservers": servers, "searches": searches}),
            false,
        ));
    }
    objects.push(dns_client(
        "default-with-dns",
        Some("Default"),
        json!({"nameservers": ["10.96.0.53"], "searches": searches}),
        false,
    ));
    let dp = Dataplane::compile(&cluster(objects), ProxyMode::Nftables);
    let ask = |who: &str, name: &str| route(&dp, from_pod(&format!("shop/{who}")), dns(name));

    assert_eq!(ask("own-dns", "web").outcome, Outcome::Forward);
    let d = ask("own-dns", "web.shop.svc.cluster.local");
    assert_eq!(d.outcome, Outcome::Forward);
    assert_eq!(d.service.as_deref(), Some("shop/web"));
    for who in ["conv", "public", "fallback", "default-with-dns"] {
        for name in ["web", "web.shop.svc.cluster.local"] {
            let d = ask(who, name);
            assert_eq!(d.outcome, Outcome::NoSuchService, "{who} {name}");
            assert_eq!(d.chosen, None);
        }
    }
    let d = ask("public", "web");
    assert!(
        d.trace
            .iter()
            .any(|h| h.detail.contains("8.8.8.8 is not the cluster DNS")),
        "{:?}",
        d.trace
    );
}
