//! Workloads as pod generators (issue 3 "Controllers", issue 14 "Workloads
//! as pod generators"): Deployments → ReplicaSets → Pods, StatefulSets,
//! DaemonSets, scaling, rollouts, deletion, per-pod state, and the bundles
//! of `tests/fixtures/bundles/` with and without a node dump.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use svcroute::api::{Endpoint, Kind, Object, ObjectKey, Pod, PodPhase, ReplicaSet};
use svcroute::cluster::{
    Changes, Cluster, ClusterConfig, PodVerdict, ROLLOUT_STEPS_ANNOTATION, SkipReason,
    default_nodes, explain_service,
};
use svcroute::labels::Selector;

const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(text: &str) -> Vec<Object> {
    svcroute::api::load(text).unwrap().into_objects()
}

fn cluster(seed: u64) -> Cluster {
    Cluster::new(ClusterConfig {
        seed,
        ..ClusterConfig::default()
    })
    .unwrap()
}

fn kubeadm() -> Vec<Object> {
    load(&fixture("nodes-kubeadm.yaml"))
}

fn with_nodes(seed: u64, nodes: Vec<Object>) -> Cluster {
    let mut c = cluster(seed);
    c.apply_batch(nodes).unwrap();
    c
}

fn default_node_objects(n: usize) -> Vec<Object> {
    default_nodes(n).into_iter().map(Object::Node).collect()
}

/// `kubectl create deployment web --image=nginx:<tag> --replicas=N --port=80 --dry-run=client -o yaml`
fn kubectl_deployment(tag: &str, replicas: i32) -> Object {
    load(&format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  strategy: {{}}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx:{tag}
        name: nginx
        ports:
        - containerPort: 80
        resources: {{}}
status: {{}}
"
    ))
    .remove(0)
}

/// `kubectl create service clusterip web --tcp=80:80 --dry-run=client -o yaml`
fn kubectl_service() -> Object {
    load(
        "apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: web
  name: web
spec:
  clusterIP: 10.96.0.80
  ports:
  - name: 80-80
    port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: web
  type: ClusterIP
status:
  loadBalancer: {}
",
    )
    .remove(0)
}

