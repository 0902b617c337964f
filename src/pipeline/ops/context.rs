//! What every operation may read besides the picture, and the output-size guard they share.

use crate::error::Error;
use crate::pipeline::resources::Resources;
use crate::pipeline::settings::PipelineSettings;

/// What an operation may need besides the picture.
#[derive(Clone, Copy)]
pub struct OpContext<'a> {
    /// Prefetched overlay images.
    pub resources: &'a Resources,
    pub config: &'a PipelineSettings,
    /// Size of the decoded original (after EXIF orientation): SIH's `ratio` scales it.
    pub original_size: (u32, u32),
    /// The size sharp's image has at the first resize when sharp shrank it on load (upright):
    /// that resize is planned on it, so every fit gives sharp's size whatever pixfront decoded.
    pub first_resize_from: Option<(u32, u32)>,
}

/// Refuses outputs larger than `MAX_OUTPUT_DIMENSION` before allocating them.
pub(super) fn check_output_size(edit: &str, (w, h): (u32, u32), ctx: &OpContext) -> Result<(), Error> {
    let max = ctx.config.max_output_dimension;
    if w > max || h > max {
        return Err(Error::new(
            400,
            "ImageEdits::OutputTooLarge",
            format!("Edit `{edit}` would produce {w}x{h}; the largest allowed dimension is {max}."),
        ));
    }
    Ok(())
}
