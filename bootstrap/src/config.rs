//! Configuration: command-line flags, each with a `TESSERA_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Team workspaces: projects, sharing and posts, over HTTP.")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply storage migrations (create tables) and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi {
        /// Print YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
    },
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Purge expired refresh tokens, ended logins, ended login-attempt windows, idempotency
    /// records past their 24 hours and stored blobs no file references (older than
    /// --orphan-blob-grace) once, print what was removed, and exit (`serve` also does it every
    /// --sweep-interval).
    Sweep,
    /// Write a consistent snapshot of the SQLite database to a new FILE while Tessera serves from
    /// it, and print its path, size and the time taken. FILE must not exist: it is never
    /// overwritten. On PostgreSQL use pg_dump; on DynamoDB, point-in-time recovery or on-demand
    /// backups.
    Backup {
        /// The file to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Copy every user, project, member, post and file from one storage to another, keeping ids,
    /// versions, password hashes and timestamps (refresh tokens are not copied: logins end), then
    /// compare both sides kind by kind. Each side is a storage URL: sqlite://PATH,
    /// postgres://USER:PASSWORD@HOST/DATABASE or dynamodb://TABLE (region, credentials and
    /// endpoint from the AWS chain, or --from/--to-dynamodb-endpoint). The target is migrated
    /// first. Exits non-zero when the two sides differ.
    Copy {
        /// The storage to read.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The storage to write; it must hold no record unless --resume.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Finish an interrupted copy: records the target holds already (equal) are skipped.
        #[arg(long)]
        resume: bool,
        /// Where the source's files' bytes are: file:///DIR or s3://BUCKET/PREFIX (the S3
        /// endpoint from --s3-endpoint). With --files-to; or --files-shared.
        #[arg(long, value_name = "URL")]
        files_from: Option<String>,
        /// Where the target's files' bytes go (same forms as --files-from).
        #[arg(long, value_name = "URL")]
        files_to: Option<String>,
        /// Both sides use one blob store: no bytes are copied.
        #[arg(long, conflicts_with_all = ["files_from", "files_to"])]
        files_shared: bool,
        /// The source's DynamoDB endpoint (DynamoDB Local).
        #[arg(long, value_name = "URL")]
        from_dynamodb_endpoint: Option<String>,
        /// The target's DynamoDB endpoint (DynamoDB Local).
        #[arg(long, value_name = "URL")]
        to_dynamodb_endpoint: Option<String>,
    },
    /// Print the configuration reference (docs/configuration.md).
    #[command(hide = true)]
    ConfigReference,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator. The password comes from TESSERA_ADMIN_PASSWORD, else from stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Admin")]
        first_name: String,
        #[arg(long, default_value = "Istrator")]
        last_name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    Sqlite,
    Postgres,
    Dynamodb,
}