fn pods(c: &Cluster, ns: &str, selector: &str) -> Vec<Pod> {
    c.list(Kind::Pod, Some(ns), &selector.parse::<Selector>().unwrap())
        .into_iter()
        .filter_map(|o| match o.as_ref() {
            Object::Pod(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn replicasets(c: &Cluster, ns: &str) -> Vec<ReplicaSet> {
    c.list(Kind::ReplicaSet, Some(ns), &Selector::everything())
        .into_iter()
        .filter_map(|o| match o.as_ref() {
            Object::ReplicaSet(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn endpoints(c: &Cluster, ns: &str, svc: &str) -> Vec<Endpoint> {
    c.endpoint_slices(ns, svc)
        .into_iter()
        .flat_map(|s| s.endpoints.clone())
        .collect()
}

fn name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap()
}

fn images(c: &Cluster, ns: &str, svc: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for ep in endpoints(c, ns, svc) {
        let pod_name = ep.target_ref.unwrap().name;
        let key = ObjectKey {
            kind: Kind::Pod,
            namespace: Some(ns.into()),
            name: pod_name,
        };
        let Some(Object::Pod(p)) = c.get(&key).map(Cow::into_owned) else {
            panic!()
        };
        *out.entry(p.spec.containers[0].image.clone().unwrap())
            .or_default() += 1;
    }
    out
}

fn pod_keys(changes: &Changes) -> (usize, usize, usize) {
    let p = changes.of_kind(Kind::Pod);
    (p.created.len(), p.updated.len(), p.deleted.len())
}

#[test]
fn deployment_makes_a_replicaset_and_pods_named_as_the_controllers_do() {
    // Issue 14: names `<deployment>-<pod-template-hash>-<5 chars>`.
    let mut c = with_nodes(1, default_node_objects(3));
    let changes = c.apply(kubectl_deployment("1.3", 3)).unwrap();
    assert_eq!(changes.of_kind(Kind::ReplicaSet).created.len(), 1);
    assert_eq!(pod_keys(&changes), (3, 0, 0));

    let rs = &replicasets(&c, "default")[0];
    let rs_name = rs.metadata.name.as_deref().unwrap();
    let hash = &rs.metadata.labels["pod-template-hash"];
    assert_eq!(rs_name, format!("web-{hash}"));
    assert!(hash.chars().all(|ch| ALPHABET.contains(ch)));
    assert_eq!(rs.metadata.owner_references[0].kind, "Deployment");
    assert_eq!(rs.spec.replicas, Some(3));

    let ps = pods(&c, "default", "app=web");
    assert_eq!(ps.len(), 3);
    let mut nodes = BTreeSet::new();
    for p in &ps {
        let suffix = name(p).strip_prefix(&format!("{rs_name}-")).unwrap();
        assert_eq!(suffix.len(), 5);
        assert!(suffix.chars().all(|ch| ALPHABET.contains(ch)));
        assert_eq!(p.metadata.labels["pod-template-hash"], *hash);
        assert_eq!(p.metadata.owner_references[0].name, rs_name);
        assert_eq!(p.metadata.owner_references[0].controller, Some(true));
        assert_eq!(p.status.phase, Some(PodPhase::Running));
        assert!(p.is_ready());
        assert_eq!(p.spec.containers[0].ports[0].container_port, 80);
        // The pod IP comes from its node's podCIDR, hostIP is the node's InternalIP.
        let node = p.spec.node_name.clone().unwrap();
        let i: usize = node.strip_prefix("node-").unwrap().parse().unwrap();
        assert!(
            p.status
                .pod_ip
                .as_ref()
                .unwrap()
                .starts_with(&format!("10.244.{}.", i - 1))
        );
        assert_eq!(
            p.status.host_ip.as_deref(),
            Some(format!("172.18.0.{}", i + 1).as_str())
        );
        nodes.insert(node);
    }
    // Spread: fewest pods first, so three pods on three nodes.
    assert_eq!(nodes.len(), 3);

    // The controllers keep the status counters (`kubectl get deploy`: READY 3/3).
    let d = match c
        .get(&ObjectKey {
            kind: Kind::Deployment,
            namespace: Some("default".into()),
            name: "web".into(),
        })
        .as_deref()
    {
        Some(Object::Deployment(d)) => d.clone(),
        _ => panic!(),
    };
    assert_eq!(
        (d.status.replicas, d.status.ready_replicas),
        (Some(3), Some(3))
    );
    let p = name(&ps[0]).to_owned();
    let changes = c.set_pod_ready("default", &p, false).unwrap();
    assert_eq!(changes.of_kind(Kind::Deployment).updated.len(), 1);
    assert_eq!(changes.of_kind(Kind::ReplicaSet).updated.len(), 1);
    assert_eq!(replicasets(&c, "default")[0].status.ready_replicas, Some(2));
}

#[test]
fn names_are_deterministic_from_the_seed() {
    let names = |seed: u64| {
        let mut c = with_nodes(seed, default_node_objects(3));
        c.apply(kubectl_deployment("1.3", 3)).unwrap();
        pods(&c, "default", "app=web")
            .iter()
            .map(|p| name(p).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(7), names(7));
    assert_ne!(names(7), names(8));
}

#[test]
fn replicas_default_to_one() {
    let mut c = with_nodes(0, default_node_objects(1));
    let mut d = kubectl_deployment("1.3", 1);
    if let Object::Deployment(d) = &mut d {
        d.spec.replicas = None;
    }
    c.apply(d).unwrap();
    assert_eq!(pods(&c, "default", "app=web").len(), 1);
}

#[test]
fn scaling_up_and_down_follows_into_the_endpoint_slices() {
    let mut c = with_nodes(0, default_node_objects(3));
    c.apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 3)])
        .unwrap();
    assert_eq!(endpoints(&c, "default", "web").len(), 3);

    let changes = c.scale(Kind::Deployment, "default", "web", 5).unwrap();
    assert_eq!(pod_keys(&changes), (2, 0, 0));
    assert!(!changes.of_kind(Kind::EndpointSlice).is_empty());
    assert_eq!(endpoints(&c, "default", "web").len(), 5);

    // Scale down: the pods on the nodes with most pods of the ReplicaSet go
    // first, then by name, last first.
    let before: BTreeMap<String, String> = pods(&c, "default", "app=web")
        .iter()
        .map(|p| (name(p).to_owned(), p.spec.node_name.clone().unwrap()))
        .collect();
    let changes = c.scale(Kind::Deployment, "default", "web", 2).unwrap();
    assert_eq!(pod_keys(&changes), (0, 0, 3));
    let after = pods(&c, "default", "app=web");
    assert_eq!(after.len(), 2);
    let nodes: BTreeSet<_> = after.iter().map(|p| p.spec.node_name.clone()).collect();
    assert_eq!(nodes.len(), 2, "{before:?}");
    assert_eq!(endpoints(&c, "default", "web").len(), 2);

    // kubectl scale on a Service is refused.
    assert!(c.scale(Kind::Service, "default", "web", 1).is_err());
}

#[test]
fn a_rollout_held_half_way_shows_both_versions_then_only_the_new_one() {
    // Issue 3: "the rollout in which a Service selects versions 1.3 and 1.4
    // and then only 1.4".
    let mut c = with_nodes(0, default_node_objects(3));
    c.apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 3)])
        .unwrap();
    assert_eq!(
        images(&c, "default", "web"),
        BTreeMap::from([("nginx:1.3".into(), 3)])
    );

    let mut v14 = kubectl_deployment("1.4", 3);
    v14.metadata_mut()
        .annotations
        .insert(ROLLOUT_STEPS_ANNOTATION.into(), "1".into());
    let changes = c.apply(v14.clone()).unwrap();
    assert_eq!(changes.of_kind(Kind::ReplicaSet).created.len(), 1);
    assert!(c.rollout_held("default", "web"));
    // maxSurge 25% of 3 → 1: one 1.4 pod next to the three 1.3 pods.
    assert_eq!(
        images(&c, "default", "web"),
        BTreeMap::from([("nginx:1.3".into(), 3), ("nginx:1.4".into(), 1)])
    );
    // Re-applying the held Deployment does not move it.
    assert!(c.apply(v14).unwrap().of_kind(Kind::Pod).is_empty());

    // One more step: an old pod goes.
    let changes = c.rollout_step("default", "web").unwrap();
    assert_eq!(pod_keys(&changes), (0, 0, 1));
    assert_eq!(
        images(&c, "default", "web"),
        BTreeMap::from([("nginx:1.3".into(), 2), ("nginx:1.4".into(), 1)])
    );

    // Applying without the annotation finishes the rollout.
    c.apply(kubectl_deployment("1.4", 3)).unwrap();
    assert!(!c.rollout_held("default", "web"));
    assert_eq!(
        images(&c, "default", "web"),
        BTreeMap::from([("nginx:1.4".into(), 3)])
    );
    // The old ReplicaSet stays, scaled to 0.
    let rs = replicasets(&c, "default");
    assert_eq!(rs.len(), 2);
    assert_eq!(rs.iter().map(|r| r.spec.replicas.unwrap()).sum::<i32>(), 3);
}

#[test]
fn changing_the_template_rolls_out_to_the_end_by_default() {
    let mut c = with_nodes(0, default_node_objects(3));
    c.apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 3)])
        .unwrap();
    let changes = c.apply(kubectl_deployment("1.4", 3)).unwrap();
    assert_eq!(pod_keys(&changes), (3, 0, 3));
    assert_eq!(
        images(&c, "default", "web"),
        BTreeMap::from([("nginx:1.4".into(), 3)])
    );
}

