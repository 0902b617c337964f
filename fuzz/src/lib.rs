//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/`) and
//! by `tests/fuzz_regressions.rs`, which includes this file by path: the normal test command
//! then replays every seed and past crash without cargo-fuzz, nightly or a sanitizer build.
//!
//! Each body panics when pixfront misbehaves: a panic inside pixfront, an error that is not a
//! 4xx (or the 503 of a backend that did not answer), or an output that does not decode. It
//! only calls stable public entry points (`request::parse_at`, `pipeline::process`), so moving
//! codecs around inside the pipeline does not touch the targets.

use pixfront::edits::Edits;
use pixfront::pipeline::{process, Output, PipelineSettings, Resources};
use pixfront::request::hints::ClientHints;
use pixfront::request::presets::Presets;
use pixfront::request::{parse_at, ImageRequest, RequestInput, RequestSettings, StaticSecret};
use pixfront::Error;
use serde_json::{json, Value};

/// Every target by name, with its body (for the replay test and the scripts).
pub const TARGETS: [(&str, fn(&[u8])); 11] = [
    ("dialects", dialects),
    ("pipeline", pipeline),
    ("jpeg", jpeg),
    ("png", png),
    ("gif", gif),
    ("webp", webp),
    ("tiff", tiff),
    ("avif", avif),
    ("jxl", jxl),
    ("svg", svg),
    ("jpegscale", jpegscale),
];

/// Small limits, so a fuzzer's 60 000 × 60 000 header is refused instead of allocated and
/// every run stays in milliseconds.
pub fn settings() -> PipelineSettings {
    PipelineSettings {
        max_input_pixels: 1 << 20,
        max_output_dimension: 1024,
        max_animation_pixels: 4 << 20,
        ..PipelineSettings::default()
    }
}

/// The presets the `p` flag installs.
const FUZZ_PRESETS: &str = r#"{"presets": {"thumb": {"edits": {"resize": {"width": 40, "height": 30}}, "outputFormat": "webp"},
    "grey": {"edits": {"greyscale": true, "dpr": 2}}}}"#;

/// A 2×2 RGBA PNG: the original behind fuzzed URLs and the overlay of fuzzed edits.
const TINY_PNG: &[u8] = include_bytes!("../seeds/png/2x2-rgba.png");

/// URL dialects, then the pipeline on a tiny image. The input is text, one field a line:
/// path, query (empty: none), `Accept` (empty: none), and settings letters: `s` signed URLs
/// (key `secret`), `w` AUTO_WEBP, `a` AUTO_AVIF, `r` a Custom rewrite, `b` no SOURCE_BUCKETS,
/// `p` presets (`thumb`, `grey`), `o` PRESETS_ONLY, `h` CLIENT_HINTS with the `Accept` line as
/// every hint header.
pub fn dialects(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n');
    let mut path = lines.next().unwrap_or_default().to_string();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    let query = non_empty(lines.next());
    let accept = non_empty(lines.next());
    let flags = lines.next().unwrap_or_default();
    let request_settings = RequestSettings {
        source_buckets: (!flags.contains('b')).then(|| "bucket-a, bucket-b".to_string()),
        auto_webp: flags.contains('w'),
        auto_avif: flags.contains('a'),
        rewrite_match_pattern: flags.contains('r').then(|| "/(filters-)/gm".to_string()),
        rewrite_substitution: flags.contains('r').then(|| "filters:".to_string()),
        enable_signature: flags.contains('s'),
        presets: if flags.contains('p') {
            Presets::parse(FUZZ_PRESETS).unwrap_or_default()
        } else {
            Presets::default()
        },
        presets_only: flags.contains('o'),
        client_hints: flags.contains('h'),
    };
    let hint = accept.as_deref();
    let input = RequestInput {
        path: &path,
        query: query.as_deref(),
        accept: accept.as_deref(),
        hints: ClientHints {
            dpr: hint,
            width: hint,
            viewport_width: hint,
        },
    };
    let now = time::macros::datetime!(2025-06-01 12:00 UTC);
    let req = match parse_at(
        &input,
        &request_settings,
        &StaticSecret(Some("secret".into())),
        now,
    ) {
        Ok(req) => req,
        Err(e) => return check_error(&e, "parse"),
    };
    // Whatever the URL asks, the pipeline answers an image or a 4xx; overlays get a tiny PNG.
    let mut resources = Resources::default();
    for slot in pixfront::pipeline::overlay_refs(&req) {
        resources
            .overlays
            .insert(slot, bytes::Bytes::from_static(TINY_PNG));
    }
    let original = bytes::Bytes::from_static(TINY_PNG);
    check(
        &req,
        &original,
        process(&req, &original, None, &resources, &settings()),
    );
}

