#!/usr/bin/env bash
# Cold start of the release binary: `pixfront serve` and the Lambda bootstrap (under a minimal
# local Runtime API), from process start to the first image served, and the face model's load
# cost on its own (docs/performance.md).
#   scripts/bench-coldstart/run.sh [runs, default 10]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
testdata="$(cd "${PIXFRONT_TESTDATA:-$repo/../shared/testdata}" && pwd)"
cd "$repo"
# The release binary, built as `cargo bench` builds it (bins come with benches), so this and
# scripts/bench-compare share one build instead of compiling the dependencies twice;
# PIXFRONT_BIN names an already built one instead.
if [ -z "${PIXFRONT_BIN:-}" ]; then
  cargo bench --no-run --quiet --bench compare
fi
bin="${PIXFRONT_BIN:-$repo/target/release/pixfront}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Two buckets with the same originals (links to the test images), so one face job can miss the
# per-original result cache after the model is loaded.
ln -s "$testdata" "$tmp/bench"
ln -s "$testdata" "$tmp/copy"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); binary $(du -h "$bin" | cut -f1)"
echo
node "$repo/scripts/bench-coldstart/coldstart.js" "$bin" "$tmp" "${1:-10}"
