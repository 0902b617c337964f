//! Presigned S3 POST uploads: a policy (what the browser may send) signed with SigV4, so a
//! browser can send one object straight to a private bucket.
//!
//! Written by hand because the AWS SDK presigns only single requests (`PutObject` with a URL),
//! not POST policies, and a presigned PUT cannot bound the size or check the Content-Type. The
//! signature is SigV4's: the signing key is HMAC-SHA256 over `AWS4<secret>` → date → region →
//! `s3` → `aws4_request`, and the string to sign is the base64 policy itself
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>).

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;

/// The credentials that sign: the caller's role (a Lambda's, a profile's).
#[derive(Debug, Clone)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// What one upload may be.
#[derive(Debug, Clone)]
pub struct PostRequest<'a> {
    /// The form's target: `https://bucket.s3.region.amazonaws.com` or a path-style endpoint.
    pub url: String,
    pub bucket: &'a str,
    pub key: &'a str,
    pub region: &'a str,
    /// Largest object accepted (bytes); the smallest is 1.
    pub max_bytes: u64,
    pub expires_in: std::time::Duration,
}

/// The form a browser posts: `fields` in order, then the file last (S3 ignores what follows it).
#[derive(Debug, Clone, Serialize)]
pub struct PresignedPost {
    pub url: String,
    pub key: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// RFC 3339, UTC.
    pub expires: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Signs a POST policy for `req` at `now`.
pub fn presign_post(req: &PostRequest, creds: &SigningCredentials, now: OffsetDateTime) -> PresignedPost {
    let date = now.date();
    let ymd = format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day());
    let amz_date = format!("{ymd}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
    let credential = format!("{}/{ymd}/{}/s3/aws4_request", creds.access_key_id, req.region);
    let expires_at = now + req.expires_in;
    let expiration = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        expires_at.year(),
        u8::from(expires_at.month()),
        expires_at.day(),
        expires_at.hour(),
        expires_at.minute(),
        expires_at.second()
    );
    let mut conditions = vec![
        json!({"bucket": req.bucket}),
        json!(["eq", "$key", req.key]),
        json!(["starts-with", "$Content-Type", "image/"]),
        json!(["content-length-range", 1, req.max_bytes]),
        json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        json!({"x-amz-credential": credential}),
        json!({"x-amz-date": amz_date}),
    ];
    if let Some(token) = &creds.session_token {
        conditions.push(json!({"x-amz-security-token": token}));
    }
    let policy = json!({"expiration": expiration, "conditions": conditions}).to_string();
    use base64::Engine;
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy);
    let mut key = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        ymd.as_bytes(),
    );
    for part in [req.region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, policy_b64.as_bytes()));
    let mut fields = serde_json::Map::new();
    fields.insert("key".into(), req.key.into());
    fields.insert("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into());
    fields.insert("x-amz-credential".into(), credential.into());
    fields.insert("x-amz-date".into(), amz_date.into());
    if let Some(token) = &creds.session_token {
        fields.insert("x-amz-security-token".into(), token.clone().into());
    }
    fields.insert("policy".into(), policy_b64.into());
    fields.insert("x-amz-signature".into(), signature.into());
    PresignedPost {
        url: req.url.clone(),
        key: req.key.to_string(),
        fields,
        expires: expiration,
    }
}

/// The POST target for `bucket`: path-style under a custom endpoint (MinIO, tests), else the
/// virtual-hosted regional name (the only form CORS and OAC-free buckets accept everywhere).
pub fn bucket_url(endpoint: Option<&str>, force_path_style: bool, bucket: &str, region: &str) -> String {
    match endpoint {
        Some(e) if force_path_style => format!("{}/{bucket}", e.trim_end_matches('/')),
        Some(e) => {
            let (scheme, host) = e.split_once("://").unwrap_or(("https", e));
            format!("{scheme}://{bucket}.{}", host.trim_end_matches('/'))
        }
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_every_condition() {
        // The signature itself is checked by an S3 implementation in tests/uploads_presign.rs.
        let creds = SigningCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("tok".into()),
        };
        let now = time::macros::datetime!(2015-12-29 00:00:00 UTC);
        let req = PostRequest {
            url: bucket_url(None, false, "sigv4examplebucket", "us-east-1"),
            bucket: "sigv4examplebucket",
            key: "user/user1/photo.jpg",
            region: "us-east-1",
            max_bytes: 1000,
            expires_in: std::time::Duration::from_secs(300),
        };
        let p = presign_post(&req, &creds, now);
        assert_eq!(p.url, "https://sigv4examplebucket.s3.us-east-1.amazonaws.com");
        assert_eq!(p.expires, "2015-12-29T00:05:00.000Z");
        assert_eq!(
            p.fields["x-amz-credential"],
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        assert_eq!(p.fields["x-amz-date"], "20151229T000000Z");
        assert_eq!(p.fields["x-amz-security-token"], "tok");
        use base64::Engine;
        let policy = base64::engine::general_purpose::STANDARD
            .decode(p.fields["policy"].as_str().unwrap())
            .unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&policy).unwrap();
        let conditions = policy["conditions"].to_string();
        assert!(
            conditions.contains(r#"["content-length-range",1,1000]"#),
            "{conditions}"
        );
        assert!(conditions.contains(r#"["starts-with","$Content-Type","image/"]"#));
        assert!(conditions.contains(r#"["eq","$key","user/user1/photo.jpg"]"#));
        assert!(conditions.contains(r#"{"x-amz-security-token":"tok"}"#));
        assert_eq!(p.fields["x-amz-signature"].as_str().unwrap().len(), 64);
        assert_eq!(
            bucket_url(Some("http://127.0.0.1:9000/"), true, "b", "r"),
            "http://127.0.0.1:9000/b"
        );
    }
}
