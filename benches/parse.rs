//! Cost of `request::parse` per dialect. Prints figures; never gates CI.
//! Run: `cargo bench --bench parse`

use base64::Engine;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pixfront::config::Config;
use pixfront::request::{parse, RequestInput, StaticSecret};

fn bench(c: &mut Criterion) {
    let config = {
        let mut c = Config::default();
        c.request.source_buckets = Some("photos, archive".into());
        c.request.auto_webp = true;
        c.request.auto_avif = true;
        c
    };
    let custom = {
        let mut c = config.clone();
        c.request.rewrite_match_pattern = Some(r"/^\/(\d+)w\//".into());
        c.request.rewrite_substitution = Some("/fit-in/$1x0/".into());
        c
    };
    let default_path = format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(
            r#"{"bucket":"photos","key":"cats/cat.jpg","edits":{"resize":{"width":400,"height":300,"fit":"cover"},"grayscale":true,"webp":{"quality":70}},"outputFormat":"webp"}"#
        )
    );
    let secrets = StaticSecret(None);
    let accept = Some("image/avif,image/webp,image/apng,*/*;q=0.8");
    let cases: [(&str, &str, Option<&str>, &Config); 4] = [
        (
            "thumbor",
            "/fit-in/400x300/filters:quality(80)/filters:format(webp)/cats/cat.jpg",
            None,
            &config,
        ),
        (
            "thumbor+query",
            "/10x10:500x500/filters:fill(ffffff):blur(3)/s3:archive/cats/cat%20one.jpg",
            Some("width=200&flip=1"),
            &config,
        ),
        ("default", &default_path, None, &config),
        ("custom", "/400w/cats/cat.jpg", None, &custom),
    ];
    for (name, path, query, cfg) in cases {
        let input = RequestInput {
            path,
            query,
            accept,
            ..Default::default()
        };
        // Fail loudly if a case stops parsing, so the figure is for real work.
        if let Err(e) = parse(&input, &cfg.request, &secrets) {
            panic!("{name}: {e}");
        }
        c.bench_function(&format!("parse/{name}"), |b| {
            b.iter(|| parse(black_box(&input), &cfg.request, &secrets))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
