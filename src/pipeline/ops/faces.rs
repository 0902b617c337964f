//! The face edits: `blurFaces` (pixfront), `smartCrop` and `contentModeration` (SIH).
//!
//! Detection goes through the request's [`FaceJob`] (in `Resources`); without one every face
//! edit fails closed. `blurFaces` runs on the decoded original before any other edit (see
//! [`blur_original`]), so nothing later in the pipeline can see an unblurred face.

use super::context::OpContext;
use crate::edits::{BlurFaces, BlurFacesOptions, BoolOrNumber, ContentModeration, Edit, Region, SmartCrop};
use crate::error::Error;
use crate::faces::{self, Face, FaceJob};
use crate::pipeline::picture::{Picture, Pixels};
use image::{ImageBuffer, Pixel};

/// Default margin around a face box, as a fraction of the face's larger side: detector boxes
/// stop at the brows and the chin; hair, ears and jaw identify people too.
const DEFAULT_PADDING: f32 = 0.35;
/// The blurred ellipse is this much taller than wide, and with the default padding its centre
/// is this far (fraction of the face) above the box centre (less with a smaller padding): a
/// head is taller than a face, mostly above it (hair), and its outline over the background is
/// what a detector still recognises once the features are gone.
const HEAD_STRETCH: f32 = 1.2;
const HEAD_RAISE: f32 = 0.2;
/// Default Gaussian sigma as a fraction of the face's larger side. Scaling with the face makes
/// the blur as strong on a 2000 px face as on a 40 px one, and keeps it at any output size. At
/// half the face, eyes, nose, mouth and the head's outline melt into one smooth patch; at a
/// quarter, BlazeFace still took some blurred heads (with the shoulders below) for faces at
/// thumbnail size (docs/faces.md).
const DEFAULT_SIGMA: f32 = 0.5;
/// Default pixel block, as a fraction of the face's larger side (4 blocks across the face: with
/// 5, a 5×5 mosaic of a face is still a face to a detector at thumbnail size).
const DEFAULT_BLOCK: f32 = 0.25;
/// How far the blurred head is pulled towards the mean colour around it (the corners of the
/// region outside the feathered ellipse). A blur alone leaves a smooth skin-coloured oval over
/// the shoulders, which BlazeFace still took for a face (score 0.7, box twice the face's size)
/// at 800 px and full size in one test scene; at 0.3 no detection ≥ 0.5 touches a blurred face
/// on the test set (docs/faces.md).
const BLEND: f32 = 0.3;

fn job<'a>(ctx: &OpContext<'a>) -> Result<&'a FaceJob, Error> {
    ctx.resources
        .faces
        .as_ref()
        .ok_or_else(|| faces::unavailable("no face detector was given to the pipeline"))
}

/// The `blurFaces` options in effect for `edits` (the last `blurFaces` wins), or `None` when no
/// blur is asked.
pub fn requested_blur(edits: &crate::edits::Edits) -> Option<BlurFacesOptions> {
    edits.iter().rev().find_map(|e| match e {
        Edit::BlurFaces(BlurFaces::Bool(true)) => Some(Some(BlurFacesOptions::default())),
        Edit::BlurFaces(BlurFaces::Bool(false)) => Some(None),
        Edit::BlurFaces(BlurFaces::Options(o)) => Some(Some(o.clone())),
        _ => None,
    })?
}

/// Blurs every face of the decoded, upright original (all frames of an animation). `scale` is
/// decoded size / original size, so `sigma` and `padding` given in original pixels keep their
/// meaning after shrink-on-load. Detection is cached per original by the [`FaceJob`].
pub fn blur_original(
    opts: &BlurFacesOptions,
    pic: Picture,
    scale: f32,
    ctx: &OpContext,
) -> Result<Picture, Error> {
    blur_with_job(job(ctx)?, opts, pic, scale)
}

/// [`blur_original`] with the detection job given (an overlay has its own original).
pub fn blur_with_job(
    job: &FaceJob,
    opts: &BlurFacesOptions,
    pic: Picture,
    scale: f32,
) -> Result<Picture, Error> {
    let found = job.service.faces(job.key.as_ref(), &sources(&pic), &job.stats)?;
    let min_confidence = opts.min_confidence.unwrap_or(0.0) as f32;
    let chosen: Vec<Face> = found
        .iter()
        .filter(|f| f.confidence >= min_confidence)
        .copied()
        .collect();
    if chosen.is_empty() {
        return Ok(pic);
    }
    // In the frame's own layout: widening a large RGB picture to RGBA would cost more than
    // the blur.
    pic.map_pixels(|px| {
        Ok::<_, Error>(crate::each_layout!(px, img => {
            let mut img = img;
            for face in &chosen {
                blur_face(&mut img, face, opts, scale);
            }
            img
        }))
    })
}

