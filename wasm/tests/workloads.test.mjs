// scale, expose and pod readiness through the WASM package (issue 8), over
// the core's Cluster::scale, Cluster::expose, set_pod_ready and
// set_pod_terminating (run `wasm/build.sh` first):
//   node --test wasm/tests/workloads.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const { Cluster } = require(here("../pkg-node/svcroute_wasm.js"));

// A Deployment and its Service; two default nodes make the Pods schedulable.
const SHOP = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
  { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
    spec: { replicas: 2, selector: { matchLabels: { app: "web" } },
            template: { metadata: { labels: { app: "web" } },
                        spec: { containers: [{ name: "web", image: "nginx",
                                               ports: [{ name: "http", containerPort: 8080 }] }] } } } },
  { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "shop" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } },
];
const shop = () => {
  const c = new Cluster({ defaultNodes: 2 });
  c.apply(SHOP.map((o) => JSON.stringify(o)).join("\n"));
  return c;
};
const addresses = (c, svc = "web") => c.endpointSlices("shop", svc).items
  .flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
const pods = (c) => c.list("Pod", "shop", "app=web").items.map((p) => p.metadata.name);

test("scale a Deployment: Pods and endpoints follow, both ways", () => {
  const c = shop();
  assert.equal(pods(c).length, 2);
  assert.equal(addresses(c), 2);
  const up = c.scale("Deployment", "shop", "web", 5);
  assert.equal(up.created.filter((k) => k.kind === "Pod").length, 3);
  assert.equal(pods(c).length, 5);
  assert.equal(addresses(c), 5);
  // The routing tables follow the scale (cached dataplane patched).
  const sim = c.simulate({ source: { node: "node-1" }, destination: { dns: "web.shop.svc.cluster.local", port: 80 }, requests: 500,
                           algorithm: "round-robin" });
  assert.equal(sim.endpoints.length, 5);
  const down = c.scale("Deployment", "shop", "web", 1);
  assert.equal(down.deleted.filter((k) => k.kind === "Pod").length, 4);
  assert.equal(addresses(c), 1);
  assert.equal(c.simulate({ source: { node: "node-1" }, destination: { dns: "web.shop.svc.cluster.local", port: 80 }, requests: 10,
                            algorithm: "round-robin" }).endpoints.length, 1);
  c.free();
});

test("scale refuses what kubectl refuses", () => {
  const c = shop();
  assert.throws(() => c.scale("Deployment", "shop", "nope", 1), (e) => e.code === "not-found");
  assert.throws(() => c.scale("Service", "shop", "web", 1), (e) => e.code === "unsupported" && /cannot be scaled/.test(e.message));
  assert.throws(() => c.scale("Deployment", "shop", "web", -1), (e) => e.code === "invalid");
  assert.throws(() => c.scale("Deployment", "shop", "web", 1.5), (e) => e.code === "invalid");
  assert.throws(() => c.scale("Widget", "shop", "web", 1), (e) => e.code === "unsupported");
  assert.equal(pods(c).length, 2);
  c.free();
});

test("expose a Deployment as kubectl does", () => {
  const c = shop();
  const { service, changes } = c.expose("Deployment", "shop", "web", { name: "web-np", port: 80, targetPort: 8080, type: "NodePort" });
  assert.equal(service.metadata.name, "web-np");
  assert.deepEqual(service.spec.selector, { app: "web" });
  assert.equal(service.spec.type, "NodePort");
  assert.equal(service.spec.ports[0].port, 80);
  assert.equal(service.spec.ports[0].targetPort, 8080);
  assert.ok(service.spec.clusterIP, "admission allocated a cluster IP");
  assert.ok(service.spec.ports[0].nodePort >= 30000);
  assert.ok(changes.created.some((k) => k.kind === "Service" && k.name === "web-np"));
  assert.ok(changes.created.some((k) => k.kind === "EndpointSlice"));
  assert.equal(addresses(c, "web-np"), 2);
  c.free();
});

test("expose takes its port from the pod template, and dryRun applies nothing", () => {
  const c = shop();
  const { service, changes } = c.expose("Deployment", "shop", "web", { name: "preview", dryRun: true });
  assert.equal(changes, undefined);
  assert.equal(service.spec.ports[0].port, 8080);
  assert.equal(service.spec.clusterIP, undefined);
  assert.throws(() => c.endpointSlices("shop", "preview"), (e) => e.code === "not-found");
  c.free();
});

test("expose errors are kubectl's", () => {
  const c = shop();
  assert.throws(() => c.expose("Pod", "shop", "nope"), (e) => e.code === "not-found" && e.message === 'pods "nope" not found');
  assert.throws(() => c.expose("Deployment", "shop", "web", { port: 80 }),
    (e) => e.code === "conflict" && e.message === 'services "web" already exists');
  assert.throws(() => c.expose("Namespace", null, "shop"), (e) => e.code === "unsupported");
  assert.throws(() => c.expose("Deployment", "shop", "web", { name: "x", sessionAffinity: "Sticky" }),
    (e) => e.code === "invalid" && /unknown session affinity/.test(e.message));
  assert.throws(() => c.expose("Deployment", "shop", "web", { prt: 80 }), (e) => e.code === "parse" && /unknown option `prt`/.test(e.message));
  c.free();
});

test("setPodReady goes through the core: conditions and slices (EP-3)", () => {
  const c = shop();
  const [first] = pods(c);
  const changes = c.setPodReady("shop", first, false);
  assert.ok(changes.updated.some((k) => k.kind === "Pod" && k.name === first));
  assert.equal(addresses(c), 1);
  const pod = c.list("Pod", "shop").items.find((p) => p.metadata.name === first);
  assert.equal(pod.status.conditions.find((x) => x.type === "Ready").status, "False");
  c.setPodReady("shop", first, true);
  assert.equal(addresses(c), 2);
  c.free();
});

test("setPodTerminating sets and clears the deletion time", () => {
  const c = shop();
  const [first] = pods(c);
  c.setPodTerminating("shop", first, true);
  const get = () => c.list("Pod", "shop").items.find((p) => p.metadata.name === first);
  assert.equal(get().metadata.deletionTimestamp, "1970-01-01T00:00:00Z");
  const ep = c.endpointSlices("shop", "web").items.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === first);
  assert.equal(ep.conditions.terminating, true);
  c.setPodTerminating("shop", first, true, "2026-01-01T00:00:00Z");
  assert.equal(get().metadata.deletionTimestamp, "2026-01-01T00:00:00Z");
  c.setPodTerminating("shop", first, false);
  assert.equal(get().metadata.deletionTimestamp, undefined);
  assert.throws(() => c.setPodTerminating("shop", "nope", true), (e) => e.code === "not-found");
  c.free();
});
