// Bundles in the playground (issue 14): the default nodes a bundle gets
// when it has none, and the one-line load summary, as the CLI gives them.
// Until the package exports the core's LoadSummary, the line is made here
// from the parsed documents and the apply's changes, in the core's words
// (core/src/cluster/summary.rs).

/** The kinds the engine models (the rest is skipped, D1). */
export const MODELLED = new Set(["Namespace", "Node", "Pod", "Service", "Endpoints", "EndpointSlice", "Ingress",
  "IngressClass", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Gateway", "HTTPRoute"]);
const WORKLOADS = new Set(["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"]);

/** How many default nodes the CLI gives when the input has none (`--nodes`). */
export const DEFAULT_NODE_COUNT = 3;

/** The objects of parsed documents: Lists and top-level arrays opened, watch events' objects. */
export function objectsOf(values) {
  const out = [];
  const visit = (v) => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!v || typeof v !== "object") return;
    if (typeof v.kind === "string" && v.kind.endsWith("List") && Array.isArray(v.items)) {
      const itemKind = v.kind === "List" ? null : v.kind.slice(0, -4);
      v.items.forEach((i) => visit(itemKind && i && typeof i === "object" && !i.kind ? { ...i, kind: itemKind } : i));
      return;
    }
    if (["ADDED", "MODIFIED"].includes(v.type) && v.object) { visit(v.object); return; }
    if (typeof v.kind === "string") out.push(v);
  };
  values.forEach(visit);
  return out;
}

/**
 * The cluster configuration for a bundle: default nodes only when it has no
 * Node and holds something to place (a workload, or a Pod not yet running),
 * as the CLI decides.
 */
export function configFor(objects) {
  const hasNode = objects.some((o) => o.kind === "Node");
  const toPlace = objects.some((o) => WORKLOADS.has(o.kind) || (o.kind === "Pod" && !o.status?.phase));
  return !hasNode && toPlace ? { defaultNodes: DEFAULT_NODE_COUNT } : null;
}

/** `1 Service`, `2 Services`, `2 Ingresses`, `2 Endpoints`. */
function count(n, kind) {
  if (n === 1) return `1 ${kind}`;
  const plural = kind.endsWith("ss") ? `${kind}es` : kind.endsWith("s") ? kind : `${kind}s`;
  return `${n} ${plural}`;
}

const keyOf = (kind, o) => `${kind}/${o.metadata?.namespace || "default"}/${o.metadata?.name ?? ""}`;

/**
 * What the load did: `{line, read, generated, pending, skipped}`, `line`
 * as the CLI prints it ("read 7 objects (3 Deployments, …); generated 3
 * ReplicaSets and 3 Pods; skipped 2 objects of kinds svcroute does not
 * model (ConfigMap, ServiceAccount)").
 */
export function summarize(objects, changes, cluster) {
  const read = new Map();
  const own = new Set();
  for (const o of objects) {
    if (!MODELLED.has(o.kind)) continue;
    read.set(o.kind, (read.get(o.kind) ?? 0) + 1);
    own.add(keyOf(o.kind, o));
  }
  const generated = new Map();
  let pending = 0;
  const pods = new Map(cluster.list("Pod").items.map((p) => [keyOf("Pod", p), p]));
  for (const k of changes.created) {
    if (!["ReplicaSet", "Pod"].includes(k.kind)) continue;
    const id = `${k.kind}/${k.namespace ?? "default"}/${k.name}`;
    if (own.has(id)) continue;
    generated.set(k.kind, (generated.get(k.kind) ?? 0) + 1);
    if (k.kind === "Pod" && (pods.get(id)?.status?.phase ?? "Pending") === "Pending") pending++;
  }
  const skipped = new Map();
  for (const s of changes.skipped) skipped.set(s.kind, (skipped.get(s.kind) ?? 0) + s.count);

  const total = [...read.values()].reduce((a, b) => a + b, 0);
  let line = `read ${count(total, "object")}`;
  if (total > 0) {
    const kinds = [...read].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    line += ` (${kinds.map(([k, n]) => count(n, k)).join(", ")})`;
  }
  const made = ["ReplicaSet", "Pod"].filter((k) => generated.has(k)).map((k) => count(generated.get(k), k));
  if (made.length) line += `; generated ${made.join(" and ")}${pending ? ` (${pending} Pending)` : ""}`;
  if (skipped.size) {
    const n = [...skipped.values()].reduce((a, b) => a + b, 0);
    const list = [...skipped].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, c]) => (c === 1 ? k : `${k} ×${c}`));
    line += `; skipped ${count(n, "object")} of kinds svcroute does not model (${list.join(", ")})`;
  }
  return {
    line,
    read: Object.fromEntries(read),
    generated: Object.fromEntries(generated),
    pending,
    skipped: Object.fromEntries(skipped),
  };
}
