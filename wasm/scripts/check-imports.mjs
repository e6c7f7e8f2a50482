// Lists the imports of .wasm modules and fails if any comes from a module
// other than wasm-bindgen's own: an `env` (or `wasi_*`) import means that
// OS-bound code (a clock, a file, libc) slipped into the core.
//
//   node scripts/check-imports.mjs --raw    target/.../svcroute_wasm.wasm
//   node scripts/check-imports.mjs --bound  www/pkg/svcroute_wasm_bg.wasm ...
//
// --raw:   cargo's output, before wasm-bindgen: only __wbindgen_* modules.
// --bound: wasm-bindgen's output: only its JS glue (a ./*.js module, or
//          "wbg" for --target web).
import { readFileSync } from "node:fs";

const [mode, ...files] = process.argv.slice(2);
const allowed = {
  "--raw": (m) => m === "__wbindgen_placeholder__" || m === "__wbindgen_externref_xform__",
  "--bound": (m) => m === "wbg" || /^\.\/[\w.-]+\.js$/.test(m),
}[mode];
if (!allowed || files.length === 0) {
  console.error("usage: check-imports.mjs --raw|--bound FILE.wasm...");
  process.exit(2);
}

let bad = 0;
for (const file of files) {
  const module = new WebAssembly.Module(readFileSync(file));
  const imports = WebAssembly.Module.imports(module);
  const byModule = new Map();
  for (const { module: m, name } of imports) {
    if (!byModule.has(m)) byModule.set(m, []);
    byModule.get(m).push(name);
  }
  const summary = [...byModule].map(([m, names]) => `${m} (${names.length})`).join(", ");
  console.log(`imports of ${file}: ${summary || "none"}`);
  for (const [m, names] of byModule) {
    if (!allowed(m)) {
      bad++;
      console.error(`  not allowed: module "${m}": ${names.join(", ")}`);
    }
  }
}
if (bad) {
  console.error("check-imports: the wasm imports from modules other than wasm-bindgen's (see above).");
  process.exit(1);
}
