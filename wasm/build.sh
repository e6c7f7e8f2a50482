#!/usr/bin/env bash
# Builds the WASM package (DECISIONS D17):
#   1. cargo build --target wasm32-unknown-unknown --release -p svcroute-wasm,
#      optimized for size (opt-level "z", fat LTO, one codegen unit, no debug
#      info: set here through CARGO_PROFILE_RELEASE_*, so that native release
#      builds keep the workspace profile), with the standard library rebuilt
#      with immediate-abort panics when rust-src is installed (into
#      target/wasm-size/; SVCROUTE_WASM_PLAIN=1 or a failure: the plain build)
#   2. checks the module imports nothing but wasm-bindgen's (no `env`)
#   3. wasm-bindgen 0.2.130 --target web    into wasm/www/pkg/  (the playground)
#      wasm-bindgen 0.2.130 --target nodejs into wasm/pkg-node/ (Node, tests)
#   4. wasm-opt -Os --strip-debug --strip-producers from npm's binaryen
#      (wasm/node_modules; `npm ci` in wasm/)
#   5. prints the sizes, raw and gzipped
#
#   wasm/build.sh            all of the above
#   wasm/build.sh --no-opt   skip wasm-opt (fast; what `cargo test` uses)
#   wasm/build.sh --yaml     with the core's YAML reader (feature `yaml`)
#   wasm/build.sh --no-traffic   without `route`/`simulate` (crate feature
#                                `traffic`: the dataplane and the balancers)
#   wasm/build.sh --no-dns       without the DNS methods (crate feature `dns`)
#
# YAML is left out by default (DECISIONS D12): the playground parses YAML
# with npm's `yaml` (copied into www/vendor/yaml/ below) and passes JSON.
# Sizes after wasm-opt, gzip -9 (measured 2026-12-03):
#   cluster only (apply/list/slices/explain), before:   312,123 B
#   the same with the core's `compact` feature:         284,007 B
#   + DNS, search walk, route, simulate (all of issue 8): 440,228 B
#   + selector and name-rule functions (shipped now):     446,127 B
#   YAML reader (--yaml) adds about 70 KB more.
# Issue 8 size work (measured 2026-12-03, same build, gzip -9 after wasm-opt):
#   all features, wasm-opt -Oz:                                  446,115 B
#   the same with opt-level "s" instead of "z":                 521,109 B
#   all features, -Oz --converge --low-memory-unused
#     --zero-filled-memory (used below):                         438,681 B
#   --no-traffic (cluster + DNS + selectors):                   322,042 B
#   --no-traffic --no-dns (cluster + selectors):                290,274 B
# So DNS is about 33 KB and route/simulate about 117 KB; what is left over
# the budget without them is mostly serde decoding of the typed objects
# (about 220 KB of the 750 KB of code before compression).
# Over the 250 KB budget: the DNS, dataplane and balance code is new weight;
# the typed decoding through serde_json::Value is still the largest part.
# Session 3 (measured 2026-12-03; details in wasm/SIZE.md): the start was
# 561,326 B (the module grew with workloads, scale/expose, bundles); with one
# compiled sort for the core (core/src/order.rs, feature `compact`) and the
# load summary merged: 551,278 B. Still over the budget: see SIZE.md.
# Session 4 (wasm-opt without --converge, see SIZE.md): start 567,725 B;
# the objects read by one hand-written reader (core/src/api/decode.rs)
# instead of serde derive, and std rebuilt with immediate-abort panics:
# 496,241 B; shipped (with --converge): 494,148 B (session 3: 551,278).
# Session 5 (see SIZE.md): start 500,560 B without --converge; std's
# optimize_for_size, the reader table-driven, wasm-opt -Os instead of -Oz:
# shipped (with --converge) 468,985 B.
# Session 6 (see SIZE.md): start 479,217 B without --converge (main after
# session 5); the reader's setters and list/map loops shared: 477,059 B;
# shipped (with --converge) 475,249 B (main at the start: 478,044).
# Session 7 (see SIZE.md): start 480,602 B without --converge; the
# balancers' maps replaced by one sorted key index, DNS shortcuts and
# inline(always) native-only, LLVM's inline threshold 0: 469,488 B;
# shipped (with --converge) 468,953 B. Without route/simulate the module
# is 376 KB, without DNS too 342 KB: a split alone does not reach 250 KB.
# Session 8 (see SIZE.md): the store's compact Pods and slices (issue 3)
# grew the module: 492,361 B shipped.
#
# Exit 3 when a tool is missing (the message says how to install it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
[[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
bindgen_version="0.2.130"

opt=1
yaml=0 dns=1 traffic=1
for arg in "$@"; do
    case "$arg" in
    --no-opt) opt=0 ;;
    --yaml) yaml=1 ;;
    --no-dns) dns=0 ;;
    --no-traffic) traffic=0 ;;
    *) echo "usage: $0 [--no-opt] [--yaml] [--no-dns] [--no-traffic]" >&2; exit 2 ;;
    esac
