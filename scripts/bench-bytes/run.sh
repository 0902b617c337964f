#!/usr/bin/env bash
# Bytes at equal quality (issue 18, docs/performance.md "Bytes at equal quality"):
#   scripts/bench-bytes/run.sh [--formats jpeg,webp,avif] [--sizes 256,640,1280] [--only NAME] [--oracle]
# Gathers the corpus (corpus.sh: the shared test images and scikit-image's, into the cache
# folder), installs npm sharp (sharp-install.sh: SHARP_VERSION, default 0.35.5),
# then runs benches/bytes.rs in release mode, which prints the tables.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
base="${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}"
modules="$("$repo/scripts/bench-bytes/sharp-install.sh" "$base")"
"$repo/scripts/bench-bytes/corpus.sh" "$base/bytes-corpus"
cd "$repo"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pixfront: $(git rev-parse --short HEAD); sharp: $(NODE_PATH="$modules" node -e 'const v=require("sharp").versions; console.log(`${v.sharp} (libvips ${v.vips}, mozjpeg ${v.mozjpeg}, libwebp ${v.webp}, aom ${v.aom})`)')"
echo "corpus: $(ls "$base/bytes-corpus" | wc -l) images"
echo
cargo bench --bench bytes -- --sharp "$modules" --corpus "$base/bytes-corpus" "$@"
