//! The blob store files' bytes go to, chosen by `--blob-store` independently of the storage
//! backend.

use std::sync::Arc;

use application::ports::BlobStore;
use tessera_blob_fs::FsBlobStore;
use tessera_blob_s3::{S3BlobStore, S3Settings};

use crate::config::{BlobStoreKind, Config};
use crate::BootError;

pub async fn open(config: &Config) -> Result<Arc<dyn BlobStore>, BootError> {
    match config.blob_store {
        BlobStoreKind::Fs => {
            let dir = config.files_dir();
            let store = FsBlobStore::open(&dir)
                .await
                .map_err(|e| BootError::Config(format!("the files directory {}: {e}", dir.display())))?;
            Ok(Arc::new(store))
        }
        BlobStoreKind::S3 => {
            let bucket = config
                .s3_bucket
                .clone()
                .ok_or_else(|| BootError::Config("--blob-store s3 needs --s3-bucket (TESSERA_S3_BUCKET)".into()))?;
            let mut settings = S3Settings::new(bucket);
            settings.prefix = config.s3_prefix.clone();
            settings.endpoint = config.s3_endpoint.clone();
            settings.force_path_style = config.s3_force_path_style;
            let store = S3BlobStore::connect(&settings).await.map_err(|e| BootError::Config(e.to_string()))?;
            Ok(Arc::new(store))
        }
    }
}
