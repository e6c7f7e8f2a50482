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
