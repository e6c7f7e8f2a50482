// DNS, routing, simulation and pod readiness through the WASM package
// (run `wasm/build.sh` first):  node --test wasm/tests/traffic.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const { Cluster } = require(here("../pkg-node/svcroute_wasm.js"));

const pod = (name, ip, labels, ready = true, node = "n1") => ({
  apiVersion: "v1", kind: "Pod",
  metadata: { name, namespace: "shop", labels },
  spec: { nodeName: node, containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] },
  status: { phase: "Running", podIPs: [{ ip }], podIP: ip,
            conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});
const node = (name, ip) => ({ apiVersion: "v1", kind: "Node", metadata: { name },
  status: { addresses: [{ type: "InternalIP", address: ip }] } });
const SHOP = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
  node("n1", "192.168.0.1"), node("n2", "192.168.0.2"),
  pod("web-1", "10.244.0.5", { app: "web" }),
  pod("web-2", "10.244.1.6", { app: "web" }, true, "n2"),
  pod("web-3", "10.244.1.7", { app: "web" }, true, "n2"),
  pod("client", "10.244.0.9", { app: "client" }),
  { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "shop" },
    spec: { clusterIP: "10.96.0.20", selector: { app: "web" },
            ports: [{ name: "http", port: 80, targetPort: "http" }] } },
  { apiVersion: "v1", kind: "Service", metadata: { name: "api", namespace: "shop" },
    spec: { type: "ExternalName", externalName: "api.example.com" } },
];
const shop = () => {
  const c = new Cluster();
  c.apply(SHOP.map((o) => JSON.stringify(o)).join("\n"));
  return c;
};
const ready = (c) => c.endpointSlices("shop", "web").items
  .flatMap((s) => s.endpoints ?? [])
  .filter((e) => e.conditions?.ready !== false)
  .map((e) => e.addresses[0]).sort();

test("dnsQuery answers in presentation form", () => {
  const c = shop();
  const a = c.dnsQuery("web.shop.svc.cluster.local.", "A");
  assert.equal(a.outcome, "answer");
  assert.equal(a.rcode, "NOERROR");
  assert.deepEqual(a.answer, ["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"]);
  // The trailing dot is added; SRV on the named port.
  const srv = c.dnsQuery("_http._tcp.web.shop.svc.cluster.local", "SRV");
  assert.deepEqual(srv.answer, ["_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 100 80 web.shop.svc.cluster.local."]);
  const none = c.dnsQuery("nope.shop.svc.cluster.local.", "A");
  assert.equal(none.outcome, "nxdomain");
  assert.equal(none.rcode, "NXDOMAIN");
  assert.match(none.authority[0], / IN SOA ns\.dns\.cluster\.local\. /);
  // ExternalName: a CNAME and a target still to chase outside.
  const ext = c.dnsQuery("api.shop.svc.cluster.local.", "A");
  assert.deepEqual(ext.answer, ["api.shop.svc.cluster.local. 5 IN CNAME api.example.com."]);
  assert.deepEqual(ext.chase, [{ name: "api.example.com.", qtype: "A" }]);
  assert.equal(c.dnsQuery("example.com.", "A").outcome, "passthrough");
  c.free();
});

test("dnsQuery follows changes and DNS options", () => {
  const c = shop();
  c.dnsQuery("web.shop.svc.cluster.local.", "A"); // builds the index
  c.delete("Service", "shop", "web");
  assert.equal(c.dnsQuery("web.shop.svc.cluster.local.", "A").outcome, "nxdomain");
  c.setDnsConfig({ ttl: 30 });
  assert.match(c.dnsQuery("api.shop.svc.cluster.local.", "A").answer[0], / 30 IN CNAME /);
  assert.throws(() => c.setDnsConfig({ nope: 1 }), (e) => e instanceof Error && e.code === "parse");
  assert.throws(() => c.setDnsConfig({ ttl: 9000 }), (e) => e.code === "invalid");
  assert.throws(() => c.dnsQuery("a..b.", "A"), (e) => e.code === "parse" && /empty label/.test(e.message));
  c.free();
});

test("dnsSearch walks a pod's search list (glibc and musl)", () => {
  const c = shop();
  const w = c.dnsSearch({ pod: "shop/client" }, "web", "A");
  assert.deepEqual(w.searchList, ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]);
  assert.deepEqual(w.sent, [{ qname: "web.shop.svc.cluster.local.", outcome: "answer" }]);
  assert.equal(w.answeredBy, "web.shop.svc.cluster.local.");
  assert.equal(w.result, "answer");
  assert.deepEqual(w.answer, ["web.shop.svc.cluster.local. 5 IN A 10.96.0.20"]);
  const out = c.dnsSearch({ namespace: "default" }, "www.example.com", "A", "glibc",
    { "www.example.com.": { A: "198.51.100.7", ttl: 300 } });
  assert.equal(out.sent.length, 4);
  assert.equal(out.answeredBy, "www.example.com.");
  const musl = c.dnsSearch({ namespace: "shop", ndots: 1 }, "web.shop", "A", "musl");
  assert.equal(musl.candidates.length, 1);
  assert.throws(() => c.dnsSearch({ pod: "shop/nope" }, "web"), (e) => e.code === "not-found");
  assert.throws(() => c.dnsSearch({}, "web", "A", "bsd"), (e) => e.code === "invalid");
  c.free();
});

