//! The blob store conformance suite: public async functions that take the `BlobStore` port and
//! assert its contract, run unchanged against every blob store (the filesystem store; S3 when its
//! adapter lands). Found by `tests/build.rs` like the storage cases: any
//! `pub async fn NAME(store: &dyn BlobStore)` in this directory's files is a case.

pub mod blobs;

use std::path::PathBuf;

use application::ports::BlobStore;

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

/// The blob store named by `TESSERA_TEST_BLOB_STORE` (`fs`, the default), fresh and empty.
pub async fn open() -> OpenStore {
    match std::env::var("TESSERA_TEST_BLOB_STORE").as_deref() {
        Ok("fs") | Err(_) => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let root: PathBuf = dir.path().join("blobs");
            let store = tessera_blob_fs::FsBlobStore::open(root).await.expect("the filesystem blob store opens");
            OpenStore { store: Box::new(store), _dir: Some(dir) }
        }
        Ok(other) => panic!("TESSERA_TEST_BLOB_STORE={other}: no such blob store (fs)"),
    }
}
