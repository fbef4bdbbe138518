//! Which backend a test run targets, and a fresh, isolated database on it for each test.

use bootstrap::backend::Backend;
use bootstrap::{Config, StorageKind};
use tempfile::TempDir;

/// The backend the suites run against: `TESSERA_TEST_BACKEND` (`sqlite` when unset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
}

impl TestBackend {
    pub fn from_env() -> Self {
        match std::env::var("TESSERA_TEST_BACKEND").as_deref() {
            Ok("sqlite") | Err(_) => TestBackend::Sqlite,
            Ok(other) => panic!("TESSERA_TEST_BACKEND={other:?} is not a backend this build knows"),
        }
    }
}

/// A configuration pointing at a database of its own, which lives as long as this value.
pub struct IsolatedConfig {
    pub config: Config,
    _dir: TempDir,
}

pub fn isolated_config() -> IsolatedConfig {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().expect("a loopback address");
    config.jwt_secret = Some("test-secret-that-is-at-least-32-bytes-long".into());
    config.shutdown_grace = 5;
    match TestBackend::from_env() {
        TestBackend::Sqlite => {
            config.storage = StorageKind::Sqlite;
            config.database_url = Some(format!("sqlite://{}", dir.path().join("tessera.db").display()));
        }
    }
    IsolatedConfig { config, _dir: dir }
}

/// A migrated, empty storage backend for the conformance suite.
pub struct TestStorage {
    pub backend: Backend,
    _config: IsolatedConfig,
}

pub async fn storage() -> TestStorage {
    let config = isolated_config();
    let backend = Backend::open(&config.config).await.expect("the test backend opens");
    backend.migrate().await.expect("migrations apply");
    TestStorage { backend, _config: config }
}
