//! S3-only proofs the blob conformance suite cannot make through the port: bodies larger than a
//! part go up as multipart uploads and come back whole, every write asks for encryption at rest,
//! and an upload that does not finish (refused, broken, or dropped mid-write) is aborted, leaving
//! no parts behind; through the API, S3 going away mid-upload leaves no file listed. Run with the suite (`TESSERA_TEST_BLOB_STORE=s3`, see
//! `blob_conformance::s3_store`).
//!
//! What S3 was asked is seen by an interceptor on the store's client: s3s-fs neither implements
//! ListMultipartUploads nor keeps the encryption header, so the uploads are found by their ids
//! (ListParts) and the header on the requests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::ports::{BlobError, BlobStore, ByteRange, ByteStream};
use aws_sdk_s3::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadOutput;
use bytes::Bytes;
use domain::files::FileId;
use futures::{stream, StreamExt};
use sha2::{Digest, Sha256};
use tessera_blob_s3::{S3BlobStore, S3Settings};
use tessera_tests::blob_conformance::s3_store;
use uuid::Uuid;

const MIB: usize = 1 << 20;

fn configured() -> bool {
    let s3 = std::env::var("TESSERA_TEST_BLOB_STORE").as_deref() == Ok("s3");
    if !s3 {
        eprintln!("TESSERA_TEST_BLOB_STORE is not s3: nothing to check");
    }
    s3
}

/// `len` bytes of every value, not a repeating block.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7919) % 251) as u8).collect()
}

fn chunks(data: &[u8], chunk: usize) -> ByteStream {
    let parts: Vec<_> = data.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(parts).boxed()
}

async fn read(store: &S3BlobStore, id: FileId, range: Option<ByteRange>) -> (u64, Vec<u8>) {
    let read = store.get(id, range).await.unwrap().expect("the blob is there");
    let mut out = Vec::new();
    let mut bytes = read.bytes;
    while let Some(chunk) = bytes.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    (read.size, out)
}

/// What the store asked of S3: each write's `x-amz-server-side-encryption` and the multipart
/// uploads it started.
#[derive(Debug, Default, Clone)]
struct Seen(Arc<Mutex<Asked>>);

#[derive(Debug, Default)]
struct Asked {
    /// (method and URI, the encryption header) of each PutObject and CreateMultipartUpload.
    writes: Vec<(String, Option<String>)>,
    /// (key, upload id) of each multipart upload started.
    uploads: Vec<(String, String)>,
}

impl Intercept for Seen {
    fn name(&self) -> &'static str {
        "Seen"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let (method, uri) = (request.method(), request.uri());
        // PutObject: a PUT without an upload id; CreateMultipartUpload: a POST of `?uploads`.
        if (method == "PUT" && !uri.contains("uploadId=")) || (method == "POST" && uri.contains("?uploads")) {
            let encryption = request.headers().get("x-amz-server-side-encryption").map(str::to_owned);
            self.0.lock().unwrap().writes.push((format!("{method} {uri}"), encryption));
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let created = context.output_or_error().ok().and_then(|o| o.downcast_ref::<CreateMultipartUploadOutput>());
        if let Some(created) = created {
            let (key, upload) = (created.key().unwrap_or_default(), created.upload_id().unwrap_or_default());
            self.0.lock().unwrap().uploads.push((key.to_owned(), upload.to_owned()));
        }
        Ok(())
    }
}

/// A store under a fresh prefix whose client reports to the returned [`Seen`].
async fn watched_store() -> (S3BlobStore, S3Settings, Seen) {
    let (store, settings) = s3_store().await;
    let seen = Seen::default();
    let config = store.client().config().to_builder().interceptor(seen.clone()).build();
    (S3BlobStore::with_client(aws_sdk_s3::Client::from_conf(config), &settings), settings, seen)
}

/// How many parts each multipart upload the store started holds; one S3 no longer knows
/// (aborted, completed) holds none.
async fn parts(store: &S3BlobStore, settings: &S3Settings, seen: &Seen) -> Vec<usize> {
    let uploads = seen.0.lock().unwrap().uploads.clone();
    let mut parts = Vec::new();
    for (key, upload) in uploads {
        let listed = store.client().list_parts().bucket(&settings.bucket).key(key).upload_id(upload).send().await;
        parts.push(match listed {
            Ok(listed) => listed.parts().len(),
            Err(err) if err.as_service_error().is_some_and(|e| e.meta().code() == Some("NoSuchUpload")) => 0,
            Err(err) => panic!("ListParts: {err:?}"),
        });
    }
    parts
}

