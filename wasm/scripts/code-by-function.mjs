// Code size by function, from a module's name section (keep the names with
// `wasm-opt -g`): prints `bytes<TAB>name` per function body, largest first.
//
//   node wasm/scripts/code-by-function.mjs module.wasm [--top N]
//
// Sizes are the raw function bodies; summing them by name prefix tells
// where the bytes come from (functions are heavily inlined, so a name
// stands for everything inlined into it).
import { readFileSync } from "node:fs";

const file = process.argv[2];
const topIndex = process.argv.indexOf("--top");
const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : Infinity;
const bytes = readFileSync(file);
let pos = 8;

function leb() {
  let result = 0, shift = 0, byte;
  do {
    byte = bytes[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
}

let imported = 0;
const bodies = [];
const names = new Map();
while (pos < bytes.length) {
  const id = bytes[pos++];
  const size = leb();
  const end = pos + size;
  if (id === 2) {
    // imports: count the imported functions (they come first in the index space)
    for (let n = leb(); n > 0; n--) {
      for (let s = 0; s < 2; s++) { const len = leb(); pos += len; }
      const kind = bytes[pos++];
      if (kind === 0) { leb(); imported++; }
      else if (kind === 1) { pos++; const flags = leb(); leb(); if (flags & 1) leb(); }
      else if (kind === 2) { const flags = leb(); leb(); if (flags & 1) leb(); }
      else if (kind === 3) { pos += 2; }
      else if (kind === 4) { pos++; leb(); }
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) { const len = leb(); bodies.push(len); pos += len; }
  } else if (id === 0) {
    const len = leb();
    const name = bytes.subarray(pos, pos + len).toString();
    pos += len;
    if (name === "name") {
      while (pos < end) {
        const sub = bytes[pos++];
        const subSize = leb();
        const subEnd = pos + subSize;
        if (sub === 1) {
          for (let n = leb(); n > 0; n--) {
            const index = leb();
            const l = leb();
            names.set(index, bytes.subarray(pos, pos + l).toString());
            pos += l;
          }
        }
        pos = subEnd;
      }
    }
  }
  pos = end;
}
const rows = bodies.map((size, i) => [size, names.get(i + imported) ?? `func${i + imported}`]);
rows.sort((a, b) => b[0] - a[0]);
for (const [size, name] of rows.slice(0, top)) console.log(`${size}\t${name}`);
