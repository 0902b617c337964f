//! Pixels against libjpeg-turbo's scaled decode (the decoder this one stands in for): every
//! shared JPEG, the committed test files (each sampling, restart intervals, odd sizes), and
//! JPEGs generated here (sizes from 1×1 up, each sampling, low and high quality). The fast path
//! must give libjpeg-turbo's pixels exactly: max difference 0 on every channel.

mod common;
use common::*;
use pixfront_jpegscale::{header, probe, Error, Sampling};

/// Decodes at every scale with 1 thread and checks the result against libjpeg-turbo; returns
/// false when the fast path does not apply.
fn check(name: &str, bytes: &[u8]) -> bool {
    if probe(bytes).is_none() {
        return false;
    }
    for denom in [2u8, 4, 8] {
        let (ours, _) = ours(bytes, denom, 1).unwrap_or_else(|e| panic!("{name} 1/{denom}: {e}"));
        let (reference, warned) = reference(bytes, denom).unwrap_or_else(|| panic!("{name}: libjpeg fails"));
        assert!(!warned, "{name}: libjpeg-turbo warns about a file we decode");
        let (max, mean) = diff(&ours, &reference);
        assert_eq!(max, [0; 3], "{name} 1/{denom}: max {max:?} mean {mean:?}");
    }
    true
}

#[test]
fn shared_jpegs_match_exactly() {
    let mut decoded = 0;
    for p in jpegs(&shared()) {
        let bytes = std::fs::read(&p).unwrap();
        if check(&p.display().to_string(), &bytes) {
            decoded += 1;
        } else {
            // what the fast path leaves to libjpeg-turbo here: progressive and CMYK files
            let why = header(&bytes).unwrap_err();
            assert!(matches!(why, Error::Unsupported(_)), "{}: {why}", p.display());
            println!("{}: {why}", p.display());
        }
    }
    assert!(decoded >= 10, "only {decoded} shared JPEGs decoded");
}

#[test]
fn committed_samplings_and_restart_intervals_match_exactly() {
    let files = jpegs(&data_dir());
    assert!(files.len() >= 24);
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let hdr = probe(&bytes).unwrap_or_else(|| panic!("{name}: no fast path"));
        let sampling = match &name[..3] {
            "444" => Sampling::Yuv444,
            "422" => Sampling::Yuv422,
            "420" => Sampling::Yuv420,
            "440" => Sampling::Yuv440,
            _ => Sampling::Gray,
        };
        assert_eq!(hdr.sampling, sampling, "{name}");
        assert_eq!(hdr.restart_interval != 0, !name.ends_with("_r0.jpg"), "{name}");
        assert!(check(&name, &bytes));
    }
}

#[test]
fn generated_sizes_samplings_and_qualities_match_exactly() {
    let sizes = [
        (1, 1),
        (2, 2),
        (3, 5),
        (5, 3),
        (8, 8),
        (9, 17),
        (17, 9),
        (31, 33),
        (64, 48),
        (203, 141),
    ];
    for (w, h) in sizes {
        for quality in [30.0, 95.0] {
            for (name, chroma) in SAMPLINGS {
                let jpeg = encode(w, h, (w * h) as u32, chroma, quality, false);
                assert!(check(&format!("{name} {w}x{h} q{quality}"), &jpeg));
            }
            let jpeg = encode(w, h, 7, (1, 1), quality, true);
            assert!(check(&format!("gray {w}x{h} q{quality}"), &jpeg));
        }
    }
}

#[test]
fn scaled_size_is_libjpeg_turbos() {
    for (w, h) in [(1, 1), (7, 9), (6028, 3391)] {
        let jpeg = encode(w, h, 1, (2, 2), 80.0, false);
        let hdr = probe(&jpeg).unwrap();
        for denom in [2u8, 4, 8] {
            let (r, _) = reference(&jpeg, denom).unwrap();
            assert_eq!(hdr.scaled_size(denom), (r.w as u32, r.h as u32));
        }
    }
}