/// Waits up to 10 s for the uploads' parts to be `expected`.
async fn until_parts(store: &S3BlobStore, settings: &S3Settings, seen: &Seen, expected: &[usize]) {
    for _ in 0..200 {
        if parts(store, settings, seen).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(parts(store, settings, seen).await, expected, "the multipart uploads' parts");
}

/// Every write asked for AES256 at rest.
fn all_encrypted(seen: &Seen) {
    let asked = seen.0.lock().unwrap();
    assert!(!asked.writes.is_empty(), "no write seen");
    for (request, encryption) in &asked.writes {
        assert_eq!(encryption.as_deref(), Some("AES256"), "{request}");
    }
}

#[tokio::test]
async fn a_body_of_several_parts_comes_back_whole_and_every_write_asks_for_encryption() {
    if !configured() {
        return;
    }
    let (store, settings, seen) = watched_store().await;
    let (small, id, data) = (FileId(Uuid::now_v7()), FileId(Uuid::now_v7()), bytes(2 * 8 * MIB + 12_345));

    store.put(small, chunks(b"small", 2), 100).await.unwrap();
    let stored = store.put(id, chunks(&data, 64 << 10), 64 << 20).await.unwrap();

    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.sha256.0, <[u8; 32]>::from(Sha256::digest(&data)));
    let (size, back) = read(&store, id, None).await;
    assert_eq!(size, data.len() as u64);
    assert!(back == data, "the parts came back changed or out of order");
    let (first, last) = (8 * MIB as u64 - 10, 16 * MIB as u64 + 10);
    let (size, back) = read(&store, id, Some(ByteRange { first, last })).await;
    assert_eq!(size, data.len() as u64);
    assert!(back == data[first as usize..=last as usize], "a range across two part boundaries");
    assert_eq!(seen.0.lock().unwrap().uploads.len(), 1, "one multipart upload, for the large body only");
    assert_eq!(parts(&store, &settings, &seen).await, [0], "completed");
    all_encrypted(&seen);
}

#[tokio::test]
async fn refused_broken_and_abandoned_multipart_uploads_are_aborted() {
    if !configured() {
        return;
    }
    let (store, settings, seen) = watched_store().await;
    let id = FileId(Uuid::now_v7());
    // More than one part arrives before each write fails, so each has started a multipart upload.
    let part_and_more = || Ok(Bytes::from(bytes(9 * MIB)));

    let too_large = store.put(id, stream::iter([part_and_more(), part_and_more()]).boxed(), 10 * MIB as u64).await;
    let broken = stream::iter([part_and_more(), Err(BlobError::Interrupted("client left".into()))]).boxed();
    let interrupted = store.put(id, broken, 64 << 20).await;

    assert!(matches!(too_large, Err(BlobError::TooLarge { .. })), "{too_large:?}");
    assert!(matches!(interrupted, Err(BlobError::Interrupted(_))), "{interrupted:?}");
    assert_eq!(parts(&store, &settings, &seen).await, [0, 0], "a refused or broken write aborts its upload");

    let stalled = stream::iter([part_and_more()]).chain(stream::pending()).boxed();
    let mut abandoned = store.put(id, stalled, 64 << 20);
    tokio::select! {
        finished = &mut abandoned => panic!("a stalled write finished: {finished:?}"),
        () = until_parts(&store, &settings, &seen, &[0, 0, 1]) => {}
    }
    drop(abandoned);

    until_parts(&store, &settings, &seen, &[0, 0, 0]).await;
    assert!(store.get(id, None).await.unwrap().is_none(), "nothing visible");
    assert!(store.list(None, 10).await.unwrap().is_empty());
    all_encrypted(&seen);
}

/// S3 going away in the middle of an upload through the API: the upload answers 503, nothing is
/// listed, and the service goes on serving what does not need S3.
#[tokio::test]
async fn an_upload_cut_off_by_s3_going_away_leaves_nothing_visible() {
    if !configured() {
        return;
    }
    let own = tessera_tests::throwaway::Throwaway::start("s3.sh", &[]).await;
    let mut settings = S3Settings::new("fault");
    settings.endpoint = Some(own.address.clone());
    settings.force_path_style = true;
    let store = S3BlobStore::connect(&settings).await.unwrap();
    store.client().create_bucket().bucket("fault").send().await.unwrap();
    let endpoint = own.address.clone();
    let backend = tessera_tests::backend::TestBackend::from_env();
    let server = tessera_tests::http::TestServer::start_on(backend, move |c| {
        c.blob_store = bootstrap::BlobStoreKind::S3;
        c.s3_bucket = Some("fault".into());
        c.s3_endpoint = Some(endpoint);
        c.s3_force_path_style = true;
    })
    .await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap().to_owned();

    // 12 MiB go up (one part is sent), then S3 goes away, then the rest of the body follows.
    let (mut sender, receiver) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let url = format!("{}/api/v1/projects/{id}/files?name=big.bin", server.base);
    let request = server.client.post(url).bearer_auth(&ada.access).body(reqwest::Body::wrap_stream(receiver));
    let answer = tokio::spawn(request.send());
    for chunk in bytes(12 * MIB).chunks(MIB) {
        futures::SinkExt::send(&mut sender, Ok(chunk.to_vec())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    own.run("stop").await;
    for chunk in bytes(4 * MIB).chunks(MIB) {
        if futures::SinkExt::send(&mut sender, Ok(chunk.to_vec())).await.is_err() {
            break;
        }
    }
    drop(sender);
    let response = answer.await.unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 503, "{}", response.text().await.unwrap_or_default());

    let listed = server.walk(&format!("/api/v1/projects/{id}/files"), &ada.access, 10).await;
    assert!(listed.is_empty(), "{listed:?}");
    server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await.expect(200);
}