#[test]
fn deleting_a_deployment_cascades() {
    let mut c = with_nodes(0, default_node_objects(2));
    c.apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 2)])
        .unwrap();
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Deployment,
            namespace: Some("default".into()),
            name: "web".into(),
        })
        .unwrap();
    assert_eq!(changes.of_kind(Kind::ReplicaSet).deleted.len(), 1);
    assert_eq!(pod_keys(&changes), (0, 0, 2));
    assert!(pods(&c, "default", "app=web").is_empty());
    assert!(endpoints(&c, "default", "web").is_empty());
}

#[test]
fn a_deleted_pod_is_replaced_by_its_replicaset() {
    let mut c = with_nodes(0, default_node_objects(2));
    c.apply(kubectl_deployment("1.3", 2)).unwrap();
    let victim = pods(&c, "default", "app=web")[0].clone();
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Pod,
            namespace: Some("default".into()),
            name: name(&victim).into(),
        })
        .unwrap();
    assert_eq!(pod_keys(&changes), (1, 0, 1));
    let now = pods(&c, "default", "app=web");
    assert_eq!(now.len(), 2);
    assert!(now.iter().all(|p| name(p) != name(&victim)));
}

#[test]
fn a_bad_selector_fails_the_whole_batch() {
    // The API server refuses a Deployment whose selector does not match its
    // template's labels; nothing of the batch is applied.
    let mut c = with_nodes(0, default_node_objects(1));
    let before = c.len();
    let mut bad = kubectl_deployment("1.3", 2);
    if let Object::Deployment(d) = &mut bad {
        d.spec
            .template
            .metadata
            .labels
            .insert("app".into(), "webb".into());
    }
    let err = c
        .apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 1), bad])
        .unwrap_err();
    assert_eq!(err.kind(), svcroute::ErrorKind::Invalid);
    let p = &err.problems()[0];
    assert_eq!(p.field.as_deref(), Some("spec.template.metadata.labels"));
    assert_eq!(p.index, Some(2));
    assert_eq!(
        p.message,
        "Invalid value: map[string]string{\"app\":\"webb\"}: `selector` does not match template `labels`"
    );
    assert_eq!(c.len(), before);

    let mut none = kubectl_deployment("1.3", 1);
    if let Object::Deployment(d) = &mut none {
        d.spec.selector = None;
        d.spec.replicas = Some(-1);
    }
    let err = c.apply(none).unwrap_err();
    let fields: Vec<_> = err
        .problems()
        .iter()
        .map(|p| p.field.clone().unwrap())
        .collect();
    assert_eq!(fields, ["spec.replicas", "spec.selector"]);
}

