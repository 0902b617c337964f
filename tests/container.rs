//! The container image: built with podman from the test build's binary by
//! scripts/container/build (FROM scratch, nothing pulled), run with a read-only root filesystem,
//! probed by its HEALTHCHECK, asked for an image, stopped gracefully. Skipped, saying why, where
//! podman is not installed or cannot run containers. Also: the Dockerfile's runtime stage is
//! scripts/container/Containerfile's.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn podman(args: &[&str]) -> Output {
    Command::new("podman").args(args).output().expect("run podman")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Why podman cannot be used here, if it cannot.
fn unavailable() -> Option<String> {
    match Command::new("podman").arg("info").output() {
        Err(_) => Some("podman is not installed (apt-get install podman runc)".into()),
        Ok(o) if !o.status.success() => Some(format!("`podman info` fails: {}", text(&o).trim())),
        Ok(_) => None,
    }
}

/// Removes the container and the image however the test ends.
struct Cleanup {
    container: String,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = podman(&["rm", "-f", "-t", "0", &self.container]);
        let _ = podman(&["rmi", "-f", &self.image]);
    }
}

/// The runtime stage (from `FROM scratch` on) without its COPY line, comments and blank lines.
fn runtime_stage(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let stage: Vec<&str> = text.lines().skip_while(|l| l.trim() != "FROM scratch").collect();
    assert!(!stage.is_empty(), "{file}: no FROM scratch stage");
    stage
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("COPY "))
        .map(str::to_string)
        .collect()
}

#[test]
fn dockerfile_runtime_stage_is_the_tested_containerfile() {
    let stage = runtime_stage("Dockerfile");
    assert_eq!(stage, runtime_stage("scripts/container/Containerfile"));
    for needed in ["USER 65532:65532", "HEALTHCHECK", "ENTRYPOINT [\"/pixfront\"]"] {
        assert!(stage.iter().any(|l| l.starts_with(needed)), "{needed}");
    }
}

#[tokio::test]
async fn image_builds_runs_read_only_serves_and_stops() {
    if let Some(why) = unavailable() {
        println!("SKIPPED container test: {why}");
        return;
    }
    let id = std::process::id();
    let cleanup = Cleanup {
        container: format!("pixfront-test-{id}"),
        image: format!("localhost/pixfront-test:{id}"),
    };
    let build = Command::new(repo().join("scripts/container/build"))
        .args([env!("CARGO_BIN_EXE_pixfront"), &cleanup.image])
        .output()
        .unwrap();
    assert!(build.status.success(), "build: {}", text(&build));
    let user = podman(&["image", "inspect", "--format", "{{.Config.User}}", &cleanup.image]);
    assert_eq!(stdout(&user), "65532:65532");

    // Lower limits than the host's: podman's defaults are higher, and raising them needs
    // CAP_SYS_RESOURCE, which VMs like this one's do not grant. runc where installed: crun
    // refuses hybrid cgroup v1/v2 hosts.
    let mut run = vec!["run", "-d", "--name", &cleanup.container, "--read-only"];
    run.extend(["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]);
    run.extend(["-p", "127.0.0.1::8080"]);
    let with_runc = Command::new("runc").arg("--version").output().is_ok();
    let mut args: Vec<&str> = if with_runc {
        vec!["--runtime", "runc"]
    } else {
        vec![]
    };
    args.extend(run);
    args.push(&cleanup.image);
    let started = podman(&args);
    // `run -d` returns once the container is created and started: a failure here is the
    // host's (runtime, network, limits), not the image's, which is judged below by what it
    // serves. Said loudly rather than failing a machine that cannot run containers at all.
    if !started.status.success() {
        println!(
            "SKIPPED container run: this host cannot start containers: {}",
            text(&started)
        );
        return;
    }
    let port = podman(&["port", &cleanup.container, "8080"]);
    let addr = stdout(&port).lines().next().unwrap_or_default().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "port: {addr}");

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = client.get(format!("http://{addr}/?health")).send().await;
        if health.as_ref().is_ok_and(|r| r.status() == 200) {
            break;
        }
        let logs = text(&podman(&["logs", &cleanup.container]));
        assert!(
            Instant::now() < deadline,
            "not healthy in 30 s: {health:?}\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The bundled samples, resized: the image needs nothing mounted to show it works.
    let resp = client
        .get(format!("http://{addr}/fit-in/100x100/rocket.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    let img = image::load_from_memory(&body).unwrap();
    assert!(img.width() <= 100 && img.height() <= 100 && img.width().max(img.height()) == 100);
    let metrics = client
        .get(format!("http://{addr}/?metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pixfront_requests_total{status=\"2xx\"} 1"),
        "{metrics}"
    );

    // The image's HEALTHCHECK (the binary probing itself, no shell in the image).
    let check = podman(&["healthcheck", "run", &cleanup.container]);
    assert!(check.status.success(), "healthcheck: {}", text(&check));

    // SIGTERM: requests in flight finish, then exit 0.
    let stop = podman(&["stop", "-t", "10", &cleanup.container]);
    assert!(stop.status.success(), "stop: {}", text(&stop));
    let code = podman(&["inspect", "--format", "{{.State.ExitCode}}", &cleanup.container]);
    assert_eq!(stdout(&code), "0");
    assert!(text(&podman(&["logs", &cleanup.container])).contains("\"stopped\""));
}
