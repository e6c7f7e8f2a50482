// The Cluster class as JS sees it (run `wasm/build.sh` first):
//   node --test wasm/tests/*.test.mjs
// The manifest is the one of bindings/c/tests/cluster.c, as YAML (when the
// build reads YAML, see hasYaml()) and as the equivalent JSON stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require(here("../pkg-node/svcroute_wasm.js"));
const { Cluster, hasYaml } = pkg;

const MANIFEST_YAML = `# A shop: one node, two web pods (one not ready), a Service, and a
# ConfigMap svcroute does not model.
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels: {app: web}
spec:
  nodeName: n1
  containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]
status:
  phase: Running
  podIPs: [{ip: 10.244.0.5}]
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  namespace: shop
  labels: {app: web}
spec:
  nodeName: n1
  containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]
status:
  phase: Running
  podIPs: [{ip: 10.244.0.6}]
  conditions: [{type: Ready, status: "False"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-1
  namespace: shop
  labels: {app: webb}
spec: {nodeName: n1}
status:
  phase: Running
  podIPs: [{ip: 10.244.0.7}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
`;

const pod = (name, app, ip, ready) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop", labels: { app } },
  spec: {
    nodeName: "n1",
    ...(ready === undefined ? {} : { containers: [{ name: "web", ports: [{ name: "http", containerPort: 8080 }] }] }),
  },
  status: {
    phase: "Running",
    podIPs: [{ ip }],
    ...(ready === undefined ? {} : { conditions: [{ type: "Ready", status: ready }] }),
  },
});

const MANIFEST_OBJECTS = [
  { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } },
  pod("web-1", "web", "10.244.0.5", "True"),
  pod("web-2", "web", "10.244.0.6", "False"),
  pod("api-1", "webb", "10.244.0.7"),
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "shop" },
    spec: { clusterIP: "10.96.0.20", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  },
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "shop" }, data: { mode: "fast" } },
];
// A JSON stream, one document per line, like the YAML's documents.
const MANIFEST_JSON = MANIFEST_OBJECTS.map((o) => JSON.stringify(o)).join("\n");

const keys = (list) => list.map((k) => `${k.kind} ${k.namespace ? k.namespace + "/" : ""}${k.name}`);

function checkShop(cluster, changes) {
  assert.deepEqual(changes.updated, []);
  assert.deepEqual(changes.deleted, []);
  assert.deepEqual(changes.skipped, [{ apiVersion: "v1", kind: "ConfigMap", count: 1 }]);
  const created = keys(changes.created);
  assert.equal(created.length, 8, created.join(", ")); // the slice and the Endpoints object too
  for (const k of ["Namespace shop", "Node n1", "Pod shop/web-1", "Pod shop/web-2", "Pod shop/api-1", "Service shop/web", "Endpoints shop/web"]) {
    assert.ok(created.includes(k), `${k} in ${created}`);
  }
  const slice = changes.created.find((k) => k.kind === "EndpointSlice");
  assert.equal(slice.apiVersion, "discovery.k8s.io/v1");
  assert.match(slice.name, /^web-[a-z0-9]{5}$/);

  // A fresh real cluster: the bootstrap namespaces and default/kubernetes.
  const namespaces = cluster.list("Namespace");
  assert.equal(namespaces.kind, "List");
  assert.deepEqual(
    namespaces.items.map((n) => n.metadata.name),
    ["default", "kube-node-lease", "kube-public", "kube-system", "shop"],
  );
  const kubernetes = cluster.list("Service", "default").items;
  assert.equal(kubernetes[0].spec.clusterIP, "10.96.0.1");

  // Pods by selector.
  assert.deepEqual(cluster.list("Pod", "shop", "app=web").items.map((p) => p.metadata.name), ["web-1", "web-2"]);
  assert.deepEqual(cluster.list("Pod", null, "app in (web,webb),app!=web").items.map((p) => p.metadata.name), ["api-1"]);
  assert.deepEqual(cluster.list("pod", "elsewhere").items, []);

  // The controller's slice.
  const slices = cluster.endpointSlices("shop", "web");
  assert.equal(slices.items.length, 1);
  const s = slices.items[0];
  assert.equal(s.kind, "EndpointSlice");
  assert.equal(s.metadata.labels["kubernetes.io/service-name"], "web");
  assert.deepEqual(s.endpoints.map((e) => [e.addresses[0], e.conditions.ready]), [
    ["10.244.0.5", true],
    ["10.244.0.6", false],
  ]);
  assert.equal(s.ports[0].port, 8080);

  // Why.
  const why = cluster.explainService("shop", "web");
  assert.equal(why.readyEndpoints, 1);
  assert.equal(why.selector, "app=web");
  assert.equal(why.type, "ClusterIP");
  const verdicts = Object.fromEntries(why.pods.map((p) => [p.name, p.verdict]));
  assert.deepEqual(verdicts, { "web-1": "Ready", "web-2": "NotReady", "api-1": "NotSelected" });
  const miss = why.pods.find((p) => p.name === "api-1");
  assert.deepEqual(miss.labelMisses, [{ key: "app", wanted: "web", found: "webb" }]);
  assert.deepEqual(why.pods.find((p) => p.name === "web-1").ports, [{ name: "http", targetPort: 8080 }]);
}

