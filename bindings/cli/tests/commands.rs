//! Every command run as a person runs it: help text, input forms, the
//! cluster settings, errors and exit codes (DECISIONS D1, D5, D15, D16).

mod common;

use common::{SHOP, fixture, pod_named, run_ok, stderr, stdout, svcroute, svcroute_with_stdin};

/// A scratch file removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str, text: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("svcroute-cli-commands-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Scratch(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn every_command_has_help() {
    let top = run_ok(&["--help"], 0);
    for (command, needles) in [
        ("get", &["<TYPES>", "[NAME]"][..]),
        (
            "describe",
            &["<RESOURCE>", "svcroute describe service frontend"],
        ),
        ("explain", &["<RESOURCE>"]),
        ("urls", &["<RESOURCE>", "svcroute route"]),
        (
            "dns",
            &[
                "--type <T>",
                "--from <POD>",
                "--resolver <RESOLVER>",
                "musl",
            ],
        ),
        (
            "route",
            &[
                "--from <SOURCE>",
                "--to <DESTINATION>",
                "--at <SECONDS>",
                "--via <PATH>",
                "port-forward",
                "apiserver-proxy",
                "--seed",
                "Exit codes",
            ],
        ),
        (
            "simulate",
            &["--requests <N>", "--algorithm <A>", "--seed", "maglev"],
        ),
        ("selector", &["--labels"]),
        ("version", &[]),
    ] {
        assert!(
            top.contains(&format!("  {command} ")),
            "{command} missing from:\n{top}"
        );
        let text = run_ok(&[command, "--help"], 0);
        assert!(
            text.contains(&format!("Usage: svcroute {command}")),
            "{text}"
        );
        for flag in [
            "-f, --filename <FILE>",
            "--config <FILE>",
            "-n, --namespace <NS>",
            "-o, --output <FORMAT>",
        ] {
            assert!(text.contains(flag), "{command}: {flag} missing:\n{text}");
        }
        for n in needles {
            assert!(text.contains(n), "{command}: {n} missing:\n{text}");
        }
    }
}

// D1: kinds svcroute does not model are a notice, never an error.
#[test]
fn unmodelled_kinds_are_one_notice_and_exit_0() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n\
                apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n---\n\
                apiVersion: v1\nkind: Secret\nmetadata: {name: t}\n---\n\
                apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  clusterIP: 10.96.0.50\n  ports: [{port: 80}]\n";
    let out = svcroute_with_stdin(&["get", "svc", "web", "-f", "-"], text.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "skipped 3 objects of kinds svcroute does not model: Role (1), Secret (2)\n"
    );
    assert!(
        stdout(&out).contains("web    ClusterIP   10.96.0.50"),
        "{}",
        stdout(&out)
    );
}

