#!/usr/bin/env bash
# Decode time of a 12 MP AVIF and a 12 MP JPEG XL (and the JPEG they come from): pixfront's
# decoders against sharp's (docs/performance.md, "Decoding AVIF and JPEG XL").
#   scripts/bench-decode/run.sh [RUNS]   (default 5; best and median of RUNS decodes)
# The files are made in a temporary folder from the shared 20 MP photo (scaled to 4000x3000 with
# Pillow) with avifenc and cjxl at their default settings; nothing is committed. sharp comes from the cache
# scripts/bench-compare/run.sh installs it into. pixfront's side is examples/decode_time.rs,
# built with optimisation for every crate (pixfront included, through --config), like a release build.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-5}"
version="${SHARP_VERSION:-0.35.5}"
cache="${PIXFRONT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pixfront-bench}/sharp-$version"
photo="${PIXFRONT_TESTDATA:-/work/shared/testdata}/large/kleiber_6028x3391.jpg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 - "$photo" "$tmp" <<'PY'  # Pillow: 20 MP -> 4000x3000 (centre crop to 4:3, Lanczos)
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
w, h = im.size
cw = h * 4 // 3
im = im.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h)).resize((4000, 3000), Image.LANCZOS)
im.save(out + "/photo.jpg", quality=90)
im.save(out + "/photo.png")
PY
avifenc "$tmp/photo.png" "$tmp/photo.avif" >/dev/null
cjxl "$tmp/photo.png" "$tmp/photo.jxl" >/dev/null 2>&1
cd "$repo"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pixfront: $(git rev-parse --short HEAD); $(avifenc --version 2>&1 | head -1); $(cjxl --version 2>&1 | head -1)"
for f in "$tmp"/photo.{jpg,avif,jxl}; do echo "  $(basename "$f"): $(stat -c %s "$f") bytes"; done
echo "-- pixfront (examples/decode_time.rs: header check + decode to pixels)"
# --config, not CARGO_PROFILE_DEV_PACKAGE_PIXFRONT_* variables: cargo ignores per-package profile
# overrides given as environment variables, which left pixfront's own code unoptimised here.
opt=(--config 'profile.dev.package.pixfront.opt-level=3'
  --config 'profile.dev.package.pixfront.debug-assertions=false'
  --config 'profile.dev.package.pixfront.overflow-checks=false')
cargo run -q "${opt[@]}" --example decode_time -- "$runs" "$tmp"/photo.{jpg,avif,jxl} | sed "s|$tmp/||"
echo "-- sharp $version (sharp(file).raw().toBuffer(), sharp.concurrency(1), cache off)"
NODE_PATH="$cache/node_modules" RUNS="$runs" node - "$tmp"/photo.{jpg,avif,jxl} <<'JS' | sed "s|$tmp/||"
const sharp = require("sharp");
sharp.concurrency(1);
sharp.cache(false);
(async () => {
  for (const file of process.argv.slice(2)) {
    const times = [];
    let size = "";
    try {
      for (let i = 0; i < Number(process.env.RUNS); i++) {
        const start = process.hrtime.bigint();
        const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        size = `${info.width}x${info.height}`;
      }
      times.sort((a, b) => a - b);
      console.log(`${file}\t${size}\tbest ${times[0].toFixed(0)} ms\tmedian ${times[times.length >> 1].toFixed(0)} ms`);
    } catch (e) {
      console.log(`${file}\tnot decoded: ${e.message}`);
    }
  }
})();
JS
