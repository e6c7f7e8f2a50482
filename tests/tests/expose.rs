//! `Cluster::expose`: the Service `kubectl expose` builds from a Pod,
//! Deployment, ReplicaSet or Service, with its flags and its errors, on
//! kubectl-made manifests (`tests/fixtures/kubectl`).
//!
//! `cargo test -p svcroute-tests --test expose`

use std::path::Path;

use serde_json::{Value, json};
use svcroute::api::{self, IntOrString, Kind, Object, Protocol, ServiceAffinity, ServiceType};
use svcroute::cluster::{Cluster, ClusterConfig, ExposeError, ExposeRequest};

fn fixture(name: &str) -> Object {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/kubectl")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    api::load(&text).unwrap().objects.remove(0).value
}

fn obj(v: Value) -> Object {
    serde_json::from_value(v).unwrap()
}

fn cluster(objects: Vec<Object>) -> Cluster {
    let mut c = Cluster::new(ClusterConfig::default()).unwrap();
    c.apply_batch(objects).unwrap();
    c
}

fn pod(name: &str, labels: Value, ports: Value) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": "default", "labels": labels},
               "spec": {"containers": [{"name": "c", "image": "nginx", "ports": ports}]}}))
}

fn err(c: &Cluster, r: ExposeRequest) -> String {
    c.expose(&r).unwrap_err().to_string()
}

// `kubectl create deployment web --image=nginx --port=80`, then
// `kubectl expose deployment web --port 80 --target-port 8080`.
#[test]
fn deployment_with_port_and_target_port() {
    let c = cluster(vec![fixture("deployment-web.yaml")]);
    let svc = c
        .expose(
            &ExposeRequest::new(Kind::Deployment, "default", "web")
                .port("80")
                .target_port("8080"),
        )
        .unwrap();
    assert_eq!(svc.metadata.name.as_deref(), Some("web"));
    assert_eq!(svc.metadata.labels["app"], "web");
    assert_eq!(svc.spec.selector.as_ref().unwrap()["app"], "web");
    assert_eq!(svc.spec.ports.len(), 1);
    let p = &svc.spec.ports[0];
    assert_eq!(
        (p.name.as_str(), p.port, p.protocol),
        ("", 80, Some(Protocol::TCP))
    );
    assert_eq!(p.target_port, Some(IntOrString::Int(8080)));
    assert_eq!(svc.spec.type_, None); // ClusterIP by defaulting, as submitted
}

// Without --port the container ports are used; the target port is the port.
#[test]
fn ports_from_introspection() {
    let c = cluster(vec![fixture("deployment-web.yaml")]);
    let svc = c
        .expose(&ExposeRequest::new(Kind::Deployment, "default", "web"))
        .unwrap();
    assert_eq!(svc.spec.ports[0].port, 80);
    assert_eq!(svc.spec.ports[0].target_port, Some(IntOrString::Int(80)));
    assert_eq!(svc.spec.ports[0].name, "");
}

// Several ports are named port-1, port-2, …; a number with two protocols
// becomes one port per protocol (port-N-tcp, port-N-udp).
#[test]
fn multiple_ports_and_protocols() {
    let c = cluster(vec![pod(
        "dns",
        json!({"app": "dns"}),
        json!([{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 53, "protocol": "TCP"},
               {"containerPort": 9153}]),
    )]);
    let svc = c
        .expose(&ExposeRequest::new(Kind::Pod, "default", "dns"))
        .unwrap();
    let ports: Vec<(&str, i32, Protocol)> = svc
        .spec
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port, p.protocol.unwrap()))
        .collect();
    assert_eq!(
        ports,
        [
            ("port-1-udp", 53, Protocol::UDP),
            ("port-1-tcp", 53, Protocol::TCP),
            ("port-2", 9153, Protocol::TCP)
        ]
    );
    // --protocol wins for every port.
    let svc = c
        .expose(&ExposeRequest::new(Kind::Pod, "default", "dns").protocol("UDP"))
        .unwrap();
    assert!(
        svc.spec
            .ports
            .iter()
            .all(|p| p.protocol == Some(Protocol::UDP))
    );
    assert_eq!(svc.spec.ports.len(), 2);
    // A single protocol from the object is used for its port.
    let svc = c
        .expose(&ExposeRequest::new(Kind::Pod, "default", "dns").port("53"))
        .unwrap();
    assert_eq!(svc.spec.ports.len(), 2);
}

