//! AVIF and AV1-HEIF originals: the HEIF container ([`container`], [`track`] for image
//! sequences), AV1 through rav1d ([`av1`]) and YUV → RGBA ([`yuv`]).
//!
//! A still is the primary item: an `av01` image or a `grid` of them, with its alpha auxiliary
//! image (`auxl` reference, alpha `auxC`), `irot`/`imir` (returned as the EXIF orientation they
//! amount to, so the pipeline turns the pixels like a JPEG's), and `colr`: an ICC profile is
//! passed on like JPEG's; nclx matrix/range drive the YUV conversion, and wide-gamut primaries
//! (Display P3, BT.2020) become an ICC profile the pipeline converts to sRGB; PQ and HLG are
//! tone-mapped to SDR on the way (`color_profile::cicp_profile`). `clap` crops are not applied.
//! A sequence (`avis`) is its colour track, with the track its alpha `auxl` track refers to.
//! HEVC (`hvc1`) items are HEIC: refused with their own code, no permissive decoder exists.

mod av1;
mod container;
mod track;
mod yuv;

use super::common::{corrupt, Animation, DecodeOptions, Decoded, HeaderInfo};
use crate::error::Error;
use crate::pipeline::picture::{Frame, Picture};
use av1::{Decoder, Planes};
use container::{Meta, Nclx, Property};

/// HEIC (HEVC-coded HEIF) originals: 400 with their own code.
pub fn heic_refused() -> Error {
    Error::bad_request(
        "UnsupportedHeic",
        "HEIC (HEVC-coded HEIF) originals cannot be decoded by this server: no permissively \
         licensed HEVC decoder exists. Convert them to JPEG or AVIF before upload.",
    )
}

/// The file's `meta` and AV1 tracks.
struct Heif<'a> {
    meta: Option<Meta<'a>>,
    tracks: Vec<track::Track>,
}

fn parse(b: &[u8]) -> Result<Heif<'_>, Error> {
    let meta = container::find(b, b"meta").map(Meta::parse).transpose()?;
    let tracks = container::find(b, b"moov").map_or_else(Vec::new, |m| track::tracks(m, b.len()));
    Ok(Heif { meta, tracks })
}

impl Heif<'_> {
    /// The colour track of an image sequence and its alpha track.
    fn sequence(&self) -> Option<(&track::Track, Option<&track::Track>)> {
        let color = self
            .tracks
            .iter()
            .find(|t| t.aux_for.is_none() && !t.samples.is_empty())?;
        let alpha = self.tracks.iter().find(|t| t.aux_for == Some(color.id));
        Some((color, alpha))
    }
}

pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    let heif = parse(b).ok()?;
    if let Some((color, _)) = heif.sequence() {
        return Some(HeaderInfo {
            width: color.size.0,
            height: color.size.1,
            frames: color.samples.len() as u32,
            orientation: 1,
        });
    }
    let meta = heif.meta?;
    let (width, height) = meta.ispe(meta.primary)?;
    Some(HeaderInfo {
        width,
        height,
        frames: 1,
        orientation: orientation(&meta, meta.primary),
    })
}

/// True when the primary item is HEVC-coded (a `mif1` file sniffed as HEIF may be either).
pub(super) fn is_heic(b: &[u8]) -> bool {
    let Ok(Heif { meta: Some(meta), .. }) = parse(b) else {
        return false;
    };
    matches!(meta.item_type(meta.primary), Some(t) if &t == b"hvc1")
        || matches!(meta.item_type(meta.primary), Some(t) if &t == b"grid")
            && meta
                .referred(b"dimg", meta.primary)
                .first()
                .and_then(|&tile| meta.item_type(tile))
                .is_some_and(|t| &t == b"hvc1")
}

pub(super) fn decode(b: &[u8], opts: DecodeOptions, max_pixels: u64) -> Result<Decoded, Error> {
    let heif = parse(b)?;
    if heif.sequence().is_some() {
        return animation(b, max_pixels)?.collect(opts.animated, opts.fail_on);
    }
    if is_heic(b) {
        return Err(heic_refused());
    }
    let meta = heif.meta.ok_or_else(|| corrupt("HEIF without items"))?;
    let id = meta.primary;
    let mut decoder = Decoder::new(max_pixels)?;
    let color = item_planes(&meta, b, id, &mut decoder, max_pixels)?;
    let alpha = meta
        .referring(b"auxl", id)
        .find(|&a| {
            meta.properties(a).any(|p| {
                matches!(p, Property::AuxC(urn) if *urn == b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
                    || *urn == b"urn:mpeg:hevc:2015:auxid:1")
            })
        })
        .map(|a| item_planes(&meta, b, a, &mut Decoder::new(max_pixels)?, max_pixels))
        .transpose()?;
    let (nclx, icc) = colour(meta.properties(id), &color);
    let pixels = yuv::to_rgba(&color, alpha.as_ref(), nclx);
    Ok(Decoded {
        original_size: pixels.dimensions(),
        picture: Picture::still(pixels, alpha.is_some()),
        icc,
        exif: None,
        orientation: orientation(&meta, id),
        damaged: false,
    })
}

