//! ISOBMFF/HEIF `meta` walk (ISO/IEC 14496-12, 23008-12): items, their locations, properties and
//! references. Hand-written because the Rust parsers that read AVIF (`avif-parse`, `mp4parse`)
//! are MPL-2.0, and the subset a still image needs is small. Every read is bounds-checked: a
//! malformed box ends the walk and a missing piece is reported by the caller as corrupt.

use super::super::common::{be16, be32, corrupt};
use crate::error::Error;
use std::borrow::Cow;

/// The boxes inside `b`, as (type, payload).
pub(super) fn boxes(b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let size = be32(b, at)? as u64;
        let kind: [u8; 4] = b.get(at + 4..at + 8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, (b.len() - at) as u64),
            1 => (16, be64(b, at + 8)?),
            n => (8, n),
        };
        let end = at.checked_add(usize::try_from(size).ok()?)?;
        let payload = b.get(at + header..end)?;
        at = end;
        Some((kind, payload))
    })
}

/// The payload of the first box of type `kind` in `b`.
pub(super) fn find<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(b).find(|(k, _)| k == kind).map(|(_, p)| p)
}

pub(super) fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A big-endian unsigned integer of `size` bytes (0, 4 or 8, as `iloc` sizes its fields).
fn uint(b: &[u8], at: &mut usize, size: u8) -> Option<u64> {
    let v = match size {
        0 => 0,
        2 => be16(b, *at)? as u64,
        4 => be32(b, *at)? as u64,
        8 => be64(b, *at)?,
        _ => return None,
    };
    *at += size as usize;
    Some(v)
}

/// Colour information from a `colr` property or an AV1 sequence header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nclx {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

#[derive(Debug, Clone)]
pub(super) enum Property<'a> {
    /// Image spatial extents.
    Ispe(u32, u32),
    Nclx(Nclx),
    Icc(&'a [u8]),
    /// Anti-clockwise quarter turns.
    Irot(u8),
    /// 0: top and bottom exchanged, 1: left and right.
    Imir(u8),
    /// Auxiliary type URN (alpha, depth …).
    AuxC(&'a [u8]),
    Other,
}

pub(super) fn property<'a>(kind: &[u8; 4], p: &'a [u8]) -> Option<Property<'a>> {
    Some(match kind {
        b"ispe" => Property::Ispe(be32(p, 4)?, be32(p, 8)?),
        b"colr" => match p.get(..4)? {
            b"nclx" => Property::Nclx(Nclx {
                primaries: be16(p, 4)? as u16,
                transfer: be16(p, 6)? as u16,
                matrix: be16(p, 8)? as u16,
                full_range: p.get(10)? & 0x80 != 0,
            }),
            b"prof" | b"rICC" => Property::Icc(&p[4..]),
            _ => Property::Other,
        },
        b"irot" => Property::Irot(p.first()? & 3),
        b"imir" => Property::Imir(p.first()? & 1),
        b"auxC" => {
            let urn = p.get(4..)?;
            Property::AuxC(urn.split(|&c| c == 0).next().unwrap_or(urn))
        }
        _ => Property::Other,
    })
}

#[derive(Debug)]
struct Location {
    item: u32,
    /// 0: file offsets, 1: offsets into `idat`.
    method: u8,
    extents: Vec<(u64, u64)>,
}

/// An item reference (`dimg`, `auxl`, `thmb` …): `from` refers to each of `to`.
#[derive(Debug)]
pub(super) struct Reference {
    pub kind: [u8; 4],
    pub from: u32,
    pub to: Vec<u32>,
}

/// What a HEIF file's `meta` box says.
#[derive(Debug, Default)]
pub(super) struct Meta<'a> {
    pub primary: u32,
    /// (item id, item type).
    pub items: Vec<(u32, [u8; 4])>,
    locations: Vec<Location>,
    properties: Vec<Property<'a>>,
    /// (item id, 1-based property indices in association order).
    associations: Vec<(u32, Vec<u16>)>,
    pub references: Vec<Reference>,
    idat: &'a [u8],
}

