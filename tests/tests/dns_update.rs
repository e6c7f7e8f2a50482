//! `Dns::update` answers exactly as a rebuilt index (`dns.md#17`: a pure
//! function of the cluster snapshot, kept current incrementally).

#[path = "dns_fixture.rs"]
mod fixture;

use svcroute::api::{Kind, Object, ObjectKey};
use svcroute::cluster::Cluster;
use svcroute::dns::{Dns, DnsConfig, PodMode, RecordType};

fn config() -> DnsConfig {
    DnsConfig {
        pods: PodMode::Verified,
        ..DnsConfig::default()
    }
}

const NAMES: &[&str] = &[
    "web", "dual", "empty", "db", "bare", "gone", "ext", "alias", "late", "moved", "backend",
];

fn snapshot(d: &Dns) -> Vec<String> {
    let mut out = Vec::new();
    let mut ask = |name: String, t: RecordType| {
        let a = d.query(&name, t).unwrap();
        let mut recs: Vec<String> = a
            .answer
            .iter()
            .chain(&a.additional)
            .map(ToString::to_string)
            .collect();
        recs.sort();
        out.push(format!("{name} {t} {} {recs:?}", a.outcome.as_str()));
    };
    for ns in ["shop", "payments", "extra"] {
        for n in NAMES {
            for t in [RecordType::A, RecordType::Aaaa, RecordType::Srv] {
                ask(format!("{n}.{ns}.svc.cluster.local."), t);
            }
        }
        ask(
            format!("10-244-1-10.{ns}.pod.cluster.local."),
            RecordType::A,
        );
        ask(format!("10-244-9-9.{ns}.pod.cluster.local."), RecordType::A);
    }
    for ip in [
        "10.96.0.20",
        "10.96.9.9",
        "10.244.1.10",
        "10.244.1.50",
        "10.244.9.9",
        "10.244.4.1",
    ] {
        let rev: Vec<&str> = ip.split('.').rev().collect();
        ask(format!("{}.in-addr.arpa.", rev.join(".")), RecordType::Ptr);
    }
    out
}

fn objects(json: &str) -> Vec<Object> {
    serde_json::from_str(json).unwrap()
}

fn key(kind: Kind, ns: Option<&str>, name: &str) -> ObjectKey {
    ObjectKey {
        kind,
        namespace: ns.map(str::to_owned),
        name: name.to_owned(),
    }
}

fn check(cluster: &Cluster, d: &Dns, step: &str) {
    let rebuilt = Dns::new(cluster, config()).unwrap();
    assert_eq!(snapshot(d), snapshot(&rebuilt), "after {step}");
}

#[test]
fn update_equals_rebuild() {
    let mut c = fixture::cluster();
    let mut d = Dns::new(&c, config()).unwrap();
    check(&c, &d, "build");

    let ch = c
        .apply_batch(objects(
            r#"[{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra"}},
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late", "namespace": "extra"},
                 "spec": {"clusterIPs": ["10.96.9.9"], "ports": [{"name": "http", "port": 80}]}},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p9", "namespace": "extra"},
                 "status": {"phase": "Running", "podIP": "10.244.9.9", "podIPs": [{"ip": "10.244.9.9"}]}},
                {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                 "metadata": {"name": "late-a", "namespace": "extra", "labels": {"kubernetes.io/service-name": "late"}},
                 "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.9.9"]}], "ports": [{"name": "http", "port": 8080}]}]"#,
        ))
        .unwrap();
    d.update(&c, &ch);
    check(&c, &d, "create");

    // A slice changes owner: from `late` to `moved` (a service that does not exist yet).
    let ch = c
        .apply(
            objects(
                r#"[{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                 "metadata": {"name": "late-a", "namespace": "extra", "labels": {"kubernetes.io/service-name": "moved"}},
                 "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.9.9"], "hostname": "h"}], "ports": []}]"#,
            )
            .remove(0),
        )
        .unwrap();
    d.update(&c, &ch);
    check(&c, &d, "relabel");

    let ch = c
        .apply(
            objects(
                r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "moved", "namespace": "extra"},
                 "spec": {"clusterIPs": ["None"]}}]"#,
            )
            .remove(0),
        )
        .unwrap();
    d.update(&c, &ch);
    check(&c, &d, "service for the orphan slice");

    // Web becomes dual-stack with a new address; a pod moves.
    let ch = c
        .apply_batch(objects(
            r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                 "spec": {"clusterIPs": ["10.96.0.30", "fd00::30"], "ports": [{"name": "http", "port": 80}]}},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
                 "status": {"phase": "Running", "podIP": "10.244.1.99", "podIPs": [{"ip": "10.244.1.99"}]}}]"#,
        ))
        .unwrap();
    d.update(&c, &ch);
    check(&c, &d, "service and pod updates");

    let ch = c
        .delete_batch(&[
            key(Kind::EndpointSlice, Some("shop"), "db-a"),
            key(Kind::Service, Some("shop"), "alias"),
            key(Kind::Pod, Some("extra"), "p9"),
            key(Kind::Service, Some("extra"), "late"),
        ])
        .unwrap();
    d.update(&c, &ch);
    check(&c, &d, "deletes");

    let ch = c.delete(&key(Kind::Namespace, None, "payments")).unwrap();
    d.update(&c, &ch);
    check(&c, &d, "namespace delete");
}