#[test]
fn a_replicaset_alone_makes_pods() {
    let mut c = with_nodes(0, default_node_objects(2));
    let rs = load(
        "apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: frontend, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {tier: frontend}}
  template:
    metadata: {labels: {tier: frontend}}
    spec: {containers: [{name: php, image: php:8}]}
",
    );
    c.apply_batch(rs).unwrap();
    let ps = pods(&c, "shop", "tier=frontend");
    assert_eq!(ps.len(), 2);
    assert!(
        ps.iter()
            .all(|p| name(p).starts_with("frontend-") && name(p).len() == 14)
    );
    assert!(!ps[0].metadata.labels.contains_key("pod-template-hash"));
}

#[test]
fn statefulset_behind_a_headless_service_gives_per_pod_hostnames() {
    // EP-4: hostname in the EndpointSlice for pods with hostname+subdomain
    // naming the Service.
    let mut c = with_nodes(0, kubeadm());
    c.apply_batch(load(&fixture("statefulset-headless.yaml")))
        .unwrap();
    let ps = pods(&c, "default", "app=nginx");
    let names: Vec<_> = ps.iter().map(name).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"]);
    for (i, p) in ps.iter().enumerate() {
        assert_eq!(p.spec.hostname.as_deref(), Some(name(p)));
        assert_eq!(p.spec.subdomain.as_deref(), Some("nginx"));
        assert_eq!(
            p.metadata.labels["statefulset.kubernetes.io/pod-name"],
            name(p)
        );
        assert_eq!(
            p.metadata.labels["apps.kubernetes.io/pod-index"],
            i.to_string()
        );
        assert!(p.metadata.labels["controller-revision-hash"].starts_with("web-"));
        assert_ne!(p.spec.node_name.as_deref(), Some("cp-1"));
    }
    let mut hostnames: Vec<_> = endpoints(&c, "default", "nginx")
        .into_iter()
        .map(|e| e.hostname.unwrap())
        .collect();
    hostnames.sort();
    assert_eq!(hostnames, ["web-0", "web-1", "web-2"]);

    // Scale down removes the highest ordinal.
    c.scale(Kind::StatefulSet, "default", "web", 2).unwrap();
    let names: Vec<_> = pods(&c, "default", "app=nginx")
        .iter()
        .map(|p| name(p).to_owned())
        .collect();
    assert_eq!(names, ["web-0", "web-1"]);
}

#[test]
fn daemonset_runs_on_every_node_it_tolerates() {
    let ds = |tolerate: bool| {
        let tol = if tolerate {
            "\n      tolerations:\n      - key: node-role.kubernetes.io/control-plane\n        operator: Exists\n        effect: NoSchedule"
        } else {
            ""
        };
        load(&format!(
            "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      containers: [{{name: agent, image: agent:1}}]{tol}
"
        ))
        .remove(0)
    };
    let mut c = with_nodes(0, kubeadm());
    c.apply(ds(false)).unwrap();
    let on: BTreeSet<_> = pods(&c, "kube-system", "app=agent")
        .iter()
        .map(|p| p.spec.node_name.clone().unwrap())
        .collect();
    // The control-plane taint keeps it off cp-1.
    assert_eq!(
        on,
        BTreeSet::from(["worker-1".into(), "worker-2".into(), "worker-3".into()])
    );
    for p in pods(&c, "kube-system", "app=agent") {
        assert!(name(&p).starts_with("agent-") && name(&p).len() == 11);
    }

    // Tolerating the taint puts one on the control plane too.
    c.apply(ds(true)).unwrap();
    assert_eq!(pods(&c, "kube-system", "app=agent").len(), 4);

    // Nodes come and go.
    let mut extra = default_nodes(1).remove(0);
    extra.metadata.name = Some("worker-4".into());
    extra.spec.pod_cidrs = vec!["10.244.4.0/24".into()];
    extra.spec.pod_cidr = Some("10.244.4.0/24".into());
    let changes = c.apply(Object::Node(extra)).unwrap();
    assert_eq!(pod_keys(&changes), (1, 0, 0));
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Node,
            namespace: None,
            name: "worker-1".into(),
        })
        .unwrap();
    assert_eq!(pod_keys(&changes), (0, 0, 1));
    assert_eq!(pods(&c, "kube-system", "app=agent").len(), 4);
}