impl<'a> Meta<'a> {
    /// Parses a `meta` box payload (a full box: version and flags first).
    pub fn parse(meta: &'a [u8]) -> Result<Meta<'a>, Error> {
        let bad = |what: &str| corrupt(&format!("HEIF {what}"));
        let body = meta.get(4..).ok_or_else(|| bad("meta box"))?;
        let mut m = Meta::default();
        for (kind, p) in boxes(body) {
            match &kind {
                b"pitm" => {
                    m.primary = match p.first() {
                        Some(0) => be16(p, 4),
                        _ => be32(p, 4),
                    }
                    .ok_or_else(|| bad("pitm"))?
                }
                b"iinf" => m.items = item_infos(p).ok_or_else(|| bad("iinf"))?,
                b"iloc" => m.locations = locations(p).ok_or_else(|| bad("iloc"))?,
                b"iprp" => {
                    for (k, q) in boxes(p) {
                        match &k {
                            b"ipco" => {
                                m.properties = boxes(q)
                                    .map(|(k, q)| property(&k, q).unwrap_or(Property::Other))
                                    .collect()
                            }
                            b"ipma" => m.associations.extend(associations(q).ok_or_else(|| bad("ipma"))?),
                            _ => {}
                        }
                    }
                }
                b"iref" => m.references = references(p).ok_or_else(|| bad("iref"))?,
                b"idat" => m.idat = p,
                _ => {}
            }
        }
        Ok(m)
    }

    pub fn item_type(&self, id: u32) -> Option<[u8; 4]> {
        self.items.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
    }

    /// The properties of item `id`, in association order (transforms apply in that order).
    pub fn properties(&self, id: u32) -> impl Iterator<Item = &Property<'a>> {
        let indices = self
            .associations
            .iter()
            .filter(move |(i, _)| *i == id)
            .flat_map(|(_, p)| p);
        indices.filter_map(|&i| self.properties.get((i as usize).checked_sub(1)?))
    }

    pub fn ispe(&self, id: u32) -> Option<(u32, u32)> {
        self.properties(id).find_map(|p| match p {
            Property::Ispe(w, h) => Some((*w, *h)),
            _ => None,
        })
    }

    /// Items that refer to `to` with a reference of type `kind`.
    pub fn referring(&self, kind: &[u8; 4], to: u32) -> impl Iterator<Item = u32> + '_ {
        let kind = *kind;
        self.references
            .iter()
            .filter(move |r| r.kind == kind && r.to.contains(&to))
            .map(|r| r.from)
    }

    /// The items `from` refers to with a reference of type `kind`, in order.
    pub fn referred(&self, kind: &[u8; 4], from: u32) -> Vec<u32> {
        self.references
            .iter()
            .filter(|r| r.kind == *kind && r.from == from)
            .flat_map(|r| r.to.iter().copied())
            .collect()
    }

    /// Item `id`'s bytes: its extents, from the file or from `idat`.
    pub fn data(&self, file: &'a [u8], id: u32) -> Result<Cow<'a, [u8]>, Error> {
        let loc = self
            .locations
            .iter()
            .find(|l| l.item == id)
            .ok_or_else(|| corrupt("HEIF item without a location"))?;
        let source = match loc.method {
            0 => file,
            1 => self.idat,
            _ => return Err(corrupt("HEIF item location method")),
        };
        let slice = |&(offset, length): &(u64, u64)| {
            let start = usize::try_from(offset).ok()?;
            let end = start.checked_add(usize::try_from(length).ok()?)?;
            source.get(start..end)
        };
        // An extent past the end of the file is a cut file, not a corrupt one.
        let cut = || super::super::common::truncated("HEIF item data ends past the end of the file");
        match loc.extents.as_slice() {
            [one] => Ok(Cow::Borrowed(slice(one).ok_or_else(cut)?)),
            many => {
                let mut out = Vec::new();
                for e in many {
                    out.extend_from_slice(slice(e).ok_or_else(cut)?);
                }
                Ok(Cow::Owned(out))
            }
        }
    }
}

