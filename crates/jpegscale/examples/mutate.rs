//! A quick mutation run without cargo-fuzz (which builds all of pixfront): random edits of the
//! files in `tests/data`, each decoded at a random scale on 1 and 3 threads and by
//! libjpeg-turbo. A finding is a panic, 1 and 3 threads disagreeing (pixels, or one failing),
//! or a decode libjpeg-turbo refuses, warns about or decodes to other pixels. Findings are
//! written to FOLDER (default /tmp/jpegscale-findings) and the exit status is 1.
//!
//!     cargo run --release -p pixfront-jpegscale --example mutate -- [SECONDS] [SEED] [FOLDER]

use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr};
use pixfront_jpegscale::{decode_scaled, header, Options};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// libjpeg's message hook: level -1 is a warning about the data (JFIF's version number aside).
extern "C-unwind" fn on_message(cinfo: &mut jpeg_common_struct, level: std::os::raw::c_int) {
    // SAFETY: libjpeg calls this with `err` pointing at the manager it was given, alive for the
    // whole decode.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    if level < 0 && code != mozjpeg_sys::JWRN_JFIF_MAJOR {
        WARNED.set(true);
    }
}

extern "C-unwind" fn on_error(_cinfo: &mut jpeg_common_struct) {
    std::panic::resume_unwind(Box::new("libjpeg error"));
}

/// libjpeg-turbo's scaled RGB decode and whether it warned; None when it fails.
fn libjpeg_turbo(bytes: &[u8], denom: u8) -> Option<(Vec<u8>, bool)> {
    // SAFETY: jpeg_std_error fills in every field of the (zeroed, so valid) struct it is given;
    // the two hooks are then replaced by functions of the right signature.
    let err = unsafe {
        let mut err: jpeg_error_mgr = std::mem::zeroed();
        mozjpeg_sys::jpeg_std_error(&mut err);
        err.error_exit = Some(on_error);
        err.emit_message = Some(on_message);
        err
    };
    WARNED.set(false);
    let px = catch_unwind(|| {
        let mut d = mozjpeg::Decompress::with_err(err).from_mem(bytes).ok()?;
        d.scale(8 / denom);
        let mut s = d.rgb().ok()?;
        let px: Vec<u8> = s.read_scanlines().ok()?;
        s.finish().ok()?;
        Some(px)
    })
    .ok()
    .flatten()?;
    Some((px, WARNED.get()))
}

/// What is wrong with our decode of `b`, if anything.
fn finding(b: &[u8], denom: u8) -> Option<String> {
    let hdr = header(b).ok()?;
    if hdr.width as u64 * hdr.height as u64 > 1 << 20 {
        return None;
    }
    let (w, h) = hdr.scaled_size(denom);
    let (w, h) = (w as usize, h as usize);
    let decode = |threads| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut out = vec![0u8; 3 * w * h];
            let opts = Options {
                denom,
                threads,
                max_pixels: 1 << 20,
            };
            decode_scaled(b, &opts, &mut out, 3 * w).map(|_| out)
        }))
    };
    let (Ok(one), Ok(three)) = (decode(1), decode(3)) else {
        return Some("panic".into());
    };
    match (&one, &three) {
        (Ok(a), Ok(c)) if a != c => return Some("1 and 3 threads: other pixels".into()),
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => return Some(format!("1 and 3 threads disagree: {e}")),
        _ => {}
    }
    let ours = one.ok()?;
    match libjpeg_turbo(b, denom) {
        Some((px, false)) if px == ours => None,
        Some((_, false)) => Some("other pixels than libjpeg-turbo".into()),
        Some((_, true)) => Some("libjpeg-turbo warns".into()),
        None => Some("libjpeg-turbo refuses".into()),
    }
}

fn main() {
    std::panic::set_hook(Box::new(|_| {})); // panics are findings, reported below
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut x: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(88172645463325252)
        .max(1);
    let folder = std::path::PathBuf::from(args.get(2).map_or("/tmp/jpegscale-findings", |s| s.as_str()));
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(data)
        .expect("tests/data")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    seeds.sort();
    let mut rng = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = std::time::Instant::now();
    let (mut runs, mut found) = (0u64, 0u64);
    while start.elapsed().as_secs() < seconds {
        let mut b = seeds[rng() as usize % seeds.len()].clone();
        for _ in 0..1 + rng() % 4 {
            if b.is_empty() {
                b.push(0xFF);
            }
            let i = rng() as usize % b.len();
            let (r1, r2) = (rng(), rng());
            let end = |n: u64| (i + 1 + (r2 % n) as usize).min(b.len());
            match r1 % 6 {
                0 => b[i] ^= 1 << (r2 % 8),
                1 => b[i] = r2 as u8,
                2 => b.insert(i, r2 as u8),
                3 => drop(b.drain(i..end(16))),
                4 => b[i] = [0, 0xFF, 0x7F, 0x80][r2 as usize % 4],
                _ => {
                    let s = b[i..end(64)].to_vec();
                    b.splice(i..i, s);
                }
            }
        }
        runs += 1;
        let denom = [2u8, 4, 8][rng() as usize % 3];
        if let Some(what) = finding(&b, denom) {
            found += 1;
            let _ = std::fs::create_dir_all(&folder);
            let path = folder.join(format!("{found}-1_{denom}.jpg"));
            let _ = std::fs::write(&path, &b);
            println!("{}: {what}", path.display());
        }
    }
    println!("{runs} inputs, {found} findings");
    std::process::exit((found > 0) as i32);
}
