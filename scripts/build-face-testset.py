#!/usr/bin/env python3
"""Builds the face test set in tests/data/faces/ (photos, variants and boxes.json).

The real photos come from registry packages (see tests/data/faces/SOURCES.md); fetch them with

    pip download --no-deps scikit-image==0.26.0            # wheel: skimage/data/*
    python3 -m venv v && . v/bin/activate && pip install 'setuptools>=77' wheel pillow
    pip download --no-deps --no-binary :all: --no-build-isolation pillow==13.0.0 face_recognition==1.3.0

unpack them, and run

    python3 scripts/build-face-testset.py SKIMAGE_DATA_DIR FACE_RECOGNITION_TEST_IMAGES_DIR PILLOW_TEST_IMAGES_DIR

(e.g. skimage/data, face_recognition-1.3.0/tests/test_images, pillow-13.0.0/Tests/images).
Needs Pillow only. Deterministic: the same inputs give the same files.

The face box of each source photo was found by BlazeFace (back model, onnxruntime) and checked
by eye on an overlay; every variant's boxes are computed from it by the same geometry that made
the variant (scale, paste offset, rotation, EXIF orientation), so they need no second check.
Boxes are [x0, y0, x1, y1] in pixels of the upright picture (after EXIF orientation).
"""

import json
import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageOps

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "faces"

# (output name, source dir index, file, face box in the source's pixels, licence note)
SOURCES = [
    ("astronaut", 0, "astronaut.png", (172, 73, 277, 178), "public domain (NASA)"),
    ("camera", 0, "camera.png", (183, 126, 256, 200), "CC0 (Lav Varshney)"),
    ("obama", 1, "obama.jpg", (360, 149, 624, 413), "public domain (White House)"),
    ("obama2", 1, "obama2.jpg", (185, 314, 488, 617), "public domain (White House)"),
    ("obama3", 1, "obama3.jpg", (632, 344, 910, 621), "public domain (White House)"),
    ("obama_partial", 1, "obama_partial_face.jpg", (-71, 142, 209, 422), "public domain (White House)"),
    ("obama_partial2", 1, "obama_partial_face2.jpg", (355, 156, 597, 398), "public domain (White House)"),
    ("biden", 1, "biden.jpg", (417, 266, 710, 558), "public domain (White House)"),
    ("hopper", 2, "hopper.jpg", (39, 31, 86, 78), "public domain (US Navy)"),
]
# Photos without faces (false positives; the cat is the hard one), and scene backgrounds.
NEGATIVES = ["chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "brick.png", "gravel.png",
             "grass.png", "motorcycle_left.png"]
BACKGROUNDS = ["coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "brick.png", "gravel.png", "grass.png",
               "chelsea.png", "motorcycle_left.png"]

SMALL = 480          # longest side of single-photo variants
SCENE = (1280, 854)  # group scenes
QUALITY = 82


def save(img, name, faces, entries, note, exif=None):
    path = OUT / name
    kwargs = {"quality": QUALITY, "optimize": True}
    if exif is not None:
        kwargs["exif"] = exif
    img.convert("RGB" if img.mode != "L" else "L").save(path, **kwargs)
    w, h = ImageOps.exif_transpose(Image.open(path)).size
    clamped = []
    for (x0, y0, x1, y1) in faces:
        b = [max(0, round(x0)), max(0, round(y0)), min(w, round(x1)), min(h, round(y1))]
        assert b[2] > b[0] and b[3] > b[1], (name, b)
        clamped.append(b)
    entries.append({"file": name, "size": [w, h], "faces": clamped, "made": note})


def scale_box(b, f, dx=0.0, dy=0.0):
    return tuple(v * f + (dx if i % 2 == 0 else dy) for i, v in enumerate(b))


def fit(img, box, long):
    f = long / max(img.size)
    small = img.resize((round(img.width * f), round(img.height * f)), Image.LANCZOS)
    return small, scale_box(box, f)


