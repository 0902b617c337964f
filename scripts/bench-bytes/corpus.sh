#!/usr/bin/env bash
# Gathers the bytes benchmark's corpus into $1 (nothing is committed): links to the shared test
# images and 13 images from scikit-image's wheel (PyPI), fetched once with pip. Sources and
# licences: scripts/bench-bytes/SOURCES.md.
set -euo pipefail
dest="$1"
testdata="${PIXFRONT_TESTDATA:-/work/shared/testdata}"
mkdir -p "$dest"
for f in large/kleiber_6028x3391.jpg large/infinite_sea_4096x4096_progressive.jpg \
  large/painting_colors_6000x4000_icc.jpg large/adwaita_d_4096x4096.webp faces/astronaut.png \
  faces/camera_gray.png faces/obama.jpg faces/obama2.jpg faces/obama2_rgba.png \
  faces/biden_fullbody.jpg formats/rocket.jpg formats/skimage_logo_rgba.png; do
  ln -sf "$testdata/$f" "$dest/$(basename "$f")"
done
skimage=(brick.png cell.png chelsea.png clock_motion.png coffee.png coins.png grass.png gravel.png
  horse.png hubble_deep_field.jpg ihc.png retina.jpg text.png)
if [ ! -f "$dest/text.png" ]; then
  tmp="$(mktemp -d)"
  pip download --quiet --no-deps --only-binary :all: scikit-image==0.26.0 -d "$tmp"
  python3 - "$tmp"/scikit_image-*.whl "$dest" "${skimage[@]}" <<'PY'
import sys, zipfile
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
z = zipfile.ZipFile(wheel)
for n in names:
    open(f"{dest}/{n}", "wb").write(z.read(f"skimage/data/{n}"))
PY
  rm -rf "$tmp"
fi
