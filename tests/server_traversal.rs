//! Keys can never escape their bucket folder, however the path is spelled. Every attempt must be
//! refused (a 4xx) without the bytes of any file outside the bucket in the answer.

mod server_common;

use server_common::*;

/// Paths sent byte for byte (no client normalisation). The secret lives beside the bucket, beside
/// the root, and behind symlinks in the bucket.
const ATTEMPTS: &[&str] = &[
    "/../secret.txt",
    "/../../secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/people/../../secret.txt",
    "/people/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e%252fsecret.txt",
    "/..%5csecret.txt",
    "/%2e%2e%5csecret.txt",
    "/..\\secret.txt",
    "/%2fetc%2fpasswd",
    "//etc/passwd",
    "/%2F..%2F..%2Fsecret.txt",
    "/secret.txt%00.jpg",
    "/..%00/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/%c0%ae%c0%ae%c0%afsecret.txt",
    "/..;/secret.txt",
    "/link-out",
    "/link-up.jpg",
    "/./../secret.txt",
    "/%2e/%2e%2e/secret.txt",
    "/fit-in/100x100/../../secret.txt",
    "/filters:format(png)/..%2fsecret.txt",
];

#[tokio::test]
async fn no_encoding_reads_outside_the_bucket() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    assert!(ATTEMPTS.len() >= 15);
    for path in ATTEMPTS {
        let (status, raw) = srv.raw_get(path).await;
        assert!((400..500).contains(&status), "{path}: status {status}\n{raw}");
        assert!(!raw.contains(SECRET), "{path}: leaked the secret");
    }
    // The bucket itself still works, so the refusals above are not a broken server.
    let (status, _) = srv.raw_get("/rocket.jpg").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_buckets_are_not_reachable_by_path() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    for path in ["/../other-bucket/1x1.jpg", "/..%2fother-bucket%2f1x1.jpg"] {
        let (status, _) = srv.raw_get(path).await;
        assert_eq!(status, 404, "{path}");
    }
}
