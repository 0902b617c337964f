//! The accept loop of `pixfront serve`, with the connection hygiene `axum::serve` lacks: a
//! deadline for each request header, an idle keep-alive timeout, a cap on open connections and
//! on header size. A client that opens connections and sends half a header cannot hold them.
//!
//! hyper times the header from the moment it starts waiting for one (connection open, or the end
//! of the previous answer on a kept-alive connection), so `HEADER_READ_TIMEOUT_SECONDS` also
//! bounds idleness; `KEEP_ALIVE_TIMEOUT_SECONDS` closes an idle connection sooner when shorter.
//! Over `MAX_CONNECTIONS`, a new connection gets a bare 503 and is closed at once, so a flood is
//! refused quickly instead of waiting in the kernel's backlog.

use crate::settings::Lookup;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Connection limits of the local server.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSettings {
    /// `HEADER_READ_TIMEOUT_SECONDS` (default 10): time to send a complete request header.
    pub header_read_timeout: Duration,
    /// `KEEP_ALIVE_TIMEOUT_SECONDS` (default 10; 0 = no keep-alive): idle time before a
    /// kept-alive connection is closed.
    pub keep_alive_timeout: Duration,
    /// `MAX_CONNECTIONS` (default 1024): open connections at once.
    pub max_connections: usize,
    /// `MAX_HEADER_BYTES` (default 16384, at least 8192): request line and headers together;
    /// larger requests get 431.
    pub max_header_bytes: usize,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// hyper's smallest read buffer; the header limit cannot be lower.
const MIN_HEADER_BYTES: usize = 8192;

impl ConnectionSettings {
    pub fn from_lookup(get: &Lookup) -> Result<ConnectionSettings, String> {
        let d = ConnectionSettings::default();
        let secs = |k: &str, d: Duration| get.number(k, d.as_secs()).map(Duration::from_secs);
        Ok(ConnectionSettings {
            header_read_timeout: secs("HEADER_READ_TIMEOUT_SECONDS", d.header_read_timeout)?
                .max(Duration::from_secs(1)),
            keep_alive_timeout: secs("KEEP_ALIVE_TIMEOUT_SECONDS", d.keep_alive_timeout)?,
            max_connections: (get.number("MAX_CONNECTIONS", d.max_connections as u64)? as usize).max(1),
            max_header_bytes: (get.number("MAX_HEADER_BYTES", d.max_header_bytes as u64)? as usize)
                .max(MIN_HEADER_BYTES),
        })
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets every
/// connection finish its request in flight, and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &ConnectionSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(!settings.keep_alive_timeout.is_zero())
        .max_buf_size(settings.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(settings.max_header_bytes as u32);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let (builder, router, stop) = (builder.clone(), router.clone(), stop_rx.clone());
        let keep_alive = settings.keep_alive_timeout;
        tokio::spawn(async move {
            serve_connection(&builder, stream, router, keep_alive, stop).await;
            drop(slot);
        });
    }
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it has finished.
    let _all = slots.acquire_many(settings.max_connections as u32).await;
    Ok(())
}

/// One connection: served until the client closes it, it stays idle past `keep_alive`, or the
/// server stops (then after the request in flight).
async fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    router: Router,
    keep_alive: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let tracker = activity.clone();
    let inner = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let busy = tracker.begin();
        let answer = hyper::service::Service::call(&inner, req);
        async move {
            let resp = answer.await;
            drop(busy);
            resp
        }
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let idle_deadline = activity.idle_deadline(keep_alive);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = sleep_until(idle_deadline), if !closing && !keep_alive.is_zero() => {
                if activity.idle_for(keep_alive) {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// A bare 503 for a connection over `MAX_CONNECTIONS`, written before the request is read.
async fn refuse(mut stream: TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 94\r\n\r\n{\"status\":503,\"code\":\"TooManyConnections\",\"message\":\"The server has too many open connections.\"}";
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(BUSY)).await;
    let _ = stream.shutdown().await;
}

/// When the connection last moved a byte, and how many requests it is answering.
struct Activity {
    base: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

impl Activity {
    fn new() -> Activity {
        Activity {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.last_ms
            .store(self.base.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// When the connection will have been idle for `keep_alive`; `None` while a request runs
    /// (a long render moves no byte but is not idleness).
    fn idle_deadline(&self, keep_alive: Duration) -> Option<Instant> {
        if self.busy.load(Ordering::SeqCst) > 0 {
            // Looked at again when the request ends (its bytes touch the clock).
            return Some(Instant::now() + keep_alive.max(Duration::from_millis(100)));
        }
        Some(self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + keep_alive)
    }

    fn idle_for(&self, keep_alive: Duration) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
            && self.base.elapsed() >= Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + keep_alive
    }
}

/// The socket, noting every byte moved in either direction.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
