//! The resize plan's first step: sharp's shrink-on-load. Which decodes may shrink, by how much,
//! and the size sharp's loader gives, on which the first resize is then planned (docs/pipeline.md,
//! "Shrink-on-load").

use super::codecs;
use super::sniff::InputFormat;
use super::{ops, orient};
use crate::edits::{Edit, Edits};
use crate::error::Error;

/// sharp's shrink-on-load for the first resize, as a rule for the decoders; `None` when sharp
/// would load the whole image. `stored` is the header's width, height and EXIF orientation
/// (`None` for SVG, whose size is known once parsed). sharp does not shrink on load with a
/// `gamma` or `trim` anywhere, an extract or a rotation before the resize, or an extract of an
/// EXIF-oriented image (oriented before the extract, so before the resize); `ratio` on an SVG
/// needs its size, so SVGs with a `ratio` render whole.
pub(super) fn rule(
    edits: &Edits,
    stored: Option<(u32, u32, u8)>,
    faces_proxy: Option<u32>,
) -> Result<Option<codecs::ShrinkRule>, Error> {
    let orientation = stored.map_or(1, |s| s.2);
    let mut keep = codecs::Keep::SharpSize;
    let mut first = None;
    for edit in edits.iter() {
        match edit {
            Edit::Gamma(_) | Edit::Trim(_) => return Ok(None),
            Edit::Crop(_) | Edit::Extract(_) if orientation != 1 => return Ok(None),
            _ => {}
        }
        if first.is_some() {
            continue;
        }
        match edit {
            Edit::Resize(r) => first = Some(r),
            // Per-pixel edits: the same on a smaller decode.
            Edit::ToFormat(_)
            | Edit::FormatOptions(..)
            | Edit::Quality(_)
            | Edit::Animated(_)
            | Edit::KeepIccProfile(_)
            | Edit::Grayscale(_)
            | Edit::Tint(_)
            | Edit::Negate(_)
            | Edit::Modulate(_)
            | Edit::Threshold(_)
            | Edit::RemoveAlpha(_)
            | Edit::EnsureAlpha(_)
            | Edit::Flatten(_)
            | Edit::Flip(_)
            | Edit::Flop(_)
            | Edit::BlurFaces(_)
            | Edit::Linear(_)
            | Edit::Recomb(_)
            | Edit::Unflatten(_)
            | Edit::ExtractChannel(_)
            | Edit::BandBool(_)
            | Edit::ToColourspace(_)
            | Edit::PipelineColourspace(_)
            | Edit::Rotate(None) => {}
            Edit::Rotate(Some(a)) if a % 360.0 == 0.0 => {}
            // sharp runs these after its resize, so it still shrinks on load; pixfront runs them
            // in key order, on the full picture.
            Edit::Blur(_)
            | Edit::Sharpen(_)
            | Edit::Normalize(_)
            | Edit::Median(_)
            | Edit::Convolve(_)
            | Edit::Clahe(_)
            | Edit::OverlayWith(_)
            | Edit::ContentModeration(_) => keep = codecs::Keep::Full,
            _ => return Ok(None),
        }
    }
    let Some(resize) = first else { return Ok(None) };
    let (tw, th, fit) = match stored {
        Some((w, h, o)) => {
            let upright = if orient::swaps_axes(o) { (h, w) } else { (w, h) };
            ops::geometry::targets(resize, upright)?
        }
        None if resize.ratio.is_some() => return Ok(None),
        None => ops::geometry::targets(resize, (1, 1))?,
    };
    if tw.is_none() && th.is_none() {
        return Ok(None);
    }
    // sharp swaps the targets rather than the image when EXIF turns it by 90°.
    let (width, height) = if orient::swaps_axes(orientation) {
        (th, tw)
    } else {
        (tw, th)
    };
    if let (codecs::Keep::SharpSize, Some(proxy)) = (keep, faces_proxy) {
        keep = codecs::Keep::LongSide(proxy);
    }
    Ok(Some(codecs::ShrinkRule {
        width,
        height,
        fit,
        limits: ops::geometry::flags(resize),
        fast: resize.fast_shrink_on_load != Some(false),
        keep,
    }))
}

/// The upright size sharp's loader gives a stored `size` original for `rule`: the first resize
/// is planned on it, whatever pixfront decoded.
pub(super) fn sharp_loaded_upright(
    input: InputFormat,
    size: (u32, u32),
    orientation: u8,
    rule: &codecs::ShrinkRule,
) -> (u32, u32) {
    let (w, h) = codecs::sharp_loaded_size(input, size, rule);
    if orient::swaps_axes(orientation) {
        (h, w)
    } else {
        (w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_for(edits: serde_json::Value) -> Option<codecs::ShrinkRule> {
        let (edits, _) = Edits::from_json(edits.as_object().unwrap()).unwrap();
        rule(&edits, Some((4000, 3000, 1)), None).unwrap()
    }

    #[test]
    fn per_pixel_edits_before_the_resize_still_shrink_on_load() {
        let resize = serde_json::json!({"width": 400});
        for (name, value) in [
            ("linear", serde_json::json!({"a": 1.2, "b": -10})),
            (
                "recomb",
                serde_json::json!([[0.3, 0.6, 0.1], [0.3, 0.6, 0.1], [0.3, 0.6, 0.1]]),
            ),
            ("extractChannel", serde_json::json!("green")),
            ("toColourspace", serde_json::json!("b-w")),
        ] {
            let edits = serde_json::json!({ name: value, "resize": resize });
            let got = rule_for(edits).unwrap_or_else(|| panic!("{name}: no shrink-on-load"));
            assert_eq!(got.keep, codecs::Keep::SharpSize, "{name}");
        }
        let clahe = rule_for(serde_json::json!({"clahe": {"width": 8, "height": 8}, "resize": resize}));
        assert_eq!(clahe.map(|r| r.keep), Some(codecs::Keep::Full));
        // A transform before the resize sees every pixel of the original.
        let affine = serde_json::json!({"affine": [[1, 0.2], [0, 1]], "resize": resize});
        assert!(rule_for(affine).is_none());
    }
}
