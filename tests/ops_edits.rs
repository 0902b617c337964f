//! Every edit on real images from ../shared/testdata, with pixel assertions that fail if the
//! edit did nothing or the wrong thing.

mod shared_data;
use shared_data::testdata;

use image::{Rgba, RgbaImage};
use pixfront::config::Config;
use pixfront::edits::{Edit, Edits};
use pixfront::pipeline::ops::{apply, apply_all, OpContext};
use pixfront::pipeline::picture::{Frame, Picture, Pixels};
use pixfront::pipeline::Resources;
use serde_json::{json, Value};

fn load(rel: &str) -> Picture {
    let img = image::open(testdata().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let has_alpha = img.color().has_alpha();
    Picture::still(img.into_rgba8(), has_alpha)
}

fn hopper() -> Picture {
    load("faces/hopper_128.jpg")
}

/// hopper with alpha rising from 0 at the left edge to 254 at the right.
fn hopper_alpha() -> Picture {
    let mut img = px(&hopper()).clone();
    for (x, _, p) in img.enumerate_pixels_mut() {
        p[3] = (x * 2) as u8;
    }
    Picture::still(img, true)
}

/// Parses `{"name": value}` the way requests do and returns the one edit.
fn edit(v: Value) -> Edit {
    let (edits, ignored) = Edits::from_json(v.as_object().unwrap()).unwrap();
    assert!(ignored.is_empty());
    edits.entries.into_iter().next().unwrap().1
}

fn run_with(v: Value, pic: Picture, resources: &Resources) -> Result<Picture, pixfront::Error> {
    let config = Config::default();
    let ctx = OpContext {
        resources,
        config: &config.pipeline,
        original_size: (pic.width(), pic.height()),
        first_resize_from: None,
    };
    apply(&edit(v), pic, &ctx)
}

fn run(v: Value, pic: Picture) -> Picture {
    run_with(v.clone(), pic, &Resources::default()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn run_err(v: Value, pic: Picture) -> pixfront::Error {
    run_with(v.clone(), pic, &Resources::default()).expect_err(&v.to_string())
}

/// The first frame; these tests start from RGBA pictures, and every step keeps the layout.
fn px(p: &Picture) -> &RgbaImage {
    match &p.frames[0].pixels {
        Pixels::Rgba(px) => px,
        Pixels::Rgb(_) => panic!("an RGBA picture came out as RGB"),
    }
}

fn mean(img: &RgbaImage, c: usize) -> f64 {
    img.pixels().map(|p| p[c] as f64).sum::<f64>() / (img.width() * img.height()) as f64
}

/// Sum of absolute differences between horizontal/vertical neighbours: a detail measure.
fn detail(img: &RgbaImage) -> f64 {
    let mut s = 0.0;
    for y in 0..img.height() - 1 {
        for x in 0..img.width() - 1 {
            let p = img.get_pixel(x, y)[1] as f64;
            s +=
                (p - img.get_pixel(x + 1, y)[1] as f64).abs() + (p - img.get_pixel(x, y + 1)[1] as f64).abs();
        }
    }
    s
}

// ---- geometry ----

#[test]
fn resize_cover_gravity_picks_the_right_band() {
    let orig = hopper();
    let north = run(
        json!({"resize": {"width": 128, "height": 32, "position": "north"}}),
        orig.clone(),
    );
    let south = run(
        json!({"resize": {"width": 128, "height": 32, "position": "south"}}),
        orig.clone(),
    );
    assert_eq!((north.width(), north.height()), (128, 32));
    // No scaling needed: the crops are exact rows of the original.
    assert_eq!(px(&north).get_pixel(10, 5), px(&orig).get_pixel(10, 5));
    assert_eq!(px(&south).get_pixel(10, 5), px(&orig).get_pixel(10, 101));
    let centre = run(json!({"resize": {"width": 128, "height": 32}}), orig.clone());
    assert_eq!(px(&centre).get_pixel(10, 5), px(&orig).get_pixel(10, 53));
}

#[test]
fn resize_cover_equals_scale_then_crop() {
    // Cover resamples only the kept box; it must look like scaling all, then cropping.
    let full = run(json!({"resize": {"width": 64, "height": 64}}), hopper());
    let cover = run(
        json!({"resize": {"width": 64, "height": 40, "position": "south"}}),
        hopper(),
    );
    assert_eq!((cover.width(), cover.height()), (64, 40));
    let mut worst = 0;
    for (x, y, p) in px(&cover).enumerate_pixels() {
        let q = px(&full).get_pixel(x, y + 24);
        worst = worst.max((p[1] as i32 - q[1] as i32).abs());
    }
    assert!(worst <= 3, "worst difference {worst}");
    // An extreme aspect does not build the huge scaled image first.
    let tall = Picture::still(RgbaImage::from_pixel(1, 1000, Rgba([10, 20, 30, 255])), false);
    let wide = run(json!({"resize": {"width": 16000, "height": 1}}), tall);
    assert_eq!((wide.width(), wide.height()), (16000, 1));
    assert_eq!(px(&wide).get_pixel(8000, 0).0, [10, 20, 30, 255]);
}

#[test]
fn resize_scales_with_lanczos_and_keeps_the_picture() {
    let orig = hopper();
    let small = run(json!({"resize": {"width": 64}}), orig.clone());
    assert_eq!((small.width(), small.height()), (64, 64));
    // Each output pixel is close to the 2×2 block average of the source.
    let (o, s) = (px(&orig), px(&small));
    let mut err = 0.0;
    for (x, y, p) in s.enumerate_pixels() {
        let avg = (0..4)
            .map(|i| o.get_pixel(2 * x + i % 2, 2 * y + i / 2)[0] as f64)
            .sum::<f64>()
            / 4.0;
        err += (avg - p[0] as f64).abs();
    }
    assert!(err / 4096.0 < 8.0, "mean error {}", err / 4096.0);
}

#[test]
fn resize_contain_fills_with_background() {
    let out = run(
        json!({"resize": {"width": 200, "height": 100, "fit": "contain", "background": "#ff0000"}}),
        hopper(),
    );
    assert_eq!((out.width(), out.height()), (200, 100));
    assert_eq!(px(&out).get_pixel(2, 50).0, [255, 0, 0, 255]);
    assert_eq!(px(&out).get_pixel(197, 50).0, [255, 0, 0, 255]);
    assert_ne!(px(&out).get_pixel(100, 50).0, [255, 0, 0, 255]);
    let transparent = run(
        json!({"resize": {"width": 200, "height": 100, "fit": "contain", "background": {"r":0,"g":0,"b":0,"alpha":0}}}),
        hopper(),
    );
    assert!(transparent.has_alpha);
    assert_eq!(px(&transparent).get_pixel(2, 50)[3], 0);
}

#[test]
fn resize_fill_inside_outside_and_ratio() {
    let fill = run(
        json!({"resize": {"width": 50, "height": 20, "fit": "fill"}}),
        hopper(),
    );
    assert_eq!((fill.width(), fill.height()), (50, 20));
    let inside = run(
        json!({"resize": {"width": 50, "height": 20, "fit": "inside"}}),
        hopper(),
    );
    assert_eq!((inside.width(), inside.height()), (20, 20));
    let outside = run(
        json!({"resize": {"width": 50, "height": 20, "fit": "outside"}}),
        hopper(),
    );
    assert_eq!((outside.width(), outside.height()), (50, 50));
    let ratio = run(json!({"resize": {"ratio": 0.25}}), hopper());
    assert_eq!((ratio.width(), ratio.height()), (32, 32));
    let no_up = run(
        json!({"resize": {"width": 500, "withoutEnlargement": true}}),
        hopper(),
    );
    assert_eq!((no_up.width(), no_up.height()), (128, 128));
}

#[test]
fn resize_rejects_huge_outputs_and_bad_names() {
    let e = run_err(
        json!({"resize": {"width": 100000, "height": 100000, "fit": "fill"}}),
        hopper(),
    );
    assert_eq!((e.status, e.code.as_ref()), (400, "ImageEdits::OutputTooLarge"));
    let e = run_err(json!({"resize": {"width": 10, "position": "middle"}}), hopper());
    assert_eq!(e.status, 400);
}

#[test]
fn resize_entropy_and_attention_choose_the_busy_side() {
    // Left half flat grey, right half a detailed photo: both strategies keep the right.
    let h = px(&hopper()).clone();
    let mut img = RgbaImage::from_pixel(256, 128, Rgba([128, 128, 128, 255]));
    image::imageops::replace(&mut img, &h, 128, 0);
    for strategy in ["entropy", "attention"] {
        let out = run(
            json!({"resize": {"width": 64, "height": 128, "position": strategy}}),
            Picture::still(img.clone(), false),
        );
        assert_eq!((out.width(), out.height()), (64, 128));
        assert!(detail(px(&out)) > 1000.0, "{strategy} kept the flat half");
    }
}

#[test]
fn crop_and_extract_cut_exact_pixels() {
    let orig = hopper();
    for name in ["crop", "extract"] {
        let out = run(
            json!({name: {"left": 10, "top": 20, "width": 30, "height": 40}}),
            orig.clone(),
        );
        assert_eq!((out.width(), out.height()), (30, 40));
        assert_eq!(px(&out).get_pixel(0, 0), px(&orig).get_pixel(10, 20));
        assert_eq!(px(&out).get_pixel(29, 39), px(&orig).get_pixel(39, 59));
    }
    let e = run_err(
        json!({"crop": {"left": 100, "top": 0, "width": 50, "height": 10}}),
        orig.clone(),
    );
    assert_eq!((e.status, e.code.as_ref()), (400, "Crop::AreaOutOfBounds"));
    let e = run_err(
        json!({"extract": {"left": 0, "top": 0, "width": 0, "height": 10}}),
        orig,
    );
    assert_eq!(e.status, 400);
}

#[test]
fn rotate_right_angles_move_pixels_exactly() {
    let orig = run(
        json!({"crop": {"left": 0, "top": 0, "width": 100, "height": 60}}),
        hopper(),
    );
    let o = px(&orig).clone();
    let r90 = run(json!({"rotate": 90}), orig.clone());
    assert_eq!((r90.width(), r90.height()), (60, 100));
    // Clockwise: the top-left source pixel lands top-right.
    assert_eq!(px(&r90).get_pixel(59, 0), o.get_pixel(0, 0));
    assert_eq!(px(&r90).get_pixel(59 - 7, 13), o.get_pixel(13, 7));
    let r180 = run(json!({"rotate": 180}), orig.clone());
    assert_eq!(px(&r180).get_pixel(0, 0), o.get_pixel(99, 59));
    let r270 = run(json!({"rotate": -90}), orig.clone());
    assert_eq!(px(&r270).get_pixel(0, 99), o.get_pixel(0, 0));
    let auto = run(json!({"rotate": null}), orig.clone());
    assert_eq!(px(&auto), &o);
}

#[test]
fn rotate_any_angle_grows_the_canvas_with_black_corners() {
    let out = run(json!({"rotate": 45}), hopper());
    // 128·√2 = 181.02; sizes as sharp 0.35 gives them.
    assert_eq!((out.width(), out.height()), (181, 181));
    for (w, h, a, ow, oh) in [(100, 60, 30, 117, 102), (100, 60, -10, 109, 76), (7, 3, 45, 7, 7)] {
        let pic = Picture::still(RgbaImage::new(w, h), false);
        let r = run(json!({ "rotate": a }), pic);
        assert_eq!((r.width(), r.height()), (ow, oh), "{w}x{h} at {a}");
    }
    assert_eq!(px(&out).get_pixel(0, 0).0, [0, 0, 0, 255]);
    let c = px(&out).get_pixel(90, 90);
    let o = px(&hopper()).get_pixel(64, 64).0;
    assert!((c[0] as i32 - o[0] as i32).abs() < 40, "{c:?} vs {o:?}");
}

#[test]
fn flip_and_flop_mirror_known_pixels() {
    let orig = hopper();
    let o = px(&orig).clone();
    let flip = run(json!({"flip": true}), orig.clone());
    let flop = run(json!({"flop": true}), orig.clone());
    for (x, y) in [(0, 0), (5, 17), (127, 3), (64, 100)] {
        assert_eq!(px(&flip).get_pixel(x, y), o.get_pixel(x, 127 - y));
        assert_eq!(px(&flop).get_pixel(x, y), o.get_pixel(127 - x, y));
    }
    assert_ne!(px(&flip), &o);
    assert_eq!(px(&run(json!({"flip": false}), orig)), &o);
}

#[test]
fn animated_frames_are_all_edited() {
    let a = px(&hopper()).clone();
    let mut b = a.clone();
    image::imageops::invert(&mut b);
    let pic = Picture {
        frames: vec![Frame::new(a.clone(), 100), Frame::new(b.clone(), 50)],
        loop_count: 0,
        has_alpha: false,
    };
    let out = run(json!({"flop": true}), pic.clone());
    assert_eq!(out.frames.len(), 2);
    assert_eq!(out.frames[1].delay_ms, 50);
    assert_eq!(
        out.frames[1].pixels.to_rgba().get_pixel(0, 0),
        b.get_pixel(127, 0)
    );
    // SIH skips rotate for animations.
    let rotated = run(json!({"rotate": 90}), pic);
    assert_eq!(*rotated.frames[0].pixels.to_rgba(), a);
}

// ---- colour ----

#[test]
fn grayscale_gives_equal_channels() {
    let orig = load("formats/rocket.jpg");
    assert!(px(&orig).pixels().any(|p| p[0] != p[2]));
    let out = run(json!({"greyscale": true}), orig);
    assert!(px(&out).pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    // Luminance-weighted: pure green is brighter than pure blue.
    let g = run(
        json!({"grayscale": true}),
        Picture::still(RgbaImage::from_pixel(1, 1, Rgba([0, 255, 0, 255])), false),
    );
    let b = run(
        json!({"grayscale": true}),
        Picture::still(RgbaImage::from_pixel(1, 1, Rgba([0, 0, 255, 255])), false),
    );
    assert!(px(&g).get_pixel(0, 0)[0] > 200 && px(&b).get_pixel(0, 0)[0] < 100);
}

#[test]
fn tint_shifts_channel_means_towards_the_colour() {
    let orig = hopper();
    let red = run(json!({"tint": {"r": 255, "g": 0, "b": 0}}), orig.clone());
    let blue = run(json!({"tint": "#0000ff"}), orig);
    let r = px(&red);
    let b = px(&blue);
    assert!(mean(r, 0) > mean(r, 1) + 10.0 && mean(r, 0) > mean(r, 2) + 10.0);
    assert!(mean(b, 2) > mean(b, 0) + 10.0 && mean(b, 2) > mean(b, 1));
}

#[test]
fn negate_inverts_colour_and_alpha_by_default() {
    let orig = hopper();
    let out = run(json!({"negate": true}), orig.clone());
    for (a, b) in px(&orig).pixels().zip(px(&out).pixels()) {
        assert_eq!([255 - a[0], 255 - a[1], 255 - a[2], 255], b.0);
    }
    let logo = hopper_alpha();
    assert!(logo.has_alpha);
    let neg = run(json!({"negate": true}), logo.clone());
    let keep = run(json!({"negate": {"alpha": false}}), logo.clone());
    let (o, n, k) = (
        px(&logo).get_pixel(0, 0),
        px(&neg).get_pixel(0, 0),
        px(&keep).get_pixel(0, 0),
    );
    assert_eq!(n[3], 255 - o[3]);
    assert_eq!(k[3], o[3]);
}

#[test]
fn modulate_brightness_saturation_hue() {
    let orig = load("formats/rocket.jpg");
    let orig = run(json!({"resize": {"width": 100}}), orig);
    let o = px(&orig);
    let bright = run(json!({"modulate": {"brightness": 1.5}}), orig.clone());
    assert!(mean(px(&bright), 1) > mean(o, 1) + 15.0);
    let grey = run(json!({"modulate": {"saturation": 0}}), orig.clone());
    assert!(px(&grey)
        .pixels()
        .all(|p| (p[0] as i32 - p[2] as i32).abs() <= 3 && (p[0] as i32 - p[1] as i32).abs() <= 3));
    let red = Picture::still(RgbaImage::from_pixel(2, 2, Rgba([200, 30, 30, 255])), false);
    let turned = run(json!({"modulate": {"hue": 180}}), red);
    let p = px(&turned).get_pixel(0, 0);
    assert!(p[0] < p[1] && p[0] < p[2], "red turned {p:?}");
    let lighter = run(json!({"modulate": {"lightness": 20}}), orig.clone());
    assert!(mean(px(&lighter), 0) > mean(o, 0) + 20.0);
}

#[test]
fn normalize_stretches_contrast() {
    let mut img = px(&hopper()).clone();
    for p in img.pixels_mut() {
        for c in &mut p.0[..3] {
            *c = 100 + *c / 5;
        }
    }
    let out = run(json!({"normalise": true}), Picture::still(img.clone(), false));
    let lum = |i: &RgbaImage| {
        let v: Vec<u8> = i.pixels().map(|p| p[1]).collect();
        (*v.iter().min().unwrap(), *v.iter().max().unwrap())
    };
    let (lo, hi) = lum(&img);
    let (nlo, nhi) = lum(px(&out));
    assert!(nhi - nlo > 2 * (hi - lo), "{lo}-{hi} → {nlo}-{nhi}");
    assert!(nlo < 30 && nhi > 220, "{nlo}-{nhi}");
}

#[test]
fn threshold_makes_black_and_white() {
    let out = run(json!({"threshold": 128}), hopper());
    let p = px(&out);
    assert!(p
        .pixels()
        .all(|p| (p[0] == 0 || p[0] == 255) && p[0] == p[1] && p[1] == p[2]));
    let white = p.pixels().filter(|p| p[0] == 255).count();
    assert!(white > 1000 && white < 128 * 128 - 1000);
    let low = run(json!({"threshold": 20}), hopper());
    assert!(px(&low).pixels().filter(|p| p[0] == 255).count() > white);
}

#[test]
fn gamma_makes_resize_mix_in_gamma_space() {
    // A fine black/white checkerboard halved: plain averaging gives ~128, sharp's gamma 2.2
    // pipeline gives ((0 + 1) / 2)^(1/2.2)·255 ≈ 186.
    let checker = RgbaImage::from_fn(64, 64, |x, y| {
        if (x + y) % 2 == 0 {
            Rgba([255, 255, 255, 255])
        } else {
            Rgba([0, 0, 0, 255])
        }
    });
    let config = Config::default();
    let resources = Resources::default();
    let ctx = OpContext {
        resources: &resources,
        config: &config.pipeline,
        original_size: (64, 64),
        first_resize_from: None,
    };
    let edits = |v: Value| Edits::from_json(v.as_object().unwrap()).unwrap().0;
    let plain = apply_all(
        &edits(json!({"resize": {"width": 32}})),
        Picture::still(checker.clone(), false),
        &ctx,
    )
    .unwrap();
    let gamma = apply_all(
        &edits(json!({"gamma": 2.2, "resize": {"width": 32}})),
        Picture::still(checker.clone(), false),
        &ctx,
    )
    .unwrap();
    let (m0, m1) = (mean(px(&plain), 0), mean(px(&gamma), 0));
    assert!((m0 - 128.0).abs() < 10.0, "plain {m0}");
    assert!(m1 > 170.0, "gamma {m1}");
    // Alone, gamma changes nothing (sharp brightens back by the same γ).
    assert_eq!(
        px(&run(
            json!({"gamma": 2.2}),
            Picture::still(checker.clone(), false)
        )),
        &checker
    );
    assert_eq!(run_err(json!({"gamma": 0.5}), hopper()).status, 400);
}

// ---- filters ----

#[test]
fn blur_removes_detail() {
    let orig = hopper();
    let d0 = detail(px(&orig));
    let mild = run(json!({"blur": true}), orig.clone());
    let strong = run(json!({"blur": 5}), orig.clone());
    let huge = run(json!({"blur": 50}), orig.clone());
    let (d1, d2, d3) = (detail(px(&mild)), detail(px(&strong)), detail(px(&huge)));
    assert!(d1 < d0 * 0.8 && d2 < d1 && d3 < d2, "{d0} {d1} {d2} {d3}");
    assert_eq!(run_err(json!({"blur": 0.1}), orig).status, 400);
}

#[test]
fn sharpen_adds_detail() {
    let orig = hopper();
    let d0 = detail(px(&orig));
    let mild = run(json!({"sharpen": true}), orig.clone());
    let sigma = run(json!({"sharpen": 2}), orig.clone());
    let opts = run(json!({"sharpen": {"sigma": 1, "m2": 4}}), orig);
    assert!(detail(px(&mild)) > d0 * 1.1);
    assert!(detail(px(&sigma)) > d0 * 1.1);
    assert!(detail(px(&opts)) > d0 * 1.1);
}

#[test]
fn median_removes_salt_noise() {
    let mut img = px(&hopper()).clone();
    let spots = [(10, 10), (40, 70), (100, 33)];
    for &(x, y) in &spots {
        img.put_pixel(x, y, Rgba([255, 0, 255, 255]));
    }
    let out = run(json!({"median": 3}), Picture::still(img, false));
    for &(x, y) in &spots {
        assert_ne!(px(&out).get_pixel(x, y).0, [255, 0, 255, 255]);
    }
    assert_eq!(run_err(json!({"median": 500}), hopper()).status, 400);
}

#[test]
fn convolve_applies_the_kernel() {
    let orig = hopper();
    let o = px(&orig).clone();
    let ident = run(
        json!({"convolve": {"width": 3, "height": 3, "kernel": [0,0,0,0,1,0,0,0,0]}}),
        orig.clone(),
    );
    assert_eq!(px(&ident), &o);
    // Picks the left neighbour: the image shifts one pixel right.
    let shift = run(
        json!({"convolve": {"width": 3, "height": 3, "kernel": [0,0,0,1,0,0,0,0,0]}}),
        orig.clone(),
    );
    assert_eq!(px(&shift).get_pixel(50, 50), o.get_pixel(49, 50));
    let edges = run(
        json!({"convolve": {"width": 3, "height": 3, "kernel": [-1,-1,-1,-1,8,-1,-1,-1,-1], "offset": 0}}),
        orig.clone(),
    );
    assert!(mean(px(&edges), 1) < mean(&o, 1) / 2.0);
    assert_eq!(
        run_err(
            json!({"convolve": {"width": 2, "height": 3, "kernel": [1,1,1,1,1,1]}}),
            orig
        )
        .status,
        400
    );
}

// ---- alpha ----

#[test]
fn flatten_composites_onto_background() {
    let logo = hopper_alpha();
    let (x, y, p) = px(&logo)
        .enumerate_pixels()
        .min_by_key(|(_, _, p)| p[3])
        .map(|(x, y, p)| (x, y, *p))
        .unwrap();
    assert!(p[3] < 128, "{p:?}");
    let out = run(json!({"flatten": {"background": "#00ff00"}}), logo.clone());
    assert!(!out.has_alpha);
    let a = p[3] as f64 / 255.0;
    let expect = [
        p[0] as f64 * a,
        p[1] as f64 * a + 255.0 * (1.0 - a),
        p[2] as f64 * a,
    ];
    let got = px(&out).get_pixel(x, y);
    assert_eq!(got[3], 255);
    for c in 0..3 {
        assert!((got[c] as f64 - expect[c]).abs() <= 1.0, "{got:?} vs {expect:?}");
    }
    let black = run(json!({"flatten": true}), logo);
    assert!(px(&black).get_pixel(x, y)[1] < got[1]);
}

#[test]
fn remove_and_ensure_alpha() {
    let logo = hopper_alpha();
    let removed = run(json!({"removeAlpha": true}), logo.clone());
    assert!(!removed.has_alpha && px(&removed).pixels().all(|p| p[3] == 255));
    let half = run(json!({"ensureAlpha": 0.5}), hopper());
    assert!(half.has_alpha && px(&half).pixels().all(|p| p[3] == 128));
    let kept = run(json!({"ensureAlpha": 0.5}), logo.clone());
    assert_eq!(px(&kept), px(&logo));
}

#[test]
fn extend_adds_borders() {
    let orig = hopper();
    let out = run(
        json!({"extend": {"top": 5, "left": 10, "bottom": 0, "right": 2, "background": "red"}}),
        orig.clone(),
    );
    assert_eq!((out.width(), out.height()), (140, 133));
    assert_eq!(px(&out).get_pixel(0, 0).0, [255, 0, 0, 255]);
    assert_eq!(px(&out).get_pixel(10, 5), px(&orig).get_pixel(0, 0));
    let all = run(json!({"extend": 3}), orig.clone());
    assert_eq!((all.width(), all.height()), (134, 134));
    assert_eq!(px(&all).get_pixel(133, 133).0, [0, 0, 0, 255]);
    let mirror = run(
        json!({"extend": {"left": 4, "extendWith": "mirror"}}),
        orig.clone(),
    );
    assert_eq!(px(&mirror).get_pixel(3, 9), px(&orig).get_pixel(0, 9));
    assert_eq!(px(&mirror).get_pixel(0, 9), px(&orig).get_pixel(3, 9));
    let copy = run(json!({"extend": {"top": 4, "extendWith": "copy"}}), orig.clone());
    assert_eq!(px(&copy).get_pixel(7, 0), px(&orig).get_pixel(7, 0));
}

#[test]
fn trim_removes_uniform_borders() {
    let padded = run(
        json!({"extend": {"top": 7, "left": 9, "bottom": 3, "right": 5, "background": "white"}}),
        hopper(),
    );
    let out = run(json!({"trim": true}), padded);
    // JPEG content touching white may trim a pixel or two more, never less.
    assert!(out.width() <= 128 && out.width() >= 124, "{}", out.width());
    assert!(out.height() <= 128 && out.height() >= 124, "{}", out.height());
    // A lone speck in the border does not stop the trim (libvips smooths with a 3×3 median).
    let mut specked = px(&run(
        json!({"extend": {"top": 12, "background": "white"}}),
        hopper(),
    ))
    .clone();
    specked.put_pixel(60, 3, Rgba([0, 0, 0, 255]));
    let out = run(json!({"trim": true}), Picture::still(specked, false));
    assert!(out.height() <= 128, "{}", out.height());
    let flat = Picture::still(RgbaImage::from_pixel(10, 10, Rgba([9, 9, 9, 255])), false);
    assert_eq!(run(json!({"trim": 10}), flat).width(), 10);
}

#[test]
fn round_crop_makes_corners_transparent() {
    let out = run(json!({"roundCrop": true}), hopper());
    assert!(out.has_alpha);
    let p = px(&out);
    assert_eq!(p.get_pixel(0, 0)[3], 0);
    assert_eq!(p.get_pixel(p.width() - 1, p.height() - 1)[3], 0);
    assert_eq!(p.get_pixel(p.width() / 2, p.height() / 2)[3], 255);
    // A smaller ellipse is trimmed to its bounding box.
    let small = run(
        json!({"roundCrop": {"rx": 20, "ry": 10, "left": 64, "top": 64}}),
        hopper(),
    );
    assert_eq!((small.width(), small.height()), (40, 20));
}

#[test]
fn overlay_lands_where_asked() {
    let logo_bytes = std::fs::read(testdata().join("sih/25x15.png")).unwrap();
    let logo = image::load_from_memory(&logo_bytes).unwrap().into_rgba8();
    let mut resources = Resources::default();
    resources
        .overlays
        .insert(("b".into(), "logo.png".into()), logo_bytes.into());
    let base = hopper();
    let opaque = logo
        .enumerate_pixels()
        .find(|(_, _, p)| p[3] == 255)
        .map(|(x, y, p)| (x, y, *p))
        .unwrap();

    let at = |opts: Value| {
        run_with(
            json!({"overlayWith": {"bucket": "b", "key": "logo.png", "options": opts}}),
            base.clone(),
            &resources,
        )
        .unwrap()
    };
    let (ox, oy, op) = opaque;
    let out = at(json!({"left": 5, "top": "7"}));
    assert_eq!(px(&out).get_pixel(5 + ox, 7 + oy), &op);
    let out = at(json!({"left": "-10", "top": "-10p"}));
    // -10 → 128 − 10 − 25 = 93; -10p → 128 − 12.8 − 15 = 100.2 → 100
    assert_eq!(px(&out).get_pixel(93 + ox, 100 + oy), &op);
    let out = at(json!({"left": "50p", "top": "0"}));
    assert_eq!(px(&out).get_pixel(64 + ox, oy), &op);
    // Centred when no offsets.
    let centred = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "logo.png"}}),
        base.clone(),
        &resources,
    )
    .unwrap();
    assert_eq!(px(&centred).get_pixel(52 + ox, 57 + oy), &op);

    // alpha 50: half-transparent overlay pixels mix with the base.
    let faded = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "logo.png", "alpha": "50", "options": {"left": 0, "top": 0}}}),
        base.clone(),
        &resources,
    )
    .unwrap();
    let f = px(&faded).get_pixel(ox, oy);
    let b = px(&base).get_pixel(ox, oy);
    for c in 0..3 {
        let expect = (op[c] as f64 * 127.0 + b[c] as f64 * 128.0) / 255.0;
        assert!((f[c] as f64 - expect).abs() <= 2.0, "{f:?} vs {expect}");
    }

    // wRatio 50 of 128 → 64 wide (inside keeps 25:15 → 64×38).
    let big = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "logo.png", "wRatio": "50", "options": {"left": 0, "top": 0}}}),
        base.clone(),
        &resources,
    )
    .unwrap();
    assert_ne!(px(&big).get_pixel(60, 30), px(&base).get_pixel(60, 30));

    // Larger than the base: SIH's exact 400.
    let tiny = run(
        json!({"resize": {"width": 20, "height": 10, "fit": "fill"}}),
        base.clone(),
    );
    let e = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "logo.png"}}),
        tiny,
        &resources,
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.code.as_ref(), e.message.as_str()),
        (
            400,
            "BadRequest",
            "Image to overlay must have same dimensions or smaller"
        )
    );
}

