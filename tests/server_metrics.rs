//! Prometheus metrics of `pixfront serve` (`GET /?metrics`): a scripted set of requests (200,
//! 304, 404, 400, 503 overload, face blur miss then hit) and the counts each metric must show;
//! histogram buckets adding up to the request count; 1,000 distinct keys leaving the number of
//! series unchanged. The recorder is process-wide, so everything runs in one test, in order.

#[path = "server_common/mod.rs"]
mod server_common;

use pixfront::http::Handler;
use pixfront::storage::{fs::FsStorage, Storage};
use pixfront::telemetry::{self, prometheus::Exposition};
use server_common::{client, header, json, Fixture, MemStorage, BUCKET};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Every metric the front ends share.
const NAMES: [&str; 14] = [
    telemetry::REQUESTS,
    telemetry::ERRORS,
    telemetry::DURATION,
    telemetry::ORIGINAL_BYTES,
    telemetry::RESPONSE_BYTES,
    telemetry::IN_FLIGHT,
    telemetry::QUEUED,
    telemetry::MEMORY_RESERVED,
    telemetry::RESIDENT,
    telemetry::OVERLOADED,
    telemetry::FACE_CACHE,
    telemetry::DETECTOR_FAILURES,
    telemetry::AWS_CALLS,
    telemetry::UPLOAD_RECORDS,
];

async fn start(storage: Arc<dyn Storage>, config: pixfront::config::Config, m: Exposition) -> SocketAddr {
    let handler = Arc::new(Handler::new(storage, config).with_metrics(m));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pixfront::server::serve(listener, handler, std::future::pending()));
    addr
}

