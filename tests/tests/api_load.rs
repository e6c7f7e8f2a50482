//! The manifest loader (`svcroute::api`) on real `kubectl` output, the
//! conformance objects, streams, Lists, watch events, errors and hostile input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use svcroute::api::{
    self, ApiError, IntOrString, Kind, Loaded, Object, PathType, ProblemKind, Protocol, Service,
    ServiceType, TypeMeta, WatchEvent,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kubectl")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load_ok(text: &str) -> Loaded {
    api::load(text).unwrap_or_else(|e| panic!("load failed: {e}"))
}

fn only(loaded: &Loaded) -> &Object {
    assert_eq!(loaded.objects.len(), 1, "{loaded:?}");
    &loaded.objects[0].value
}

fn service(text: &str) -> Service {
    match only(&load_ok(text)) {
        Object::Service(s) => s.clone(),
        other => panic!("not a Service: {other:?}"),
    }
}

fn load_err(text: &str) -> ApiError {
    match api::load(text) {
        Ok(l) => panic!("expected an error, loaded {l:?}"),
        Err(e) => e,
    }
}

/// load → every object to JSON → load again: the same objects.
fn assert_round_trip(loaded: &Loaded) {
    let json: Vec<Value> = loaded
        .iter_objects()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    let text = serde_json::to_string(&json).unwrap();
    let again = api::load_json(&text).unwrap_or_else(|e| panic!("reload: {e}\n{text}"));
    let before: Vec<&Object> = loaded.iter_objects().collect();
    let after: Vec<&Object> = again.iter_objects().collect();
    assert_eq!(before, after);
    // And through YAML-free text once more, object by object.
    for o in loaded.iter_objects() {
        let back: Object = serde_json::from_str(&serde_json::to_string(o).unwrap()).unwrap();
        assert_eq!(&back, o);
    }
}

// ------------------------------------------------------------------ kubectl fixtures

#[test]
fn every_kubectl_fixture_loads_and_round_trips() {
    let mut names: Vec<_> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 16, "{names:?}");
    for name in names {
        let text = fixture(&name);
        let loaded = api::load(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.objects.len() + loaded.skipped_count(), 1, "{name}");
        assert_round_trip(&loaded);
        if name.ends_with(".json") {
            assert_eq!(api::load_json(&text).unwrap(), loaded, "{name}");
        } else {
            assert_eq!(api::load_yaml(&text).unwrap(), loaded, "{name}");
        }
    }
}

#[test]
fn kubectl_deployment() {
    for name in ["deployment-web.yaml", "deployment-web.json"] {
        let loaded = load_ok(&fixture(name));
        let Object::Deployment(d) = only(&loaded) else {
            panic!()
        };
        assert_eq!(d.metadata.name.as_deref(), Some("web"));
        assert_eq!(d.metadata.creation_timestamp, None); // `creationTimestamp: null`
        assert_eq!(d.metadata.labels["app"], "web");
        assert_eq!(d.spec.replicas, Some(3));
        let selector = d.spec.selector.as_ref().unwrap();
        assert_eq!(selector.match_labels.as_ref().unwrap()["app"], "web");
        assert_eq!(d.spec.template.metadata.labels["app"], "web");
        let c = &d.spec.template.spec.containers[0];
        assert_eq!(
            (c.name.as_str(), c.image.as_deref()),
            ("nginx", Some("nginx"))
        );
        assert_eq!(c.ports[0].container_port, 80);
        assert_eq!(c.ports[0].protocol, None);
        assert_eq!(d.spec.strategy, Some(Default::default())); // `strategy: {}`
        assert_eq!(loaded.objects[0].line, Some(1));
    }
}

#[test]
fn kubectl_services() {
    for name in ["service-clusterip.yaml", "service-clusterip.json"] {
        let s = service(&fixture(name));
        assert_eq!(s.metadata.name.as_deref(), Some("web"));
        assert_eq!(s.spec.type_, Some(ServiceType::ClusterIP));
        assert_eq!(s.spec.selector.as_ref().unwrap()["app"], "web");
        let p = &s.spec.ports[0];
        assert_eq!(p.name, "80-8080");
        assert_eq!((p.port, p.protocol), (80, Some(Protocol::TCP)));
        assert_eq!(p.target_port, Some(IntOrString::Int(8080)));
        assert_eq!(p.node_port, None);
        assert!(!s.is_headless());
        assert!(s.status.load_balancer.ingress.is_empty());
    }

    let headless = service(&fixture("service-headless.yaml"));
    assert!(headless.is_headless());
    assert_eq!(headless.spec.cluster_ip.as_deref(), Some("None"));

    let np = service(&fixture("service-nodeport.yaml"));
    assert_eq!(np.service_type(), ServiceType::NodePort);
    assert_eq!(np.spec.ports[0].node_port, Some(30080));

    let lb = service(&fixture("service-loadbalancer.yaml"));
    assert_eq!(lb.service_type(), ServiceType::LoadBalancer);
    let ports: Vec<_> = lb
        .spec
        .ports
        .iter()
        .map(|p| (p.port, p.target_port.clone()))
        .collect();
    assert_eq!(
        ports,
        [
            (443, Some(IntOrString::Int(8443))),
            (80, Some(IntOrString::Int(8080)))
        ]
    );

    let ext = service(&fixture("service-externalname.yaml"));
    assert_eq!(ext.service_type(), ServiceType::ExternalName);
    assert_eq!(ext.spec.external_name.as_deref(), Some("db.example.com"));
    assert!(ext.spec.ports.is_empty());
}

