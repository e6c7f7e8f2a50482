// The playground in real headless Chromium (Debian's, /usr/bin/chromium),
// driven by playwright-core (wasm/package.json). Reads only what a person
// sees: the drawn text, the tables, the chart's labels (DECISIONS D17).
// Screenshots go to target/playground/ (not committed).
//
// Skipped with a notice when chromium or playwright-core is missing, unless
// SVCROUTE_REQUIRE_TOOLS=1 (CI: .ci/setup installs both). Build first:
// wasm/build.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { EXAMPLES } from "../www/examples.js";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = here("../../target/playground/");

function missing() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install -y --no-install-recommends chromium)`;
  try { require.resolve("playwright-core"); } catch { return "playwright-core is not installed (npm ci in wasm/)"; }
  if (!existsSync(here("../www/pkg/svcroute_wasm.js"))) return "wasm/www/pkg is not built (wasm/build.sh)";
  if (!existsSync(here("../www/vendor/yaml/index.js"))) return "wasm/www/vendor/yaml is missing (wasm/build.sh after npm ci)";
  return null;
}
const why = missing();
if (why) assert.notEqual(process.env.SVCROUTE_REQUIRE_TOOLS, "1", why);

let server, browser, page, url;
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

before(async () => {
  if (why) return;
  const port = await freePort();
  server = spawn("bash", [here("../serve.sh"), String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  url = await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => { const m = String(d).match(/http:\/\/\S+/); if (m) resolve(m[0]); });
    server.on("exit", (code) => reject(new Error(`serve.sh exited with ${code}`)));
  });
  const { chromium } = require("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.errors = errors;
  mkdirSync(shots, { recursive: true });
  // The server answers once python is up.
  for (let i = 0; ; i++) {
    try { await page.goto(url); break; } catch (e) { if (i > 50) throw e; await new Promise((r) => setTimeout(r, 100)); }
  }
});

after(async () => {
  await browser?.close();
  server?.kill();
});

const svgTexts = () => page.$$eval("#picture text", (ts) => ts.map((t) => t.textContent));
const serviceBox = async (name) => {
  const all = await page.$$eval("#picture g", (gs) => gs.map((g) => [...g.querySelectorAll("text")].map((t) => t.textContent)));
  return all.find((lines) => lines[0] === `Service ${name}`);
};

test("the page opens with the first example drawn", { skip: why ?? false }, async () => {
  await page.waitForSelector("#picture text");
  const texts = await svgTexts();
  assert.ok(texts.includes("Service shop/backend"), texts.join("|"));
  assert.ok(texts.includes("Service shop/frontend"));
  assert.ok(texts.includes("Pod shop/backend-1"));
  assert.ok(texts.some((t) => t.startsWith("Node node-a")));
  const backend = await serviceBox("shop/backend");
  assert.ok(backend.includes("3 ready endpoints"), backend.join("|"));
  assert.ok(backend.some((l) => l.trim() === "10.244.0.21 ready"), backend.join("|"));
  assert.equal(await page.$eval("#example", (s) => s.value), EXAMPLES[0].id);
  assert.deepEqual(page.errors, []);
  await page.screenshot({ path: shots + "first-example.png", fullPage: true });
});

test("every example loads and draws its services and endpoints", { skip: why ?? false }, async () => {
  const expect = {
    "frontend-backend": [["shop/backend", 3], ["shop/frontend", 2]],
    "nodeport-lb": [["web/site-nodeport", 2], ["web/site-lb", 2]],
    externalname: [["billing/payments", 0]],
    ingress: [["sites/shop", 1], ["sites/blog", 1], ["sites/api", 2]],
    rollout: [["store/checkout", 4]],
    "rollout-done": [["store/checkout", 2]],
    "no-match": [["pay/payments", 0]],
    bundle: [["bookshop/critic", 3]],
  };
  for (const ex of EXAMPLES) {
    await page.selectOption("#example", ex.id);
    await page.waitForFunction((t) => document.getElementById("story").textContent === t, ex.story);
    assert.equal(await page.textContent("#errors"), "", ex.id);
    for (const [svc, n] of expect[ex.id]) {
      const box = await serviceBox(svc);
      assert.ok(box, `${ex.id}: ${svc} drawn`);
      assert.ok(box.includes(`${n} ready endpoint${n === 1 ? "" : "s"}`), `${ex.id}: ${box.join("|")}`);
    }
    await page.screenshot({ path: `${shots}example-${ex.id}.png`, fullPage: true });
  }
  // Why a pod is not selected: hover it.
  await page.selectOption("#example", "no-match");
  await page.hover("#picture g.pod:has(text:text-is('Pod pay/payments-1'))");
  const details = await page.textContent("#details");
  assert.match(details, /Service pay\/payments: NotSelected/);
  assert.match(details, /app=payments, selector wants paymnts/);
  // The ingress draws its hosts.
  await page.selectOption("#example", "ingress");
  const texts = await svgTexts();
  for (const h of ["shop", "blog", "api"]) assert.ok(texts.includes(`host ${h}.example.com`), texts.join("|"));
});

test("a DNS query shows the search walk and the answer", { skip: why ?? false }, async () => {
  await page.selectOption("#example", "frontend-backend");
  await page.selectOption("#dns-pod", "shop/frontend-1");
  await page.fill("#dns-name", "backend");
  await page.selectOption("#dns-type", "A");
  await page.click("#dns-go");
  const text = await page.textContent("#dns-result");
  assert.match(text, /Search list: shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  assert.match(text, /backend\.shop\.svc\.cluster\.local\.answer/);
  assert.match(text, /Answered by backend\.shop\.svc\.cluster\.local\./);
  assert.match(text, /backend\.shop\.svc\.cluster\.local\. 5 IN A 10\.96\.\d+\.\d+/);
  // A name found only at the last candidate: every step is shown.
  await page.fill("#dns-name", "kubernetes.default");
  await page.click("#dns-go");
  const rows = await page.$$eval("#dns-result tr", (trs) => trs.slice(1).map((tr) => tr.textContent));
  assert.deepEqual(rows, ["1kubernetes.default.shop.svc.cluster.local.nxdomain", "2kubernetes.default.svc.cluster.local.answer"]);
  await page.screenshot({ path: shots + "dns.png", fullPage: true });
});

test("1,000 requests: the chart's numbers add up, one trace is drawn", { skip: why ?? false }, async () => {
  await page.selectOption("#example", "frontend-backend");
  await page.selectOption("#tr-source", "shop/frontend-1");
  const dest = await page.$eval("#tr-dest", (s) => [...s.options].find((o) => o.text.startsWith("Service shop/backend")).value);
  await page.selectOption("#tr-dest", dest);
  await page.selectOption("#tr-algo", "round-robin");
  await page.fill("#tr-n", "1000");
  await page.click("#tr-go");
  await page.waitForSelector("#tr-result .chart");
  const bars = await page.$$eval("#tr-result .chart g", (gs) => gs.map((g) => [...g.querySelectorAll("text")].map((t) => t.textContent)));
  assert.deepEqual(bars, [
    ["shop/backend-1 10.244.0.21:8080", "334"],
    ["shop/backend-2 10.244.1.22:8080", "333"],
    ["shop/backend-3 10.244.1.23:8080", "333"],
  ]);
  assert.match(await page.textContent("#tr-result"), /1000 requests with round-robin: first request forward/);
  const trace = await page.$$eval("#tr-result ol.trace li", (lis) => lis.map((l) => l.textContent));
  assert.ok(trace.length > 1, trace.join("|"));
  assert.ok(await page.$("#picture path[marker-end]"), "the request is drawn on the picture");
  // kube-proxy's own random choice: about a third each, 1,000 in all.
  await page.selectOption("#tr-algo", "kube-proxy");
  await page.click("#tr-go");
  const counts = await page.$$eval("#tr-result .chart g", (gs) => gs.map((g) => Number(g.querySelectorAll("text")[1].textContent)));
  assert.equal(counts.reduce((a, b) => a + b, 0), 1000);
  assert.ok(counts.every((c) => c > 250 && c < 420), counts.join(","));
  await page.screenshot({ path: shots + "traffic.png", fullPage: true });
});

test("a pod made not ready leaves the endpoints, live", { skip: why ?? false }, async () => {
  await page.selectOption("#example", "frontend-backend");
  await page.click("#picture g.pod:has(text:text-is('Pod shop/backend-2'))");
  await page.click("#details button:text('Make backend-2 not ready')");
  const backend = await serviceBox("shop/backend");
  assert.ok(backend.includes("2 ready endpoints"), backend.join("|"));
  assert.ok(backend.some((l) => l.trim() === "10.244.1.22 not ready"), backend.join("|"));
  assert.ok((await svgTexts()).includes("10.244.1.22 · Not ready"));
  await page.selectOption("#tr-algo", "round-robin");
  await page.click("#tr-go");
  const bars = await page.$$eval("#tr-result .chart g", (gs) => gs.map((g) => [...g.querySelectorAll("text")].map((t) => t.textContent)));
  assert.deepEqual(bars, [["shop/backend-1 10.244.0.21:8080", "500"], ["shop/backend-3 10.244.1.23:8080", "500"]]);
  await page.screenshot({ path: shots + "not-ready.png", fullPage: true });
});

test("errors are shown at their document and field; #yaml= links load", { skip: why ?? false }, async () => {
  const bad = EXAMPLES[0].yaml.replace("port: 8080, targetPort: http", "port: eighty, targetPort: http");
  await page.fill("#editor", bad);
  await page.click("#apply");
  const errors = await page.textContent("#errors");
  assert.match(errors, /document \d+, line \d+: Service shop\/backend: spec\.ports\[0\]\.port: /, errors);
  const line = Number(errors.match(/line (\d+)/)[1]);
  assert.match(bad.split("\n")[line - 1], /eighty/);
  await page.screenshot({ path: shots + "error.png", fullPage: true });

  const manifest = `apiVersion: v1
