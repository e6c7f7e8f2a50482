// The playground: an editor of manifests, the cluster drawn in SVG, a DNS
// box and a traffic panel, all over the svcroute WASM package.
import init, { Cluster } from "./pkg/svcroute_wasm.js";
import * as YAML from "./vendor/yaml/index.js";
import { EXAMPLES } from "./examples.js";
import { toEngineInput, problemLine } from "./manifest.js";
import { configFor, objectsOf } from "./bundle.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const ALGORITHMS = ["kube-proxy", "round-robin", "random", "iptables", "nftables", "ipvs", "least-request",
  "smooth-weighted", "weighted-random", "maglev", "ketama", "jump", "rendezvous", "peak-ewma"];
const EXTERNAL = "external client 203.0.113.99";

let cluster = null;
let pinned = null;      // the pod whose details stay shown
let lastTrace = null;   // {source, service, chosen} of the last simulated request

function el(tag, attrs = {}, ...children) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
const key = (o) => `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
const labelText = (labels) => Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");

// ------------------------------------------------------------ applying

function podState(p) {
  if (p.metadata.deletionTimestamp) return "Terminating";
  const ready = (p.status?.conditions ?? []).find((c) => c.type === "Ready");
  return ready?.status === "True" ? "Ready" : "Not ready";
}

function showErrors(items) {
  const list = $("errors");
  list.replaceChildren(...items.map((t) => el("li", { text: t })));
}

function applyText() {
  const text = $("editor").value;
  const { json, docs, errors } = toEngineInput(YAML, text);
  if (errors.length) {
    showErrors(errors.map((e) => `document ${e.document + 1}, line ${e.line}: YAML: ${e.message}`));
    $("status").textContent = "not applied";
    return false;
  }
  // A bundle with no nodes gets the CLI's default nodes (issue 14).
  const objects = objectsOf(json.split("\n").map((l) => JSON.parse(l)));
  const next = new Cluster(configFor(objects));
  let summary;
  try {
    summary = next.applyWithSummary(json).summary;
  } catch (e) {
    next.free();
    const problems = e.problems?.length ? e.problems : [{ message: e.message }];
    showErrors(problems.map((p) => {
      const where = p.document === undefined ? "" :
        `document ${p.document + 1}, line ${problemLine(text, docs, p)}: `;
      const obj = p.object ? `${p.object.kind} ${p.object.namespace ? p.object.namespace + "/" : ""}${p.object.name ?? ""}: ` : "";
      return `${where}${obj}${p.field ? p.field + ": " : ""}${p.message}`;
    }));
    $("status").textContent = `not applied (${e.code})`;
    return false;
  }
  cluster?.free();
  cluster = next;
  pinned = null;
  lastTrace = null;
  showErrors([]);
  $("status").textContent = "applied";
  $("summary").replaceChildren(el("span", { text: summary.line }),
    ...summary.warnings.map((w) => el("span", { class: "warn", text: `\n${w.message}` })));
  $("tr-result").replaceChildren();
  $("dns-result").replaceChildren();
  refreshChoices();
  draw();
  return true;
}

// ------------------------------------------------------------ the picture

function objects() {
  const list = (kind) => cluster.list(kind).items;
  const services = list("Service").filter((s) => key(s) !== "default/kubernetes");
  return {
    nodes: list("Node"), pods: list("Pod"), services,
    ingresses: list("Ingress"),
    why: new Map(services.map((s) => [key(s), cluster.explainService(s.metadata.namespace, s.metadata.name)])),
    slices: new Map(services.map((s) => [key(s), cluster.endpointSlices(s.metadata.namespace, s.metadata.name).items])),
  };
}

const COLORS = { Ready: "#1f9d55", "Not ready": "#8a94a6", Terminating: "#d97706", NotReady: "#8a94a6" };

/** The scale controls: one row per Deployment and StatefulSet (kubectl scale). */
function drawWorkloads() {
  const rows = [];
  for (const kind of ["Deployment", "StatefulSet"]) {
    for (const w of cluster.list(kind).items) {
      const ns = w.metadata.namespace, name = w.metadata.name, n = w.spec?.replicas ?? 1;
      const scale = (to) => live(() => cluster.scale(kind, ns, name, Math.max(0, to)));
      const input = el("input", { type: "number", min: 0, max: 50, value: n, "aria-label": `replicas of ${kind} ${ns}/${name}`,
        onchange: (e) => scale(Number(e.target.value)) });
      rows.push(el("li", { class: "workload", "data-name": `${ns}/${name}` },
        el("span", { text: `${kind} ${ns}/${name}` }),
        el("button", { text: "−", "aria-label": `scale ${name} down`, onclick: () => scale(n - 1) }),
        input,
        el("button", { text: "+", "aria-label": `scale ${name} up`, onclick: () => scale(n + 1) })));
    }
  }
  $("workloads").replaceChildren(...(rows.length ? [el("h3", { text: "Workloads (replicas)" }), el("ul", {}, ...rows)] : []));
}

function draw() {
  const svg = $("picture");
  svg.replaceChildren();
  if (!cluster) return;
  drawWorkloads();
  const o = objects();
  const boxes = new Map(); // key → {x, y, w, h}
  const text = (g, x, y, t, attrs = {}) => g.append(el("svg:text", { x, y, "font-size": 12, ...attrs, text: t }));
  let y = 10;
  const svcW = 250, gap = 16;

  // Ingresses
  if (o.ingresses.length) {
    o.ingresses.forEach((ing, i) => {
      const hosts = (ing.spec?.rules ?? []).map((r) => r.host ?? "*");
      const h = 30 + hosts.length * 14, x = 10 + i * (svcW + gap);
      const g = el("svg:g", { class: "ingress" });
      g.append(el("svg:rect", { x, y, width: svcW, height: h, rx: 6, fill: "#eef4ff", stroke: "#3b6fd8" }));
      text(g, x + 8, y + 16, `Ingress ${key(ing)}`, { "font-weight": "bold" });
      hosts.forEach((hst, j) => text(g, x + 8, y + 32 + j * 14, `host ${hst}`));
      svg.append(g);
      boxes.set(`ing:${key(ing)}`, { x, y, w: svcW, h });
    });
    y += 30 + Math.max(...o.ingresses.map((i) => (i.spec?.rules ?? []).length)) * 14 + 50;
  }

  // Services with their EndpointSlices
  let svcBottom = y;
  o.services.forEach((s, i) => {
    const k = key(s), spec = s.spec ?? {};
    const lines = [
      `${spec.type ?? "ClusterIP"} · ${spec.type === "ExternalName" ? spec.externalName : (spec.clusterIP ?? "")}`,
      `ports: ${(spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? ":" + p.nodePort : ""}→${p.targetPort ?? p.port}`).join(", ") || "none"}`,
      `selector: ${labelText(spec.selector) || "none"}`,
    ];
    for (const sl of o.slices.get(k) ?? []) {
      const eps = (sl.endpoints ?? []).map((e) => `${e.addresses[0]} ${e.conditions?.ready === false ? (e.conditions?.terminating ? "terminating" : "not ready") : "ready"}`);
      lines.push(`slice ${sl.metadata.name}:`);
      for (const e of eps) lines.push(`  ${e}`);
      if (!eps.length) lines.push("  (no endpoints)");
    }
    const why = o.why.get(k);
    lines.push(`${why.readyEndpoints} ready endpoint${why.readyEndpoints === 1 ? "" : "s"}`);
    const h = 24 + lines.length * 14, x = 10 + i * (svcW + gap);
    const g = el("svg:g", { class: "service" });
    g.append(el("svg:rect", { x, y, width: svcW, height: h, rx: 6, fill: "#f3f0ff", stroke: why.readyEndpoints ? "#6b4fd8" : "#c0392b", "stroke-width": 1.5 }));
    text(g, x + 8, y + 16, `Service ${k}`, { "font-weight": "bold" });
    lines.forEach((l, j) => text(g, x + 8, y + 32 + j * 14, l, { "xml:space": "preserve" }));
    g.append(el("svg:title", { text: why.readyEndpoints ? `${k}: ${why.readyEndpoints} ready endpoints` : `${k}: no ready endpoints (its selector matches no ready pod)` }));
    svg.append(g);
    boxes.set(`svc:${k}`, { x, y, w: svcW, h });
    svcBottom = Math.max(svcBottom, y + h);
  });

  // Nodes with their pods
  y = svcBottom + 60;
  const nodeNames = o.nodes.map((n) => n.metadata.name);
  const unscheduled = o.pods.filter((p) => !nodeNames.includes(p.spec?.nodeName));
  const columns = [...o.nodes.map((n) => ({ name: n.metadata.name, node: n })), ...(unscheduled.length ? [{ name: null }] : [])];
  const podH = 58, nodeW = 230;
  let bottom = y;
  columns.forEach((col, i) => {
    const pods = col.name ? o.pods.filter((p) => p.spec?.nodeName === col.name) : unscheduled;
    const x = 10 + i * (nodeW + gap), h = 40 + pods.length * (podH + 8);
    const g = el("svg:g", { class: "node" });
    g.append(el("svg:rect", { x, y, width: nodeW, height: h, rx: 8, fill: "#f7f9fb", stroke: "#9aa5b5", "stroke-dasharray": col.name ? "" : "4 3" }));
    const addr = col.node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    text(g, x + 8, y + 16, col.name ? `Node ${col.name}${addr ? " · " + addr : ""}` : "Pods on no node", { "font-weight": "bold" });
    const zone = col.node?.metadata?.labels?.["topology.kubernetes.io/zone"];
    if (zone) text(g, x + 8, y + 30, `zone ${zone}`, { fill: "#6b7487" });
    svg.append(g);
    pods.forEach((p, j) => {
      const px = x + 10, py = y + 38 + j * (podH + 8), k = key(p), st = podState(p);
      const pg = el("svg:g", { class: "pod", tabindex: 0 });
      pg.append(el("svg:rect", { x: px, y: py, width: nodeW - 20, height: podH, rx: 6, fill: "#fff", stroke: COLORS[st], "stroke-width": 2 }));
      text(pg, px + 8, py + 15, `Pod ${k}`, { "font-weight": "bold" });
      text(pg, px + 8, py + 29, `${p.status?.podIP ?? "no IP"} · ${st}`, { fill: COLORS[st] });
      text(pg, px + 8, py + 43, labelText(p.metadata.labels), { fill: "#44506a", "font-size": 11 });
      pg.addEventListener("mouseenter", () => showPod(k, o));
      pg.addEventListener("focus", () => showPod(k, o));
      pg.addEventListener("click", () => { pinned = k; showPod(k, o); });
      svg.append(pg);
      boxes.set(`pod:${k}`, { x: px, y: py, w: nodeW - 20, h: podH });
    });
    bottom = Math.max(bottom, y + h);
  });

  // Edges: selectors (Service → pod), Ingress → Service
  const edges = el("svg:g", { class: "edges" });
  const line = (a, b, attrs) => edges.append(el("svg:line", { x1: a.x + a.w / 2, y1: a.y + a.h, x2: b.x + b.w / 2, y2: b.y, ...attrs }));
  for (const s of o.services) {
    const k = key(s), from = boxes.get(`svc:${k}`);
    for (const p of o.why.get(k).pods) {
      const to = boxes.get(`pod:${p.namespace}/${p.name}`);
      if (!to || !["Ready", "NotReady", "Terminating"].includes(p.verdict)) continue;
      line(from, to, { stroke: COLORS[p.verdict], "stroke-width": 1.5, "stroke-dasharray": p.verdict === "Ready" ? "" : "5 4", opacity: 0.8 });
    }
  }
  for (const ing of o.ingresses) {
    const from = boxes.get(`ing:${key(ing)}`);
    for (const r of ing.spec?.rules ?? []) for (const path of r.http?.paths ?? []) {
      const to = boxes.get(`svc:${ing.metadata.namespace}/${path.backend?.service?.name}`);
      if (to) line(from, to, { stroke: "#3b6fd8", "stroke-width": 1.5 });
    }
  }
  svg.prepend(edges);

  // The last simulated request, drawn: source → Service → chosen pod.
  if (lastTrace) {
    const pts = [lastTrace.source && boxes.get(`pod:${lastTrace.source}`), boxes.get(`svc:${lastTrace.service}`),
      lastTrace.chosen && boxes.get(`pod:${lastTrace.chosen}`)].filter(Boolean);
    if (pts.length > 1) {
      const d = pts.map((b, i) => `${i ? "L" : "M"}${b.x + b.w / 2},${b.y + b.h / 2}`).join(" ");
      svg.append(el("svg:path", { d, fill: "none", stroke: "#e8590c", "stroke-width": 4, opacity: 0.75, "marker-end": "url(#arrow)" }));
      const defs = el("svg:defs");
      const marker = el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" });
      marker.append(el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#e8590c" }));
      defs.append(marker);
      svg.prepend(defs);
    }
  }
  const width = Math.max(10 + Math.max(o.services.length, o.ingresses.length) * (svcW + gap), 10 + columns.length * (nodeW + gap), 600);
  svg.setAttribute("viewBox", `0 0 ${width} ${bottom + 10}`);
  svg.style.height = `${bottom + 10}px`;
  svg.style.maxWidth = `${width}px`;
  if (pinned) showPod(pinned, o);
}

