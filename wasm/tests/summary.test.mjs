// The load summary and the input limits through the WASM package (issues
// 14 and 13). Run `wasm/build.sh` first:  node --test wasm/tests/
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const { Cluster } = require(here("../pkg-node/svcroute_wasm.js"));

const BUNDLE = [
  { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" },
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } },
            template: { metadata: { labels: { app: "web" } } } } },
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "web", namespace: "shop" } },
].map((o) => JSON.stringify(o)).join("\n");

test("applyWithSummary gives the command line's summary line and warnings", () => {
  const cluster = new Cluster({ defaultNodes: 3 });
  const { changes, summary } = cluster.applyWithSummary(BUNDLE);
  assert.ok(changes.created.length > 4);
  assert.equal(summary.line,
    "read 1 object (1 Deployment); generated 1 ReplicaSet and 3 Pods; " +
    "skipped 1 object of kinds svcroute does not model (ServiceAccount)");
  assert.equal(summary.generated.Pod, 3);
  assert.equal(summary.pending, 0);
  assert.equal(summary.warnings[0].namespace, "shop");
  assert.match(summary.warnings[0].message, /^warning: namespace "shop" not found/);
  cluster.free();
});

const NS = (labels) => JSON.stringify({ apiVersion: "v1", kind: "Namespace",
  metadata: { name: "longer-than-12", labels } });

for (const [config, input, name] of [
  [{ maxInputBytes: 75 }, NS({}), "maxInputBytes"],
  [{ maxDocuments: 1 }, NS({}) + "\n" + NS({}), "maxDocuments"],
  [{ maxDepth: 2 }, NS({ a: "b" }), "maxDepth"],
  [{ maxStringBytes: 12 }, NS({}), "maxStringBytes"],
  [{ maxLabelsPerObject: 2 }, NS({ a: "1", b: "2", c: "3" }), "maxLabelsPerObject"],
  [{ maxObjects: 5 }, NS({}), "maxObjects"],
]) {
  test(`${name} is an Error with code "limit" and the cluster stays usable`, () => {
    const cluster = new Cluster(config);
    assert.throws(() => cluster.applyWithSummary(input), (e) => {
      assert.equal(e.code, "limit");
      assert.ok(e.message.includes(name), e.message);
      return true;
    });
    const ok = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } });
    assert.equal(cluster.apply(ok).skipped[0].count, 1);
    cluster.free();
  });
}
