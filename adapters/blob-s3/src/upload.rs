//! Writing a blob: the bytes are hashed and counted as they arrive; a body smaller than one part
//! goes up in one PutObject, a larger one as a multipart upload of `PART`-byte parts sent as each
//! fills. Either way S3 shows the object only once it is whole, and a multipart upload that does
//! not complete (refused, broken, failed, or its request dropped) is aborted, so its parts neither
//! linger nor cost.

use application::files::BlobMeter;
use application::ports::{BlobError, ByteStream, StoredBlob};
use aws_sdk_s3::primitives::ByteStream as Body;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::errors::{odd, sdk_error};
use crate::Bucket;

/// The size of every part but the last. S3 wants 5 MiB to 5 GiB per part and at most 10,000 parts,
/// so 8 MiB parts carry files up to 78 GiB. A write holds at most one part being sent and the
/// start of the next (a chunk) in memory, whatever the file's size.
pub(crate) const PART: usize = 8 << 20;

/// Room for a part and the chunk that passes it. Pages of it that are never written are never
/// resident: a small file costs what it holds.
fn part_buffer() -> BytesMut {
    BytesMut::with_capacity(PART + (1 << 20))
}

pub(crate) async fn put(bucket: &Bucket, key: String, bytes: ByteStream, limit: u64) -> Result<StoredBlob, BlobError> {
    let mut multipart = None;
    let written = send(bucket, &key, bytes, limit, &mut multipart).await;
    if written.is_err() {
        if let Some(mut upload) = multipart {
            upload.abort().await;
        }
    }
    written
}

/// Sends the bytes, starting the multipart upload in `multipart` once more than a part arrived:
/// the caller aborts it when this fails.
async fn send(
    bucket: &Bucket,
    key: &str,
    mut bytes: ByteStream,
    limit: u64,
    multipart: &mut Option<Multipart>,
) -> Result<StoredBlob, BlobError> {
    let (mut meter, mut pending) = (BlobMeter::new(limit), part_buffer());
    while let Some(chunk) = bytes.next().await {
        let chunk = chunk?;
        meter.pass(&chunk)?;
        pending.extend_from_slice(&chunk);
        // Strictly more than a part: whatever is pending at the end is never empty, and a body of
        // one part or less never starts a multipart upload.
        while pending.len() > PART {
            let part = pending.split_to(PART).freeze();
            // The part keeps its buffer until it is sent; the rest moves to a buffer of its own,
            // so that no buffer ever grows past a part and a chunk (a growing one doubles).
            let rest = std::mem::replace(&mut pending, part_buffer());
            pending.extend_from_slice(&rest);
            let upload = match multipart {
                Some(upload) => upload,
                None => multipart.insert(Multipart::start(bucket, key).await?),
            };
            upload.send(part).await?;
        }
    }
    match multipart {
        None => put_object(bucket, key, pending.freeze()).await?,
        Some(upload) => {
            upload.send(pending.freeze()).await?;
            upload.complete().await?;
        }
    }
    Ok(meter.finish())
}

async fn put_object(bucket: &Bucket, key: &str, body: Bytes) -> Result<(), BlobError> {
    let mut request = bucket.client.put_object().bucket(&bucket.name).key(key).body(Body::from(body));
    if let Some(sse) = &bucket.encryption {
        request = request.server_side_encryption(sse.clone());
    }
    request.send().await.map_err(|e| sdk_error("cannot write a blob to S3", e))?;
    Ok(())
}

/// A multipart upload in progress; dropped before it completed or was aborted (its request went
/// away mid-write), it aborts itself in the background.
struct Multipart {
    bucket: Bucket,
    key: String,
    upload_id: String,
    parts: Vec<CompletedPart>,
    open: bool,
}

impl Multipart {
    async fn start(bucket: &Bucket, key: &str) -> Result<Self, BlobError> {
        // CRC32 declared here, computed by the SDK for each part and listed again at completion:
        // how S3 wants checksummed parts (an upload created without it refuses them at the end).
        let mut request = bucket
            .client
            .create_multipart_upload()
            .bucket(&bucket.name)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32);
        if let Some(sse) = &bucket.encryption {
            request = request.server_side_encryption(sse.clone());
        }
        let created = request.send().await.map_err(|e| sdk_error("cannot start a multipart upload to S3", e))?;
        let upload_id = created.upload_id.ok_or_else(|| odd("S3 started a multipart upload without an id"))?;
        Ok(Self { bucket: bucket.clone(), key: key.to_owned(), upload_id, parts: Vec::new(), open: true })
    }

    async fn send(&mut self, part: Bytes) -> Result<(), BlobError> {
        let number = i32::try_from(self.parts.len() + 1).map_err(|_| odd("too many parts"))?;
        let sent = self
            .bucket
            .client
            .upload_part()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(Body::from(part))
            .send()
            .await
            .map_err(|e| sdk_error("cannot upload a part to S3", e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag)
                .set_checksum_crc32(sent.checksum_crc32)
                .build(),
        );
        Ok(())
    }

    async fn complete(&mut self) -> Result<(), BlobError> {
        let parts = CompletedMultipartUpload::builder().set_parts(Some(std::mem::take(&mut self.parts))).build();
        self.bucket
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(parts)
            .send()
            .await
            .map_err(|e| sdk_error("cannot complete a multipart upload to S3", e))?;
        self.open = false;
        Ok(())
    }

    /// Still open while the abort is on its way: a write dropped meanwhile aborts it again.
    async fn abort(&mut self) {
        abort(&self.bucket, &self.key, &self.upload_id).await;
        self.open = false;
    }
}

impl Drop for Multipart {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (bucket, key, upload_id) =
            (self.bucket.clone(), std::mem::take(&mut self.key), std::mem::take(&mut self.upload_id));
        match tokio::runtime::Handle::try_current() {
            // An async drop does not exist: the abort goes on without the request that dropped it.
            Ok(runtime) => drop(runtime.spawn(async move { abort(&bucket, &key, &upload_id).await })),
            Err(_) => tracing::warn!(
                target: "tessera::blob_s3",
                key = key.as_str(),
                upload_id = upload_id.as_str(),
                "a multipart upload dropped outside a runtime is left to the bucket's lifecycle rule"
            ),
        }
    }
}

/// Aborts an upload; a failure is logged and otherwise left to the bucket's
/// `AbortIncompleteMultipartUpload` lifecycle rule, since nobody is there to tell.
async fn abort(bucket: &Bucket, key: &str, upload_id: &str) {
    let aborted =
        bucket.client.abort_multipart_upload().bucket(&bucket.name).key(key).upload_id(upload_id).send().await;
    if let Err(err) = aborted {
        let err = sdk_error("cannot abort a multipart upload to S3", err);
        tracing::warn!(target: "tessera::blob_s3", key, upload_id, error = %err, "multipart upload left behind");
    }
}