#[test]
fn kubectl_ingress() {
    let loaded = load_ok(&fixture("ingress-web.yaml"));
    let Object::Ingress(ing) = only(&loaded) else {
        panic!()
    };
    assert_eq!(ing.spec.ingress_class_name.as_deref(), Some("nginx"));
    assert_eq!(
        ing.metadata.annotations["nginx.ingress.kubernetes.io/rewrite-target"],
        "/"
    );
    let default = ing
        .spec
        .default_backend
        .as_ref()
        .unwrap()
        .service
        .as_ref()
        .unwrap();
    assert_eq!(default.name, "fallback");
    assert_eq!(default.port.as_ref().unwrap().number, Some(8080));
    let shop = &ing.spec.rules[0];
    assert_eq!(shop.host.as_deref(), Some("shop.example.com"));
    let paths = &shop.http.as_ref().unwrap().paths;
    assert_eq!(paths[0].path.as_deref(), Some("/api"));
    assert_eq!(paths[0].path_type, Some(PathType::Prefix));
    assert_eq!(paths[1].path_type, Some(PathType::Exact));
    let by_name = paths[1]
        .backend
        .service
        .as_ref()
        .unwrap()
        .port
        .as_ref()
        .unwrap();
    assert_eq!(
        (by_name.name.as_deref(), by_name.number),
        (Some("http"), None)
    );
    assert_eq!(ing.spec.tls[0].hosts, ["secure.example.com"]);
    assert_eq!(ing.spec.tls[0].secret_name.as_deref(), Some("web-cert"));

    let loaded = load_ok(&fixture("ingress-web.json"));
    let Object::Ingress(ing) = only(&loaded) else {
        panic!()
    };
    assert_eq!(
        ing.spec.rules[0].http.as_ref().unwrap().paths[0]
            .path
            .as_deref(),
        Some("/api")
    );
}

#[test]
fn kubectl_unmodelled_kinds_are_skipped_and_counted() {
    let loaded = load_ok(&fixture("namespace-shop.yaml"));
    assert_eq!(only(&loaded).kind(), Kind::Namespace);
    for (name, api_version, kind) in [
        ("configmap-settings.yaml", "v1", "ConfigMap"),
        ("serviceaccount-robot.yaml", "v1", "ServiceAccount"),
        ("secret-token.yaml", "v1", "Secret"),
        (
            "rolebinding-readers.yaml",
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
        ),
        ("job-migrate.yaml", "batch/v1", "Job"),
    ] {
        let loaded = load_ok(&fixture(name));
        assert!(loaded.objects.is_empty(), "{name}");
        assert_eq!(
            loaded.skipped,
            BTreeMap::from([(TypeMeta::new(api_version, kind), 1)]),
            "{name}"
        );
    }
}

// ------------------------------------------------------------------ conformance objects

/// Every object list in the conformance suites: `objects`, `apply` steps,
/// `createService` and `addNode` requests.
fn conformance_object_lists() -> Vec<(String, Vec<Value>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    fn walk(at: String, v: &Value, out: &mut Vec<(String, Vec<Value>)>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let here = format!("{at}.{k}");
                    match (k.as_str(), child) {
                        ("objects" | "apply", Value::Array(items))
                            if items.iter().all(|i| i.get("kind").is_some()) =>
                        {
                            out.push((here, items.clone()))
                        }
                        ("createService" | "addNode", Value::Object(_)) => {
                            out.push((here, vec![child.clone()]))
                        }
                        _ => walk(here, child, out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(format!("{at}[{i}]"), child, out);
                }
            }
            _ => {}
        }
    }
    for file in files {
        if file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .contains("schema")
        {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        walk(
            file.file_name().unwrap().to_string_lossy().into_owned(),
            &v,
            &mut out,
        );
    }
    out
}

#[test]
fn every_conformance_object_loads() {
    let lists = conformance_object_lists();
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut total = 0;
    for (at, items) in &lists {
        let array = Value::Array(items.clone());
        let loaded = api::load_value(&array).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(
            loaded.objects.len(),
            items.len(),
            "{at}: {:?}",
            loaded.skipped
        );
        // The same through text, as JSON and as YAML (JSON is YAML).
        let text = serde_json::to_string_pretty(&array).unwrap();
        assert_eq!(
            api::load_json(&text).unwrap().into_objects(),
            loaded.clone().into_objects(),
            "{at}"
        );
        assert_eq!(
            api::load_yaml(&text).unwrap().into_objects(),
            loaded.clone().into_objects(),
            "{at}"
        );
        assert_round_trip(&loaded);
        for o in loaded.iter_objects() {
            *kinds.entry(o.kind()).or_default() += 1;
        }
        total += items.len();
    }
    assert!(total > 2500, "{total}");
    for kind in [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::Service,
        Kind::Endpoints,
        Kind::EndpointSlice,
        Kind::Ingress,
        Kind::IngressClass,
        Kind::Gateway,
        Kind::HTTPRoute,
    ] {
        assert!(
            kinds.get(&kind).copied().unwrap_or(0) > 0,
            "{kind}: {kinds:?}"
        );
    }
}

