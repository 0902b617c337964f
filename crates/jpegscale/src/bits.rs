//! Entropy-coded data as a bit stream: byte stuffing (`FF 00` → `FF`) is undone a window at a
//! time into a clean buffer, which the decoder reads through a 64-bit bit buffer refilled without
//! branches (Giesen's "lookahead" refill: load 8 bytes, keep the whole ones).

use crate::Error;

/// The window's size: positions are taken modulo this, so that loads need no bounds check.
const SIZE: usize = 1 << 16;
/// Clean bytes held at once. Refilled when less than one MCU's worst case is left, which is
/// less than the rest of the window, zeros, which an MCU running past the data reads.
const WINDOW: usize = SIZE - 4096;

pub type Window = [u8; SIZE + 8];

/// What ended the entropy-coded segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Not reached yet.
    Open,
    /// A marker: its code, and the offset in the file of the byte after it (fill bytes before
    /// a marker are part of it).
    Marker(u8, usize),
    /// The file ended without a marker.
    Truncated,
}

/// The bit buffer, copied into a local while an MCU is decoded so that it lives in registers.
#[derive(Clone, Copy)]
pub struct Bits {
    /// Unread bits, first one at the top; below them, zeros or the bytes that follow.
    bits: u64,
    nbits: u32,
    /// Next byte of the window to load.
    pos: usize,
}

pub struct Reader<'a> {
    raw: &'a [u8],
    /// Next raw byte to unstuff.
    raw_pos: usize,
    buf: Box<Window>,
    /// Clean index (since the reader's start) of `buf[0]`.
    base: u64,
    /// Clean bytes in `buf`; after them, zeros.
    len: usize,
    pub st: Bits,
    end: End,
    /// Raw offsets whose clean index is wanted (chunk boundaries of the speculative split).
    marks: Vec<(usize, Option<u64>)>,
}

impl<'a> Reader<'a> {
    /// A reader of the segment that starts at `raw[start]`.
    pub fn new(raw: &'a [u8], start: usize) -> Self {
        Reader {
            raw,
            raw_pos: start,
            buf: Box::new([0; SIZE + 8]),
            base: 0,
            len: 0,
            st: Bits {
                bits: 0,
                nbits: 0,
                pos: 0,
            },
            end: End::Open,
            marks: Vec::new(),
        }
    }

    /// Records the clean index of each of these raw offsets when the unstuffing passes it.
    /// Each must be where a clean byte starts (not after an `FF`).
    pub fn with_marks(mut self, marks: &[usize]) -> Self {
        self.marks = marks.iter().map(|&m| (m, None)).collect();
        self
    }

    /// Clean bit position (since the reader's start) of the next unread bit.
    #[inline]
    pub fn position(&self) -> u64 {
        (self.base + self.st.pos as u64) * 8 - self.st.nbits as u64
    }

    /// The clean index of a mark, once the unstuffing has passed it.
    pub fn mark(&self, i: usize) -> Option<u64> {
        self.marks.get(i).and_then(|m| m.1)
    }

    pub fn end(&self) -> End {
        self.end
    }

    /// Makes sure `need` bytes can be read without a refill from the file, and refuses a
    /// position past the end of the segment (libjpeg-turbo would pad with zeros and warn).
    #[inline]
    pub fn ensure(&mut self, need: usize) -> Result<(), Error> {
        if self.st.pos + need > self.len {
            self.fill(need);
        }
        if self.end != End::Open && self.position() > (self.base + self.len as u64) * 8 {
            return Err(Error::Corrupt("entropy-coded data ends inside an MCU"));
        }
        Ok(())
    }

    /// Whether the segment's end is known and less than a byte of it is left: no MCU can
    /// start here.
    pub fn exhausted(&self) -> bool {
        self.end != End::Open && self.position() + 8 > (self.base + self.len as u64) * 8
    }

    /// Bits left before the end of the segment, once its end is known.
    pub fn remaining(&mut self) -> Option<u64> {
        if self.end == End::Open {
            self.fill(WINDOW / 2);
        }
        if self.end == End::Open {
            return None;
        }
        ((self.base + self.len as u64) * 8).checked_sub(self.position())
    }

