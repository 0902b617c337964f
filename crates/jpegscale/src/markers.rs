//! The marker segments before the scan: frame header, tables, restart interval, colour
//! transform hints. Everything outside the fast path is `Unsupported`; anything libjpeg-turbo
//! would refuse or warn about is `Corrupt`.

use crate::huffman::Spec;
use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    /// Quantisation table slot.
    pub tq: u8,
    /// DC and AC Huffman table slots (from the scan header).
    pub td: u8,
    pub ta: u8,
}

/// Chroma subsampling of a supported file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    Gray,
    Yuv444,
    Yuv422,
    Yuv420,
    Yuv440,
}

/// What `probe` reports about a file the fast path can decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub sampling: Sampling,
    /// MCUs per restart interval; 0 when the scan has no restart markers.
    pub restart_interval: u16,
}

impl Header {
    /// The size of the image decoded at 1/`denom` (rounded up, as libjpeg-turbo does).
    pub fn scaled_size(&self, denom: u8) -> (u32, u32) {
        let d = denom.max(1) as u32;
        (self.width.div_ceil(d), self.height.div_ceil(d))
    }
}

/// Everything the decoder needs, with the offset where the entropy-coded data starts.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub comps: Vec<Component>,
    /// Quantisation tables in natural order, as libjpeg-turbo's 16-bit multipliers.
    pub quant: [[i16; 64]; 4],
    pub dc: [Option<Spec>; 4],
    pub ac: [Option<Spec>; 4],
    pub restart: u16,
    pub scan_start: usize,
    pub sampling: Sampling,
}

/// The zigzag sequence of the standard (Figure A.6): position k → natural index.
pub const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
    14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39,
    46, 53, 60, 61, 54, 47, 55, 62, 63,
];

fn be16(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as usize)
}

const TRUNCATED: Error = Error::Corrupt("file ends inside the headers");

/// Reads the headers up to the first scan.
pub fn parse(b: &[u8]) -> Result<Frame, Error> {
    if b.get(..2) != Some(&[0xFF, 0xD8][..]) {
        return Err(Error::Unsupported("not a JPEG file"));
    }
    let mut f = Frame {
        width: 0,
        height: 0,
        comps: Vec::new(),
        quant: [[0; 64]; 4],
        dc: [None, None, None, None],
        ac: [None, None, None, None],
        restart: 0,
        scan_start: 0,
        sampling: Sampling::Gray,
    };
    let mut quant_defined = [false; 4];
    let (mut jfif, mut adobe) = (false, None);
    let mut i = 2;
    loop {
        // A marker: FF, any fill FFs, the code. Other bytes here draw a libjpeg warning.
        if *b.get(i).ok_or(TRUNCATED)? != 0xFF {
            return Err(Error::Corrupt("garbage between markers"));
        }
        while *b.get(i).ok_or(TRUNCATED)? == 0xFF {
            i += 1;
        }
        let code = b[i];
        i += 1;
        if matches!(code, 0x01 | 0xD0..=0xD7) {
            continue; // parameterless, ignored by libjpeg-turbo here
        }
        let len = be16(b, i).ok_or(TRUNCATED)?;
        let seg = b.get(i + 2..i + len.max(2)).ok_or(TRUNCATED)?;
        if len < 2 {
            return Err(Error::Corrupt("bad segment length"));
        }
        match code {
            0xC0 | 0xC1 => {
                if !f.comps.is_empty() {
                    return Err(Error::Corrupt("two frame headers"));
                }
                frame_header(&mut f, seg)?;
            }
            0xC2 | 0xC6 | 0xCA | 0xCE => return Err(Error::Unsupported("progressive JPEG")),
            0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF | 0xCC => {
                return Err(Error::Unsupported(
                    "lossless, hierarchical or arithmetic-coded JPEG",
                ))
            }
            0xC4 => huffman_tables(&mut f, seg)?,
            0xDB => quant_tables(&mut f, &mut quant_defined, seg)?,
            0xDD => {
                if seg.len() != 2 {
                    return Err(Error::Corrupt("bad DRI length"));
                }
                f.restart = u16::from_be_bytes([seg[0], seg[1]]);
            }
            0xE0 => jfif |= seg.len() >= 14 && seg.starts_with(b"JFIF\0"),
            0xEE if seg.len() >= 12 && seg.starts_with(b"Adobe") => adobe = Some(seg[11]),
            0xE1..=0xEF | 0xFE => {}
            0xDA => {
                scan_header(&mut f, &quant_defined, seg)?;
                f.scan_start = i + len;
                f.sampling = color_and_sampling(&f, jfif, adobe)?;
                return Ok(f);
            }
            0xD8 | 0xD9 => return Err(Error::Corrupt("no scan before the end of the image")),
            _ => return Err(Error::Unsupported("unusual marker")),
        }
        i += len;
    }
}