/// Item `id`'s planes: one AV1 image, or a `grid` of them composed into its output size.
fn item_planes(meta: &Meta, b: &[u8], id: u32, dec: &mut Decoder, max_pixels: u64) -> Result<Planes, Error> {
    match meta.item_type(id).as_ref() {
        Some(b"av01") => dec.frame(&meta.data(b, id)?),
        Some(b"grid") => grid(meta, b, id, dec, max_pixels),
        Some(b"hvc1") => Err(heic_refused()),
        _ => Err(corrupt("HEIF item of an unknown type")),
    }
}

/// A `grid` item: rows × columns of AV1 tiles, cropped to the grid's output size.
fn grid(meta: &Meta, b: &[u8], id: u32, dec: &mut Decoder, max_pixels: u64) -> Result<Planes, Error> {
    let bad = || corrupt("HEIF grid");
    let g = meta.data(b, id)?;
    let (rows, cols) = (
        *g.get(2).ok_or_else(bad)? as u32 + 1,
        *g.get(3).ok_or_else(bad)? as u32 + 1,
    );
    let read = |at: usize, wide: bool| match wide {
        true => super::common::be32(&g, at),
        false => super::common::be16(&g, at),
    };
    let wide = g.get(1).ok_or_else(bad)? & 1 != 0;
    let step = if wide { 4 } else { 2 };
    let (w, h) = (
        read(4, wide).ok_or_else(bad)?,
        read(4 + step, wide).ok_or_else(bad)?,
    );
    let tiles = meta.referred(b"dimg", id);
    if tiles.len() as u32 != rows * cols || w == 0 || h == 0 || w as u64 * h as u64 > max_pixels {
        return Err(bad());
    }
    let mut canvas: Option<Planes> = None;
    for (i, &tile) in tiles.iter().enumerate() {
        if meta.item_type(tile).as_ref() != Some(b"av01") {
            return Err(bad());
        }
        let t = dec.frame(&meta.data(b, tile)?)?;
        let c = canvas.get_or_insert_with(|| Planes {
            width: w,
            height: h,
            depth: t.depth,
            shift: t.shift,
            planes: Vec::new(),
            nclx: t.nclx,
        });
        if (t.depth, t.shift, t.planes.len()) != (c.depth, c.shift, c.planes.len().max(t.planes.len())) {
            return Err(bad());
        }
        if c.planes.is_empty() {
            let (cw, ch) = c.chroma_size();
            c.planes = (0..t.planes.len())
                .map(|p| {
                    vec![
                        0;
                        if p == 0 {
                            (w * h) as usize
                        } else {
                            (cw * ch) as usize
                        }
                    ]
                })
                .collect();
        }
        let (row, col) = (i as u32 / cols, i as u32 % cols);
        for (p, (src, dst)) in t.planes.iter().zip(&mut c.planes).enumerate() {
            let (sx, sy) = if p == 0 { (0, 0) } else { t.shift };
            let (tw, th) = ((t.width + (1 << sx) - 1) >> sx, (t.height + (1 << sy) - 1) >> sy);
            let (dw, dh) = ((w + (1 << sx) - 1) >> sx, (h + (1 << sy) - 1) >> sy);
            let (x0, y0) = ((col * t.width) >> sx, (row * t.height) >> sy);
            for y in 0..th.min(dh.saturating_sub(y0)) {
                let n = tw.min(dw.saturating_sub(x0)) as usize;
                let from = (y * tw) as usize;
                let to = ((y0 + y) * dw + x0) as usize;
                dst[to..to + n].copy_from_slice(&src[from..from + n]);
            }
        }
    }
    canvas.ok_or_else(bad)
}