#[test]
fn readiness_and_termination_are_settable_per_pod() {
    // EP-3: ready / serving / terminating follow the pod.
    let mut c = with_nodes(0, default_node_objects(2));
    c.apply_batch(vec![kubectl_service(), kubectl_deployment("1.3", 2)])
        .unwrap();
    let p = name(&pods(&c, "default", "app=web")[0]).to_owned();
    let changes = c.set_pod_ready("default", &p, false).unwrap();
    assert_eq!(pod_keys(&changes), (0, 1, 0));
    let ep = |c: &Cluster| {
        endpoints(c, "default", "web")
            .into_iter()
            .find(|e| e.target_ref.as_ref().unwrap().name == p)
            .unwrap()
    };
    assert_eq!(ep(&c).conditions.ready, Some(false));
    c.set_pod_ready("default", &p, true).unwrap();
    assert_eq!(ep(&c).conditions.ready, Some(true));

    // Terminating: not ready, serving while Ready; the ReplicaSet makes a
    // replacement, as upstream (terminating pods do not count).
    let changes = c.set_pod_terminating("default", &p).unwrap();
    assert_eq!(pod_keys(&changes), (1, 1, 0));
    let e = ep(&c);
    assert_eq!(
        (
            e.conditions.ready,
            e.conditions.serving,
            e.conditions.terminating
        ),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(endpoints(&c, "default", "web").len(), 3);
    assert!(c.set_pod_ready("default", "nope", true).is_err());
}

#[test]
fn hostnetwork_pods_take_the_node_address() {
    let mut c = with_nodes(0, default_node_objects(1));
    c.apply_batch(load(
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: edge}
spec:
  selector: {matchLabels: {app: edge}}
  template:
    metadata: {labels: {app: edge}}
    spec: {hostNetwork: true, containers: [{name: e}]}
",
    ))
    .unwrap();
    let p = &pods(&c, "default", "app=edge")[0];
    assert_eq!(p.status.pod_ip.as_deref(), Some("172.18.0.2"));
    assert_eq!(p.status.host_ip.as_deref(), Some("172.18.0.2"));
}

#[test]
fn a_dump_with_its_pods_is_not_doubled() {
    // A `kubectl get -o json` dump: Deployment, its ReplicaSet and its
    // Pods (ownerReferences), all with status.
    let dump = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "apps/v1", "kind": "Deployment",
       "metadata": {"name": "web", "namespace": "default", "uid": "d-1"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}},
      {"apiVersion": "apps/v1", "kind": "ReplicaSet",
       "metadata": {"name": "web-7c5ddbdf54", "namespace": "default", "uid": "rs-1",
                    "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": true}]},
       "spec": {"replicas": 2,
                "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7c5ddbdf54"}},
                "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}},
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-7c5ddbdf54-abcde", "namespace": "default",
                    "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7c5ddbdf54", "uid": "rs-1", "controller": true}]},
       "spec": {"nodeName": "node-1"},
       "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.7"}], "conditions": [{"type": "Ready", "status": "True"}]}},
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-7c5ddbdf54-fghij", "namespace": "default",
                    "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7c5ddbdf54", "uid": "rs-1", "controller": true}]},
       "spec": {"nodeName": "node-1"},
       "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.8"}], "conditions": [{"type": "Ready", "status": "True"}]}}
    ]}"#;
    for workloads in [true, false] {
        let mut c = Cluster::new(ClusterConfig {
            workloads,
            ..ClusterConfig::default()
        })
        .unwrap();
        let mut objects = default_node_objects(1);
        objects.extend(load(dump));
        let changes = c.apply_batch(objects).unwrap();
        assert_eq!(
            changes.of_kind(Kind::Pod).created.len(),
            2,
            "workloads: {workloads}"
        );
        assert_eq!(pods(&c, "default", "app=web").len(), 2);
        assert_eq!(replicasets(&c, "default").len(), 1);
    }
    // With the controllers off, a Deployment alone makes nothing.
    let mut c = Cluster::new(ClusterConfig {
        workloads: false,
        ..ClusterConfig::default()
    })
    .unwrap();
    c.apply(kubectl_deployment("1.3", 3)).unwrap();
    assert!(pods(&c, "default", "").is_empty());
}

