//! AV1 decoding through rav1d's dav1d-compatible API (the crate exposes no other public one).
//!
//! rav1d's entry points are `extern "C"`: a panic inside one aborts the process instead of
//! unwinding, so nothing here can catch a decoder bug the way mozjpeg's panics are caught.
//! rav1d is a memory-safe port of dav1d (fuzzed upstream); the container walk in front of it
//! refuses oversized frames (`frame_size_limit`) before any pixel is allocated.

use super::container::Nclx;
use crate::error::Error;
use crate::pipeline::codecs::common::corrupt;
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture, dav1d_open,
    dav1d_picture_unref, dav1d_send_data,
};
use std::ptr::NonNull;

/// One decoded frame's planes, every sample widened to u16 (`depth` bits significant).
pub(super) struct Planes {
    pub width: u32,
    pub height: u32,
    pub depth: u8,
    /// Chroma subsampling shifts (x, y): (1, 1) for 4:2:0, (1, 0) 4:2:2, (0, 0) 4:4:4.
    pub shift: (u8, u8),
    /// Y, then U and V unless the frame is monochrome.
    pub planes: Vec<Vec<u16>>,
    /// Colour as the sequence header states it (the container's `colr` takes precedence).
    pub nclx: Nclx,
}

impl Planes {
    pub fn chroma_size(&self) -> (u32, u32) {
        let (sx, sy) = self.shift;
        ((self.width + sx as u32) >> sx, (self.height + sy as u32) >> sy)
    }
}

/// An open rav1d decoder; frames of one sequence go through the same one, in order.
pub(super) struct Decoder(Dav1dContext);

impl Decoder {
    /// `max_pixels` is the largest frame (width × height) the decoder may allocate.
    pub fn new(max_pixels: u64) -> Result<Decoder, Error> {
        let mut settings = std::mem::MaybeUninit::<Dav1dSettings>::uninit();
        let mut ctx: Option<Dav1dContext> = None;
        // SAFETY: `settings` is written whole by dav1d_default_settings before it is read;
        // `ctx` receives the context, closed in Drop.
        unsafe {
            dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
            let mut settings = settings.assume_init();
            // One frame in flight: each sample gives its picture at once (no draining), as
            // libavif configures dav1d.
            settings.max_frame_delay = 1;
            settings.frame_size_limit = max_pixels.min(u32::MAX as u64) as u32;
            // No logging to stderr: a bad file is the caller's answer, not a server log line.
            // The logger type is not exported; all-zero is its (no cookie, no callback) value,
            // both fields being options of pointers.
            settings.logger = std::mem::zeroed();
            let r = dav1d_open(NonNull::new(&mut ctx), NonNull::new(&mut settings));
            if r.0 != 0 {
                return Err(Error::internal());
            }
        }
        ctx.map(Decoder).ok_or_else(Error::internal)
    }

    /// Decodes one temporal unit (an image item's data, or one sample of a sequence).
    pub fn frame(&mut self, bytes: &[u8]) -> Result<Planes, Error> {
        let mut data = Data(Dav1dData::default());
        // SAFETY: dav1d_data_create allocates `bytes.len()` bytes owned by `data` (released by
        // its Drop) and returns a pointer to them, or null.
        unsafe {
            let ptr = dav1d_data_create(NonNull::new(&mut data.0), bytes.len());
            if ptr.is_null() {
                return Err(corrupt("AV1 data"));
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        }
        let mut picture = Picture(Dav1dPicture::default());
        loop {
            if data.0.sz > 0 {
                // SAFETY: the context is open; `data` is a live Dav1dData it may consume.
                let r = unsafe { dav1d_send_data(Some(self.0), NonNull::new(&mut data.0)) };
                if r.0 < 0 && r.0 != -libc::EAGAIN {
                    return Err(corrupt("AV1 bitstream"));
                }
            }
            // SAFETY: the context is open; `picture` is written by the call and unreferenced
            // by its Drop.
            let r = unsafe { dav1d_get_picture(Some(self.0), NonNull::new(&mut picture.0)) };
            match r.0 {
                0 => break,
                e if e == -libc::EAGAIN && data.0.sz > 0 => continue,
                e if e == -libc::EAGAIN => {
                    return Err(super::super::common::truncated("AV1 data without a frame"))
                }
                _ => return Err(corrupt("AV1 bitstream")),
            }
        }
        picture.planes()
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        let mut ctx = Some(self.0);
        // SAFETY: the context came from dav1d_open and is closed once.
        unsafe { dav1d_close(NonNull::new(&mut ctx)) };
    }
}

struct Data(Dav1dData);

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: unref of a created (or consumed, then empty) Dav1dData is allowed.
        unsafe { dav1d_data_unref(NonNull::new(&mut self.0)) };
    }
}

struct Picture(Dav1dPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: unref of a returned (or default, empty) picture is allowed.
        unsafe { dav1d_picture_unref(NonNull::new(&mut self.0)) };
    }
}

impl Picture {
    fn planes(&self) -> Result<Planes, Error> {
        let p = &self.0;
        let (w, h) = (p.p.w.max(0) as u32, p.p.h.max(0) as u32);
        let depth = p.p.bpc as u8;
        let shift = match p.p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => None,
            DAV1D_PIXEL_LAYOUT_I420 => Some((1, 1)),
            DAV1D_PIXEL_LAYOUT_I422 => Some((1, 0)),
            _ => Some((0, 0)),
        };
        let nclx = p.seq_hdr.map_or(
            Nclx {
                primaries: 2,
                transfer: 2,
                matrix: 2,
                full_range: false,
            },
            |s| {
                // SAFETY: a returned picture's sequence header lives as long as the picture.
                let s = unsafe { s.as_ref() };
                Nclx {
                    primaries: s.pri as u16,
                    transfer: s.trc as u16,
                    matrix: s.mtrx as u16,
                    full_range: s.color_range != 0,
                }
            },
        );
        let mut out = Planes {
            width: w,
            height: h,
            depth,
            shift: shift.unwrap_or((0, 0)),
            planes: Vec::new(),
            nclx,
        };
        if w == 0 || h == 0 || !(8..=12).contains(&depth) {
            return Err(corrupt("AV1 frame"));
        }
        let chroma = out.chroma_size();
        let count = if shift.is_some() { 3 } else { 1 };
        for i in 0..count {
            let (pw, ph) = if i == 0 { (w, h) } else { chroma };
            let stride = p.stride[(i > 0) as usize];
            let base = p.data[i].ok_or_else(|| corrupt("AV1 frame"))?.as_ptr() as *const u8;
            let mut plane = Vec::with_capacity(pw as usize * ph as usize);
            for y in 0..ph as isize {
                // SAFETY: dav1d planes hold `ph` rows of at least `pw` samples (1 byte each at
                // 8 bits, 2 above) `stride` bytes apart, valid while the picture is referenced.
                unsafe {
                    let row = base.offset(y * stride);
                    if depth == 8 {
                        let row = std::slice::from_raw_parts(row, pw as usize);
                        plane.extend(row.iter().map(|&v| v as u16));
                    } else {
                        let row = std::slice::from_raw_parts(row as *const u16, pw as usize);
                        plane.extend_from_slice(row);
                    }
                }
            }
            out.planes.push(plane);
        }
        Ok(out)
    }
}
