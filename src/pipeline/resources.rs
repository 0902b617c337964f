//! What the front end fetches for the pipeline before it runs, so the pipeline never does I/O.

use std::collections::HashMap;

/// Objects the pipeline needs besides the original (overlays), fetched beforehand by the
/// front end through the storage trait so the pipeline never does I/O.
#[derive(Debug, Default, Clone)]
pub struct Resources {
    /// (bucket, key) → bytes of each `overlayWith` image.
    pub overlays: HashMap<(String, String), bytes::Bytes>,
    /// Face detection for this request (cached per original); face edits fail closed without.
    pub faces: Option<crate::faces::FaceJob>,
    /// Overlays read from `FORCE_BLUR_FACES` originals, each with its own detection job: their
    /// faces are blurred before they are composited.
    pub overlay_faces: HashMap<(String, String), crate::faces::FaceJob>,
}
