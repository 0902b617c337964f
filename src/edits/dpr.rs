//! `dpr`: a device-pixel-ratio factor that multiplies the requested `resize` width and height,
//! so one layout size serves HiDPI screens (imgproxy's `dpr`). It is folded into `resize` while
//! parsing: the canonical request holds the multiplied sizes, so equivalent URLs share one ETag.

use super::num;
use crate::error::Error;
use serde_json::Value;

/// Factors are clamped to this range: below 1 a "device pixel ratio" would shrink the request,
/// and above 4 no screen needs it (it would only multiply the work).
pub const MIN: f64 = 1.0;
pub const MAX: f64 = 4.0;

/// The factor a `dpr` value asks for: a number (or numeric string) above 0, clamped to
/// [`MIN`]..=[`MAX`]; anything else is a 400.
pub fn factor(v: &Value) -> Result<f64, Error> {
    num::js_number(v)
        .filter(|f| f.is_finite() && *f > 0.0)
        .map(|f| f.clamp(MIN, MAX))
        .ok_or_else(|| Error::invalid_edit("dpr", format_args!("{v} is not a number above 0")))
}

/// Multiplies the sizes a `resize` gives as numbers (`width`, `height`) by `factor`. When a size
/// was multiplied by more than 1 and the request did not say `withoutEnlargement`, it is set:
/// the extra pixels a HiDPI screen can use exist only if the original has them, so dpr never
/// upscales. (Fields, not the `Resize`: this file stays below `geometry` in the module graph.)
pub fn apply(sizes: [&mut Option<Option<u32>>; 2], without_enlargement: &mut Option<bool>, factor: f64) {
    let mut scaled = false;
    for dim in sizes {
        if let Some(Some(d)) = dim {
            *d = (f64::from(*d) * factor).round().min(f64::from(u32::MAX)) as u32;
            scaled = true;
        }
    }
    if scaled && factor > 1.0 && without_enlargement.is_none() {
        *without_enlargement = Some(true);
    }
}

#[cfg(test)]
mod tests {
    use crate::edits::{Edit, Edits};
    use serde_json::json;

    fn resize(v: serde_json::Value) -> Result<serde_json::Value, crate::error::Error> {
        let (edits, ignored) = Edits::from_json(v.as_object().unwrap())?;
        assert!(ignored.is_empty());
        let found = edits
            .iter()
            .find_map(|e| matches!(e, Edit::Resize(_)).then(|| e.to_json()));
        Ok(found.unwrap_or(json!(null)))
    }

    #[test]
    fn multiplies_given_sizes_and_never_enlarges_unless_asked() {
        assert_eq!(
            resize(json!({"dpr": 2, "resize": {"width": 300, "height": null}})).unwrap(),
            json!({"width": 600, "height": null, "withoutEnlargement": true})
        );
        // Order does not matter; an explicit withoutEnlargement is kept.
        assert_eq!(
            resize(json!({"resize": {"width": 101, "withoutEnlargement": false}, "dpr": "1.5"})).unwrap(),
            json!({"width": 152, "withoutEnlargement": false})
        );
        // Clamped to 1..=4.
        assert_eq!(
            resize(json!({"dpr": 9, "resize": {"height": 100}})).unwrap(),
            json!({"height": 400, "withoutEnlargement": true})
        );
        assert_eq!(
            resize(json!({"dpr": 0.5, "resize": {"width": 100}})).unwrap(),
            json!({"width": 100})
        );
        // Without a resize, nothing to multiply; `dpr` never appears in the canonical edits.
        let (edits, _) = Edits::from_json(json!({"dpr": 2, "flip": true}).as_object().unwrap()).unwrap();
        assert_eq!(serde_json::Value::Object(edits.to_json()), json!({"flip": true}));
    }

    #[test]
    fn bad_factors_are_400() {
        for bad in [json!(0), json!(-1), json!("abc"), json!(null), json!([2])] {
            let err = resize(json!({"dpr": bad, "resize": {"width": 1}})).unwrap_err();
            assert_eq!(
                (err.status, err.code.as_ref()),
                (400, "ImageEdits::InvalidArgument"),
                "{bad}"
            );
        }
    }
}
