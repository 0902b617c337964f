//! `resize`: scale with fast_image_resize (SIMD convolution, Lanczos3 by default, alpha
//! premultiplied), then crop (`cover`, by gravity, entropy or attention) or embed (`contain`,
//! on `background`) to the canvas sharp would produce (see geometry.rs).

use super::context::{check_output_size, OpContext};
use super::geometry::{self, Plan};
use crate::edits::{Color, Fit, Position, Resize};
use crate::error::Error;
use crate::pipeline::picture::{Picture, Pixels};
use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{Rgb, RgbImage, Rgba, RgbaImage};

/// Where a `cover` crop or a `contain` embed sits: sharp's gravities (0 = centre, 1 = north,
/// 2 = east, 3 = south, 4 = west, 5–8 = the corners), or a content-aware strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gravity {
    Fixed(u8),
    Entropy,
    Attention,
}

impl Gravity {
    /// sharp's position names and numeric constants (`sharp.gravity`, `sharp.strategy`).
    pub fn parse(p: &Position) -> Result<Gravity, Error> {
        let g = match p {
            Position::Code(c @ 0..=8) => Gravity::Fixed(*c as u8),
            Position::Code(16) => Gravity::Entropy,
            Position::Code(17) => Gravity::Attention,
            Position::Name(n) => match n.as_str() {
                "centre" | "center" => Gravity::Fixed(0),
                "north" | "top" => Gravity::Fixed(1),
                "east" | "right" => Gravity::Fixed(2),
                "south" | "bottom" => Gravity::Fixed(3),
                "west" | "left" => Gravity::Fixed(4),
                "northeast" | "right top" => Gravity::Fixed(5),
                "southeast" | "right bottom" => Gravity::Fixed(6),
                "southwest" | "left bottom" => Gravity::Fixed(7),
                "northwest" | "left top" => Gravity::Fixed(8),
                "entropy" => Gravity::Entropy,
                "attention" => Gravity::Attention,
                _ => return Err(Error::invalid_edit("resize", format!("unknown position {n:?}"))),
            },
            Position::Code(c) => return Err(Error::invalid_edit("resize", format!("unknown position {c}"))),
        };
        Ok(g)
    }
}

/// sharp's kernel names mapped to fast_image_resize filters. fast_image_resize has no Lanczos2
/// or Magic Kernel, so those use Lanczos3, the closest sharp-quality filter it has.
fn algorithm(kernel: Option<&str>) -> Result<ResizeAlg, Error> {
    let f = match kernel.unwrap_or("lanczos3") {
        "nearest" => return Ok(ResizeAlg::Nearest),
        "linear" => FilterType::Bilinear,
        "cubic" => FilterType::CatmullRom,
        "mitchell" => FilterType::Mitchell,
        "lanczos2" | "lanczos3" | "mks2013" | "mks2021" => FilterType::Lanczos3,
        other => return Err(Error::invalid_edit("resize", format!("unknown kernel {other:?}"))),
    };
    Ok(ResizeAlg::Convolution(f))
}

pub fn apply(resize: &Resize, pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    let (plan_w, plan_h) = ctx.first_resize_from.unwrap_or((pic.width(), pic.height()));
    let plan = geometry::plan(resize, plan_w, plan_h, ctx.original_size)?;
    check_output_size("resize", plan.canvas, ctx)?;
    let gravity = match &resize.position {
        Some(p) => Gravity::parse(p)?,
        None => Gravity::Fixed(0),
    };
    let alg = algorithm(resize.kernel.as_deref())?;
    let background = resize.background.unwrap_or(Color::BLACK);
    let mut resizer = Resizer::new();
    let has_alpha = pic.has_alpha;
    let (in_w, in_h) = (pic.width(), pic.height());
    let mut pic = match (plan.fit, gravity) {
        // A gravity crop of the scaled image is resampled straight from the matching source
        // box: same pixels as scaling everything then cropping, without allocating a scaled
        // image that can be far larger than the output (1×1000 → cover 1000×1).
        (Fit::Cover, Gravity::Fixed(g)) if plan.scaled != plan.canvas => {
            let (sw, sh) = plan.scaled;
            let (cw, ch) = plan.canvas;
            let (left, top) = crop_position(sw, sh, cw, ch, g);
            let (fx, fy) = (in_w as f64 / sw as f64, in_h as f64 / sh as f64);
            let (bx, by) = (left as f64 * fx, top as f64 * fy);
            // Clamped: float error must not push the box past the source edge.
            let bw = (cw as f64 * fx).min(in_w as f64 - bx);
            let bh = (ch as f64 * fy).min(in_h as f64 - by);
            let opts = ResizeOptions::new()
                .resize_alg(alg)
                .use_alpha(has_alpha)
                .crop(bx, by, bw, bh);
            pic.map_pixels(|px| resample_with(&mut resizer, px, plan.canvas, &opts))?
        }
        _ => {
            // Content-aware crops need the whole scaled image.
            check_output_size("resize", plan.scaled, ctx)?;
            let opts = ResizeOptions::new().resize_alg(alg).use_alpha(has_alpha);
            pic.map_pixels(|px| {
                let scaled = match px.dimensions() == plan.scaled {
                    true => px,
                    false => resample_with(&mut resizer, px, plan.scaled, &opts)?,
                };
                Ok::<_, Error>(fit_canvas(scaled, &plan, gravity, background))
            })?
        }
    };
    if plan.fit == Fit::Contain && plan.canvas != plan.scaled && background.alpha < 1.0 {
        pic.has_alpha = true;
    }
    Ok(pic)
}