/// The EXIF orientation (1–8) that item `id`'s `irot`/`imir` amount to, applied in
/// association order. Transforms are 2×2 matrices on (x, y) with y pointing down.
fn orientation(meta: &Meta, id: u32) -> u8 {
    type M = [[i8; 2]; 2];
    const EXIF: [M; 8] = [
        [[1, 0], [0, 1]],
        [[-1, 0], [0, 1]],
        [[-1, 0], [0, -1]],
        [[1, 0], [0, -1]],
        [[0, 1], [1, 0]],
        [[0, -1], [1, 0]],
        [[0, -1], [-1, 0]],
        [[0, 1], [-1, 0]],
    ];
    let mul = |a: M, b: M| -> M {
        [
            [
                a[0][0] * b[0][0] + a[0][1] * b[1][0],
                a[0][0] * b[0][1] + a[0][1] * b[1][1],
            ],
            [
                a[1][0] * b[0][0] + a[1][1] * b[1][0],
                a[1][0] * b[0][1] + a[1][1] * b[1][1],
            ],
        ]
    };
    let mut m = EXIF[0];
    for p in meta.properties(id) {
        m = match p {
            // Anti-clockwise quarter turns: EXIF 8 is one.
            Property::Irot(n) => (0..*n).fold(m, |m, _| mul(EXIF[7], m)),
            // HEIF's amended `imir`: mode 0 exchanges top and bottom, 1 left and right
            // (libavif's reading too).
            Property::Imir(0) => mul(EXIF[3], m),
            Property::Imir(_) => mul(EXIF[1], m),
            _ => m,
        };
    }
    EXIF.iter().position(|e| *e == m).map_or(1, |i| i as u8 + 1)
}

/// The colour to convert with: the container's nclx (else the sequence header's), and an ICC
/// profile: the `colr` one, or one made from wide-gamut primaries for the pipeline's
/// conversion to sRGB.
fn colour<'a>(props: impl Iterator<Item = &'a Property<'a>>, planes: &Planes) -> (Nclx, Option<Vec<u8>>) {
    let (mut nclx, mut icc) = (None, None);
    for p in props {
        match p {
            Property::Nclx(n) => nclx = nclx.or(Some(*n)),
            Property::Icc(i) => icc = icc.or(Some(i.to_vec())),
            _ => {}
        }
    }
    let nclx = nclx.unwrap_or(planes.nclx);
    (nclx, icc.or_else(|| icc_for(nclx)))
}

/// The ICC profile nclx code points amount to, for the pipeline's conversion to sRGB.
fn icc_for(nclx: Nclx) -> Option<Vec<u8>> {
    crate::pipeline::color_profile::cicp_profile(nclx.primaries, nclx.transfer, nclx.full_range)
}

/// An image sequence, one frame at a time: the colour track's samples through one decoder,
/// the alpha track's through another.
pub(super) fn animation(b: &[u8], max_pixels: u64) -> Result<Animation<'_>, Error> {
    let heif = parse(b)?;
    let (color, alpha) = heif
        .sequence()
        .ok_or_else(|| corrupt("AVIF sequence without a track"))?;
    let size = color.size;
    let samples = color.samples.clone();
    let delays = color.delays_ms.clone();
    let alpha_samples = alpha.map(|a| a.samples.clone());
    let track_colour = (color.nclx, color.icc.clone());
    let mut decoders = (
        Decoder::new(max_pixels)?,
        alpha.map(|_| Decoder::new(max_pixels)).transpose()?,
    );
    let mut icc = track_colour.1.clone();
    if icc.is_none() {
        icc = track_colour.0.and_then(icc_for);
    }
    let sample = move |(offset, len): (u64, u64)| -> Result<&[u8], Error> {
        let start = usize::try_from(offset).map_err(|_| corrupt("AVIF sample"))?;
        let end = start.saturating_add(usize::try_from(len).map_err(|_| corrupt("AVIF sample"))?);
        b.get(start..end)
            .ok_or_else(|| super::common::truncated("an AVIF sample ends past the end of the file"))
    };
    let frames = (0..samples.len()).map(move |i| {
        let planes = decoders.0.frame(sample(samples[i])?)?;
        let alpha = match (&mut decoders.1, alpha_samples.as_ref().and_then(|s| s.get(i))) {
            (Some(dec), Some(&s)) => Some(dec.frame(sample(s)?)?),
            _ => None,
        };
        if (planes.width, planes.height) != size {
            return Err(corrupt("AVIF frame size differs from its track's"));
        }
        let nclx = track_colour.0.unwrap_or(planes.nclx);
        Ok(Frame::new(
            yuv::to_rgba(&planes, alpha.as_ref(), nclx),
            delays.get(i).copied().unwrap_or(0),
        ))
    });
    Ok(Animation {
        size,
        loop_count: 0,
        icc,
        exif: None,
        orientation: 1,
        damaged: false,
        frames: Box::new(frames),
    })
}