function showPod(k, o) {
  const [ns, name] = k.split("/");
  const pod = o.pods.find((p) => key(p) === k);
  if (!pod) return;
  const rows = [];
  for (const s of o.services) {
    const p = o.why.get(key(s)).pods.find((x) => x.namespace === ns && x.name === name);
    if (!p) continue;
    const why = p.message;
    const cls = p.verdict === "Ready" ? "ok" : (p.verdict === "NotSelected" || p.verdict === "OtherNamespace") ? "" : "warn";
    rows.push(el("li", { class: cls, text: `Service ${key(s)}: ${p.verdict} — ${why}` }));
  }
  const st = podState(pod);
  const readyBtn = el("button", { text: st === "Ready" ? `Make ${name} not ready` : `Make ${name} ready`,
    onclick: () => live(() => cluster.setPodReady(ns, name, st !== "Ready")) });
  const termBtn = el("button", { text: st === "Terminating" ? `Stop terminating ${name}` : `Make ${name} terminating`,
    onclick: () => live(() => cluster.setPodTerminating(ns, name, st !== "Terminating")) });
  $("details").replaceChildren(
    el("h3", { text: `Pod ${k} (${st})` }),
    el("p", { class: "mono", text: `labels: ${labelText(pod.metadata.labels) || "none"}` }),
    el("ul", {}, ...(rows.length ? rows : [el("li", { text: "No Service in this cluster looks at this pod." })])),
    el("div", { class: "row" }, readyBtn, termBtn),
  );
}