// Errors name file, document, object and field, and exit 2.
#[test]
fn bad_input_names_file_document_object_and_field() {
    let broken = Scratch::new(
        "broken.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web\n",
    );
    let out = svcroute(&["get", "svc", "-f", broken.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: parse: {}: document 0 (line 3, column 11): unclosed bracket '{{'\n",
            broken.path()
        )
    );

    let wrong = Scratch::new(
        "wrong.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: eighty\n",
    );
    let out = svcroute(&["get", "svc", "-f", wrong.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: parse: {}: document 1 (line 11, column 11): Service web: spec.ports[0].port: \
             invalid type: string \"eighty\", expected i32\n",
            wrong.path()
        )
    );
    assert_eq!(stdout(&out), "");

    let out = svcroute(&["get", "svc", "-f", "/nonexistent/shop.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: the path \"/nonexistent/shop.yaml\" does not exist\n"
    );

    let out = svcroute(&["get", "svc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no input"), "{}", stderr(&out));
}

// A watch stream (`kubectl get -w -o json`) leaves the state its last
// events describe.
#[test]
fn watch_streams_are_folded() {
    let stream = r#"{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.70", "ports": [{"port": 80}]}}}
{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.71", "ports": [{"port": 80}]}}}
{"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.70", "ports": [{"port": 8080}]}}}
{"type": "DELETED", "object": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.71", "ports": [{"port": 80}]}}}
"#;
    let out = svcroute_with_stdin(&["get", "svc", "-f", "-", "-o", "name"], stream.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "service/a\nservice/kubernetes\n");
}

// Directories: their manifests in name order, subdirectories with -R.
#[test]
fn directories_and_recursion() {
    let dir = std::env::temp_dir().join(format!("svcroute-cli-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(fixture("nodes.yaml"), dir.join("nodes.yaml")).unwrap();
    std::fs::copy(fixture("nodeport-services.yaml"), dir.join("sub/svc.yaml")).unwrap();
    let d = dir.to_str().unwrap();
    let text = run_ok(&["get", "svc", "-o", "name", "-f", d], 0);
    assert_eq!(text, "service/kubernetes\n");
    let text = run_ok(&["get", "svc", "-o", "name", "-f", d, "-R"], 0);
    assert_eq!(text, "service/kubernetes\nservice/web\n");
    let _ = std::fs::remove_dir_all(&dir);
}

// --config sets the cluster; what it leaves out is inferred from a dump and
// said on stderr.
#[test]
fn settings_from_config_and_from_the_dump() {
    let dump = Scratch::new(
        "dump.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
   "spec": {"clusterIP": "10.100.0.1", "clusterIPs": ["10.100.0.1"], "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}},
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
   "spec": {"clusterIP": "10.100.12.7", "selector": {"app": "web"}, "ports": [{"port": 80}]}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-192-168-3-7"},
   "spec": {"podCIDR": "192.168.64.0/26", "podCIDRs": ["192.168.64.0/26"]},
   "status": {"addresses": [{"type": "InternalIP", "address": "192.168.3.7"}]}}]}"#,
    );
    let out = svcroute(&["get", "svc", "-f", dump.path()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "inferred service CIDR 10.100.0.0/16 from default/kubernetes\n\
         inferred node CIDR mask /26 from the nodes' podCIDRs\n\
         inferred cluster CIDR 192.168.0.0/16 from the nodes' podCIDRs\n"
    );
    assert!(
        stdout(&out).contains("kubernetes   ClusterIP   10.100.0.1"),
        "{}",
        stdout(&out)
    );

    let config = Scratch::new(
        "cluster.yaml",
        "clusterDomain: corp.example\nserviceCIDRs: [10.100.0.0/16]\nclusterCIDRs: [192.168.64.0/18]\n\
         nodeCIDRMaskSizeIPv4: 26\nproxy:\n  mode: ipvs\n",
    );
    let out = svcroute(&[
        "dns",
        "web",
        "-f",
        dump.path(),
        "--config",
        config.path(),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["answeredBy"], "web.default.svc.corp.example.");
    assert_eq!(
        v["answer"][0],
        "web.default.svc.corp.example. 5 IN A 10.100.12.7"
    );

    let bad = Scratch::new("bad.yaml", "proxy:\n  mode: userspace\n");
    let out = svcroute(&["get", "svc", "-f", dump.path(), "--config", bad.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.yaml: proxy.mode: unknown proxy mode `userspace`"),
        "{}",
        stderr(&out)
    );
    let typo = Scratch::new("typo.yaml", "clusterDomian: x\n");
    let out = svcroute(&["get", "svc", "-f", dump.path(), "--config", typo.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("typo.yaml: cluster settings: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn get_knows_every_kind_and_short_name() {
    for (types, header) in [
        ("svc", "TYPE"),
        ("ep", "ENDPOINTS"),
        ("endpointslices", "ADDRESSTYPE"),
        ("po", "STATUS"),
        ("deploy", "UP-TO-DATE"),
        ("rs", "DESIRED"),
        ("sts", "READY"),
        ("ds", "NODE SELECTOR"),
        ("no", "ROLES"),
        ("ns", "STATUS"),
        ("ing", "HOSTS"),
    ] {
        let out = svcroute(&["get", types, "-A", "-f", SHOP]);
        assert_eq!(out.status.code(), Some(0), "{types}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.is_empty() || text.lines().next().unwrap().contains(header),
            "{types}: {text}"
        );
    }
    let text = run_ok(&["get", "pods", "-n", "shop", "-o", "wide", "-f", SHOP], 0);
    assert_eq!(
        text.lines()
            .next()
            .unwrap()
            .split("   ")
            .filter(|s| !s.is_empty())
            .map(str::trim)
            .collect::<Vec<_>>(),
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    assert!(text.contains("backend-7d4b9c-q8m3z   0/1     Running   0          <unknown>   10.244.1.12   node-b   <none>           <none>"), "{text}");
}

#[test]
fn describe_pod_and_errors() {
    let text = run_ok(
        &[
            "describe",
            "pod/backend-7d4b9c-x2k9p",
            "-n",
            "shop",
            "-f",
            SHOP,
        ],
        0,
    );
    assert!(
        text.starts_with("Name:         backend-7d4b9c-x2k9p\nNamespace:    shop\n"),
        "{text}"
    );
    assert!(
        text.contains("\nNode:         node-a/192.168.10.11\n"),
        "{text}"
    );
    assert!(
        text.contains("\nLabels:       app=backend\n              version=1.4\n"),
        "{text}"
    );
    assert!(
        text.contains("\nIPs:\n  IP:  10.244.0.11\nContainers:\n  backend:\n"),
        "{text}"
    );
    assert!(
        text.contains("\nConditions:\n  Type           Status\n  Ready          True \n"),
        "{text}"
    );
    assert!(text.ends_with("Events:          <none>\n"), "{text}");

    let out = svcroute(&["describe", "svc", "nope", "-n", "shop", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("services \"nope\" not found"),
        "{}",
        stderr(&out)
    );
    let json = run_ok(
        &[
            "describe", "svc", "frontend", "-n", "shop", "-o", "json", "-f", SHOP,
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["spec"]["ports"][0]["nodePort"], 30080);
    let out = svcroute(&["describe", "node", "x", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
}

// `describe endpoints` as kubectl lays it out (a user-written Endpoints
// object of a selector-less Service).
#[test]
fn describe_endpoints_layout() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: 10.96.0.60\n  ports: [{name: pg, port: 5432}]\n---\n\
                apiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets:\n\
                - addresses: [{ip: 192.0.2.10}, {ip: 192.0.2.11}]\n  notReadyAddresses: [{ip: 192.0.2.12}]\n  ports: [{name: pg, port: 5432}]\n";
    let out = svcroute_with_stdin(&["describe", "endpoints", "db", "-f", "-"], text.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Name:         db\n\
         Namespace:    default\n\
         Labels:       <none>\n\
         Annotations:  <none>\n\
         Subsets:\n  \
         Addresses:          192.0.2.10,192.0.2.11\n  \
         NotReadyAddresses:  192.0.2.12\n  \
         Ports:\n    \
         Name  Port  Protocol\n    \
         ----  ----  --------\n    \
         pg    5432  TCP\n\
         \n\
         Events:  <none>\n"
    );
    let out = svcroute_with_stdin(&["get", "ep", "db", "-f", "-"], text.as_bytes());
    assert_eq!(
        stdout(&out),
        "NAME   ENDPOINTS                         AGE\n\
         db     192.0.2.10:5432,192.0.2.11:5432   <unknown>\n"
    );
}

// D5 and D16: route exit codes and JSON; --via goes around kube-proxy.
#[test]
fn route_outcomes_exit_codes_and_paths_around_kube_proxy() {
    let frontend = "pod/frontend-5f6d8-lp2wd";
    // payments has no ready endpoint: reject, exit 1 (KP-12).
    let json = run_ok(
        &[
            "route",
            "-n",
            "shop",
            "--from",
            frontend,
            "--to",
            "payments:9000",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        1,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["result"], "reject");
    assert_eq!(v["packetFate"], "reject");
    // A pod of another namespace reaches shop's backend with NS/NAME (D15).
    let json = run_ok(
        &[
            "route",
            "--from",
            "pod/staging/payments-staging",
            "--to",
            "backend.shop:80",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["chosen"], "10.244.0.11:8080");
    // An unknown pod is an error.
    let out = svcroute(&[
        "route",
        "--from",
        "pod/nope",
        "--to",
        "10.96.0.20:80",
        "-f",
        SHOP,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).ends_with("error: not-found: pod default/nope not found\n"),
        "{}",
        stderr(&out)
    );
    let out = svcroute(&["route", "--from", "here", "--to", "backend:80", "-f", SHOP]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from \"here\""), "{}", stderr(&out));

    let text = run_ok(
        &[
            "route",
            "-n",
            "shop",
            "--from",
            frontend,
            "--to",
            "backend:80",
            "--via",
            "port-forward",
            "-f",
            SHOP,
        ],
        0,
    );
    assert!(
        text.starts_with("kubectl port-forward svc/backend:80\nResult:       forward\n"),
        "{text}"
    );
    assert!(
        text.contains("kubectl picks pod backend-7d4b9c-x2k9p"),
        "{text}"
    );
    assert!(text.contains("Chosen:       10.244.0.11:8080\n"), "{text}");
    // The frontend's named targetPort resolves on the chosen pod.
    let json = run_ok(
        &[
            "route",
            "-n",
            "shop",
            "--from",
            frontend,
            "--to",
            "frontend:80",
            "--via",
            "port-forward",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        0,
    );
    assert!(json.contains("\"chosen\": \"10.244.0.21:8000\""), "{json}");
    // kubectl proxy to a Service without ready endpoints: 503, exit 1.
    let json = run_ok(
        &[
            "route",
            "-n",
            "shop",
            "--from",
            frontend,
            "--to",
            "payments:grpc",
            "--via",
            "apiserver-proxy",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        1,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["httpStatus"], 503);
}

#[test]
fn dns_exit_codes_and_search_walks() {
    let text = run_ok(&["dns", "nope", "-n", "shop", "-f", SHOP], 1);
    assert!(
        text.contains(";; tried nope.shop.svc.cluster.local. A: NXDOMAIN\n"),
        "{text}"
    );
    assert!(text.contains("status: NXDOMAIN"), "{text}");
    // The apex exists but has no A record: NODATA, exit 1, with the SOA.
    let text = run_ok(&["dns", "shop.svc.cluster.local.", "-f", SHOP], 1);
    assert!(text.contains("status: NOERROR (NODATA)"), "{text}");
    assert!(
        text.contains(";; AUTHORITY SECTION:\ncluster.local. 5 IN SOA"),
        "{text}"
    );
    // musl does not search for SRV lookups.
    let json = run_ok(
        &[
            "dns",
            "_http._tcp.frontend.shop",
            "-t",
            "srv",
            "--resolver",
            "musl",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        1,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["candidates"],
        serde_json::json!(["_http._tcp.frontend.shop."])
    );
    let json = run_ok(
        &[
            "dns",
            "_http._tcp.frontend.shop",
            "-t",
            "srv",
            "-o",
            "json",
            "-f",
            SHOP,
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["answer"][0],
        "_http._tcp.frontend.shop.svc.cluster.local. 5 IN SRV 0 100 80 frontend.shop.svc.cluster.local."
    );
}

#[test]
fn simulate_with_an_algorithm_and_as_json() {
    let files = [
        "-f",
        &fixture("nodes.yaml"),
        "-f",
        &fixture("clusterip-services.yaml"),
        "-f",
        &fixture("clusterip-pods.yaml"),
    ];
    let from = format!("pod/{}", pod_named("clusterip-pods.yaml", "frontend-"));
    let mut args: Vec<&str> = files.to_vec();
    args.extend([
        "simulate",
        "--from",
        &from,
        "--to",
        "backend:80",
        "--requests",
        "300",
        "--algorithm",
        "round-robin",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&run_ok(&args, 0)).unwrap();
    assert_eq!(v["algorithm"], "round-robin");
    for row in v["endpoints"].as_array().unwrap() {
        assert_eq!(row["requests"], 100, "{v}");
    }
    let mut args: Vec<&str> = files.to_vec();
    args.extend([
        "simulate",
        "--from",
        &from,
        "--to",
        "backend:80",
        "--algorithm",
        "fastest",
    ]);
    let out = svcroute(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected one of round-robin"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn urls_as_json_and_the_readme_example_still_explains() {
    let json = run_ok(
        &[
            "urls", "service", "frontend", "-n", "shop", "-o", "json", "-f", SHOP,
        ],
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let addresses: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        [
            "frontend:80",
            "frontend.shop:80",
            "frontend.shop.svc:80",
            "frontend.shop.svc.cluster.local:80",
            "10.96.0.30:80",
            "192.168.10.11:30080",
            "192.168.10.12:30080"
        ]
    );
    let text = run_ok(
        &["explain", "service", "frontend", "-n", "shop", "-f", SHOP],
        0,
    );
    assert!(
        text.starts_with("Service shop/frontend (NodePort)\n"),
        "{text}"
    );
}

// urls: under externalTrafficPolicy Local only the nodes with a ready local
// endpoint answer on the node port (KP-8); the load balancer's address and
// externalIPs lead to the Service; a headless Service has per-pod names.
#[test]
fn urls_of_a_load_balancer_with_local_policy_and_of_a_headless_service() {
    let nodes = fixture("nodes.yaml");
    let lb = fixture("lb-and-headless.yaml");
    let args = [
        "-f", &nodes, "-f", &lb, "-n", "web", "urls", "svc", "shop", "-o", "json",
    ];
    let v: serde_json::Value = serde_json::from_str(&run_ok(&args, 0)).unwrap();
    let outside: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["from"] == "outside")
        .map(|u| (u["kind"].as_str().unwrap(), u["address"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outside,
        [
            ("node-port", "192.168.49.12:30500"),
            ("load-balancer", "203.0.113.50:80"),
            ("external-ip", "198.51.100.20:80")
        ]
    );
    // Each address traces: the load balancer's goes to the local endpoint.
    for to in ["192.168.49.12:30500", "203.0.113.50:80", "198.51.100.20:80"] {
        let args = [
            "-f",
            &nodes,
            "-f",
            &lb,
            "route",
            "--from",
            "198.51.100.9",
            "--to",
            to,
            "-o",
            "json",
        ];
        let v: serde_json::Value = serde_json::from_str(&run_ok(&args, 0)).unwrap();
        assert_eq!(v["chosen"], "10.244.2.50:8080", "{to}: {v}");
    }
    let args = ["-f", &nodes, "-f", &lb, "-n", "web", "urls", "svc", "db"];
    let text = run_ok(&args, 0);
    assert!(
        text.contains("  db-0.db.web.svc.cluster.local   endpoint 10.244.1.50\n"),
        "{text}"
    );
    assert!(!text.contains("cluster IP"), "{text}");
}