/// The frames as detectors see them, in their own layout.
fn sources(pic: &Picture) -> Vec<&dyn faces::Source> {
    (pic.frames.iter())
        .map(|f| match &f.pixels {
            Pixels::Rgb(p) => p as &dyn faces::Source,
            Pixels::Rgba(p) => p as &dyn faces::Source,
        })
        .collect()
}

/// Blurs (or pixelates) one face's whole head: an ellipse around the padded box, stretched
/// and raised to take in hair and outline, at full strength, feathered over a further 15 % so
/// there is no hard edge.
fn blur_face<P: Pixel<Subpixel = u8> + 'static>(
    px: &mut ImageBuffer<P, Vec<u8>>,
    face: &Face,
    opts: &BlurFacesOptions,
    scale: f32,
) {
    let (w, h) = (px.width() as f32, px.height() as f32);
    let (fw, fh) = (face.width * w, face.height * h);
    let size = fw.max(fh).max(1.0);
    let pad = match opts.padding {
        Some(p) => p.max(0.0) as f32 * scale,
        None => DEFAULT_PADDING * size,
    };
    let (cx, cy) = (
        (face.left + face.width / 2.0) * w,
        (face.top + face.height / 2.0) * h - pad * (HEAD_RAISE / DEFAULT_PADDING),
    );
    // Semi-axes of the full-strength ellipse: it contains the padded box's inscribed ellipse,
    // the hair above and (with the default padding, despite the raise) the face box's corners.
    let (ax, ay) = ((fw / 2.0 + pad) * 1.15, (fh / 2.0 + pad) * 1.15 * HEAD_STRETCH);
    let feather = 1.15f32;
    let x0 = (cx - ax * feather).floor().max(0.0) as u32;
    let y0 = (cy - ay * feather).floor().max(0.0) as u32;
    let x1 = ((cx + ax * feather).ceil().max(0.0) as u32).min(px.width());
    let y1 = ((cy + ay * feather).ceil().max(0.0) as u32).min(px.height());
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let region = image::imageops::crop_imm(px, x0, y0, x1 - x0, y1 - y0).to_image();
    let processed = if opts.pixelate == Some(true) {
        let block = match opts.sigma {
            Some(s) => (s as f32 * scale).max(2.0),
            None => (DEFAULT_BLOCK * size).max(2.0),
        };
        pixelate(&region, block.round() as u32, (cx - x0 as f32, cy - y0 as f32))
    } else {
        let sigma = match opts.sigma {
            Some(s) => (s as f32 * scale).max(0.3),
            None => (DEFAULT_SIGMA * size).max(1.0),
        };
        let mut blurred = wide_blur(&region, sigma);
        let centre = (cx - x0 as f32, cy - y0 as f32);
        if let Some(around) = mean_outside(&region, centre, (ax * feather, ay * feather)) {
            for p in blurred.pixels_mut() {
                for (v, m) in p.channels_mut().iter_mut().zip(&around) {
                    *v = (*v as f32 * (1.0 - BLEND) + m * BLEND).round() as u8;
                }
            }
        }
        blurred
    };
    // Rows and pixels straight from the buffers: this loop touches every pixel of the head.
    let n = P::CHANNEL_COUNT as usize;
    let stride = px.width() as usize * n;
    let region_row = (x1 - x0) as usize * n;
    let (src, dst): (&[u8], &mut [u8]) = (processed.as_raw(), px);
    for y in y0..y1 {
        let dy = (y as f32 + 0.5 - cy) / ay;
        if dy * dy >= feather * feather {
            continue;
        }
        let row = &mut dst[y as usize * stride..][x0 as usize * n..x1 as usize * n];
        let from = &src[(y - y0) as usize * region_row..][..region_row];
        for (i, (d, s)) in row.chunks_exact_mut(n).zip(from.chunks_exact(n)).enumerate() {
            let dx = ((x0 as usize + i) as f32 + 0.5 - cx) / ax;
            let r2 = dx * dx + dy * dy;
            if r2 <= 1.0 {
                d.copy_from_slice(s);
            } else if r2 < feather * feather {
                let weight = (feather - r2.sqrt()) / (feather - 1.0);
                for (d, s) in d.iter_mut().zip(s) {
                    *d = (*s as f32 * weight + *d as f32 * (1.0 - weight)).round() as u8;
                }
            }
        }
    }
}