test("route forwards with a trace, and follows readiness", () => {
  const c = shop();
  const req = { source: { pod: "shop/client" }, destination: { dns: "web", port: 80 } };
  const d = c.route(req);
  assert.equal(d.result, "forward");
  assert.deepEqual(d.endpoints, ["10.244.0.5:8080", "10.244.1.6:8080", "10.244.1.7:8080"]);
  assert.ok(d.endpoints.includes(d.chosen));
  assert.ok(d.trace.length > 0 && d.trace.every((h) => typeof h.detail === "string"));
  assert.ok(d.trace.some((h) => h.rule === "KP-4"), JSON.stringify(d.trace));
  // EP-3: a pod that is not ready leaves the endpoints; the tables are patched.
  c.setPodReady("shop", "web-2", false);
  assert.deepEqual(c.route(req).endpoints, ["10.244.0.5:8080", "10.244.1.7:8080"]);
  c.setPodReady("shop", "web-2", true);
  assert.equal(c.route(req).endpoints.length, 3);
  // Another mode, compiled on the side.
  assert.equal(c.route({ ...req, mode: "ipvs" }).result, "forward");
  assert.equal(c.route({ source: { pod: "shop/client" }, destination: { dns: "api", port: 443 } }).result, "cname");
  assert.throws(() => c.route({ source: { pod: "shop/nobody" }, destination: { ip: "10.96.0.20", port: 80 } }),
    (e) => e.code === "not-found");
  assert.throws(() => c.route({ source: {}, destination: { ip: "10.96.0.20", port: 80 } }), (e) => e.code === "parse");
  assert.throws(() => c.route({ source: { node: "n1" }, destination: { ip: "nope", port: 80 } }), (e) => e.code === "invalid");
  c.free();
});

test("setPodReady and setPodTerminating move the endpoint (EP-3)", () => {
  const c = shop();
  assert.deepEqual(ready(c), ["10.244.0.5", "10.244.1.6", "10.244.1.7"]);
  const changes = c.setPodReady("shop", "web-1", false);
  assert.ok(changes.updated.some((k) => k.kind === "Pod" && k.name === "web-1"));
  assert.ok(changes.updated.some((k) => k.kind === "EndpointSlice"));
  assert.deepEqual(ready(c), ["10.244.1.6", "10.244.1.7"]);
  c.setPodTerminating("shop", "web-3", true);
  const ep = c.endpointSlices("shop", "web").items.flatMap((s) => s.endpoints)
    .find((e) => e.addresses[0] === "10.244.1.7");
  assert.equal(ep.conditions.terminating, true);
  assert.equal(ep.conditions.serving, true);
  assert.equal(ep.conditions.ready, false);
  const why = c.explainService("shop", "web").pods.find((p) => p.name === "web-3");
  assert.equal(why.verdict, "Terminating");
  assert.throws(() => c.setPodReady("shop", "nope", true), (e) => e.code === "not-found");
  c.free();
});

test("simulate counts 1,000 requests per endpoint", () => {
  const c = shop();
  const base = { source: { pod: "shop/client" }, destination: { dns: "web", port: 80 }, requests: 1000 };
  const rr = c.simulate({ ...base, algorithm: "round-robin" });
  assert.equal(rr.requests, 1000);
  assert.deepEqual(rr.endpoints.map((e) => e.count), [334, 333, 333]);
  assert.deepEqual(rr.endpoints.map((e) => e.pod), ["shop/web-1", "shop/web-2", "shop/web-3"]);
  assert.deepEqual(rr.endpoints.map((e) => e.node), ["n1", "n2", "n2"]);
  assert.equal(rr.first.result, "forward");
  for (const algorithm of ["kube-proxy", "random", "iptables", "nftables", "ipvs", "maglev", "ketama",
                           "jump", "rendezvous", "least-request", "smooth-weighted", "weighted-random", "peak-ewma"]) {
    const r = c.simulate({ ...base, algorithm, seed: 7 });
    const sum = r.endpoints.reduce((a, e) => a + e.count, 0);
    assert.equal(sum + r.unrouted, 1000, algorithm);
    assert.equal(r.unrouted, 0, algorithm);
    assert.deepEqual(c.simulate({ ...base, algorithm, seed: 7 }), r, `${algorithm} is deterministic`);
    if (algorithm === "kube-proxy" || algorithm === "random") {
      assert.ok(r.endpoints.every((e) => e.count > 250), `${algorithm}: ${JSON.stringify(r.endpoints)}`);
    }
  }
  // No endpoints: everything unrouted.
  c.setPodReady("shop", "web-1", false); c.setPodReady("shop", "web-2", false); c.setPodReady("shop", "web-3", false);
  const none = c.simulate({ ...base, algorithm: "round-robin" });
  assert.equal(none.unrouted, 1000);
  assert.equal(none.first.result, "reject");
  assert.throws(() => c.simulate({ ...base, requests: 0 }), (e) => e.code === "invalid");
  assert.throws(() => c.simulate({ ...base, algorithm: "magic" }), (e) => e.code === "invalid");
  c.free();
});