/// Edit recipes for the pipeline target, picked by the input's first byte.
fn recipes() -> Vec<Value> {
    vec![
        json!({"toFormat": "png"}),
        json!({"resize": {"width": 40}}),
        json!({"resize": {"width": 30, "height": 20, "fit": "cover"}, "toFormat": "jpeg"}),
        json!({"rotate": 33, "toFormat": "webp"}),
        json!({"flip": true, "flop": true, "toFormat": "gif"}),
        json!({"grayscale": true, "toFormat": "tiff"}),
        json!({"resize": {"width": 8}, "toFormat": "avif"}),
        json!({"extend": {"top": 3, "left": 2, "bottom": 1, "right": 4}, "flatten": {"background": "#102030"}}),
        json!({"extract": {"left": 1, "top": 1, "width": 3, "height": 2}, "toFormat": "webp"}),
        json!({"blur": 2, "sharpen": 1, "normalize": true}),
        json!({"trim": 10, "toFormat": "png"}),
        json!({"animated": true, "resize": {"width": 16}, "toFormat": "gif"}),
        json!({"animated": true, "toFormat": "webp"}),
        json!({"rotate": null, "toFormat": "raw"}),
    ]
}

/// Arbitrary bytes as an original: the first byte picks an edit recipe (the highest values
/// put the bytes in an overlay on a tiny original instead), the rest is the original.
pub fn pipeline(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let recipes = recipes();
    let bytes = bytes::Bytes::copy_from_slice(bytes);
    if pick as usize % (recipes.len() + 1) == recipes.len() {
        let req = request(json!({"overlayWith": {"bucket": "b", "key": "overlay"}}));
        let mut resources = Resources::default();
        resources.overlays.insert(("b".into(), "overlay".into()), bytes);
        let original = bytes::Bytes::from_static(TINY_PNG);
        check(
            &req,
            &original,
            process(&req, &original, None, &resources, &settings()),
        );
        return;
    }
    let req = request(recipes[pick as usize % (recipes.len() + 1)].clone());
    check(
        &req,
        &bytes,
        process(&req, &bytes, None, &Resources::default(), &settings()),
    );
}

/// One decoder: the input gets the format's magic if it lacks it, then is decoded in full
/// (to PNG) and shrunk on load (to the input's own format, which keeps animations).
fn decoder(data: &[u8], magic: &[u8], own_format: &str) {
    let mut bytes = data.to_vec();
    if !bytes.starts_with(magic) {
        bytes.splice(0..0, magic.iter().copied());
    }
    let bytes = bytes::Bytes::from(bytes);
    for edits in [
        json!({"flip": true, "toFormat": "png"}),
        json!({"resize": {"width": 24}, "toFormat": own_format}),
    ] {
        let req = request(edits);
        check(
            &req,
            &bytes,
            process(&req, &bytes, None, &Resources::default(), &settings()),
        );
    }
}

pub fn jpeg(data: &[u8]) {
    decoder(data, &[0xFF, 0xD8, 0xFF], "jpeg");
}

pub fn png(data: &[u8]) {
    decoder(data, b"\x89PNG\r\n\x1a\n", "png");
}

