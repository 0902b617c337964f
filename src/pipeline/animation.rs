//! Whether an animated original stays animated.
//!
//! SIH decides with `edits.animated ?? (contentType === "image/gif")`, where contentType has
//! already become the *output* type: GIF → GIF stays animated, GIF → WebP does not unless
//! `animated: true`. pixfront keeps that rule and extends it to animated WebP → WebP (SIH would
//! silently keep only the first frame); `animated: false` always flattens to the first frame.
//!
//! An animation kept animated is rendered frame by frame ([`render`]): decode one composed
//! frame, convert its colours, turn it upright, apply the edits, hand it to the encoder, and
//! only then decode the next. A request thus holds one frame of the original (plus the
//! decoder's own canvas) instead of all of them: memory follows the output, not the animation.
//! Edits that look at the whole animation at once (`normalize`'s percentiles, `trim`'s box
//! taken from the first frame, `blurFaces`' detection over every frame) and `overlayWith`
//! (decoded once, not per frame) keep the former path, which decodes every frame first; the
//! memory admission counts all frames for those.

use super::codecs::{self, AnimationWriter, EncodeOptions, Frames};
use super::picture::Picture;
use super::resources::Resources;
use super::settings::PipelineSettings;
use super::sniff::InputFormat;
use super::{color_profile, limits, ops, orient, shrink};
use crate::edits::{Edit, Edits, Format};
use crate::error::Error;
use std::time::{Duration, Instant};

/// True when every frame should be decoded, edited and encoded.
pub fn keep_frames(edits: &Edits, input: InputFormat, output: Format) -> bool {
    if !matches!(output, Format::Gif | Format::Webp) {
        return false;
    }
    let explicit = edits.iter().rev().find_map(|e| match e {
        Edit::Animated(b) => Some(*b),
        _ => None,
    });
    explicit.unwrap_or(matches!(
        (input, output),
        (InputFormat::Gif, Format::Gif) | (InputFormat::Webp, Format::Webp)
    ))
}

/// Edits SIH skips for animations (sharp cannot apply them page by page).
pub fn skipped_for_animation(edit: &Edit) -> bool {
    matches!(
        edit,
        Edit::Rotate(_) | Edit::SmartCrop(_) | Edit::RoundCrop(_) | Edit::ContentModeration(_)
    )
}

/// True when every edit works on each frame alone, so the animation can be streamed.
pub fn streams(edits: &Edits) -> bool {
    !edits.iter().any(|e| {
        matches!(
            e,
            Edit::Normalize(true) | Edit::Trim(_) | Edit::BlurFaces(_) | Edit::OverlayWith(_)
        )
    })
}

/// An animation rendered by [`render`], with the time spent in each stage.
pub struct Rendered {
    pub bytes: Vec<u8>,
    /// Frames after a damaged one were dropped (`FAIL_ON=none`), or the file was cut short.
    pub damaged: bool,
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
}

/// Renders an animation kept animated, one frame at a time (see the module's notes). `encode`
/// holds the output format's options; its EXIF is written when `KEEP_METADATA=Yes`.
pub fn render(
    edits: &Edits,
    original: &[u8],
    input: InputFormat,
    format: Format,
    mut encode: EncodeOptions,
    resources: &Resources,
    config: &PipelineSettings,
) -> Result<Rendered, Error> {
    let mut decode_time = Duration::ZERO;
    let mut transform_time = Duration::ZERO;
    let mut encode_time = Duration::ZERO;
    let started = Instant::now();
    let animation = codecs::animation(original, input, config)?;
    let (w, h) = animation.size;
    let upright = match orient::swaps_axes(animation.orientation) {
        true => (h, w),
        false => (w, h),
    };
    // KEEP_METADATA=Yes keeps EXIF, its orientation reset: the pixels are upright now.
    encode.exif = match animation.exif.clone() {
        Some(mut exif) if config.keep_metadata => {
            let _ = image::metadata::Orientation::remove_from_exif_chunk(&mut exif);
            Some(exif)
        }
        _ => None,
    };
    // Frames are decoded whole, but sharp scales an animated WebP on load: its first resize is
    // planned on that size, so the output size is sharp's.
    let first_resize_from = shrink::rule(edits, Some((w, h, animation.orientation)), None)?
        .map(|rule| shrink::sharp_loaded_upright(input, (w, h), animation.orientation, &rule));
    let mut plan = Edits::default();
    for (name, edit) in &edits.entries {
        if !skipped_for_animation(edit) {
            plan.entries.push((name.clone(), edit.clone()));
        }
    }
    let ctx = ops::OpContext {
        resources,
        config,
        original_size: upright,
        first_resize_from,
    };
    let (icc, orientation, loop_count, damaged_container) = (
        animation.icc.clone(),
        animation.orientation,
        animation.loop_count,
        animation.damaged,
    );
    let mut frames = Frames::new(animation.frames, config.fail_on);
    let mut writer = AnimationWriter::new(format, loop_count, encode);
    decode_time += started.elapsed();
    let mut checked = false;
    loop {
        let t = Instant::now();
        let Some(frame) = frames.next() else { break };
        let delay_ms = frame.as_ref().map_or(0, |f| f.delay_ms);
        let mut picture = Picture::still(frame?.pixels, true);
        if let Some(icc) = icc.as_deref() {
            color_profile::to_srgb(&mut picture, icc);
        }
        let picture = orient::apply(picture, orientation);
        decode_time += t.elapsed();

        let t = Instant::now();
        let mut picture = ops::apply_all(&plan, picture, &ctx)?;
        if !checked {
            limits::check_output(picture.width(), picture.height(), config)?;
            checked = true;
        }
        transform_time += t.elapsed();

        let t = Instant::now();
        let mut frame = picture.frames.swap_remove(0);
        frame.delay_ms = delay_ms;
        writer.add(frame, picture.has_alpha)?;
        encode_time += t.elapsed();
    }
    let t = Instant::now();
    let bytes = writer.finish()?;
    encode_time += t.elapsed();
    Ok(Rendered {
        bytes,
        damaged: damaged_container || frames.damaged,
        decode: decode_time,
        transform: transform_time,
        encode: encode_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edits(v: serde_json::Value) -> Edits {
        Edits::from_json(v.as_object().unwrap()).unwrap().0
    }

    #[test]
    fn sih_rule_plus_webp() {
        let none = edits(json!({}));
        assert!(keep_frames(&none, InputFormat::Gif, Format::Gif));
        assert!(!keep_frames(&none, InputFormat::Gif, Format::Webp));
        assert!(keep_frames(&none, InputFormat::Webp, Format::Webp));
        assert!(keep_frames(
            &edits(json!({"animated": true})),
            InputFormat::Gif,
            Format::Webp
        ));
        assert!(!keep_frames(
            &edits(json!({"animated": false})),
            InputFormat::Gif,
            Format::Gif
        ));
        assert!(!keep_frames(
            &edits(json!({"animated": true})),
            InputFormat::Gif,
            Format::Png
        ));
    }
}
