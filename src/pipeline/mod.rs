//! The engine: canonical request + original bytes → output bytes + content type.
//! Pure and synchronous; knows nothing of HTTP, S3 or Lambda.
//!
//! The steps of [`process`], one file each:
//! 1. [`sniff`]: the real input format from magic bytes.
//! 2. Passthrough: no edits and no format change → the original bytes, untouched.
//! 3. [`limits`]: dimensions and frame count from the header ([`codecs::read_header`]), before
//!    decoding.
//! 4. [`animation`]: keep every frame or only the first; an animation kept animated is then
//!    rendered frame by frame by [`animation::render`] (steps 5–9 for each frame).
//! 5. [`codecs::decode`], shrinking on load as sharp does for the first resize ([`shrink`]).
//! 6. [`color_profile`]: embedded ICC → sRGB (kept instead with `KEEP_ICC=Yes`, see
//!    [`codecs::icc`]).
//! 7. [`orient`]: EXIF orientation applied to the pixels; then `blurFaces`, on the upright
//!    original before any other edit ([`ops::faces`]).
//! 8. [`ops`]: every edit, in the request's key order.
//! 9. [`codecs::encode`]: the output format, with per-format options; no EXIF/XMP/ICC written
//!    unless `KEEP_METADATA=Yes` (EXIF only) or `KEEP_ICC=Yes` (the original's RGB profile).
//!    `quality: "auto"` is first resolved to a number by [`quality`] (trial encodes of a
//!    sample, scored with SSIMULACRA2).
//!
//! [`codecs`] holds one file per format (header, decoder, encoder); the steps above call it
//! only through its dispatchers.

pub mod animation;
pub mod codecs;
pub mod color_profile;
pub mod fonts;
pub mod limits;
pub mod memory;
pub mod ops;
pub mod orient;
pub mod picture;
pub mod quality;
pub mod resources;
pub mod settings;
mod shrink;
pub mod sniff;

use crate::edits::{Edit, Edits, Format, FormatOptions, Quality};
use crate::error::Error;
use crate::request::ImageRequest;
pub use resources::Resources;
pub use settings::{FailOn, PipelineSettings};
use sniff::InputFormat;
use std::time::{Duration, Instant};

/// Time spent per stage, for `Server-Timing` and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Timings {
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
}

/// The rendered image.
#[derive(Debug, Clone)]
pub struct Output {
    pub bytes: bytes::Bytes,
    pub content_type: String,
    /// True when the original bytes were returned untouched (no edits, no format change).
    pub passthrough: bool,
    /// Rendered from a damaged original (`FAIL_ON` error or none let it through): front ends
    /// must not let it be cached for long.
    pub damaged: bool,
    pub timings: Timings,
    /// What `quality: "auto"` chose, when it was asked.
    pub quality: Option<quality::AutoQuality>,
}

/// The (bucket, key) of every overlay the request needs.
pub fn overlay_refs(req: &ImageRequest) -> Vec<(String, String)> {
    req.edits
        .iter()
        .filter_map(|e| match e {
            crate::edits::Edit::OverlayWith(o) => Some((o.bucket.clone(), o.key.clone())),
            _ => None,
        })
        .collect()
}