#[test]
fn explain_shows_why_a_pod_is_pending() {
    // Issue 14: "explain service shows that reason".
    let mut c = with_nodes(0, kubeadm());
    let mut d = kubectl_deployment("1.3", 1);
    if let Object::Deployment(d) = &mut d {
        d.spec.template.spec.node_selector =
            Some(BTreeMap::from([("disktype".into(), "ssd".into())]));
    }
    c.apply_batch(vec![kubectl_service(), d]).unwrap();
    let why = explain_service(&c, "default", "web").unwrap();
    let expected = "0/4 nodes are available: 1 node(s) had untolerated taint \
        {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node \
        affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful \
        for scheduling.";
    assert_eq!(
        why.pods[0].verdict,
        PodVerdict::Skipped(SkipReason::Pending(expected.into()))
    );
    assert_eq!(
        why.pods[0].verdict.to_string(),
        format!("left out: Pending: {expected}")
    );
    assert_eq!(why.ready_endpoints(), 0);

    // A node with the label arrives: the pending pod is scheduled.
    let mut ssd = default_nodes(1).remove(0);
    ssd.metadata.name = Some("worker-ssd".into());
    ssd.spec.pod_cidrs = vec!["10.244.9.0/24".into()];
    ssd.spec.pod_cidr = Some("10.244.9.0/24".into());
    ssd.metadata.labels.insert("disktype".into(), "ssd".into());
    let changes = c.apply(Object::Node(ssd)).unwrap();
    assert_eq!(pod_keys(&changes), (0, 1, 0));
    assert_eq!(
        explain_service(&c, "default", "web")
            .unwrap()
            .ready_endpoints(),
        1
    );
}

// ------------------------------------------------------------ bundles

struct Bundle {
    cluster: Cluster,
}

impl Bundle {
    fn load(file: &str, nodes: Vec<Object>) -> Bundle {
        let mut c = with_nodes(3, nodes);
        let loaded = svcroute::api::load(&fixture(file)).unwrap();
        c.apply_batch(loaded.into_objects()).unwrap();
        Bundle { cluster: c }
    }

    fn ready(&self, svc: &str) -> usize {
        endpoints(&self.cluster, "default", svc)
            .iter()
            .filter(|e| e.conditions.is_ready())
            .count()
    }
}

#[test]
fn shop_bundle_on_a_kubeadm_cluster() {
    let b = Bundle::load("shop-microservices.yaml", kubeadm());
    let services: Vec<_> = b
        .cluster
        .list(Kind::Service, Some("default"), &Selector::everything())
        .into_iter()
        .filter_map(|o| o.name().map(str::to_owned))
        .filter(|n| n != "kubernetes")
        .collect();
    assert_eq!(services.len(), 12);
    for svc in &services {
        assert_eq!(b.ready(svc), 1, "{svc}");
    }
    // No application pod on the tainted control plane.
    let all = pods(&b.cluster, "default", "");
    assert_eq!(all.len(), 12);
    assert!(
        all.iter()
            .all(|p| p.spec.node_name.as_deref() != Some("cp-1"))
    );
    // mailer: Service port 5000, targetPort 8080.
    let slices = b.cluster.endpoint_slices("default", "mailer");
    assert_eq!(slices[0].ports[0].port, Some(8080));
    // Named gRPC targetPort resolved per pod.
    let slices = b.cluster.endpoint_slices("default", "basket");
    assert_eq!(slices[0].ports[0].port, Some(7070));
    // The LoadBalancer front end selects the storefront pod.
    assert_eq!(b.ready("storefront-external"), 1);
}

#[test]
fn shop_bundle_with_no_nodes_stays_pending_and_with_default_nodes_runs() {
    let b = Bundle::load("shop-microservices.yaml", Vec::new());
    assert_eq!(b.ready("storefront"), 0);
    let why = explain_service(&b.cluster, "default", "storefront").unwrap();
    assert_eq!(
        why.pods[0].verdict,
        PodVerdict::Skipped(SkipReason::Pending(
            "no nodes available to schedule pods".into()
        ))
    );
    let b = Bundle::load("shop-microservices.yaml", default_node_objects(3));
    assert_eq!(b.ready("storefront"), 1);
    // Spread over three nodes: 12 pods, 4 each.
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods(&b.cluster, "default", "") {
        *per_node.entry(p.spec.node_name.unwrap()).or_default() += 1;
    }
    assert_eq!(per_node.values().copied().collect::<Vec<_>>(), [4, 4, 4]);
}

