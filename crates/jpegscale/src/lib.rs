//! Baseline JPEG decoding at 1/2, 1/4 and 1/8 scale that matches libjpeg-turbo's scaled decode
//! (`scale_num/scale_denom`, islow IDCT, fancy upsampling, RGB output) and can use several
//! threads for one image.
//!
//! It covers what cameras and phones write: baseline or extended Huffman-coded 8-bit JPEGs with
//! one scan, grayscale or YCbCr with 4:4:4, 4:2:2, 4:2:0 or 4:4:0 chroma. Anything else is
//! [`Error::Unsupported`], and anything damaged, or that libjpeg-turbo would only decode with a
//! warning, is [`Error::Corrupt`]: the caller then decodes the file with libjpeg-turbo, which
//! gives its own answer. This decoder never returns pixels libjpeg-turbo would not.
//!
//! Work is bounded by the output: the Huffman decoder keeps only the coefficients the scaled
//! IDCT reads (DC alone at 1/8), and memory is the output buffer, one MCU row per thread and,
//! for the speculative split, at most about the output's size again.

mod bits;
mod color;
#[cfg(target_arch = "x86_64")]
mod color_sse2;
mod entropy;
mod geometry;
mod huffman;
mod idct;
#[cfg(target_arch = "x86_64")]
mod idct_sse2;
mod markers;
mod parallel;
mod serial;
mod spec;
mod strip;

pub use markers::{Header, Sampling};

/// Why the fast path did not decode a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A valid JPEG this decoder does not handle (progressive, 12-bit, CMYK, several scans…).
    Unsupported(&'static str),
    /// Damaged or malformed data, or data libjpeg-turbo would warn about.
    Corrupt(&'static str),
    /// More pixels than the caller's limit.
    TooLarge,
    /// A scale other than 1/2, 1/4, 1/8, or an output buffer too small for the image.
    BadArguments(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported(why) => write!(f, "unsupported JPEG: {why}"),
            Error::Corrupt(why) => write!(f, "corrupt JPEG: {why}"),
            Error::TooLarge => f.write_str("JPEG larger than the pixel limit"),
            Error::BadArguments(why) => write!(f, "bad arguments: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// How to decode.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// 2, 4 or 8: the output is 1/`denom` of the image in each direction, rounded up.
    pub denom: u8,
    /// Threads to use for this image (1: the calling thread only).
    pub threads: usize,
    /// Largest image (full-size width × height) to accept.
    pub max_pixels: u64,
}

/// How an image was decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub width: u32,
    pub height: u32,
    pub mode: Mode,
    /// Threads that decoded entropy-coded data.
    pub threads: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Serial,
    /// Restart intervals shared between threads.
    Restart,
    /// No restart markers: the data split at byte offsets and decoded speculatively.
    Speculative,
}

/// The file's header when the fast path can decode it, else None.
pub fn probe(bytes: &[u8]) -> Option<Header> {
    header(bytes).ok()
}

/// The file's header, or why the fast path cannot decode it.
pub fn header(bytes: &[u8]) -> Result<Header, Error> {
    let f = markers::parse(bytes)?;
    // the geometry checks the sampling factors further
    geometry::geometry(&f, 8)?;
    Ok(Header {
        width: f.width,
        height: f.height,
        sampling: f.sampling,
        restart_interval: f.restart,
    })
}

/// Decodes `bytes` at 1/`opts.denom` into `out`: RGB, 3 bytes a pixel, rows `stride` bytes
/// apart (at least 3 × width). On an error `out` holds unspecified pixels.
pub fn decode_scaled(bytes: &[u8], opts: &Options, out: &mut [u8], stride: usize) -> Result<Info, Error> {
    let f = markers::parse(bytes)?;
    if f.width as u64 * f.height as u64 > opts.max_pixels {
        return Err(Error::TooLarge);
    }
    let geo = geometry::geometry(&f, opts.denom)?;
    let (w, h) = (geo.out_w, geo.out_h);
    if stride < 3 * w || out.len() < stride * (h - 1) + 3 * w {
        return Err(Error::BadArguments("output buffer too small"));
    }
    let tables = entropy::Tables::new(&f, &geo)?;
    let job = serial::Job {
        geo: &geo,
        tables: &tables,
        raw: bytes,
        restart: f.restart as usize,
    };
    let (mode, threads) = parallel::decode(&job, f.scan_start, opts.threads, out, stride)?;
    Ok(Info {
        width: w as u32,
        height: h as u32,
        mode,
        threads,
    })
}