/// Mean colour (per channel) of the pixels of `region` outside the ellipse of semi-axes
/// `(ax, ay)` centred on `(cx, cy)`; `None` when there are none (the head fills the picture).
fn mean_outside<P: Pixel<Subpixel = u8> + 'static>(
    region: &ImageBuffer<P, Vec<u8>>,
    (cx, cy): (f32, f32),
    (ax, ay): (f32, f32),
) -> Option<[f32; 4]> {
    let (mut sums, mut count) = ([0u64; 4], 0u64);
    for (x, y, p) in region.enumerate_pixels() {
        let (dx, dy) = ((x as f32 + 0.5 - cx) / ax, (y as f32 + 0.5 - cy) / ay);
        if dx * dx + dy * dy >= 1.0 {
            for (s, v) in sums.iter_mut().zip(p.channels()) {
                *s += *v as u64;
            }
            count += 1;
        }
    }
    (count > 0).then(|| sums.map(|s| s as f32 / count as f32))
}

/// A blur of `sigma` px (a box-blur approximation of a Gaussian) computed where it is cheap: a
/// blur that wide leaves no detail finer than a few pixels of sigma, so the region is shrunk
/// until sigma is 4–8 px, blurred there and scaled back up with a bilinear filter. The result
/// is as smooth, and a head of 600 px costs a few milliseconds instead of hundreds.
fn wide_blur<P: Pixel<Subpixel = u8> + 'static>(
    region: &ImageBuffer<P, Vec<u8>>,
    sigma: f32,
) -> ImageBuffer<P, Vec<u8>> {
    let k = (sigma / 4.0).floor();
    let (w, h) = region.dimensions();
    let small = (
        (w as f32 / k).ceil().max(1.0) as u32,
        (h as f32 / k).ceil().max(1.0) as u32,
    );
    if k < 2.0 {
        return image::imageops::fast_blur(region, sigma);
    }
    let reduced = resample(region, small);
    let fine = reduced.and_then(|r| {
        let f = w as f32 / r.width() as f32;
        resample(&image::imageops::fast_blur(&r, sigma / f), (w, h))
    });
    fine.unwrap_or_else(|| image::imageops::fast_blur(region, sigma))
}

/// `img` scaled to `size` with a bilinear filter (widened when shrinking); `None` for a
/// layout other than RGB or RGBA.
fn resample<P: Pixel<Subpixel = u8> + 'static>(
    img: &ImageBuffer<P, Vec<u8>>,
    (w, h): (u32, u32),
) -> Option<ImageBuffer<P, Vec<u8>>> {
    use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType};
    use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
    let layout = match P::CHANNEL_COUNT {
        3 => PixelType::U8x3,
        4 => PixelType::U8x4,
        _ => return None,
    };
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), layout).ok()?;
    let mut dst = Image::new(w, h, layout);
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .use_alpha(false);
    Resizer::new().resize(&src, &mut dst, &opts).ok()?;
    ImageBuffer::from_raw(w, h, dst.into_vec())
}

/// Mean colour per `block`×`block` cell, the grid anchored on the face centre so the cells
/// do not depend on where the region was cut.
fn pixelate<P: Pixel<Subpixel = u8> + 'static>(
    region: &ImageBuffer<P, Vec<u8>>,
    block: u32,
    (cx, cy): (f32, f32),
) -> ImageBuffer<P, Vec<u8>> {
    let block = block.max(1);
    let off = |c: f32| (block - (c.round().max(0.0) as u32 % block)) % block;
    let (ox, oy) = (off(cx), off(cy));
    let cell = |v: u32, o: u32| (v + o) / block;
    let (w, h) = region.dimensions();
    let (cw, ch) = (cell(w - 1, ox) as usize + 1, cell(h - 1, oy) as usize + 1);
    let mut sums = vec![[0u64; 5]; cw * ch];
    for (x, y, p) in region.enumerate_pixels() {
        let s = &mut sums[cell(y, oy) as usize * cw + cell(x, ox) as usize];
        for (c, v) in p.channels().iter().enumerate() {
            s[c] += *v as u64;
        }
        s[4] += 1;
    }
    let n = P::CHANNEL_COUNT as usize;
    ImageBuffer::from_fn(w, h, |x, y| {
        let s = &sums[cell(y, oy) as usize * cw + cell(x, ox) as usize];
        let count = s[4].max(1);
        let mean = [0, 1, 2, 3].map(|c| ((s[c] + count / 2) / count) as u8);
        *P::from_slice(&mean[..n])
    })
}