test("apply the shop as JSON, then list, slices, explain", () => {
  const cluster = new Cluster();
  try {
    checkShop(cluster, cluster.apply(MANIFEST_JSON));
  } finally {
    cluster.free();
  }
});

test("apply the shop as YAML (or a clear error without YAML)", () => {
  const cluster = new Cluster();
  try {
    if (hasYaml()) {
      checkShop(cluster, cluster.apply(MANIFEST_YAML));
    } else {
      assert.throws(() => cluster.apply(MANIFEST_YAML), (e) => e.code === "parse" && /YAML/.test(e.message));
      assert.deepEqual(cluster.list("Pod").items, []);
    }
  } finally {
    cluster.free();
  }
});

test("a bad manifest throws an Error with a code and changes nothing", () => {
  const cluster = new Cluster();
  try {
    cluster.apply(MANIFEST_JSON);
    const before = JSON.stringify(["Namespace", "Node", "Pod", "Service", "EndpointSlice"].map((k) => cluster.list(k)));
    const bad = [
      JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } }),
      JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "broken", namespace: "shop" },
        spec: { ports: [{ port: 80, targetPort: true }] },
      }),
    ].join("\n");
    let thrown;
    try {
      cluster.apply(bad);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error);
    assert.equal(thrown.name, "SvcrouteError");
    assert.equal(thrown.code, "parse");
    assert.match(thrown.message, /^document 1 \(line 2\): Service shop\/broken: spec\.ports\[0\]\.targetPort: /);
    assert.equal(thrown.problems.length, 1);
    const p = thrown.problems[0];
    assert.equal(p.code, "parse");
    assert.equal(p.document, 1);
    assert.equal(p.field, "spec.ports[0].targetPort");
    assert.deepEqual(p.object, { apiVersion: "v1", kind: "Service", namespace: "shop", name: "broken" });

    // Refused by the cluster (no name): `invalid`, placed at its document.
    const nameless = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}\n' +
      '{"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "shop"}}';
    assert.throws(() => cluster.apply(nameless), (e) => {
      assert.equal(e.code, "invalid");
      assert.equal(e.message, "document 1 (line 2): Pod shop/: metadata.name: name is required");
      assert.equal(e.problems[0].field, "metadata.name");
      assert.equal(e.problems[0].document, 1);
      return true;
    });
    assert.throws(() => cluster.apply("{"), (e) => e.code === "parse" && e.problems[0].line === 1);

    // YAML parsed in JS, passed as one JSON value per document (null for an
    // empty one): `document` in errors counts the YAML documents.
    const docs = [null, { apiVersion: "v1", kind: "Namespace", metadata: { name: 5 } }];
    assert.throws(() => cluster.apply(docs.map((d) => JSON.stringify(d)).join("\n")), (e) => {
      assert.equal(e.problems[0].document, 1);
      assert.equal(e.problems[0].field, "metadata.name");
      return true;
    });
    assert.deepEqual(cluster.list("Namespace", "").items.length, cluster.list("Namespace").items.length);

    const after = JSON.stringify(["Namespace", "Node", "Pod", "Service", "EndpointSlice"].map((k) => cluster.list(k)));
    assert.equal(after, before);
  } finally {
    cluster.free();
  }
});

