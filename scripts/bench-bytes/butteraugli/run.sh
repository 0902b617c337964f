#!/usr/bin/env bash
# Butteraugli check of issue 18's conflict (README.md):
#   scripts/bench-bytes/butteraugli/run.sh [SIZE]    (default 640)
# sharp's JPEG/WebP quality ladder over the bytes corpus, butteraugli distances of each output,
# then the perfect per-image search to sharp's median distance (oracle.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
size="${1:-640}"
base="${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}"
modules="$("$here/../sharp-install.sh" "$base")"
"$here/../corpus.sh" "$base/bytes-corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
NODE_PATH="$modules" node "$here/ladder.js" "$base/bytes-corpus" "$work" "$size"
cargo run --quiet --release --manifest-path "$here/Cargo.toml" -- "$work/rows.json" >"$work/scores.tsv"
python3 "$here/oracle.py" "$work/scores.tsv"
