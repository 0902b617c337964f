#!/usr/bin/env bash
# pixfront against sharp on the performance issue's workloads (docs/performance.md).
#   scripts/bench-compare/run.sh [--runs N] [--workers 1,2] [--only NAME]
# Installs npm sharp (SHARP_VERSION, default 0.35.5) into a cache folder the first time
# (PIXFRONT_BENCH_CACHE, default ~/.cache/pixfront-bench), so the repository carries no
# node_modules; then builds and runs benches/compare.rs in release mode, which prints the tables.
# Every input comes from the shared test images (PIXFRONT_TESTDATA overrides their folder).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
modules="$("$repo/scripts/bench-bytes/sharp-install.sh" "${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}")"
cd "$repo"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pixfront: $(git rev-parse --short HEAD), $(rustc --version)"
echo "sharp: $(NODE_PATH="$modules" node -e 'const v=require("sharp").versions; console.log(`${v.sharp} (libvips ${v.vips}, mozjpeg ${v.mozjpeg}, libwebp ${v.webp}, aom ${v.aom})`)'), node $(node --version)"
echo
cargo bench --bench compare -- --sharp "$modules" "$@"