#[test]
fn conformance_fields_are_read() {
    // Spot checks of fields the suites rely on (conformance README section 8).
    let mut seen_cpu = false;
    let mut seen_lb_ip_mode = false;
    let mut seen_named_target = false;
    for (_, items) in conformance_object_lists() {
        for o in api::load_value(&Value::Array(items))
            .unwrap()
            .into_objects()
        {
            match o {
                Object::Node(n) => {
                    if let Some(cpu) = n.status.allocatable.get("cpu") {
                        assert!(cpu.millis().unwrap() > 0);
                        seen_cpu = true;
                    }
                }
                Object::Service(s) => {
                    seen_lb_ip_mode |= s
                        .status
                        .load_balancer
                        .ingress
                        .iter()
                        .any(|i| i.ip_mode.is_some());
                    seen_named_target |= s
                        .spec
                        .ports
                        .iter()
                        .any(|p| matches!(p.target_port, Some(IntOrString::String(_))));
                }
                _ => {}
            }
        }
    }
    assert!(seen_cpu && seen_lb_ip_mode && seen_named_target);
}

// ------------------------------------------------------------------ streams and Lists

#[test]
fn multi_document_stream_skips_and_counts_unmodelled_kinds() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  versions: [{name: v1, served: true, storage: true}]\n";
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  labels: {on: yes}\n";
    let knative = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello\nspec: {template: 3}\n";
    let stream = [
        "# a comment before anything\n".to_owned(),
        fixture("configmap-settings.yaml"),
        fixture("deployment-web.yaml"),
        String::new(), // an empty document
        fixture("serviceaccount-robot.yaml"),
        fixture("service-clusterip.yaml") + "...\n",
        crd.to_owned(),
        widget.to_owned(),
        fixture("secret-token.yaml"),
        knative.to_owned(),
        fixture("configmap-settings.yaml"),
        fixture("ingress-web.yaml"),
    ]
    .join("---\n");
    let loaded = load_ok(&stream);
    let kinds: Vec<_> = loaded
        .objects
        .iter()
        .map(|o| (o.document, o.value.kind()))
        .collect();
    // Every document counts, the empty one (index 2) too.
    assert_eq!(
        kinds,
        [
            (1, Kind::Deployment),
            (4, Kind::Service),
            (10, Kind::Ingress)
        ]
    );
    let skipped: Vec<_> = loaded
        .skipped
        .iter()
        .map(|(t, n)| (t.to_string(), *n))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "apiextensions.k8s.io/v1 CustomResourceDefinition".to_owned(),
                1
            ),
            ("example.com/v1 Widget".to_owned(), 1),
            ("serving.knative.dev/v1 Service".to_owned(), 1),
            ("v1 ConfigMap".to_owned(), 2),
            ("v1 Secret".to_owned(), 1),
            ("v1 ServiceAccount".to_owned(), 1),
        ]
    );
    assert_eq!(loaded.skipped_count(), 7);
    // Lines point at each document's first line.
    let line = loaded.objects[1].line.unwrap();
    assert!(
        stream
            .lines()
            .nth(line - 1)
            .unwrap()
            .starts_with("apiVersion: v1")
    );
}

#[test]
fn long_streams_have_no_document_cap() {
    let stream: String = (0..3000)
        .map(|i| format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n"))
        .collect();
    let loaded = load_ok(&stream);
    assert_eq!(loaded.objects.len(), 3000);
    assert_eq!(loaded.objects[2999].value.name(), Some("ns-2999"));
    assert_eq!(loaded.objects[2999].document, 2999);
}

#[test]
fn kubectl_get_list_json_and_yaml() {
    // The shape of `kubectl get deploy,svc,cm -o json`.
    let item = |name: &str| serde_json::from_str::<Value>(&fixture(name)).unwrap();
    let list = serde_json::json!({
        "apiVersion": "v1",
        "items": [
            item("deployment-web.json"),
            item("service-clusterip.json"),
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}},
            item("ingress-web.json"),
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    let text = serde_json::to_string_pretty(&list).unwrap();
    let loaded = load_ok(&text);
    let kinds: Vec<_> = loaded
        .objects
        .iter()
        .map(|o| (o.item, o.value.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(0), Kind::Deployment),
            (Some(1), Kind::Service),
            (Some(3), Kind::Ingress)
        ]
    );
    assert_eq!(loaded.skipped_count(), 1);

    // The same as YAML (`kubectl get ... -o yaml`).
    let yaml = "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n"
        .to_owned()
        + &fixture("service-nodeport.yaml")
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("- {l}\n")
                } else {
                    format!("  {l}\n")
                }
            })
            .collect::<String>()
        + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n";
    let loaded = load_ok(&yaml);
    assert_eq!(loaded.objects.len(), 1);
    assert_eq!(loaded.objects[0].line, Some(6));
    assert_eq!(loaded.skipped_count(), 1);
}

