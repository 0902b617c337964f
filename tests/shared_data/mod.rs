//! Where the shared test images are: `PIXFRONT_TESTDATA`, else the steering repo's
//! `../shared/testdata` (read-only). Every test crate and support module takes it from here.

use std::path::PathBuf;

pub fn testdata() -> PathBuf {
    std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"))
}
