//! SVG: decode only, rendered by resvg at the scale sharp asks librsvg for (1/shrink of the
//! first resize, enlarging too), else at its own size. There is no binary header to read: the
//! size limit is checked once the document is parsed, before any pixel is drawn.

use super::common::{corrupt, DecodeOptions, Decoded, Keep, ShrinkRule};
use crate::error::Error;
use crate::pipeline::limits;
use crate::pipeline::picture::Picture;
use crate::pipeline::settings::PipelineSettings;
use image::RgbaImage;

/// sharp renders an SVG straight at the first resize's scale, whatever `fastShrinkOnLoad`.
pub(super) fn sharp_scale(size: (u32, u32), rule: &ShrinkRule) -> f64 {
    1.0 / rule.shrink(size)
}

/// libvips' size for an SVG rendered at `scale`: each side rounded to nearest.
pub(super) fn loaded_size((w, h): (u32, u32), scale: f64) -> (u32, u32) {
    if scale == 1.0 {
        return (w, h);
    }
    let side = |v: u32| ((v as f64 * scale).round() as u32).max(1);
    (side(w), side(h))
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions, config: &PipelineSettings) -> Result<Decoded, Error> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    // Never read files or follow links named inside a user's SVG: only inline data: images.
    options.image_href_resolver = usvg::ImageHrefResolver {
        resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
        resolve_string: Box::new(|_, _| None),
    };
    let tree = usvg::Tree::from_data(bytes, &options).map_err(|e| corrupt(&format!("SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let original_size = (size.width(), size.height());
    limits::check_input(original_size.0, original_size.1, config)?;
    let scale = match opts.shrink {
        Some(rule) if rule.keep != Keep::Full => sharp_scale(original_size, &rule),
        _ => 1.0,
    };
    let (w, h) = loaded_size(original_size, scale);
    limits::check_input(w, h, config)?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| corrupt("SVG size"))?;
    let transform = tiny_skia::Transform::from_scale(
        w as f32 / original_size.0 as f32,
        h as f32 / original_size.1 as f32,
    );
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    // tiny-skia stores premultiplied alpha; the pipeline works on straight alpha.
    let mut rgba = Vec::with_capacity(w as usize * h as usize * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let pixels = RgbaImage::from_raw(w, h, rgba).ok_or_else(|| corrupt("SVG"))?;
    Ok(Decoded {
        picture: Picture::still(pixels, true),
        icc: None,
        exif: None,
        orientation: 1,
        original_size,
    })
}
