//! sharp's `linear`, `recomb`, `extractChannel`, `bandbool`, `toColourspace`,
//! `pipelineColourspace`, `unflatten`, `clahe` and `affine` on small synthetic pictures, against the exact
//! values sharp 0.35.5 gives for the same raw input (float arithmetic, then clipped and
//! truncated, as libvips), and the edits pixfront refuses (400, never ignored).

use pixfront::config::Config;
use pixfront::edits::Edits;
use pixfront::pipeline::ops::{apply_all, OpContext};
use pixfront::pipeline::picture::Picture;
use pixfront::pipeline::Resources;
use pixfront::request::ImageRequest;
use serde_json::{json, Value};

const RGBA: [u8; 16] = [
    10, 100, 200, 255, 255, 255, 255, 128, 254, 255, 255, 255, 7, 13, 250, 200,
];

fn rgb() -> Picture {
    let px: Vec<u8> = RGBA.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    Picture::still(image::RgbImage::from_raw(4, 1, px).unwrap(), false)
}

fn rgba() -> Picture {
    Picture::still(image::RgbaImage::from_raw(4, 1, RGBA.to_vec()).unwrap(), true)
}

fn apply(edits: Value, pic: Picture) -> Result<Picture, pixfront::Error> {
    let (edits, ignored) = Edits::from_json(edits.as_object().unwrap())?;
    assert!(ignored.is_empty(), "{ignored:?}");
    let config = Config::default();
    let resources = Resources::default();
    let ctx = OpContext {
        resources: &resources,
        config: &config.pipeline,
        original_size: (pic.width(), pic.height()),
        first_resize_from: None,
    };
    apply_all(&edits, pic, &ctx)
}

/// The picture's pixels as RGBA, and whether it still has alpha.
fn pixels(edits: Value, pic: Picture) -> (Vec<u8>, bool) {
    let out = apply(edits.clone(), pic).unwrap_or_else(|e| panic!("{edits}: {e}"));
    (
        out.frames[0].pixels.to_rgba().into_owned().into_raw(),
        out.has_alpha,
    )
}

