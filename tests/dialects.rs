//! Request dialects against the SIH compatibility spec: detection order, Thumbor mapping and
//! filters, key extraction, buckets, query merge, signatures, output format, round trips.

use base64::Engine;
use pixfront::config::Config;
use pixfront::request::{parse_at, ImageRequest, RequestInput, RequestType, StaticSecret};
use serde_json::{json, Value};
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2025-06-01 12:00 UTC);

fn config() -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some("bucket-a, bucket-b".into());
    c
}

fn parse_full(
    path: &str,
    query: Option<&str>,
    accept: Option<&str>,
    cfg: &Config,
) -> Result<ImageRequest, pixfront::Error> {
    let input = RequestInput {
        path,
        query,
        accept,
        ..Default::default()
    };
    parse_at(
        &input,
        &cfg.request,
        &StaticSecret(cfg.secrets.signature_secret.clone()),
        NOW,
    )
}

fn parse(path: &str) -> Result<ImageRequest, pixfront::Error> {
    parse_full(path, None, None, &config())
}

fn edits(req: &ImageRequest) -> Value {
    Value::Object(req.edits.to_json())
}

fn b64(v: &Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(v.to_string())
    )
}

#[test]
fn thumbor_paths_map_to_sih_edits() {
    let cases: &[(&str, Value)] = &[
        (
            "/fit-in/400x300/a.jpg",
            json!({"resize": {"width": 400, "height": 300, "fit": "inside"}}),
        ),
        (
            "/400x0/a.jpg",
            json!({"resize": {"fit": "inside", "width": 400, "height": null}}),
        ),
        (
            "/0x300/a.jpg",
            json!({"resize": {"fit": "inside", "width": null, "height": 300}}),
        ),
        (
            "/10x20:110x220/a.jpg",
            json!({"crop": {"left": 10, "top": 20, "width": 100, "height": 200}}),
        ),
        (
            "/10x20:110x220/300x200/a.jpg",
            json!({"crop": {"left": 10, "top": 20, "width": 100, "height": 200}, "resize": {"width": 300, "height": 200}}),
        ),
        ("/a.jpg", json!({})),
        ("/fit-in/a.jpg", json!({"resize": {"fit": "inside"}})),
        // fit-in is found anywhere, even in the key.
        ("/my-fit-in-photo.jpg", json!({"resize": {"fit": "inside"}})),
        // Only the first slash-delimited size counts.
        (
            "/100x100/test-100x100/test/beach-100x100.jpg",
            json!({"resize": {"width": 100, "height": 100}}),
        ),
        (
            "/fit-in/400x0/filters:fill(ffffff)/fit-in-thumbor-image (1) suffix.jpg",
            json!({"resize": {"fit": "contain", "width": 400, "height": null, "background": {"r": 255, "g": 255, "b": 255}}}),
        ),
    ];
    for (path, want) in cases {
        let req = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(req.request_type, RequestType::Thumbor, "{path}");
        assert_eq!(&edits(&req), want, "{path}");
    }
}

