//! The in-memory image every pipeline step works on: one frame for still images, several for
//! animations, always 8-bit RGBA in sRGB (decoders convert; encoders drop alpha when the image
//! is opaque or the format has none).

use image::RgbaImage;

#[derive(Debug, Clone)]
pub struct Frame {
    pub pixels: RgbaImage,
    /// Display time of this frame (animations only).
    pub delay_ms: u32,
}

#[derive(Debug, Clone)]
pub struct Picture {
    /// At least one frame; all frames have the same dimensions.
    pub frames: Vec<Frame>,
    /// Number of plays (0 = forever, as WebP counts); meaningless for stills.
    pub loop_count: u16,
    /// True when the source had an alpha channel (or an edit added one).
    pub has_alpha: bool,
}

impl Picture {
    pub fn still(pixels: RgbaImage, has_alpha: bool) -> Picture {
        Picture {
            frames: vec![Frame { pixels, delay_ms: 0 }],
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

    /// Applies `f` to every frame's pixels.
    pub fn map_frames<E>(
        mut self,
        mut f: impl FnMut(RgbaImage) -> Result<RgbaImage, E>,
    ) -> Result<Picture, E> {
        for frame in &mut self.frames {
            let px = std::mem::take(&mut frame.pixels);
            frame.pixels = f(px)?;
        }
        Ok(self)
    }
}
