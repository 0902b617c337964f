//! Property tests: no path or query makes the parser panic; every failure is a 4xx.

use pixfront::config::Config;
use pixfront::request::{parse, RequestInput, StaticSecret};
use proptest::prelude::*;

/// Path pieces users (and attackers) write, glued together at random.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("fit-in".to_string()),
        Just("unsafe".to_string()),
        Just("s3:b".to_string()),
        Just(".jpg".to_string()),
        Just(".png".to_string()),
        Just("=".to_string()),
        Just("%".to_string()),
        Just("%C3".to_string()),
        Just("filters:".to_string()),
        "[0-9]{1,12}x[0-9]{1,12}",
        "[0-9]{1,7}x[0-9]{1,7}:[0-9]{1,7}x[0-9]{1,7}",
        "filters:[a-z_]{1,16}\\([-0-9a-z.,;: ]{0,20}\\)",
        "(fill|background_color|blur|quality|rgb|rotate|sharpen|proportion|convolution|watermark|format|smart_crop)\\([-0-9a-zA-Z.,;/% ]{0,24}\\)",
        "[A-Za-z0-9+/]{4,40}={0,2}",
        any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..8).prop_map(|v| format!("/{}", v.concat()))
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::collection::vec(
            (
                prop_oneof![
                    Just("width"),
                    Just("height"),
                    Just("format"),
                    Just("fit"),
                    Just("rotate"),
                    Just("flip"),
                    Just("grayscale"),
                    Just("expires"),
                    Just("signature"),
                    Just("x")
                ],
                "[-0-9a-zA-Z%+=]{0,12}",
            ),
            0..5,
        )
        .prop_map(|v| {
            v.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
    )
}

fn check(path: &str, query: Option<&str>, config: &Config) -> Result<(), TestCaseError> {
    let input = RequestInput {
        path,
        query,
        accept: Some("image/avif,image/webp"),
        ..Default::default()
    };
    if let Err(e) = parse(&input, &config.request, &StaticSecret(Some("k".into()))) {
        prop_assert!(e.is_client_error(), "{path:?} {query:?}: {e}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn thumbor_and_default_paths_never_panic(p in path(), q in query()) {
        let config = {
            let mut c = Config::default();
            c.request.source_buckets = Some("b,c".into());
            c.request.auto_webp = true;
            c.request.auto_avif = true;
            c
        };
        check(&p, q.as_deref(), &config)?;
    }

    #[test]
    fn base64_json_never_panics(edits in "\\{(\"[a-zA-Z]{1,12}\":(true|1|-1|0|\"[a-z0-9 ]{0,8}\"|\\{\\}|null|\\[\\]),?){0,4}\\}") {
        let json = format!("{{\"key\":\"a.jpg\",\"edits\":{}}}", edits.trim_end_matches(",}").replace(",}", "}"));
        use base64::Engine;
        let p = format!("/{}", base64::engine::general_purpose::STANDARD.encode(json));
        let config = {
            let mut c = Config::default();
            c.request.source_buckets = Some("b".into());
            c
        };
        check(&p, None, &config)?;
    }

    #[test]
    fn custom_rewrites_never_panic(p in path()) {
        let config = {
            let mut c = Config::default();
            c.request.source_buckets = Some("b".into());
            c.request.rewrite_match_pattern = Some("/^\\/(\\d+)w\\//gi".into());
            c.request.rewrite_substitution = Some("/fit-in/$1x0/$&$$".into());
            c
        };
        check(&p, None, &config)?;
    }
}