#[test]
fn every_thumbor_filter() {
    let cases: &[(&str, Value)] = &[
        ("/filters:autojpg()/a.png", json!({"toFormat": "jpeg"})),
        (
            "/filters:background_color(ff0000)/a.png",
            json!({"flatten": {"background": {"r": 255, "g": 0, "b": 0}}}),
        ),
        (
            "/filters:background_color(red)/a.png",
            json!({"flatten": {"background": {"r": 255, "g": 0, "b": 0}}}),
        ),
        (
            "/filters:background_color(0f08)/a.png",
            json!({"flatten": {"background": {"r": 0, "g": 255, "b": 0, "alpha": 136.0/255.0}}}),
        ),
        ("/filters:blur(60)/a.jpg", json!({"blur": 30})),
        ("/filters:blur(60,2)/a.jpg", json!({"blur": 2})),
        ("/filters:blur(1)/a.jpg", json!({"blur": 0.5})),
        (
            "/filters:convolution(1;2;1;2;4;2;1;2;1,3,true)/a.jpg",
            json!({"convolve": {"width": 3, "height": 3, "kernel": [1, 2, 1, 2, 4, 2, 1, 2, 1]}}),
        ),
        (
            "/filters:convolution(1;2;3;4,3)/a.jpg",
            json!({"convolve": {"width": 3, "height": 2, "kernel": [1, 2, 3, 4]}}),
        ),
        ("/filters:equalize()/a.jpg", json!({"normalize": true})),
        (
            "/filters:fill(00ff00)/a.jpg",
            json!({"resize": {"fit": "contain", "background": {"r": 0, "g": 255, "b": 0}}}),
        ),
        ("/filters:format(webp)/a.jpg", json!({"toFormat": "webp"})),
        ("/filters:format(JPG)/a.png", json!({"toFormat": "jpeg"})),
        (
            "/filters:format(image/png)/a.jpg",
            json!({"toFormat": "imagepng"})
                .as_object()
                .map(|_| json!({}))
                .unwrap(),
        ),
        ("/filters:format(PNG)/a.jpg", json!({})),
        ("/filters:format(bmp)/a.jpg", json!({})),
        ("/filters:grayscale()/a.jpg", json!({"grayscale": true})),
        (
            "/filters:no_upscale()/a.jpg",
            json!({"resize": {"withoutEnlargement": true}}),
        ),
        (
            "/200x100/filters:proportion(0.5)/a.jpg",
            json!({"resize": {"width": 100, "height": 50}}),
        ),
        (
            "/filters:proportion(0.3)/a.jpg",
            json!({"resize": {"ratio": 0.3}}),
        ),
        ("/filters:quality(50)/a.jpg", json!({"jpeg": {"quality": 50}})),
        ("/filters:quality(50)/a.jpeg", json!({"jpeg": {"quality": 50}})),
        ("/filters:quality(50)/a.png", json!({"png": {"quality": 50}})),
        // `.JPG` is not recognised, and nor is `tif`: no format, no quality.
        ("/filters:quality(50)/a.JPG", json!({})),
        ("/filters:quality(50)/a.tif", json!({})),
        // Extensionless key: the format() filter decides (sorted before quality()).
        (
            "/filters:quality(50)/filters:format(webp)/a",
            json!({"toFormat": "webp", "webp": {"quality": 50}}),
        ),
        (
            "/filters:rgb(10,20,100)/a.jpg",
            json!({"tint": {"r": 25.5, "g": 51, "b": 255}}),
        ),
        ("/filters:rotate(90)/a.jpg", json!({"rotate": 90})),
        ("/filters:sharpen(2,4,true)/a.jpg", json!({"sharpen": 3})),
        ("/filters:stretch()/a.jpg", json!({"resize": {"fit": "fill"}})),
        (
            "/fit-in/filters:stretch()/a.jpg",
            json!({"resize": {"fit": "inside"}}),
        ),
        ("/filters:strip_exif()/a.jpg", json!({"rotate": null})),
        ("/filters:strip_icc()/a.jpg", json!({"rotate": null})),
        ("/filters:upscale()/a.jpg", json!({"resize": {"fit": "inside"}})),
        (
            "/filters:watermark(bucket-a,folder/logo.png,-10p,20,30,40,50)/a.jpg",
            json!({"overlayWith": {"bucket": "bucket-a", "key": "folder/logo.png", "alpha": "30", "wRatio": "40",
                   "hRatio": "50", "options": {"left": "-10p", "top": "20"}}}),
        ),
        (
            "/filters:watermark(bucket-a, logo.png, center, 101p)/a.jpg",
            json!({"overlayWith": {"bucket": "bucket-a", "key": "logo.png", "options": {}}}),
        ),
        ("/filters:animated(false)/a.gif", json!({"animated": false})),
        ("/filters:animated()/a.gif", json!({"animated": true})),
        ("/filters:animated(True)/a.gif", json!({"animated": true})),
        (
            "/filters:smart_crop(1,20)/a.jpg",
            json!({"smartCrop": {"faceIndex": 1, "padding": 20}}),
        ),
        // Chained filters in one segment, applied in lexicographic order.
        (
            "/filters:rotate(90):grayscale()/a.jpg",
            json!({"grayscale": true, "rotate": 90}),
        ),
        // Two format() filters: the lexicographically last wins.
        (
            "/filters:format(webp)/filters:format(png)/a.jpg",
            json!({"toFormat": "webp"}),
        ),
    ];
    for (path, want) in cases {
        let req = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&edits(&req), want, "{path}");
    }
}

#[test]
fn unknown_filters_are_ignored_and_reported() {
    let req = parse("/filters:brightness(10)/filters:grayscale()/filters:Grayscale()/a.jpg").unwrap();
    assert_eq!(edits(&req), json!({"grayscale": true}));
    assert_eq!(req.ignored, ["filters:Grayscale()", "filters:brightness(10)"]);
}