#[test]
fn typed_lists_give_their_items_a_kind() {
    // `GET /api/v1/namespaces/shop/pods` returns items without kind/apiVersion.
    let text = r#"{"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "7"},
      "items": [{"metadata": {"name": "a", "namespace": "shop"}, "status": {"podIP": "10.244.0.5"}},
                {"metadata": {"name": "b", "namespace": "shop"}}]}"#;
    let loaded = load_ok(text);
    let names: Vec<_> = loaded
        .iter_objects()
        .map(|o| (o.kind(), o.name().unwrap()))
        .collect();
    assert_eq!(names, [(Kind::Pod, "a"), (Kind::Pod, "b")]);

    let slices = r#"{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList", "items": [
      {"metadata": {"name": "s"}, "addressType": "IPv6", "endpoints": [{"addresses": ["fd00::1"]}]}]}"#;
    assert_eq!(only(&load_ok(slices)).kind(), Kind::EndpointSlice);

    let cms = r#"{"apiVersion": "v1", "kind": "ConfigMapList", "items": [{"metadata": {"name": "x"}}, {"metadata": {"name": "y"}}]}"#;
    assert_eq!(load_ok(cms).skipped[&TypeMeta::new("v1", "ConfigMap")], 2);

    // Empty and null lists.
    assert!(
        load_ok(r#"{"apiVersion": "v1", "kind": "List", "items": []}"#)
            .objects
            .is_empty()
    );
    assert!(
        load_ok(r#"{"apiVersion": "v1", "kind": "List", "items": null}"#)
            .objects
            .is_empty()
    );
    // A plain `List` does not lend its kind.
    let err =
        load_err(r#"{"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"name": "x"}}]}"#);
    assert_eq!(err.problems()[0].kind, ProblemKind::MissingTypeMeta);
    assert_eq!(err.problems()[0].item, Some(0));
}

#[test]
fn json_and_yaml_give_the_same_objects() {
    for (y, j) in [
        ("deployment-web.yaml", "deployment-web.json"),
        ("service-clusterip.yaml", "service-clusterip.json"),
    ] {
        assert_eq!(
            load_ok(&fixture(y)).into_objects(),
            load_ok(&fixture(j)).into_objects()
        );
    }
}

// ------------------------------------------------------------------ watch events

#[test]
fn watch_events_as_json_lines() {
    let svc: Value = serde_json::from_str(&fixture("service-clusterip.json")).unwrap();
    let lines = [
        serde_json::json!({"type": "ADDED", "object": svc}),
        serde_json::json!({"type": "MODIFIED", "object": svc}),
        serde_json::json!({"type": "ADDED", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}}),
        serde_json::json!({"type": "BOOKMARK", "object": {"apiVersion": "v1", "kind": "Service",
            "metadata": {"resourceVersion": "1234", "annotations": {"k8s.io/initial-events-end": "true"}}}}),
        serde_json::json!({"type": "DELETED", "object": svc}),
        serde_json::json!({"type": "ERROR", "object": {"apiVersion": "v1", "kind": "Status", "status": "Failure",
            "message": "too old resource version: 1 (2)", "reason": "Expired", "code": 410}}),
    ];
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap() + "\n")
        .collect();
    let loaded = load_ok(&text);
    assert!(loaded.objects.is_empty());
    let types: Vec<_> = loaded
        .events
        .iter()
        .map(|e| (e.document, e.value.event_type().as_str()))
        .collect();
    assert_eq!(
        types,
        [
            (0, "ADDED"),
            (1, "MODIFIED"),
            (3, "BOOKMARK"),
            (4, "DELETED"),
            (5, "ERROR")
        ]
    );
    assert_eq!(loaded.events[3].line, Some(5));
    assert_eq!(loaded.skipped[&TypeMeta::new("v1", "ConfigMap")], 1);
    let WatchEvent::Added(Object::Service(s)) = &loaded.events[0].value else {
        panic!()
    };
    assert_eq!(s.metadata.name.as_deref(), Some("web"));
    let WatchEvent::Bookmark(b) = &loaded.events[2].value else {
        panic!()
    };
    assert_eq!(b.metadata.resource_version.as_deref(), Some("1234"));
    let WatchEvent::Error(status) = &loaded.events[4].value else {
        panic!()
    };
    assert_eq!(
        (status.code, status.reason.as_deref()),
        (Some(410), Some("Expired"))
    );

    // Events serialize back to the same stream.
    let again: String = loaded
        .events
        .iter()
        .map(|e| serde_json::to_string(&e.value).unwrap() + "\n")
        .collect();
    let reloaded = load_ok(&again);
    let a: Vec<_> = loaded.events.iter().map(|e| &e.value).collect();
    let b: Vec<_> = reloaded.events.iter().map(|e| &e.value).collect();
    assert_eq!(a, b);
}

