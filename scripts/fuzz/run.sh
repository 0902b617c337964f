#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after another, on the corpora made
# by seed.sh (run first if fuzz/corpus is missing). Needs cargo-fuzz (`cargo install
# cargo-fuzz`); on a stable toolchain RUSTC_BOOTSTRAP=1 unlocks the nightly flags it passes.
#   scripts/fuzz/run.sh            # 9 minutes in all: a smoke run
#   scripts/fuzz/run.sh 1800       # the documented longer run: 30 minutes per target
#   TARGETS="png gif" scripts/fuzz/run.sh 600
#   SANITIZER=address scripts/fuzz/run.sh   # default none: pixfront's own code is safe Rust,
#                                           # and the C codecs are not instrumented by rustc
# Crashes, timeouts (> 10 s for one input) and > 2 GB of memory are findings: libFuzzer
# writes them to fuzz/artifacts/TARGET/. Each becomes a file in fuzz/regressions/TARGET/,
# which tests/fuzz_regressions.rs replays in the normal test command. Exit status 1 when any
# target found something.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
targets=(${TARGETS:-dialects pipeline jpeg png gif webp tiff avif jxl svg jpegscale})
export RUSTC_BOOTSTRAP=1
[ -d fuzz/corpus ] || scripts/fuzz/seed.sh
nice -n 10 cargo fuzz build -s "${SANITIZER:-none}" || exit 2
failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "== $t for ${seconds}s"
  before=$(ls "fuzz/artifacts/$t" 2>/dev/null | wc -l)
  # Images up to 64 KB: larger inputs only make each run slower.
  max_len=65536
  [ "$t" = dialects ] && max_len=4096
  nice -n 10 cargo fuzz run -s "${SANITIZER:-none}" "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 2>&1 | grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)' || true
  if [ "$(ls "fuzz/artifacts/$t" 2>/dev/null | wc -l)" -gt "$before" ]; then failed+=("$t"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "findings in: ${failed[*]} (see fuzz/artifacts/)"
  exit 1
fi
echo "no findings"
