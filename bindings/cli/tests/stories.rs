//! The classic tutorial stories as command transcripts, on manifests made
//! by the real kubectl (`tests/fixtures/make.sh`: `kubectl create …
//! --dry-run=client -o yaml`; the pods are the ones a cluster's controllers
//! would run for the kubectl-made Deployments).

mod common;

use common::{fixture, pod_named, run_ok};

fn with(files: &[&str], args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for f in files {
        v.push("-f".into());
        v.push(fixture(f));
    }
    v.extend(args.iter().map(|s| (*s).to_owned()));
    v
}

fn run(files: &[&str], args: &[&str], code: i32) -> String {
    let v = with(files, args);
    let refs: Vec<&str> = v.iter().map(String::as_str).collect();
    run_ok(&refs, code)
}

const CLUSTERIP: [&str; 3] = [
    "nodes.yaml",
    "clusterip-services.yaml",
    "clusterip-pods.yaml",
];

// Story 1: a frontend and a backend Service over ClusterIP. The backend's
// three pods are its endpoints (EP-1, EP-4); the frontend pod reaches the
// backend by its short name (KP-2) and kube-proxy DNATs to one of them
// (KP-3, KP-4).
#[test]
fn frontend_and_backend_over_cluster_ip() {
    let text = run(&CLUSTERIP, &["get", "services"], 0);
    assert_eq!(
        text,
        "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\n\
         backend      ClusterIP   10.96.0.10   <none>        80/TCP    <unknown>\n\
         frontend     ClusterIP   10.96.0.11   <none>        80/TCP    <unknown>\n\
         kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   <unknown>\n"
    );
    let text = run(&CLUSTERIP, &["get", "endpointslices"], 0);
    assert!(
        text.contains("IPv4          8080    10.244.1.10,10.244.2.10,10.244.3.10   <unknown>"),
        "{text}"
    );
    // `get endpoints`: the v1 Endpoints objects the Endpoints controller
    // writes for every selector Service, with kubectl's ENDPOINTS column
    // (a core without that controller lists none: "No resources found").
    let text = run(&CLUSTERIP, &["get", "endpoints"], 0);
    if !text.is_empty() {
        let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAME", "ENDPOINTS", "AGE"], "{text}");
        let backend: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with("backend "))
            .expect("a backend row")
            .split_whitespace()
            .collect();
        assert_eq!(
            backend,
            [
                "backend",
                "10.244.1.10:8080,10.244.2.10:8080,10.244.3.10:8080",
                "<unknown>"
            ]
        );
    }

    let frontend = pod_named("clusterip-pods.yaml", "frontend-");
    let from = format!("pod/{frontend}");
    let text = run(
        &CLUSTERIP,
        &[
            "route",
            "--from",
            &from,
            "--to",
            "backend:80",
            "--seed",
            "7",
        ],
        0,
    );
    assert_eq!(
        text,
        format!(
            "{from} -> backend:80 (iptables)\n\
             Result:       forward\n\
             Service:      default/backend\n\
             DNS answers:  10.96.0.10\n\
             Endpoints:    10.244.1.10:8080, 10.244.2.10:8080, 10.244.3.10:8080\n\
             Chosen:       10.244.3.10:8080\n\
             Masquerade:   no (the backend sees the client's address)\n\
             iptables:     10.244.1.10:8080 (--probability 0.3333333333), \
             10.244.2.10:8080 (--probability 0.5000000000), 10.244.3.10:8080\n\
             Trace:\n  \
             1. [KP-2] backend → backend.default.svc.cluster.local.\n  \
             2. [KP-3] 10.96.0.10 is the cluster IP of default/backend; port 80/TCP is Service port \"80-8080\" (IPv4)\n  \
             3. [KP-4] cluster endpoints: every ready endpoint (no usable hints)\n  \
             4. picked 10.244.3.10:8080\n"
        )
    );
    // iptables picks uniformly at random: about a third each.
    let text = run(
        &CLUSTERIP,
        &[
            "simulate",
            "--from",
            &from,
            "--to",
            "backend:80",
            "--requests",
            "3000",
        ],
        0,
    );
    let shares: Vec<u32> = text
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(shares.len(), 3, "{text}");
    assert!(shares.iter().all(|n| (850..1150).contains(n)), "{text}");

    let text = run(&CLUSTERIP, &["describe", "service", "backend"], 0);
    assert_eq!(
        text,
        "Name:                     backend\n\
         Namespace:                default\n\
         Labels:                   app=backend\n\
         Annotations:              <none>\n\
         Selector:                 app=backend\n\
         Type:                     ClusterIP\n\
         IP Family Policy:         SingleStack\n\
         IP Families:              IPv4\n\
         IP:                       10.96.0.10\n\
         IPs:                      10.96.0.10\n\
         Port:                     80-8080  80/TCP\n\
         TargetPort:               8080/TCP\n\
         Endpoints:                10.244.1.10:8080,10.244.2.10:8080,10.244.3.10:8080\n\
         Session Affinity:         None\n\
         Internal Traffic Policy:  Cluster\n\
         Events:                   <none>\n"
    );
}

const NODEPORT: [&str; 3] = ["nodes.yaml", "nodeport-services.yaml", "nodeport-pods.yaml"];