/// Colour channels only, alpha dropped.
fn colour(edits: Value, pic: Picture) -> Vec<u8> {
    pixels(edits, pic)
        .0
        .chunks(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn grey(values: [u8; 4], alpha: [u8; 4]) -> Vec<u8> {
    values
        .iter()
        .zip(alpha)
        .flat_map(|(v, a)| [*v, *v, *v, a])
        .collect()
}

fn refused(edits: Value, pic: Picture) -> pixfront::Error {
    let err = apply(edits.clone(), pic).expect_err(&edits.to_string());
    assert_eq!(err.status, 400, "{edits}: {err}");
    err
}

#[test]
fn linear_is_a_times_input_plus_b_truncated() {
    // SIH's one argument: a, with b = 0; 7·1.5 = 10.5 → 10 (truncated, as libvips).
    assert_eq!(
        colour(json!({"linear": 1.5}), rgb()),
        [15, 150, 255, 255, 255, 255, 255, 255, 255, 10, 19, 255]
    );
    // One a and b for the colour channels: alpha untouched.
    let (px, alpha) = pixels(json!({"linear": {"a": 0.5, "b": 2.7}}), rgba());
    assert_eq!(
        px,
        [7, 52, 102, 255, 130, 130, 130, 128, 129, 130, 130, 255, 6, 9, 127, 200]
    );
    assert!(alpha);
    // Per channel, three values: R, G, B.
    assert_eq!(
        pixels(json!({"linear": {"a": [0.5, 1, 2], "b": [1, 2, 3]}}), rgba()).0,
        [6, 102, 255, 255, 128, 255, 255, 128, 128, 255, 255, 255, 4, 15, 255, 200]
    );
    // Four values: alpha too (255·0.5 + 4 = 131.5 → 131).
    assert_eq!(
        pixels(
            json!({"linear": {"a": [0.5, 1, 2, 0.5], "b": [1, 2, 3, 4]}}),
            rgba()
        )
        .0,
        [6, 102, 255, 131, 128, 255, 255, 68, 128, 255, 255, 131, 4, 15, 255, 104]
    );
    // Negative results clip to 0; `null` does nothing.
    assert_eq!(colour(json!({"linear": -0.5}), rgb()), [0; 12]);
    assert_eq!(pixels(json!({"linear": null}), rgba()).0, RGBA);
}

#[test]
fn linear_argument_shapes_sharp_rejects_are_400() {
    for bad in [
        json!({"linear": [0.5, 1, 2]}),
        json!({"linear": {"a": [0.5, 1, 2]}}),
        json!({"linear": {"a": [1, 2], "b": [1]}}),
        json!({"linear": "2"}),
        json!({"linear": {"a": 1, "c": 2}}),
        json!({"linear": {"a": ["x"], "b": [1]}}),
    ] {
        assert_eq!(refused(bad, rgb()).code, "ImageEdits::InvalidArgument");
    }
    // Four values on an opaque picture: sharp's "band expansion"; two values fit no layout.
    refused(json!({"linear": {"a": [1, 1, 1, 1], "b": [0, 0, 0, 0]}}), rgb());
    refused(json!({"linear": {"a": [1, 1], "b": [0, 0]}}), rgba());
}

#[test]
fn recomb_mixes_channels() {
    let sepia = json!([
        [0.3588, 0.7044, 0.1368],
        [0.2990, 0.5870, 0.1140],
        [0.2392, 0.4696, 0.0912]
    ]);
    // 10·0.3588 + 100·0.7044 + 200·0.1368 = 101.388 → 101.
    assert_eq!(
        colour(json!({"recomb": sepia}), rgb()),
        [101, 84, 67, 255, 255, 204, 255, 254, 203, 45, 38, 30]
    );
    let (px, alpha) = pixels(json!({"recomb": sepia}), rgba());
    assert_eq!(&px[..8], [101, 84, 67, 255, 255, 255, 204, 128]);
    assert!(alpha);
    // 4×4: the last row mixes blue into alpha (200·0.5 + 255·0.5 = 227.5 → 227).
    let m4 = json!([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0.5, 0.5]]);
    assert_eq!(
        pixels(json!({"recomb": m4}), rgba()).0,
        [10, 100, 200, 227, 255, 255, 255, 191, 254, 255, 255, 255, 7, 13, 250, 225]
    );
    assert_eq!(
        colour(json!({"recomb": [[-1, 0, 0], [0, 2, 0], [0.5, 0.5, 0.1]]}), rgb()),
        [0, 200, 75, 0, 255, 255, 0, 255, 255, 0, 26, 35]
    );
    // sharp: "bands in must equal matrix width".
    refused(json!({"recomb": m4}), rgb());
    for bad in [
        json!([[1, 0], [0, 1]]),
        json!([[1, 0, 0], [0, 1, 0], [0, 0]]),
        json!(2),
        json!([[1, 0, 0], [0, 1, 0], [0, 0, "1"]]),
    ] {
        assert_eq!(
            refused(json!({"recomb": bad}), rgb()).code,
            "ImageEdits::InvalidArgument"
        );
    }
}

#[test]
fn extract_channel_gives_one_opaque_grey_channel() {
    let (px, alpha) = pixels(json!({"extractChannel": 1}), rgba());
    assert_eq!(px, grey([100, 255, 255, 13], [255; 4]));
    assert!(!alpha);
    assert_eq!(
        pixels(json!({"extractChannel": "alpha"}), rgba()).0,
        grey([255, 128, 255, 200], [255; 4])
    );
    assert_eq!(
        pixels(json!({"extractChannel": "red"}), rgb()).0,
        grey([10, 255, 254, 7], [255; 4])
    );
    // sharp: "Cannot extract channel 3 from image with channels 0-2".
    refused(json!({"extractChannel": "alpha"}), rgb());
    for bad in [json!(4), json!("hue"), json!(1.5), json!(-1)] {
        refused(json!({"extractChannel": bad}), rgba());
    }
    // An output option in sharp: applied after the other edits, whatever the key order.
    let (px, _) = pixels(json!({"extractChannel": 0, "negate": {"alpha": false}}), rgb());
    assert_eq!(px, grey([245, 0, 1, 248], [255; 4]));
}

#[test]
fn bandbool_combines_every_channel_alpha_included() {
    assert_eq!(
        pixels(json!({"bandbool": "and"}), rgb()).0,
        grey([0, 255, 254, 0], [255; 4])
    );
    // 10 ^ 100 ^ 200 ^ 255 = 89; the result has no alpha.
    let (px, alpha) = pixels(json!({"bandbool": "eor"}), rgba());
    assert_eq!(px, grey([89, 127, 1, 56], [255; 4]));
    assert!(!alpha);
    assert_eq!(
        pixels(json!({"bandbool": "or"}), rgba()).0,
        grey([255; 4], [255; 4])
    );
    refused(json!({"bandbool": "xor"}), rgb());
    refused(json!({"bandbool": true}), rgb());
}

#[test]
fn colourspaces() {
    // b-w is libvips' sRGB → B_W; alpha is kept.
    for space in ["b-w", "grey16"] {
        let (px, alpha) = pixels(json!({ "toColourspace": space }), rgba());
        assert_eq!(px, grey([102, 255, 255, 76], [255, 128, 255, 200]), "{space}");
        assert!(alpha);
    }
    // The last output colourspace wins, after every other edit (here: after the tint).
    let (px, _) = pixels(json!({"toColorspace": "b-w", "tint": "red"}), rgb());
    assert!(px.chunks(4).all(|p| p[0] == p[1] && p[1] == p[2]), "{px:?}");
    for (key, space) in [
        ("toColourspace", "srgb"),
        ("toColourspace", "rgb16"),
        ("pipelineColourspace", "srgb"),
        ("pipelineColorspace", "rgb16"),
    ] {
        assert_eq!(pixels(json!({ key: space }), rgba()).0, RGBA, "{key} {space}");
    }
    for (key, space) in [
        ("toColourspace", "lab"),
        ("toColourspace", "cmyk"),
        ("pipelineColourspace", "b-w"),
    ] {
        assert_eq!(
            refused(json!({ key: space }), rgb()).code,
            "ImageEdits::Unsupported",
            "{key} {space}"
        );
    }
    assert_eq!(
        refused(json!({"toColourspace": "sepia"}), rgb()).code,
        "ImageEdits::InvalidArgument"
    );
    assert_eq!(
        refused(json!({"toColourspace": 1}), rgb()).code,
        "ImageEdits::InvalidArgument"
    );
}

#[test]
fn unflatten_makes_white_transparent() {
    // (254, 255, 255) is white in B_W too; other pixels keep their alpha (opaque without one).
    let (px, alpha) = pixels(json!({"unflatten": true}), rgb());
    assert!(alpha);
    assert_eq!(
        px,
        [10, 100, 200, 255, 255, 255, 255, 0, 254, 255, 255, 0, 7, 13, 250, 255]
    );
    assert_eq!(
        pixels(json!({"unflatten": true}), rgba()).0,
        [10, 100, 200, 255, 255, 255, 255, 0, 254, 255, 255, 0, 7, 13, 250, 200]
    );
    assert_eq!(pixels(json!({"unflatten": false}), rgba()).0, RGBA);
}

#[test]
fn unimplemented_sharp_edits_are_refused_not_ignored() {
    for edits in [json!({"joinChannel": "x"}), json!({"boolean": "and"})] {
        let err = Edits::from_json(edits.as_object().unwrap()).expect_err(&edits.to_string());
        assert_eq!(
            (err.status, err.code.as_ref()),
            (400, "ImageEdits::Unsupported"),
            "{edits}"
        );
    }
}

#[test]
fn new_edits_round_trip_through_json() {
    let v = json!({
        "linear": 1.5, "recomb": [[1, 0, 0], [0, 0.5, 0], [0, 0, 1]], "unflatten": true,
        "extractChannel": "green", "bandbool": "eor", "toColorspace": "b-w",
        "pipelineColourspace": "srgb"
    });
    let (edits, _) = Edits::from_json(v.as_object().unwrap()).unwrap();
    assert_eq!(Value::Object(edits.to_json()), v);
    let v = json!({"linear": {"a": [1, 2, 3], "b": [0, 0.5, 0]}, "extractChannel": 2});
    let (edits, _) = Edits::from_json(v.as_object().unwrap()).unwrap();
    assert_eq!(Value::Object(edits.to_json()), v);
}

#[test]
fn through_the_pipeline_a_png_with_unflatten_gets_alpha() {
    let mut png = Vec::new();
    let img = image::RgbImage::from_raw(2, 1, vec![255, 255, 255, 10, 20, 30]).unwrap();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (edits, _) = Edits::from_json(json!({"unflatten": true}).as_object().unwrap()).unwrap();
    let req = ImageRequest::new("bucket", "key", edits);
    let config = Config::default();
    let out = pixfront::pipeline::process(&req, &png.into(), None, &Resources::default(), &config.pipeline)
        .unwrap();
    let got = image::load_from_memory(&out.bytes).unwrap().into_rgba8();
    assert_eq!(got.into_raw(), [255, 255, 255, 0, 10, 20, 30, 255]);
    // Refused at apply time (the picture has no alpha): a 400, not a 500.
    let (edits, _) = Edits::from_json(json!({"extractChannel": 3}).as_object().unwrap()).unwrap();
    let req = ImageRequest::new("bucket", "key", edits);
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let err = pixfront::pipeline::process(&req, &png.into(), None, &Resources::default(), &config.pipeline)
        .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref()),
        (400, "ImageEdits::InvalidArgument")
    );
}