kind: Service
metadata: {name: linked, namespace: default}
spec:
  ports: [{port: 80}]
`;
  await page.goto(`${url}#yaml=${encodeURIComponent(manifest)}`);
  await page.reload();
  await page.waitForSelector("#picture text");
  assert.ok((await svgTexts()).includes("Service default/linked"));
  assert.deepEqual(page.errors, []);
});

test("a bundle: Deployments become Pods on default nodes, with the load summary; scaling redraws live", { skip: why ?? false }, async () => {
  await page.selectOption("#example", "bundle");
  await page.waitForFunction(() => document.getElementById("summary").textContent.startsWith("read "));
  assert.equal(await page.textContent("#errors"), "");
  assert.equal(await page.textContent("#summary"),
    "read 5 objects (3 Deployments, 1 Namespace, 1 Service); generated 3 ReplicaSets and 3 Pods; " +
    "skipped 2 objects of kinds svcroute does not model (ConfigMap, ServiceAccount)");
  const texts = await svgTexts();
  for (const n of ["node-1", "node-2", "node-3"]) assert.ok(texts.some((t) => t.startsWith(`Node ${n}`)), texts.join("|"));
  let critic = await serviceBox("bookshop/critic");
  assert.ok(critic.includes("3 ready endpoints"), critic.join("|"));
  assert.equal(texts.filter((t) => /^Pod bookshop\/critic-v[123]-/.test(t)).length, 3);
  // Traffic splits a third each over the three versions.
  await page.selectOption("#tr-source", "external");
  const dest = await page.$eval("#tr-dest", (s) => [...s.options].find((o) => o.text.startsWith("Service bookshop/critic")).value);
  await page.selectOption("#tr-source", await page.$eval("#tr-source", (s) => s.options[0].value));
  await page.selectOption("#tr-dest", dest);
  await page.selectOption("#tr-algo", "round-robin");
  await page.fill("#tr-n", "900");
  await page.click("#tr-go");
  await page.waitForSelector("#tr-result .chart");
  const counts = async () => page.$$eval("#tr-result .chart g", (gs) => gs.map((g) => Number(g.querySelectorAll("text")[1].textContent)));
  assert.deepEqual(await counts(), [300, 300, 300]);
  // Scale v3 to 3 replicas with its control: 5 endpoints, and the chart is redrawn.
  const v3 = "#workloads li[data-name='bookshop/critic-v3']";
  await page.click(`${v3} button[aria-label='scale critic-v3 up']`);
  await page.fill(`${v3} input`, "3");
  await page.dispatchEvent(`${v3} input`, "change");
  critic = await serviceBox("bookshop/critic");
  assert.ok(critic.includes("5 ready endpoints"), critic.join("|"));
  assert.equal(await page.$eval(`${v3} input`, (i) => i.value), "3");
  assert.deepEqual(await counts(), [180, 180, 180, 180, 180]);
  // And down to none: v3 leaves the endpoints.
  await page.fill(`${v3} input`, "0");
  await page.dispatchEvent(`${v3} input`, "change");
  critic = await serviceBox("bookshop/critic");
  assert.ok(critic.includes("2 ready endpoints"), critic.join("|"));
  assert.equal((await svgTexts()).filter((t) => t.startsWith("Pod bookshop/critic-v3-")).length, 0);
  await page.screenshot({ path: shots + "bundle-scaled.png", fullPage: true });
  assert.deepEqual(page.errors, []);
});

test("a YAML file dropped on the editor is applied", { skip: why ?? false }, async () => {
  const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: {name: dropped, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: dropped}}
  template:
    metadata: {labels: {app: dropped}}
    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: dropped, namespace: default}
spec:
  selector: {app: dropped}
  ports: [{port: 80}]
`;
  const transfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "app.yaml", { type: "application/yaml" }));
    return dt;
  }, yaml);
  await page.dispatchEvent("#editor", "drop", { dataTransfer: transfer });
  await page.waitForFunction(() => document.getElementById("story").textContent === "Dropped: app.yaml.");
  await page.waitForFunction(() => document.getElementById("summary").textContent.includes("generated"));
  const box = await serviceBox("default/dropped");
  assert.ok(box?.includes("2 ready endpoints"), box?.join("|"));
  assert.equal(await page.textContent("#summary"), "read 2 objects (1 Deployment, 1 Service); generated 1 ReplicaSet and 2 Pods");
  assert.equal(await page.$eval("#editor", (e) => e.value), yaml);
});