/// Renders `req` from the original's bytes. `content_type` is the original's stored
/// Content-Type, if any (the real format is always sniffed from the bytes, and the answer's
/// Content-Type always names the format of the bytes sent).
pub fn process(
    req: &ImageRequest,
    original: &bytes::Bytes,
    content_type: Option<&str>,
    resources: &Resources,
    config: &PipelineSettings,
) -> Result<Output, Error> {
    let _ = content_type;
    let start = Instant::now();
    let input = sniff::sniff(original).ok_or_else(|| {
        Error::bad_request(
            "UnsupportedInputFormat",
            "The original is not an image format pixfront can read.",
        )
    })?;
    let requested = req.requested_format();
    // SIH returns the original untouched when nothing is asked, and an SVG with no edits even
    // when a format was negotiated.
    if req.edits.is_empty() && (requested.is_none() || input == InputFormat::Svg) {
        return Ok(Output {
            bytes: original.clone(),
            content_type: input.mime().to_string(),
            passthrough: true,
            damaged: false,
            timings: Timings::default(),
            quality: None,
        });
    }
    if input == InputFormat::Heic {
        return Err(codecs::heif::heic_refused());
    }
    let format = output_format(&req.edits, requested, input);

    let header = match input {
        InputFormat::Svg => None,
        _ => {
            let info = codecs::read_header(original, input)?;
            limits::check_input(info.width, info.height, config)?;
            Some(info)
        }
    };
    let animated = header.is_some_and(|h| h.frames > 1) && animation::keep_frames(&req.edits, input, format);
    if let (true, Some(info)) = (animated, &header) {
        limits::check_animation(info.width, info.height, info.frames, config)?;
    }

    if animated && animation::streams(&req.edits) {
        let mut settings = codecs::EncodeOptions {
            options: format_options(&req.edits, format),
            effort: if format == Format::Webp { req.effort } else { None },
            exif: None,
            icc: None,
        };
        // Animations are not searched: every frame would need its trials.
        let auto = quality::resolve(&mut settings.options, &req.edits, format, config)
            .map(|level| quality::fallback(format, level));
        if let Some(a) = &auto {
            settings.options.quality = Some(Quality::Fixed(a.quality));
        }
        let r = animation::render(&req.edits, original, input, format, settings, resources, config)?;
        return Ok(Output {
            bytes: r.bytes.into(),
            content_type: format.mime().to_string(),
            passthrough: false,
            damaged: r.damaged,
            timings: Timings {
                decode: r.decode,
                transform: r.transform,
                encode: r.encode,
            },
            quality: auto,
        });
    }

    let blur_faces = ops::faces::requested_blur(&req.edits);
    // Face detection needs at least its proxy size: faces found on a thumbnail-sized decode
    // would be cached and reused for large renditions.
    let faces_proxy = match (&blur_faces, &resources.faces) {
        (Some(_), Some(job)) => Some(job.service.proxy_size()),
        _ => None,
    };
    let stored = header.map(|h| (h.width, h.height, h.orientation));
    let shrink = shrink::rule(&req.edits, stored, faces_proxy)?;
    let mut decoded = codecs::decode(
        original,
        input,
        codecs::DecodeOptions {
            animated,
            shrink,
            fail_on: config.fail_on,
        },
        config,
    )?;
    // Headers and decoders can disagree (a GIF's logical screen 5×0 around a 5×4 frame): no
    // pixels (or no frame) is a corrupt original, not an encoder failure.
    if decoded.picture.frames.is_empty() || decoded.picture.width() == 0 || decoded.picture.height() == 0 {
        return Err(codecs::corrupt("no pixels"));
    }
    let damaged = decoded.damaged;
    let decoded_pixels = decoded.picture.width() as u64 * decoded.picture.height() as u64;
    let (ow, oh) = decoded.original_size;
    let upright = if orient::swaps_axes(decoded.orientation) {
        (oh, ow)
    } else {
        (ow, oh)
    };
    // KEEP_ICC=Yes (or `keepIccProfile`) keeps an RGB profile, and the pixels in its colour
    // space, when the output can carry it; everything else is converted to sRGB.
    let keep_icc = config.keep_icc || req.edits.iter().any(|e| matches!(e, Edit::KeepIccProfile(true)));
    let icc_to_keep = match decoded.icc.take() {
        Some(icc) if keep_icc && codecs::icc::carries(format) && color_profile::is_rgb(&icc) => Some(icc),
        Some(icc) => {
            color_profile::to_srgb(&mut decoded.picture, &icc);
            None
        }
        None => None,
    };
    // KEEP_METADATA=Yes keeps EXIF (XMP is never copied); the orientation is in the pixels
    // now, so the tag is reset to 1 or viewers would turn the picture twice.
    let exif_to_keep = match decoded.exif.take() {
        Some(mut exif) if config.keep_metadata => {
            // Returns the orientation it cleared, which the decoder already reported.
            let _ = image::metadata::Orientation::remove_from_exif_chunk(&mut exif);
            Some(exif)
        }
        _ => None,
    };
    // sharp plans its resize on the image its loader gave, whatever pixfront decoded.
    let first_resize_from = shrink
        .map(|rule| shrink::sharp_loaded_upright(input, decoded.original_size, decoded.orientation, &rule));
    let mut picture = orient::apply(decoded.picture, decoded.orientation);
    let decode_time = start.elapsed();

    let transform_start = Instant::now();
    let ctx = ops::OpContext {
        resources,
        config,
        original_size: upright,
        first_resize_from,
    };
    // `blurFaces` acts on the original whatever its place in the edits: every later step then
    // works on blurred pixels, so no edit order can bring a face back. smartCrop and
    // contentModeration run in key order like any edit.
    if let Some(opts) = &blur_faces {
        let scale = picture.width() as f32 / upright.0.max(1) as f32;
        picture = ops::faces::blur_original(opts, picture, scale, &ctx)?;
    }
    let mut plan = Edits::default();
    for (name, edit) in &req.edits.entries {
        if picture.is_animated() && animation::skipped_for_animation(edit) {
            continue;
        }
        plan.entries.push((name.clone(), edit.clone()));
    }
    // `apply_all` keeps sharp's fixed-order rules (flip/flop before rotate, gamma around resize).
    picture = ops::apply_all(&plan, picture, &ctx)?;
    limits::check_output(picture.width(), picture.height(), config)?;
    let transform_time = transform_start.elapsed();

    let encode_start = Instant::now();
    let mut settings = codecs::EncodeOptions {
        options: format_options(&req.edits, format),
        effort: if format == Format::Webp { req.effort } else { None },
        exif: exif_to_keep,
        icc: icc_to_keep,
    };
    let auto = match quality::resolve(&mut settings.options, &req.edits, format, config) {
        Some(level) => {
            let render_pixels = decoded_pixels + picture.width() as u64 * picture.height() as u64;
            let chosen = quality::choose(&picture, format, &settings, level, render_pixels, config)?;
            settings.options.quality = Some(Quality::Fixed(chosen.quality));
            Some(chosen)
        }
        None => None,
    };
    let bytes = codecs::encode(&picture, format, &settings)?;
    Ok(Output {
        bytes: bytes.into(),
        content_type: format.mime().to_string(),
        passthrough: false,
        damaged,
        timings: Timings {
            decode: decode_time,
            transform: transform_time,
            encode: encode_start.elapsed(),
        },
        quality: auto,
    })
}

/// Output format: the last `toFormat`, else the negotiated/`outputFormat` one, else the last
/// per-format options edit (in sharp, `jpeg({...})` also switches the encoder), else the
/// input's own format (SVG → PNG).
pub fn output_format(edits: &Edits, requested: Option<Format>, input: InputFormat) -> Format {
    requested
        .or_else(|| {
            edits.iter().rev().find_map(|e| match e {
                Edit::FormatOptions(f, _) => Some(*f),
                _ => None,
            })
        })
        .unwrap_or(input.default_output())
}

/// The options of the last format-options edit for `format` (others are ignored, as in sharp
/// where a later `toFormat` resets them).
fn format_options(edits: &Edits, format: Format) -> FormatOptions {
    edits
        .iter()
        .rev()
        .find_map(|e| match e {
            Edit::FormatOptions(f, o) if *f == format => Some(o.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
