// Bundles in the playground (issue 14): the default nodes a bundle gets
// when it has none, as the CLI decides (bindings/cli/src/nodes.rs). The load
// summary is the core's (`applyWithSummary`).

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