#[test]
fn filter_mistakes_sih_answers_500_are_400() {
    for path in [
        "/filters:fill(notacolour)/a.jpg",
        "/filters:fill(transparentish)/a.jpg",
        "/filters:background_color(#fff)/a.jpg",
        "/filters:blur(abc)/a.jpg",
        "/filters:rotate(x)/a.jpg",
        "/filters:quality(abc)/a.jpg",
        "/filters:quality(0)/a.jpg",
        "/filters:sharpen(2)/a.jpg",
        "/filters:rgb(1,2)/a.jpg",
        "/filters:convolution(1;2,0)/a.jpg",
        "/filters:format(heic)/a.jpg",
        "/10x10:5x5/a.jpg",
        "/10x10:10x20/a.jpg",
        "/filters:watermark(other-bucket,k.png,0,0)/a.jpg",
    ] {
        let e = parse(path).expect_err(path);
        assert!(e.is_client_error(), "{path}: {e}");
    }
    assert_eq!(
        parse("/10x10:5x5/a.jpg").unwrap_err().code,
        "Crop::AreaOutOfBounds"
    );
    assert_eq!(
        parse("/filters:watermark(other,k.png,0,0)/a.jpg")
            .unwrap_err()
            .status,
        403
    );
}

#[test]
fn key_extraction() {
    for (path, key) in [
        (
            "/filters:rotate(90)/filters:grayscale()/thumbor-image (1).jpg",
            "thumbor-image (1).jpg",
        ),
        (
            "/100x100/test-100x100/test/beach-100x100.jpg",
            "test-100x100/test/beach-100x100.jpg",
        ),
        (
            "/fit-in/400x0/filters:fill(ffffff)/fit-in-thumbor-image (1) suffix.jpg",
            "fit-in-thumbor-image (1) suffix.jpg",
        ),
        (
            "/fit-in/400x400/filters:watermark(bucket-a,folder/key.png,0,0)/image.jpg",
            "image.jpg",
        ),
        ("/unsafe/a.jpg", "unsafe/a.jpg"),
        ("/s3:bucket-b/photos/a.jpg", "photos/a.jpg"),
        ("/s3:elsewhere/photos/a.jpg", "s3:elsewhere/photos/a.jpg"),
        ("/photos/caf%C3%A9%20au+lait.jpg", "photos/café au+lait.jpg"),
        ("/", ""),
        ("/image", "image"),
    ] {
        assert_eq!(parse(path).unwrap().key, key, "{path}");
    }
    let e = parse("/a%zz.jpg").unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (400, "ImageKey::MalformedEscape"));
}

#[test]
fn detection_order() {
    let default = b64(&json!({"bucket": "bucket-a", "key": "a.jpg"}));
    assert_eq!(parse(&default).unwrap().request_type, RequestType::Default);
    // Valid base64 that is not JSON falls through to Thumbor (no extension).
    assert_eq!(parse("/aGVsbG8=").unwrap().request_type, RequestType::Thumbor);
    for bad in ["/a.bmp", "/a.abc", "/photos/a.heic"] {
        let e = parse(bad).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (400, "RequestTypeError"), "{bad}");
    }
    let custom = {
        let mut c = config();
        c.request.rewrite_match_pattern = Some("/(filters-)/gm".into());
        c.request.rewrite_substitution = Some("filters:".into());
        c
    };
    // Default still wins over Custom; Custom takes every other path, even `.bmp`.
    assert_eq!(
        parse_full(&default, None, None, &custom).unwrap().request_type,
        RequestType::Default
    );
    let req = parse_full(
        "/filters-rotate(90)/filters-grayscale()/thumbor-image.jpg",
        None,
        None,
        &custom,
    )
    .unwrap();
    assert_eq!(req.request_type, RequestType::Custom);
    assert_eq!(edits(&req), json!({"grayscale": true, "rotate": 90}));
    assert_eq!(req.key, "thumbor-image.jpg");
    assert_eq!(
        parse_full("/a.bmp", None, None, &custom).unwrap().request_type,
        RequestType::Custom
    );
    let broken = {
        let mut c = custom;
        c.request.rewrite_match_pattern = Some("/(unclosed/".into());
        c
    };
    assert_eq!(parse_full("/a.jpg", None, None, &broken).unwrap_err().status, 500);
}