/// Resamples RGBA pixels with the default kernel (overlays and other steps that scale).
pub fn resample_default(px: RgbaImage, size: (u32, u32), has_alpha: bool) -> Result<RgbaImage, Error> {
    if px.dimensions() == size {
        return Ok(px);
    }
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(has_alpha);
    match resample_with(&mut Resizer::new(), Pixels::Rgba(px), size, &opts)? {
        Pixels::Rgba(px) => Ok(px),
        Pixels::Rgb(_) => Err(Error::internal()),
    }
}

/// Scales `px` to `size` in its own layout (three channels for opaque images).
fn resample_with(
    resizer: &mut Resizer,
    px: Pixels,
    size: (u32, u32),
    opts: &ResizeOptions,
) -> Result<Pixels, Error> {
    let (w, h) = px.dimensions();
    let kind = match px.channels() {
        3 => PixelType::U8x3,
        _ => PixelType::U8x4,
    };
    let raw = match px {
        Pixels::Rgb(p) => p.into_raw(),
        Pixels::Rgba(p) => p.into_raw(),
    };
    let src = Image::from_vec_u8(w, h, raw, kind).map_err(|_| Error::internal())?;
    let mut dst = Image::new(size.0, size.1, kind);
    resizer
        .resize(&src, &mut dst, opts)
        .map_err(|_| Error::internal())?;
    let out = dst.into_vec();
    match kind {
        PixelType::U8x3 => RgbImage::from_raw(size.0, size.1, out).map(Pixels::Rgb),
        _ => RgbaImage::from_raw(size.0, size.1, out).map(Pixels::Rgba),
    }
    .ok_or_else(Error::internal)
}

fn fit_canvas(px: Pixels, plan: &Plan, gravity: Gravity, background: Color) -> Pixels {
    let (w, h) = px.dimensions();
    let (cw, ch) = plan.canvas;
    if (w, h) == (cw, ch) {
        return px;
    }
    match plan.fit {
        Fit::Cover => {
            let (left, top) = match gravity {
                Gravity::Fixed(g) => crop_position(w, h, cw, ch, g),
                Gravity::Entropy => super::smart::entropy_crop(&px.to_rgba(), cw, ch),
                Gravity::Attention => super::smart::attention_crop(&px.to_rgba(), cw, ch),
            };
            crate::each_layout!(px, px => image::imageops::crop_imm(&px, left, top, cw, ch).to_image())
        }
        _ => {
            let g = match gravity {
                Gravity::Fixed(g) => g,
                _ => 0,
            };
            let (left, top) = embed_position(w, h, cw, ch, g);
            let bg = background.to_rgba8();
            match px {
                // An opaque background keeps an opaque image three-channel.
                Pixels::Rgb(px) if bg[3] == 255 => {
                    let mut canvas = RgbImage::from_pixel(cw, ch, Rgb([bg[0], bg[1], bg[2]]));
                    image::imageops::replace(&mut canvas, &px, left as i64, top as i64);
                    Pixels::Rgb(canvas)
                }
                px => {
                    let mut canvas = RgbaImage::from_pixel(cw, ch, Rgba(bg));
                    image::imageops::replace(&mut canvas, &px.into_rgba(), left as i64, top as i64);
                    Pixels::Rgba(canvas)
                }
            }
        }
    }
}

/// sharp's `CalculateCrop`: where a `ow`×`oh` window sits in a `iw`×`ih` image.
pub fn crop_position(iw: u32, ih: u32, ow: u32, oh: u32, gravity: u8) -> (u32, u32) {
    let (dx, dy) = (iw - ow, ih - oh);
    // sharp rounds the centre up when cropping and down when embedding.
    place(dx, dy, (dx.div_ceil(2), dy.div_ceil(2)), gravity)
}

/// sharp's `CalculateEmbedPosition`: where a `iw`×`ih` image sits on a `ow`×`oh` canvas.
pub fn embed_position(iw: u32, ih: u32, ow: u32, oh: u32, gravity: u8) -> (u32, u32) {
    let (dx, dy) = (ow - iw, oh - ih);
    place(dx, dy, (dx / 2, dy / 2), gravity)
}

/// Offset for a gravity (sharp's numbering: 1 north, 2 east, 3 south, 4 west, 5 north-east,
/// 6 south-east, 7 south-west, 8 north-west, else centre) given the slack and the centre.
fn place(dx: u32, dy: u32, (cx, cy): (u32, u32), gravity: u8) -> (u32, u32) {
    match gravity {
        1 => (cx, 0),
        2 => (dx, cy),
        3 => (cx, dy),
        4 => (0, cy),
        5 => (dx, 0),
        6 => (dx, dy),
        7 => (0, dy),
        8 => (0, 0),
        _ => (cx, cy),
    }
}
