#!/usr/bin/env bash
# Regenerates the JPEGs of this folder (they are committed: CI has no cjpeg). Needs cjpeg and
# djpeg from libjpeg-turbo (Debian: apt-get install libjpeg-turbo-progs; these were made with
# 2.1.5) and python3. Source picture: scikit-image's rocket.jpg (public domain, SpaceX), as in
# /work/shared/testdata/formats/rocket.jpg.
#
# Names: <sampling>_<width>x<height>_r<restart>.jpg, restart "0" none, "NB" every N MCUs,
# "N" every N MCU rows.
set -euo pipefail
cd "$(dirname "$0")"
src=${1:-/work/shared/testdata/formats/rocket.jpg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
djpeg -ppm "$src" > "$tmp/full.ppm"
crop() { # crop W H X Y OUT: a PPM crop, by python (netpbm is not needed)
  python3 - "$tmp/full.ppm" "$@" <<'PY'
import sys
src, w, h, x, y, out = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
data = open(src, 'rb').read()
parts = data.split(maxsplit=4)
W = int(parts[1]); pix = parts[4]
rows = [pix[(y + r) * W * 3 + x * 3:(y + r) * W * 3 + (x + w) * 3] for r in range(h)]
open(out, 'wb').write(b'P6\n%d %d\n255\n' % (w, h) + b''.join(rows))
PY
}
crop 203 141 211 97 "$tmp/small.ppm"
crop 640 427 0 0 "$tmp/large.ppm"
rm -f ./*.jpg
for s in 1x1:444 2x1:422 2x2:420 1x2:440 gray:gray; do
  sample=${s%%:*} name=${s##*:}
  opt=(-sample "$sample")
  [ "$sample" = gray ] && opt=(-grayscale)
  for r in 0 1B 5B 1; do
    cjpeg -quality 90 "${opt[@]}" -restart "$r" -outfile "${name}_203x141_r${r}.jpg" "$tmp/small.ppm"
  done
done
for s in 2x1:422 2x2:420; do
  sample=${s%%:*} name=${s##*:}
  for r in 3B 1; do
    cjpeg -quality 80 -optimize -sample "$sample" -restart "$r" -outfile "${name}_640x427_r${r}.jpg" "$tmp/large.ppm"
  done
done
