//! Huffman tables: the DHT definition, checked as libjpeg-turbo checks it, and a decoding table
//! that resolves a whole symbol, and for short codes its value bits too, with one lookup.

use crate::bits::{Bits, Window};
use crate::Error;

/// Bits looked at in one lookup: 4 KB tables, and on camera files 98% of the symbols fit with
/// their value bits. Longer codes (rare) take the canonical slow path.
pub const FAST: u32 = 10;

/// A table as defined by a DHT segment.
#[derive(Clone)]
pub struct Spec {
    /// Codes of each length 1..=16.
    pub counts: [u8; 16],
    pub symbols: Vec<u8>,
}

/// Entry layout, for a code of at most `FAST` bits (0: a longer code, or none): bits 0-4 the
/// bits to consume, bit 7 FULL, bits 8-14 the step to the AC coefficient as `ac` returns it (0
/// for DC). A FULL entry's code and value bits both fit in `FAST` bits: it consumes both and
/// holds the value in bits 16-31. Otherwise it consumes the code, and bits 16-19 say how many
/// value bits follow. (Bits 5 and 6 stay clear, so that the low six bits are a shift count.)
const FULL: u32 = 1 << 7;

pub struct Table {
    fast: Box<[u32; 1 << FAST]>,
    /// Largest code of each length, -1 when none (index: length).
    maxcode: [i32; 17],
    /// Symbol index minus code, for each length.
    offset: [i32; 17],
    symbols: Vec<u8>,
    dc: bool,
}

impl Table {
    /// Builds the decoding table; `dc` tables may only hold magnitude categories 0..=15.
    pub fn new(spec: &Spec, dc: bool) -> Result<Table, Error> {
        let bad = Error::Corrupt("bad Huffman table");
        let total: usize = spec.counts.iter().map(|&c| c as usize).sum();
        if total > 256 || total != spec.symbols.len() {
            return Err(bad);
        }
        if dc && spec.symbols.iter().any(|&s| s > 15) {
            return Err(bad);
        }
        let mut fast = Box::new([0u32; 1 << FAST]);
        let mut maxcode = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = spec.counts[len as usize - 1] as u32;
            // Codes must fit their length, and none may be all ones (libjpeg-turbo's check).
            if code + n >= 1 << len {
                return Err(bad);
            }
            offset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                let sym = spec.symbols[k];
                if len <= FAST {
                    fill_fast(&mut fast, code, len, sym, dc);
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(Table {
            fast,
            maxcode,
            offset,
            symbols: spec.symbols.clone(),
            dc,
        })
    }

    /// Decodes a DC difference.
    #[inline(always)]
    pub fn dc(&self, r: &mut Bits, buf: &Window) -> Result<i32, Error> {
        Ok(self.symbol(&self.fast, r, buf)?.1)
    }

    /// The lookup table, for a decoder to hold in a register across symbols.
    #[inline(always)]
    pub fn fast(&self) -> &[u32; 1 << FAST] {
        &self.fast
    }

    /// Decodes an AC symbol with `fast`, this table's `fast()`: (step, value), where the
    /// coefficient goes `step` positions after the previous one (run + 1). Sixteen zeros are a
    /// step of 16 with value 0, end of block a step of 64.
    #[inline(always)]
    pub fn ac(&self, fast: &[u32; 1 << FAST], r: &mut Bits, buf: &Window) -> Result<(usize, i32), Error> {
        self.symbol(fast, r, buf)
    }

    /// One symbol and its value bits. The bit buffer holds at least 25 bits on entry (see
    /// `Bits::refill`), so the table lookup can go before the refill: the two loads run in
    /// parallel instead of one after the other.
    #[inline(always)]
    fn symbol(&self, fast: &[u32; 1 << FAST], r: &mut Bits, buf: &Window) -> Result<(usize, i32), Error> {
        let e = fast[r.peek(FAST) as usize];
        r.refill(buf);
        if e & FULL != 0 {
            r.consume(e & 63);
            return Ok((((e >> 8) & 127) as usize, (e as i32) >> 16));
        }
        self.partial(r, e)
    }

    /// A symbol whose value bits do not fit in the lookup, or whose code is longer.
    #[inline(always)]
    fn partial(&self, r: &mut Bits, e: u32) -> Result<(usize, i32), Error> {
        let e = if e != 0 {
            e
        } else {
            // the bit buffer goes by value so that it can stay in registers
            self.slow(r.peek(16)).ok_or(Error::Corrupt("bad Huffman code"))?
        };
        r.consume(e & 31);
        let size = (e >> 16) & 15;
        let raw = r.peek_upto15(size);
        r.consume(size);
        Ok((((e >> 8) & 127) as usize, extend(raw, size)))
    }

    /// The entry of a code longer than `FAST` bits, from the next 16 bits.
    #[cold]
    #[inline(never)]
    fn slow(&self, next16: u32) -> Option<u32> {
        for len in FAST + 1..=16 {
            let code = (next16 >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let i = (code + self.offset[len as usize]) as usize;
                return self.symbols.get(i).map(|&s| entry(len, s, self.dc, 0) & !FULL);
            }
        }
        None
    }
}

/// The step of an AC symbol without value bits: ZRL (F0) is sixteen zeros; any other is the
/// end of the block, as libjpeg-turbo reads it.
fn ac_step(run: u32) -> u32 {
    if run == 15 {
        16
    } else {
        64
    }
}

/// The entry of a code of `len` bits for `sym`, given the lookup's bits `word` after it (or 0
/// for a long code, which never gets its value bits included).
fn entry(len: u32, sym: u8, dc: bool, word: u32) -> u32 {
    let (step, size) = if dc {
        (0, sym as u32)
    } else if sym & 15 == 0 {
        (ac_step(sym as u32 >> 4), 0)
    } else {
        ((sym as u32 >> 4) + 1, sym as u32 & 15)
    };
    if len + size <= FAST {
        let bits = (word >> (FAST - len - size)) & ((1 << size) - 1);
        let value = extend(bits as i32, size);
        (len + size) | FULL | step << 8 | (value as u32) << 16
    } else {
        len | step << 8 | size << 16
    }
}

/// F.12 EXTEND: `size` bits read as a magnitude category; below 2^(size-1) they are negative.
#[inline(always)]
fn extend(raw: i32, size: u32) -> i32 {
    if raw < (1 << size) >> 1 {
        raw + 1 - (1 << size)
    } else {
        raw
    }
}

/// Fills the entries of every `FAST`-bit word that starts with `code` (of `len` bits).
fn fill_fast(fast: &mut [u32; 1 << FAST], code: u32, len: u32, sym: u8, dc: bool) {
    let first = (code << (FAST - len)) as usize;
    for (word, e) in fast.iter_mut().enumerate().skip(first).take(1 << (FAST - len)) {
        *e = entry(len, sym, dc, word as u32);
    }
}
