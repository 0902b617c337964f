//! The engine's own settings: size limits checked before decoding and after the edits, and
//! whether metadata survives.

use crate::settings::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// `MAX_INPUT_PIXELS` (default 100 000 000): larger originals are refused before decoding.
    pub max_input_pixels: u64,
    /// `MAX_OUTPUT_DIMENSION` (default 16 384): largest width or height pixfront will produce.
    pub max_output_dimension: u32,
    /// `MAX_ANIMATION_PIXELS` (default 500 000 000): frames × width × height of an animation.
    pub max_animation_pixels: u64,
    /// `KEEP_METADATA=Yes`: keep EXIF in outputs (default: stripped, EXIF orientation applied).
    pub keep_metadata: bool,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            max_input_pixels: 100_000_000,
            max_output_dimension: 16_384,
            max_animation_pixels: 500_000_000,
            keep_metadata: false,
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
        })
    }
}