/// SIH's `smartCrop`: crop to face `faceIndex` (default 0) plus `padding` pixels, clamped to the
/// image; the whole image when no face is found. `pristine` says the picture still has the
/// original's geometry, so the cached detection of the original applies; otherwise the current
/// picture is examined (as SIH does, it looks at the pipeline's output so far).
pub fn smart_crop(sc: &SmartCrop, pic: Picture, ctx: &OpContext, pristine: bool) -> Result<Picture, Error> {
    let (face_index, padding) = match sc {
        SmartCrop::Bool(false) => return Ok(pic),
        SmartCrop::Bool(true) => (0, 0.0),
        SmartCrop::Options(o) => (o.face_index.unwrap_or(0), o.padding.unwrap_or(0.0)),
    };
    let job = job(ctx)?;
    let mut found: Vec<Face> = if pristine {
        job.service
            .faces(job.key.as_ref(), &sources(&pic)[..1], &job.stats)?
            .to_vec()
    } else {
        job.service.faces_uncached(sources(&pic)[0], &job.stats)?
    };
    // Faces only, not the weaker candidates blurFaces also blurs.
    let sure = job.service.sure_confidence();
    found.retain(|f| f.confidence >= sure);
    // Rekognition's order: most confident first.
    found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let bbox = match found.get(face_index as usize) {
        _ if found.is_empty() => Face {
            left: 0.0,
            top: 0.0,
            width: 1.0,
            height: 1.0,
            confidence: 0.0,
        },
        Some(f) => clamp_box(f),
        None => return Err(face_index_out_of_range()),
    };
    let area = crop_area(&bbox, padding, pic.width(), pic.height()).ok_or_else(padding_out_of_bounds)?;
    super::crop::extract(&area, pic).map_err(|_| padding_out_of_bounds())
}

/// SIH's `handleBounds`: every value into 0–1, then width/height cut at the image edge.
fn clamp_box(f: &Face) -> Face {
    let c = |v: f32| v.clamp(0.0, 1.0);
    let (left, top) = (c(f.left), c(f.top));
    let mut width = c(f.width);
    let mut height = c(f.height);
    if left + width > 1.0 {
        width = 1.0 - left;
    }
    if top + height > 1.0 {
        height = 1.0 - top;
    }
    Face {
        left,
        top,
        width,
        height,
        ..*f
    }
}

/// SIH's `getCropArea` (JS doubles, `Math.floor`); `None` when the area is empty or not a
/// number, where sharp's `extract` would throw.
fn crop_area(b: &Face, padding: f64, w: u32, h: u32) -> Option<Region> {
    if !padding.is_finite() {
        return None;
    }
    let (wf, hf) = (w as f64, h as f64);
    let left = (b.left as f64 * wf - padding).floor().max(0.0);
    let top = (b.top as f64 * hf - padding).floor().max(0.0);
    let width = (b.width as f64 * wf + padding * 2.0).floor().min(wf - left);
    let height = (b.height as f64 * hf + padding * 2.0).floor().min(hf - top);
    if !(width >= 1.0 && height >= 1.0 && left.is_finite() && top.is_finite()) {
        return None;
    }
    Some(Region {
        left: left as u32,
        top: top as u32,
        width: width as u32,
        height: height as u32,
    })
}

fn face_index_out_of_range() -> Error {
    Error::bad_request(
        "SmartCrop::FaceIndexOutOfRange",
        "You have provided a FaceIndex value that exceeds the length of the zero-based detectedFaces array. Please specify a value that is in-range.",
    )
}

fn padding_out_of_bounds() -> Error {
    Error::bad_request(
        "SmartCrop::PaddingOutOfBounds",
        "The padding value you provided exceeds the boundaries of the original image. Please try choosing a smaller value or applying padding via Sharp for greater specificity.",
    )
}