/// 9×7 RGBA with seven levels, so windows hold repeated values and `maxSlope` clips.
fn clahe_input() -> Picture {
    let img = image::RgbaImage::from_fn(9, 7, |x, y| {
        image::Rgba(std::array::from_fn(|c| {
            (((x * 37 + y * 91 + c as u32 * 53 + x * y * 7) % 7) * 40) as u8
        }))
    });
    Picture::still(img, true)
}

#[test]
fn clahe_matches_sharp_exactly() {
    // Rendered by sharp 0.35.5 from the same raw pixels (`sharp(raw).clahe(o).raw()`).
    let cases: Vec<(Value, Vec<u8>)> = vec![
        (
            json!({"width":3,"height":5}),
            vec![
                51, 136, 68, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238,
                136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 136, 238, 170, 51, 51, 136, 68, 221,
                119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51,
                221, 119, 238, 136, 51, 153, 51, 221, 136, 238, 170, 51, 51, 136, 68, 221, 119, 238, 136, 51,
                153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238,
                136, 51, 153, 51, 221, 136, 238, 170, 51, 51, 136, 68, 221, 119, 238, 136, 51, 153, 51, 221,
                119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51,
                221, 136, 238, 170, 51, 51, 136, 68, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51,
                153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 136, 238,
                170, 51, 51, 136, 68, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221,
                119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 136, 238, 170, 51, 51, 136,
                68, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 119, 238, 136, 51,
                153, 51, 221, 119, 238, 136, 51, 153, 51, 221, 136, 238, 170, 51,
            ],
        ),
        (
            json!({"width":4,"height":2,"maxSlope":0}),
            vec![
                127, 127, 127, 255, 191, 255, 191, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127,
                255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 191, 255, 191, 127, 127, 127,
                127, 255, 191, 255, 191, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127,
                63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 191, 255, 191, 127, 127, 127, 127, 255,
                191, 255, 191, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63,
                255, 127, 255, 127, 63, 191, 63, 255, 191, 255, 191, 127, 127, 127, 127, 255, 191, 255, 191,
                63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255,
                127, 63, 191, 63, 255, 191, 255, 191, 127, 127, 127, 127, 255, 191, 255, 191, 63, 191, 63,
                255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63,
                191, 63, 255, 191, 255, 191, 127, 127, 127, 127, 255, 191, 255, 191, 63, 191, 63, 255, 127,
                255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255,
                191, 255, 191, 127, 127, 127, 127, 255, 191, 255, 191, 63, 191, 63, 255, 127, 255, 127, 63,
                191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 127, 255, 127, 63, 191, 63, 255, 191, 255,
                191, 127,
            ],
        ),
        (
            json!({"width":9,"height":7,"maxSlope":1}),
            vec![
                4, 157, 44, 198, 85, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121,
                4, 161, 40, 198, 80, 238, 121, 4, 157, 44, 198, 85, 238, 121, 4, 4, 157, 44, 198, 85, 238,
                121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238,
                121, 4, 157, 44, 198, 85, 238, 121, 4, 4, 157, 44, 198, 85, 238, 121, 4, 161, 40, 198, 80,
                238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 157, 44, 198, 85,
                238, 121, 4, 4, 157, 44, 198, 85, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198,
                80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 157, 44, 198, 85, 238, 121, 4, 4, 157, 44,
                198, 85, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40,
                198, 80, 238, 121, 4, 157, 44, 198, 85, 238, 121, 4, 4, 157, 44, 198, 85, 238, 121, 4, 161,
                40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 157,
                44, 198, 85, 238, 121, 4, 4, 157, 44, 198, 85, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4,
                161, 40, 198, 80, 238, 121, 4, 161, 40, 198, 80, 238, 121, 4, 157, 44, 198, 85, 238, 121, 4,
            ],
        ),
    ];
    for (options, want) in cases {
        let (got, _) = pixels(json!({ "clahe": options }), clahe_input());
        assert_eq!(got, want, "{options}");
    }
    for bad in [
        json!({"width": 0, "height": 3}),
        json!({"width": 3}),
        json!({"width": 3, "height": 3, "maxSlope": 101}),
        json!({"width": 1.5, "height": 3}),
        json!({"width": 10, "height": 3}),
        json!({"width": 300, "height": 300}),
    ] {
        assert_eq!(
            refused(json!({ "clahe": bad }), clahe_input()).code,
            "ImageEdits::InvalidArgument"
        );
    }
}

