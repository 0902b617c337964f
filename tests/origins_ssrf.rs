//! The SSRF guard of HTTP origins (docs/origins.md), with the guard on: requests that would
//! reach 127.0.0.1, 10.0.0.1, 169.254.169.254, [::1], a name resolving to loopback, an allowed
//! origin redirecting to a private address, `file://` and `gopher://` URLs are refused with their
//! documented status, and the listener at the refused address records no connection; a 2 GB body
//! and a server sending one byte per second are cut off; a URL key never gets what a configured
//! origin fetched through a redirect its host list would refuse.

#[path = "origin_support/mod.rs"]
mod origin_support;
#[path = "server_common/mod.rs"]
mod server_common;

use origin_support::{Origin, Reply, Seen};
use pixfront::config::Config;
use pixfront::storage::fs::FsStorage;
use pixfront::storage::http::guard::{HostRule, Network};
use pixfront::storage::origins::Origin as NamedOrigin;
use server_common::{client, error_of, testdata, Server};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rocket(_: &Seen) -> Reply {
    Reply::body(
        200,
        &[],
        std::fs::read(testdata().join("formats/rocket.jpg")).unwrap(),
    )
}

fn encode(url: &str) -> String {
    percent_encoding::utf8_percent_encode(url, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Default bucket `local` (an empty folder) with URL keys allowed on `hosts`, plain http allowed,
/// and no network allowed beyond the public ones.
fn url_keys(hosts: &[&str]) -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some("local".into());
    c.origin_http.allow_http = true;
    c.origin_http.url_hosts = hosts.iter().map(|h| HostRule::parse(h).unwrap()).collect();
    c
}

async fn start(config: Config) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("local")).unwrap();
    let storage = config.storage_over(Arc::new(FsStorage::new(dir.path()))).unwrap();
    (dir, Server::start(storage, config).await)
}

#[tokio::test]
async fn private_and_special_addresses_are_refused_before_any_connection() {
    let loopback = Origin::start("127.0.0.1:0", rocket).await;
    let port = loopback.addr.port();
    let v6 = Origin::try_start("[::1]:0", rocket).await;
    let v6_port = v6.as_ref().map_or(9, |o| o.addr.port());
    let v6_host = format!("[::1]:{v6_port}");
    let hosts = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "10.0.0.1".to_string(),
        "169.254.169.254".to_string(),
        v6_host.clone(),
    ];
    let (_dir, server) = start(url_keys(&hosts.iter().map(String::as_str).collect::<Vec<_>>())).await;
    let address_refused = [
        format!("/fit-in/100x100/http://127.0.0.1:{port}/rocket.jpg"),
        "/fit-in/100x100/http://10.0.0.1/rocket.jpg".to_string(),
        "/http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(),
        format!("/{}", encode(&format!("http://{v6_host}/rocket.jpg"))),
        // A name that resolves to loopback only: refused by the resolver, not connected to.
        format!("/fit-in/100x100/http://localhost:{port}/rocket.jpg"),
    ];
    for path in &address_refused {
        let got = error_of(&server, path).await;
        assert_eq!(
            got,
            (
                403,
                "ImageOrigin::AddressRefused".into(),
                Some("max-age=10".into())
            ),
            "{path}"
        );
    }
    let url_refused = [
        "/file:///etc/passwd".to_string(),
        format!("/gopher://127.0.0.1:{port}/_rocket.jpg"),
        format!("/{}", encode("file:///etc/passwd")),
        // A host not in ORIGIN_URL_HOSTS, and a listed host on another port.
        "/https://example.com/rocket.jpg".to_string(),
        format!("/http://127.0.0.1:{}/rocket.jpg", port + 1),
        format!("/http://user:pw@127.0.0.1:{port}/rocket.jpg"),
    ];
    for path in &url_refused {
        let got = error_of(&server, path).await;
        assert_eq!(
            got,
            (403, "ImageOrigin::UrlRefused".into(), Some("max-age=10".into())),
            "{path}"
        );
    }
    assert_eq!(loopback.connection_count(), 0, "nothing reached 127.0.0.1");
    if let Some(v6) = &v6 {
        assert_eq!(v6.connection_count(), 0, "nothing reached [::1]");
    }
}