#[test]
fn watch_events_as_yaml_documents() {
    let text = "type: ADDED\nobject:\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: shop}\n---\ntype: DELETED\nobject:\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: shop}\n";
    let loaded = load_ok(text);
    assert_eq!(loaded.events.len(), 2);
    assert!(matches!(&loaded.events[1].value, WatchEvent::Deleted(o) if o.name() == Some("a")));
}

#[test]
fn bad_watch_events() {
    let err = load_err(
        "{\"type\": \"ADDED\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\"}}\n{\"type\": \"CHANGED\", \"object\": {}}\n",
    );
    let p = &err.problems()[0];
    assert_eq!((p.document, p.field.as_deref()), (1, Some("type")));
    assert!(p.message.contains("CHANGED"));

    let err = load_err(
        "type: ADDED\nobject:\n  apiVersion: v1\n  kind: Service\n  spec:\n    ports:\n    - port: http\n",
    );
    let p = &err.problems()[0];
    assert_eq!(p.field.as_deref(), Some("spec.ports[0].port"));
    assert_eq!((p.line, p.column), (Some(7), Some(13)));

    let err = load_err(r#"{"type": "MODIFIED", "object": {"metadata": {"name": "x"}}}"#);
    assert_eq!(err.problems()[0].kind, ProblemKind::MissingTypeMeta);
}

// ------------------------------------------------------------------ errors

#[test]
fn errors_name_document_object_field_and_position() {
    let good = fixture("service-clusterip.yaml");
    let bad_port = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n  - port: 81\n    targetPort: [8081]\n";
    let bad_type =
        "apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec:\n  type: Loadbalancer\n";
    let stream = [
        good.as_str(),
        bad_port,
        "apiVersion: v1\nkind: ConfigMap\n",
        bad_type,
    ]
    .join("---\n");
    let err = load_err(&stream);
    let problems = err.problems();
    assert_eq!(problems.len(), 2, "{err}");

    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::Field);
    assert_eq!(p.document, 1);
    assert_eq!(p.field.as_deref(), Some("spec.ports[1].targetPort"));
    let object = p.object.as_ref().unwrap();
    assert_eq!(
        (
            object.kind.as_str(),
            object.namespace.as_deref(),
            object.name.as_deref()
        ),
        ("Service", Some("shop"), Some("api"))
    );
    let line_of = |needle: &str| stream.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert_eq!(p.line, Some(line_of("targetPort: [8081]")));
    assert_eq!(p.column, Some(17));

    let p = &problems[1];
    assert_eq!((p.document, p.field.as_deref()), (3, Some("spec.type")));
    assert!(p.message.contains("Loadbalancer") && p.message.contains("LoadBalancer"));
    assert_eq!(p.line, Some(line_of("type: Loadbalancer")));

    let text = err.to_string();
    assert!(text.starts_with("2 problems:"), "{text}");
    assert!(text.contains("document 1 (line"), "{text}");
    assert!(
        text.contains("Service shop/api: spec.ports[1].targetPort: invalid type"),
        "{text}"
    );
    assert_eq!(err.kind(), svcroute::ErrorKind::Parse);
    assert_eq!(
        svcroute::Error::from(err).kind(),
        svcroute::ErrorKind::Parse
    );
}

#[test]
fn errors_in_json_and_in_list_items() {
    let err = load_err(
        r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": true}}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "s"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "3.5 cores"}}}]}"#,
    );
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.item, p.field.clone().unwrap_or_default(), p.line))
        .collect();
    assert_eq!(
        got,
        [
            (Some(1), "metadata.labels.app".to_owned(), Some(1)),
            (Some(2), String::new(), Some(1)),
            (Some(3), "status.allocatable.cpu".to_owned(), Some(1)),
        ]
    );
    assert!(err.problems()[0].message.contains("quote it"));
    assert!(err.problems()[1].message.contains("addressType"));
    assert!(err.problems()[2].message.contains("3.5 cores"));
}

#[test]
fn missing_kind_or_api_version_is_an_error() {
    for (text, expect) in [
        ("metadata: {name: x}\n", "apiVersion and kind are missing"),
        (
            "kind: Service\nmetadata: {name: x}\n",
            "apiVersion is missing",
        ),
        ("apiVersion: v1\nmetadata: {name: x}\n", "kind is missing"),
        ("{\"apiVersion\": \"v1\", \"kind\": 3}", "must be a string"),
        ("- just\n- a list of strings\n", "must be a map"),
        ("hello\n", "must be a map"),
    ] {
        let err = load_err(text);
        assert!(err.to_string().contains(expect), "{text:?}: {err}");
    }
}