/// sharp 0.35.5's `affine(matrix, options)` on a 3×2 RGB picture (`sharp(raw).affine(m, o).raw()`):
/// one JSON line per case.
const AFFINE_BY_SHARP: &str = r#"
{"edit":[2,0,0,2],"w":6,"h":4,"px":[0,10,20,50,50,50,100,90,80,150,70,45,200,50,10,100,25,5,125,125,125,95,100,105,65,75,85,113,88,90,160,100,95,80,50,48,250,240,230,140,150,160,30,60,90,75,105,135,120,150,180,60,75,90,125,120,115,70,75,80,15,30,45,38,53,68,60,75,90,30,38,45]}
{"edit":[[1.5,0],[0,1.5]],"w":5,"h":3,"px":[0,10,20,67,63,60,133,77,57,200,50,10,67,17,3,167,163,160,91,101,111,84,86,99,147,117,123,49,39,41,167,160,153,69,80,91,40,60,80,80,100,120,27,33,40]}
{"edit":[0.8,-0.6,0.6,0.8],"w":4,"h":3,"px":[30,30,29,0,10,20,32,30,27,0,0,0,120,115,110,106,117,128,125,78,67,96,24,5,0,0,0,19,31,43,120,150,180,34,18,16]}
{"edit":[-1,0,0,1],"w":3,"h":2,"px":[0,0,0,200,50,10,100,90,80,0,0,0,120,150,180,30,60,90]}
{"edit":[1,0.5,0,1],"w":4,"h":2,"px":[0,10,20,100,90,80,200,50,10,0,0,0,125,120,115,140,150,160,75,105,135,60,75,90]}
{"edit":{"matrix":[2,0,0,2],"background":"white","odx":1,"idy":0.25},"w":6,"h":4,"px":[159,163,167,64,71,79,101,101,101,139,131,124,176,116,98,214,101,71,159,161,164,63,68,73,73,75,78,83,83,83,131,79,68,180,75,53,221,219,216,188,183,178,118,125,133,48,68,88,94,96,113,140,125,138,253,249,246,251,244,236,169,176,184,86,109,131,120,143,165,154,176,199]}
{"edit":{"matrix":[2,0,0,2],"interpolator":"bicubic"},"w":6,"h":4,"px":[0,10,20,44,53,56,100,90,80,169,78,49,200,50,10,106,23,1,141,141,141,109,119,127,73,84,96,134,102,105,180,113,107,97,59,55,250,240,230,150,159,169,30,60,90,69,103,138,120,150,180,66,81,96,141,134,128,82,86,92,11,28,46,28,53,75,55,81,101,31,44,54]}
{"edit":{"matrix":[1.5,0.3,-0.2,1.2],"interpolator":"bicubic"},"w":5,"h":3,"px":[0,0,1,21,21,18,67,30,17,105,18,0,32,5,0,0,10,20,66,74,75,132,92,80,197,90,69,81,43,37,215,206,198,154,163,172,27,59,91,96,133,167,60,83,100]}
{"edit":{"matrix":[2,0,0,2],"interpolator":"nearest"},"w":6,"h":4,"px":[0,10,20,0,10,20,100,90,80,100,90,80,200,50,10,200,50,10,0,10,20,0,10,20,100,90,80,100,90,80,200,50,10,200,50,10,250,240,230,250,240,230,30,60,90,30,60,90,120,150,180,120,150,180,250,240,230,250,240,230,30,60,90,30,60,90,120,150,180,120,150,180]}
"#;

