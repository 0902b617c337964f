//! `textOverlay`: one line of text in the bundled font (`pipeline::fonts`), laid out and drawn
//! by resvg from a small SVG document, then composited over every frame like `overlayWith`.
//! The user's text is XML-escaped element content, so it can only ever be glyphs; only the part
//! of the text's box that falls inside the image is rasterised, so a huge size costs no more
//! than the image itself.

use super::overlay::{draw_over, position};
use crate::edits::{Color, TextOverlay};
use crate::error::Error;
use crate::pipeline::fonts;
use crate::pipeline::picture::Picture;
use image::RgbaImage;
use resvg::{tiny_skia, usvg};

pub fn text_overlay(t: &TextOverlay, pic: Picture) -> Result<Picture, Error> {
    let (bw, bh) = (pic.width(), pic.height());
    let size = t.size()?.pixels(bw);
    let keep = t.transparency()? * t.color.unwrap_or(Color::WHITE).alpha;
    let [r, g, b, _] = t.color.unwrap_or(Color::WHITE).to_rgba8();
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><text x="0" y="0" font-size="{size}" fill="rgb({r},{g},{b})" xml:space="preserve">{}</text></svg>"#,
        escape_xml(&t.text)
    );
    let tree = usvg::Tree::from_str(&svg, &fonts::svg_options())
        .map_err(|e| Error::invalid_edit("textOverlay", format!("text cannot be laid out: {e}")))?;
    // The box is the ink's (the glyph outlines, not the line's ascent and advance), in whole
    // pixels, so `left: 0, top: 0` puts the first stroke in the corner.
    let ink = tree
        .root()
        .children()
        .iter()
        .find_map(|n| match n {
            usvg::Node::Text(t) => Some(t.flattened().abs_bounding_box()),
            _ => None,
        })
        .unwrap_or_else(|| tree.root().abs_bounding_box());
    let (ix, iy) = (ink.left().floor() as f64, ink.top().floor() as f64);
    let w = (ink.right().ceil() as f64 - ix).clamp(0.0, u32::MAX as f64) as u32;
    let h = (ink.bottom().ceil() as f64 - iy).clamp(0.0, u32::MAX as f64) as u32;
    if w == 0 || h == 0 {
        // Only spaces: nothing to draw.
        return Ok(pic);
    }
    let (x, y) = match (&t.left, &t.top) {
        (None, None) => (centred(bw, w), centred(bh, h)),
        (Some(l), Some(tp)) => (
            position("textOverlay", l, bw, w)?,
            position("textOverlay", tp, bh, h)?,
        ),
        _ => {
            return Err(Error::invalid_edit(
                "textOverlay",
                "give both left and top, or neither",
            ))
        }
    };
    let (x0, y0) = (x.max(0), y.max(0));
    let (x1, y1) = ((x + w as i64).min(bw as i64), (y + h as i64).min(bh as i64));
    if x1 <= x0 || y1 <= y0 {
        return Ok(pic);
    }
    let (vw, vh) = ((x1 - x0) as u32, (y1 - y0) as u32);
    let mut pixmap = tiny_skia::Pixmap::new(vw, vh)
        .ok_or_else(|| Error::invalid_edit("textOverlay", "text box too large"))?;
    let shift =
        tiny_skia::Transform::from_translate((x - x0) as f32 - ix as f32, (y - y0) as f32 - iy as f32);
    resvg::render(&tree, shift, &mut pixmap.as_mut());
    // tiny-skia is premultiplied; the colour's own alpha and `alpha` fade the coverage.
    let mut rgba = Vec::with_capacity(vw as usize * vh as usize * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        let a = (c.alpha() as f64 * keep).round() as u8;
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), a]);
    }
    let ovl = RgbaImage::from_raw(vw, vh, rgba)
        .ok_or_else(|| Error::invalid_edit("textOverlay", "text box too large"))?;
    pic.map_frames(|mut px| {
        draw_over(&mut px, &ovl, x0, y0);
        Ok(px)
    })
}

/// Centred as `overlayWith` centres (odd remainders to the right/bottom); may be negative when
/// the text is larger than the image.
fn centred(base: u32, size: u32) -> i64 {
    let d = base as i64 - size as i64;
    if d >= 0 {
        (d + 1) / 2
    } else {
        d / 2
    }
}

/// Element content escaping: the text cannot close the element or start markup.
fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape_xml(r#"</text><rect width="9"/>&"#),
            "&lt;/text&gt;&lt;rect width=&quot;9&quot;/&gt;&amp;"
        );
        assert_eq!(centred(10, 3), 4);
        assert_eq!(centred(3, 10), -3);
    }
}
