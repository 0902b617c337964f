//! SVG: decode only (rendered by resvg at its own size). There is no binary header to read:
//! the size limit is checked once the document is parsed, before any pixel is drawn.

use super::common::{corrupt, Decoded};
use crate::error::Error;
use crate::pipeline::limits;
use crate::pipeline::picture::Picture;
use crate::pipeline::settings::PipelineSettings;
use image::RgbaImage;

fn parse(bytes: &[u8]) -> Result<resvg::usvg::Tree, Error> {
    use resvg::usvg;
    let mut options = usvg::Options::default();
    // Never read files or follow links named inside a user's SVG: only inline data: images.
    options.image_href_resolver = usvg::ImageHrefResolver {
        resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
        resolve_string: Box::new(|_, _| None),
    };
    usvg::Tree::from_data(bytes, &options).map_err(|e| corrupt(&format!("SVG: {e}")))
}

/// The size the document renders at (for the memory estimate, before rendering).
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    let size = parse(bytes).ok()?.size().to_int_size();
    Some((size.width(), size.height()))
}

pub(super) fn decode(bytes: &[u8], config: &PipelineSettings) -> Result<Decoded, Error> {
    use resvg::tiny_skia;
    let tree = parse(bytes)?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    limits::check_input(w, h, config)?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| corrupt("SVG size"))?;
    resvg::render(&tree, tiny_skia::Transform::identity(), &mut pixmap.as_mut());
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
        original_size: (w, h),
        damaged: false,
    })
}