#[test]
fn overlay_is_decoded_safely() {
    // A PNG whose header claims 50 000 × 50 000 is refused from the header, before decoding.
    let mut bomb = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bomb, 50_000, 50_000);
        enc.set_color(png::ColorType::Rgba);
        let _ = enc.write_header().unwrap();
    }
    let mut resources = Resources::default();
    resources
        .overlays
        .insert(("b".into(), "bomb.png".into()), bomb.into());
    resources
        .overlays
        .insert(("b".into(), "junk.png".into()), b"not an image".to_vec().into());
    let jpeg = std::fs::read(testdata().join("sih/inline-4x4.jpg")).unwrap();
    resources
        .overlays
        .insert(("b".into(), "small.jpg".into()), jpeg.into());
    let start = std::time::Instant::now();
    let e = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "bomb.png"}}),
        hopper(),
        &resources,
    )
    .unwrap_err();
    assert!(e.is_client_error(), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_millis(100));
    let e = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "junk.png"}}),
        hopper(),
        &resources,
    )
    .unwrap_err();
    assert!(e.is_client_error(), "{e}");
    // A JPEG overlay (no alpha) covers its square completely.
    let out = run_with(
        json!({"overlayWith": {"bucket": "b", "key": "small.jpg", "options": {"left": 0, "top": 0}}}),
        hopper(),
        &resources,
    )
    .unwrap();
    let o = px(&out);
    assert_ne!(o.get_pixel(1, 1), px(&hopper()).get_pixel(1, 1));
    assert_eq!(o.get_pixel(10, 10), px(&hopper()).get_pixel(10, 10));
}

