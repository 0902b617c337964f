//! Overload and shutdown behaviour of the real server.

mod server_common;

use pixfront::config::Config;
use server_common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn slow_store(delay_ms: u64) -> MemStorage {
    let png = std::fs::read(testdata().join("sih/25x15.png")).unwrap();
    let mut s = MemStorage::default().with("b", "a.png", png, Some("image/png"));
    s.delay = Duration::from_millis(delay_ms);
    s
}

fn limited(in_flight: usize, queue: usize) -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some("b".into());
    c.http.max_in_flight = in_flight;
    c.http.max_queue = Some(queue);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_503_fast_instead_of_queueing() {
    // In-flight limit 1, queue 1: of 40 simultaneous requests only a couple are admitted; the
    // rest get an immediate 503 with Retry-After. Nothing times out.
    let srv = Server::start(Arc::new(slow_store(300)), limited(1, 1)).await;
    let c = client();
    let started = Instant::now();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let c = c.clone();
            let url = srv.url("/a.png");
            tokio::spawn(async move {
                let t = Instant::now();
                let r = c.get(url).send().await.expect("no timeouts, no resets");
                let retry = header(&r, "retry-after");
                let cache = header(&r, "cache-control");
                (r.status().as_u16(), retry, cache, t.elapsed())
            })
        })
        .collect();
    let mut ok = 0;
    let mut busy = 0;
    for t in tasks {
        let (status, retry, cache, took) = t.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert_eq!(retry.as_deref(), Some("1"));
                assert_eq!(cache.as_deref(), Some("no-store"));
                assert!(took < Duration::from_secs(5), "503 must not wait: {took:?}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "some requests are served");
    assert!(busy >= 20, "most are refused: ok={ok} busy={busy}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // Once the flood is over the server answers normally again.
    assert_eq!(c.get(srv.url("/a.png")).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let mut srv = Server::start(Arc::new(slow_store(500)), limited(2, 2)).await;
    let c = client();
    let url = srv.url("/a.png");
    let pending = tokio::spawn(async move { c.get(url).send().await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(150)).await;
    srv.shutdown();
    assert_eq!(
        pending.await.unwrap().unwrap(),
        200,
        "the request in flight completes"
    );
    let done = srv.done.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .unwrap()
        .unwrap();
    assert!(
        client().get(srv.url("/a.png")).send().await.is_err(),
        "no longer listening"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_renders_over_the_limit_get_503() {
    // The engine itself as the slow part: in-flight 1, no queue, 16 simultaneous resizes.
    let fx = Fixture::new();
    let srv = fx.start(limited_fs(&fx)).await;
    let c = client();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let c = c.clone();
            let url = srv.url(&format!("/fit-in/{}x{}/people/obama.jpg", 300 + i, 300 + i));
            tokio::spawn(async move { c.get(url).send().await.expect("no timeouts").status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&200) && statuses.contains(&503), "{statuses:?}");
}

fn limited_fs(fx: &Fixture) -> Config {
    let mut c = fx.config();
    c.http.max_in_flight = 1;
    c.http.max_queue = Some(0);
    c
}

/// Milliseconds of one `Server-Timing` entry.
fn timing(value: &str, name: &str) -> f64 {
    value
        .split(", ")
        .find_map(|e| e.strip_prefix(&format!("{name};dur=")))
        .and_then(|d| d.split(';').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_timing_shows_the_wait_for_a_render_slot() {
    // In-flight 1, queue 1: two simultaneous renders of a 20 MP photo; one waits for the other.
    let fx = Fixture::new();
    let big = std::fs::read(testdata().join("large/kleiber_6028x3391.jpg")).unwrap();
    std::fs::write(fx.root().join(BUCKET).join("big.jpg"), big).unwrap();
    let config = {
        let mut c = fx.config();
        c.http.max_in_flight = 1;
        c.http.max_queue = Some(1);
        c
    };
    let srv = fx.start(config).await;
    let c = client();
    let tasks: Vec<_> = [400, 401]
        .into_iter()
        .map(|w| {
            let (c, url) = (c.clone(), srv.url(&format!("/fit-in/{w}x{w}/big.jpg")));
            tokio::spawn(async move {
                let r = c.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                header(&r, "server-timing").unwrap()
            })
        })
        .collect();
    let mut waits = Vec::new();
    let mut renders = Vec::new();
    for t in tasks {
        let st = t.await.unwrap();
        waits.push(timing(&st, "queue"));
        renders.push(timing(&st, "decode") + timing(&st, "transform") + timing(&st, "encode"));
    }
    // The one that waited did so for most of the other's render.
    let (longest_wait, shortest_render) = (
        waits.iter().cloned().fold(0.0, f64::max),
        renders.iter().cloned().fold(f64::MAX, f64::min),
    );
    assert!(
        longest_wait >= 0.5 * shortest_render,
        "waits {waits:?}, renders {renders:?}"
    );
}
