//! The blob store conformance suite: public async functions that take the `BlobStore` port and
//! assert its contract, run unchanged against every blob store (the filesystem store, S3). Found
//! by `tests/build.rs` like the storage cases: any `pub async fn NAME(store: &dyn BlobStore)` in
//! this directory's files is a case.

pub mod blobs;

use std::path::PathBuf;

use application::ports::BlobStore;
use tessera_blob_s3::{S3BlobStore, S3Settings};
use uuid::Uuid;

use crate::conformance::harness::Case;

include!(concat!(env!("OUT_DIR"), "/blob_conformance_cases.rs"));

/// A blob store for one case, with what must outlive it.
pub struct OpenStore {
    store: Box<dyn BlobStore>,
    /// The filesystem store's root, removed when the case ends.
    _dir: Option<tempfile::TempDir>,
}

impl AsRef<dyn BlobStore> for OpenStore {
    fn as_ref(&self) -> &(dyn BlobStore + 'static) {
        self.store.as_ref()
    }
}

/// The blob store named by `TESSERA_TEST_BLOB_STORE` (`fs`, the default, or `s3`), fresh and empty.
pub async fn open() -> OpenStore {
    match std::env::var("TESSERA_TEST_BLOB_STORE").as_deref() {
        Ok("fs") | Err(_) => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let root: PathBuf = dir.path().join("blobs");
            let store = tessera_blob_fs::FsBlobStore::open(root).await.expect("the filesystem blob store opens");
            OpenStore { store: Box::new(store), _dir: Some(dir) }
        }
        Ok("s3") => {
            let (store, _) = s3_store().await;
            OpenStore { store: Box::new(store), _dir: None }
        }
        Ok(other) => panic!("TESSERA_TEST_BLOB_STORE={other}: no such blob store (fs, s3)"),
    }
}

/// An S3 store at `TESSERA_TEST_S3_ENDPOINT` (`scripts/s3.sh start`), in the bucket
/// `TESSERA_TEST_S3_BUCKET` (`tessera-test` by default, created if missing) under a prefix of its
/// own, so that cases running side by side do not see each other's blobs; signed with the standard
/// chain's credentials and region.
pub async fn s3_store() -> (S3BlobStore, S3Settings) {
    let endpoint = std::env::var("TESSERA_TEST_S3_ENDPOINT").expect("TESSERA_TEST_S3_ENDPOINT (scripts/s3.sh start)");
    let mut settings =
        S3Settings::new(std::env::var("TESSERA_TEST_S3_BUCKET").unwrap_or_else(|_| "tessera-test".into()));
    settings.prefix = format!("case-{}/", Uuid::now_v7().simple());
    settings.endpoint = Some(endpoint);
    settings.force_path_style = true;
    let store = S3BlobStore::connect(&settings).await.expect("the S3 client is built (is AWS_REGION set?)");
    let created = store.client().create_bucket().bucket(&settings.bucket).send().await;
    if let Err(err) = created {
        let exists =
            err.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists());
        assert!(exists, "cannot create the bucket {}: {err:?}", settings.bucket);
    }
    (store, settings)
}
