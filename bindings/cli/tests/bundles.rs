//! Application bundles at the command line (issue 14, "Doors"): the three
//! demo-shaped bundles of `tests/fixtures/bundles`, each with the nodes of
//! a kubeadm cluster and with no nodes at all, run through the binary.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::Value;

const BUNDLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/bundles");

fn bundle(name: &str) -> String {
    format!("{BUNDLES}/{name}")
}

const APPS: [&str; 3] = [
    "shop-microservices.yaml",
    "versioned-app.yaml",
    "statefulset-headless.yaml",
];

/// The two ways each bundle is run: with the kubeadm node dump, and alone.
fn node_sets() -> [Vec<String>; 2] {
    [vec![bundle("nodes-kubeadm.yaml")], vec![]]
}

fn args<'a>(files: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for f in files {
        out.extend(["-f", f.as_str()]);
    }
    out.extend_from_slice(rest);
    out
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn labels(o: &Value) -> BTreeMap<String, String> {
    o["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn name(o: &Value) -> String {
    o["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// Issue 14 "Done when": every Service is backed by the pods a real cluster
// gives it (EP-1: the pods its selector matches, ready, with an IP), on the
// nodes the scheduler would choose: never the tainted control plane,
// spread evenly over the workers.
#[test]
fn every_service_is_backed_by_the_pods_a_cluster_would_give_it() {
    for app in APPS {
        for nodes in node_sets() {
            let mut files = nodes.clone();
            files.push(bundle(app));
            let pods = json(&run_ok(
                &args(&files, &["get", "pods", "-A", "-o", "json"]),
                0,
            ));
            let pods = items(&pods);
            assert!(!pods.is_empty(), "{app}: no pods generated");
            let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
            for p in &pods {
                assert_eq!(p["status"]["phase"], "Running", "{app}: {}", name(p));
                let node = p["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if nodes.is_empty() {
                    assert!(node.starts_with("node-"), "{app}: {node}");
                } else {
                    assert!(
                        node.starts_with("worker-"),
                        "{app}: {node} (the control plane is tainted)"
                    );
                }
                *per_node.entry(node).or_default() += 1;
            }
            let (min, max) = (
                per_node.values().min().unwrap(),
                per_node.values().max().unwrap(),
            );
            assert!(max - min <= 1, "{app}: uneven spread {per_node:?}");

            let services = json(&run_ok(
                &args(&files, &["get", "svc", "-A", "-o", "json"]),
                0,
            ));
            let endpoints = json(&run_ok(
                &args(&files, &["get", "endpoints", "-A", "-o", "json"]),
                0,
            ));
            let endpoints = items(&endpoints);
            for svc in items(&services) {
                let Some(selector) = svc["spec"]["selector"].as_object() else {
                    continue;
                };
                let want: BTreeSet<String> = pods
                    .iter()
                    .filter(|p| {
                        let l = labels(p);
                        selector
                            .iter()
                            .all(|(k, v)| l.get(k).map(String::as_str) == v.as_str())
                    })
                    .map(name)
                    .collect();
                let ep = endpoints
                    .iter()
                    .find(|e| name(e) == name(&svc))
                    .unwrap_or_else(|| panic!("{app}: no Endpoints for {}", name(&svc)));
                let got: BTreeSet<String> = ep["subsets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
                    .map(|a| {
                        a["targetRef"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect();
                assert!(!want.is_empty(), "{app}: {} selects no pod", name(&svc));
                assert_eq!(got, want, "{app}: {}", name(&svc));
            }
        }
    }
}

// The summary line and the default nodes are said on stderr.
#[test]
fn loading_says_what_it_read_generated_and_skipped() {
    let out = svcroute(&["get", "pods", "-f", &bundle("shop-microservices.yaml")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "no nodes in the input: using 3 default nodes in zones zone-a, zone-b, zone-c \
         (node-1 … node-3; --nodes N to change)\n\
         read 24 objects (12 Deployments, 12 Services); generated 12 ReplicaSets and 12 Pods; \
         skipped 12 objects of kinds svcroute does not model (ServiceAccount ×12)\n"
    );
}

// A Service whose port differs from its targetPort gets the pods' port (EP-1).
#[test]
fn the_service_port_and_the_target_port_differ() {
    let files = [
        bundle("nodes-kubeadm.yaml"),
        bundle("shop-microservices.yaml"),
    ];
    let text = run_ok(&args(&files, &["get", "svc,endpoints", "mailer"]), 0);
    assert!(text.contains("5000/TCP"), "{text}");
    assert!(text.contains(":8080"), "{text}");
}

// One Service over three Deployments (v1, v2, v3): about a third each.
#[test]
fn the_versioned_app_splits_about_a_third_each() {
    for nodes in node_sets() {
        let mut files = nodes.clone();
        files.push(bundle("versioned-app.yaml"));
        let pods = json(&run_ok(&args(&files, &["get", "pods", "-o", "json"]), 0));
        let pods = items(&pods);
        let version_of: BTreeMap<String, String> = pods
            .iter()
            .map(|p| {
                (
                    p["status"]["podIP"].as_str().unwrap_or_default().to_owned(),
                    labels(p)["version"].clone(),
                )
            })
            .collect();
        let from = format!("pod/{}", name(&pods[0]));
        let sim = json(&run_ok(
            &args(
                &files,
                &[
                    "simulate",
                    "--from",
                    &from,
                    "--to",
                    "critic:9080",
                    "--requests",
                    "3000",
                    "-o",
                    "json",
                ],
            ),
            0,
        ));
        let mut per_version: BTreeMap<String, u64> = BTreeMap::new();
        for e in sim["endpoints"].as_array().unwrap() {
            let ep = e["endpoint"].as_str().unwrap();
            let ip = ep.rsplit_once(':').unwrap().0;
            *per_version.entry(version_of[ip].clone()).or_default() +=
                e["requests"].as_u64().unwrap();
        }
        assert_eq!(per_version.len(), 3, "{per_version:?}");
        for (v, n) in &per_version {
            assert!((850..=1150).contains(n), "{v}: {n} of 3000");
        }
    }
}

// A StatefulSet behind a headless Service: per-pod names answer with the
// pod's IP (hostname and subdomain, DNS spec 2.4.1).
#[test]
fn statefulset_pods_have_their_own_dns_names() {
    for nodes in node_sets() {
        let mut files = nodes.clone();
        files.push(bundle("statefulset-headless.yaml"));
        let pods = json(&run_ok(&args(&files, &["get", "pods", "-o", "json"]), 0));
        for p in items(&pods) {
            let pod = name(&p);
            let ip = p["status"]["podIP"].as_str().unwrap().to_owned();
            let query = format!("{pod}.nginx");
            let answer = json(&run_ok(&args(&files, &["dns", &query, "-o", "json"]), 0));
            assert_eq!(
                answer["answer"][0],
                format!("{pod}.nginx.default.svc.cluster.local. 5 IN A {ip}")
            );
        }
    }
}

// A pod that fits no node stays Pending, and `explain` gives the
// scheduler's reason; exit 1 (no endpoints, D5).
#[test]
fn explain_shows_why_a_pod_is_not_scheduled() {
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db}\nspec:\n  \
               selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    \
               spec:\n      nodeSelector: {disktype: ssd}\n      containers: [{name: db, image: db}]\n\
               ---\napiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  selector: {app: db}\n  \
               ports: [{port: 5432}]\n";
    let nodes = bundle("nodes-kubeadm.yaml");
    let out = svcroute_with_stdin(
        &["explain", "service", "db", "-f", &nodes, "-f", "-"],
        app.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Pending"), "{text}");
    assert!(text.contains("0/4 nodes are available"), "{text}");
    assert!(stderr(&out).contains("(1 Pending)"), "{}", stderr(&out));
}

// --not-ready and --terminating act after loading (EP-3): the endpoint
// leaves the ready set, and a terminating ReplicaSet pod is replaced.
#[test]
fn pod_states_from_the_command_line() {
    let files = [bundle("nodes-kubeadm.yaml"), bundle("versioned-app.yaml")];
    let pods = json(&run_ok(&args(&files, &["get", "pods", "-o", "json"]), 0));
    let pods = items(&pods);
    let (a, b) = (name(&pods[0]), name(&pods[2]));
    let not_ready = format!("pod/{a}");
    let text = run_ok(
        &args(
            &files,
            &[
                "explain",
                "service",
                "critic",
                "--not-ready",
                &not_ready,
                "--terminating",
                &b,
            ],
        ),
        0,
    );
    assert!(text.contains(&format!("{a}  ")), "{text}");
    assert!(text.contains("not ready"), "{text}");
    assert!(text.contains("terminating"), "{text}");
    assert!(text.contains("Ready endpoints: 5"), "{text}");

    let out = svcroute(&args(&files, &["get", "pods", "--not-ready", "pod/nope"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--not-ready: pods \"nope\" not found"),
        "{}",
        stderr(&out)
    );
}

// D15: -n gives objects without a namespace that namespace, workloads and
// the pods they make included; a namespace a real API server does not
// have is a warning, not an error.
#[test]
fn dash_n_places_workloads_and_their_pods() {
    let files = [bundle("nodes-kubeadm.yaml"), bundle("versioned-app.yaml")];
    let out = svcroute(&args(&files, &["get", "pods", "-n", "team", "-o", "name"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("warning: namespace \"team\" not found: a real API server would refuse the 4 objects in it"),
        "{}",
        stderr(&out)
    );
    let text = run_ok(
        &args(&files, &["get", "endpoints", "critic", "-n", "team"]),
        0,
    );
    assert!(text.contains("+ 3 more..."), "{text}");
}

// A dump of the generated cluster read back is not doubled: the pods it
// holds are the ReplicaSets' own.
#[test]
fn a_dump_with_its_pods_is_not_doubled() {
    let files = [bundle("nodes-kubeadm.yaml"), bundle("versioned-app.yaml")];
    let dump = run_ok(
        &args(&files, &["get", "nodes,deploy,rs,pods,svc", "-o", "json"]),
        0,
    );
    let out = svcroute_with_stdin(&["get", "pods", "-o", "name", "-f", "-"], dump.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
    assert!(!stderr(&out).contains("generated"), "{}", stderr(&out));
}

fn shop() -> [String; 2] {
    [
        bundle("nodes-kubeadm.yaml"),
        bundle("shop-microservices.yaml"),
    ]
}

// No load-balancer controller: EXTERNAL-IP <pending>, and an outside
// client has no address to go to (exit 1, D5).
#[test]
fn a_load_balancer_without_a_controller_stays_pending() {
    let files = shop();
    let text = run_ok(&args(&files, &["get", "svc", "storefront-external"]), 0);
    assert!(text.contains("LoadBalancer"), "{text}");
    assert!(text.contains("<pending>"), "{text}");
    let text = run_ok(
        &args(
            &files,
            &[
                "route",
                "--from",
                "203.0.113.9",
                "--to",
                "storefront-external:80",
            ],
        ),
        1,
    );
    assert!(text.contains("no load-balancer address"), "{text}");
}

// --lb-pool: the next free address of the pool, routed as a VIP (KP-3).
#[test]
fn an_address_pool_gives_a_vip() {
    let files = shop();
    let pool = ["--lb-pool", "192.0.2.0/28"];
    let mut a = args(&files, &["get", "svc", "storefront-external"]);
    a.extend(pool);
    let text = run_ok(&a, 0);
    assert!(text.contains("192.0.2.0 "), "{text}");
    for to in ["storefront-external:80", "192.0.2.0:80"] {
        let mut a = args(&files, &["route", "--from", "203.0.113.9", "--to", to]);
        a.extend(pool);
        let text = run_ok(&a, 0);
        assert!(text.contains("Result:       forward"), "{text}");
        assert!(
            text.contains("[KP-3] 192.0.2.0 is the load-balancer IP"),
            "{text}"
        );
    }
}

// --cloud aws: an ELB hostname; the trace goes load balancer -> node:NodePort
// -> endpoint, never through the control plane (its exclusion label); under
// externalTrafficPolicy Local only the nodes with a local endpoint pass the
// health check; the scheme annotation shows.
#[test]
fn aws_gives_an_elb_hostname_reached_on_the_node_ports() {
    let files = shop();
    let cloud = ["--cloud", "aws", "--region", "eu-west-1"];
    let mut a = args(&files, &["get", "svc", "storefront-external", "-o", "json"]);
    a.extend(cloud);
    let svc = json(&run_ok(&a, 0));
    let host = svc["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(host.ends_with(".eu-west-1.elb.amazonaws.com"), "{host}");
    let to = format!("{host}:80");
    let mut a = args(&files, &["route", "--from", "203.0.113.9", "--to", &to]);
    a.extend(cloud);
    let text = run_ok(&a, 0);
    assert!(text.contains("scheme internet-facing"), "{text}");
    assert!(text.contains("target cp-1 left out"), "{text}");
    assert!(
        text.contains("one of 3 healthy target(s): worker-1, worker-2, worker-3"),
        "{text}"
    );
    assert!(
        text.contains("[KP-3]") && text.contains("is NodePort of default/storefront-external"),
        "{text}"
    );
    assert!(text.contains("Result:       forward"), "{text}");

    let local = "apiVersion: v1\nkind: Service\nmetadata:\n  name: front-local\n  annotations:\n    \
                 service.beta.kubernetes.io/aws-load-balancer-scheme: internal\nspec:\n  type: LoadBalancer\n  \
                 externalTrafficPolicy: Local\n  selector: {app: storefront}\n  ports: [{port: 80, targetPort: 8080}]\n";
    let files = [files[0].clone(), files[1].clone(), "-".to_owned()];
    let mut a = args(
        &files,
        &["route", "--from", "10.0.0.9", "--to", "front-local:80"],
    );
    a.extend(cloud);
    let out = svcroute_with_stdin(&a, local.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("internal-a"), "{text}");
    assert!(text.contains("scheme internal"), "{text}");
    assert!(text.contains("one of 1 healthy target(s)"), "{text}");
    assert!(text.contains("fails the health check"), "{text}");

    // An internal load balancer refuses a client outside the VPC (not a
    // private address): outcome reject, exit 1 (D5).
    let mut a = args(
        &files,
        &["route", "--from", "203.0.113.9", "--to", "front-local:80"],
    );
    a.extend(cloud);
    let out = svcroute_with_stdin(&a, local.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("outside the VPC"), "{text}");
    assert!(text.contains("Result:       reject"), "{text}");
}

// --cloud aws and Ingresses of class alb: the IngressClass as the AWS Load
// Balancer Controller installs it, an ALB hostname per Ingress, and the
// way in: instance targets (the backend's NodePort on a node) or ip
// targets (the pods), after the rule that matches (ING-4).
#[test]
fn alb_ingresses_get_hostnames_and_target_types() {
    let files = [
        bundle("nodes-kubeadm.yaml"),
        bundle("shop-microservices.yaml"),
        fixture("alb-ingresses.yaml"),
    ];
    let cloud = ["--cloud", "aws"];
    let mut a = args(&files, &["get", "ingress", "shop", "-o", "json"]);
    a.extend(cloud);
    let out = svcroute(&a);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("no IngressClass \"alb\" in the input: added it"));
    let ing = json(&stdout(&out));
    let host = ing["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        host.starts_with("k8s-default-shop-") && host.ends_with(".us-east-1.elb.amazonaws.com"),
        "{host}"
    );

    let to = format!("http://{host}/cart");
    let mut a = args(&files, &["route", "--from", "203.0.113.9", "--to", &to]);
    a.extend(cloud);
    let text = run_ok(&a, 0);
    assert!(
        text.contains("scheme internet-facing, target type instance"),
        "{text}"
    );
    assert!(
        text.contains("is NodePort of default/storefront-external"),
        "{text}"
    );
    assert!(text.contains("Ingress:      default/shop"), "{text}");

    // An internal ALB (the default scheme) refuses a client outside the
    // VPC (D5: reject, exit 1) and serves one inside it.
    let mut a = args(
        &files,
        &[
            "route",
            "--from",
            "203.0.113.9",
            "--to",
            "http://api.example.com/",
        ],
    );
    a.extend(cloud);
    let text = run_ok(&a, 1);
    assert!(text.contains("Result:       reject"), "{text}");
    assert!(text.contains("outside the VPC"), "{text}");
    let mut a = args(
        &files,
        &[
            "route",
            "--from",
            "10.0.0.9",
            "--to",
            "http://api.example.com/",
        ],
    );
    a.extend(cloud);
    let text = run_ok(&a, 0);
    assert!(text.contains("scheme internal, target type ip"), "{text}");
    assert!(text.contains("Service:      default/catalog"), "{text}");
    assert!(!text.contains("NodePort"), "{text}");
}
