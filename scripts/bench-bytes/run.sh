#!/usr/bin/env bash
# Bytes at equal quality (issue 18, docs/performance.md "Bytes at equal quality"):
#   scripts/bench-bytes/run.sh [--formats jpeg,webp,avif] [--sizes 256,640,1280] [--only NAME]
# Gathers the corpus (corpus.sh: the shared test images and scikit-image's, into the cache
# folder), installs npm sharp like scripts/bench-compare/run.sh (SHARP_VERSION, default 0.35.5),
# then runs benches/bytes.rs in release mode, which prints the tables.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
version="${SHARP_VERSION:-0.35.5}"
base="${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}"
cache="$base/sharp-$version"
if ! NODE_PATH="$cache/node_modules" node -e 'require("sharp")' >/dev/null 2>&1; then
  echo "installing sharp@$version into $cache" >&2
  mkdir -p "$cache"
  (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "sharp@$version" >/dev/null)
fi
"$repo/scripts/bench-bytes/corpus.sh" "$base/bytes-corpus"
cd "$repo"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pixfront: $(git rev-parse --short HEAD); sharp: $(NODE_PATH="$cache/node_modules" node -e 'const v=require("sharp").versions; console.log(`${v.sharp} (libvips ${v.vips}, mozjpeg ${v.mozjpeg}, libwebp ${v.webp}, aom ${v.aom})`)')"
echo "corpus: $(ls "$base/bytes-corpus" | wc -l) images"
echo
cargo bench --bench bytes -- --sharp "$cache/node_modules" --corpus "$base/bytes-corpus" "$@"
