//! AWS Rekognition as [`FaceDetector`] (`DetectFaces`) and [`Moderator`]
//! (`DetectModerationLabels`), sent a JPEG proxy rather than the original: smaller uploads,
//! always under Rekognition's 5 MB / 10 000 px limits, whatever the original's format.
//!
//! The pipeline is synchronous and runs on a blocking thread; each call runs the SDK future on
//! a short-lived thread with the runtime handle captured at construction, which is safe from
//! any calling context (a blocking thread, a plain thread, or inside an async task).
//!
//! Every failure (throttling, timeout, credentials, a malformed answer) is a 503: blur and
//! moderation fail closed. `FACE_DETECTION_TIMEOUT_MS` bounds each call, retries included.

use super::settings::FaceSettings;
use super::{unavailable, Face, FaceDetector, ModerationLabel, Moderator};
use crate::error::Error;
use crate::telemetry::Service;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;
use image::RgbaImage;
use std::future::Future;
use std::time::Duration;

/// A Rekognition client and the runtime its futures run on.
#[derive(Debug, Clone)]
pub struct Rekognition {
    client: aws_sdk_rekognition::Client,
    handle: tokio::runtime::Handle,
    proxy_size: u32,
}

impl Rekognition {
    /// A client from the shared SDK configuration (region, credentials, endpoint — e.g.
    /// `AWS_ENDPOINT_URL_REKOGNITION`) with `FACE_DETECTION_TIMEOUT_MS` as the operation
    /// timeout. Must be called inside a Tokio runtime, which later calls use.
    pub fn new(sdk: &SdkConfig, config: &FaceSettings) -> Result<Rekognition, String> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| "the Rekognition client needs a Tokio runtime".to_string())?;
        let timeout = Duration::from_millis(config.detection_timeout_ms.max(1));
        // The shared SDK settings (retries, per-attempt bound) stay; the whole call, retries
        // included, gets the face detection budget.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .operation_attempt_timeout(timeout.min(crate::aws::ATTEMPT_TIMEOUT))
            .operation_timeout(timeout)
            .build();
        let conf = aws_sdk_rekognition::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        Ok(Rekognition {
            client: aws_sdk_rekognition::Client::from_conf(conf),
            handle,
            proxy_size: config.proxy_size,
        })
    }

    /// Runs `fut` to completion on the client's runtime and waits for it.
    fn call<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        std::thread::scope(|s| {
            s.spawn(|| self.handle.block_on(fut))
                .join()
                .map_err(|_| unavailable("the Rekognition call panicked"))
        })
    }
}

/// The proxy as a JPEG (alpha flattened on white: Rekognition reads JPEG and PNG only).
fn jpeg(proxy: &RgbaImage) -> Result<Blob, Error> {
    let rgb = image::RgbImage::from_fn(proxy.width(), proxy.height(), |x, y| {
        let [r, g, b, a] = proxy.get_pixel(x, y).0.map(u32::from);
        let over = |c: u32| ((c * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&rgb)
        .map_err(|e| unavailable(&format!("cannot encode the Rekognition proxy: {e}")))?;
    Ok(Blob::new(out))
}

fn failed<E: ProvideErrorMetadata + std::fmt::Debug>(operation: &str, err: &E) -> String {
    match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("Rekognition {operation}: {code}: {msg}"),
        (Some(code), None) => format!("Rekognition {operation}: {code}"),
        _ => format!("Rekognition {operation}: {err:?}"),
    }
}

impl FaceDetector for Rekognition {
    fn name(&self) -> &'static str {
        "rekognition"
    }

    fn proxy_size(&self) -> u32 {
        self.proxy_size
    }

    fn detect(&self, proxy: &RgbaImage) -> Result<Vec<Face>, Error> {
        let image = Image::builder().bytes(jpeg(proxy)?).build();
        let answer = self.call(self.client.detect_faces().image(image).send())?;
        crate::aws::count_call(Service::Rekognition, &answer);
        let answer = answer.map_err(|e| {
            let why = failed("DetectFaces", &e);
            tracing::warn!(target: "pixfront::faces", "{why}");
            unavailable(&why)
        })?;
        answer
            .face_details()
            .iter()
            .map(|d| {
                let b = d
                    .bounding_box()
                    .ok_or_else(|| unavailable("Rekognition DetectFaces: a face without a box"))?;
                Ok(Face {
                    left: b.left().unwrap_or(0.0),
                    top: b.top().unwrap_or(0.0),
                    width: b.width().unwrap_or(0.0),
                    height: b.height().unwrap_or(0.0),
                    confidence: d.confidence().unwrap_or(0.0),
                })
            })
            .collect()
    }
}

impl Moderator for Rekognition {
    fn proxy_size(&self) -> u32 {
        self.proxy_size
    }

    fn labels(&self, proxy: &RgbaImage, min_confidence: f32) -> Result<Vec<ModerationLabel>, Error> {
        let image = Image::builder().bytes(jpeg(proxy)?).build();
        let answer = self.call(
            self.client
                .detect_moderation_labels()
                .image(image)
                .min_confidence(min_confidence)
                .send(),
        )?;
        crate::aws::count_call(Service::Rekognition, &answer);
        let answer = answer.map_err(|e| {
            let why = failed("DetectModerationLabels", &e);
            tracing::warn!(target: "pixfront::faces", "{why}");
            super::moderation_failed(&why)
        })?;
        Ok(answer
            .moderation_labels()
            .iter()
            .map(|l| ModerationLabel {
                name: l.name().unwrap_or_default().to_string(),
                parent_name: l.parent_name().unwrap_or_default().to_string(),
                confidence: l.confidence().unwrap_or(0.0),
            })
            .collect())
    }
}
