//! Presigned requests: a GET or a PUT of one object that a client sends to S3 itself, signed here
//! with the store's credentials (SigV4 in the query string), for a bounded time. Signing is local:
//! nothing is sent to S3.

use std::time::{Duration, SystemTime};

use application::ports::{BlobError, PresignedRequest};
use aws_sdk_s3::presigning::{PresignedRequest as Signed, PresigningConfig};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use domain::files::Sha256Digest;
use time::OffsetDateTime;

use crate::errors::{odd, sdk_error};
use crate::Bucket;

/// A signature that starts now and lapses after `ttl`, with the instant it lapses.
fn lifetime(ttl: Duration) -> Result<(PresigningConfig, OffsetDateTime), BlobError> {
    // Whole seconds: the signature's date has no finer grain, so the instant it lapses is exact.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|_| odd("no clock"))?;
    let start = SystemTime::from(now);
    let config = PresigningConfig::builder()
        .start_time(start)
        .expires_in(ttl)
        .build()
        .map_err(|e| odd(format!("cannot presign for {ttl:?}: {e}")))?;
    Ok((config, now + ttl))
}

fn request(signed: &Signed, expires_at: OffsetDateTime) -> PresignedRequest {
    PresignedRequest {
        url: signed.uri().to_owned(),
        method: signed.method().to_owned(),
        // The client's HTTP library sends `Host` itself, from the URL.
        headers: signed
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        expires_at,
    }
}

/// A GET whose answer carries `content_type` and `content_disposition` (S3's
/// `response-content-*` overrides, which are part of the signed URL).
pub(crate) async fn get(
    bucket: &Bucket,
    key: String,
    ttl: Duration,
    content_type: &str,
    content_disposition: &str,
) -> Result<PresignedRequest, BlobError> {
    let (config, expires_at) = lifetime(ttl)?;
    let signed = bucket
        .client
        .get_object()
        .bucket(&bucket.name)
        .key(key)
        .response_content_type(content_type)
        .response_content_disposition(content_disposition)
        .presigned(config)
        .await
        .map_err(|e| sdk_error("cannot presign a GET", e))?;
    Ok(request(&signed, expires_at))
}

/// A PUT whose signed headers fix the body's length, media type and SHA-256 (and ask for
/// encryption at rest, as every write here does): S3 refuses the request if the client changes
/// any of them, and refuses a body whose SHA-256 is not the one signed (`BadDigest`).
pub(crate) async fn put(
    bucket: &Bucket,
    key: String,
    size: u64,
    content_type: &str,
    sha256: Sha256Digest,
    ttl: Duration,
) -> Result<PresignedRequest, BlobError> {
    let (config, expires_at) = lifetime(ttl)?;
    let length = i64::try_from(size).map_err(|_| odd(format!("cannot presign a PUT of {size} bytes")))?;
    let signed = bucket
        .client
        .put_object()
        .bucket(&bucket.name)
        .key(key)
        .content_length(length)
        .content_type(content_type)
        .checksum_sha256(BASE64.encode(sha256.0))
        .set_server_side_encryption(bucket.encryption.clone())
        .presigned(config)
        .await
        .map_err(|e| sdk_error("cannot presign a PUT", e))?;
    Ok(request(&signed, expires_at))
}
