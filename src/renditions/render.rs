//! One original → every rendition, through [`crate::pipeline::process`].

use super::config::Renditions;
use crate::error::Error;
use crate::faces;
use crate::pipeline::{self, PipelineSettings, Resources};
use crate::request::ImageRequest;
use crate::storage::Object;

/// User metadata naming the original's ETag (`x-amz-meta-source-etag` on S3), so a rendition
/// can be traced to the exact upload it was made from.
pub const SOURCE_ETAG: &str = "source-etag";

/// One rendition, ready to be written.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The rendition's name.
    pub rendition: String,
    /// Destination key.
    pub key: String,
    pub bytes: bytes::Bytes,
    pub content_type: String,
    pub cache_control: String,
    /// User metadata (name, value); values are ASCII.
    pub metadata: Vec<(String, String)>,
}

/// True when `bytes` are not an image pixfront recognises (a text file, a PDF…): nothing to
/// render, and rendering again will not change that.
pub fn is_not_an_image(bytes: &[u8]) -> bool {
    pipeline::sniff::sniff(bytes).is_none()
}

/// Renders every rendition of `bucket`/`key`. All or nothing: the first failure is returned,
/// so a caller never writes some renditions of an original and not the others. `resources`
/// carries the overlays ([`Renditions::overlay_refs`]) and one face job, so faces are detected
/// once for all renditions. `FORCE_BLUR_FACES` applies as in the HTTP handler. CPU-bound: call
/// it on a blocking thread.
pub fn render_all(
    set: &Renditions,
    bucket: &str,
    key: &str,
    original: &Object,
    resources: &Resources,
    pipeline_settings: &PipelineSettings,
    force_blur_faces: &[String],
) -> Result<Vec<Rendered>, Error> {
    let forced = faces::policy::covers(force_blur_faces, bucket, key);
    let mut metadata = Vec::new();
    if let Some(etag) = &original.etag {
        metadata.push((SOURCE_ETAG.to_string(), etag.trim_matches('"').to_string()));
    }
    let mut out = Vec::with_capacity(set.renditions.len());
    for r in &set.renditions {
        let mut req = ImageRequest::new(bucket, key, r.edits.clone());
        req.output_format = r.output_format;
        if forced {
            faces::policy::force_blur(&mut req.edits);
        }
        let output = pipeline::process(
            &req,
            &original.body,
            original.content_type.as_deref(),
            resources,
            pipeline_settings,
        )
        .map_err(|e| Error::new(e.status, e.code, format!("rendition {}: {}", r.name, e.message)))?;
        out.push(Rendered {
            rendition: r.name.clone(),
            key: r.key.resolve(key, &r.name)?,
            bytes: output.bytes,
            content_type: output.content_type,
            cache_control: set.cache_control.clone(),
            metadata: metadata.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> bytes::Bytes {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner().into()
    }

    #[test]
    fn renders_each_rendition_with_its_key_type_and_source_etag() {
        let set = Renditions::parse(
            r#"{"cacheControl": "max-age=60", "renditions": [
                {"name": "thumb", "edits": {"resize": {"width": 30, "height": 30, "fit": "cover"}},
                 "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"},
                {"name": "copy", "key": "copies/{key}"}]}"#,
        )
        .unwrap();
        let original = Object {
            body: png(80, 50),
            etag: Some("\"abc123\"".into()),
            ..Object::default()
        };
        let out = render_all(
            &set,
            "b",
            "x/y.png",
            &original,
            &Resources::default(),
            &PipelineSettings::default(),
            &[],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].key, "x/thumb/y.webp");
        assert_eq!(out[0].content_type, "image/webp");
        assert_eq!(out[0].cache_control, "max-age=60");
        let img = image::load_from_memory(&out[0].bytes).unwrap();
        assert_eq!((img.width(), img.height()), (30, 30));
        assert_eq!(out[0].metadata, vec![(SOURCE_ETAG.into(), "abc123".into())]);
        // No edits and no format: the original bytes, untouched.
        assert_eq!(out[1].key, "copies/x/y.png");
        assert_eq!(out[1].bytes, original.body);
        assert_eq!(out[1].content_type, "image/png");
    }

    #[test]
    fn a_corrupt_original_fails_as_a_whole() {
        let set =
            Renditions::parse(r#"{"renditions": [{"name": "t", "outputFormat": "png", "key": "{key}"}]}"#)
                .unwrap();
        let mut body = png(40, 40).to_vec();
        body.truncate(60);
        let original = Object {
            body: body.into(),
            ..Object::default()
        };
        let err = render_all(
            &set,
            "b",
            "k.png",
            &original,
            &Resources::default(),
            &PipelineSettings::default(),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.status, 400, "{err}");
        assert!(err.message.starts_with("rendition t: "), "{err}");
        assert!(is_not_an_image(b"hello, world"));
        assert!(!is_not_an_image(&original.body));
    }
}
