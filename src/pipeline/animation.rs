//! Whether an animated original stays animated.
//!
//! SIH decides with `edits.animated ?? (contentType === "image/gif")`, where contentType has
//! already become the *output* type: GIF → GIF stays animated, GIF → WebP does not unless
//! `animated: true`. pixfront keeps that rule and extends it to animated WebP → WebP (SIH would
//! silently keep only the first frame); `animated: false` always flattens to the first frame.

use super::sniff::InputFormat;
use crate::edits::{Edit, Edits, Format};

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