fn frame_header(f: &mut Frame, seg: &[u8]) -> Result<(), Error> {
    if seg.len() < 6 {
        return Err(Error::Corrupt("short frame header"));
    }
    if seg[0] != 8 {
        return Err(Error::Unsupported("not 8 bits per sample"));
    }
    f.height = u16::from_be_bytes([seg[1], seg[2]]) as u32;
    f.width = u16::from_be_bytes([seg[3], seg[4]]) as u32;
    let n = seg[5] as usize;
    if f.height == 0 {
        return Err(Error::Unsupported("height given by a DNL marker"));
    }
    // libjpeg-turbo refuses sides over 65500 (JPEG_MAX_DIMENSION)
    if f.width == 0 || f.width > 65500 || f.height > 65500 || n == 0 || seg.len() != 6 + 3 * n {
        return Err(Error::Corrupt("bad frame header"));
    }
    if n != 1 && n != 3 {
        return Err(Error::Unsupported("not 1 or 3 components"));
    }
    for c in seg[6..].chunks_exact(3) {
        let (h, v, tq) = (c[1] >> 4, c[1] & 15, c[2]);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
            return Err(Error::Corrupt("bad component in the frame header"));
        }
        if f.comps.iter().any(|o| o.id == c[0]) {
            return Err(Error::Corrupt("duplicate component id"));
        }
        f.comps.push(Component {
            id: c[0],
            h,
            v,
            tq,
            td: 0,
            ta: 0,
        });
    }
    Ok(())
}

fn huffman_tables(f: &mut Frame, mut seg: &[u8]) -> Result<(), Error> {
    let bad = Error::Corrupt("bad DHT segment");
    while !seg.is_empty() {
        if seg.len() < 17 {
            return Err(bad);
        }
        let (class, slot) = (seg[0] >> 4, (seg[0] & 15) as usize);
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&seg[1..17]);
        let n: usize = counts.iter().map(|&c| c as usize).sum();
        if n > 256 || slot > 3 || class > 1 || seg.len() < 17 + n {
            return Err(bad);
        }
        let spec = Spec {
            counts,
            symbols: seg[17..17 + n].to_vec(),
        };
        if class == 0 {
            f.dc[slot] = Some(spec);
        } else {
            f.ac[slot] = Some(spec);
        }
        seg = &seg[17 + n..];
    }
    Ok(())
}

fn quant_tables(f: &mut Frame, defined: &mut [bool; 4], mut seg: &[u8]) -> Result<(), Error> {
    while !seg.is_empty() {
        let (wide, slot) = (seg[0] >> 4 != 0, (seg[0] & 15) as usize);
        let size = if wide { 128 } else { 64 };
        if slot > 3 || seg.len() < 1 + size {
            return Err(Error::Corrupt("bad DQT segment"));
        }
        for (k, &nat) in ZIGZAG.iter().enumerate() {
            let v = if wide {
                u16::from_be_bytes([seg[1 + 2 * k], seg[2 + 2 * k]])
            } else {
                seg[1 + k] as u16
            };
            // libjpeg-turbo's SIMD build keeps multipliers as 16-bit signed values.
            f.quant[slot][nat as usize] = v as i16;
        }
        defined[slot] = true;
        seg = &seg[1 + size..];
    }
    Ok(())
}

fn scan_header(f: &mut Frame, quant_defined: &[bool; 4], seg: &[u8]) -> Result<(), Error> {
    if f.comps.is_empty() {
        return Err(Error::Corrupt("scan before the frame header"));
    }
    let n = *seg.first().ok_or(Error::Corrupt("short scan header"))? as usize;
    if seg.len() != 4 + 2 * n {
        return Err(Error::Corrupt("bad scan header length"));
    }
    if n != f.comps.len() {
        return Err(Error::Unsupported("several scans"));
    }
    for (k, c) in seg[1..1 + 2 * n].chunks_exact(2).enumerate() {
        // MCUs follow the scan's component order; the frame's order is the usual one.
        if c[0] != f.comps[k].id {
            return Err(Error::Unsupported("scan components out of frame order"));
        }
        let (td, ta) = (c[1] >> 4, c[1] & 15);
        if td > 3 || ta > 3 {
            return Err(Error::Corrupt("bad Huffman table slot"));
        }
        if f.dc[td as usize].is_none() || f.ac[ta as usize].is_none() {
            // libjpeg-turbo falls back to the standard tables (motion JPEG)
            return Err(Error::Unsupported("scan without Huffman tables"));
        }
        if !quant_defined[f.comps[k].tq as usize] {
            return Err(Error::Corrupt("no quantisation table"));
        }
        f.comps[k].td = td;
        f.comps[k].ta = ta;
    }
    let tail = &seg[1 + 2 * n..];
    if tail != [0, 63, 0] {
        return Err(Error::Corrupt("not a sequential scan"));
    }
    Ok(())
}

/// libjpeg-turbo's colour space guess (JFIF, then Adobe, then component ids), and the
/// samplings the fast path handles.
fn color_and_sampling(f: &Frame, jfif: bool, adobe: Option<u8>) -> Result<Sampling, Error> {
    if f.comps.len() == 1 {
        return Ok(Sampling::Gray);
    }
    let ids = (f.comps[0].id, f.comps[1].id, f.comps[2].id);
    let rgb = if jfif {
        false
    } else if let Some(t) = adobe {
        match t {
            0 => true,
            1 => false,
            _ => return Err(Error::Unsupported("unknown Adobe transform")),
        }
    } else {
        ids == (b'R', b'G', b'B')
    };
    if rgb {
        return Err(Error::Unsupported("RGB JPEG"));
    }
    let (y, cb, cr) = (f.comps[0], f.comps[1], f.comps[2]);
    if y.h > 2 || y.v > 2 || (cb.h, cb.v) != (cr.h, cr.v) || y.h % cb.h != 0 || y.v % cb.v != 0 {
        return Err(Error::Unsupported("unusual chroma sampling"));
    }
    Ok(match (y.h / cb.h, y.v / cb.v) {
        (1, 1) => Sampling::Yuv444,
        (2, 1) => Sampling::Yuv422,
        (1, 2) => Sampling::Yuv440,
        _ => Sampling::Yuv420,
    })
}