#[tokio::test]
async fn https_only_unless_http_is_allowed() {
    let loopback = Origin::start("127.0.0.1:0", rocket).await;
    let host = loopback.addr.to_string();
    let mut c = url_keys(&[&host]);
    c.origin_http.allow_http = false;
    c.origin_http.allow_networks = vec![Network::parse("127.0.0.1/32").unwrap()];
    let (_dir, server) = start(c).await;
    let got = error_of(&server, &format!("/http://{host}/rocket.jpg")).await;
    assert_eq!((got.0, got.1.as_str()), (403, "ImageOrigin::UrlRefused"));
    assert_eq!(loopback.connection_count(), 0);
    // A configured http:// origin is a start-up error without ORIGIN_ALLOW_HTTP.
    let mut c = Config::default();
    c.request.source_buckets = Some("web".into());
    c.origins.origins = vec![NamedOrigin::parse(&format!("web=http://{host}/")).unwrap()];
    c.origin_http.allow_networks = vec![Network::parse("127.0.0.1/32").unwrap()];
    let err = c
        .storage_over(Arc::new(FsStorage::new("/nonexistent")))
        .err()
        .unwrap();
    assert!(err.contains("ORIGIN_ALLOW_HTTP"), "{err}");
}

#[tokio::test]
async fn configured_origins_are_guarded_too() {
    let loopback = Origin::start("127.0.0.1:0", rocket).await;
    let port = loopback.addr.port();
    let mut c = Config::default();
    c.request.source_buckets = Some("web".into());
    c.origin_http.allow_http = true;
    // An IP literal is refused at start-up.
    c.origins.origins = vec![NamedOrigin::parse(&format!("web=http://127.0.0.1:{port}/")).unwrap()];
    let err = c
        .storage_over(Arc::new(FsStorage::new("/nonexistent")))
        .err()
        .unwrap();
    assert!(err.contains("ImageOrigin::AddressRefused"), "{err}");
    // A name is checked on every fetch, against what it resolves to then.
    c.origins.origins = vec![NamedOrigin::parse(&format!("web=http://localhost:{port}/")).unwrap()];
    let (_dir, server) = start(c).await;
    let got = error_of(&server, "/rocket.jpg").await;
    assert_eq!((got.0, got.1.as_str()), (403, "ImageOrigin::AddressRefused"));
    assert_eq!(loopback.connection_count(), 0);
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused() {
    // 127.0.0.2 is loopback too, but not in the allowed 127.0.0.1/32.
    let private = Origin::start("127.0.0.2:0", rocket).await;
    let target = format!("http://{}/rocket.jpg", private.addr);
    let redirector = Origin::start("127.0.0.1:0", move |seen: &Seen| match seen.path.as_str() {
        "/to-private.jpg" => Reply::redirect(&target),
        "/to-metadata.jpg" => Reply::redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-file.jpg" => Reply::redirect("file:///etc/passwd"),
        "/loop.jpg" => Reply::redirect("/loop.jpg"),
        "/to-self.jpg" => Reply::redirect("/rocket.jpg"),
        _ => rocket(seen),
    })
    .await;
    let allowed = vec![Network::parse("127.0.0.1/32").unwrap()];

    // A configured origin on an allowed network, following up to 3 redirects.
    let mut c = Config::default();
    c.request.source_buckets = Some("web".into());
    c.origins.origins = vec![NamedOrigin::parse(&format!("web={}", redirector.base())).unwrap()];
    c.origin_http.allow_http = true;
    c.origin_http.allow_networks = allowed.clone();
    c.origin_http.max_redirects = 3;
    let (_dir, server) = start(c).await;
    for (path, code) in [
        ("/to-private.jpg", "ImageOrigin::AddressRefused"),
        ("/to-metadata.jpg", "ImageOrigin::AddressRefused"),
        ("/to-file.jpg", "ImageOrigin::UrlRefused"),
        ("/loop.jpg", "ImageOrigin::Redirected"),
    ] {
        let got = error_of(&server, path).await;
        assert_eq!(got.1, code, "{path}");
    }
    let ok = client().get(server.url("/to-self.jpg")).send().await.unwrap();
    assert_eq!(ok.status(), 200, "a redirect that passes the checks is followed");

    // A URL key: every hop must also be a listed host.
    let mut c = url_keys(&[&redirector.addr.to_string()]);
    c.origin_http.allow_networks = allowed;
    c.origin_http.max_redirects = 3;
    let (_dir2, server) = start(c).await;
    let got = error_of(&server, &format!("/http://{}/to-private.jpg", redirector.addr)).await;
    assert_eq!((got.0, got.1.as_str()), (403, "ImageOrigin::UrlRefused"));

    assert_eq!(
        private.connection_count(),
        0,
        "nothing reached the private address"
    );
}

/// `web` on 127.0.0.1 (allowed), with a small size limit and short timeouts.
async fn hostile(
    route: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (Origin, tempfile::TempDir, Server) {
    let origin = Origin::start("127.0.0.1:0", route).await;
    let mut c = Config::default();
    c.request.source_buckets = Some("web".into());
    c.origins.origins = vec![NamedOrigin::parse(&format!("web={}", origin.base())).unwrap()];
    c.origin_http.allow_http = true;
    c.origin_http.allow_networks = vec![Network::parse("127.0.0.1/32").unwrap()];
    c.origin_http.max_bytes = 8 << 20;
    c.origin_http.read_timeout = Duration::from_millis(1500);
    c.origin_http.timeout = Duration::from_millis(3000);
    let (dir, server) = start(c).await;
    (origin, dir, server)
}

#[tokio::test]
async fn a_2_gb_body_is_cut_off_at_the_size_limit() {
    const TWO_GB: u64 = 2 << 30;
    let (origin, _dir, server) = hostile(|seen: &Seen| Reply::Endless {
        len: TWO_GB,
        announce: seen.path == "/announced.jpg",
    })
    .await;
    // Announced: refused from the Content-Length, before the body.
    let got = error_of(&server, "/announced.jpg").await;
    assert_eq!((got.0, got.1.as_str()), (400, "ImageOrigin::TooLarge"));
    let after_announced = origin.body_bytes.load(Ordering::SeqCst);
    // Not announced (the body ends when the connection closes): refused while streaming.
    let got = error_of(&server, "/unannounced.jpg").await;
    assert_eq!((got.0, got.1.as_str()), (400, "ImageOrigin::TooLarge"));
    // Give the origin's writer time to notice the closed connection.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = origin.body_bytes.load(Ordering::SeqCst) - after_announced;
    assert!(sent >= 8 << 20, "the limit was reached ({sent} bytes)");
    assert!(
        sent < 64 << 20,
        "the download stopped at the limit, not at 2 GB ({sent} bytes)"
    );
    assert!(after_announced < 64 << 20, "{after_announced} bytes");
}

#[tokio::test]
async fn a_server_sending_one_byte_per_second_times_out() {
    let body = std::fs::read(testdata().join("formats/rocket.jpg")).unwrap();
    let (origin, _dir, server) = hostile(move |seen: &Seen| match seen.path.as_str() {
        "/silent.jpg" => Reply::Silent,
        _ => Reply::Trickle {
            body: body.clone(),
            every: Duration::from_secs(1),
        },
    })
    .await;
    let started = Instant::now();
    // Each byte comes within the read timeout; the whole fetch does not.
    let got = error_of(&server, "/trickle.jpg").await;
    assert_eq!(
        got,
        (503, "ImageRetrieval::Timeout".into(), Some("no-store".into()))
    );
    let sent = origin.body_bytes.load(Ordering::SeqCst);
    assert!(
        sent < 10,
        "cut off after a few bytes, not after the whole image ({sent})"
    );
    let got = error_of(&server, "/silent.jpg").await;
    assert_eq!(got.1, "ImageRetrieval::Timeout");
    // Far less than the trickle would take (one second per byte of a ~100 KB image).
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn a_url_key_never_gets_what_a_configured_origin_fetched() {
    let other = Origin::start("127.0.0.1:0", rocket).await;
    let elsewhere = format!("{}rocket.jpg", other.base());
    let redirector = Origin::start("127.0.0.1:0", move |_: &Seen| Reply::redirect(&elsewhere)).await;
    let host = redirector.addr.to_string();
    let mut c = url_keys(&[&host]);
    c.request.source_buckets = Some("local,web".into());
    c.origins.origins = vec![NamedOrigin::parse(&format!("web={}", redirector.base())).unwrap()];
    c.origin_http.allow_networks = vec![Network::parse("127.0.0.1/32").unwrap()];
    c.origin_http.max_redirects = 1;
    let (_dir, server) = start(c).await;
    // The configured origin may redirect to another host; its original is now cached.
    let ok = client()
        .get(server.url("/s3:web/moved.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // The same URL as a URL key: the redirect leaves ORIGIN_URL_HOSTS, cache or not.
    let got = error_of(&server, &format!("/http://{host}/moved.jpg")).await;
    assert_eq!((got.0, got.1.as_str()), (403, "ImageOrigin::UrlRefused"));
    assert_eq!(other.connection_count(), 1);
}