done
features=()
if [ "$yaml$dns$traffic" != 011 ]; then
    list=()
    [ "$yaml" = 1 ] && list+=(yaml)
    [ "$dns" = 1 ] && list+=(dns)
    [ "$traffic" = 1 ] && list+=(traffic)
    features=(--no-default-features --features "$(IFS=,; echo "${list[*]}")")
fi

missing() {
    echo "wasm/build.sh: $1" >&2
    exit 3
}

sysroot=$(rustc --print sysroot)
[ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] ||
    missing "the wasm32-unknown-unknown target is not installed: rustup target add wasm32-unknown-unknown"
have=$(wasm-bindgen --version 2>/dev/null || true)
[ "$have" = "wasm-bindgen $bindgen_version" ] ||
    missing "need wasm-bindgen $bindgen_version, found: ${have:-nothing}; install it with: cargo install wasm-bindgen-cli --version $bindgen_version --no-default-features"
command -v node >/dev/null || missing "node is needed for the import check"

size() { stat -c %s "$1"; }
gzsize() { gzip -9 -c "$1" | wc -c; }

# For size: opt-level "z", fat LTO, one codegen unit, no debug info.
size_build() {
    (cd "$root" &&
        CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat \
            CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
            cargo build --target wasm32-unknown-unknown --release -p svcroute-wasm \
            "${features[@]}" "$@")
}

# The standard library rebuilt with panics that abort at once (a panic is a
# trap, without its message and the formatting code behind it; nothing here
# catches panics): about 19 KB gzip less. It needs the rust-src component and
# unstable cargo flags (RUSTC_BOOTSTRAP=1); it builds into its own target
# directory, so that plain wasm32 builds (`cargo test --target wasm32-...`)
# do not rebuild. If it fails, the plain build below is the fallback.
# std's `optimize_for_size` feature picks its smaller algorithms (sorts,
# BTreeMap building): about 16 KB gzip less (issue 8, session 5).
# -Zlocation-detail=none drops the source paths of panic locations, which
# an immediate abort never prints (14 paths were left; a few bytes).
# -Cllvm-args=-inline-threshold=0: LLVM inlines only what costs no code
# (single callers, trivial bodies): 3.0 KB gzip less (issue 8, session 7).
raw=""
if [ -d "$sysroot/lib/rustlib/src/rust/library/std" ] && [ "${SVCROUTE_WASM_PLAIN:-0}" != 1 ]; then
    echo "== cargo build (wasm32-unknown-unknown, release, for size, std with immediate-abort panics) ${features[*]}"
    if CARGO_TARGET_DIR="$target_dir/wasm-size" RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-Cpanic=immediate-abort -Zunstable-options -Zlocation-detail=none -Cllvm-args=-inline-threshold=0" CARGO_PROFILE_RELEASE_PANIC=abort \
        size_build -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size; then
        raw="$target_dir/wasm-size/wasm32-unknown-unknown/release/svcroute_wasm.wasm"
    else
        echo "== the build with std rebuilt failed; the plain build follows" >&2
    fi