#[test]
fn old_versions_of_modelled_kinds_are_unsupported_not_skipped() {
    let err = load_err(
        "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: old}\nspec: {backend: {serviceName: a, servicePort: 80}}\n",
    );
    let p = &err.problems()[0];
    assert_eq!(p.kind, ProblemKind::UnsupportedVersion);
    assert_eq!(err.kind(), svcroute::ErrorKind::Unsupported);
    assert!(p.message.contains("networking.k8s.io/v1"), "{p}");
    // Gateway API v1beta1 reads as v1.
    let loaded = load_ok(
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {hostnames: [a.example]}\n",
    );
    assert_eq!(only(&loaded).kind(), Kind::HTTPRoute);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let err = load_err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n");
    let p = &err.problems()[0];
    assert_eq!(p.kind, ProblemKind::Syntax);
    assert!(p.line.is_some(), "{p}");

    let err = load_err("{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\",,}");
    let p = &err.problems()[0];
    assert_eq!(
        (p.kind, p.line, p.column),
        (ProblemKind::Syntax, Some(2), Some(16))
    );

    let err = load_err("apiVersion: v1\nkind: Pod\nkind: Service\n");
    assert!(err.to_string().contains("duplicate"), "{err}");
    let err =
        api::load_json(r#"{"apiVersion": "v1", "kind": "Pod", "kind": "Service"}"#).unwrap_err();
    assert!(err.to_string().contains("duplicate key `kind`"), "{err}");
}

#[test]
fn errors_after_a_bad_document_are_still_reported() {
    let stream = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {x: 1}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {y: on}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n";
    let err = load_err(stream);
    let docs: Vec<_> = err.problems().iter().map(|p| p.document).collect();
    assert_eq!(docs, [0, 1]);
}

// ------------------------------------------------------------------ YAML 1.1 scalars

#[test]
fn unquoted_non_strings_as_label_values_are_errors() {
    // YAML 1.1 as go-yaml v2 (kubectl) reads it: y/n are booleans too (the "Norway problem").
    for value in [
        "true", "false", "yes", "no", "on", "off", "True", "y", "N", "12", "0755", "0x1F", "1_000",
        "1.5", "1e3",
    ] {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: {value}\n"
        );
        let err = load_err(&text);
        let p = &err.problems()[0];
        assert_eq!(p.field.as_deref(), Some("metadata.labels.app"), "{value}");
        assert!(
            p.message.contains("must be a string") && p.message.contains("quote it"),
            "{value}: {p}"
        );
        assert_eq!((p.line, p.column), (Some(6), Some(10)));
        // Quoted, it is the string.
        let quoted = text.replace(&format!("app: {value}"), &format!("app: \"{value}\""));
        let Object::Pod(pod) = only(&load_ok(&quoted)).clone() else {
            panic!()
        };
        assert_eq!(pod.metadata.labels["app"], value);
    }
    // Plain words that YAML 1.1 does not type stay strings.
    for value in [
        "web",
        "None",
        "v1.2.3",
        "1.2.3.4",
        "10.0.0.0/8",
        "3500m",
        "2024-01-01",
    ] {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: {value}\n"
        );
        let Object::Pod(pod) = only(&load_ok(&text)).clone() else {
            panic!()
        };
        assert_eq!(pod.metadata.labels["app"], value);
    }
    // Empty and null values are "" (as the API server decodes them).
    let Object::Pod(pod) = only(&load_ok(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    a:\n    b: ~\n",
    ))
    .clone() else {
        panic!()
    };
    assert_eq!(
        (
            pod.metadata.labels["a"].as_str(),
            pod.metadata.labels["b"].as_str()
        ),
        ("", "")
    );
    // Annotations and Service selectors too; JSON as well.
    let err = load_err(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: {a: 1}\nspec:\n  selector: {app: yes}\n",
    );
    let fields: Vec<_> = err
        .problems()
        .iter()
        .map(|p| p.field.clone().unwrap())
        .collect();
    assert_eq!(fields, ["metadata.annotations.a"]);
    let err = load_err(
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {"app": true}}}"#,
    );
    assert_eq!(
        err.problems()[0].field.as_deref(),
        Some("spec.selector.app")
    );
    let err = load_err(
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app.kubernetes.io/name": 3}}}"#,
    );
    assert_eq!(
        err.problems()[0].field.as_deref(),
        Some("metadata.labels[app.kubernetes.io/name]")
    );
}

#[test]
fn unquoted_non_strings_in_string_fields_are_errors() {
    // As with `kubectl apply`: YAML 1.1 typing, then strict JSON decoding.
    let err = load_err("apiVersion: v1\nkind: Service\nmetadata:\n  name: on\n");
    assert_eq!(err.problems()[0].field.as_deref(), Some("metadata.name"));
    let err = load_err(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: \"80\"\n",
    );
    assert_eq!(
        err.problems()[0].field.as_deref(),
        Some("spec.ports[0].port")
    );
    // `targetPort: "8080"` is the port *name* "8080", as in Kubernetes.
    let s = service(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: \"8080\"\n",
    );
    assert_eq!(
        s.spec.ports[0].target_port,
        Some(IntOrString::String("8080".into()))
    );
    // `clusterIP: None` is the string None (YAML's null is `null`/`~`).
    assert!(
        service("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None}\n")
            .is_headless()
    );
    // Bools read YAML 1.1 words.
    let s = service(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {publishNotReadyAddresses: yes}\n",
    );
    assert_eq!(s.spec.publish_not_ready_addresses, Some(true));
}

