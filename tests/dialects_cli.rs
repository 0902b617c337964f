//! `pixfront explain` and `pixfront sign` end to end, as a user runs them.

use serde_json::{json, Value};
use std::process::Command;

fn pixfront(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run pixfront");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout)
}

#[test]
fn explain_prints_the_canonical_request() {
    let env = [("SOURCE_BUCKETS", "photos, archive"), ("AUTO_WEBP", "Yes")];
    let (code, v, out) = pixfront(
        &[
            "explain",
            "/fit-in/200x0/filters:quality(70)/filters:brightness(5)/s3:archive/cat.jpg?flip=1",
            "-H",
            "Accept: image/webp,*/*",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        v,
        json!({
            "requestType": "Thumbor",
            "bucket": "archive",
            "key": "cat.jpg",
            "edits": {"resize": {"fit": "inside", "width": 200, "height": null}, "webp": {"quality": 70}, "flip": true},
            "outputFormat": "webp",
            "ignored": ["filters:brightness(5)"]
        })
    );
    // Pretty-printed, keys in SIH's order.
    assert!(out.starts_with("{\n  \"requestType\""), "{out}");
}

#[test]
fn explain_errors_exit_2_with_the_error_json() {
    let (code, v, _) = pixfront(&["explain", "/photo.bmp"], &[("SOURCE_BUCKETS", "photos")]);
    assert_eq!(code, 2);
    assert_eq!(v["status"], 400);
    assert_eq!(v["code"], "RequestTypeError");
    let (code, v, _) = pixfront(&["explain", "/photo.jpg"], &[]);
    assert_eq!(
        (code, v["code"].as_str()),
        (2, Some("GetAllowedSourceBuckets::NoSourceBuckets"))
    );
}

#[test]
fn sign_output_passes_explain_with_signatures_on() {
    let (code, _, signed) = pixfront(&["sign", "/fit-in/100x100/a.jpg?width=50", "--key", "k3y"], &[]);
    assert_eq!(code, 0);
    let signed = signed.trim();
    assert!(
        signed.starts_with("/fit-in/100x100/a.jpg?width=50&signature="),
        "{signed}"
    );
    let env = [
        ("SOURCE_BUCKETS", "b"),
        ("ENABLE_SIGNATURE", "Yes"),
        ("SIGNATURE_SECRET", "k3y"),
    ];
    let (code, v, out) = pixfront(&["explain", signed], &env);
    assert_eq!(code, 0, "{out}");
    assert_eq!(v["edits"], json!({"resize": {"width": 50}}));
    // Key from the environment when --key is absent.
    let (_, _, again) = pixfront(
        &["sign", "/fit-in/100x100/a.jpg?width=50"],
        &[("SIGNATURE_SECRET", "k3y")],
    );
    assert_eq!(again.trim(), signed);
    let (code, v, _) = pixfront(&["explain", "/fit-in/100x100/a.jpg?width=50"], &env);
    assert_eq!((code, v["status"].as_u64()), (2, Some(400)));
}