#[test]
fn buckets() {
    let d = |v: Value| parse(&b64(&v));
    assert_eq!(d(json!({"key": "a.jpg"})).unwrap().bucket, "bucket-a");
    assert_eq!(
        d(json!({"bucket": "bucket-b", "key": "a.jpg"})).unwrap().bucket,
        "bucket-b"
    );
    let e = d(json!({"bucket": "nope", "key": "a.jpg"})).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_ref()),
        (403, "ImageBucket::CannotAccessBucket")
    );
    let e =
        d(json!({"bucket": "nope", "key": "a.jpg", "edits": {"overlayWith": {"bucket": "x", "key": "k"}}}))
            .unwrap_err();
    assert_eq!(e.status, 403);
    assert_eq!(parse("/s3:bucket-b/a.jpg").unwrap().bucket, "bucket-b");
    let unset = Config::default();
    let e = parse_full("/a.jpg", None, None, &unset).unwrap_err();
    assert_eq!(
        (e.status, e.code.as_ref()),
        (400, "GetAllowedSourceBuckets::NoSourceBuckets")
    );
    let e = d(json!({"bucket": "bucket-a"})).unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (404, "NoSuchKey"));
}

#[test]
fn default_requests() {
    let v = json!({"bucket": "bucket-a", "key": "photos/ünï code.jpg",
                   "edits": {"resize": {"width": 200, "fit": "cover"}, "grayscale": true, "toFile": "x"},
                   "outputFormat": "webp", "effort": 9, "headers": {"Cache-Control": "max-age=60", "Content-Type": "x"}});
    let req = parse(&b64(&v)).unwrap();
    assert_eq!(req.key, "photos/ünï code.jpg");
    assert_eq!(
        edits(&req),
        json!({"resize": {"width": 200, "fit": "cover"}, "grayscale": true})
    );
    assert_eq!(req.ignored, ["toFile"]);
    assert_eq!(req.output_format, Some(pixfront::edits::Format::Webp));
    assert_eq!(req.effort, Some(4));
    assert_eq!(req.headers.as_ref().unwrap().len(), 1);
    // sharp lower-cases format names.
    let req = parse(&b64(
        &json!({"key": "a", "outputFormat": "PNG", "edits": {"toFormat": "JPG"}}),
    ))
    .unwrap();
    assert_eq!(req.output_format, Some(pixfront::edits::Format::Png));
    assert_eq!(edits(&req), json!({"toFormat": "jpeg"}));
    // Any JSON counts as a Default request; without a key it is SIH's 404.
    let e = parse("/MTIz").unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (404, "NoSuchKey"));
    let e = parse(&b64(&json!({"key": "a", "outputFormat": "bmp"}))).unwrap_err();
    assert_eq!(e.code, "UnsupportedOutputImageFormatException");
    let e = parse(&b64(&json!({"key": "a", "edits": {"resize": {"width": 0}}}))).unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (400, "InvalidResizeException"));
}

#[test]
fn query_params_merge_over_path_edits() {
    let cfg = config();
    let req = parse_full(
        "/fit-in/400x300/filters:grayscale()/a.jpg",
        Some("width=100&format=webp&flip=true"),
        None,
        &cfg,
    )
    .unwrap();
    assert_eq!(
        edits(&req),
        json!({"resize": {"width": 100}, "grayscale": true, "toFormat": "webp", "flip": true})
    );
    let e = parse_full("/a.jpg", Some("rotate=abc"), None, &cfg).unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (400, "QueryParameterParsingError"));
    let req = parse_full("/a.jpg", Some("unknown=1&greyscale=0"), None, &cfg).unwrap();
    assert_eq!(edits(&req), json!({"greyscale": false}));
}