/// SIH's `contentModeration`: blur the whole picture (sigma `ceil(blur)`, default 50, applied
/// only within sharp's 0.3–1000) when moderation finds a label (any label, or one of
/// `moderationLabels` when given) at `minConfidence` (default 75) or above.
pub fn content_moderation(
    cm: &ContentModeration,
    mut pic: Picture,
    ctx: &OpContext,
) -> Result<Picture, Error> {
    let opts = match cm {
        ContentModeration::Bool(false) => return Ok(pic),
        ContentModeration::Bool(true) => Default::default(),
        ContentModeration::Options(o) => o.clone(),
    };
    let job = job(ctx).map_err(|_| faces::moderation_unavailable())?;
    let min_confidence = opts.min_confidence.unwrap_or(75.0) as f32;
    let labels = job
        .service
        .moderation_labels(pic.frames[0].pixels.rgba(), min_confidence, &job.stats)?;
    let hit = match &opts.moderation_labels {
        Some(wanted) => labels.iter().any(|l| wanted.contains(&l.name)),
        None => !labels.is_empty(),
    };
    let sigma = opts.blur.unwrap_or(50.0).ceil();
    if hit && (0.3..=1000.0).contains(&sigma) {
        return super::filters::blur(&BoolOrNumber::Number(sigma), pic);
    }
    Ok(pic)
}

/// Edits after which the picture no longer has the original's geometry (or content), so
/// detections of the original do not apply to it.
pub fn changes_geometry(edit: &Edit) -> bool {
    matches!(
        edit,
        Edit::Resize(_)
            | Edit::Crop(_)
            | Edit::Extract(_)
            | Edit::Rotate(Some(_))
            | Edit::Flip(true)
            | Edit::Flop(true)
            | Edit::Extend(_)
            | Edit::Trim(_)
            | Edit::RoundCrop(_)
            | Edit::SmartCrop(_)
            | Edit::OverlayWith(_)
            | Edit::Affine(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn crop_area_matches_sih_tests() {
        let b = Face {
            left: 0.55,
            top: 0.33,
            width: 0.23,
            height: 0.18,
            confidence: 99.0,
        };
        let r = crop_area(&b, 20.0, 200, 400).unwrap();
        assert_eq!((r.left, r.top, r.width, r.height), (90, 112, 86, 112));
        let r = crop_area(&b, 500.0, 200, 400).unwrap();
        assert_eq!((r.left, r.top, r.width, r.height), (0, 0, 200, 400));
        assert!(crop_area(&b, -100.0, 200, 400).is_none());
        assert!(crop_area(&b, f64::NAN, 200, 400).is_none());
    }

    #[test]
    fn boxes_are_clamped_like_handle_bounds() {
        let b = clamp_box(&Face {
            left: -0.1,
            top: 0.9,
            width: 0.5,
            height: 0.3,
            confidence: 1.0,
        });
        assert_eq!((b.left, b.top, b.width), (0.0, 0.9, 0.5));
        assert!((b.height - 0.1).abs() < 1e-6);
    }

    #[test]
    fn pixelate_averages_cells() {
        let mut img = RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 255]));
        img.put_pixel(0, 0, Rgba([255, 255, 255, 255]));
        let out = pixelate(&img, 4, (4.0, 4.0));
        assert_eq!(out.get_pixel(0, 0), out.get_pixel(3, 3));
        assert_eq!(out.get_pixel(0, 0)[0], 16);
        assert_eq!(out.get_pixel(4, 4)[0], 0);
    }

    #[test]
    fn blur_covers_the_face_box() {
        // A checkerboard "face": after blurring, the box is flat.
        let mut img = RgbaImage::from_fn(200, 200, |x, y| {
            let v = if (x / 4 + y / 4) % 2 == 0 { 0 } else { 255 };
            Rgba([v, v, v, 255])
        });
        let face = Face {
            left: 0.4,
            top: 0.4,
            width: 0.2,
            height: 0.2,
            confidence: 90.0,
        };
        blur_face(&mut img, &face, &BlurFacesOptions::default(), 1.0);
        for (x, y) in [(80, 80), (100, 100), (119, 119), (80, 119)] {
            let v = img.get_pixel(x, y)[0];
            assert!((100..=155).contains(&v), "({x},{y}) = {v}");
        }
        // Far away, untouched.
        assert_eq!(img.get_pixel(2, 2)[0], 0);
    }
}
