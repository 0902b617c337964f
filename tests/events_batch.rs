//! `pixfront render --renditions FILE SRC_DIR DEST_DIR` (batch mode, the real binary) over a
//! folder of the shared test images: every rendition lands with its size and format, a second
//! run skips everything, a newer original is rendered again, a corrupt one fails the run (exit 1)
//! without stopping the others, non-images are counted apart.

mod shared_data;
use shared_data::testdata;

use std::path::Path;
use std::process::{Command, Output};

const RENDITIONS: &str = r#"{"renditions": [
  {"name": "thumb", "edits": {"resize": {"width": 64, "height": 64, "fit": "cover"}},
   "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"},
  {"name": "small", "edits": {"resize": {"width": 120}}, "outputFormat": "jpeg", "key": "small/{key}.jpg"}]}"#;

/// `src/` with originals in sub-folders (and names with spaces), a text file, and `dest/`.
fn library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("photos");
    for (from, to) in [
        ("formats/rocket.jpg", "rocket.jpg"),
        ("formats/hopper.webp", "people/hopper one.webp"),
        ("formats/skimage_logo_rgba.png", "logos/logo.png"),
        ("faces/hopper_exif_orientation6.jpg", "people/rotated.jpg"),
        ("formats/iss634_animated.gif", "space/iss.gif"),
    ] {
        let to = src.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(testdata().join(from), to).unwrap();
    }
    std::fs::write(src.join("README.txt"), "not an image").unwrap();
    dir
}

fn render(dir: &Path, extra: &[&str]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .arg("render")
        .arg("--renditions")
        .arg(RENDITIONS)
        .args(extra)
        .arg(dir.join("photos"))
        .arg(dir.join("out"))
        .env_remove("PIXFRONT_RENDITIONS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

fn dimensions(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn renders_a_folder_then_skips_what_is_up_to_date() {
    let dir = library();
    let (out, stdout) = render(dir.path(), &[]);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .starts_with("rendered 5, skipped 0 (up to date), failed 0, not images 1; 10 files written in "),
        "{stdout}"
    );
    let o = dir.path().join("out");
    assert_eq!(dimensions(&o.join("thumb/rocket.webp")), (64, 64));
    assert_eq!(dimensions(&o.join("people/thumb/hopper one.webp")), (64, 64));
    assert_eq!(dimensions(&o.join("space/thumb/iss.webp")), (64, 64));
    assert_eq!(dimensions(&o.join("small/logos/logo.png.jpg")).0, 120);
    assert_eq!(dimensions(&o.join("small/people/rotated.jpg.jpg")).0, 120);
    assert_eq!(
        image::ImageFormat::from_path(o.join("thumb/rocket.webp")).unwrap(),
        image::ImageFormat::WebP
    );
    assert_eq!(
        &std::fs::read(o.join("small/rocket.jpg.jpg")).unwrap()[..2],
        &[0xFF, 0xD8]
    );
    assert!(!o.join("thumb/README.webp").exists());

    // Resumable: nothing is newer than its renditions.
    let (out, stdout) = render(dir.path(), &[]);
    assert!(out.status.success());
    assert!(
        stdout.starts_with("rendered 0, skipped 5 (up to date), failed 0, not images 1; 0 files written"),
        "{stdout}"
    );

    // A replaced original is rendered again; `--force` renders everything.
    let rocket = dir.path().join("photos/rocket.jpg");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&rocket)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (_, stdout) = render(dir.path(), &[]);
    assert!(stdout.starts_with("rendered 1, skipped 4 "), "{stdout}");
    let (_, stdout) = render(dir.path(), &["--force", "-j", "1"]);
    assert!(stdout.starts_with("rendered 5, skipped 0 "), "{stdout}");
}

#[test]
fn a_corrupt_original_fails_the_run_but_not_the_others() {
    let dir = library();
    let mut bytes = std::fs::read(testdata().join("formats/rocket.jpg")).unwrap();
    bytes.truncate(600);
    bytes.extend(std::iter::repeat_n(0x55u8, 4000));
    std::fs::write(dir.path().join("photos/broken.jpg"), bytes).unwrap();
    let (out, stdout) = render(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("rendered 5, skipped 0 (up to date), failed 1, not images 1"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed: broken.jpg: 400 "), "{stderr}");
    assert!(!dir.path().join("out/thumb/broken.webp").exists());
    assert!(!dir.path().join("out/small/broken.jpg.jpg").exists());
}

#[test]
fn a_bad_document_is_exit_2_with_the_reason() {
    let dir = library();
    let out = Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .args([
            "render",
            "--renditions",
            r#"{"renditions": [{"name": "t", "key": "fixed.png"}]}"#,
        ])
        .arg(dir.path().join("photos"))
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has neither {key} nor {stem}"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn originals_that_would_share_rendition_keys_are_reported_not_skipped() {
    let dir = library();
    // `rocket.png` and `rocket.jpg` both give `thumb/rocket.webp` under `{dir}/thumb/{stem}.webp`.
    std::fs::copy(
        testdata().join("sih/25x15.png"),
        dir.path().join("photos/rocket.png"),
    )
    .unwrap();
    let (out, stdout) = render(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("rendered 5, skipped 0 (up to date), failed 1, "),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed: rocket.png: its renditions would overwrite those of rocket.jpg"),
        "{stderr}"
    );
    // The first one's renditions are its own.
    assert_eq!(dimensions(&dir.path().join("out/small/rocket.jpg.jpg")).0, 120);
    let thumb = image::open(dir.path().join("out/thumb/rocket.webp")).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (64, 64));
}
