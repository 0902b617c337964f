//! A local Lambda Runtime API (axum on 127.0.0.1) and the real `pixfront` binary started as
//! the function's `bootstrap` under it, for the Lambda tests (`lambda_runtime.rs`, `events_*.rs`).
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// What the bootstrap posted back to the Runtime API.
#[derive(Debug)]
pub struct Posted {
    /// `response`, `error` or `init/error`.
    pub kind: String,
    pub id: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct ApiState {
    events: Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    posted: mpsc::UnboundedSender<Posted>,
}

/// The Runtime API: `next` hands out queued events (long poll, as Lambda does).
pub struct RuntimeApi {
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<(String, Value)>,
    posted: mpsc::UnboundedReceiver<Posted>,
    next_id: u32,
}

async fn next(State(s): State<Arc<ApiState>>) -> (HeaderMap, String) {
    let (id, event) = s.events.lock().await.recv().await.expect("test ended");
    let mut h = HeaderMap::new();
    h.insert("Lambda-Runtime-Aws-Request-Id", id.parse().unwrap());
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    h.insert(
        "Lambda-Runtime-Deadline-Ms",
        deadline.to_string().parse().unwrap(),
    );
    h.insert(
        "Lambda-Runtime-Invoked-Function-Arn",
        "arn:aws:lambda:us-east-1:123456789012:function:pixfront"
            .parse()
            .unwrap(),
    );
    h.insert(
        "Lambda-Runtime-Trace-Id",
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700".parse().unwrap(),
    );
    (h, event.to_string())
}

async fn invocation_post(
    State(s): State<Arc<ApiState>>,
    Path((id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let _ = s.posted.send(Posted {
        kind,
        id: Some(id),
        headers,
        body,
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = s.posted.send(Posted {
        kind: "init/error".into(),
        id: None,
        headers,
        body,
    });
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (posted_tx, posted_rx) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            events: Mutex::new(events_rx),
            posted: posted_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/{kind}",
                post(invocation_post),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // Streamed answers are tens of MB; axum's default cap for `Bytes` is 2 MB.
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RuntimeApi {
            addr,
            events: events_tx,
            posted: posted_rx,
            next_id: 0,
        }
    }

    /// Sends one event and waits for what the bootstrap posts about it.
    pub async fn invoke(&mut self, event: Value) -> Posted {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.events.send((id.clone(), event)).unwrap();
        let posted = self.wait().await;
        assert_eq!(
            posted.id.as_deref(),
            Some(id.as_str()),
            "answer for another invocation: {posted:?}"
        );
        posted
    }

    pub async fn wait(&mut self) -> Posted {
        tokio::time::timeout(Duration::from_secs(120), self.posted.recv())
            .await
            .expect("the bootstrap answered within 120 s")
            .expect("runtime API running")
    }
}

/// The bootstrap process; killed when dropped.
pub struct Bootstrap(pub Child);

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary with only what Lambda sets (nothing from the developer's shell), pointed at `api`;
/// add the function's configuration with `.env(…)` and start it with [`Bootstrap::spawn`].
pub fn lambda_command(api: &RuntimeApi) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pixfront"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "pixfront")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/pixfront")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]0123456789")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

impl Bootstrap {
    pub fn spawn(mut cmd: Command) -> Bootstrap {
        Bootstrap(cmd.spawn().expect("start the pixfront binary"))
    }
}