else
    echo "== rust-src is not installed (rustup component add rust-src): plain std, panics unwind to an abort"
fi
if [ -z "$raw" ]; then
    echo "== cargo build (wasm32-unknown-unknown, release, for size) ${features[*]}"
    size_build
    raw="$target_dir/wasm32-unknown-unknown/release/svcroute_wasm.wasm"
fi

echo "== import check"
node "$here/scripts/check-imports.mjs" --raw "$raw"

echo "== wasm-bindgen"
rm -rf "$here/www/pkg" "$here/pkg-node"
wasm-bindgen --target web --out-dir "$here/www/pkg" "$raw"
wasm-bindgen --target nodejs --out-dir "$here/pkg-node" "$raw"
web="$here/www/pkg/svcroute_wasm_bg.wasm"
node_wasm="$here/pkg-node/svcroute_wasm_bg.wasm"
bound_size=$(size "$web")
bound_gz=$(gzsize "$web")

if [ "$opt" = 1 ]; then
    wasm_opt="$here/node_modules/.bin/wasm-opt"
    if [ -x "$wasm_opt" ]; then
        echo "== wasm-opt -Os ($("$wasm_opt" --version))"
        same=0
        cmp -s "$web" "$node_wasm" && same=1
        # -Os, not -Oz: its module is a little larger but gzips 1.5 KB
        # smaller (issue 8, session 5: 469,280 against 470,799 B with
        # --converge). --converge repeats -Os while it still shrinks; the memory
        # assumptions hold for a module that owns its memory (exported, not
        # imported) and whose stack never reaches its first kilobyte.
        strip=(--converge --low-memory-unused --zero-filled-memory --strip-debug --strip-producers)
        "$wasm_opt" -Os "${strip[@]}" "$web" -o "$web.opt" && mv "$web.opt" "$web"
        if [ "$same" = 1 ]; then
            cp "$web" "$node_wasm"
        else
            "$wasm_opt" -Os "${strip[@]}" "$node_wasm" -o "$node_wasm.opt" &&
                mv "$node_wasm.opt" "$node_wasm"
        fi
    else
        echo "== wasm-opt: not installed (run 'npm ci' in wasm/); skipped"
        opt=0
    fi
fi

node "$here/scripts/check-imports.mjs" --bound "$web" "$node_wasm"

# The playground parses YAML with npm's `yaml` (DECISIONS D12), served from
# www/vendor/yaml/ (its browser build, pinned by package-lock.json).
yaml_dist="$here/node_modules/yaml/browser/dist"
if [ -d "$yaml_dist" ]; then
    rm -rf "$here/www/vendor/yaml"
    mkdir -p "$here/www/vendor"
    cp -r "$yaml_dist" "$here/www/vendor/yaml"
    cp "$here/node_modules/yaml/LICENSE" "$here/www/vendor/yaml/LICENSE"
else
    echo "== www/vendor/yaml: npm's yaml is not installed (npm ci in wasm/); the playground needs it"
fi

echo "== sizes (bytes)"
printf '  %-44s %9s %9s\n' "file" "raw" "gzip -9"
printf '  %-44s %9s %9s\n' "cargo output" "$(size "$raw")" "$(gzsize "$raw")"
printf '  %-44s %9s %9s\n' "after wasm-bindgen" "$bound_size" "$bound_gz"
if [ "$opt" = 1 ]; then
    printf '  %-44s %9s %9s\n' "after wasm-opt -Os (shipped)" "$(size "$web")" "$(gzsize "$web")"
fi
printf '  %-44s %9s %9s\n' "www/pkg/svcroute_wasm.js (glue)" \
    "$(size "$here/www/pkg/svcroute_wasm.js")" "$(gzsize "$here/www/pkg/svcroute_wasm.js")"
echo "built: wasm/www/pkg/ (web), wasm/pkg-node/ (nodejs)"
