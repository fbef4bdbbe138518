//! The composition root: configuration, the choice of adapters, and serving. The only crate that
//! knows every concrete type.

pub mod app;
pub mod backend;
mod backup;
mod blobs;
pub mod cli;
pub mod config;
mod copy;
mod copy_progress;
pub mod lambda;
mod secret;
pub mod sweeping;
pub mod system;
pub mod telemetry;

pub use app::{spawn, spawn_app, App, Running};
pub use config::{BlobStoreKind, Cli, Command, Config, StorageKind};

/// The OpenAPI document exactly as served and committed under `openapi/`.
pub fn openapi_document(yaml: bool) -> String {
    if yaml {
        tessera_http::openapi_yaml()
    } else {
        tessera_http::openapi_json()
    }
}

/// Builds the API's routes, which panics on duplicate operation ids.
pub fn check_routes() {
    tessera_http::build_routes_for_check();
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("storage")]
    Storage(#[source] domain::StorageError),
    #[error("i/o: {0}")]
    Io(String),
    #[error("{0}")]
    App(application::AppError),
    #[error("backup")]
    Backup(#[source] tessera_sqlite::BackupError),
    #[error("copy")]
    Copy(#[source] application::copy::CopyError),
}