pub fn gif(data: &[u8]) {
    if data.starts_with(b"GIF87a") {
        return decoder(data, b"GIF87a", "gif");
    }
    decoder(data, b"GIF89a", "gif");
}

/// WebP's magic has the file size inside; a mutated one keeps the fuzzer's size.
pub fn webp(data: &[u8]) {
    if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return decoder(data, b"RIFF", "webp");
    }
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(data.len() as u32 + 4).to_le_bytes());
    bytes.extend_from_slice(b"WEBP");
    bytes.extend_from_slice(data);
    decoder(&bytes, b"RIFF", "webp");
}

pub fn tiff(data: &[u8]) {
    if data.starts_with(b"MM\0*") {
        return decoder(data, b"MM\0*", "tiff");
    }
    decoder(data, b"II*\0", "tiff");
}

/// AVIF (HEIF container, rav1d): an input without an `ftyp` box gets an AVIF one. Decoded to
/// PNG both times: AVIF encoding would spend the run in rav1e.
pub fn avif(data: &[u8]) {
    decoder(data, b"\0\0\0\x0cftypavif", "png");
}

/// JPEG XL (jxl-oxide): an input without a signature gets the bare codestream's.
pub fn jxl(data: &[u8]) {
    if data.starts_with(b"\0\0\0\x0cJXL ") {
        return decoder(data, b"", "png");
    }
    decoder(data, &[0xFF, 0x0A], "png");
}

/// SVG is rasterised (to PNG) only when there are edits; a text that does not sniff as SVG is
/// wrapped in an `<svg>` root.
pub fn svg(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let bytes = if text.contains("<svg") {
        data.to_vec()
    } else {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">{text}</svg>"#).into_bytes()
    };
    decoder(&bytes, b"", "png");
}

/// The scaled JPEG decoder (`crates/jpegscale`) alone. The first byte picks the scale (1/2,
/// 1/4, 1/8) and a thread count (2 to 4); the rest is the file (a JPEG start is added when
/// missing). It must not panic; its decodes on one thread and on several must agree (the same
/// pixels, or both an error); and a file it decodes must be one that libjpeg-turbo decodes
/// without a warning, to the same pixels.
pub fn jpegscale(data: &[u8]) {
    use pixfront_jpegscale::{decode_scaled, header, Options};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let denom = [2u8, 4, 8][pick as usize % 3];
    let threads = 2 + (pick as usize / 3) % 3;
    let mut bytes = rest.to_vec();
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        bytes.splice(0..0, [0xFF, 0xD8, 0xFF]);
    }
    let Ok(hdr) = header(&bytes) else {
        return;
    };
    let max_pixels = settings().max_input_pixels;
    let (w, h) = hdr.scaled_size(denom);
    let (w, h) = (w as usize, h as usize);
    let decode = |threads| {
        let mut out = vec![0u8; 3 * w * h];
        let opts = Options {
            denom,
            threads,
            max_pixels,
        };
        decode_scaled(&bytes, &opts, &mut out, 3 * w).map(|_| out)
    };
    let serial = decode(1);
    match (&serial, decode(threads)) {
        (Ok(a), Ok(b)) => assert!(*a == b, "1 and {threads} threads: other pixels"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "1 thread: {:?}, {threads} threads: {:?}",
            a.as_ref().err(),
            b.err()
        ),
    }
    if let Ok(ours) = serial {
        match libjpeg_turbo(&bytes, denom) {
            Some((size, pixels, false)) => {
                assert_eq!(size, (w, h), "libjpeg-turbo's size");
                assert!(pixels == ours, "other pixels than libjpeg-turbo");
            }
            Some((..)) => panic!("decoded a file libjpeg-turbo warns about"),
            None => panic!("decoded a file libjpeg-turbo refuses"),
        }
    }
}

