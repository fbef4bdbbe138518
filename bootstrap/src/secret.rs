//! The server secret: given by configuration, or on SQLite generated once and kept beside the
//! database (mode 0600) so tokens survive restarts with zero set-up.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use tessera_security::ServerKey;
use tokio::io::AsyncWriteExt;

use crate::config::{Config, StorageKind};
use crate::BootError;

pub async fn server_key(config: &Config) -> Result<ServerKey, BootError> {
    if let Some(secret) = &config.jwt_secret {
        return ServerKey::new(secret.as_bytes()).map_err(BootError::Config);
    }
    if config.storage != StorageKind::Sqlite {
        return Err(BootError::Config(format!(
            "--jwt-secret (TESSERA_JWT_SECRET) is required for {:?}: every instance must sign with the same key",
            config.storage
        )));
    }
    match config.sqlite_secret_path() {
        Some(path) => {
            let secret = load_or_create(&path).await?;
            ServerKey::new(secret.as_bytes()).map_err(BootError::Config)
        }
        None => {
            tracing::warn!("no --jwt-secret and an in-memory database: using a throwaway secret for this process");
            ServerKey::new(generate().as_bytes()).map_err(BootError::Config)
        }
    }
}

fn generate() -> String {
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn load_or_create(path: &Path) -> Result<String, BootError> {
    let io = |e: std::io::Error| BootError::Io(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    let secret = generate();
    // create_new: if two processes start at once, one writes and both read the same secret.
    match tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).await {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            tracing::warn!(path = %path.display(), "no --jwt-secret given: generated one and kept it beside the database");
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let stored = tokio::fs::read_to_string(path).await.map_err(io)?;
            Ok(stored.trim().to_owned())
        }
        Err(e) => Err(io(e)),
    }
}