// ---- not pixel edits ----

#[test]
fn format_edits_leave_pixels_and_face_edits_fail_closed() {
    let orig = hopper();
    for v in [
        json!({"toFormat": "webp"}),
        json!({"jpeg": {"quality": 50}}),
        json!({"animated": true}),
    ] {
        assert_eq!(px(&run(v, orig.clone())), px(&orig));
    }
    // Without a face detector in `Resources`, face edits fail closed (503); moderation
    // without a backend is the caller's 400.
    for (v, status, code) in [
        (json!({"smartCrop": true}), 503, "FaceDetectionUnavailable"),
        (
            json!({"contentModeration": true}),
            400,
            "ContentModerationUnavailable",
        ),
    ] {
        let e = run_err(v, orig.clone());
        assert_eq!((e.status, e.code.as_ref()), (status, code));
    }
}

/// Single pixels through sharp 0.35 (scripts/sharp-geometry's npm install, `sharp({create})`
/// then the edit): pixfront's colour maths must land within a few levels.
#[test]
fn colour_edits_match_sharp_on_reference_pixels() {
    #[rustfmt::skip]
    let cases: &[(Value, [u8; 3], [u8; 3])] = &[
        (json!({"grayscale": true}), [200, 30, 90], [105, 105, 105]),
        (json!({"grayscale": true}), [12, 240, 77], [208, 208, 208]),
        (json!({"tint": {"r": 255, "g": 0, "b": 0}}), [200, 30, 90], [224, 0, 0]),
        (json!({"tint": {"r": 255, "g": 0, "b": 0}}), [12, 240, 77], [255, 173, 141]),
        (json!({"tint": {"r": 255, "g": 0, "b": 0}}), [128, 128, 128], [255, 9, 2]),
        (json!({"modulate": {"brightness": 1.5}}), [200, 30, 90], [255, 102, 145]),
        (json!({"modulate": {"brightness": 1.5}}), [128, 128, 128], [199, 199, 199]),
        (json!({"modulate": {"saturation": 0}}), [200, 30, 90], [105, 105, 105]),
        (json!({"modulate": {"hue": 180}}), [200, 30, 90], [0, 128, 120]),
        (json!({"modulate": {"hue": 180}}), [12, 240, 77], [255, 148, 255]),
        (json!({"modulate": {"lightness": 20}}), [200, 30, 90], [255, 96, 140]),
        (json!({"modulate": {"lightness": 20}}), [128, 128, 128], [180, 180, 180]),
        (json!({"threshold": 100}), [200, 30, 90], [255, 255, 255]),
    ];
    let mut bad = Vec::new();
    for (v, input, want) in cases {
        let pic = Picture::still(
            RgbaImage::from_pixel(1, 1, Rgba([input[0], input[1], input[2], 255])),
            false,
        );
        let got = px(&run(v.clone(), pic)).get_pixel(0, 0).0;
        if (0..3).any(|c| (got[c] as i32 - want[c] as i32).abs() > 6) {
            bad.push(format!("{v} on {input:?}: sharp {want:?}, ours {:?}", &got[..3]));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
