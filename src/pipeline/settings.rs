//! The engine's own settings: size limits checked before decoding and after the edits, how
//! strictly damaged originals are refused, whether metadata survives, and the server's default
//! `quality=auto` level.

use crate::edits::AutoLevel;
use crate::settings::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// `MAX_INPUT_PIXELS` (default 100 000 000): larger originals are refused before decoding.
    pub max_input_pixels: u64,
    /// `MAX_OUTPUT_DIMENSION` (default 16 384): largest width or height pixfront will produce.
    pub max_output_dimension: u32,
    /// `MAX_ANIMATION_PIXELS` (default 200 000 000): frames × width × height of an animation
    /// kept animated. Frames are rendered one at a time, so memory no longer grows with it (the
    /// memory budget covers the rest); it bounds the decoding work instead, about 2 s of one
    /// core for a GIF at the default.
    pub max_animation_pixels: u64,
    /// `KEEP_METADATA=Yes`: keep EXIF in outputs (default: stripped, EXIF orientation applied).
    pub keep_metadata: bool,
    /// `KEEP_ICC=Yes`: keep an RGB original's ICC profile (its pixels are not converted to sRGB
    /// and the profile is written into JPEG, PNG, WebP and TIFF outputs), so wide-gamut
    /// pictures stay wide. Default: converted to sRGB, no profile written.
    pub keep_icc: bool,
    /// `FAIL_ON` (default `warning`): which decoder complaints refuse an original.
    pub fail_on: FailOn,
    /// `AUTO_QUALITY` (best, good or eco; default unset): `quality: "auto:<level>"` for JPEG,
    /// WebP and AVIF outputs whose request gives no quality.
    pub auto_quality: Option<AutoLevel>,
}

/// sharp's `failOn` levels, from strictest: `warning` refuses any damage a decoder reports
/// (truncation, corrupt data it skipped), `error` renders what a decoder could recover from
/// warnings, `none` also keeps the frames of an animation decoded before a fatal error. An
/// answer rendered from a damaged original is marked so it is not cached for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Warning,
    Error,
    None,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            max_input_pixels: 100_000_000,
            max_output_dimension: 16_384,
            max_animation_pixels: 200_000_000,
            keep_metadata: false,
            keep_icc: false,
            fail_on: FailOn::Warning,
            auto_quality: None,
        }
    }
}

impl PipelineSettings {
    pub fn from_lookup(get: &Lookup) -> Result<PipelineSettings, String> {
        let d = PipelineSettings::default();
        Ok(PipelineSettings {
            max_input_pixels: get.number("MAX_INPUT_PIXELS", d.max_input_pixels)?,
            max_output_dimension: get
                .number("MAX_OUTPUT_DIMENSION", d.max_output_dimension as u64)?
                .min(u32::MAX as u64) as u32,
            max_animation_pixels: get.number("MAX_ANIMATION_PIXELS", d.max_animation_pixels)?,
            keep_metadata: get.yes("KEEP_METADATA"),
            keep_icc: get.yes("KEEP_ICC"),
            fail_on: match get.choice("FAIL_ON", &["warning", "error", "none"])?.as_deref() {
                Some("error") => FailOn::Error,
                Some("none") => FailOn::None,
                _ => FailOn::Warning,
            },
            auto_quality: get
                .choice("AUTO_QUALITY", &["best", "good", "eco"])?
                .and_then(|l| AutoLevel::parse(&l)),
        })
    }
}
