//! The S3 blob store: each file's bytes in one object of a bucket, at `<prefix><file id>` (the
//! id only, hyphenated, so that keys sort as ids do). Writes stream through (one PutObject below a
//! part, a multipart upload above, see [`upload`]), each object encrypted at rest by S3 (SSE-S3,
//! AES256) unless that is turned off for a server without it; reads are ranged GETs streamed back.
//!
//! Presigned GETs (`--files-redirect`) and PUTs (direct uploads) are signed here ([`presign`]) and
//! sent by clients to S3 itself; they need no permission beyond `s3:GetObject` and `s3:PutObject`.
//!
//! The bucket should carry an `AbortIncompleteMultipartUpload` lifecycle rule: an abandoned upload
//! is aborted here, but an abort can fail (or a timed-out CreateMultipartUpload may have happened),
//! and the rule is what catches that. The role needs `s3:PutObject`, `s3:GetObject`,
//! `s3:DeleteObject` and `s3:AbortMultipartUpload` on `<bucket>/<prefix>*`, and `s3:ListBucket`
//! on the bucket.

mod errors;
mod presign;
mod upload;

use std::time::Duration;

use application::ports::{BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PresignedRequest, StoredBlob};
use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use domain::files::{FileId, Sha256Digest};
use futures::StreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{body_error, odd, sdk_error};

/// Where the blobs go and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Put before every file id in an object's key (`files/`), so that the bucket can hold other
    /// things too; may be empty.
    pub prefix: String,
    /// Overrides the standard chain's endpoint (a local S3 server in tests). Set on the S3 client's
    /// own configuration, so it wins over `AWS_ENDPOINT_URL_S3`.
    pub endpoint: Option<String>,
    /// `http://host/bucket/key` instead of `http://bucket.host/key`: what local servers need.
    pub force_path_style: bool,
    /// Asks S3 to encrypt every object at rest (`x-amz-server-side-encryption: AES256`).
    pub server_side_encryption: bool,
    /// A whole call, retries included; a download's body streams after it.
    pub operation_timeout: Duration,
    /// One attempt: long enough to send one part over a slow link.
    pub attempt_timeout: Duration,
}

impl S3Settings {
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            force_path_style: false,
            server_side_encryption: true,
            operation_timeout: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(40),
        }
    }
}

/// What every call needs: cheap to clone into a background abort.
#[derive(Clone)]
pub(crate) struct Bucket {
    client: Client,
    name: String,
    encryption: Option<ServerSideEncryption>,
}

pub struct S3BlobStore {
    bucket: Bucket,
    prefix: String,
}

impl S3BlobStore {
    /// Builds the client from the standard AWS chain (`AWS_REGION`, credentials …) and `settings`.
    /// Nothing is sent yet: a missing bucket shows at the first call.
    pub async fn connect(settings: &S3Settings) -> Result<Self, BlobError> {
        let shared = aws_support::shared_config(settings.attempt_timeout, settings.operation_timeout)
            .await
            .map_err(|reason| odd(format!("S3: {reason}")))?;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.force_path_style);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Ok(Self::with_client(Client::from_conf(config.build()), settings))
    }

    /// The store on a client built elsewhere (its endpoint, timeouts and path style are the client's).
    pub fn with_client(client: Client, settings: &S3Settings) -> Self {
        let encryption = settings.server_side_encryption.then_some(ServerSideEncryption::Aes256);
        Self { bucket: Bucket { client, name: settings.bucket.clone(), encryption }, prefix: settings.prefix.clone() }
    }

    /// The client the store uses (tests set up buckets and look at uploads with it).
    pub fn client(&self) -> &Client {
        &self.bucket.client
    }

    fn key(&self, id: FileId) -> String {
        format!("{}{}", self.prefix, id.0.hyphenated())
    }

    /// The id an object's key names, if it is one of ours: the canonical form only, so that key
    /// order is id order.
    fn id(&self, key: &str) -> Option<FileId> {
        let name = key.strip_prefix(&self.prefix)?;
        let id = Uuid::try_parse(name).ok()?;
        (id.hyphenated().to_string() == name).then_some(FileId(id))
    }
}

