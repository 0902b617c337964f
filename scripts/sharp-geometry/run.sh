#!/usr/bin/env bash
# Regenerates tests/data/sharp_geometry.json (resize sizes on synthetic PNGs: the geometry
# alone), tests/data/geometry/ + tests/data/sharp_geometry_originals.json (sizes on real
# originals, shrink-on-load included) and tests/data/sharp_ops/ (edits on a real photo) by
# running sharp itself (npm `sharp`, installed into a temporary folder so the repository
# carries no node_modules).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/index.js" "$here/ops.js" "$here/originals.js" "$tmp/"
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund "sharp@${SHARP_VERSION:-0.35.5}" >/dev/null)
mkdir -p "$repo/tests/data"
(cd "$tmp" && node index.js) >"$repo/tests/data/sharp_geometry.json.tmp"
mv "$repo/tests/data/sharp_geometry.json.tmp" "$repo/tests/data/sharp_geometry.json"
echo "wrote $repo/tests/data/sharp_geometry.json ($(grep -c '"in"' "$repo/tests/data/sharp_geometry.json") rows)"
testdata="${PIXFRONT_TESTDATA:-$repo/../shared/testdata}"
(cd "$tmp" && node originals.js "$repo/tests/data/geometry" "$testdata") >"$repo/tests/data/sharp_geometry_originals.json.tmp"
mv "$repo/tests/data/sharp_geometry_originals.json.tmp" "$repo/tests/data/sharp_geometry_originals.json"
echo "wrote $repo/tests/data/geometry/ and sharp_geometry_originals.json ($(grep -c '"file"' "$repo/tests/data/sharp_geometry_originals.json") rows)"
(cd "$tmp" && node ops.js "$repo/tests/data/sharp_ops" "$testdata/faces/hopper_128.jpg")
echo "wrote $repo/tests/data/sharp_ops/"
