//! The in-memory image every pipeline step works on: one frame for still images, several for
//! animations, 8-bit sRGB. Opaque images stay three-channel RGB from decode through resize to
//! encode (a quarter less memory and work than RGBA, as libvips does); a step that needs alpha
//! asks for RGBA and the frame is widened once, in place.

use image::{ImageBuffer, RgbImage, RgbaImage};

/// A frame's pixels: RGB while the image is opaque and no step needed more, else RGBA.
#[derive(Debug, Clone)]
pub enum Pixels {
    Rgb(RgbImage),
    Rgba(RgbaImage),
}

/// Runs the same expression on either layout and keeps the layout:
/// `each_layout!(pixels, px => imageops::rotate90(&px))`. For steps that treat channels alike
/// (resampling, crops, right-angle turns), written once for both.
#[macro_export]
macro_rules! each_layout {
    ($pixels:expr, $px:ident => $e:expr) => {
        match $pixels {
            $crate::pipeline::picture::Pixels::Rgb($px) => $crate::pipeline::picture::Pixels::Rgb($e),
            $crate::pipeline::picture::Pixels::Rgba($px) => $crate::pipeline::picture::Pixels::Rgba($e),
        }
    };
}

impl Default for Pixels {
    fn default() -> Self {
        Pixels::Rgba(RgbaImage::default())
    }
}

impl Pixels {
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Pixels::Rgb(p) => p.dimensions(),
            Pixels::Rgba(p) => p.dimensions(),
        }
    }

    pub fn width(&self) -> u32 {
        self.dimensions().0
    }

    pub fn height(&self) -> u32 {
        self.dimensions().1
    }

    /// The RGBA view, widening an RGB frame in place first.
    pub fn rgba(&mut self) -> &mut RgbaImage {
        if let Pixels::Rgb(rgb) = self {
            *self = Pixels::Rgba(widen(rgb));
        }
        match self {
            Pixels::Rgba(p) => p,
            Pixels::Rgb(_) => unreachable!("widened above"),
        }
    }

    /// The pixels as RGBA, by value.
    pub fn into_rgba(mut self) -> RgbaImage {
        std::mem::take(self.rgba())
    }

    /// An RGBA copy for readers that only hold a shared reference (detectors, statistics).
    pub fn to_rgba(&self) -> std::borrow::Cow<'_, RgbaImage> {
        match self {
            Pixels::Rgb(p) => std::borrow::Cow::Owned(widen(p)),
            Pixels::Rgba(p) => std::borrow::Cow::Borrowed(p),
        }
    }

    pub fn channels(&self) -> usize {
        match self {
            Pixels::Rgb(_) => 3,
            Pixels::Rgba(_) => 4,
        }
    }
}

fn widen(rgb: &RgbImage) -> RgbaImage {
    let (w, h) = rgb.dimensions();
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    for p in rgb.as_raw().chunks_exact(3) {
        out.extend_from_slice(&[p[0], p[1], p[2], 255]);
    }
    ImageBuffer::from_raw(w, h, out).expect("4 bytes per pixel")
}

/// An image buffer of either layout can be stored as a frame.
pub trait IntoPixels {
    fn into_pixels(self) -> Pixels;
}

impl IntoPixels for RgbImage {
    fn into_pixels(self) -> Pixels {
        Pixels::Rgb(self)
    }
}

impl IntoPixels for RgbaImage {
    fn into_pixels(self) -> Pixels {
        Pixels::Rgba(self)
    }
}

impl IntoPixels for Pixels {
    fn into_pixels(self) -> Pixels {
        self
    }
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub pixels: Pixels,
    /// Display time of this frame (animations only).
    pub delay_ms: u32,
}

impl Frame {
    pub fn new(pixels: impl IntoPixels, delay_ms: u32) -> Frame {
        Frame {
            pixels: pixels.into_pixels(),
            delay_ms,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Picture {
    /// At least one frame; all frames have the same dimensions.
    pub frames: Vec<Frame>,
    /// Number of plays (0 = forever, as WebP counts); meaningless for stills.
    pub loop_count: u16,
    /// True when the source had an alpha channel (or an edit added one). An RGB frame is
    /// always opaque; an RGBA one may be opaque too (a step widened it).
    pub has_alpha: bool,
}

impl Picture {
    pub fn still(pixels: impl IntoPixels, has_alpha: bool) -> Picture {
        Picture {
            frames: vec![Frame::new(pixels, 0)],
            loop_count: 0,
            has_alpha,
        }
    }

    pub fn width(&self) -> u32 {
        self.frames[0].pixels.width()
    }

    pub fn height(&self) -> u32 {
        self.frames[0].pixels.height()
    }

    pub fn is_animated(&self) -> bool {
        self.frames.len() > 1
    }

    /// Applies `f` to every frame's pixels as RGBA (RGB frames are widened first): for steps
    /// that read or write alpha, or that are written for one layout only.
    pub fn map_frames<E>(
        mut self,
        mut f: impl FnMut(RgbaImage) -> Result<RgbaImage, E>,
    ) -> Result<Picture, E> {
        for frame in &mut self.frames {
            let px = std::mem::take(&mut frame.pixels).into_rgba();
            frame.pixels = Pixels::Rgba(f(px)?);
        }
        Ok(self)
    }

    /// Applies `f` to every frame's pixels in their own layout.
    pub fn map_pixels<E>(mut self, mut f: impl FnMut(Pixels) -> Result<Pixels, E>) -> Result<Picture, E> {
        for frame in &mut self.frames {
            let px = std::mem::take(&mut frame.pixels);
            frame.pixels = f(px)?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_frames_widen_to_opaque_rgba_once() {
        let mut px = Pixels::Rgb(RgbImage::from_raw(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap());
        assert_eq!(px.channels(), 3);
        assert_eq!(px.rgba().as_raw(), &[1, 2, 3, 255, 4, 5, 6, 255]);
        assert_eq!(px.channels(), 4);
        assert_eq!(px.dimensions(), (2, 1));
    }
}