#[test]
fn absent_and_empty_selectors_differ() {
    let absent = service("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n");
    let empty =
        service("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {}}\n");
    let null =
        service("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: null}\n");
    assert_eq!(absent.spec.selector, None);
    assert_eq!(empty.spec.selector, Some(BTreeMap::new()));
    assert_eq!(null.spec.selector, None);
    assert_eq!(
        serde_json::to_value(&empty).unwrap()["spec"],
        serde_json::json!({"selector": {}})
    );
    assert!(serde_json::to_value(&absent).unwrap().get("spec").is_none());
}

// ------------------------------------------------------------------ hostile input

#[test]
fn hostile_yaml_is_an_error_not_a_crash() {
    // Deep nesting, flow and block.
    let deep_flow = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = load_err(&deep_flow);
    assert!(
        matches!(
            err.problems()[0].kind,
            ProblemKind::Limit | ProblemKind::Syntax
        ),
        "{err}"
    );
    let deep_block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    load_err(&deep_block);
    let deep_json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(load_err(&deep_json).problems()[0].kind, ProblemKind::Limit);
    // Nesting up to the limit is fine.
    let ok = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata: {}1{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(load_ok(&ok).skipped_count(), 1);

    // Billion laughs.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
        bomb += &format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        );
    }
    let err = load_err(&bomb);
    assert_eq!(err.problems()[0].kind, ProblemKind::Limit, "{err}");

    // Unknown anchors, tags, binary, odd keys.
    load_err("a: *nope\n");
    load_err("? [a, b]\n: c\n");
    let _ = api::load("apiVersion: v1\nkind: !!binary aGVsbG8=\n");
    let _ = api::load("apiVersion: v1\nkind: Pod\nmetadata: {name: .inf}\n");
    let _ = api::load("%YAML 1.1\n---\napiVersion: v1\nkind: Pod\n");
    let _ = api::load("\u{feff}apiVersion: v1\nkind: Namespace\nmetadata: {name: bom}\n");
    assert_eq!(
        load_ok("\u{feff}{\"apiVersion\": \"v1\", \"kind\": \"Namespace\"}")
            .objects
            .len(),
        1
    );
    // Nothing at all.
    assert_eq!(load_ok(""), Loaded::default());
    assert_eq!(
        load_ok("   \n# only a comment\n---\n...\n"),
        Loaded::default()
    );
    assert_eq!(api::load_json("").unwrap(), Loaded::default());
}

#[test]
fn anchors_and_merge_keys_work_within_budget() {
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: &l {app: web}\nspec:\n  selector: *l\n  ports:\n  - &p {port: 80, protocol: TCP}\n  - <<: *p\n    port: 81\n";
    let s = service(text);
    assert_eq!(s.spec.selector.as_ref().unwrap()["app"], "web");
    assert_eq!(s.spec.ports[1].port, 81);
    assert_eq!(s.spec.ports[1].protocol, Some(Protocol::TCP));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = api::load(&text);
        let _ = api::load_json(&text);
        let _ = api::load_yaml(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = api::load(&text);
        let _ = api::load_yaml(&text);
    }

    #[test]
    fn yaml_like_text_never_panics(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("apiVersion: v1".to_owned()),
                Just("kind: Service".to_owned()),
                Just("kind: List".to_owned()),
                Just("items:".to_owned()),
                Just("- ".to_owned()),
                Just("---".to_owned()),
                Just("...".to_owned()),
                Just("metadata: {name: a}".to_owned()),
                Just("type: ADDED".to_owned()),
                Just("object:".to_owned()),
                "[ a-z:{}\\[\\],&*!|>'\"#-]{0,12}",
                "[ ]{0,6}[a-zA-Z]{1,8}: [a-z0-9~]{0,6}",
            ],
            0..20,
        )
    ) {
        let text = lines.join("\n");
        let _ = api::load(&text);
        let _ = api::load_yaml(&text);
    }

    #[test]
    fn objects_round_trip(
        name in "[a-z][a-z0-9-]{0,10}",
        port in 1..65535i32,
        target in prop_oneof![(1..65535i32).prop_map(IntOrString::Int), "[a-z]{1,8}".prop_map(IntOrString::String)],
        labels in proptest::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{0,5}", 0..4),
    ) {
        let svc = serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {"ports": [{"port": port, "targetPort": target}], "selector": labels},
        });
        let loaded = api::load_json(&svc.to_string()).unwrap();
        assert_round_trip(&loaded);
    }
}

// ---------------------------------------------------------------- limits

