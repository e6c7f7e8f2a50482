#!/usr/bin/env bash
# Regenerates bindings/c/include/svcroute.h from the Rust source with the
# pinned cbindgen (0.29.4). The header is committed; never edit it by hand.
#
#   bindings/c/gen-header.sh           rewrite the header
#   bindings/c/gen-header.sh --check   fail (exit 1) if the committed header
#                                      differs from a fresh generation
#
# Exit 3 when cbindgen 0.29.4 is not installed:
#   cargo install cbindgen --version 0.29.4 --locked
set -euo pipefail

want="cbindgen 0.29.4"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
header="$here/include/svcroute.h"

have=$(cbindgen --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    echo "gen-header: need $want, found: ${have:-nothing}." >&2
    echo "gen-header: install it with: cargo install cbindgen --version 0.29.4 --locked" >&2
    exit 3
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && cbindgen --quiet --config bindings/c/cbindgen.toml --crate svcroute-c \
    --output "$tmp/svcroute.h")

case "${1:-}" in
--check)
    if diff -u "$header" "$tmp/svcroute.h"; then
        echo "gen-header: bindings/c/include/svcroute.h is up to date."
    else
        echo "gen-header: bindings/c/include/svcroute.h is stale; run bindings/c/gen-header.sh and commit it." >&2
        exit 1
    fi
    ;;
"")
    mkdir -p "$(dirname "$header")"
    if cmp -s "$tmp/svcroute.h" "$header"; then
        echo "gen-header: bindings/c/include/svcroute.h unchanged."
    else
        cp "$tmp/svcroute.h" "$header"
        echo "gen-header: wrote bindings/c/include/svcroute.h."
    fi
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
