//! Damaged files: the fast path answers an error, or exactly libjpeg-turbo's pixels for a file
//! libjpeg-turbo decodes without a warning. Never other pixels, never a panic.

mod common;
use common::*;

/// Our answer to a damaged file must be an error, or libjpeg-turbo's clean decode.
fn check(name: &str, bytes: &[u8], threads: usize) {
    for denom in [2u8, 4, 8] {
        let Ok((ours, _)) = ours(bytes, denom, threads) else {
            continue;
        };
        match reference(bytes, denom) {
            Some((reference, false)) => assert_eq!(ours, reference, "{name} 1/{denom}: other pixels"),
            Some((_, true)) => panic!("{name} 1/{denom}: decoded a file libjpeg-turbo warns about"),
            None => panic!("{name} 1/{denom}: decoded a file libjpeg-turbo refuses"),
        }
    }
}

/// The damaged files: a small file of each sampling, with and without restart markers.
fn originals() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = jpegs(&data_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("203x141") && !p.to_string_lossy().ends_with("_r1.jpg"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.push(("420 48x40".into(), encode(48, 40, 3, (2, 2), 90.0, false)));
    out
}

fn scan_start(b: &[u8]) -> usize {
    b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap() + 2
}

#[test]
fn every_truncation_is_an_error() {
    for (name, bytes) in originals().into_iter().step_by(2) {
        for len in 0..bytes.len() {
            for denom in [2u8, 8] {
                let r = ours(&bytes[..len], denom, 1);
                assert!(r.is_err(), "{name} cut at {len} of {}: decoded", bytes.len());
            }
        }
    }
}

#[test]
fn changed_bytes_give_an_error_or_libjpeg_turbos_pixels() {
    let mut x = 0x9E3779B9u32;
    let mut rng = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut decoded = 0;
    for (name, bytes) in originals() {
        let start = scan_start(&bytes);
        for i in 0..150 {
            let mut b = bytes.clone();
            // mostly the entropy-coded data, sometimes the headers
            let at = if i % 10 == 0 {
                rng() as usize % b.len()
            } else {
                start + rng() as usize % (b.len() - start)
            };
            match i % 3 {
                0 => b[at] ^= 1 << (rng() % 8),
                1 => b[at] = rng() as u8,
                _ => b[at] = 0xFF,
            }
            let name = format!("{name} byte {at} of {}", bytes.len());
            check(&name, &b, 1);
            decoded += ours(&b, 4, 1).is_ok() as usize;
        }
    }
    // some damage leaves a valid file (a changed coefficient), which must then match
    assert!(decoded > 0);
}

/// A file of `n` restart intervals with the markers found: (offset of each RSTn's FF).
fn restart_markers(b: &[u8]) -> Vec<usize> {
    let start = scan_start(b);
    (start..b.len() - 1)
        .filter(|&i| b[i] == 0xFF && (0xD0..=0xD7).contains(&b[i + 1]))
        .collect()
}

#[test]
fn restart_marker_damage_is_an_error() {
    let bytes = std::fs::read(data_dir().join("420_203x141_r5B.jpg")).unwrap();
    let rst = restart_markers(&bytes);
    assert!(rst.len() > 10);
    for (k, &at) in rst.iter().enumerate().step_by(3) {
        // wrong number
        let mut b = bytes.clone();
        b[at + 1] = 0xD0 + ((b[at + 1] - 0xD0 + 1) & 7);
        assert!(ours(&b, 4, 1).is_err(), "RST {k} renumbered");
        // missing
        let mut b = bytes.clone();
        b.drain(at..at + 2);
        assert!(ours(&b, 4, 1).is_err(), "RST {k} removed");
        // garbage before it (libjpeg-turbo warns about extraneous bytes)
        let mut b = bytes.clone();
        b.insert(at, 0x55);
        assert!(ours(&b, 4, 1).is_err(), "byte before RST {k}");
    }
}

#[test]
fn fill_bytes_before_markers_are_allowed() {
    // libjpeg-turbo skips any number of FF fill bytes before a marker, quietly
    let bytes = std::fs::read(data_dir().join("440_203x141_r5B.jpg")).unwrap();
    let rst = restart_markers(&bytes);
    let mut b = bytes.clone();
    for &at in rst.iter().rev().step_by(4) {
        b.splice(at..at, [0xFF, 0xFF]);
    }
    let eoi = b.len() - 2;
    b.insert(eoi, 0xFF);
    for threads in [1, 3] {
        check("fill bytes", &b, threads);
        assert!(ours(&b, 4, threads).is_ok());
    }
}

#[test]
fn odd_endings_are_errors() {
    let bytes = encode(64, 48, 9, (2, 1), 85.0, false);
    let eoi = bytes.len() - 2;
    // bytes between the last MCU and EOI
    let mut b = bytes.clone();
    b.splice(eoi..eoi, [0x12, 0x34]);
    assert!(ours(&b, 4, 1).is_err());
    // a restart marker in a scan without restarts
    let mut b = bytes.clone();
    b.splice(eoi..eoi, [0xFF, 0xD0]);
    assert!(ours(&b, 4, 1).is_err());
    // no EOI
    assert!(ours(&bytes[..eoi], 4, 1).is_err());
    // EOI right after the scan header
    let start = scan_start(&bytes);
    let len = u16::from_be_bytes([bytes[start], bytes[start + 1]]) as usize;
    let mut b = bytes[..start + len].to_vec();
    b.extend([0xFF, 0xD9]);
    assert!(ours(&b, 4, 1).is_err());
    // the untouched file decodes
    assert!(ours(&bytes, 4, 1).is_ok());
    check("untouched", &bytes, 1);
}

#[test]
fn shared_files_survive_damage_too() {
    let p = shared().join("faces/hopper_128.jpg");
    let bytes = std::fs::read(p).unwrap();
    let start = scan_start(&bytes);
    for at in (start..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        check(&format!("hopper byte {at}"), &b, 1);
    }
}
