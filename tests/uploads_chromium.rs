//! The upload and gallery pages in a real headless Chromium, driven over the DevTools protocol
//! (`--remote-debugging-pipe`: NUL-separated JSON on file descriptors 3 and 4, so no websocket
//! client is needed): two real photos chosen in the file picker and sent by the page's script
//! appear in the gallery with their renditions; a text file named `.jpg` gets the "try again"
//! page and nothing is stored; a form without the token is refused. Skips loudly where Chromium
//! is not installed (fails instead under CI, where .ci/run installs it).

mod uploads_common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use uploads_common::*;

/// A DevTools session on one page.
struct Browser {
    child: std::process::Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next: u64,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

impl Browser {
    fn launch(binary: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (to_read, to_write) = pipe();
        let (from_read, from_write) = pipe();
        let mut cmd = std::process::Command::new(binary);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        // Chromium reads commands on fd 3 and writes answers on fd 4; dup2 clears CLOEXEC.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(to_read, 3) < 0 || libc::dup2(from_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        unsafe {
            libc::close(to_read);
            libc::close(from_write);
        }
        let to = unsafe { std::fs::File::from_raw_fd(to_write) };
        let from = unsafe { std::fs::File::from_raw_fd(from_read) };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        buf.pop();
                        if let Ok(v) = serde_json::from_slice(&buf) {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to,
            from: rx,
            next: 0,
            session: None,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        b.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        b.call("Page.enable", json!({}));
        b
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = s.clone().into();
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{method}: no answer"));
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        r["result"]["value"].clone()
    }

    /// Polls `js` until it is truthy; its value.
    fn wait_for(&mut self, js: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.eval(js);
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {what}; page text:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!(
                "document.readyState === 'complete' && location.href === {}",
                json!(url)
            ),
            url,
        );
    }

    fn choose_files(&mut self, selector: &str, files: &[&std::path::Path]) {
        let doc = self.call("DOM.getDocument", json!({}));
        let node = self.call(
            "DOM.querySelector",
            json!({"nodeId": doc["root"]["nodeId"], "selector": selector}),
        );
        let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.call(
            "DOM.setFileInputFiles",
            json!({"files": files, "nodeId": node["nodeId"]}),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_through_the_pages_into_the_gallery_and_a_text_file_does_not() {
    let Some(binary) = chromium() else {
        eprintln!("\n!!!!! SKIPPED uploads_chromium: Chromium is not installed !!!!!\n");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs it)"
        );
        return;
    };
    let site = start(|_| {}).await;
    let base = site.url("");
    let files = tempfile::tempdir().unwrap();
    let notes = files.path().join("holiday.jpg");
    std::fs::write(&notes, "Dear diary, this is not a photo.\n").unwrap();
    let rocket = files.path().join("rocket.jpg");
    let obama = files.path().join("obama.jpg");
    // Copies: Chromium could not read files from the read-only shared test data folder.
    std::fs::copy(testdata().join("formats/rocket.jpg"), &rocket).unwrap();
    std::fs::copy(testdata().join("faces/obama.jpg"), &obama).unwrap();
    let root = site.root();

    tokio::task::spawn_blocking(move || {
        let mut b = Browser::launch(&binary);
        // Two photos, chosen in the picker and sent by the page's script (one request each,
        // with a progress bar).
        b.open(&format!("{base}/?upload#token={TOKEN}"));
        b.choose_files("#file", &[&rocket, &obama]);
        b.eval("document.getElementById('form').requestSubmit()");
        b.wait_for("document.body.dataset.done === 'yes'", "both uploads");
        let rows = b.eval("Array.from(document.querySelectorAll('#files li')).map(li => li.className + ': ' + li.innerText)");
        let rows: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.starts_with("ok: ") && r.contains("with 2 renditions")), "{rows:?}");
        let bars = b.eval("Array.from(document.querySelectorAll('#files progress')).every(p => p.value === 1)");
        assert_eq!(bars, true, "progress bars full");

        // The gallery (the page's cookie carries the token): both photos, each with its
        // thumbnail and two renditions, every image decoded by the browser.
        b.open(&format!("{base}/?gallery"));
        let loaded = b.wait_for(
            "(() => { const imgs = Array.from(document.querySelectorAll('.upload img'));
               return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
                 && Array.from(document.querySelectorAll('.upload')).map(li => [li.dataset.key,
                    Array.from(li.querySelectorAll('.rendition img')).map(i => i.naturalWidth + 'x' + i.naturalHeight)]); })()",
            "the gallery's images",
        );
        assert_eq!(
            loaded,
            json!([["uploads/obama.jpg", ["120x120", "320x400"]], ["uploads/rocket.jpg", ["120x120", "320x214"]]]),
            "newest first, with renditions of the documented sizes"
        );

        // A text file named .jpg, sent by the plain form: the "try again" page.
        b.open(&format!("{base}/?upload"));
        b.choose_files("#file", &[&notes]);
        b.eval("HTMLFormElement.prototype.submit.call(document.getElementById('form'))");
        b.wait_for("document.getElementById('refused') !== null", "the refusal page");
        let text = b.eval("document.body.innerText");
        let text = text.as_str().unwrap();
        assert!(text.contains("holiday.jpg") && text.contains("not an image") && text.contains("Try again"), "{text}");
        assert_eq!(b.eval("document.querySelector('#reasons li').dataset.code"), "Upload::NotAnImage");

        // Without the token (field emptied, cookie gone): refused.
        b.open(&format!("{base}/?upload"));
        b.eval("localStorage.clear(); document.cookie = 'pixfront-upload=; path=/; max-age=0'; document.getElementById('token').value = ''");
        b.choose_files("#file", &[&rocket]);
        b.eval("HTMLFormElement.prototype.submit.call(document.getElementById('form'))");
        b.wait_for("document.getElementById('refused') !== null", "the refusal page");
        assert_eq!(b.eval("document.querySelector('#reasons li').dataset.code"), "Upload::Unauthorized");
    })
    .await
    .unwrap();

    let mut stored: Vec<String> = std::fs::read_dir(root.join(BUCKET).join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        ["obama.jpg", "rocket.jpg"],
        "the text file and the token-less upload stored nothing"
    );
}
