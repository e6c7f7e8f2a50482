// The conformance suites through the WASM build in Node: selectors, the
// route suites (services, topology, affinity, ingress, gateway), dns and
// dns-search, from ../shared/conformance/ (README there). The same
// vectors as tests/tests/conformance.rs, answered by the package instead of
// the Rust core directly, at the required level (reference-only fields are
// not compared). Skipped with a notice when the suites are not beside the
// repository.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require(here("../pkg-node/svcroute_wasm.js"));
const { Cluster } = pkg;
const DIR = process.env.SVCROUTE_CONFORMANCE_DIR ?? here("../../../shared/conformance/");
const MODES = ["iptables", "nftables", "ipvs"];
const SELECTOR_QUERIES = { parseSelector: 1, matchSelector: 1, labelSelector: 1, validate: 1, serviceSelector: 1, parseSelectorMap: 1 };
// Cases the Rust core fails on purpose too (tests/conformance/deviations.txt
// and reference-level choices it documents).
const KNOWN = new Set(["parse-163"]);

class Unsupported extends Error {}

const sorted = (a) => [...(a ?? [])].sort();
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function subset(want, got) {
  if (want && typeof want === "object" && !Array.isArray(want)) {
    return got && typeof got === "object" && Object.entries(want).every(([k, v]) => subset(v, got[k] ?? null));
  }
  return eq(want, got);
}

/** A record for comparison: owner and domain-name rdata lower-cased, SOA serial `*`, SOA/authority by owner. */
function canon(record, soaOwnerOnly) {
  const parts = record.trim().split(/\s+/);
  parts[0] = parts[0].toLowerCase();
  const type = parts[3];
  if (type === "SOA" && soaOwnerOnly) return `${parts[0]} SOA`;
  if (["CNAME", "PTR", "NS", "SRV", "SOA", "MX"].includes(type)) parts[parts.length - 1] = parts[parts.length - 1].toLowerCase();
  if (type === "SOA") { parts[4] = parts[4].toLowerCase(); parts[5] = parts[5].toLowerCase(); parts[6] = "*"; }
  if (type === "AAAA") parts[4] = normalize6(parts[4]);
  return parts.join(" ");
}
function normalize6(a) {
  const [head, tail = ""] = a.toLowerCase().split("::");
  const h = head ? head.split(":") : [], t = tail ? tail.split(":") : [];
  const full = a.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return full.map((x) => parseInt(x, 16).toString(16)).join(":");
}
const records = (list, soa) => sorted((list ?? []).map((r) => canon(r, soa)));

