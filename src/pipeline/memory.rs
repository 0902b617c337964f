//! The peak memory of a render, estimated before any pixel is decoded, from the header (size,
//! frames) and the edit plan (the size after each edit). Front ends reserve it from a memory
//! budget before the render runs (`http::limit`).
//!
//! The model counts 4 bytes per RGBA pixel and, at each step, the buffers alive together:
//! - decode: the decoded frame twice (decoders convert into RGBA from their own buffer); the
//!   decode at full size even when shrink-on-load will make it smaller (an upper bound);
//! - each edit: its input and its output; filters (`blur`, `sharpen`, `median`, `convolve`)
//!   twice that for their working copies;
//! - encode: the output plus its RGB copy and the compressed bytes;
//! - animations streamed frame by frame (see [`super::animation`]): three frames of the
//!   original (the decoder's canvases and ours), one frame's edits, and what the encoder holds:
//!   every edited frame for GIF (one palette for all), a few for WebP; animations that cannot be
//!   streamed hold every frame of the original;
//! - the original's bytes, overlays decoded twice, and [`OVERHEAD`] for tables and stacks.
//!
//! Passthrough requests and those that fail before decoding (bad header, limits, unsupported
//! formats) count their original alone: `process` answers them in microseconds.

use super::animation;
use super::codecs;
use super::resources::Resources;
use super::settings::PipelineSettings;
use super::sniff::{self, InputFormat};
use super::{ops, output_format};
use crate::edits::{Edit, Extend, Format};
use crate::request::ImageRequest;

/// Fixed cost of a render besides its pixels (codec tables, stacks, small buffers).
pub const OVERHEAD: u64 = 8 << 20;

/// Bytes a render of `req` on `original` may hold at its peak.
pub fn estimate(
    req: &ImageRequest,
    original: &[u8],
    resources: &Resources,
    config: &PipelineSettings,
) -> u64 {
    // What a request that renders nothing holds: the original it was handed.
    let base = original.len() as u64;
    let Some(input) = sniff::sniff(original) else {
        return base;
    };
    let requested = req.requested_format();
    if req.edits.is_empty() && (requested.is_none() || input == InputFormat::Svg) {
        return base;
    }
    let format = output_format(&req.edits, requested, input);
    let header = match input {
        InputFormat::Svg => codecs::svg::size(original, config).map(|(w, h)| (w, h, 1, 1)),
        _ => codecs::read_header(original, input)
            .ok()
            .map(|i| (i.width, i.height, i.frames, i.orientation)),
    };
    let Some((w, h, frames, orientation)) = header else {
        return base;
    };
    if w as u64 * h as u64 > config.max_input_pixels {
        return base;
    }
    let animated = frames > 1 && animation::keep_frames(&req.edits, input, format);
    let upright = match super::orient::swaps_axes(orientation) {
        true => (h, w),
        false => (w, h),
    };
    let Some((work, out)) = plan_peak(req, upright, animated, config) else {
        return base;
    };
    let frame_in = px(upright);
    let frame_out = px(out);
    let encode = frame_out * 2;
    let overlays: u64 = resources
        .overlays
        .values()
        .filter_map(|b| {
            let f = sniff::sniff(b)?;
            let i = codecs::read_header(b, f).ok()?;
            Some(2 * px((i.width, i.height)))
        })
        .sum();
    let pixels = if !animated {
        (2 * frame_in).max(work).max(encode)
    } else if animation::streams(&req.edits) {
        let held = match format {
            Format::Gif => frames as u64 * frame_out * 5 / 4,
            _ => 4 * frame_out,
        };
        3 * frame_in + work + held + encode
    } else {
        frames as u64 * (frame_in + work / 2) + encode
    };
    base + OVERHEAD + pixels + overlays
}

/// The largest step of the edit plan (input + output bytes, filters doubled) and the output
/// size; `None` when an edit is invalid or too large (`process` refuses it before allocating).
fn plan_peak(
    req: &ImageRequest,
    start: (u32, u32),
    animated: bool,
    config: &PipelineSettings,
) -> Option<(u64, (u32, u32))> {
    let max = config.max_output_dimension;
    let mut size = start;
    let mut peak = 0u64;
    for edit in req.edits.iter() {
        if animated && animation::skipped_for_animation(edit) {
            continue;
        }
        let next = match edit {
            Edit::Resize(r) => ops::planned_size(r, size.0, size.1).ok()?,
            Edit::Affine(af) => ops::affine_output_box(&af.matrix, size.0, size.1)?.0,
            Edit::Rotate(Some(angle)) => {
                let (sin, cos) = angle.to_radians().sin_cos();
                let (w, h) = (size.0 as f64, size.1 as f64);
                (
                    (w * cos.abs() + h * sin.abs()).round() as u32,
                    (w * sin.abs() + h * cos.abs()).round() as u32,
                )
            }
            Edit::Extend(e) => {
                let (top, bottom, left, right) = match e {
                    Extend::All(n) => (*n, *n, *n, *n),
                    Extend::Sides(s) => (
                        s.top.unwrap_or(0),
                        s.bottom.unwrap_or(0),
                        s.left.unwrap_or(0),
                        s.right.unwrap_or(0),
                    ),
                };
                (
                    size.0.saturating_add(left).saturating_add(right),
                    size.1.saturating_add(top).saturating_add(bottom),
                )
            }
            _ => size,
        };
        if next.0 > max || next.1 > max {
            return None;
        }
        // A text overlay rasterises its visible box (at most the image) and copies it once.
        let filter = matches!(
            edit,
            Edit::Blur(_) | Edit::Sharpen(_) | Edit::Median(_) | Edit::Convolve(_) | Edit::TextOverlay(_)
        );
        let step = (px(size) + px(next)) * if filter { 2 } else { 1 };
        peak = peak.max(step);
        size = next;
    }
    Some((peak, size))
}

/// Bytes of an RGBA frame.
fn px((w, h): (u32, u32)) -> u64 {
    w as u64 * h as u64 * 4
}
