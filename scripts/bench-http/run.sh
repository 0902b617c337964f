#!/usr/bin/env bash
# HTTP side by side: `pixfront serve` (release) and a minimal sharp server (sharp-server.js, as
# SIH calls sharp) on 127.0.0.1, the same 20 MP JPEG resized to 800 px wide q80 JPEG, a fresh
# connection per request (wrk with `Connection: close`), SECONDS per concurrency level.
# Needs wrk (apt-get install wrk) and sharp installed by scripts/bench-compare/run.sh.
# Usage: scripts/bench-http/run.sh [SECONDS] ["1 2"]. Prints figures only; gates nothing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-8}"; levels="${2:-1 2}"
version="${SHARP_VERSION:-0.35.5}"
cache="${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}/sharp-$version"
[ -f "$repo/target/release/pixfront" ] || (cd "$repo" && cargo build --release)
root=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$root"' EXIT
mkdir "$root/b"
cp "$repo/../shared/testdata/large/kleiber_6028x3391.jpg" "$root/b/kleiber.jpg"
"$repo/target/release/pixfront" serve --root "$root" --source-buckets b --listen 127.0.0.1:18081 >/dev/null 2>&1 &
NODE_PATH="$cache/node_modules" UV_THREADPOOL_SIZE=2 node "$repo/scripts/bench-http/sharp-server.js" "$root/b" 18082 >/dev/null &
sleep 2
for side in pixfront:18081 sharp:18082; do
  url="http://127.0.0.1:${side#*:}/kleiber.jpg?width=800"
  curl -sf -o "$root/${side%%:*}.jpg" "$url"
  echo "${side%%:*}: $(python3 -c "from PIL import Image; im=Image.open('$root/${side%%:*}.jpg'); print(im.format, im.size)") $(stat -c %s "$root/${side%%:*}.jpg") bytes"
done
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg); pixfront $(git -C "$repo" rev-parse --short HEAD)"
for c in $levels; do
  for side in pixfront:18081 sharp:18082; do
    url="http://127.0.0.1:${side#*:}/kleiber.jpg?width=800"
    out=$(wrk -t1 -c"$c" -d"${secs}s" --latency -H 'Connection: close' "$url")
    rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
    p50=$(awk '$1=="50%"{print $2}' <<<"$out")
    p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    echo "| c=$c | ${side%%:*} | $rps | $p50 | $p99 |"
  done
done
