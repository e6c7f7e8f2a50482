#!/usr/bin/env bash
# Serves the playground (wasm/www/) on 127.0.0.1 (DECISIONS D17).
#   wasm/serve.sh [PORT]      default port 8080; Ctrl-C stops it
# Build the package first with wasm/build.sh. A static server is all the
# page needs; python's serves .wasm as application/wasm.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${1:-8080}
case "$port" in
'' | *[!0-9]*) echo "usage: $0 [PORT]" >&2; exit 2 ;;
esac
if [ ! -f "$here/www/pkg/svcroute_wasm.js" ]; then
    echo "serve.sh: wasm/www/pkg/ is missing; build it with wasm/build.sh" >&2
    exit 1
fi
echo "svcroute playground: http://127.0.0.1:$port/"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$here/www"
