// Compile-time checks of the package's TypeScript declarations: what a
// playground written in TypeScript would do. Never run, only type-checked
// (tsc --noEmit, see tsconfig.json); a wrong type is a compile error.
import {
  Cluster,
  hasYaml,
  type Changes,
  type ClusterConfig,
  type EndpointSlice,
  type KubeObject,
  type List,
  type ObjectKey,
  type PodExplanation,
  type ServiceExplanation,
  type SvcrouteError,
} from "../../pkg-node/svcroute_wasm.js";
import * as web from "../../www/pkg/svcroute_wasm.js";

const config: ClusterConfig = { clusterDomain: "corp.example", proxyMode: "nftables", kubernetesServiceIP: null };
const cluster: Cluster = new Cluster(config);
const fresh = new Cluster();
fresh.free();

const yaml: boolean = hasYaml();
const changes: Changes = cluster.apply(yaml ? "kind: List" : "{}");
const created: ObjectKey[] = changes.created;
const counts: number[] = changes.skipped.map((s) => s.count);
const firstNamespace: string | undefined = created[0]?.namespace;

const pods: List = cluster.list("Pod", "shop", "app=web");
const names: (string | undefined)[] = pods.items.map((p: KubeObject) => p.metadata.name);
const labels: Record<string, string> | undefined = pods.items[0]?.metadata.labels;
cluster.list("Namespace");

const slices: List<EndpointSlice> = cluster.endpointSlices("shop", "web");
const addresses: string[][] = slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.addresses));
const ready: (boolean | undefined)[] = slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.conditions?.ready));

const why: ServiceExplanation = cluster.explainService("shop", "web");
const readyCount: number = why.readyEndpoints;
const misses = why.pods.filter((p: PodExplanation) => p.verdict === "NotSelected").map((p) => p.labelMisses ?? []);

const deleted: Changes = cluster.delete("Service", "shop", "web");
cluster.delete("Node", undefined, "n1");

try {
  cluster.apply("{");
} catch (e) {
  const err = e as SvcrouteError;
  const code: "parse" | "invalid" | "conflict" | "not-found" | "limit" | "unsupported" = err.code;
  const where: (number | undefined)[] = (err.problems ?? []).map((p) => p.line);
  console.log(code, where, err.message);
}
cluster.free();

// The web build has the same class.
const other: web.Cluster = new web.Cluster({ bootstrap: false });
const otherChanges: web.Changes = other.apply("{}");
other.free();

// Mistakes the declarations catch.
// @ts-expect-error: not a kind svcroute models
cluster.list("ConfigMap");
// @ts-expect-error: proxyMode is one of three
new Cluster({ proxyMode: "userspace" });
// @ts-expect-error: unknown configuration key
new Cluster({ clusterDomian: "x" });
// @ts-expect-error: readyEndpoints is a number
const wrong: string = why.readyEndpoints;

export {
  counts, firstNamespace, names, labels, addresses, ready, readyCount, misses, deleted, otherChanges, wrong,
};