/// Where files' bytes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlobStoreKind {
    /// A directory on local disk (--files-dir).
    Fs,
    /// An Amazon S3 bucket (--s3-bucket).
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_LISTEN", hide_env_values = true, default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Storage backend.
    #[arg(long, env = "TESSERA_STORAGE", hide_env_values = true, value_enum, default_value = "sqlite", global = true)]
    pub storage: StorageKind,

    /// Database URL [default for SQLite: sqlite://data/tessera.db; required for PostgreSQL:
    /// postgres://user:password@host:port/database; unused on DynamoDB].
    #[arg(long, env = "TESSERA_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Secret (32 bytes or more) that signs access tokens and cursors; every instance of one
    /// deployment needs the same. On SQLite it is generated once and kept beside the database
    /// when not given; required on PostgreSQL and DynamoDB.
    #[arg(long, env = "TESSERA_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Log format [default: pretty on a terminal, else json]; filter with RUST_LOG.
    #[arg(long, env = "TESSERA_LOG_FORMAT", hide_env_values = true, value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// Do not apply migrations at `serve` start.
    #[arg(long, env = "TESSERA_NO_MIGRATE", hide_env_values = true, global = true, action = ArgAction::SetTrue,
          value_parser = BoolishValueParser::new())]
    pub no_migrate: bool,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TESSERA_BODY_LIMIT", hide_env_values = true, default_value_t = 1024 * 1024, global = true)]
    pub body_limit: usize,

    /// Access-token lifetime, in seconds.
    #[arg(long, env = "TESSERA_ACCESS_TOKEN_TTL", hide_env_values = true, default_value_t = 15 * 60, global = true)]
    pub access_token_ttl: u32,

    /// Refresh-token lifetime, in seconds.
    #[arg(long, env = "TESSERA_REFRESH_TOKEN_TTL", hide_env_values = true, default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl: u32,

    /// Failed password checks per account (or unknown login name) allowed within the window
    /// before 429; counted in the storage, so shared by every instance.
    #[arg(long, env = "TESSERA_LOGIN_MAX_FAILURES", hide_env_values = true, default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u32).range(1..i64::from(u16::MAX)))]
    pub login_max_failures: u32,

    /// The failed-login window, in seconds, from the first failure.
    #[arg(long, env = "TESSERA_LOGIN_WINDOW", hide_env_values = true, default_value_t = 15 * 60, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_window: u32,

    /// How long a login lives, in seconds, from `auth/login`, however often it is refreshed.
    #[arg(long, env = "TESSERA_SESSION_MAX_AGE", hide_env_values = true, default_value_t = 90 * 24 * 3600, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub session_max_age: u32,

    /// Seconds between two sweeps of expired refresh tokens, logins, login-attempt windows and
    /// idempotency records in `serve`. The first comes within a minute of the start, and each is jittered so that
    /// instances do not sweep in step.
    #[arg(long, env = "TESSERA_SWEEP_INTERVAL", hide_env_values = true, default_value_t = 3600, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sweep_interval: u32,

    /// Password hashes computed at once [default: half the cores, at least 1].
    #[arg(long, env = "TESSERA_HASH_CONCURRENCY", hide_env_values = true, global = true)]
    pub hash_concurrency: Option<usize>,

    /// Password checks and hashes (logins, registrations, password changes) that may wait for a
    /// hashing thread; more are answered 503 `overloaded` at once [default: 64 per hashing thread].
    #[arg(long, env = "TESSERA_HASH_QUEUE", hide_env_values = true, global = true)]
    pub hash_queue: Option<usize>,

    /// Read connections of the SQLite pool (writes use one connection).
    #[arg(long, env = "TESSERA_SQLITE_READ_CONNECTIONS", hide_env_values = true, default_value_t = 4, global = true)]
    pub sqlite_read_connections: u32,

    /// SQLite's page cache per connection, in KiB. Pages it misses come from the operating
    /// system's file cache, which every connection shares (bench/RESULTS.md, "Speed" 6).
    #[arg(long, env = "TESSERA_SQLITE_CACHE_KIB", hide_env_values = true, default_value_t = 256, global = true)]
    pub sqlite_cache_kib: u32,

    /// Connections of the PostgreSQL pool.
    #[arg(long, env = "TESSERA_PG_MAX_CONNECTIONS", hide_env_values = true, default_value_t = 10, global = true)]
    pub pg_max_connections: u32,

    /// Longest a PostgreSQL statement may run before it is cancelled, in milliseconds.
    #[arg(
        long,
        env = "TESSERA_PG_STATEMENT_TIMEOUT_MS",
        hide_env_values = true,
        default_value_t = 10_000,
        global = true
    )]
    pub pg_statement_timeout_ms: u64,

    /// The DynamoDB table. Endpoint, region and credentials come from the standard AWS chain
    /// (AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role, AWS_ENDPOINT_URL_DYNAMODB).
    #[arg(long, env = "TESSERA_DYNAMODB_TABLE", hide_env_values = true, default_value = "tessera", global = true)]
    pub dynamodb_table: String,

    /// The DynamoDB endpoint, for DynamoDB Local [default: the standard chain's
    /// AWS_ENDPOINT_URL_DYNAMODB, else the region's AWS endpoint].
    #[arg(long, env = "TESSERA_DYNAMODB_ENDPOINT", hide_env_values = true, global = true)]
    pub dynamodb_endpoint: Option<String>,

    /// Longest one DynamoDB call may take, its retries included, in milliseconds; past it the
    /// request gets 503.
    #[arg(long, env = "TESSERA_DYNAMODB_TIMEOUT_MS", hide_env_values = true, default_value_t = 3000, global = true)]
    pub dynamodb_timeout_ms: u64,

    /// Units of work open on DynamoDB at once (a request's reads and writes; each sends its
    /// calls one after another); more wait up to the acquire timeout. Bounds the connections
    /// kept to DynamoDB and their memory; single calls outside a unit (the login limit's count,
    /// idempotency records, readiness) are not counted.
    #[arg(long, env = "TESSERA_DYNAMODB_CONCURRENCY", hide_env_values = true, default_value_t = 32, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub dynamodb_concurrency: u32,

    /// Longest wait for a storage connection (on DynamoDB: for a place among
    /// --dynamodb-concurrency), in milliseconds; past it a request gets 503.
    #[arg(
        long,
        env = "TESSERA_POOL_ACQUIRE_TIMEOUT_MS",
        hide_env_values = true,
        default_value_t = 5000,
        global = true
    )]
    pub pool_acquire_timeout_ms: u64,

    /// Requests handled at once by this instance; more are answered 503 `overloaded` at once.
    #[arg(long, env = "TESSERA_MAX_IN_FLIGHT", hide_env_values = true, default_value_t = 1024, global = true)]
    pub max_in_flight: usize,

    /// Connections this instance keeps open at once; one more is answered 503 `overloaded` and
    /// closed at once. Keep the open-files limit (`ulimit -n`) above it and the storage pool.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", hide_env_values = true, default_value_t = 1024, global = true)]
    pub max_connections: usize,

    /// Longest a request may take before it is abandoned with 503 `request_timeout`, in milliseconds.
    #[arg(long, env = "TESSERA_REQUEST_TIMEOUT_MS", hide_env_values = true, default_value_t = 30_000, global = true)]
    pub request_timeout_ms: u64,

    /// After SIGTERM/SIGINT, how long readiness answers 503 while requests are still served, so
    /// load balancers move away before the listener closes; in milliseconds.
    #[arg(long, env = "TESSERA_SHUTDOWN_DRAIN_MS", hide_env_values = true, default_value_t = 0, global = true)]
    pub shutdown_drain_ms: u64,

    /// A connection with no traffic for this long is closed (idle keep-alive, silent clients); in
    /// milliseconds. Keep it above the request timeout: a request in progress sends nothing.
    #[arg(long, env = "TESSERA_IDLE_TIMEOUT_MS", hide_env_values = true, default_value_t = 60_000, global = true)]
    pub idle_timeout_ms: u64,

    /// Longest a request head may take to arrive once its first byte has, in milliseconds; a
    /// client trickling its headers is disconnected.
    #[arg(long, env = "TESSERA_HEADER_TIMEOUT_MS", hide_env_values = true, default_value_t = 10_000, global = true)]
    pub header_timeout_ms: u64,

    /// Longest a request body may take to arrive after its request head, in milliseconds; a
    /// client trickling its body is answered 408 `body_timeout` and disconnected.
    #[arg(long, env = "TESSERA_BODY_TIMEOUT_MS", hide_env_values = true, default_value_t = 10_000, global = true)]
    pub body_timeout_ms: u64,

    /// Where files' bytes are kept, whatever the storage backend.
    #[arg(long, env = "TESSERA_BLOB_STORE", hide_env_values = true, value_enum, default_value = "fs", global = true)]
    pub blob_store: BlobStoreKind,

    /// The directory of files' bytes on the fs blob store [default: `files` beside the SQLite
    /// database, else data/files].
    #[arg(long, env = "TESSERA_FILES_DIR", hide_env_values = true, global = true)]
    pub files_dir: Option<PathBuf>,

    /// The S3 bucket of files' bytes (required with --blob-store s3). Region and credentials come
    /// from the standard AWS chain.
    #[arg(long, env = "TESSERA_S3_BUCKET", hide_env_values = true, global = true)]
    pub s3_bucket: Option<String>,

    /// Put before every file id in the bucket's object keys.
    #[arg(long, env = "TESSERA_S3_PREFIX", hide_env_values = true, default_value = "files/", global = true)]
    pub s3_prefix: String,

    /// The S3 endpoint, for an S3-compatible server [default: the standard chain's, else the
    /// region's AWS endpoint].
    #[arg(long, env = "TESSERA_S3_ENDPOINT", hide_env_values = true, global = true)]
    pub s3_endpoint: Option<String>,

    /// Address objects as `endpoint/bucket/key` (what most S3-compatible servers need).
    #[arg(long, env = "TESSERA_S3_FORCE_PATH_STYLE", hide_env_values = true, global = true, action = ArgAction::SetTrue,
          value_parser = BoolishValueParser::new())]
    pub s3_force_path_style: bool,

    /// Answer downloads with 307 to a presigned URL of the bytes (valid 5 minutes) instead of
    /// sending them through this server: S3 only (refused at startup with the fs store).
    #[arg(long, env = "TESSERA_FILES_REDIRECT", hide_env_values = true, global = true, action = ArgAction::SetTrue,
          value_parser = BoolishValueParser::new())]
    pub files_redirect: bool,

    /// Largest file accepted, in bytes; a larger upload is answered 413 as soon as it passes it.
    #[arg(long, env = "TESSERA_FILE_MAX_BYTES", hide_env_values = true, default_value_t = 25 * 1024 * 1024, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub file_max_bytes: u64,

    /// Most bytes one project's files may take together; an upload past it is answered 409
    /// `quota_exceeded`.
    #[arg(long, env = "TESSERA_PROJECT_STORAGE_QUOTA", hide_env_values = true, default_value_t = 1024 * 1024 * 1024,
          global = true)]
    pub project_storage_quota: u64,

    /// Uploads handled at once by this instance (apart from --max-in-flight); more are answered
    /// 503 `overloaded` at once.
    #[arg(long, env = "TESSERA_MAX_UPLOADS", hide_env_values = true, default_value_t = 16, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_uploads: u32,

    /// Longest an upload may take, its body included, in milliseconds (instead of
    /// --request-timeout-ms); a body silent for --body-timeout-ms ends it sooner.
    #[arg(long, env = "TESSERA_UPLOAD_TIMEOUT_MS", hide_env_values = true, default_value_t = 600_000, global = true)]
    pub upload_timeout_ms: u64,

    /// How old a stored blob no file references must be before the sweep removes it, in seconds.
    /// Keep it above --upload-timeout-ms and above 15 minutes: an upload's bytes wait that long
    /// for their metadata, and a direct upload's for its completion.
    #[arg(long, env = "TESSERA_ORPHAN_BLOB_GRACE", hide_env_values = true, default_value_t = 3600, global = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub orphan_blob_grace: u32,

    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "TESSERA_SHUTDOWN_GRACE", hide_env_values = true, default_value_t = 30, global = true)]
    pub shutdown_grace: u64,
}

pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/tessera.db";

impl Config {
    /// Defaults for everything, as if no flag were given (for tests and tools).
    pub fn defaults() -> Self {
        Cli::parse_from(["tessera"]).config
    }

    /// The database URL, defaulted where the backend has a default.
    pub fn database_url(&self) -> Option<String> {
        match self.storage {
            StorageKind::Sqlite => Some(self.database_url.clone().unwrap_or_else(|| DEFAULT_SQLITE_URL.to_owned())),
            StorageKind::Postgres => self.database_url.clone(),
            StorageKind::Dynamodb => None,
        }
    }

    /// The fs blob store's directory: the flag, else `files` beside the SQLite database file,
    /// else `data/files`.
    pub fn files_dir(&self) -> PathBuf {
        if let Some(dir) = &self.files_dir {
            return dir.clone();
        }
        self.sqlite_secret_path()
            .and_then(|secret| secret.parent().map(|dir| dir.join("files")))
            .unwrap_or_else(|| PathBuf::from("data/files"))
    }

    /// Where the generated secret is kept on SQLite: beside the database file.
    pub fn sqlite_secret_path(&self) -> Option<PathBuf> {
        if self.storage != StorageKind::Sqlite {
            return None;
        }
        let url = self.database_url()?;
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.contains(":memory:") {
            return None;
        }
        let db = PathBuf::from(path);
        Some(db.with_file_name(format!(
            "{}.jwt-secret",
            db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "tessera".into())
        )))
    }
}

