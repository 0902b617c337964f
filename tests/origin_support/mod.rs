//! A small HTTP/1.1 origin for the HTTP-origin tests: one request per connection, answers chosen
//! per request by a closure, and a record of every connection, request and body byte sent, so a
//! test can show that a refused address was never contacted. Hostile answers (a trickle, an
//! endless body) are generated as they are sent, never held in memory.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the origin saw it (header names lower-case).
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The head at once, then the body one byte per `every`.
    Trickle { body: Vec<u8>, every: Duration },
    /// Nothing at all: the connection stays silent.
    Silent,
    /// `len` bytes starting with a JPEG signature, generated while sending; with or without a
    /// Content-Length (without, the body ends when the connection closes).
    Endless { len: u64, announce: bool },
    /// `reply` after `delay`.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn body(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        Reply::Full {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body,
        }
    }

    pub fn redirect(location: &str) -> Reply {
        Reply::body(302, &[("Location", location)], Vec::new())
    }
}

type Route = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Origin {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Seen>>>,
    /// Body bytes written to clients (a refused download shows here as a small number).
    pub body_bytes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Origin {
    /// Listens on `bind` (`127.0.0.1:0`, `127.0.0.2:0`, `[::1]:0`…); `None` when that address
    /// cannot be bound here.
    pub async fn try_start(
        bind: &str,
        route: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Option<Origin> {
        let listener = TcpListener::bind(bind).await.ok()?;
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let body_bytes = Arc::new(AtomicU64::new(0));
        let route: Arc<Route> = Arc::new(route);
        let (c, r, b) = (connections.clone(), requests.clone(), body_bytes.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (route, requests, bytes) = (route.clone(), r.clone(), b.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, route, requests, bytes).await;
                });
            }
        });
        Some(Origin {
            addr,
            connections,
            requests,
            body_bytes,
            task,
        })
    }

    pub async fn start(bind: &str, route: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Origin {
        Origin::try_start(bind, route)
            .await
            .expect("bind the test origin")
    }

    /// `http://addr/`
    pub fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    route: Arc<Route>,
    requests: Arc<Mutex<Vec<Seen>>>,
    bytes: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let seen = Seen { path, headers };
    requests.lock().unwrap().push(seen.clone());
    let mut reply = route(&seen);
    while let Reply::Delayed(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
            bytes.fetch_add(body.len() as u64, Ordering::SeqCst);
        }
        Reply::Trickle { body, every } => {
            let out = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(out.as_bytes()).await?;
            for b in body {
                stream.write_all(&[b]).await?;
                bytes.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(every).await;
            }
        }
        Reply::Silent => {
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
        Reply::Endless { len, announce } => {
            let length = if announce {
                format!("Content-Length: {len}\r\n")
            } else {
                String::new()
            };
            let out = format!("HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n");
            stream.write_all(out.as_bytes()).await?;
            // One 64 KiB block, sent over and over: a JPEG signature, then zeros.
            let mut block = vec![0u8; 64 * 1024];
            block[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
            let mut sent = 0u64;
            while sent < len {
                let n = (len - sent).min(block.len() as u64) as usize;
                stream.write_all(&block[..n]).await?;
                sent += n as u64;
                bytes.fetch_add(n as u64, Ordering::SeqCst);
                block[..4].fill(0);
            }
        }
        Reply::Delayed(..) => unreachable!("unwrapped above"),
    }
    stream.shutdown().await
}