// The flags: --type, --name, --selector, --external-ip, --cluster-ip,
// --session-affinity, --labels, --load-balancer-ip.
#[test]
fn flags() {
    let c = cluster(vec![fixture("deployment-web.yaml")]);
    let svc = c
        .expose(
            &ExposeRequest::new(Kind::Deployment, "default", "web")
                .type_("LoadBalancer")
                .service_name("web-lb")
                .selector("app=web,tier=front")
                .external_ip("203.0.113.9")
                .session_affinity("ClientIP")
                .labels("team=shop")
                .load_balancer_ip("198.51.100.1"),
        )
        .unwrap();
    assert_eq!(svc.metadata.name.as_deref(), Some("web-lb"));
    assert_eq!(svc.spec.type_, Some(ServiceType::LoadBalancer));
    assert_eq!(svc.spec.selector.as_ref().unwrap().len(), 2);
    assert_eq!(svc.spec.external_ips, ["203.0.113.9"]);
    assert_eq!(svc.spec.session_affinity, Some(ServiceAffinity::ClientIP));
    assert_eq!(svc.metadata.labels.len(), 1);
    assert_eq!(svc.spec.load_balancer_ip.as_deref(), Some("198.51.100.1"));
    let headless = c
        .expose(&ExposeRequest::new(Kind::Deployment, "default", "web").cluster_ip("None"))
        .unwrap();
    assert_eq!(headless.spec.cluster_ip.as_deref(), Some("None"));
    let named = c
        .expose(&ExposeRequest::new(Kind::Deployment, "default", "web").target_port("http"))
        .unwrap();
    assert_eq!(
        named.spec.ports[0].target_port,
        Some(IntOrString::String("http".into()))
    );
}

// A Service is exposed with its selector and its ports.
#[test]
fn expose_a_service() {
    let c = cluster(vec![fixture("service-loadbalancer.yaml")]);
    let svc = c
        .expose(
            &ExposeRequest::new(Kind::Service, "default", "web-lb").service_name("web-internal"),
        )
        .unwrap();
    assert_eq!(svc.spec.selector.as_ref().unwrap()["app"], "web-lb");
    let ports: Vec<(&str, i32)> = svc
        .spec
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port))
        .collect();
    assert_eq!(ports, [("port-1", 443), ("port-2", 80)]);
}

// kubectl's errors.
#[test]
fn errors() {
    let no_labels = pod("bare", json!({}), json!([{"containerPort": 80}]));
    let no_ports = pod("quiet", json!({"app": "quiet"}), json!([]));
    let exprs = obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "expr", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "x"},
                              "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
                 "template": {"metadata": {"labels": {"app": "x", "tier": "a"}},
                              "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}}}));
    let selectorless = obj(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "ext", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}}));
    let c = cluster(vec![
        no_labels,
        no_ports,
        exprs,
        selectorless,
        fixture("deployment-web.yaml"),
    ]);

    assert_eq!(
        err(&c, ExposeRequest::new(Kind::Pod, "default", "bare")),
        "couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be exposed"
    );
    assert_eq!(
        err(&c, ExposeRequest::new(Kind::Pod, "default", "quiet")),
        "couldn't find port via --port flag or introspection"
    );
    // Headless needs no port.
    assert!(
        c.expose(&ExposeRequest::new(Kind::Pod, "default", "quiet").cluster_ip("None"))
            .unwrap()
            .spec
            .ports
            .is_empty()
    );
    let e = err(&c, ExposeRequest::new(Kind::Deployment, "default", "expr"));
    assert!(
        e.starts_with("couldn't retrieve selectors via --selector flag or introspection: couldn't convert expressions"),
        "{e}"
    );
    assert_eq!(
        err(&c, ExposeRequest::new(Kind::Service, "default", "ext")),
        "couldn't retrieve selectors via --selector flag or introspection: the service has no pod selector set"
    );
    assert_eq!(
        err(&c, ExposeRequest::new(Kind::Pod, "default", "nope")),
        "pods \"nope\" not found"
    );
    assert_eq!(
        err(&c, ExposeRequest::new(Kind::Node, "", "n1")),
        "cannot expose a Node"
    );
    let web = || ExposeRequest::new(Kind::Deployment, "default", "web");
    assert_eq!(
        err(&c, web().session_affinity("Sticky")),
        "unknown session affinity: Sticky"
    );
    assert_eq!(
        err(&c, web().selector("app in (web)")),
        "unexpected label spec: app in (web)"
    );
    assert_eq!(
        err(&c, web().port("http")),
        "strconv.Atoi: parsing \"http\": invalid syntax"
    );
    let e = c.expose(&web().type_("Cluster")).unwrap_err();
    assert!(
        matches!(e, ExposeError::Invalid { ref field, .. } if field == "spec.type"),
        "{e}"
    );
    let e = c.expose(&web().protocol("tcp")).unwrap_err();
    assert!(
        matches!(e, ExposeError::Invalid { ref field, .. } if field == "spec.ports[0].protocol"),
        "{e}"
    );
    assert_eq!(e.kind(), svcroute::ErrorKind::Invalid);
}

// expose_and_apply: admission allocates; a second expose of the same name
// is refused as the API server refuses it.
#[test]
fn expose_and_apply() {
    let mut c = cluster(vec![fixture("deployment-web.yaml")]);
    let svc = c
        .expose_and_apply(&ExposeRequest::new(Kind::Deployment, "default", "web").type_("NodePort"))
        .unwrap();
    assert!(
        svc.spec
            .cluster_ip
            .as_deref()
            .is_some_and(|ip| ip.starts_with("10.96."))
    );
    assert!(svc.spec.ports[0].node_port.is_some());
    let e = c
        .expose_and_apply(&ExposeRequest::new(Kind::Deployment, "default", "web"))
        .unwrap_err();
    assert_eq!(e.to_string(), "services \"web\" already exists");
    assert_eq!(e.kind(), svcroute::ErrorKind::Conflict);
}
