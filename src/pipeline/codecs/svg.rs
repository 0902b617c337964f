//! SVG: decode only, rendered by resvg at the scale sharp asks librsvg for (1/shrink of the
//! first resize, enlarging too), else at its own size. There is no binary header to read: the
//! size limit is checked once the document is parsed, before any pixel is drawn.

use super::common::{corrupt, DecodeOptions, Decoded, HeaderInfo, Keep, ShrinkRule};
use super::{gif, jpeg, png, webp};
use crate::error::Error;
use crate::pipeline::limits;
use crate::pipeline::picture::Picture;
use crate::pipeline::settings::PipelineSettings;
use crate::pipeline::sniff::{sniff, InputFormat};
use image::RgbaImage;
use std::sync::{Arc, Mutex};

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

fn parse(bytes: &[u8], config: &PipelineSettings) -> Result<resvg::usvg::Tree, Error> {
    use resvg::usvg;
    let refused: Arc<Mutex<Option<Error>>> = Arc::default();
    // `<text>` is drawn with the bundled font, never a system one (see `pipeline::fonts`).
    let mut options = crate::pipeline::fonts::svg_options();
    // Never read files or follow links named inside a user's SVG: only inline data: images, and
    // only those whose header passes the checks an original passes (a broken one made usvg
    // panic, a huge one would be a decompression bomb drawn at render time).
    let (seen, limits) = (refused.clone(), config.clone());
    let default_data = usvg::ImageHrefResolver::default_data_resolver();
    options.image_href_resolver = usvg::ImageHrefResolver {
        resolve_data: Box::new(move |mime, data, opts| match embedded_check(&data, &limits) {
            Ok(()) => default_data(mime, data, opts),
            Err(e) => {
                if let Ok(mut first) = seen.lock() {
                    first.get_or_insert(e);
                }
                None
            }
        }),
        resolve_string: Box::new(|_, _| None),
    };
    // usvg may still panic on input its own checks miss; that is a bad original, not a crash.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        usvg::Tree::from_data(bytes, &options)
    }));
    if let Some(e) = refused.lock().ok().and_then(|mut r| r.take()) {
        return Err(e);
    }
    parsed
        .map_err(|_| corrupt("SVG"))?
        .map_err(|e| corrupt(&format!("SVG: {e}")))
}

/// The size the document renders at (for the memory estimate, before rendering).
pub fn size(bytes: &[u8], config: &PipelineSettings) -> Option<(u32, u32)> {
    let size = parse(bytes, config).ok()?.size().to_int_size();
    Some((size.width(), size.height()))
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions, config: &PipelineSettings) -> Result<Decoded, Error> {
    use resvg::tiny_skia;
    let tree = parse(bytes, config)?;
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
        damaged: false,
    })
}

/// An image embedded in an SVG as `data:`: a nested SVG (checked by the same resolver when it is
/// parsed), or a raster whose header reads and whose size is within `MAX_INPUT_PIXELS`.
fn embedded_check(data: &[u8], config: &PipelineSettings) -> Result<(), Error> {
    let header: Option<HeaderInfo> = match sniff(data) {
        Some(InputFormat::Svg) => return Ok(()),
        Some(InputFormat::Jpeg) => jpeg::read_header(data),
        Some(InputFormat::Png) => png::read_header(data),
        Some(InputFormat::Gif) => gif::read_header(data),
        Some(InputFormat::Webp) => webp::read_header(data),
        _ => None,
    };
    let info = header
        .filter(|i| i.width > 0 && i.height > 0)
        .ok_or_else(|| corrupt("SVG embeds an image that cannot be read"))?;
    limits::check_input(info.width, info.height, config)
}