#[test]
fn versioned_bundle_one_service_over_three_deployments() {
    for nodes in [kubeadm(), default_node_objects(3)] {
        let b = Bundle::load("versioned-app.yaml", nodes);
        assert_eq!(b.ready("critic"), 6);
        let mut versions: BTreeMap<String, usize> = BTreeMap::new();
        for e in endpoints(&b.cluster, "default", "critic") {
            let key = ObjectKey {
                kind: Kind::Pod,
                namespace: Some("default".into()),
                name: e.target_ref.unwrap().name,
            };
            let Some(Object::Pod(p)) = b.cluster.get(&key).map(Cow::into_owned) else {
                panic!()
            };
            *versions
                .entry(p.metadata.labels["version"].clone())
                .or_default() += 1;
        }
        // A third each.
        assert_eq!(
            versions,
            BTreeMap::from([("v1".into(), 2), ("v2".into(), 2), ("v3".into(), 2)])
        );
        // Named targetPort `http` resolved to 9080.
        let slices = b.cluster.endpoint_slices("default", "critic");
        assert_eq!(slices[0].ports[0].port, Some(9080));
    }
}

#[test]
fn statefulset_bundle_with_default_nodes() {
    let b = Bundle::load("statefulset-headless.yaml", default_node_objects(3));
    assert_eq!(b.ready("nginx"), 3);
    let nodes: BTreeSet<_> = pods(&b.cluster, "default", "app=nginx")
        .into_iter()
        .map(|p| p.spec.node_name.unwrap())
        .collect();
    assert_eq!(nodes.len(), 3);
}

#[test]
fn deleting_a_deployments_replicaset_makes_it_again_with_new_pods() {
    let mut c = with_nodes(0, default_node_objects(2));
    c.apply(kubectl_deployment("1.3", 2)).unwrap();
    let rs = replicasets(&c, "default")[0].metadata.name.clone().unwrap();
    let old: BTreeSet<String> = pods(&c, "default", "app=web")
        .iter()
        .map(|p| name(p).to_owned())
        .collect();
    c.delete(&ObjectKey {
        kind: Kind::ReplicaSet,
        namespace: Some("default".into()),
        name: rs.clone(),
    })
    .unwrap();
    // The Deployment makes the same ReplicaSet again (same template, same
    // hash); its old pods went with the deleted one.
    assert_eq!(
        replicasets(&c, "default")[0].metadata.name.as_deref(),
        Some(rs.as_str())
    );
    let new: BTreeSet<String> = pods(&c, "default", "app=web")
        .iter()
        .map(|p| name(p).to_owned())
        .collect();
    assert_eq!(new.len(), 2);
    assert!(old.is_disjoint(&new));
}

#[test]
fn a_deleted_statefulset_pod_comes_back_with_its_name() {
    let mut c = with_nodes(0, default_node_objects(3));
    c.apply_batch(load(&fixture("statefulset-headless.yaml")))
        .unwrap();
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::Pod,
            namespace: Some("default".into()),
            name: "web-1".into(),
        })
        .unwrap();
    // Deleted and made again within the call: one update, net.
    assert_eq!(pod_keys(&changes), (0, 1, 0));
    assert_eq!(pods(&c, "default", "app=nginx").len(), 3);
    // Deleting the StatefulSet takes its pods.
    let changes = c
        .delete(&ObjectKey {
            kind: Kind::StatefulSet,
            namespace: Some("default".into()),
            name: "web".into(),
        })
        .unwrap();
    assert_eq!(pod_keys(&changes), (0, 0, 3));
}