/// A pod of a headless Service (`dns.md` section 4: one A per ready
/// endpoint, the hostname when `subdomain` names the Service).
fn db_pod(k: usize, ip: &str, ready: bool, hostname: bool) -> Object {
    let mut spec = serde_json::json!({
        "nodeName": "n1",
        "containers": [{"name": "c", "ports": [{"name": "pg", "containerPort": 5432}]}],
    });
    if hostname {
        spec["hostname"] = serde_json::json!(format!("db-{k}"));
        spec["subdomain"] = serde_json::json!("db");
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("db-{k}"), "namespace": "shop", "labels": {"app": "db"}},
        "spec": spec,
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
        },
    }))
    .unwrap()
}

fn db_snapshot(d: &Dns, ips: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut ask = |name: String, t: RecordType| {
        let a = d.query(&name, t).unwrap();
        let recs: Vec<String> = a
            .answer
            .iter()
            .chain(&a.additional)
            .map(ToString::to_string)
            .collect();
        out.push(format!("{name} {t} {} {recs:?}", a.outcome.as_str()));
    };
    ask("db.shop.svc.cluster.local.".into(), RecordType::A);
    ask("db.shop.svc.cluster.local.".into(), RecordType::Srv);
    ask(
        "_pg._tcp.db.shop.svc.cluster.local.".into(),
        RecordType::Srv,
    );
    for k in 0..12 {
        ask(format!("db-{k}.db.shop.svc.cluster.local."), RecordType::A);
    }
    for ip in ips {
        let rev: Vec<&str> = ip.split('.').rev().collect();
        ask(format!("{}.in-addr.arpa.", rev.join(".")), RecordType::Ptr);
        ask(
            format!("{}.db.shop.svc.cluster.local.", ip.replace('.', "-")),
            RecordType::A,
        );
    }
    out
}

/// Pod changes behind a headless Service spread over several slices are
/// patched slice by slice (`Dns::update`); after every step the index
/// answers exactly as one built from scratch, records in the same order.
#[test]
fn patched_headless_slices_equal_a_rebuild() {
    let cluster_config = svcroute::cluster::ClusterConfig {
        max_endpoints_per_slice: 3,
        ..svcroute::cluster::ClusterConfig::default()
    };
    let mut c = Cluster::new(cluster_config).unwrap();
    let mut objs = objects(
        r#"[{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
             "spec": {"clusterIP": "None", "selector": {"app": "db"},
                      "ports": [{"name": "pg", "port": 5432, "targetPort": "pg"}]}}]"#,
    );
    let ip = |k: usize, net: usize| format!("10.244.{net}.{}", 10 + k);
    for k in 0..10 {
        objs.push(db_pod(k, &ip(k, 1), true, k % 2 == 0));
    }
    c.apply_batch(objs).unwrap();
    let mut d = Dns::new(&c, config()).unwrap();
    let mut ips: Vec<String> = (0..12).flat_map(|k| [ip(k, 1), ip(k, 2)]).collect();
    ips.sort();
    let check = |c: &Cluster, d: &Dns, step: &str| {
        let rebuilt = Dns::new(c, config()).unwrap();
        assert_eq!(
            db_snapshot(d, &ips),
            db_snapshot(&rebuilt, &ips),
            "after {step}"
        );
    };
    check(&c, &d, "build");
    let steps: Vec<(&str, Vec<Object>)> = vec![
        ("one pod not ready", vec![db_pod(4, &ip(4, 1), false, true)]),
        ("ready again", vec![db_pod(4, &ip(4, 1), true, true)]),
        ("a new address", vec![db_pod(5, &ip(5, 2), true, false)]),
        ("a hostname given", vec![db_pod(7, &ip(7, 1), true, true)]),
        ("a hostname taken", vec![db_pod(0, &ip(0, 1), true, false)]),
        (
            "two pods in two slices",
            vec![
                db_pod(1, &ip(1, 1), false, false),
                db_pod(8, &ip(8, 2), true, true),
            ],
        ),
        (
            "two pods share an address",
            vec![db_pod(9, &ip(8, 2), true, false)],
        ),
        ("a new pod", vec![db_pod(10, &ip(10, 1), true, true)]),
        (
            "all of one slice down",
            (0..3).map(|k| db_pod(k, &ip(k, 1), false, false)).collect(),
        ),
        (
            "and up",
            (0..3).map(|k| db_pod(k, &ip(k, 1), true, k == 1)).collect(),
        ),
    ];
    for (step, pods) in steps {
        let ch = c.apply_batch(pods).unwrap();
        d.update(&c, &ch);
        check(&c, &d, step);
    }
    for (step, k) in [("a pod deleted", 3), ("another", 10)] {
        let ch = c
            .delete(&key(Kind::Pod, Some("shop"), &format!("db-{k}")))
            .unwrap();
        d.update(&c, &ch);
        check(&c, &d, step);
    }
}
