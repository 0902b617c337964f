//! Several threads on one image: restart intervals shared out, or the speculative split of a
//! scan without restart markers. Either must give the serial decode bit for bit, and fail when
//! it fails.

mod common;
use common::*;
use pixfront_jpegscale::Mode;

/// Decodes with 1 thread and with each of `threads`; all must agree exactly. Returns the modes
/// the parallel decodes ran in.
fn agree(name: &str, bytes: &[u8], threads: &[usize]) -> Vec<Mode> {
    let mut modes = Vec::new();
    for denom in [2u8, 4, 8] {
        let serial = ours(bytes, denom, 1).map(|(img, info)| {
            assert_eq!(info.mode, Mode::Serial);
            img
        });
        for &n in threads {
            let parallel = ours(bytes, denom, n);
            match (&serial, &parallel) {
                (Ok(a), Ok((b, info))) => {
                    assert!(
                        a == b,
                        "{name} 1/{denom}, {n} threads ({:?}): other pixels",
                        info.mode
                    );
                    assert!(info.threads <= n);
                    modes.push(info.mode);
                }
                // both refuse (the first symptom each meets may differ)
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "{name} 1/{denom}, {n} threads: {:?} serially, {:?} in parallel",
                    serial.as_ref().err(),
                    parallel.as_ref().err()
                ),
            }
        }
    }
    modes
}

#[test]
fn restart_intervals_on_several_threads() {
    let mut files: Vec<_> = jpegs(&data_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("640x427"))
        .collect();
    for f in ["faces/obama.jpg", "faces/obama2.jpg", "faces/biden_fullbody.jpg"] {
        files.push(shared().join(f));
    }
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        let modes = agree(&p.display().to_string(), &bytes, &[2, 3, 5, 8]);
        assert!(
            modes.iter().all(|&m| m == Mode::Restart),
            "{}: {modes:?}",
            p.display()
        );
    }
}

#[test]
fn speculative_split_agrees_with_serial_on_generated_files() {
    for (name, chroma) in SAMPLINGS {
        for (w, h, q) in [(640, 480, 95.0), (333, 517, 60.0)] {
            let jpeg = encode(w, h, 11, chroma, q, false);
            let modes = agree(&format!("{name} {w}x{h}"), &jpeg, &[2, 3, 4, 7]);
            assert!(modes.contains(&Mode::Speculative), "{name}: {modes:?}");
        }
    }
    let gray = encode(700, 500, 5, (1, 1), 95.0, true);
    agree("gray", &gray, &[2, 4]);
}

#[test]
fn speculative_split_agrees_with_serial_on_a_20_megapixel_photo() {
    let bytes = std::fs::read(shared().join("large/kleiber_6028x3391.jpg")).unwrap();
    let modes = agree("kleiber", &bytes, &[2, 3, 8]);
    assert!(modes.iter().all(|&m| m == Mode::Speculative));
    // and the result is libjpeg-turbo's
    let (img, _) = ours(&bytes, 4, 2).unwrap();
    let (reference, _) = reference(&bytes, 4).unwrap();
    assert!(img == reference);
}

#[test]
fn damaged_files_fail_or_agree_on_several_threads() {
    let mut x = 0x2545F491u32;
    let mut rng = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let originals = [
        encode(640, 480, 2, (2, 2), 90.0, false),
        std::fs::read(data_dir().join("422_640x427_r3B.jpg")).unwrap(),
    ];
    for (f, bytes) in originals.iter().enumerate() {
        for i in 0..40 {
            let mut b = bytes.clone();
            let at = 700 + rng() as usize % (b.len() - 700);
            match i % 4 {
                0 => b[at] ^= 1 << (rng() % 8),
                1 => b[at] = rng() as u8,
                2 => b.truncate(at),
                _ => {
                    b.drain(at..at + 1 + rng() as usize % 64);
                }
            }
            agree(&format!("file {f} damage {i} at {at}"), &b, &[2, 3]);
        }
    }
}

#[test]
fn a_marker_inside_the_data_ends_it_for_every_thread() {
    // found by a mutation run: a speculative decoder retried past the marker and the true
    // decoder, reading zeros after its data, met one of its MCU starts
    let bytes = std::fs::read(data_dir().join("422_203x141_r0.jpg")).unwrap();
    // the input it found: one changed byte early in the data, an APP11 marker later
    let mut found = bytes.clone();
    found[641] = 0x3B;
    found[3010] = 0xFF;
    assert_eq!(found[3011], 0xEB);
    for denom in [2u8, 4, 8] {
        assert!(ours(&found, denom, 1).is_err());
        assert!(ours(&found, denom, 3).is_err(), "1/{denom} on 3 threads");
    }
    let start = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap() + 14;
    for k in 1..20 {
        let mut b = bytes.clone();
        let at = start + (b.len() - start) * k / 20;
        b[at] = 0xFF;
        b[at + 1] = 0xEB;
        for denom in [2u8, 8] {
            assert!(ours(&b, denom, 1).is_err());
            for n in [2, 3, 4] {
                assert!(ours(&b, denom, n).is_err(), "marker at {at}, {n} threads");
            }
        }
    }
}