/// Series (`name{labels}`) → value, from the text format.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series value");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let resp = client()
        .get(format!("http://{addr}/?metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("no-store"));
    parse(&resp.text().await.unwrap())
}

fn get(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("no series {series} in {m:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scripted_requests_show_in_every_metric() {
    let m = telemetry::prometheus::install().expect("the first recorder of this process");
    let fixture = Fixture::new();
    let addr = start(
        Arc::new(FsStorage::new(fixture.root())),
        fixture.config(),
        m.clone(),
    )
    .await;
    // One render at a time and no queue, from a slow store: the second request is refused.
    let mut slow = MemStorage::default().with(
        BUCKET,
        "rocket.jpg",
        std::fs::read(fixture.root().join(BUCKET).join("rocket.jpg")).unwrap(),
        None,
    );
    slow.delay = Duration::from_millis(800);
    let mut config = fixture.config();
    config.http.max_in_flight = 1;
    config.http.max_queue = Some(0);
    let slow_addr = start(Arc::new(slow), config, m.clone()).await;

    let before = scrape(addr).await;
    let c = client();
    let mut body_bytes = 0usize;
    let mut send = async |url: String, inm: Option<&str>| {
        let mut req = c.get(url);
        if let Some(etag) = inm {
            req = req.header("If-None-Match", etag);
        }
        let resp = req.send().await.unwrap();
        let (status, etag) = (resp.status().as_u16(), header(&resp, "etag"));
        let body = resp.bytes().await.unwrap();
        body_bytes += body.len();
        (status, etag, body)
    };
    let base = format!("http://{addr}");
    let (s200, etag, _) = send(format!("{base}/fit-in/100x100/rocket.jpg"), None).await;
    assert_eq!(s200, 200);
    let (s304, _, _) = send(format!("{base}/fit-in/100x100/rocket.jpg"), etag.as_deref()).await;
    assert_eq!(s304, 304);
    let (s404, _, _) = send(format!("{base}/fit-in/100x100/missing.jpg"), None).await;
    assert_eq!(s404, 404);
    let (s400, _, body) = send(format!("{base}/fit-in/100x100/note.txt"), None).await;
    assert_eq!(s400, 400);
    let code400: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let code400 = code400["code"].as_str().unwrap().to_string();
    for size in [300, 200] {
        let url = format!("{base}/fit-in/{size}x{size}/filters:blur_faces()/people/obama.jpg");
        assert_eq!(send(url, None).await.0, 200);
    }
    // Overload: the first request holds the only place while its original is fetched.
    let slow_url = format!("http://{slow_addr}/fit-in/50x50/rocket.jpg");
    let first = tokio::spawn(client().get(slow_url.clone()).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = scrape(addr).await;
    assert_eq!(get(&during, telemetry::QUEUED), 1.0, "admitted, fetching");
    let refused = c.get(slow_url).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(json(refused).await["code"], "Overloaded");
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    let first_len = first.bytes().await.unwrap().len();
    // The 503's JSON body was not added to body_bytes: count it from its known size.
    let overloaded_body = pixfront::Error::new(
        503,
        "Overloaded",
        "Too many requests in progress. Please retry shortly.",
    )
    .to_json()
    .len();

    let after = scrape(addr).await;
    for name in NAMES {
        assert!(after.keys().any(|s| s.starts_with(name)), "{name} is listed");
    }
    let delta = |series: &str| get(&after, series) - before.get(series).copied().unwrap_or(0.0);
    let requests = |class: &str| delta(&format!("{}{{status=\"{class}\"}}", telemetry::REQUESTS));
    assert_eq!(
        [requests("2xx"), requests("3xx"), requests("4xx"), requests("5xx")],
        [4.0, 1.0, 2.0, 1.0]
    );
    let errors = |code: &str| delta(&format!("{}{{code=\"{code}\"}}", telemetry::ERRORS));
    assert_eq!(errors("NoSuchKey"), 1.0);
    assert_eq!(errors(&code400), 1.0);
    assert_eq!(errors("Overloaded"), 1.0);
    assert_eq!(delta(telemetry::OVERLOADED), 1.0);
    let face = |r: &str| delta(&format!("{}{{result=\"{r}\"}}", telemetry::FACE_CACHE));
    assert_eq!((face("miss"), face("hit")), (1.0, 1.0));
    assert_eq!(
        delta(telemetry::RESPONSE_BYTES) as usize,
        body_bytes + first_len + overloaded_body
    );
    let size = |k: &str| {
        std::fs::metadata(fixture.root().join(BUCKET).join(k))
            .unwrap()
            .len() as f64
    };
    // Fetched: rocket (200; the 304 needs no body), obama twice, the slow store's rocket once
    // (the refused request never fetched; note.txt is refused by the URL parser).
    let fetched = 2.0 * size("rocket.jpg") + 2.0 * size("people/obama.jpg");
    assert_eq!(delta(telemetry::ORIGINAL_BYTES), fetched);
    for gauge in [
        telemetry::IN_FLIGHT,
        telemetry::QUEUED,
        telemetry::MEMORY_RESERVED,
    ] {
        assert_eq!(get(&after, gauge), 0.0, "{gauge} back to 0");
    }
    assert!(get(&after, telemetry::RESIDENT) > 1e6);

    // Histograms: the `total` stage counts every request; cumulative buckets never decrease
    // and end at the count; per-bucket counts add up to it.
    let total = 8.0;
    let stage = |s: &str| {
        let prefix = format!("{}_bucket{{stage=\"{s}\",le=", telemetry::DURATION);
        let buckets: Vec<f64> = after
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| *v)
            .collect::<Vec<_>>();
        let count = get(&after, &format!("{}_count{{stage=\"{s}\"}}", telemetry::DURATION));
        (buckets, count)
    };
    let (buckets, count) = stage("total");
    let inf = get(
        &after,
        &format!("{}_bucket{{stage=\"total\",le=\"+Inf\"}}", telemetry::DURATION),
    );
    assert_eq!(count - before_count(&before), total);
    assert_eq!(inf, count);
    // BTreeMap order is by text, not by bound: sort the bounds numerically.
    let mut bounded: Vec<(f64, f64)> = after
        .iter()
        .filter_map(|(k, v)| {
            let le = k.strip_prefix(&format!("{}_bucket{{stage=\"total\",le=\"", telemetry::DURATION))?;
            let le = le.strip_suffix("\"}")?;
            Some((
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                },
                *v,
            ))
        })
        .collect();
    bounded.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(bounded.len(), buckets.len());
    assert_eq!(bounded.len(), telemetry::BUCKETS.len() + 1);
    let mut per_bucket = 0.0;
    let mut previous = 0.0;
    for (_, cumulative) in &bounded {
        assert!(*cumulative >= previous, "{bounded:?}");
        per_bucket += cumulative - previous;
        previous = *cumulative;
    }
    assert_eq!(per_bucket, count);
    // Stages a request reached: four renders, both blurs asked for faces, and the 304 fetched
    // metadata too.
    for (s, n) in [("decode", 4.0), ("encode", 4.0), ("faces", 2.0), ("fetch", 5.0)] {
        assert_eq!(stage(s).1, n, "stage {s}");
    }

    // 1,000 distinct keys: 1,000 more 404s, not one more series.
    let series_before = after.len();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (c, base) = (c.clone(), base.clone());
        tasks.spawn(async move {
            for i in (worker..1000).step_by(8) {
                let r = c
                    .get(format!("{base}/fit-in/10x10/k-{i}-unique.jpg"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let text = client()
        .get(format!("{base}/?metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("unique"), "a key leaked into a label");
    let last = parse(&text);
    assert_eq!(last.len(), series_before, "series count constant");
    assert_eq!(
        get(&last, &format!("{}{{status=\"4xx\"}}", telemetry::REQUESTS))
            - get(&after, &format!("{}{{status=\"4xx\"}}", telemetry::REQUESTS)),
        1000.0
    );
}

fn before_count(before: &BTreeMap<String, f64>) -> f64 {
    before
        .get(&format!("{}_count{{stage=\"total\"}}", telemetry::DURATION))
        .copied()
        .unwrap_or(0.0)
}
