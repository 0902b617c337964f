//! `POST /?upload` into a served folder, and the gallery: real photos stored under safe keys
//! and rendered through the renditions document; hostile uploads each refused with their 4xx,
//! nothing stored, memory bounded, images still served meanwhile.

mod uploads_common;

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uploads_common::*;

fn dims(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("decodable image");
    (img.width(), img.height())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_stored_rendered_and_listed_newest_first() {
    let site = start(|_| {}).await;
    let rocket = photo("formats/rocket.jpg");
    let obama = photo("faces/obama.jpg");
    let (status, json) = post(
        &site,
        form(&[
            ("token", None, TOKEN.as_bytes()),
            ("file", Some("My Rocket!.JPG"), &rocket),
        ]),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let up = &json["uploads"][0];
    assert_eq!(up["key"], "uploads/My-Rocket.jpg");
    assert_eq!(up["renditions"][0]["key"], "uploads/thumb/My-Rocket.webp");
    // The second upload, token in a header this time.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = reqwest::Client::new()
        .post(site.url("/?upload"))
        .header("Content-Type", content_type())
        .header("X-Upload-Token", TOKEN)
        .body(form(&[("file", Some("obama.jpg"), &obama)]))
        .send()
        .await
        .unwrap();
    // A browser's form post lands on the gallery.
    assert_eq!(r.status().as_u16(), 200, "redirected to the gallery");
    assert!(r.url().as_str().ends_with("/?gallery"), "{}", r.url());

    let original = std::fs::read(site.root().join(BUCKET).join("uploads/My-Rocket.jpg")).unwrap();
    assert_eq!(original, rocket, "the original is stored as sent");
    let thumb = std::fs::read(
        site.root()
            .join(RENDITIONS_BUCKET)
            .join("uploads/thumb/My-Rocket.webp"),
    )
    .unwrap();
    assert_eq!(dims(&thumb), (120, 120));
    let small = std::fs::read(
        site.root()
            .join(RENDITIONS_BUCKET)
            .join("uploads/small/obama.jpg"),
    )
    .unwrap();
    assert_eq!(dims(&small).0, 320);

    // Same name again: a new key; asked to overwrite: the same key.
    let (_, json) = post(
        &site,
        form(&[
            ("token", None, TOKEN.as_bytes()),
            ("file", Some("obama.jpg"), &obama),
        ]),
    )
    .await;
    assert_eq!(json["uploads"][0]["key"], "uploads/obama-2.jpg");
    let (_, json) = post(
        &site,
        form(&[
            ("token", None, TOKEN.as_bytes()),
            ("overwrite", None, b"yes"),
            ("file", Some("obama.jpg"), &rocket),
        ]),
    )
    .await;
    assert_eq!(json["uploads"][0]["key"], "uploads/obama.jpg");
    // Another format of the same name would write the same renditions: a new name.
    let png = photo("formats/skimage_logo_rgba.png");
    let (_, json) = post(
        &site,
        form(&[
            ("token", None, TOKEN.as_bytes()),
            ("file", Some("obama.png"), &png),
        ]),
    )
    .await;
    assert_eq!(json["uploads"][0]["key"], "uploads/obama-3.png");
    std::fs::remove_file(site.root().join(BUCKET).join("uploads/obama-3.png")).unwrap();

    // The gallery: token needed (not public by default), newest first, renditions linked.
    let client = reqwest::Client::new();
    let refused = client.get(site.url("/?gallery")).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let page = client
        .get(site.url("/?gallery"))
        .header("Cookie", format!("pixfront-upload={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    let order: Vec<&str> = html
        .split("data-key=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "uploads/obama.jpg",
            "uploads/obama-2.jpg",
            "uploads/My-Rocket.jpg"
        ],
        "newest first"
    );
    assert!(html.contains(&format!(
        "http://{}/fit-in/300x300/uploads/My-Rocket.jpg",
        site.addr
    )));
    // Every rendition link is served, as the image it names.
    let links: Vec<String> = html
        .split("class=\"rendition\" data-name=\"thumb\" href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
        .collect();
    assert_eq!(links.len(), 3);
    let r = client.get(&links[2]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", links[2]);
    assert_eq!(dims(&r.bytes().await.unwrap()), (120, 120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_paginates_and_can_be_public() {
    let site = start(|c| c.uploads.gallery_public = true).await;
    let dir = site.root().join(BUCKET).join("uploads");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..30 {
        std::fs::write(dir.join(format!("p{i:02}.jpg")), b"x").unwrap();
    }
    let html = reqwest::get(site.url("/?gallery&page=2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches("class=\"upload\"").count(),
        6,
        "30 uploads, 24 a page"
    );
    assert!(html.contains("page 2 of 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_without_the_token_are_refused_and_nothing_is_stored() {
    let site = start(|_| {}).await;
    let rocket = photo("formats/rocket.jpg");
    let (status, json) = post(&site, form(&[("file", Some("a.jpg"), &rocket)])).await;
    assert_eq!(
        (status, json["code"].as_str()),
        (401, Some("Upload::Unauthorized"))
    );
    let (status, _) = post(
        &site,
        form(&[("token", None, b"wrong"), ("file", Some("a.jpg"), &rocket)]),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(site.files(BUCKET), ["rocket.jpg"]);
    assert!(site.files(RENDITIONS_BUCKET).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_each_get_their_4xx_and_nothing_is_stored() {
    let site = start(|c| c.pipeline.max_input_pixels = 50_000_000).await;
    let rocket = photo("formats/rocket.jpg");
    let mut truncated = rocket.clone();
    truncated.truncate(rocket.len() / 2);
    // A decompression bomb's header: 60 000 × 60 000 pixels claimed in 57 bytes.
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bomb.extend_from_slice(&60_000u32.to_be_bytes());
    bomb.extend_from_slice(&60_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bomb.extend_from_slice(b"\0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\xAE\x42\x60\x82");
    let too_big = vec![0xFFu8; (4 << 20) + 1];
    let cases: [(&str, &[u8], u16, &str); 5] = [
        ("empty.jpg", b"", 400, "Upload::Empty"),
        ("half.jpg", &truncated, 400, "Upload::Unreadable"),
        ("bomb.png", &bomb, 413, "Upload::TooManyPixels"),
        (
            "notes.jpg",
            b"just some text, named like a photo",
            415,
            "Upload::NotAnImage",
        ),
        ("big.jpg", &too_big, 413, "Upload::TooLarge"),
    ];
    for (name, bytes, status, code) in cases {
        let (got, json) = post(
            &site,
            form(&[("token", None, TOKEN.as_bytes()), ("file", Some(name), bytes)]),
        )
        .await;
        let answer = if json["uploads"].is_array() {
            &json["uploads"][0]
        } else {
            &json
        };
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{name}: {json}"
        );
        assert!(
            answer["message"].as_str().unwrap().len() > 20,
            "says what to do: {json}"
        );
    }
    let (status, json) = post(&site, form(&[("token", None, TOKEN.as_bytes())])).await;
    assert_eq!((status, json["code"].as_str()), (400, Some("Upload::NoFile")));
    assert_eq!(site.files(BUCKET), ["rocket.jpg"], "nothing stored");
    assert!(site.files(RENDITIONS_BUCKET).is_empty());

    // A person gets a page saying what was wrong and how to retry.
    let page = reqwest::Client::new()
        .post(site.url("/?upload"))
        .header("Content-Type", content_type())
        .body(form(&[
            ("token", None, TOKEN.as_bytes()),
            ("file", Some("notes.jpg"), b"text"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 415);
    let html = page.text().await.unwrap();
    assert!(html.contains("Try again") && html.contains("notes.jpg"), "{html}");

    // Path characters in the name: the name is kept readable, the key stays in the prefix.
    let (status, json) = post(
        &site,
        form(&[
            ("token", None, TOKEN.as_bytes()),
            ("file", Some("../../../etc/<x>passwd.jpg"), &rocket),
        ]),
    )
    .await;
    assert_eq!(
        (status, json["uploads"][0]["key"].as_str()),
        (201, Some("uploads/x-passwd.jpg"))
    );
    assert_eq!(site.files(BUCKET), ["rocket.jpg", "uploads/x-passwd.jpg"]);
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends a request head and up to `body` bytes of body (stopping when the server answers), and
/// returns the status line's code.
async fn raw_upload(addr: std::net::SocketAddr, content_length: u64, body: &'static [u8]) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /?upload HTTP/1.1\r\nHost: x\r\nX-Upload-Token: {TOKEN}\r\nAccept: application/json\r\nContent-Type: {}\r\nContent-Length: {content_length}\r\nConnection: close\r\n\r\n",
        content_type()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        for chunk in body.chunks(64 * 1024) {
            if wr.write_all(chunk).await.is_err() {
                break; // the server answered and closed
            }
        }
    });
    let mut buf = Vec::new();
    let _ = rd.read_to_end(&mut buf).await;
    writer.abort();
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2gb_content_length_and_50_concurrent_oversized_uploads_stay_bounded() {
    let site = start(|c| c.uploads.max_bytes = 1 << 20).await;
    // Only a header: refused before the body is read, at once.
    let t = Instant::now();
    assert_eq!(raw_upload(site.addr, 2 << 30, b"").await, 413);
    assert!(t.elapsed() < Duration::from_secs(5));

    // 50 uploads at once, each 6 MiB of one file over the 1 MiB limit (the same static bytes,
    // so the test itself allocates nothing per upload).
    static BODY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let mut file = vec![0xFF, 0xD8, 0xFF, 0xE0];
        file.resize(6 << 20, 0x42);
        form(&[("file", Some("huge.jpg"), &file)])
    });
    let body: &'static [u8] = &BODY;
    let before = rss_kb();
    let uploads: Vec<_> = (0..50)
        .map(|_| tokio::spawn(raw_upload(site.addr, body.len() as u64, body)))
        .collect();
    // Meanwhile images are served.
    let image = reqwest::get(site.url("/fit-in/100x100/rocket.jpg"))
        .await
        .unwrap();
    assert_eq!(image.status().as_u16(), 200);
    for u in uploads {
        assert_eq!(u.await.unwrap(), 413);
    }
    let grown_mb = rss_kb().saturating_sub(before) / 1024;
    println!("RSS grew by {grown_mb} MB over 50 concurrent 6 MiB uploads (limit 1 MiB)");
    // Buffered whole, 50 × 6 MiB would be 300 MB; bounded, at most 4 uploads × 1 MiB are held.
    assert!(grown_mb < 100, "RSS grew by {grown_mb} MB");
    assert_eq!(site.files(BUCKET), ["rocket.jpg"]);
}

/// The upload pipeline (events mode over folders): an upload that is not an image is
/// acknowledged, then kept, deleted or quarantined as `UPLOAD_NOT_AN_IMAGE` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_acknowledges_non_images_and_removes_or_quarantines_them() {
    use pixfront::lambda::events::Events;
    use pixfront::uploads::NotAnImage;
    for (mode, left, moved) in [
        (NotAnImage::Keep, true, false),
        (NotAnImage::Delete, false, false),
        (NotAnImage::Quarantine, false, true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let bucket = dir.path().join(BUCKET);
        std::fs::create_dir_all(bucket.join("uploads")).unwrap();
        std::fs::write(bucket.join("uploads/fake.jpg"), "text, not a photo").unwrap();
        let mut config = pixfront::config::Config::default();
        config.request.source_buckets = Some(BUCKET.into());
        config.uploads.not_an_image = mode;
        let lambda = pixfront::lambda::settings::LambdaSettings {
            mode: pixfront::lambda::settings::Mode::Events,
            root: Some(dir.path().to_path_buf()),
            renditions: Some(RENDITIONS.into()),
            object_lambda_edits: None,
        };
        let events = std::sync::Arc::new(Events::from_env(config, lambda).await.unwrap());
        let record = |key: &str| {
            serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]})
        };
        let deadline = std::time::SystemTime::now() + Duration::from_secs(60);
        let answer = events.handle(record("uploads/fake.jpg"), deadline).await;
        assert!(answer.is_ok(), "{mode:?}: acknowledged, not retried: {answer:?}");
        assert_eq!(bucket.join("uploads/fake.jpg").exists(), left, "{mode:?}");
        assert_eq!(
            bucket.join("quarantine/uploads/fake.jpg").exists(),
            moved,
            "{mode:?}"
        );
        if moved {
            // The quarantined copy's own notification is skipped, not quarantined again.
            assert!(events
                .handle(record("quarantine/uploads/fake.jpg"), deadline)
                .await
                .is_ok());
            assert!(bucket.join("quarantine/uploads/fake.jpg").exists());
        }
    }
}