/// The whole object's size from `Content-Range: bytes FIRST-LAST/SIZE`.
fn size_from_range(range: &str) -> Option<u64> {
    range.rsplit_once('/')?.1.parse().ok()
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, id: FileId, bytes: ByteStream, limit: u64) -> Result<StoredBlob, BlobError> {
        upload::put(&self.bucket, self.key(id), bytes, limit).await
    }

    async fn get(&self, id: FileId, range: Option<ByteRange>) -> Result<Option<BlobRead>, BlobError> {
        let mut request = self.bucket.client.get_object().bucket(&self.bucket.name).key(self.key(id));
        if let Some(r) = range {
            request = request.range(format!("bytes={}-{}", r.first, r.last));
        }
        let object = match request.send().await {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(err) => return Err(sdk_error("cannot read a blob from S3", err)),
        };
        let size = match (range, object.content_range.as_deref(), object.content_length) {
            (Some(_), Some(content_range), _) => size_from_range(content_range),
            (None, _, Some(length)) => u64::try_from(length).ok(),
            _ => None,
        }
        .ok_or_else(|| odd("S3 answered a GET without the object's size"))?;
        let bytes = futures::stream::try_unfold(object.body, |mut body| async move {
            Ok(body.try_next().await.map_err(body_error)?.map(|chunk| (chunk, body)))
        });
        Ok(Some(BlobRead { size, bytes: bytes.boxed() }))
    }

    async fn delete(&self, id: FileId) -> Result<(), BlobError> {
        let deleted = self.bucket.client.delete_object().bucket(&self.bucket.name).key(self.key(id)).send().await;
        match deleted {
            // S3 answers 204 for a missing key; some servers say NoSuchKey.
            Err(err) if err.as_service_error().is_none_or(|e| e.code() != Some("NoSuchKey")) => {
                Err(sdk_error("cannot delete a blob from S3", err))
            }
            _ => Ok(()),
        }
    }

    async fn list(&self, after: Option<FileId>, limit: u32) -> Result<Vec<(FileId, OffsetDateTime)>, BlobError> {
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut found = Vec::new();
        let mut continuation: Option<String> = None;
        while found.len() < wanted {
            // A page may hold keys that are not ours (under the prefix, not an id): ask again
            // until the page is full or the bucket has no more.
            let page_size = i32::try_from(wanted - found.len()).unwrap_or(i32::MAX).min(1000);
            let page = self
                .bucket
                .client
                .list_objects_v2()
                .bucket(&self.bucket.name)
                .prefix(&self.prefix)
                .set_start_after(after.map(|after| self.key(after)))
                .set_continuation_token(continuation.take())
                .max_keys(page_size)
                .send()
                .await
                .map_err(|e| sdk_error("cannot list the blobs in S3", e))?;
            for object in page.contents() {
                let Some(id) = object.key().and_then(|key| self.id(key)) else {
                    continue;
                };
                let written = object.last_modified().ok_or_else(|| odd("S3 listed an object without its time"))?;
                let written = OffsetDateTime::from_unix_timestamp_nanos(written.as_nanos())
                    .map_err(|_| odd("S3 listed an object with an impossible time"))?;
                found.push((id, written));
            }
            continuation = page.next_continuation_token;
            if !page.is_truncated.unwrap_or(false) || continuation.is_none() {
                break;
            }
        }
        found.truncate(wanted);
        Ok(found)
    }

    fn presigns(&self) -> bool {
        true
    }

    async fn presign_get(
        &self,
        id: FileId,
        ttl: Duration,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        presign::get(&self.bucket, self.key(id), ttl, content_type, content_disposition).await.map(Some)
    }

    async fn presign_put(
        &self,
        id: FileId,
        size: u64,
        content_type: &str,
        sha256: Sha256Digest,
        ttl: Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        presign::put(&self.bucket, self.key(id), size, content_type, sha256, ttl).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> S3BlobStore {
        let config =
            aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build();
        let mut settings = S3Settings::new("bucket");
        settings.prefix = prefix.to_owned();
        S3BlobStore::with_client(Client::from_conf(config), &settings)
    }

    #[test]
    fn keys_are_the_prefix_and_the_id_and_sort_as_ids_do() {
        let store = store("files/");
        // Scattered over the whole range, letters and digits mixed in every position.
        let mut ids: Vec<_> = (1..200u128)
            .map(|i| FileId(Uuid::from_u128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))))
            .collect();
        let mut keys: Vec<_> = ids.iter().map(|id| store.key(*id)).collect();
        ids.sort();
        keys.sort();

        let back: Vec<_> = keys.iter().map(|key| store.id(key)).collect();
        assert_eq!(back, ids.into_iter().map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn keys_that_are_not_ours_are_no_ids() {
        let (store, id) = (store("files/"), Uuid::now_v7());

        for key in [format!("other/{id}"), format!("files/{}", id.simple()), format!("files/{id}.tmp"), "files/".into()]
        {
            assert_eq!(store.id(&key), None, "{key}");
        }
        assert_eq!(store.id(&format!("files/{id}")), Some(FileId(id)));
    }

    #[test]
    fn the_size_is_read_from_the_content_range() {
        assert_eq!(size_from_range("bytes 10-20/200000"), Some(200_000));
        assert_eq!(size_from_range("bytes 0-0/*"), None);
    }
}
