//! Huffman tables: the DHT definition, checked as libjpeg-turbo checks it, and a decoding table
//! that resolves a whole symbol, and for short codes its value bits too, with one lookup.

use crate::bits::{extend, Reader};
use crate::Error;

/// Bits looked at in one lookup. Longer codes (rare) take the canonical slow path.
pub const FAST: u32 = 11;

/// A table as defined by a DHT segment.
#[derive(Clone)]
pub struct Spec {
    /// Codes of each length 1..=16.
    pub counts: [u8; 16],
    pub symbols: Vec<u8>,
}

/// Entry layout: bits 0-4 bits to consume (0: slow path), bit 5 set when the value bits are
/// included (and the value is in bits 16-31), bits 8-15 the symbol.
const FULL: u32 = 1 << 5;

pub struct Table {
    fast: Box<[u32]>,
    /// Largest code of each length, -1 when none (index: length).
    maxcode: [i32; 17],
    /// Symbol index minus code, for each length.
    offset: [i32; 17],
    symbols: Vec<u8>,
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
        let mut fast = vec![0u32; 1 << FAST].into_boxed_slice();
        let mut maxcode = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = spec.counts[len as usize - 1] as usize;
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
            // Codes must fit their length, and none may be all ones (libjpeg-turbo's check).
            if code >= 1 << len {
                return Err(bad);
            }
            code <<= 1;
        }
        Ok(Table {
            fast,
            maxcode,
            offset,
            symbols: spec.symbols.clone(),
        })
    }

    /// The entry for the next `FAST` bits (the caller refilled).
    #[inline(always)]
    pub fn lookup(&self, r: &Reader) -> u32 {
        self.fast[r.peek(FAST) as usize]
    }

    /// Decodes one symbol and its value bits: (symbol, value). For a value-less symbol the
    /// value is 0. The caller refilled the bit buffer (at least 56 bits).
    #[inline(always)]
    pub fn decode(&self, r: &mut Reader) -> Result<(u32, i32), Error> {
        let e = self.lookup(r);
        let len = e & 31;
        if e & FULL != 0 {
            r.consume(len);
            return Ok(((e >> 8) & 0xFF, (e as i32) >> 16));
        }
        let sym = if len != 0 {
            r.consume(len);
            (e >> 8) & 0xFF
        } else {
            self.slow(r)?
        };
        Ok((sym, r.receive_extend(sym & 15)))
    }

    /// Codes longer than `FAST` bits.
    #[cold]
    fn slow(&self, r: &mut Reader) -> Result<u32, Error> {
        for len in FAST + 1..=16 {
            let code = r.peek(len) as i32;
            if code <= self.maxcode[len as usize] {
                r.consume(len);
                let i = (code + self.offset[len as usize]) as usize;
                return self
                    .symbols
                    .get(i)
                    .map(|&s| s as u32)
                    .ok_or(Error::Corrupt("bad Huffman code"));
            }
        }
        Err(Error::Corrupt("bad Huffman code"))
    }
}

/// Fills the entries of every `FAST`-bit word that starts with `code` (of `len` bits).
fn fill_fast(fast: &mut [u32], code: u32, len: u32, sym: u8, dc: bool) {
    let size = if dc { sym as u32 } else { sym as u32 & 15 };
    let first = (code << (FAST - len)) as usize;
    for i in 0..1usize << (FAST - len) {
        let word = (first + i) as u32;
        fast[first + i] = if size == 0 {
            len | FULL | (sym as u32) << 8
        } else if len + size <= FAST {
            let bits = (word >> (FAST - len - size)) & ((1 << size) - 1);
            let value = extend(bits as i32, size);
            (len + size) | FULL | (sym as u32) << 8 | (value as u32) << 16
        } else {
            len | (sym as u32) << 8
        };
    }
}
