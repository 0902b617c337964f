//! Connection hygiene of `pixfront serve`: stalled headers are cut off, idle kept-alive
//! connections closed, oversized headers refused, and connections over the cap answered 503 at
//! once, while normal traffic goes on.

mod server_common;

use pixfront::http::Handler;
use pixfront::server::connections::ConnectionSettings;
use pixfront::storage::fs::FsStorage;
use server_common::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(fx: &Fixture, limits: ConnectionSettings) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let handler = Arc::new(Handler::new(Arc::new(FsStorage::new(fx.root())), fx.config()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        pixfront::server::serve_with(listener, handler, &limits, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx)
}

fn limits() -> ConnectionSettings {
    ConnectionSettings {
        header_read_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(1),
        max_connections: 8,
        max_header_bytes: 8192,
    }
}

/// Reads until the server closes the connection (or `limit` passes); what arrived and when.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut buf = Vec::new();
    match tokio::time::timeout(limit, s.read_to_end(&mut buf)).await {
        Ok(_) => (buf, Some(started.elapsed())),
        Err(_) => (buf, None),
    }
}

async fn get_ok(addr: SocketAddr) -> u16 {
    let resp = reqwest::get(format!("http://{addr}/fit-in/20x20/rocket.jpg"))
        .await
        .unwrap();
    resp.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_headers_are_cut_off_and_others_are_served() {
    let fx = Fixture::new();
    let (addr, _stop) = start(&fx, limits()).await;
    // Four clients send half a request header and stop.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /rocket.jpg HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        stalled.push(s);
    }
    assert_eq!(get_ok(addr).await, 200, "normal traffic goes on meanwhile");
    for mut s in stalled {
        let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
        let closed = closed.expect("a stalled header must be cut off");
        assert!(closed < Duration::from_secs(3), "closed after {closed:?}");
    }
    assert_eq!(get_ok(addr).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let fx = Fixture::new();
    let (addr, _stop) = start(
        &fx,
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            ..limits()
        },
    )
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /?health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (buf, closed) = read_until_closed(&mut s, Duration::from_secs(6)).await;
    assert!(
        buf.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
    let closed = closed.expect("an idle kept-alive connection must be closed");
    assert!(
        started.elapsed() < Duration::from_secs(4) && closed >= Duration::from_millis(900),
        "closed after {closed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_431() {
    let fx = Fixture::new();
    let (addr, _stop) = start(&fx, limits()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let path = format!("/{}.jpg", "a".repeat(100 * 1024));
    // The server may answer and close before the whole line is written.
    let _ = s
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await;
    let (buf, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some());
    assert!(
        buf.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
    assert_eq!(get_ok(addr).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_503_at_once() {
    let fx = Fixture::new();
    let (addr, _stop) = start(
        &fx,
        ConnectionSettings {
            max_connections: 2,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(10),
            ..limits()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /?health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        held.push(s);
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    let (buf, closed) = read_until_closed(&mut third, Duration::from_secs(3)).await;
    assert!(closed.is_some_and(|d| d < Duration::from_secs(2)));
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"code\":\"TooManyConnections\""), "{text}");
    // The body is valid JSON of the length announced.
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["status"], 503);
    drop(held);
    // Slots come back when the held connections go.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /?health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (buf, _) = read_until_closed(&mut s, Duration::from_secs(3)).await;
        if buf.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "slots never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
