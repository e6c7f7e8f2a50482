// Type-checks scale and expose against the generated declarations
// (tsc --noEmit -p wasm/tests/types).
import { Cluster } from "../../pkg-node/svcroute_wasm";
import type { Changes, Exposed, ExposeOptions, KubeObject } from "../../pkg-node/svcroute_wasm";

const cluster = new Cluster({ defaultNodes: 2 });
const scaled: Changes = cluster.scale("Deployment", "shop", "web", 3);
const options: ExposeOptions = { port: 80, targetPort: "http", type: "NodePort", name: "web-np" };
const exposed: Exposed = cluster.expose("Deployment", "shop", "web", options);
const service: KubeObject = exposed.service;
const changes: Changes | undefined = cluster.expose("Pod", "shop", "web-1", { dryRun: true }).changes;
cluster.free();

// Mistakes the declarations catch.
// @ts-expect-error: a Service cannot be scaled
cluster.scale("Service", "shop", "web", 3);
// @ts-expect-error: not a Service type
cluster.expose("Deployment", "shop", "web", { type: "Internal" });
// @ts-expect-error: not an option
cluster.expose("Deployment", "shop", "web", { prt: 80 });

export { scaled, service, changes };
