"""Makes the AVIF/HEIC/JPEG XL test files, the colour ones and their reference decodes (see README.md)."""
import os
import subprocess
import sys

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


# --- Colour (`python3 make.py colour` makes only these) --------------------------------------
# Profiles: Gray.icc from Debian's icc-profiles-free (Zlib licence, Kai-Uwe Behrmann: a linear
# gray TRC, so a conversion shows); Display P3, Rec.2020 and a CMYK printer profile written by
# littleCMS 2 (Debian's liblcms2-2, through ctypes) here, under this project's licence.
# References: littleCMS again, through Pillow's ImageCms, to its built-in sRGB.
def colour():
    import ctypes
    import struct
    import zlib

    from PIL import ImageCms

    lcms = ctypes.CDLL("liblcms2.so.2")
    vp, dbl = ctypes.c_void_p, ctypes.c_double
    for name, res, args in [
        ("cmsCreateRGBProfile", vp, [vp, vp, vp]),
        ("cmsBuildParametricToneCurve", vp, [vp, ctypes.c_int, vp]),
        ("cmsCreateProfilePlaceholder", vp, [vp]),
        ("cmsSetProfileVersion", None, [vp, dbl]),
        ("cmsSetDeviceClass", None, [vp, ctypes.c_uint32]),
        ("cmsSetColorSpace", None, [vp, ctypes.c_uint32]),
        ("cmsSetPCS", None, [vp, ctypes.c_uint32]),
        ("cmsPipelineAlloc", vp, [vp, ctypes.c_uint32, ctypes.c_uint32]),
        ("cmsStageAllocCLut16bit", vp, [vp, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, vp]),
        ("cmsStageSampleCLut16bit", ctypes.c_int, [vp, vp, vp, ctypes.c_uint32]),
        ("cmsPipelineInsertStage", ctypes.c_int, [vp, ctypes.c_int, vp]),
        ("cmsWriteTag", ctypes.c_int, [vp, ctypes.c_uint32, vp]),
        ("cmsMLUalloc", vp, [vp, ctypes.c_uint32]),
        ("cmsMLUsetASCII", ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]),
        ("cmsD50_XYZ", vp, []),
        ("cmsSaveProfileToFile", ctypes.c_int, [vp, ctypes.c_char_p]),
    ]:
        getattr(lcms, name).restype, getattr(lcms, name).argtypes = res, args
    sig = lambda s: int.from_bytes(s.encode(), "big")

    def describe(h, text):
        mlu = lcms.cmsMLUalloc(None, 1)
        lcms.cmsMLUsetASCII(mlu, b"en", b"US", text.encode())
        lcms.cmsWriteTag(h, sig("desc"), mlu)
        cprt = lcms.cmsMLUalloc(None, 1)
        lcms.cmsMLUsetASCII(cprt, b"en", b"US", b"No copyright, Apache-2.0 (pixfront test data)")
        lcms.cmsWriteTag(h, sig("cprt"), cprt)

    def rgb_profile(path, text, prim, curve):
        xyY = ctypes.c_double * 3
        white = xyY(0.3127, 0.3290, 1.0)
        prims = (ctypes.c_double * 9)(*[v for x, y in prim for v in (x, y, 1.0)])
        trc = lcms.cmsBuildParametricToneCurve(None, 4, (ctypes.c_double * 5)(*curve))
        h = lcms.cmsCreateRGBProfile(ctypes.byref(white), prims, (vp * 3)(trc, trc, trc))
        describe(h, text)
        lcms.cmsSaveProfileToFile(h, path.encode())

    srgb_curve = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
    bt709_curve = [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081]
    rgb_profile("p3.icc", "Display P3 (littleCMS)", [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], srgb_curve)
    rgb_profile("rec2020.icc", "Rec.2020 (littleCMS)", [(0.708, 0.292), (0.170, 0.797), (0.131, 0.046)], bt709_curve)

    # CMYK printer profile, v2 with a lut16 A2B0 (how FOGRA/SWOP profiles are built): a 9-point
    # CLUT sampled from a small subtractive ink model (each ink absorbs mostly its own third of
    # the spectrum, a little of the others) in linear light, PCS Lab, media-relative as A2B0
    # tables are (paper = L* 100).
    def ink_lab(c, m, y, k):
        paper = (1.0, 1.0, 1.0)
        absorb = [(0.95, 0.12, 0.04), (0.10, 0.90, 0.25), (0.02, 0.06, 0.92), (0.93, 0.93, 0.93)]
        refl = []
        for ch in range(3):
            r = paper[ch]
            for amount, a in zip((c, m, y, k), absorb):
                r *= 1 - amount * a[ch]
            refl.append(r)
        R, G, B = refl  # linear sRGB-like primaries, adapted to D50
        X = 0.4360747 * R + 0.3850649 * G + 0.1430804 * B
        Y = 0.2225045 * R + 0.7168786 * G + 0.0606169 * B
        Z = 0.0139322 * R + 0.0971045 * G + 0.7141733 * B
        f = lambda t: t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29
        fx, fy, fz = f(X / 0.9642), f(Y), f(Z / 0.8249)
        return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_uint16), ctypes.POINTER(ctypes.c_uint16), vp)
    def sampler(inp, out, _):
        L, a, b = ink_lab(*(inp[i] / 65535 for i in range(4)))
        # ICC v2 16-bit Lab: L 0..100 → 0..0xFF00, a/b -128..127.996 → 0..0xFFFF.
        out[0] = max(0, min(0xFF00, round(L * 0xFF00 / 100)))
        out[1] = max(0, min(0xFFFF, round((a + 128) * 256)))
        out[2] = max(0, min(0xFFFF, round((b + 128) * 256)))
        return 1

    h = lcms.cmsCreateProfilePlaceholder(None)
    lcms.cmsSetProfileVersion(h, 2.1)
    lcms.cmsSetDeviceClass(h, sig("prtr"))
    lcms.cmsSetColorSpace(h, sig("CMYK"))
    lcms.cmsSetPCS(h, sig("Lab "))
    lut = lcms.cmsPipelineAlloc(None, 4, 3)
    clut = lcms.cmsStageAllocCLut16bit(None, 9, 4, 3, None)
    lcms.cmsStageSampleCLut16bit(clut, sampler, None, 0)
    lcms.cmsPipelineInsertStage(lut, 0, clut)
    lcms.cmsWriteTag(h, sig("A2B0"), lut)
    lcms.cmsWriteTag(h, sig("wtpt"), lcms.cmsD50_XYZ())
    describe(h, "Test CMYK (littleCMS, ink model)")
    lcms.cmsSaveProfileToFile(h, b"cmyk.icc")

    srgb = ImageCms.createProfile("sRGB")

    def to_srgb(img, icc):
        # No precalculated 8-bit device link: littleCMS evaluates the profiles exactly.
        return ImageCms.profileToProfile(img, ImageCms.getOpenProfile(icc), srgb, outputMode="RGB",
                                         flags=ImageCms.Flags.NOOPTIMIZE)

    # CMYK JPEG (Pillow writes Adobe's APP14 and inverted CMYK, as Photoshop does): cyan along x,
    # magenta down y, yellow in the left half, black over the bottom half, a paper-white and a
    # 100 % K block.
    cmyk = np.zeros((H, W, 4), np.uint8)
    cmyk[..., 0] = x * 255 // (W - 1)
    cmyk[..., 1] = y * 255 // (H - 1)
    cmyk[..., 2] = np.where(x < W // 2, 140, 20)
    cmyk[..., 3] = np.where(y >= H // 2, x * 160 // (W - 1), 0)
    cmyk[4:12, 4:12] = 0
    cmyk[4:12, 52:60] = (0, 0, 0, 255)
    Image.fromarray(cmyk, "CMYK").save("cmyk_icc.jpg", quality=95, subsampling=0,
                                       icc_profile=open("cmyk.icc", "rb").read())
    to_srgb(Image.open("cmyk_icc.jpg"), "cmyk.icc").save("cmyk_icc.ref.png")

    # Gray with a linear-TRC profile: PNG and JPEG.
    gray_icc = open("/usr/share/color/icc/Gray.icc", "rb").read()
    g = (x * 255 // (W - 1)).astype(np.uint8)
    g[20:30, 20:40] = 128
    Image.fromarray(g, "L").save("gray_icc.png", icc_profile=gray_icc)
    Image.fromarray(g, "L").save("gray_icc.jpg", quality=95, icc_profile=gray_icc)
    to_srgb(Image.open("gray_icc.png"), "/usr/share/color/icc/Gray.icc").save("gray_icc.ref.png")
    to_srgb(Image.open("gray_icc.jpg"), "/usr/share/color/icc/Gray.icc").save("gray_icc.jpg.ref.png")

    # Display P3: the source's numbers tagged with the P3 profile (iCCP), and the same numbers
    # tagged by a cICP chunk (12/13/0/1: P3 primaries, sRGB transfer, RGB, full range) inserted
    # by hand before IDAT: no encoder in Debian 12 writes cICP (libpng 1.6.39, Pillow).
    src = Image.open("src_rgb.png")
    src.save("p3_icc.png", icc_profile=open("p3.icc", "rb").read())
    to_srgb(src, "p3.icc").save("p3.srgb.ref.png")

    def with_cicp(path, out, code):
        data = open(path, "rb").read()
        chunk = b"cICP" + bytes(code)
        chunk = struct.pack(">I", 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
        at = 8 + 25  # after the signature and IHDR
        open(out, "wb").write(data[:at] + chunk + data[at:])

    with_cicp("src_rgb.png", "p3_cicp.png", (12, 13, 0, 1))
    # PQ (BT.2100): signal levels 0, 0.25, 0.5, 0.58 (≈203 cd/m², reference white), 0.75, 1.
    pq = np.zeros((8, 48, 3), np.uint8)
    for i, v in enumerate((0, 64, 128, 148, 191, 255)):
        pq[:, i * 8:(i + 1) * 8] = v
    Image.fromarray(pq).save("pq_src.png")
    with_cicp("pq_src.png", "pq_cicp.png", (9, 16, 0, 1))

    # AVIF: the P3 file (made above) against its avifdec numbers converted by littleCMS, and a
    # Rec.2020 one (nclx 9/1/9: BT.2020 primaries and matrix, BT.709 transfer).
    to_srgb(Image.open("p3.ref.png").convert("RGB"), "p3.icc").save("p3.avif.srgb.ref.png")
    run("avifenc", *q, "-d", "10", "-y", "444", "--cicp", "9/1/9", "src_rgb.png", "rec2020.avif")
    run("avifdec", "-d", "8", "rec2020.avif", "rec2020.ref.png")
    to_srgb(Image.open("rec2020.ref.png").convert("RGB"), "rec2020.icc").save("rec2020.srgb.ref.png")
    for f in ["pq_src.png", "rec2020.ref.png", "cmyk.icc"]:  # cmyk.icc is inside cmyk_icc.jpg
        os.remove(f)


q = ["--min", "0", "--max", "10", "-s", "6", "-j", "1"]
if sys.argv[1:] == ["colour"]:
    colour()
    sys.exit()

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

# The colour files last: they use p3.ref.png.
colour()
