//! `pixfront serve` as a user runs it: the binary, its banner, its flags, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running {
    child: Child,
    base: String,
    banner: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a random port and reads its banner up to the last example line.
fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .env_remove("SOURCE_BUCKETS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // The banner is read on its own thread so that a banner which never reaches its last line
    // fails the test after a bound instead of hanging the whole run.
    let stdout = child.stdout.take().unwrap();
    // Owned by a `Running` from here on, so a failed banner kills the server too (an orphan
    // would hold the test's stderr open and stall whoever reads it).
    let mut srv = Running {
        child,
        base: String::new(),
        banner: Vec::new(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // After the banner nobody receives, but reading goes on: stdout (access logs) is
        // drained so the server never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = |banner: &[String]| {
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("banner incomplete ({e}):\n{}", banner.join("\n")))
    };
    let first = next(&[]);
    srv.base = first.rsplit(' ').next().unwrap().to_string();
    assert!(srv.base.starts_with("http://127.0.0.1:"), "{first}");
    srv.banner.push(first);
    loop {
        let line = next(&srv.banner);
        // The samples' banner ends with the face-blur example; a --root one with its only "Try:".
        let end = line.trim_start().starts_with("face blur:") || line.starts_with("Try:  ");
        srv.banner.push(line);
        if end {
            break;
        }
    }
    srv
}

fn get(url: &str) -> (u16, Vec<u8>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, r.bytes().await.unwrap().to_vec(), ct)
    })
}

#[test]
fn serves_bundled_samples_without_configuration() {
    let srv = start(&[]);
    let text = srv.banner.join("\n");
    for needle in [
        "demo page:",
        "health:",
        "Thumbor:",
        "Default JSON:",
        "query params:",
        "AVIF:",
        "face blur:",
    ] {
        assert!(text.contains(needle), "banner lacks {needle}:\n{text}");
    }
    // Every example URL the banner prints answers with an image.
    let examples: Vec<&str> = srv
        .banner
        .iter()
        .skip_while(|l| !l.starts_with("Try:"))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
        .collect();
    assert_eq!(examples.len(), 5, "{text}");
    for url in examples {
        let (status, body, ct) = get(url);
        assert_eq!(status, 200, "{url}");
        assert!(ct.starts_with("image/"), "{url}: {ct}");
        assert!(!body.is_empty());
    }
    let (status, body, ct) = get(&format!("{}/rocket.jpg", srv.base));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(image::load_from_memory(&body).unwrap().width(), 640);
    let (status, _, ct) = get(&format!("{}/people/obama.jpg", srv.base));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    let (status, body, _) = get(&format!("{}/", srv.base));
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(body).unwrap().contains("people/astronaut.png"),
        "samples listed"
    );
    assert_eq!(get(&format!("{}/?health", srv.base)).0, 200);
}

#[test]
fn flags_override_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/pixfront-samples/logo.png"
    ))
    .unwrap();
    std::fs::write(dir.path().join("mine/x.png"), png).unwrap();
    let root = dir.path().to_str().unwrap();
    let srv = start(&[
        "--root",
        root,
        "--source-buckets",
        "mine",
        "--cors-enabled",
        "Yes",
    ]);
    let (status, _, ct) = get(&format!("{}/x.png", srv.base));
    assert_eq!((status, ct.as_str()), (200, "image/png"));
    // The samples are not served when a root is given.
    assert_eq!(get(&format!("{}/rocket.jpg", srv.base)).0, 404);
}

#[test]
fn help_lists_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for s in pixfront::server::settings::SETTINGS {
        assert!(help.contains(&format!("--{}", s.flag)), "--{} missing", s.flag);
        assert!(help.contains(&format!("env: {}", s.env)), "{} missing", s.env);
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let mut srv = start(&[]);
    assert_eq!(get(&format!("{}/?health", srv.base)).0, 200);
    let pid = srv.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = srv.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn readme_opens_with_the_two_commands_and_ci_runs_the_second() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::trim)
        .collect();
    assert_eq!(blocks[..2], ["cargo run --release -- serve", "scripts/test"]);
    let ci = std::fs::read_to_string(format!("{root}/.ci/run")).unwrap();
    assert_eq!(
        ci.lines().rev().find(|l| !l.trim().is_empty()),
        Some("exec scripts/test")
    );
}

#[test]
fn metrics_on_their_own_address_only_with_metrics_listen() {
    let srv = start(&[]);
    let text = srv.banner.join("\n");
    assert!(
        text.contains(&format!("metrics:    {}/?metrics", srv.base)),
        "{text}"
    );
    let (status, body, ct) = get(&format!("{}/?metrics", srv.base));
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    assert!(String::from_utf8_lossy(&body).contains("pixfront_requests_total{status=\"2xx\"} 0"));

    let srv = start(&["--metrics-listen", "127.0.0.1:0"]);
    let line = srv
        .banner
        .iter()
        .find(|l| l.trim_start().starts_with("metrics:"))
        .unwrap();
    let metrics = line
        .trim_start()
        .trim_start_matches("metrics:")
        .trim()
        .to_string();
    assert!(
        metrics.starts_with("http://127.0.0.1:") && metrics.ends_with("/metrics"),
        "{line}"
    );
    assert_ne!(metrics.trim_end_matches("/metrics"), srv.base);
    let (status, body, _) = get(&metrics);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("# TYPE pixfront_request_duration_seconds histogram"));
    // Prometheus' `params: {metrics: [""]}` form, and anything else on that address.
    assert_eq!(
        get(&format!("{}/?metrics=", metrics.trim_end_matches("/metrics"))).0,
        200
    );
    assert_eq!(
        get(&format!("{}/rocket.jpg", metrics.trim_end_matches("/metrics"))).0,
        404
    );
    // The public address no longer answers it: `/` with a query is the empty key.
    let (status, body, _) = get(&format!("{}/?metrics", srv.base));
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
}
