//! The demo page in a real browser: headless Chromium loads it, the page's script requests an
//! image from the server, and the image decodes. Skips loudly where Chromium is not installed
//! (fails instead under CI, where .ci/run installs it).

mod server_common;

use pixfront::http::{DemoImages, Handler};
use pixfront::storage::fs::FsStorage;
use server_common::*;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_page_loads_and_shows_an_image() {
    let Some(browser) = chromium() else {
        eprintln!("\n!!!!! SKIPPED demo_page_loads_and_shows_an_image: Chromium is not installed !!!!!\n");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs it)"
        );
        return;
    };
    let fx = Fixture::new();
    let handler =
        Handler::new(Arc::new(FsStorage::new(fx.root())), fx.config()).with_demo_images(DemoImages {
            bucket: BUCKET.into(),
            keys: vec!["rocket.jpg".into(), "people/obama.jpg".into()],
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pixfront::server::serve(
        listener,
        Arc::new(handler),
        std::future::pending(),
    ));

    let profile = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--virtual-time-budget=20000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("http://{addr}/"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("Chromium finished within 90 s")
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains(r#"data-loaded="yes""#),
        "the page did not show an image.\nDOM:\n{dom}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dom.contains("src=\"blob:"), "the preview shows the fetched bytes");
    // The status line reports the decoded image: "<w>×<h> image/…".
    let status = dom
        .split("id=\"status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("");
    let (w, rest) = status.split_once('×').unwrap_or_default();
    let h = rest.split(' ').next().unwrap_or("");
    assert!(
        w.parse::<u32>().is_ok_and(|w| w > 0) && h.parse::<u32>().is_ok_and(|h| h > 0),
        "{status}"
    );
    assert!(rest.contains(" image/jpeg,"), "{status}");
    assert!(
        dom.contains(&format!("http://{addr}/fit-in/400x300/rocket.jpg")),
        "Thumbor URL shown"
    );
}
