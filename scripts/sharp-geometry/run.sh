#!/usr/bin/env bash
# Regenerates tests/data/sharp_geometry.json (resize sizes) and tests/data/sharp_ops/ (edits on
# a real photo) by running sharp itself (npm `sharp`, installed into a
# temporary folder so the repository carries no node_modules).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/index.js" "$here/ops.js" "$tmp/"
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund "sharp@${SHARP_VERSION:-0.34}" >/dev/null)
mkdir -p "$repo/tests/data"
(cd "$tmp" && node index.js) >"$repo/tests/data/sharp_geometry.json.tmp"
mv "$repo/tests/data/sharp_geometry.json.tmp" "$repo/tests/data/sharp_geometry.json"
echo "wrote $repo/tests/data/sharp_geometry.json ($(grep -c '"in"' "$repo/tests/data/sharp_geometry.json") rows)"
testdata="${PIXFRONT_TESTDATA:-$repo/../shared/testdata}"
(cd "$tmp" && node ops.js "$repo/tests/data/sharp_ops" "$testdata/faces/hopper_128.jpg")
echo "wrote $repo/tests/data/sharp_ops/"