test("delete, watch events, not-found and unsupported", () => {
  const cluster = new Cluster({ bootstrap: false });
  try {
    assert.deepEqual(cluster.list("Namespace").items, []);
    cluster.apply(MANIFEST_JSON);
    const changes = cluster.delete("Service", "shop", "web");
    assert.deepEqual(keys(changes.deleted).map((k) => k.replace(/web-[a-z0-9]{5}$/, "web-*")), [
      "Service shop/web",
      "Endpoints shop/web",
      "EndpointSlice shop/web-*",
    ]);
    assert.throws(() => cluster.delete("Service", "shop", "web"), (e) => e.code === "not-found" && e.message === "Service shop/web: not found");
    assert.throws(() => cluster.explainService("shop", "web"), (e) => e.code === "not-found");
    assert.throws(() => cluster.endpointSlices("shop", "web"), (e) => e.code === "not-found");
    assert.throws(() => cluster.list("ConfigMap"), (e) => e.code === "unsupported");
    assert.throws(() => cluster.list("Pod", null, "app in (web"), (e) => e.code === "parse");
    assert.deepEqual(keys(cluster.delete("node", "ignored", "n1").deleted), ["Node n1"]);

    const events = [
      { type: "ADDED", object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "tmp" } } },
      { type: "DELETED", object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "tmp" } } },
      { type: "ADDED", object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "kept" } } },
    ].map((e) => JSON.stringify(e)).join("\n");
    assert.deepEqual(keys(cluster.apply(events).created), ["Namespace kept"]);
  } finally {
    cluster.free();
  }
});

test("configurations", () => {
  const c = new Cluster({ clusterDomain: "corp.example", serviceCIDRs: ["10.100.0.0/24"], proxyMode: "nftables", seed: 7 });
  assert.equal(c.list("Service", "default").items[0].spec.clusterIP, "10.100.0.1");
  c.free();
  new Cluster(null).free();
  new Cluster(undefined).free();
  assert.throws(() => new Cluster({ clusterDomian: "x" }), (e) => e.code === "parse" && /unknown key "clusterDomian"/.test(e.message));
  assert.throws(() => new Cluster({ maxEndpointsPerSlice: 0 }), (e) => e.code === "invalid" && /maxEndpointsPerSlice/.test(e.message));
  assert.throws(() => new Cluster({ proxyMode: "userspace" }), (e) => e.code === "invalid");
});

test("the TypeScript declarations type the Cluster class", () => {
  for (const dir of ["../pkg-node", "../www/pkg"]) {
    const dts = readFileSync(here(`${dir}/svcroute_wasm.d.ts`), "utf8");
    assert.match(dts, /export class Cluster \{/);
    assert.match(dts, /constructor\(config\?: ClusterConfig \| null\);/);
    assert.match(dts, /apply\(text: string\): Changes;/);
    assert.match(dts, /list\(kind: Kind, namespace\?: string \| null, selector\?: string \| null\): List;/);
    assert.match(dts, /endpointSlices\(namespace: string, service: string\): List<EndpointSlice>;/);
    assert.match(dts, /explainService\(namespace: string, service: string\): ServiceExplanation;/);
    assert.match(dts, /export interface ServiceExplanation \{/);
  }
});