/// The configuration reference, from the CLI's own help (docs/configuration.md; a test checks it).
pub fn configuration_reference() -> String {
    let help = <Cli as clap::CommandFactory>::command().render_long_help().to_string();
    format!(
        "# Configuration reference\n\nGenerated from `tessera --help` by `scripts/docs.sh`; a test fails when it \
         drifts.\nEvery flag can be given as the environment variable named beside it.\n\n```text\n{}\n```\n",
        help.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design_table() {
        let config = Cli::try_parse_from(["tessera"]).unwrap().config;
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.storage, StorageKind::Sqlite);
        assert_eq!(config.database_url().as_deref(), Some("sqlite://data/tessera.db"));
        assert!(!config.no_migrate);
        assert_eq!(config.body_limit, 1024 * 1024);
        assert_eq!((config.access_token_ttl, config.refresh_token_ttl), (900, 2_592_000));
        assert_eq!((config.login_max_failures, config.login_window), (10, 900));
        assert_eq!((config.session_max_age, config.sweep_interval), (7_776_000, 3600));
        assert_eq!(config.blob_store, BlobStoreKind::Fs);
        assert_eq!(config.files_dir(), PathBuf::from("data/files"));
        assert_eq!((config.file_max_bytes, config.project_storage_quota), (25 << 20, 1 << 30));
    }

    #[test]
    fn flags_work_before_or_after_the_subcommand() {
        let before = Cli::try_parse_from(["tessera", "--no-migrate", "--listen", "127.0.0.1:0", "serve"]).unwrap();
        let after = Cli::try_parse_from(["tessera", "serve", "--no-migrate", "--listen", "127.0.0.1:0"]).unwrap();
        for cli in [before, after] {
            assert!(cli.config.no_migrate);
            assert_eq!(cli.config.listen.port(), 0);
            assert!(matches!(cli.command, Some(Command::Serve)));
        }
    }

    #[test]
    fn the_generated_secret_lives_beside_the_database() {
        let mut config = Config::defaults();
        assert_eq!(config.sqlite_secret_path(), Some(PathBuf::from("data/tessera.jwt-secret")));
        config.database_url = Some("sqlite:///var/lib/tessera/main.db?mode=rwc".into());
        assert_eq!(config.sqlite_secret_path(), Some(PathBuf::from("/var/lib/tessera/main.jwt-secret")));
        config.database_url = Some("sqlite::memory:".into());
        assert_eq!(config.sqlite_secret_path(), None);
    }

    /// `TESSERA_*` settings written in a file, with their values (`NAME=value` or `NAME: value`).
    fn settings_in(text: &str) -> Vec<(String, String)> {
        text.match_indices("TESSERA_")
            .map(|(at, _)| {
                let rest = &text[at..];
                let name_end = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).unwrap_or(rest.len());
                let value = rest[name_end..].trim_start_matches([':', '=']).trim_start();
                let value = value.split_whitespace().next().unwrap_or_default();
                (rest[..name_end].to_owned(), value.to_owned())
            })
            .collect()
    }

    /// Docker cannot run here: this is what checks that the image and the local stack only set
    /// settings the CLI knows, to values it accepts.
    #[test]
    fn the_container_files_set_only_known_settings_to_valid_values() {
        let command = <Cli as clap::CommandFactory>::command();
        for (file, text) in
            [("Dockerfile", include_str!("../../Dockerfile")), ("compose.yaml", include_str!("../../compose.yaml"))]
        {
            let settings = settings_in(text);
            assert!(settings.len() >= 3, "{file} sets Tessera settings");
            for (name, value) in settings {
                let arg = command
                    .get_arguments()
                    .find(|a| a.get_env().is_some_and(|e| e == name.as_str()))
                    .unwrap_or_else(|| panic!("{file} sets {name}, which no flag reads"));
                let flag = format!("--{}", arg.get_long().unwrap());
                let parsed = Cli::try_parse_from(["tessera", "serve", flag.as_str(), value.as_str()]);
                assert!(parsed.is_ok(), "{file}: {name}={value} is refused: {:?}", parsed.err());
            }
        }
    }
}
