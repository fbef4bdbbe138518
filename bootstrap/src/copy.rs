//! `tessera copy --from URL --to URL`: every record from one storage to another
//! (`application::copy`), then both sides compared. Progress goes to stderr (`copy_progress`), the
//! report to stdout.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use application::copy::Copier;
use application::ports::BlobStore;
use domain::records::RecordKind;

use crate::backend::Backend;
use crate::config::{BlobStoreKind, Config, StorageKind};
use crate::copy_progress::Progress;
use crate::BootError;

/// Records read per page of the source.
const PAGE: u32 = 200;

/// One side of a copy, as the command line names it.
pub struct Side {
    pub url: String,
    pub dynamodb_endpoint: Option<String>,
    /// Where its files' bytes are (`file:///DIR`, `s3://BUCKET/PREFIX`).
    pub files: Option<String>,
}

pub struct Sides {
    pub from: Side,
    pub to: Side,
    /// Both sides use one blob store.
    pub files_shared: bool,
}

pub async fn copy(config: &Config, sides: Sides, resume: bool) -> Result<(), BootError> {
    let source_config = storage_config(config, &sides.from)?;
    if let Some(path) = sqlite_path(&source_config) {
        // Opening a SQLite URL creates the file: a mistyped source would copy nothing, "equal".
        if !Path::new(&path).exists() {
            return Err(BootError::Config(format!("the source database {path} does not exist")));
        }
    }
    let source = Backend::open(&source_config).await?;
    let target = Backend::open(&storage_config(config, &sides.to)?).await?;
    target.migrate().await?;
    let blobs = match (&sides.from.files, &sides.to.files, sides.files_shared) {
        (Some(from), Some(to), false) => Some((blob_store(config, from).await?, blob_store(config, to).await?)),
        (None, None, true) => None,
        (None, None, false) => {
            let files = source.storage().export().scan(RecordKind::Files, None, 1).await.map_err(BootError::Storage)?;
            if !files.records.is_empty() {
                return Err(BootError::Config(
                    "the source holds files: say where their bytes are and go (--files-from and --files-to), or \
                     that both sides share one blob store (--files-shared)"
                        .into(),
                ));
            }
            None
        }
        _ => return Err(BootError::Config("--files-from and --files-to go together".into())),
    };
    let copier = Copier { source: source.storage(), target: target.storage(), blobs, page: PAGE };
    let started = Instant::now();
    let progress = Progress::on_stderr();
    let copied = copier.copy(resume, &progress).await.map_err(BootError::Copy);
    progress.finish();
    let copied = copied?;
    for (kind, done) in &copied {
        println!("{:<9} copied {:>9}   already there {:>9}", kind.as_str(), done.copied, done.present);
    }
    let compared = copier.verify().await.map_err(BootError::Copy)?;
    let mut differ = Vec::new();
    for kind in &compared {
        let verdict = if kind.same() { "same" } else { "DIFFERENT" };
        println!(
            "{:<9} source {:>9}   target {:>9}   records {verdict}",
            kind.kind.as_str(),
            kind.source.count,
            kind.target.count
        );
        if !kind.same() {
            differ.push(kind.kind.as_str());
        }
    }
    source.close().await;
    target.close().await;
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    if differ.is_empty() {
        Ok(())
    } else {
        Err(BootError::Config(format!("the target differs from the source in: {}", differ.join(", "))))
    }
}

/// `config` pointed at the storage `side` names.
fn storage_config(config: &Config, side: &Side) -> Result<Config, BootError> {
    let mut c = config.clone();
    let url = side.url.as_str();
    if let Some(table) = url.strip_prefix("dynamodb://") {
        if table.is_empty() {
            return Err(BootError::Config(format!("{url}: dynamodb://TABLE names a table")));
        }
        c.storage = StorageKind::Dynamodb;
        c.dynamodb_table = table.to_owned();
        c.database_url = None;
        if side.dynamodb_endpoint.is_some() {
            c.dynamodb_endpoint = side.dynamodb_endpoint.clone();
        }
    } else if url.starts_with("sqlite:") {
        c.storage = StorageKind::Sqlite;
        c.database_url = Some(url.to_owned());
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        c.storage = StorageKind::Postgres;
        c.database_url = Some(url.to_owned());
    } else {
        return Err(BootError::Config(format!(
            "{}: not a storage URL (sqlite://PATH, postgres://…, dynamodb://TABLE)",
            url.split('@').next_back().unwrap_or_default()
        )));
    }
    Ok(c)
}

fn sqlite_path(config: &Config) -> Option<String> {
    if config.storage != StorageKind::Sqlite {
        return None;
    }
    let url = config.database_url.as_deref()?;
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_owned())
}

/// The blob store a `--files-from`/`--files-to` URL names.
async fn blob_store(config: &Config, url: &str) -> Result<Arc<dyn BlobStore>, BootError> {
    let mut c = config.clone();
    if let Some(dir) = url.strip_prefix("file://") {
        c.blob_store = BlobStoreKind::Fs;
        c.files_dir = Some(dir.into());
    } else if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        c.blob_store = BlobStoreKind::S3;
        c.s3_bucket = Some(bucket.to_owned());
        c.s3_prefix = prefix.to_owned();
    } else {
        return Err(BootError::Config(format!("{url}: not a blob store URL (file:///DIR, s3://BUCKET/PREFIX)")));
    }
    crate::blobs::open(&c).await
}
