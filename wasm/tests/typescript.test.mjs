// The package's TypeScript declarations, checked by the real compiler:
// `tsc --noEmit -p wasm/tests/types` over a small TypeScript program that uses
// the Cluster class of both builds (node and web) and expects the mistakes it
// makes on purpose to be type errors. TypeScript is pinned in
// wasm/package.json (`npm ci` in wasm/). Skipped with a notice when it is not
// installed, unless SVCROUTE_REQUIRE_TOOLS=1 (CI).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const tsc = here("../node_modules/typescript/bin/tsc");

test("tsc --noEmit accepts the declarations and a typed program", (t) => {
  if (!existsSync(tsc)) {
    assert.notEqual(process.env.SVCROUTE_REQUIRE_TOOLS, "1", "TypeScript is not installed (npm ci in wasm/)");
    t.skip("TypeScript is not installed (npm ci in wasm/)");
    return;
  }
  const run = spawnSync(process.execPath, [tsc, "--noEmit", "-p", here("types/tsconfig.json")], {
    encoding: "utf8",
  });
  assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`);
});
