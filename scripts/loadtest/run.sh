#!/usr/bin/env bash
# Load test of `pixfront serve` (release build) on 127.0.0.1 with wrk (Debian package `wrk`).
#   scripts/loadtest/run.sh [seconds per level, default 20] [concurrency levels, default "1 2 8 64"]
# For each concurrency level a fresh server is started (so its peak RSS, VmHWM from /proc, is
# that level's), driven for a bounded time by wrk rotating over a fixed mix of real images
# (PIXFRONT_TESTDATA, default ../shared/testdata), then stopped. Prints a markdown table:
# req/s, latency p50/p99, socket errors and timeouts, non-2xx other than 503, 503s, peak RSS.
# MAX_IN_FLIGHT / MAX_QUEUE are passed through to the server (defaults: cores, 8 × in-flight).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-20}"
levels="${2:-1 2 8 64}"
testdata="$(cd "${PIXFRONT_TESTDATA:-$repo/../shared/testdata}" && pwd)"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cd "$repo"
# The release binary, built as `cargo bench` builds it (bins come with benches), so this and
# scripts/bench-compare share one build instead of compiling the dependencies twice;
# PIXFRONT_BIN names an already built one instead.
if [ -z "${PIXFRONT_BIN:-}" ]; then
  cargo bench --no-run --quiet --bench compare
fi
bin="${PIXFRONT_BIN:-$repo/target/release/pixfront}"

tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# One bucket: a link to the test images (the storage follows it; keys stay inside).
mkdir -p "$tmp/root" && ln -s "$testdata" "$tmp/root/bench"

# The mix: a thumbnail mix over small and big originals, Thumbor URLs as SIH users send them.
export PATHS="${PATHS:-/fit-in/800x0/large/kleiber_6028x3391.jpg
/300x300/faces/obama.jpg
/fit-in/400x400/filters:format(webp)/faces/obama2.jpg
/fit-in/1024x0/large/infinite_sea_4096x4096_progressive.jpg
/200x0/formats/skimage_logo_rgba.png
/fit-in/640x0/filters:format(webp)/formats/rocket.jpg
/fit-in/512x0/large/adwaita_d_4096x4096.webp
/150x150/faces/astronaut.png}"

start_server() {
  log="$tmp/server.log"
  env -u SOURCE_BUCKETS -u ENABLE_SIGNATURE -u AUTO_WEBP -u AUTO_AVIF RUST_LOG=warn \
    "$bin" serve --root "$tmp/root" --source-buckets bench --listen 127.0.0.1:0 --log-format json \
    >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q '^pixfront serving' "$log" && break; sleep 0.1; done
  base=$(sed -n 's/^pixfront serving .* on \(http:[^ ]*\)$/\1/p' "$log" | head -1)
  [ -n "$base" ] || { cat "$log"; echo "server did not start" >&2; exit 1; }
  # Every path must work before any load: a broken URL would show up as errors, not speed.
  for p in $PATHS; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$p")
    [ "$code" = 200 ] || { echo "GET $p answered $code" >&2; exit 1; }
  done
}

# wrk prints latencies as 812.00us, 12.34ms, 1.20s or 1.00m: convert to ms.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
    printf "%.1f", n * f }'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-cores} MAX_QUEUE=${MAX_QUEUE:-8 × in-flight}; ${seconds} s per level; $(echo "$PATHS" | wc -l) URLs in rotation"
echo
echo "| concurrency | req/s | p50 ms | p99 ms | p99/p50 | requests | socket errors / timeouts | other non-2xx | 503 | server peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for c in $levels; do
  start_server
  threads=$(( c < 2 ? c : 2 ))
  # wrk stops by itself after $seconds; `timeout` is a second bound.
  out=$(timeout $((seconds + 30)) wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 10s --latency \
    -s "$repo/scripts/loadtest/rotate.lua" "$base")
  rss_kib=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
  rps=$(awk '/^Requests\/sec:/{printf "%.1f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
  total=$(awk '/requests in/{print $1}' <<<"$out")
  sock=$(awk -F'[ ,]+' '/Socket errors/{print $5+$7+$9 " / " $11}' <<<"$out")
  statuses=$(sed -n 's/^statuses //p' <<<"$out")
  n503=0; other=0
  for kv in $statuses; do
    code=${kv%%=*}; count=${kv#*=}
    if [ "$code" = 503 ]; then n503=$count; elif [ "${code:0:1}" != 2 ]; then other=$((other + count)); fi
  done
  ratio=$(awk -v a="$p99" -v b="$p50" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  echo "| $c | $rps | $p50 | $p99 | $ratio | $total | ${sock:-0 / 0} | $other | $n503 | $((rss_kib / 1024)) |"
done
