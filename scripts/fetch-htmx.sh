#!/usr/bin/env bash
# Refreshes the committed copies of htmx 2.0.x and its SSE extension (crates/web/assets/) from the npm
# registry, with their licences. Nothing fetches them at build, test or run time: they are compiled
# into the binary and served by Backline itself.
#
#   scripts/fetch-htmx.sh 2.0.8 2.2.4
set -euo pipefail
cd "$(dirname "$0")/.."
htmx="${1:?htmx version (2.0.x)}"
sse="${2:?htmx-ext-sse version}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "htmx.org@$htmx" "htmx-ext-sse@$sse" --silent >/dev/null)
tar xzf "$work/htmx.org-$htmx.tgz" -C "$work" && mv "$work/package" "$work/htmx"
tar xzf "$work/htmx-ext-sse-$sse.tgz" -C "$work" && mv "$work/package" "$work/sse"
dest=crates/web/assets
rm -f "$dest"/htmx-*.min.js
cp "$work/htmx/dist/htmx.min.js" "$dest/htmx-$htmx.min.js"
cp "$work/htmx/LICENSE" "$dest/htmx-LICENSE"
cp "$work/sse/dist/sse.min.js" "$dest/htmx-ext-sse-$sse.min.js"
cp "$work/sse/LICENSE" "$dest/htmx-ext-sse-LICENSE"
echo "Now point crates/web/src/assets.rs at htmx-$htmx.min.js and htmx-ext-sse-$sse.min.js."
