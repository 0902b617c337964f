//! Client hints (`CLIENT_HINTS=Yes`): when the URL leaves the size or the pixel ratio open, the
//! browser's `Sec-CH-DPR`, `Sec-CH-Width` and `Sec-CH-Viewport-Width` fill them in, snapped to
//! fixed values so a cache holds a handful of variants per URL, not one per device. The
//! CloudFront Function (`cdk/lib/accept-function.ts`) snaps the same way before the cache key
//! is made; snapping here again keeps direct requests to the same variants.

use serde_json::{json, Map, Value};

/// Sent with every image answer while client hints are on (browsers only act on it from the
/// HTML page, which must send it too: docs/url-reference.md).
pub const ACCEPT_CH: &str = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width";

/// Widths (physical pixels) a hinted width is rounded up to; larger ones become the last.
pub const WIDTHS: [u32; 10] = [320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560, 3840];

/// The hint headers of a request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientHints<'a> {
    pub dpr: Option<&'a str>,
    pub width: Option<&'a str>,
    pub viewport_width: Option<&'a str>,
}

/// A hint's number; a malformed hint is ignored (it is the browser's, not the URL's).
fn number(v: Option<&str>) -> Option<f64> {
    v?.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f > 0.0)
}

/// The nearest of 1, 2 and 3.
pub fn snap_dpr(dpr: f64) -> u32 {
    dpr.round().clamp(1.0, 3.0) as u32
}

/// The smallest of [`WIDTHS`] at least `width`, else the largest.
pub fn snap_width(width: f64) -> u32 {
    WIDTHS
        .iter()
        .copied()
        .find(|w| f64::from(*w) >= width)
        .unwrap_or(WIDTHS[WIDTHS.len() - 1])
}

/// Fills what the URL left open in `edits` from `hints`, and returns the hint headers the answer
/// now depends on (for `Vary`, whether or not the request carried them: a cached answer made
/// without hints must not be served to a request with them).
///
/// - The URL gives a width or height and a `dpr`: nothing to do.
/// - It gives a size but no `dpr`: `Sec-CH-DPR` (snapped) becomes the `dpr`.
/// - It gives no size: `Sec-CH-Width` (physical pixels), else `Sec-CH-Viewport-Width` times
///   the ratio (the URL's `dpr`, else `Sec-CH-DPR`), snapped to [`WIDTHS`], becomes
///   `resize.width` (never enlarging unless the URL says `withoutEnlargement: false`); the
///   width is already physical, so no `dpr` multiplies it again.
pub fn apply(hints: &ClientHints, edits: &mut Map<String, Value>) -> Vec<&'static str> {
    let resize = edits.get("resize").and_then(Value::as_object);
    let has_size = resize.is_some_and(|r| {
        ["width", "height"]
            .iter()
            .any(|k| r.get(*k).is_some_and(|v| !v.is_null()))
    });
    let url_dpr = match edits.get("dpr").map(crate::edits::dpr::factor) {
        // A bad `dpr` is the URL's mistake: left for the edit parser to answer with a 400.
        Some(Err(_)) => return Vec::new(),
        given => given.and_then(Result::ok),
    };
    let hint_dpr = number(hints.dpr).map(snap_dpr);
    if has_size {
        if url_dpr.is_some() {
            return Vec::new();
        }
        if let Some(d) = hint_dpr {
            edits.insert("dpr".into(), json!(d));
        }
        return vec!["Sec-CH-DPR"];
    }
    let ratio = url_dpr.or(hint_dpr.map(f64::from)).unwrap_or(1.0);
    let width = number(hints.width).or_else(|| number(hints.viewport_width).map(|v| v * ratio));
    if let Some(w) = width {
        let slot = edits.entry("resize").or_insert_with(|| json!({}));
        if !slot.is_object() {
            *slot = json!({});
        }
        if let Value::Object(r) = slot {
            r.insert("width".into(), json!(snap_width(w)));
            r.entry("withoutEnlargement").or_insert(json!(true));
        }
        edits.shift_remove("dpr");
    }
    let mut used = vec!["Sec-CH-Width", "Sec-CH-Viewport-Width"];
    if url_dpr.is_none() {
        used.push("Sec-CH-DPR");
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hints: ClientHints, edits: Value) -> (Value, Vec<&'static str>) {
        let mut m = edits.as_object().unwrap().clone();
        let used = apply(&hints, &mut m);
        (Value::Object(m), used)
    }

    #[test]
    fn snapping() {
        assert_eq!(
            [0.5, 1.0, 1.25, 1.5, 2.625, 4.0].map(snap_dpr),
            [1, 1, 1, 2, 3, 3]
        );
        assert_eq!(
            [1.0, 320.0, 321.0, 1000.0, 5000.0].map(snap_width),
            [320, 320, 480, 1024, 3840]
        );
    }

    #[test]
    fn fills_only_what_the_url_left_open() {
        let h = ClientHints {
            dpr: Some("2.75"),
            width: Some("700"),
            viewport_width: Some("400"),
        };
        // Size given, no dpr: the pixel ratio.
        assert_eq!(
            run(h, json!({"resize": {"width": 300}})),
            (json!({"resize": {"width": 300}, "dpr": 3}), vec!["Sec-CH-DPR"])
        );
        // Size and dpr given: nothing, and nothing to vary on.
        assert_eq!(
            run(h, json!({"resize": {"width": 300}, "dpr": 1})).1,
            Vec::<&str>::new()
        );
        // No size: the hinted width, physical already (no dpr), never enlarging.
        assert_eq!(
            run(h, json!({"dpr": 2, "flip": true})),
            (
                json!({"flip": true, "resize": {"width": 768, "withoutEnlargement": true}}),
                vec!["Sec-CH-Width", "Sec-CH-Viewport-Width"]
            )
        );
        // Only the viewport: times the pixel ratio hint (400 x 3 = 1200 -> 1280).
        let viewport = ClientHints { width: None, ..h };
        assert_eq!(
            run(
                viewport,
                json!({"resize": {"fit": "inside", "withoutEnlargement": false}})
            )
            .0,
            json!({"resize": {"fit": "inside", "withoutEnlargement": false, "width": 1280}})
        );
        // No hints at all: nothing changes, but the answer still varies on them.
        assert_eq!(
            run(ClientHints::default(), json!({})),
            (
                json!({}),
                vec!["Sec-CH-Width", "Sec-CH-Viewport-Width", "Sec-CH-DPR"]
            )
        );
        // Malformed hints are ignored.
        let bad = ClientHints {
            dpr: Some("x"),
            width: Some("-5"),
            viewport_width: Some(""),
        };
        assert_eq!(
            run(bad, json!({"resize": {"height": 10}})).0,
            json!({"resize": {"height": 10}})
        );
    }
}
