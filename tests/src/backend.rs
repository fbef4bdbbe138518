//! Which backend a test run targets, and a fresh, isolated database on it for each test.

use std::io::Write;
use std::sync::{Arc, Once};

use application::ports::Storage;
use bootstrap::backend::Backend;
use bootstrap::{BlobStoreKind, Config, StorageKind};
use tempfile::TempDir;

/// The backend the suites run against: `TESSERA_TEST_BACKEND` (`sqlite` when unset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    /// Needs `TESSERA_TEST_POSTGRES_URL`, an admin URL of a (throwaway) cluster: every test
    /// creates a database of its own there.
    Postgres,
    /// Needs `AWS_ENDPOINT_URL_DYNAMODB` naming a DynamoDB Local on 127.0.0.1 (with `AWS_REGION`
    /// and any static credentials): every test creates a table of its own there.
    Dynamodb,
}

impl TestBackend {
    pub fn from_env() -> Self {
        match std::env::var("TESSERA_TEST_BACKEND").as_deref() {
            Ok("sqlite") | Err(_) => TestBackend::Sqlite,
            Ok("postgres") => TestBackend::Postgres,
            Ok("dynamodb") => TestBackend::Dynamodb,
            Ok(other) => panic!("TESSERA_TEST_BACKEND={other:?} is not a backend this build knows"),
        }
    }

    /// Whether the service this backend's own suite (`tests/tests/postgres.rs`, `dynamodb.rs`)
    /// talks to is configured. A bare `cargo test` has none: then one line on stderr says why
    /// and each test returns at once, so that the workspace's tests pass with no set-up. A run
    /// that targets this backend (`TESSERA_TEST_BACKEND`) without its service is an error.
    pub fn suite_is_configured(self) -> bool {
        let (variable, needs) = match self {
            TestBackend::Sqlite => return true,
            TestBackend::Postgres => {
                ("TESSERA_TEST_POSTGRES_URL", "the PostgreSQL fault suite needs scripts/test.sh's cluster")
            }
            TestBackend::Dynamodb => (
                "AWS_ENDPOINT_URL_DYNAMODB",
                "the DynamoDB fault suite needs scripts/test.sh's DynamoDB Local (and AWS_REGION, static credentials)",
            ),
        };
        if std::env::var_os(variable).is_some() {
            return true;
        }
        assert!(
            TestBackend::from_env() != self,
            "TESSERA_TEST_BACKEND names this backend but {variable} is not set: {needs}"
        );
        static SAID: [Once; 3] = [const { Once::new() }; 3];
        // Written to the stream itself: libtest captures `eprintln!` of a passing test, and this
        // line is for whoever runs a bare `cargo test`.
        SAID[self as usize].call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "{variable} is not set: {needs}; not configured, so its tests return at once"
            );
        });
        false
    }
}

/// Creates an empty database on the test cluster and returns its URL.
async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin = std::env::var("TESSERA_TEST_POSTGRES_URL")
        .expect("TESSERA_TEST_POSTGRES_URL must name the test cluster (scripts/test.sh starts one)");
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("the test cluster answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("a test database");
    let _ = conn.close().await;
    let (base, _) = admin.rsplit_once('/').expect("an admin URL ending in /database");
    format!("{base}/{name}")
}

/// A table name no other test uses; the endpoint must be a local one (tests never reach AWS).
fn fresh_dynamodb_table() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("AWS_ENDPOINT_URL_DYNAMODB must name DynamoDB Local (scripts/test.sh starts one)");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "tests only talk to a DynamoDB Local on 127.0.0.1");
    format!("t_{}", uuid::Uuid::now_v7().simple())
}

/// A configuration pointing at a database of its own, which lives as long as this value (and its
/// clones: a second server on the same database shares it).
#[derive(Clone)]
pub struct IsolatedConfig {
    pub config: Config,
    _dir: Arc<TempDir>,
}

pub async fn isolated_config() -> IsolatedConfig {
    isolated_config_on(TestBackend::from_env()).await
}

/// A configuration for `backend`, whatever the run's backend is.
pub async fn isolated_config_on(backend: TestBackend) -> IsolatedConfig {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().expect("a loopback address");
    config.jwt_secret = Some("test-secret-that-is-at-least-32-bytes-long".into());
    config.shutdown_grace = 5;
    match backend {
        TestBackend::Sqlite => {
            config.storage = StorageKind::Sqlite;
            config.database_url = Some(format!("sqlite://{}", dir.path().join("tessera.db").display()));
        }
        TestBackend::Postgres => {
            config.storage = StorageKind::Postgres;
            config.database_url = Some(fresh_postgres_database().await);
            config.pg_max_connections = 5;
        }
        TestBackend::Dynamodb => {
            config.storage = StorageKind::Dynamodb;
            config.dynamodb_table = fresh_dynamodb_table();
        }
    }
    config.files_dir = Some(dir.path().join("files"));
    if std::env::var("TESSERA_TEST_FILE_STORE").as_deref() == Ok("s3") {
        // A prefix of its own in the test bucket (created if missing), as the blob suite's cases.
        let (_, settings) = crate::blob_conformance::s3_store().await;
        config.blob_store = BlobStoreKind::S3;
        config.s3_bucket = Some(settings.bucket);
        config.s3_prefix = settings.prefix;
        config.s3_endpoint = settings.endpoint;
        config.s3_force_path_style = settings.force_path_style;
    }
    IsolatedConfig { config, _dir: Arc::new(dir) }
}

/// The flags that give another `tessera` process this configuration's blob store and file limits.
pub fn blob_store_arguments(c: &Config) -> Vec<String> {
    let mut args = vec![
        format!("--blob-store={}", format!("{:?}", c.blob_store).to_lowercase()),
        format!("--s3-prefix={}", c.s3_prefix),
        format!("--file-max-bytes={}", c.file_max_bytes),
        format!("--project-storage-quota={}", c.project_storage_quota),
        format!("--max-uploads={}", c.max_uploads),
        format!("--upload-timeout-ms={}", c.upload_timeout_ms),
        format!("--orphan-blob-grace={}", c.orphan_blob_grace),
    ];
    if c.s3_force_path_style {
        args.push("--s3-force-path-style".into());
    }
    if c.files_redirect {
        args.push("--files-redirect".into());
    }
    let optional = [
        ("--files-dir", c.files_dir.as_ref().map(|d| d.display().to_string())),
        ("--s3-bucket", c.s3_bucket.clone()),
        ("--s3-endpoint", c.s3_endpoint.clone()),
    ];
    args.extend(optional.into_iter().filter_map(|(flag, value)| Some(format!("{flag}={}", value?))));
    args
}

/// A migrated, empty storage backend for the conformance suite.
pub struct TestStorage {
    pub backend: Backend,
    storage: Arc<dyn Storage>,
    _config: IsolatedConfig,
}

impl AsRef<dyn Storage> for TestStorage {
    fn as_ref(&self) -> &(dyn Storage + 'static) {
        self.storage.as_ref()
    }
}

pub async fn storage() -> TestStorage {
    let config = isolated_config().await;
    let backend = Backend::open(&config.config).await.expect("the test backend opens");
    backend.migrate().await.expect("migrations apply");
    TestStorage { storage: backend.storage(), backend, _config: config }
}