/** A change to the running cluster (not to the text): redraw everything. */
function live(change) {
  try { change(); } catch (e) { showErrors([e.message]); return; }
  draw();
  if ($("tr-result").childElementCount) send();
}

// ------------------------------------------------------------ DNS and traffic

function refreshChoices() {
  const pods = cluster.list("Pod").items.map(key);
  const ex = EXAMPLES.find((e) => e.id === $("example").value);
  const fill = (sel, values, chosen) => {
    sel.replaceChildren(...values.map(([v, t]) => el("option", { value: v, text: t })));
    if (chosen && values.some(([v]) => v === chosen)) sel.value = chosen;
  };
  fill($("dns-pod"), pods.map((p) => [p, p]), ex?.dns?.pod);
  if (ex?.dns?.name) $("dns-name").value = ex.dns.name;
  fill($("tr-source"), [...pods.map((p) => [p, p]), ["external", EXTERNAL]], ex?.traffic?.source);
  const nodeIp = cluster.list("Node").items.map((n) => [n.metadata.name, n.status?.addresses?.find((a) => a.type === "InternalIP")?.address]).find(([, ip]) => ip);
  const dests = [];
  for (const s of cluster.list("Service").items) {
    const k = key(s), spec = s.spec ?? {};
    if (k === "default/kubernetes") continue;
    for (const p of spec.ports ?? [{ port: 80 }]) {
      dests.push([JSON.stringify({ service: k, inside: { dns: `${s.metadata.name}.${s.metadata.namespace}`, port: p.port },
        outside: spec.type === "LoadBalancer" && s.status?.loadBalancer?.ingress?.[0]?.ip ? { ip: s.status.loadBalancer.ingress[0].ip, port: p.port }
          : p.nodePort && nodeIp ? { ip: nodeIp[1], port: p.nodePort, arrivesAt: nodeIp[0] }
          : spec.clusterIP && spec.clusterIP !== "None" && nodeIp ? { ip: spec.clusterIP, port: p.port, arrivesAt: nodeIp[0] } : null }),
        `Service ${k} port ${p.port} (${spec.type ?? "ClusterIP"})`]);
    }
    if (!spec.ports?.length && spec.type === "ExternalName") {
      dests.push([JSON.stringify({ service: k, inside: { dns: `${s.metadata.name}.${s.metadata.namespace}`, port: 443 } }), `Service ${k} (ExternalName)`]);
    }
  }
  const classes = cluster.list("IngressClass").items;
  for (const ing of cluster.list("Ingress").items) {
    const cls = classes.find((c) => c.metadata.name === ing.spec?.ingressClassName) ??
      classes.find((c) => c.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"] === "true");
    for (const r of ing.spec?.rules ?? []) {
      const svc = `${ing.metadata.namespace}/${r.http?.paths?.[0]?.backend?.service?.name}`;
      const ingress = { controller: cls?.spec?.controller ?? "", scheme: "http", host: r.host ?? "", path: "/" };
      dests.push([JSON.stringify({ service: svc, inside: { ingress }, outside: { ingress } }), `Ingress host ${r.host ?? "*"} (${key(ing)})`]);
    }
  }
  const chosen = dests.find(([v]) => JSON.parse(v).service === ex?.traffic?.service)?.[0];
  fill($("tr-dest"), dests, chosen);
}

function resolveDns() {
  const result = $("dns-result");
  try {
    const w = cluster.dnsSearch({ pod: $("dns-pod").value }, $("dns-name").value.trim(), $("dns-type").value, $("dns-resolver").value);
    result.replaceChildren(
      el("p", { text: `Search list: ${w.searchList.join(" ")}` }),
      el("table", {}, el("tr", {}, el("th", { text: "#" }), el("th", { text: "query sent" }), el("th", { text: "outcome" })),
        ...w.sent.map((s, i) => el("tr", {}, el("td", { text: String(i + 1) }), el("td", { class: "mono", text: s.qname }),
          el("td", { class: s.outcome === "answer" ? "ok" : "bad", text: s.outcome })))),
      el("p", { text: w.answeredBy ? `Answered by ${w.answeredBy}` : `No answer: ${w.result}` }),
      el("pre", { class: "mono", text: w.answer.join("\n") }),
    );
  } catch (e) {
    result.replaceChildren(el("p", { class: "bad", text: e.message }));
  }
}

function send() {
  const result = $("tr-result");
  const dest = JSON.parse($("tr-dest").value || "null");
  if (!dest) return;
  const src = $("tr-source").value;
  const external = src === "external";
  const to = external ? dest.outside : dest.inside;
  if (!to) {
    result.replaceChildren(el("p", { class: "bad", text: `Service ${dest.service} is not reachable from outside the cluster.` }));
    return;
  }
  const { arrivesAt, ...where } = to;
  const source = external ? { external: "203.0.113.99", ...(arrivesAt ? { arrivesAt } : {}) } : { pod: src };
  const destination = where.ingress ? { ingress: where.ingress } : where;
  try {
    const r = cluster.simulate({ source, destination, algorithm: $("tr-algo").value, requests: Number($("tr-n").value) });
    const chosen = r.first.chosen && r.endpoints.find((e) => e.endpoint === r.first.chosen)?.pod;
    lastTrace = { source: external ? null : src, service: r.first.service ?? dest.service, chosen };
    const max = Math.max(1, ...r.endpoints.map((e) => e.count));
    const chart = el("svg:svg", { class: "chart", width: 620, height: 24 * r.endpoints.length + 8, role: "img", "aria-label": "Requests per endpoint" });
    r.endpoints.forEach((e, i) => {
      const g = el("svg:g", { class: "bar" });
      g.append(el("svg:rect", { x: 250, y: 4 + i * 24, width: Math.max(1, 300 * e.count / max), height: 18, fill: "#4c6ef5" }));
      g.append(el("svg:text", { x: 244, y: 17 + i * 24, "text-anchor": "end", "font-size": 12, text: `${e.pod ?? "?"} ${e.endpoint}` }));
      g.append(el("svg:text", { x: 256 + 300 * e.count / max, y: 17 + i * 24, "font-size": 12, text: String(e.count) }));
      chart.append(g);
    });
    result.replaceChildren(
      el("p", { text: `${r.requests} requests with ${r.algorithm}: first request ${r.first.result}${r.first.chosen ? " → " + r.first.chosen : ""}${r.first.cname ? " (CNAME " + r.first.cname + ")" : ""}${r.unrouted ? `; ${r.unrouted} reached no endpoint` : ""}` }),
      r.endpoints.length ? chart : el("p", { class: "bad", text: "No endpoints." }),
      el("h3", { text: "Trace of one request" }),
      el("ol", { class: "trace" }, ...r.first.trace.map((h) => el("li", { text: h.rule ? `[${h.rule}] ${h.detail}` : h.detail }))),
    );
    draw();
  } catch (e) {
    result.replaceChildren(el("p", { class: "bad", text: e.message }));
  }
}

// ------------------------------------------------------------ start

function loadExample(id) {
  const ex = EXAMPLES.find((e) => e.id === id) ?? EXAMPLES[0];
  $("example").value = ex.id;
  $("story").textContent = ex.story;
  $("editor").value = ex.yaml;
  applyText();
}

async function main() {
  await init();
  $("example").replaceChildren(...EXAMPLES.map((e) => el("option", { value: e.id, text: e.title })),
    el("option", { value: "link", text: "From the link", hidden: "" }),
    el("option", { value: "dropped", text: "Dropped files", hidden: "" }));
  $("tr-algo").replaceChildren(...ALGORITHMS.map((a) => el("option", { value: a, text: a })));
  $("example").addEventListener("change", () => loadExample($("example").value));
  $("apply").addEventListener("click", applyText);
  let timer = null;
  $("editor").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(applyText, 500); });
  // Drop YAML or JSON files on the editor: they replace its text (several
  // files are joined as documents of one bundle).
  const editor = $("editor");
  editor.addEventListener("dragover", (e) => { e.preventDefault(); editor.classList.add("drop"); });
  editor.addEventListener("dragleave", () => editor.classList.remove("drop"));
  editor.addEventListener("drop", async (e) => {
    e.preventDefault();
    editor.classList.remove("drop");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    const texts = await Promise.all(files.map((f) => f.text()));
    editor.value = texts.map((t) => t.replace(/\s+$/, "\n")).join("---\n");
    $("example").value = "dropped";
    $("story").textContent = `Dropped: ${files.map((f) => f.name).join(", ")}.`;
    applyText();
  });
  $("share").addEventListener("click", () => { location.hash = "yaml=" + encodeURIComponent($("editor").value); });
  $("dns-go").addEventListener("click", resolveDns);
  $("tr-go").addEventListener("click", send);
  const fromLink = () => {
    if (!location.hash.startsWith("#yaml=")) return false;
    $("example").value = "link";
    $("story").textContent = "Loaded from the link.";
    $("editor").value = decodeURIComponent(location.hash.slice(6));
    applyText();
    return true;
  };
  window.addEventListener("hashchange", fromLink);
  if (!fromLink()) loadExample(EXAMPLES[0].id);
}

main().catch((e) => {
  document.body.prepend(el("p", { class: "bad", text: `The playground could not start: ${e.message}` }));
});