    /// Moves the unread clean bytes to the front and unstuffs more of the file after them.
    #[cold]
    fn fill(&mut self, need: usize) {
        // After the end there is nothing to add: loads past the buffer read zeros.
        if self.st.pos + need <= self.len || self.end != End::Open {
            return;
        }
        let from = self.st.pos.min(self.len);
        self.buf.copy_within(from..self.len, 0);
        self.base += from as u64;
        self.len -= from;
        self.st.pos -= from;
        let limit = WINDOW;
        while self.len < limit && self.end == End::Open {
            let rest = &self.raw[self.raw_pos.min(self.raw.len())..];
            if rest.is_empty() {
                self.end = End::Truncated;
                break;
            }
            let room = (limit - self.len).min(rest.len());
            let run = memchr::memchr(0xFF, &rest[..room]).unwrap_or(room);
            self.note_marks(self.raw_pos, run);
            self.buf[self.len..self.len + run].copy_from_slice(&rest[..run]);
            self.len += run;
            self.raw_pos += run;
            if run == room {
                continue;
            }
            // An FF: fill bytes (more FFs), then 00 (a stuffed FF data byte) or a marker code.
            let ff = self.raw_pos;
            let mut j = ff + 1;
            while self.raw.get(j) == Some(&0xFF) {
                j += 1;
            }
            match self.raw.get(j) {
                Some(0) => {
                    self.note_marks(ff, 1);
                    self.buf[self.len] = 0xFF;
                    self.len += 1;
                    self.raw_pos = j + 1;
                }
                Some(&code) => self.end = End::Marker(code, j + 1),
                None => self.end = End::Truncated,
            }
        }
        // Zeros after the data, as far as an MCU can read (what lies further is never read).
        let end = (self.len + SIZE - WINDOW).min(self.buf.len());
        self.buf[self.len..end].fill(0);
    }

    /// Marks inside raw bytes `[at, at + n)` that become clean bytes one for one from `at` on.
    fn note_marks(&mut self, at: usize, n: usize) {
        for m in self.marks.iter_mut() {
            if m.1.is_none() && m.0 >= at && m.0 < at + n {
                m.1 = Some(self.base + (self.len + m.0 - at) as u64);
            }
        }
    }

    /// The window the bit buffer loads from.
    #[inline(always)]
    pub fn window(&self) -> &Window {
        &self.buf
    }

    /// Ends a restart interval: only padding may be left before the marker, which must be
    /// RSTn with the expected `n`; then reading goes on after it with an empty bit buffer.
    pub fn restart(&mut self, n: u8) -> Result<(), Error> {
        self.finish_segment()?;
        match self.end {
            End::Marker(code, after) if code == 0xD0 + (n & 7) => {
                self.raw_pos = after;
                self.reset();
                Ok(())
            }
            _ => Err(Error::Corrupt("missing or unexpected restart marker")),
        }
    }

    /// The segment must end here: at most 7 padding bits before its marker.
    pub fn finish_segment(&mut self) -> Result<(), Error> {
        match self.remaining() {
            Some(r) if r < 8 => Ok(()),
            Some(_) | None => Err(Error::Corrupt("extraneous bytes before a marker")),
        }
    }

    fn reset(&mut self) {
        self.base += self.len as u64;
        self.len = 0;
        self.st = Bits {
            bits: 0,
            nbits: 0,
            pos: 0,
        };
        self.end = End::Open;
        self.buf.fill(0);
    }
}

impl Bits {
    /// Tops the bit buffer up to at least 56 bits from the window `buf`. A symbol takes at most
    /// 31 bits, so between the refills of the symbol decoder at least 25 remain.
    #[inline(always)]
    pub fn refill(&mut self, buf: &Window) {
        // Within an MCU the position stays below the window's end (`Reader::ensure`); past the
        // end of the data it may not, and the bits read then are refused with the MCU.
        let p = self.pos & (SIZE - 1);
        let word = u64::from_be_bytes([
            buf[p],
            buf[p + 1],
            buf[p + 2],
            buf[p + 3],
            buf[p + 4],
            buf[p + 5],
            buf[p + 6],
            buf[p + 7],
        ]);
        self.bits |= word >> self.nbits;
        self.pos += ((63 - self.nbits) >> 3) as usize;
        self.nbits |= 56;
    }

    /// The next `n` bits (1..=32), not consumed.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.bits >> (64 - n)) as u32
    }

    /// Drops `n` bits; the caller refilled, so `n <= nbits`.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.bits <<= n;
        self.nbits -= n;
    }

    /// The next `size` bits (0..=15), not consumed.
    #[inline(always)]
    pub fn peek_upto15(&self, size: u32) -> i32 {
        ((self.bits >> 1) >> (63 - size)) as i32
    }
}

/// Clean bytes that raw bytes `raw[from..to]` become (a stuffed `FF 00` is one byte), for a
/// range that holds no marker and does not start inside a stuffed pair.
pub fn clean_len(raw: &[u8], from: usize, to: usize) -> u64 {
    let mut n = (to - from) as u64;
    let mut i = from;
    while let Some(p) = memchr::memchr(0xFF, &raw[i..to]) {
        let j = i + p + 1;
        if raw.get(j) == Some(&0) && j < to {
            n -= 1;
        }
        i = j;
        if i >= to {
            break;
        }
    }
    n
}
