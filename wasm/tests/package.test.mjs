// The built package as JS sees it (run `wasm/build.sh` first):
//   node --test wasm/tests/*.test.mjs
// Loads the Node package (CommonJS) and the web package (ES module,
// instantiated synchronously from the file, as a browser would from a fetch).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);

// The workspace version, the one `version()` must give.
const cargoToml = readFileSync(here("../../Cargo.toml"), "utf8");
const expectedVersion = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargoToml)?.[1];

test("the workspace version is readable", () => {
  assert.match(expectedVersion ?? "", /^\d+\.\d+\.\d+/);
});

test("nodejs package: version()", () => {
  const pkg = require(here("../pkg-node/svcroute_wasm.js"));
  assert.equal(typeof pkg.version, "function");
  assert.equal(pkg.version(), expectedVersion);
  // Calls are repeatable (strings are copied out and freed each time).
  for (let i = 0; i < 1000; i++) assert.equal(pkg.version(), expectedVersion);
});

test("web package: initSync + version()", async () => {
  const web = await import(here("../www/pkg/svcroute_wasm.js"));
  web.initSync({ module: readFileSync(here("../www/pkg/svcroute_wasm_bg.wasm")) });
  assert.equal(web.version(), expectedVersion);
});

test("TypeScript declarations ship with both packages", () => {
  for (const dir of ["../pkg-node", "../www/pkg"]) {
    const dts = readFileSync(here(`${dir}/svcroute_wasm.d.ts`), "utf8");
    assert.match(dts, /export function version\(\): string;/);
  }
});

test("the module imports only wasm-bindgen's glue", () => {
  const bytes = readFileSync(here("../pkg-node/svcroute_wasm_bg.wasm"));
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  const modules = new Set(imports.map((i) => i.module));
  assert.ok(!modules.has("env"), `env imports: ${JSON.stringify(imports)}`);
  for (const m of modules) assert.match(m, /^\.\/[\w.-]+\.js$/);
});