// Story 2: a NodePort on port 31000 answers on every node (KP-3), and
// traffic from outside is masqueraded under externalTrafficPolicy Cluster
// (KP-20).
#[test]
fn node_port_31000_through_every_node() {
    let text = run(&NODEPORT, &["get", "svc", "web"], 0);
    assert!(
        text.contains("web    NodePort   10.96.0.20   <none>        80:31000/TCP"),
        "{text}"
    );
    let text = run(&NODEPORT, &["urls", "service", "web"], 0);
    let node_lines: Vec<&str> = text.lines().filter(|l| l.contains(":31000")).collect();
    assert_eq!(
        node_lines,
        [
            "  192.168.49.11:31000                port 80-8080, node node-1",
            "  192.168.49.12:31000                port 80-8080, node node-2",
            "  192.168.49.13:31000                port 80-8080, node node-3",
        ],
        "{text}"
    );
    for ip in ["192.168.49.11", "192.168.49.12", "192.168.49.13"] {
        let to = format!("{ip}:31000");
        let json = run(
            &NODEPORT,
            &["route", "--from", "203.0.113.7", "--to", &to, "-o", "json"],
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["result"], "forward", "{json}");
        assert_eq!(v["masquerade"], true, "{json}");
        assert_eq!(
            v["endpoints"],
            serde_json::json!(["10.244.1.10:8080", "10.244.2.10:8080"])
        );
        assert_eq!(v["trace"][0]["rule"], "KP-3");
    }
    // Not a node port: nothing on the node answers.
    let json = run(
        &NODEPORT,
        &[
            "route",
            "--from",
            "203.0.113.7",
            "--to",
            "192.168.49.11:31001",
            "-o",
            "json",
        ],
        1,
    );
    assert!(json.contains("\"result\""), "{json}");
}

// Story 3: an ExternalName Service is a DNS alias (KP-1): a CNAME to the
// outside API, no cluster IP, no proxying.
#[test]
fn external_name_to_an_outside_api() {
    let files = ["nodes.yaml", "externalname-services.yaml"];
    let text = run(&files, &["get", "svc", "weather"], 0);
    assert_eq!(
        text,
        "NAME      TYPE           CLUSTER-IP   EXTERNAL-IP           PORT(S)   AGE\n\
         weather   ExternalName   <none>       api.weather.example   <none>    <unknown>\n"
    );
    let text = run(&files, &["dns", "weather"], 0);
    assert!(
        text.contains(
            ";; ANSWER SECTION:\nweather.default.svc.cluster.local. 5 IN CNAME api.weather.example.\n"
        ),
        "{text}"
    );
    let json = run(
        &files,
        &[
            "route",
            "--from",
            "pod/any",
            "--to",
            "weather:443",
            "-o",
            "json",
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["result"], "cname");
    assert_eq!(v["cname"], "api.weather.example");
    let text = run(&files, &["urls", "service", "weather"], 0);
    assert!(
        text.contains("  weather                             CNAME api.weather.example\n"),
        "{text}"
    );
    assert!(!text.contains("From outside"), "{text}");
}

const INGRESS: [&str; 4] = [
    "nodes.yaml",
    "ingressclass.yaml",
    "ingress-services.yaml",
    "ingress-pods.yaml",
];

// Story 4: three hosts through one Ingress: the controller picks the rule
// by host (ING-2) and path (ING-3/4) and sends the request straight to the
// backend Service's ready endpoints (ING-6); an unknown host gets the
// controller's 404 (ING-5).
#[test]
fn three_hosts_through_one_ingress() {
    let text = run(&INGRESS, &["get", "ingress"], 0);
    assert_eq!(
        text,
        "NAME   CLASS   HOSTS                                 ADDRESS   PORTS   AGE\n\
         shop   nginx   foo.example,bar.example,baz.example             80      <unknown>\n"
    );
    for (host, ip) in [
        ("foo.example", "10.244.1.10:8080"),
        ("bar.example", "10.244.2.10:8080"),
        ("baz.example", "10.244.3.10:8080"),
    ] {
        let to = format!("http://{host}/cart");
        let json = run(
            &INGRESS,
            &["route", "--from", "203.0.113.7", "--to", &to, "-o", "json"],
            0,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["result"], "forward", "{json}");
        assert_eq!(v["chosen"], ip, "{json}");
        assert_eq!(v["ingressMatch"]["host"], host, "{json}");
    }
    let json = run(
        &INGRESS,
        &[
            "route",
            "--from",
            "203.0.113.7",
            "--to",
            "http://qux.example/",
            "-o",
            "json",
        ],
        1,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["httpStatus"], 404, "{json}");

    let text = run(&INGRESS, &["describe", "ingress", "shop"], 0);
    assert_eq!(
        text,
        "Name:             shop\n\
         Labels:           <none>\n\
         Namespace:        default\n\
         Address:          \n\
         Ingress Class:    nginx\n\
         Default backend:  <default>\n\
         Rules:\n  \
         Host         Path  Backends\n  \
         ----         ----  --------\n  \
         foo.example  \n               \
         /   foo:80 (10.244.1.10:8080)\n  \
         bar.example  \n               \
         /   bar:80 (10.244.2.10:8080)\n  \
         baz.example  \n               \
         /   baz:80 (10.244.3.10:8080)\n\
         Annotations:   <none>\n\
         Events:        <none>\n"
    );
    let text = run(&INGRESS, &["urls", "service", "bar"], 0);
    assert!(
        text.contains("  http://bar.example/                Ingress default/shop, Prefix /\n"),
        "{text}"
    );
}

// The kubectl-made Deployments themselves, with kubectl's columns.
#[test]
fn deployments_from_kubectl_list_with_wide_columns() {
    let text = run(
        &["nodes.yaml", "clusterip-deployments.yaml"],
        &["get", "deploy", "-o", "wide"],
        0,
    );
    let header = text.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert!(text.contains("registry.example/backend:1.0"), "{text}");
    assert!(text.contains("app=backend"), "{text}");
}
