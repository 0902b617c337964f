//! Edit operations: one file per step, applied one edit at a time in the request's key order
//! with sharp's semantics. [`apply`] dispatches; [`planned_size`] tells the decoder how large a
//! resize will end up (for shrink-on-load) without touching pixels.

mod affine;
mod alpha;
mod channels;
mod clahe;
mod color;
mod colorspace;
mod context;
mod crop;
mod extend;
pub mod faces;
mod filters;
mod flip;
pub mod geometry;
mod levels;
mod overlay;
pub mod resize;
mod rotate;
mod round_crop;
mod smart;
mod text;
mod trim;

pub(crate) use affine::output_box as affine_output_box;
pub use context::OpContext;
pub use geometry::planned_size;

use crate::edits::{Edit, Edits};
use crate::error::Error;
use crate::pipeline::picture::Picture;

/// Applies one edit. Format edits (`toFormat`, `jpeg`…, `animated`) leave the pixels alone:
/// the encoder reads them from the request. `rotate: null` is a no-op here because the decoder
/// already applied the EXIF orientation. `gamma` alone changes no pixel (as in sharp); use
/// [`apply_all`] to get sharp's gamma-aware resize.
pub fn apply(edit: &Edit, pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    match edit {
        Edit::Resize(r) => resize::apply(r, pic, ctx),
        Edit::Crop(r) => crop::crop(r, pic),
        Edit::Extract(r) => crop::extract(r, pic),
        // SIH drops `rotate` and `roundCrop` for animations.
        Edit::Rotate(Some(angle)) if !pic.is_animated() => rotate::rotate(*angle, pic),
        Edit::Rotate(_) => Ok(pic),
        Edit::Flip(true) => Ok(flip::flip(pic)),
        Edit::Flop(true) => Ok(flip::flop(pic)),
        Edit::Flip(false) | Edit::Flop(false) => Ok(pic),
        Edit::Grayscale(true) => Ok(color::grayscale(pic)),
        Edit::Grayscale(false) => Ok(pic),
        Edit::Tint(c) => Ok(color::tint(c, pic)),
        Edit::Negate(n) => Ok(color::negate(n, pic)),
        Edit::Modulate(m) => color::modulate(m, pic),
        Edit::Normalize(true) => Ok(color::normalize(pic)),
        Edit::Normalize(false) => Ok(pic),
        Edit::Threshold(t) => color::threshold(t, pic),
        Edit::Gamma(g) => color::check_gamma(*g).map(|()| pic),
        Edit::Blur(b) => filters::blur(b, pic),
        Edit::Sharpen(s) => filters::sharpen(s, pic),
        Edit::Median(m) => filters::median(m, pic),
        Edit::Convolve(c) => filters::convolve(c, pic),
        Edit::Clahe(c) => clahe::clahe(c, pic),
        Edit::Affine(af) => affine::affine(af, pic, ctx),
        Edit::Flatten(f) => Ok(alpha::flatten(f, pic)),
        Edit::RemoveAlpha(on) => Ok(alpha::remove_alpha(*on, pic)),
        Edit::EnsureAlpha(v) => alpha::ensure_alpha(v, pic),
        Edit::Extend(e) => extend::extend(e, pic, ctx),
        Edit::Trim(t) => trim::trim(t, pic),
        Edit::RoundCrop(rc) if !pic.is_animated() => Ok(round_crop::round_crop(rc, pic)),
        Edit::RoundCrop(_) => Ok(pic),
        Edit::OverlayWith(o) => overlay::overlay(o, pic, ctx),
        Edit::TextOverlay(t) => text::text_overlay(t, pic),
        Edit::ToFormat(_)
        | Edit::FormatOptions(..)
        | Edit::Quality(_)
        | Edit::Animated(_)
        | Edit::KeepIccProfile(_) => Ok(pic),
        // Without knowing what came before, the picture is examined as it is.
        Edit::SmartCrop(sc) => faces::smart_crop(sc, pic, ctx, false),
        Edit::ContentModeration(cm) => faces::content_moderation(cm, pic, ctx),
        // `pipeline::process` blurs faces on the decoded original, before every edit.
        Edit::BlurFaces(_) => Ok(pic),
        Edit::Linear(l) => levels::linear(l, pic),
        Edit::Recomb(r) => levels::recomb(r, pic),
        Edit::Unflatten(on) => Ok(alpha::unflatten(*on, pic)),
        Edit::ExtractChannel(e) => channels::extract_channel(e, pic),
        Edit::BandBool(op) => Ok(channels::bandbool(op, pic)),
        Edit::ToColourspace(c) => Ok(channels::to_colourspace(c, pic)),
        // Only the sRGB names parse, and pixfront always works in sRGB.
        Edit::PipelineColourspace(_) => Ok(pic),
    }
}

/// Applies every edit in order, with the two rules of sharp's fixed pipeline that one edit at
/// a time cannot see: `flip`/`flop` always happen before a `rotate` (sharp: "this always
/// occurs before rotation"), and a `resize` after `gamma` resamples in the γ-encoded space
/// (sharp darkens by 1/γ before resizing and brightens after).
pub fn apply_all(edits: &Edits, mut pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    let mut gamma: Option<f64> = None;
    // Only the first resize sees sharp's shrink-on-load size.
    let mut ctx = *ctx;
    let ctx = &mut ctx;
    // Still the original's geometry, so cached face boxes of the original apply.
    let mut pristine = true;
    for edit in sharp_order(edits) {
        let was_pristine = pristine;
        pristine &= !faces::changes_geometry(edit);
        pic = match (edit, gamma) {
            (Edit::SmartCrop(sc), _) => faces::smart_crop(sc, pic, ctx, was_pristine)?,
            (Edit::Gamma(g), _) => {
                color::check_gamma(*g)?;
                gamma = Some(*g);
                pic
            }
            (Edit::Resize(r), Some(g)) => {
                let pic = pic.map_frames(|mut px| {
                    color::gamma_map(&mut px, g);
                    Ok::<_, Error>(px)
                })?;
                resize::apply(r, pic, ctx)?.map_frames(|mut px| {
                    color::gamma_map(&mut px, 1.0 / g);
                    Ok::<_, Error>(px)
                })?
            }
            _ => apply(edit, pic, ctx)?,
        };
        if matches!(edit, Edit::Resize(_)) {
            ctx.first_resize_from = None;
        }
    }
    Ok(pic)
}

/// Key order, except that each `flip`/`flop` moves in front of the first `rotate` before it,
/// and that the output colourspace and then `extractChannel` come last, once each (sharp sets
/// them as output options: the last call wins and they apply after every other step).
fn sharp_order(edits: &Edits) -> Vec<&Edit> {
    let mut out: Vec<&Edit> = Vec::with_capacity(edits.entries.len());
    let mut first_rotate: Option<usize> = None;
    let (mut colourspace, mut channel) = (None, None);
    for edit in edits.iter() {
        match (edit, first_rotate) {
            (Edit::ToColourspace(_), _) => colourspace = Some(edit),
            (Edit::ExtractChannel(_), _) => channel = Some(edit),
            (Edit::Flip(_) | Edit::Flop(_), Some(i)) => {
                out.insert(i, edit);
                first_rotate = Some(i + 1);
            }
            (Edit::Rotate(Some(_)), None) => {
                first_rotate = Some(out.len());
                out.push(edit);
            }
            _ => out.push(edit),
        }
    }
    out.extend(colourspace.into_iter().chain(channel));
    out
}