/// Issue 13: every loader limit, at its default and configured lower, is a
/// `Limit` problem that names it; a load within the limits still works.
mod limits {
    use svcroute::ErrorKind;
    use svcroute::api::{self, LoadLimits, ProblemKind};
    use svcroute::cluster::{Cluster, ClusterConfig, ClusterLimits};

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";

    fn limit_error(text: &str, limits: &LoadLimits, name: &str) -> api::ApiError {
        let err = api::load_with(text, limits).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert_eq!(err.problems()[0].kind, ProblemKind::Limit, "{err}");
        assert!(err.to_string().contains(name), "{err}");
        err
    }

    #[test]
    fn input_size() {
        let tight = LoadLimits {
            max_input_bytes: 100,
            ..LoadLimits::default()
        };
        limit_error(&CM.repeat(3), &tight, "(maxInputBytes)");
        limit_error(&format!("[{}]", " ".repeat(200)), &tight, "maxInputBytes");
        assert!(api::load_with(CM, &tight).is_ok());
    }

    #[test]
    fn documents_per_stream_yaml_and_json() {
        let tight = LoadLimits {
            max_documents: 3,
            ..LoadLimits::default()
        };
        let yaml = [CM; 4].join("---\n");
        let err = limit_error(
            &yaml,
            &tight,
            "more than 3 documents in one input (maxDocuments)",
        );
        assert_eq!(err.problems()[0].document, 3);
        let json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}"#;
        let err = limit_error(&[json; 4].join("\n"), &tight, "maxDocuments");
        assert_eq!(err.problems()[0].document, 3);
        assert!(api::load_with(&[json; 3].join("\n"), &tight).is_ok());
        // The default: 100,000 documents.
        let many = "---\n".repeat(100_001);
        limit_error(&many, &LoadLimits::default(), "more than 100000 documents");
    }

    #[test]
    fn nesting_depth() {
        let tight = LoadLimits {
            max_depth: 4,
            ..LoadLimits::default()
        };
        let yaml =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: {b: {c: {d: 1}}}}\n";
        let err = limit_error(yaml, &tight, "nesting deeper than 4 levels (maxDepth)");
        assert_eq!(err.problems()[0].line, Some(4));
        let json =
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": {"b": {"c": {"d": 1}}}}}"#;
        let err = limit_error(json, &tight, "maxDepth");
        assert_eq!(err.problems()[0].field.as_deref(), Some("data.a.b.c"));
        // The default and most: 128, whatever is asked.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let high = LoadLimits {
            max_depth: 10_000,
            ..LoadLimits::default()
        };
        assert_eq!(
            api::load_with(&deep, &high).unwrap_err().kind(),
            ErrorKind::Limit
        );
    }

    #[test]
    fn string_length_of_values_and_keys() {
        let tight = LoadLimits {
            max_string_bytes: 16,
            ..LoadLimits::default()
        };
        let long = "x".repeat(17);
        let yaml = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations: {{a: {long}}}\n"
        );
        let err = limit_error(
            &yaml,
            &tight,
            "a string of 17 bytes, over the limit of 16 bytes (maxStringBytes)",
        );
        assert_eq!(err.problems()[0].line, Some(5));
        let json = format!(
            r#"{{"apiVersion": "v1", "kind": "Service", "metadata": {{"name": "web", "labels": {{"{long}": "v"}}}}}}"#
        );
        let err = limit_error(&json, &tight, "a key of 17 bytes");
        assert_eq!(err.problems()[0].field.as_deref(), Some("metadata.labels"));
        // The default: 1 MiB.
        let huge = format!("{CM}data: {{a: {}}}\n", "y".repeat((1 << 20) + 1));
        limit_error(&huge, &LoadLimits::default(), "maxStringBytes");
    }

    // The two cluster limits, checked at apply: the batch is refused whole.
    #[test]
    fn labels_per_object_and_objects_per_cluster() {
        let limits = ClusterLimits {
            max_objects: 8,
            max_labels_per_object: 2,
            ..ClusterLimits::default()
        };
        let mut c = Cluster::new(ClusterConfig {
            limits,
            ..ClusterConfig::default()
        })
        .unwrap();
        let before = c.len();
        let labels = api::load(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {x: '1', y: '2', z: '3'}}\n",
        )
        .unwrap();
        let err = c.apply_batch(labels.into_objects()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
        assert_eq!(err.problems()[0].field.as_deref(), Some("metadata.labels"));
        assert!(err.to_string().contains("maxLabelsPerObject"), "{err}");
        let ns = |n: usize| {
            (0..n)
                .map(|i| format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}}}\n"))
                .collect::<Vec<_>>()
                .join("---\n")
        };
        let err = c
            .apply_batch(api::load(&ns(before + 10)).unwrap().into_objects())
            .unwrap_err();
        assert!(err.to_string().contains("(maxObjects)"), "{err}");
        assert_eq!(c.len(), before);
        c.apply_batch(api::load(&ns(8 - before)).unwrap().into_objects())
            .unwrap();
        assert_eq!(c.len(), 8);
    }
}