#[test]
fn signature_and_expires() {
    let cfg = {
        let mut c = Config::default();
        c.request.enable_signature = true;
        c.secrets.signature_secret = Some("secret".into());
        c.request.source_buckets = Some("validBucket".into());
        c
    };
    let path =
        "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0=";
    let good = "signature=4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3";
    let req = parse_full(path, Some(good), None, &cfg).unwrap();
    assert_eq!(req.key, "validKey");
    let code = |q: Option<&str>, c: &Config| {
        let e = parse_full(path, q, None, c).unwrap_err();
        (e.status, e.code.into_owned())
    };
    assert_eq!(
        code(None, &cfg),
        (400, "AuthorizationQueryParametersError".into())
    );
    assert_eq!(
        code(Some("signature="), &cfg),
        (400, "AuthorizationQueryParametersError".into())
    );
    assert_eq!(
        code(Some(&good.to_uppercase().replace("SIGNATURE", "signature")), &cfg),
        (403, "SignatureDoesNotMatch".into())
    );
    let keyless = {
        let mut c = cfg.clone();
        c.secrets.signature_secret = None;
        c
    };
    assert_eq!(
        code(Some(good), &keyless),
        (500, "SignatureValidationFailure".into())
    );
    // Signed query parameters: sorted, without `signature`.
    let signed = pixfront::cli::sign::sign(
        "/fit-in/100x100/a.jpg?width=50&expires=20250601T130000Z",
        b"secret",
    );
    let (p, q) = signed.split_once('?').unwrap();
    let cfg2 = {
        let mut c = cfg.clone();
        c.request.source_buckets = Some("b".into());
        c
    };
    assert_eq!(
        edits(&parse_full(p, Some(q), None, &cfg2).unwrap()),
        json!({"resize": {"width": 50}})
    );
    let tampered = q.replace("width=50", "width=500");
    assert_eq!(
        parse_full(p, Some(&tampered), None, &cfg2).unwrap_err().status,
        403
    );
    // Expired (checked after the signature).
    let old = pixfront::cli::sign::sign("/a.jpg?expires=20250601T115959Z", b"secret");
    let (p, q) = old.split_once('?').unwrap();
    assert_eq!(
        parse_full(p, Some(q), None, &cfg2).unwrap_err().code,
        "ImageRequestExpired"
    );
    let e = parse_full("/a.jpg", Some("expires=2025-06-01"), None, &config()).unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (400, "ImageRequestExpiryFormat"));
    let fresh = parse_full("/a.jpg", Some("expires=20250601T130000Z"), None, &config()).unwrap();
    assert_eq!(fresh.seconds_to_expiry, Some(3600));
    assert_eq!(parse("/a.jpg").unwrap().seconds_to_expiry, None);
}

#[test]
fn output_format_precedence() {
    let auto = {
        let mut c = config();
        c.request.auto_webp = true;
        c.request.auto_avif = true;
        c
    };
    let chrome = Some("image/avif,image/webp,image/apng,image/*,*/*;q=0.8");
    let req = parse_full("/a.jpg", None, chrome, &auto).unwrap();
    assert_eq!(req.requested_format(), Some(pixfront::edits::Format::Avif));
    assert!(req.format_negotiated);
    let req = parse_full("/filters:format(png)/a.jpg", None, chrome, &auto).unwrap();
    assert_eq!(req.requested_format(), Some(pixfront::edits::Format::Png));
    assert!(!req.format_negotiated);
    let webp_only = {
        let mut c = config();
        c.request.auto_webp = true;
        c
    };
    let req = parse_full(
        &b64(&json!({"key": "a.jpg", "outputFormat": "png"})),
        None,
        chrome,
        &webp_only,
    )
    .unwrap();
    assert_eq!(req.requested_format(), Some(pixfront::edits::Format::Webp));
    let req = parse_full(
        &b64(&json!({"key": "a.jpg", "outputFormat": "png"})),
        None,
        Some("image/png"),
        &webp_only,
    )
    .unwrap();
    assert_eq!(req.requested_format(), Some(pixfront::edits::Format::Png));
    let req = parse_full("/a.jpg", None, Some("image/avif;q=0"), &auto).unwrap();
    assert_eq!(req.requested_format(), None);
    // fixQuality: a JPEG quality follows the negotiated output format (Thumbor).
    let req = parse_full("/filters:quality(70)/a.jpg", None, chrome, &webp_only).unwrap();
    assert_eq!(edits(&req), json!({"webp": {"quality": 70}}));
}

#[test]
fn explain_output_base64_is_an_equivalent_default_request() {
    for path in [
        "/fit-in/400x0/filters:fill(ffffff)/filters:quality(80)/photos/a.jpg",
        "/10x20:110x220/300x200/filters:rgb(10,20,30):blur(3)/s3:bucket-b/a.png",
        "/filters:watermark(bucket-a,logo.png,10p,-20,50)/filters:strip_exif()/a.webp",
        "/filters:convolution(1;1;1;1;1;1;1;1;1,3)/filters:proportion(0.5)/a.gif",
    ] {
        let req = parse(path).unwrap();
        let explained = serde_json::to_value(&req).unwrap();
        let again = parse(&b64(&explained)).unwrap();
        assert_eq!(again.request_type, RequestType::Default);
        assert_eq!((&again.bucket, &again.key), (&req.bucket, &req.key), "{path}");
        assert_eq!(again.edits, req.edits, "{path}");
        assert!(
            again.ignored.iter().all(|k| k == "requestType"),
            "{:?}",
            again.ignored
        );
    }
}