function check(key, want, got) {
  if (!eq(want, got)) throw new Error(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

function effective(expect, mode) {
  const e = { ...expect };
  const over = e.perMode?.[mode];
  delete e.perMode;
  for (const [k, v] of Object.entries(over ?? {})) { if (v === null) delete e[k]; else e[k] = v; }
  return e;
}

function routeStep(c, q, expect, mode, chosen, index) {
  const d = c.route({ ...q, mode });
  chosen.set(index, d.chosen ?? null);
  const e = effective(expect, mode);
  for (const [k, want] of Object.entries(e)) {
    switch (k) {
      case "result": check(k, want, d.result); break;
      case "endpoints": {
        let w = sorted(want ?? []);
        if (e.minusEndpointOfStep !== undefined) w = w.filter((x) => x !== chosen.get(e.minusEndpointOfStep));
        check(k, w, sorted(d.endpoints)); break;
      }
      case "masquerade": check(k, want, d.masquerade ?? null); break;
      case "packetFate": check(k, want, d.packetFate ?? null); break;
      case "dnsAnswers": check(k, sorted(want.map((a) => a.includes(":") ? normalize6(a) : a)), sorted([...new Set((d.dnsAnswers ?? []).map((a) => a.includes(":") ? normalize6(a) : a))])); break;
      case "cname": check(k, want, d.cname ?? null); break;
      case "httpStatus": check(k, want, d.httpStatus ?? null); break;
      case "body": {
        const got = typeof d.body === "string" ? JSON.parse(d.body) : d.body ?? null;
        if (!subset(want, got)) throw new Error(`body: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        break;
      }
      case "ingressMatch": case "routeMatch": case "tls":
        if (!subset(want, d[k] ?? null)) throw new Error(`${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(d[k])}`);
        break;
      case "sameAsStep": check(k, chosen.get(want), d.chosen ?? null); break;
      case "minusEndpointOfStep": case "render": break;
      default: throw new Unsupported(`route expectation ${k}`);
    }
  }
}

function dnsStep(c, q, e) {
  const a = c.dnsQuery(q.name, q.type);
  check("outcome", e.outcome, a.outcome);
  if ("rcode" in e) check("rcode", e.rcode, a.rcode ?? null);
  if ("answer" in e) check("answer", records(e.answer), records(a.answer));
  if ("authority" in e && e.authority?.length) check("authority", records(e.authority, true), records(a.authority, true));
  if ("chase" in e) check("chase", sorted((e.chase ?? []).map((x) => `${x.name.toLowerCase()} ${x.qtype}`)),
    sorted(a.chase.map((x) => `${x.name.toLowerCase()} ${x.qtype}`)));
}

function searchStep(c, q, e) {
  const client = { namespace: q.client.namespace, ndots: q.client.ndots ?? 5, hostSearch: q.client.host_search ?? [] };
  const walk = (resolver) => c.dnsSearch(client, q.name, q.qtype, resolver, q.externalRecords ?? {});
  const g = walk("glibc");
  if (e.search_list) check("search_list", e.search_list, g.searchList);
  if (e.candidates) check("candidates", e.candidates, g.candidates);
  const cmp = (want, got, who) => {
    if (want.sent) check(`${who}.sent`, want.sent.map((s) => [s.qname.toLowerCase(), s.outcome]), got.sent.map((s) => [s.qname.toLowerCase(), s.outcome]));
    if ("answered_by" in want) check(`${who}.answered_by`, want.answered_by?.toLowerCase() ?? null, got.answeredBy?.toLowerCase() ?? null);
    if (want.result) check(`${who}.result`, want.result, got.result);
    if (want.answer) check(`${who}.answer`, records(want.answer), records(got.answer));
    if (want.candidates) check(`${who}.candidates`, want.candidates, got.candidates);
  };
  if (e.glibc) cmp(e.glibc, g, "glibc");
  const m = walk("musl");
  cmp(e.musl ?? e.glibc ?? {}, m, "musl");
}

/** The answer of a selectors query, in the suite's vocabulary. */
function selectorAnswer(kind, q) {
  const attempt = (f) => { try { return [true, f()]; } catch (e) { if (!e.code) throw e; return [false, null]; } };
  switch (kind) {
    case "parseSelector": { const [valid, canonical] = attempt(() => pkg.parseSelector(q)); return { valid, canonical }; }
    case "matchSelector": return { matches: pkg.matchSelector(q.selector, q.labels) };
    case "labelSelector": {
      const [valid, k] = attempt(() => pkg.labelSelector(q.selector));
      return valid ? { valid, kind: k.kind, canonical: k.canonical, matches: q.labels.map((l) => pkg.matchLabelSelector(q.selector, l)) }
        : { valid, kind: null, canonical: null, matches: [] };
    }
    case "validate": return { valid: pkg.validateName(q.what, q.value) === undefined };
    case "serviceSelector": return { selects: pkg.serviceSelects(q.selector, q.labels) };
    case "parseSelectorMap": { const [valid, map] = attempt(() => pkg.parseSelectorMap(q)); return { valid, map }; }
    default: throw new Unsupported(`query ${kind}`);
  }
}

function selectorStep(q, expect, level) {
  const [kind] = Object.keys(q);
  const got = selectorAnswer(kind, q[kind]);
  for (const [k, want] of Object.entries(expect)) {
    if (k === "errorKind") continue; // advisory (README 10.1)
    check(k, want, got[k] ?? null);
  }
}

function runCase(kase, mode) {
  const config = { ...(kase.config ?? {}) };
  const dns = config.dns;
  delete config.dns;
  if (config.allocated) throw new Unsupported("config.allocated");
  if (mode) config.proxyMode = mode;
  const c = new Cluster({ ...config, bootstrap: false });
  try {
    if (dns) c.setDnsConfig(dns);
    if (kase.objects.length) c.apply(kase.objects.map((o) => JSON.stringify(o)).join("\n"));
    const chosen = new Map();
    kase.steps.forEach((step, i) => {
      try {
        if (step.apply) c.apply(step.apply.map((o) => JSON.stringify(o)).join("\n"));
        else if (step.delete) for (const r of step.delete) c.delete(r.kind, r.namespace ?? null, r.name);
        else if (step.mutate) {
          const ep = chosen.get(step.mutate.podOfEndpointChosenInStep);
          const ip = ep?.replace(/^\[?(.*?)\]?:\d+$/, "$1");
          const pod = c.list("Pod").items.find((p) => (p.status?.podIPs ?? []).some((x) => x.ip === ip) || p.status?.podIP === ip);
          if (!pod) throw new Error(`mutate: no pod behind ${ep}`);
          const set = step.mutate.set;
          if ("phase" in set) throw new Unsupported("mutate phase");
          if ("ready" in set) c.setPodReady(pod.metadata.namespace, pod.metadata.name, set.ready);
          if ("terminating" in set) c.setPodTerminating(pod.metadata.namespace, pod.metadata.name, set.terminating);
        } else if (step.query?.route) routeStep(c, step.query.route, step.expect, mode, chosen, i);
        else if (step.query?.dns) dnsStep(c, step.query.dns, step.expect);
        else if (step.query?.search) searchStep(c, step.query.search, step.expect);
        else if (step.query && Object.keys(step.query)[0] in SELECTOR_QUERIES) selectorStep(step.query, step.expect);
        else throw new Unsupported(`step ${Object.keys(step.query ?? step)[0]}`);
      } catch (e) {
        if (e instanceof Unsupported) throw e;
        throw new Error(`step ${i}: ${e.message}`);
      }
    });
  } finally {
    c.free();
  }
}

for (const suite of ["selectors", "services", "topology", "affinity", "ingress", "gateway", "dns", "dns-search"]) {
  const file = `${DIR}${suite}.json`;
  test(`conformance suite ${suite} through the WASM package`, { skip: existsSync(file) ? false : `${file} is not there` }, () => {
    const data = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(data.format, "svcroute-conformance/1");
    let passed = 0, unsupported = 0;
    const failures = [];
    for (const kase of data.cases) {
      const routes = kase.steps.some((s) => s.query?.route);
      for (const mode of routes ? (kase.modes ?? MODES) : [null]) {
        try { runCase(kase, mode); passed++; } catch (e) {
          if (e instanceof Unsupported) unsupported++;
          else if (KNOWN.has(kase.id)) passed += 0;
          else failures.push(`${kase.id}${mode ? ` [${mode}]` : ""}: ${e.message}`);
        }
      }
    }
    console.log(`conformance ${suite} (WASM): ${passed} passed, ${failures.length} failed, ${unsupported} unsupported`);
    assert.deepEqual(failures, []);
    assert.ok(passed > 0);
  });
}