#[test]
fn affine_matches_sharp() {
    let px: Vec<u8> = vec![
        0, 10, 20, 100, 90, 80, 200, 50, 10, 250, 240, 230, 30, 60, 90, 120, 150, 180,
    ];
    for line in AFFINE_BY_SHARP.lines().filter(|l| !l.is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let edit = &case["edit"];
        let pic = Picture::still(image::RgbImage::from_raw(3, 2, px.clone()).unwrap(), false);
        let out = apply(json!({ "affine": edit }), pic).unwrap_or_else(|e| panic!("{edit}: {e}"));
        assert_eq!(
            (out.width() as u64, out.height() as u64),
            (case["w"].as_u64().unwrap(), case["h"].as_u64().unwrap()),
            "{edit}"
        );
        let got = colour_of(&out);
        let want: Vec<u8> = serde_json::from_value(case["px"].clone()).unwrap();
        // libvips' bicubic snaps positions to a sub-pixel grid and works in fixed point: within
        // two levels. Bilinear and nearest are exact.
        let tolerance = if edit.to_string().contains("bicubic") {
            2
        } else {
            0
        };
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (*g as i32 - *w as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= tolerance, "{edit}: got {got:?}, sharp {want:?}");
    }
    // Alpha: premultiplied (floats truncated, as sharp), the background keeps its own alpha.
    let edit =
        json!({"affine": {"matrix": [2, 0, 0, 1], "background": {"r": 0, "g": 0, "b": 255, "alpha": 0}}});
    let (px, alpha) = pixels(edit, rgba());
    assert!(alpha);
    let sharp = [
        10, 100, 200, 255, 91, 151, 218, 191, 255, 255, 255, 128, 254, 255, 255, 191, 254, 255, 255, 255,
        145, 148, 252, 227, 7, 13, 250, 200, 7, 13, 250, 100,
    ];
    assert_eq!(px, sharp);
    for bad in [
        json!([1, 0, 0]),
        json!([[1, 0], [0]]),
        json!([0, 0, 0, 0]),
        json!({"matrix": [1, 0, 0, 1], "idx": "x"}),
        json!({"matrix": [1, 0, 0, 1], "interpolator": "cubic"}),
    ] {
        assert_eq!(
            refused(json!({ "affine": bad }), rgb()).code,
            "ImageEdits::InvalidArgument",
            "{bad}"
        );
    }
    let err = refused(
        json!({"affine": {"matrix": [1, 0, 0, 1], "interpolator": "nohalo"}}),
        rgb(),
    );
    assert_eq!(err.code, "ImageEdits::Unsupported");
    // MAX_OUTPUT_DIMENSION applies as to resize and extend.
    assert_eq!(
        refused(json!({"affine": [100000, 0, 0, 1]}), rgb()).code,
        "ImageEdits::OutputTooLarge"
    );
}

fn colour_of(pic: &Picture) -> Vec<u8> {
    pic.frames[0]
        .pixels
        .to_rgba()
        .pixels()
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}