#[test]
fn pods_of_a_dump_whose_owner_is_not_in_the_input_are_kept() {
    // `kubectl get pods -o json`: the pods name their ReplicaSet, which is
    // not in the input. Nothing deletes them, even when their node goes.
    let mut c = with_nodes(0, default_node_objects(2));
    let pods_only = load(
        r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-7c5ddbdf54-abcde", "namespace": "default", "labels": {"app": "web"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7c5ddbdf54", "uid": "rs-1", "controller": true}]},
       "spec": {"nodeName": "node-1"},
       "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.7"}], "conditions": [{"type": "Ready", "status": "True"}]}}]}"#,
    );
    c.apply_batch(pods_only).unwrap();
    assert_eq!(pods(&c, "default", "app=web").len(), 1);
    c.delete(&ObjectKey {
        kind: Kind::Node,
        namespace: None,
        name: "node-1".into(),
    })
    .unwrap();
    assert_eq!(pods(&c, "default", "app=web").len(), 1);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Scale(i32),
        Template(u8),
        DeletePod(usize),
        Ready(usize, bool),
        Terminate(usize),
        AddNode(u8),
        DeleteNode(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..6i32).prop_map(Op::Scale),
            (0..3u8).prop_map(Op::Template),
            (0..8usize).prop_map(Op::DeletePod),
            (0..8usize, any::<bool>()).prop_map(|(i, r)| Op::Ready(i, r)),
            (0..8usize).prop_map(Op::Terminate),
            (0..4u8).prop_map(Op::AddNode),
            (0..4u8).prop_map(Op::DeleteNode),
        ]
    }

    fn node(i: u8) -> Object {
        let mut n = default_nodes(1).remove(0);
        n.metadata.name = Some(format!("n{i}"));
        n.spec.pod_cidrs = vec![format!("10.244.{i}.0/24")];
        n.spec.pod_cidr = Some(format!("10.244.{i}.0/24"));
        Object::Node(n)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever happens, the ReplicaSets own `replicas` active pods in
        /// all, every scheduled pod has an address unique on its node, and
        /// the slices are what a resync computes from scratch.
        #[test]
        fn controllers_settle(ops in proptest::collection::vec(op(), 1..12)) {
            let mut c = with_nodes(5, vec![node(0), node(1)]);
            c.apply_batch(vec![kubectl_service(), kubectl_deployment("1", 2)]).unwrap();
            let mut replicas = 2;
            let mut tag = 1u8;
            for op in ops {
                let live: Vec<String> = pods(&c, "default", "app=web").iter().map(|p| name(p).to_owned()).collect();
                let pick = |i: usize| live.get(i % live.len().max(1)).cloned();
                match op {
                    Op::Scale(n) => { replicas = n; c.scale(Kind::Deployment, "default", "web", n).unwrap(); }
                    Op::Template(t) => { tag = t; c.apply(kubectl_deployment(&t.to_string(), replicas)).unwrap(); }
                    Op::DeletePod(i) => if let Some(p) = pick(i) {
                        c.delete(&ObjectKey { kind: Kind::Pod, namespace: Some("default".into()), name: p }).unwrap();
                    },
                    Op::Ready(i, r) => if let Some(p) = pick(i) { c.set_pod_ready("default", &p, r).unwrap(); },
                    Op::Terminate(i) => if let Some(p) = pick(i) { c.set_pod_terminating("default", &p).unwrap(); },
                    Op::AddNode(i) => { let _ = c.apply(node(i)); },
                    Op::DeleteNode(i) => { let _ = c.delete(&ObjectKey { kind: Kind::Node, namespace: None, name: format!("n{i}") }); },
                }
            }
            let all = pods(&c, "default", "app=web");
            let active: Vec<&Pod> = all.iter().filter(|p| !p.is_terminating()).collect();
            prop_assert_eq!(active.len(), replicas as usize);
            let image = format!("nginx:{tag}");
            prop_assert!(active.iter().all(|p| p.spec.containers[0].image.as_deref() == Some(image.as_str())));
            let mut seen = BTreeSet::new();
            for p in &all {
                if let (Some(n), Some(ip)) = (&p.spec.node_name, &p.status.pod_ip) {
                    prop_assert!(seen.insert((n.clone(), ip.clone())), "{} reused on {}", ip, n);
                }
            }
            prop_assert!(c.resync().is_empty());
        }
    }
}

#[test]
fn pods_on_a_node_without_a_pod_cidr_wait_for_one() {
    // Without node IPAM (a Node stored without podCIDRs) the CNI has no
    // range: the pod is bound but Pending without an IP, and starts once the
    // Node has a pod CIDR.
    let mut bare = default_nodes(1).remove(0);
    bare.spec.pod_cidrs.clear();
    bare.spec.pod_cidr = None;
    let mut c = Cluster::new(ClusterConfig::default()).unwrap();
    let stored = c.apply(Object::Node(bare)).unwrap();
    let Some(Object::Node(node)) = c
        .get(
            &stored
                .created
                .iter()
                .find(|k| k.kind == Kind::Node)
                .unwrap()
                .clone(),
        )
        .map(Cow::into_owned)
    else {
        panic!()
    };
    c.apply(kubectl_deployment("1.3", 1)).unwrap();
    let p = &pods(&c, "default", "app=web")[0];
    if node.spec.pod_cidrs.is_empty() {
        // Admission not wired: no CIDR, the pod waits.
        assert_eq!(p.status.phase, Some(PodPhase::Pending));
        assert_eq!(p.status.pod_ip, None);
        let mut with_cidr = node.clone();
        with_cidr.spec.pod_cidrs = vec!["10.244.7.0/24".into()];
        with_cidr.spec.pod_cidr = Some("10.244.7.0/24".into());
        c.apply(Object::Node(with_cidr)).unwrap();
        let p = &pods(&c, "default", "app=web")[0];
        assert_eq!(p.status.pod_ip.as_deref(), Some("10.244.7.2"));
    } else {
        // Node IPAM gave the Node a CIDR on admission: the pod runs at once.
        assert_eq!(p.status.phase, Some(PodPhase::Running));
    }
}
