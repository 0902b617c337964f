"""Makes the AVIF/HEIC test files and their reference decodes (see README.md)."""
import subprocess

import numpy as np
from PIL import Image

W, H = 64, 48
y, x = np.mgrid[0:H, 0:W]
rgb = np.zeros((H, W, 3), np.uint8)
rgb[..., 0] = x * 255 // (W - 1)
rgb[..., 1] = y * 255 // (H - 1)
rgb[..., 2] = 128
rgb[8:24, 8:24] = (230, 30, 30)  # a red square, top left: shows rotations and mirrors
rgb[28:44, 40:60] = (20, 200, 60)
alpha = np.clip(x * 4, 0, 255).astype(np.uint8)  # transparent left edge, opaque from x=64
alpha[:, :8] = 0
Image.fromarray(rgb).save("src_rgb.png")
Image.fromarray(np.dstack([rgb, alpha])).save("src_rgba.png")


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


q = ["--min", "0", "--max", "10", "-s", "6", "-j", "1"]
run("avifenc", *q, "-d", "8", "-y", "420", "src_rgb.png", "rgb8_420.avif")
run("avifenc", *q, "-d", "10", "-y", "444", "-r", "limited", "src_rgba.png", "rgba10_444.avif")
run("avifenc", *q, "-d", "12", "-y", "420", "src_rgb.png", "rgb12_420.avif")
run("avifenc", *q, "-d", "8", "-y", "420", "--irot", "1", "--imir", "0", "src_rgb.png", "rot_mir.avif")
# Grid cells must be at least 64×64: a 128×128 source split 2×2.
Image.fromarray(rgb).resize((128, 128), Image.NEAREST).save("src_grid.png")
run("avifenc", *q, "-d", "8", "-y", "420", "--grid", "2x2", "src_grid.png", "grid.avif")
run("avifenc", *q, "-d", "8", "-y", "420", "--cicp", "12/13/6", "src_rgb.png", "p3.avif")
# Three frames of 200, 100 and 300 ms (timescale 1000).
frames = []
for i, shift in enumerate((0, 16, 32)):
    f = np.dstack([np.roll(rgb, shift, axis=1), alpha])
    Image.fromarray(f).save(f"frame{i}.png")
    frames.append(f"frame{i}.png")
run("avifenc", *q, "--timescale", "1000", "--duration", "200", frames[0],
    "--duration", "100", frames[1], "--duration", "300", frames[2], "anim.avifs")
run("heif-enc", "-q", "50", "-o", "rgb.heic", "src_rgb.png")
for name in ["rgb8_420", "rgba10_444", "rgb12_420", "rot_mir", "grid", "p3"]:
    run("avifdec", "-d", "8", f"{name}.avif", f"{name}.ref.png")
for i, f in enumerate(frames):
    run("avifdec", "-d", "8", "--index", str(i), "anim.avifs", f"anim{i}.ref.png")

# JPEG XL (libjxl-tools 0.7): lossy still with its djxl reference, lossless RGBA, an animation
# made lossless from a GIF of the three frames (reference: the GIF's own frames).
run("cjxl", "-d", "1", "src_rgb.png", "rgb.jxl")
run("djxl", "rgb.jxl", "rgb.jxl.ref.png")
run("cjxl", "-d", "0", "src_rgba.png", "rgba_lossless.jxl")
gif = [Image.fromarray(np.roll(rgb, s, axis=1)) for s in (0, 16, 32)]
gif[0].save("anim.gif", save_all=True, append_images=gif[1:], duration=[200, 100, 300], loop=0)
run("cjxl", "-d", "0", "anim.gif", "anim.jxl")