def rotate(img, box, deg):
    """Rotates counter-clockwise by `deg` on a grey canvas; the face box keeps its size and
    follows its centre (a face turned in the picture is still a face of that size)."""
    w, h = img.size
    out = img.rotate(deg, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    cx, cy = (box[0] + box[2]) / 2 - w / 2, (box[1] + box[3]) / 2 - h / 2
    a = math.radians(deg)
    # Image y points down, so a counter-clockwise turn on screen is this matrix.
    rx, ry = cx * math.cos(a) + cy * math.sin(a), -cx * math.sin(a) + cy * math.cos(a)
    ncx, ncy = rx + out.width / 2, ry + out.height / 2
    half = (box[2] - box[0]) / 2
    return out, (ncx - half, ncy - half, ncx + half, ncy + half)


def head_crop(img, box):
    """Head and shoulders around a face box (a person cut out of the photo, hair included)."""
    fw = box[2] - box[0]
    cx = (box[0] + box[2]) / 2
    x0, x1 = max(0, cx - 1.1 * fw), min(img.width, cx + 1.1 * fw)
    y0, y1 = max(0, box[1] - 0.8 * fw), min(img.height, box[3] + 0.9 * fw)
    crop = img.crop((round(x0), round(y0), round(x1), round(y1)))
    return crop, scale_box(box, 1.0, -round(x0), -round(y0))


def main():
    dirs = [Path(p) for p in sys.argv[1:4]]
    if len(dirs) != 3:
        sys.exit(__doc__)
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(19)
    entries = []
    photos = {}
    for name, d, file, box, lic in SOURCES:
        img = Image.open(dirs[d] / file)
        img = ImageOps.exif_transpose(img).convert("RGB")
        photos[name] = (img, box, lic)

    for name, (img, box, lic) in photos.items():
        small, b = fit(img, box, SMALL)
        save(small, f"photo_{name}.jpg", [b], entries, f"{lic}; scaled to {SMALL} px")
        save(small.convert("L"), f"gray_{name}.jpg", [b], entries, "grayscale of photo_" + name)

    for name in ["astronaut", "obama", "obama2", "biden", "camera"]:
        img, box, _ = photos[name]
        small, b = fit(img, box, SMALL)
        for deg in (-30, -15, 15, 30):
            r, rb = rotate(small, b, deg)
            save(r, f"rot{deg:+d}_{name}.jpg", [rb], entries, f"photo_{name} turned {deg} degrees")

    # EXIF orientation: stored turned, with the tag that turns it back. Pillow's exif_transpose
    # (used by save() to check) applies the tag, like the pipeline.
    stored = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    for name in ["obama", "astronaut", "hopper"]:
        img, box, _ = photos[name]
        small, b = fit(img, box, SMALL if name != "hopper" else 128)
        for orientation, t in stored.items():
            exif = Image.Exif()
            exif[0x0112] = orientation
            save(small.transpose(t), f"exif{orientation}_{name}.jpg", [b], entries,
                 f"photo_{name} stored turned, EXIF Orientation={orientation}", exif=exif.tobytes())
    for e in entries[-9:]:
        up = ImageOps.exif_transpose(Image.open(OUT / e["file"]))
        assert up.size == tuple(e["size"]), e

    # Group scenes: people cut from the photos, pasted at random sizes (face width 1.5-15 % of
    # the scene's longer side, log-uniform so small faces are well represented) without overlap.
    crops = [head_crop(*photos[n][:2]) for n in photos]
    for i in range(14):
        bg = Image.open(dirs[0] / BACKGROUNDS[i % len(BACKGROUNDS)]).convert("RGB")
        scene = ImageOps.fit(bg, SCENE, Image.LANCZOS)
        placed, faces = [], []
        for _ in range(8):
            for _attempt in range(200):
                crop, cb = crops[rng.randrange(len(crops))]
                face_w = SCENE[0] * math.exp(rng.uniform(math.log(0.015), math.log(0.15)))
                f = face_w / (cb[2] - cb[0])
                w, h = max(1, round(crop.width * f)), max(1, round(crop.height * f))
                if w >= SCENE[0] or h >= SCENE[1]:
                    continue
                x, y = rng.randrange(SCENE[0] - w), rng.randrange(SCENE[1] - h)
                if any(x < px1 and px0 < x + w and y < py1 and py0 < y + h for px0, py0, px1, py1 in placed):
                    continue
                scene.paste(crop.resize((w, h), Image.LANCZOS), (x, y))
                placed.append((x, y, x + w, y + h))
                faces.append(scale_box(cb, f, x, y))
                break
        save(scene, f"scene_{i:02d}.jpg", faces, entries,
             f"{len(faces)} people cut from the photos, pasted on {BACKGROUNDS[i % len(BACKGROUNDS)]}")

    for file in NEGATIVES:
        img = Image.open(dirs[0] / file).convert("RGB")
        img.thumbnail((640, 640), Image.LANCZOS)
        save(img, "none_" + file.rsplit(".", 1)[0] + ".jpg", [], entries, f"skimage {file}, no face")

    (OUT / "boxes.json").write_text(json.dumps({"images": entries}, indent=1) + "\n")
    total = sum(len(e["faces"]) for e in entries)
    print(f"{len(entries)} images, {total} faces")


if __name__ == "__main__":
    main()