fn item_infos(p: &[u8]) -> Option<Vec<(u32, [u8; 4])>> {
    let (count, start) = match p.first()? {
        0 => (be16(p, 4)?, 6),
        _ => (be32(p, 4)?, 8),
    };
    let items: Vec<_> = boxes(p.get(start..)?)
        .filter(|(k, _)| k == b"infe")
        .filter_map(|(_, e)| match e.first()? {
            2 => Some((be16(e, 4)?, e.get(8..12)?.try_into().ok()?)),
            3 => Some((be32(e, 4)?, e.get(10..14)?.try_into().ok()?)),
            // Versions 0 and 1 predate item types (no image items).
            _ => None,
        })
        .collect();
    (items.len() as u32 <= count).then_some(items)
}

fn locations(p: &[u8]) -> Option<Vec<Location>> {
    let version = *p.first()?;
    let sizes = be16(p, 4)?;
    let (offset_size, length_size) = ((sizes >> 12) as u8, (sizes >> 8 & 15) as u8);
    let (base_size, index_size) = ((sizes >> 4 & 15) as u8, (sizes & 15) as u8);
    let mut at = 6;
    let count = if version < 2 {
        uint(p, &mut at, 2)?
    } else {
        uint(p, &mut at, 4)?
    };
    let mut out = Vec::new();
    for _ in 0..count {
        let item = uint(p, &mut at, if version < 2 { 2 } else { 4 })? as u32;
        let method = if version >= 1 {
            (uint(p, &mut at, 2)? & 15) as u8
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = uint(p, &mut at, base_size)?;
        let extent_count = uint(p, &mut at, 2)?;
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            if version >= 1 && index_size > 0 {
                uint(p, &mut at, index_size)?;
            }
            let offset = base.checked_add(uint(p, &mut at, offset_size)?)?;
            extents.push((offset, uint(p, &mut at, length_size)?));
        }
        out.push(Location {
            item,
            method,
            extents,
        });
    }
    Some(out)
}

fn associations(p: &[u8]) -> Option<Vec<(u32, Vec<u16>)>> {
    let (version, wide) = (*p.first()?, p.get(3)? & 1 != 0);
    let mut at = 8;
    let mut out = Vec::new();
    for _ in 0..be32(p, 4)? {
        let item = uint(p, &mut at, if version < 1 { 2 } else { 4 })? as u32;
        let n = *p.get(at)?;
        at += 1;
        let mut props = Vec::new();
        for _ in 0..n {
            // The top bit says "essential"; every property pixfront reads is applied anyway.
            props.push(match wide {
                true => uint(p, &mut at, 2)? as u16 & 0x7FFF,
                false => {
                    at += 1;
                    (*p.get(at - 1)? & 0x7F) as u16
                }
            });
        }
        out.push((item, props));
    }
    Some(out)
}

fn references(p: &[u8]) -> Option<Vec<Reference>> {
    let wide = *p.first()? != 0;
    let id = |b: &[u8], at: &mut usize| uint(b, at, if wide { 4 } else { 2 }).map(|v| v as u32);
    let mut out = Vec::new();
    for (kind, r) in boxes(p.get(4..)?) {
        let mut at = 0;
        let from = id(r, &mut at)?;
        let n = uint(r, &mut at, 2)?;
        let to = (0..n).map(|_| id(r, &mut at)).collect::<Option<Vec<_>>>()?;
        out.push(Reference { kind, from, to });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_walk_stops_at_a_box_past_the_end() {
        let b = [
            0, 0, 0, 12, b'a', b'b', b'c', b'd', 1, 2, 3, 4, 0, 0, 0, 99, b'e', b'f', b'g', b'h',
        ];
        let all: Vec<_> = boxes(&b).collect();
        assert_eq!(all, vec![(*b"abcd", &[1u8, 2, 3, 4][..])]);
    }

    #[test]
    fn iloc_version_1_with_idat_extents() {
        // version 1, offset 4 bytes, length 4, base 0, index 0; one item (id 7), method 1.
        let p = [
            1, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 7, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
        ];
        let locs = locations(&p).unwrap();
        assert_eq!(
            (locs[0].item, locs[0].method, locs[0].extents.clone()),
            (7, 1, vec![(2, 3)])
        );
    }
}