thread_local! {
    static LIBJPEG_WARNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// libjpeg's message hook: level -1 is a warning about the data. A JFIF version other than 1
/// is about metadata (pixfront ignores that warning too).
extern "C-unwind" fn libjpeg_message(
    cinfo: &mut mozjpeg_sys::jpeg_common_struct,
    level: std::os::raw::c_int,
) {
    // SAFETY: libjpeg calls this with `err` pointing at the manager it was given, which lives
    // as long as the decompressor.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    if level < 0 && code != mozjpeg_sys::JWRN_JFIF_MAJOR {
        LIBJPEG_WARNED.set(true);
    }
}

extern "C-unwind" fn libjpeg_error(_cinfo: &mut mozjpeg_sys::jpeg_common_struct) {
    std::panic::resume_unwind(Box::new("libjpeg error"));
}

/// libjpeg-turbo's scaled RGB decode: size, pixels, and whether it warned; None when it fails.
fn libjpeg_turbo(bytes: &[u8], denom: u8) -> Option<((usize, usize), Vec<u8>, bool)> {
    // SAFETY: jpeg_std_error fills in every field of the (zeroed, so valid) struct it is given;
    // the two hooks are then replaced by functions of the right signature.
    let err = unsafe {
        let mut err: mozjpeg_sys::jpeg_error_mgr = std::mem::zeroed();
        mozjpeg_sys::jpeg_std_error(&mut err);
        err.error_exit = Some(libjpeg_error);
        err.emit_message = Some(libjpeg_message);
        err
    };
    LIBJPEG_WARNED.set(false);
    let (size, pixels) = std::panic::catch_unwind(|| {
        let mut d = mozjpeg::Decompress::with_err(err).from_mem(bytes).ok()?;
        d.scale(8 / denom);
        let mut s = d.rgb().ok()?;
        let size = (s.width(), s.height());
        let pixels: Vec<u8> = s.read_scanlines().ok()?;
        s.finish().ok()?;
        Some((size, pixels))
    })
    .ok()
    .flatten()?;
    Some((size, pixels, LIBJPEG_WARNED.get()))
}

fn request(edits: Value) -> ImageRequest {
    let (edits, _) = Edits::from_json(edits.as_object().expect("recipes are objects")).expect("valid recipe");
    ImageRequest::new("b", "k", edits)
}

/// Bad input is the user's mistake (4xx); 503 is a backend (face detection) that did not answer.
fn check_error(e: &Error, stage: &str) {
    assert!(
        e.is_client_error() || e.status == 503,
        "{stage}: bad input must be a 4xx, got {e}"
    );
}

/// An answer is a 4xx or an image that decodes, in the format it is labelled with.
fn check(req: &ImageRequest, original: &bytes::Bytes, result: Result<Output, Error>) {
    let out = match result {
        Ok(out) => out,
        Err(e) => return check_error(&e, "process"),
    };
    if out.passthrough {
        assert_eq!(&out.bytes, original, "a passthrough returns the original");
        return;
    }
    let format = match out.content_type.as_str() {
        "image/png" => image::ImageFormat::Png,
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/gif" => image::ImageFormat::Gif,
        "image/webp" => image::ImageFormat::WebP,
        "image/tiff" => image::ImageFormat::Tiff,
        // `image` has no AVIF decoder in this build: the container's brand must be there.
        "image/avif" => return assert_eq!(out.bytes.get(4..12), Some(&b"ftypavif"[..]), "AVIF output"),
        "application/octet-stream" => return assert!(!out.bytes.is_empty(), "raw output is empty"),
        other => panic!("unexpected Content-Type {other} for {:?}", req.edits.to_json()),
    };
    let img = image::load_from_memory_with_format(&out.bytes, format)
        .unwrap_or_else(|e| panic!("{} output does not decode: {e}", out.content_type));
    let max = settings().max_output_dimension;
    assert!(
        img.width() <= max && img.height() <= max && img.width() > 0 && img.height() > 0,
        "output {}x{} outside 1..={max}",
        img.width(),
        img.height()
    );
}
