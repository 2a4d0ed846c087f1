#!/usr/bin/env bash
# Refreshes the Swagger UI files that Backline serves at /docs, from the npm registry.
# Backline serves them itself so that /docs works with no internet access.
# Usage: scripts/fetch-swagger-ui.sh [version]
set -euo pipefail
version="${1:-5.35.0}"
dest="$(cd "$(dirname "$0")/.." && pwd)/crates/platform/assets/swagger-ui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@${version}" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE favicon-32x32.png; do
  cp "$work/package/$f" "$dest/$f"
done
echo "swagger-ui-dist ${version} -> ${dest}"
