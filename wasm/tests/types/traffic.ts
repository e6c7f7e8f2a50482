// Type-checks the DNS, route, simulate and pod calls against the generated
// declarations (tsc --noEmit -p wasm/tests/types).
import {
  Cluster, parseSelector, matchSelector, labelSelector, matchLabelSelector, serviceSelects,
  parseSelectorMap, validateName,
} from "../../pkg-node/svcroute_wasm";
import type {
  DnsAnswer, DnsWalk, RouteDecision, SimulateResult, Changes, RouteRequest, Hop,
} from "../../pkg-node/svcroute_wasm";

const cluster = new Cluster();
cluster.setDnsConfig({ ttl: 30, pods: "verified" });
const a: DnsAnswer = cluster.dnsQuery("web.shop.svc.cluster.local.", "A");
const records: string[] = a.answer;
const walk: DnsWalk = cluster.dnsSearch({ pod: "shop/client" }, "web", "A", "musl", {
  "www.example.com.": { A: "198.51.100.7", ttl: 300 },
});
const tried: string[] = walk.sent.map((s) => s.qname);
const req: RouteRequest = { source: { pod: "shop/client" }, destination: { dns: "web", port: 80 } };
const d: RouteDecision = cluster.route(req);
const hops: Hop[] = d.trace;
const sim: SimulateResult = cluster.simulate({ ...req, requests: 1000, algorithm: "maglev" });
const counts: number[] = sim.endpoints.map((e) => e.count);
const c1: Changes = cluster.setPodReady("shop", "web-1", false);
const c2: Changes = cluster.setPodTerminating("shop", "web-1", true);
cluster.free();

const canonical: string = parseSelector("app=web");
const yes: boolean = matchSelector("app=web", { app: "web" }) && serviceSelects({ app: "web" }, { app: "web" });
const kind: "nil" | "empty" | "requirements" = labelSelector({ matchLabels: { app: "web" } }).kind;
const m: boolean = matchLabelSelector(null, {});
const map: Record<string, string> = parseSelectorMap("a=b");
const why: string | undefined = validateName("dns1123Label", "Web");

// Mistakes the declarations catch.
// @ts-expect-error: not a name rule
validateName("hostname", "x");
// @ts-expect-error: not an algorithm
cluster.simulate({ ...req, requests: 10, algorithm: "fastest" });
// @ts-expect-error: a route needs a destination
cluster.route({ source: { node: "n1" } });
// @ts-expect-error: pods is one of three
cluster.setDnsConfig({ pods: "all" });
// @ts-expect-error: musl or glibc
cluster.dnsSearch({ namespace: "shop" }, "web", "A", "bsd");

export { records, tried, hops, counts, c1, c2, canonical, yes, kind, m, map, why };
