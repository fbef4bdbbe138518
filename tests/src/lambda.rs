//! Tessera in Lambda mode for the end-to-end suite: when `TESSERA_TEST_LAMBDA` names a
//! `cargo-lambda` binary (scripts/test.sh installs one), each test server is the `tessera`
//! program started as the Lambda runtime starts it (`AWS_LAMBDA_RUNTIME_API` and the other
//! variables set), polling its own Lambda runtime API emulator (`cargo lambda watch
//! --only-lambda-apis`); the tests' HTTP requests go to the emulator, which hands each one over
//! as a function URL event (payload v2) and sends the function's answer back. The function
//! reaches the emulator's runtime API through `scripts/lambda-relay.py`, which works around the
//! emulator losing answers over ~16 KiB (see there).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bootstrap::{Cli, Config, StorageKind};
use clap::Parser;
use tokio::process::{Child, Command};

/// The `cargo-lambda` binary that runs the emulator, when the suite runs in Lambda mode.
pub fn emulator_tool() -> Option<PathBuf> {
    std::env::var_os("TESSERA_TEST_LAMBDA").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The `tessera` program to start as the function: `TESSERA_TEST_LAMBDA_PROGRAM`, else the test
/// build of the command line (`tessera-under-test`, which Cargo builds beside the test binaries:
/// `target/debug/deps/e2e-…` → `target/debug/tessera-under-test`).
pub fn program() -> PathBuf {
    if let Some(program) = std::env::var_os("TESSERA_TEST_LAMBDA_PROGRAM") {
        return PathBuf::from(program);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/debug/deps/…");
    dir.join(format!("tessera-under-test{}", std::env::consts::EXE_SUFFIX))
}

/// The settings a test changed that only a listener applies, so that on Lambda they mean
/// nothing: connections, slow clients, requests at once within one instance (Lambda hands an
/// instance one request at a time and runs as many instances as there are requests), draining
/// on SIGTERM. A test that changes one of them is about `tessera serve`'s listener.
pub fn listener_settings(config: &Config) -> Vec<&'static str> {
    let d = Config::defaults();
    [
        ("--max-in-flight", config.max_in_flight != d.max_in_flight),
        ("--max-connections", config.max_connections != d.max_connections),
        ("--max-uploads", config.max_uploads != d.max_uploads),
        ("--hash-concurrency", config.hash_concurrency != d.hash_concurrency),
        ("--hash-queue", config.hash_queue != d.hash_queue),
        ("--idle-timeout-ms", config.idle_timeout_ms != d.idle_timeout_ms),
        ("--header-timeout-ms", config.header_timeout_ms != d.header_timeout_ms),
        ("--body-timeout-ms", config.body_timeout_ms != d.body_timeout_ms),
        ("--shutdown-drain-ms", config.shutdown_drain_ms != d.shutdown_drain_ms),
    ]
    .into_iter()
    .filter_map(|(flag, changed)| changed.then_some(flag))
    .collect()
}

/// Says how this test's server runs in Lambda mode when it is not a Lambda function: on the
/// test's own output (shown when it fails, and by `--no-capture`) and, for the run's summary
/// (scripts/test.sh prints it), in the file `TESSERA_TEST_LAMBDA_NOTES` names.
pub fn note(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "lambda mode: {what}");
    if let Some(path) = std::env::var_os("TESSERA_TEST_LAMBDA_NOTES") {
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{test}: {what}");
        }
    }
}

/// `config` as the command line of the function process: every setting, so that the function
/// runs with exactly the configuration the test built. Checked by parsing it back.
fn arguments(config: &Config) -> Vec<String> {
    let c = config;
    let mut args: Vec<String> = vec![
        format!("--storage={}", format!("{:?}", c.storage).to_lowercase()),
        format!("--dynamodb-table={}", c.dynamodb_table),
        format!("--dynamodb-timeout-ms={}", c.dynamodb_timeout_ms),
        "--log-format=json".into(),
        "--no-migrate".into(),
        format!("--listen={}", c.listen),
        format!("--body-limit={}", c.body_limit),
        format!("--access-token-ttl={}", c.access_token_ttl),
        format!("--refresh-token-ttl={}", c.refresh_token_ttl),
        format!("--login-max-failures={}", c.login_max_failures),
        format!("--login-window={}", c.login_window),
        format!("--session-max-age={}", c.session_max_age),
        format!("--sweep-interval={}", c.sweep_interval),
        format!("--sqlite-read-connections={}", c.sqlite_read_connections),
        format!("--pg-max-connections={}", c.pg_max_connections),
        format!("--pg-statement-timeout-ms={}", c.pg_statement_timeout_ms),
        format!("--pool-acquire-timeout-ms={}", c.pool_acquire_timeout_ms),
        format!("--max-in-flight={}", c.max_in_flight),
        format!("--max-connections={}", c.max_connections),
        format!("--request-timeout-ms={}", c.request_timeout_ms),
        format!("--shutdown-drain-ms={}", c.shutdown_drain_ms),
        format!("--idle-timeout-ms={}", c.idle_timeout_ms),
        format!("--header-timeout-ms={}", c.header_timeout_ms),
        format!("--body-timeout-ms={}", c.body_timeout_ms),
        format!("--shutdown-grace={}", c.shutdown_grace),
    ];
    let optional = [
        ("--database-url", c.database_url.clone()),
        ("--jwt-secret", c.jwt_secret.clone()),
        ("--dynamodb-endpoint", c.dynamodb_endpoint.clone()),
        ("--hash-concurrency", c.hash_concurrency.map(|n| n.to_string())),
        ("--hash-queue", c.hash_queue.map(|n| n.to_string())),
    ];
    args.extend(optional.into_iter().filter_map(|(flag, value)| Some(format!("{flag}={}", value?))));
    args.extend(crate::backend::blob_store_arguments(c));
    // A setting added to Config and forgotten here would silently run the function with its
    // default: parse the line back and compare.
    let parsed = Cli::try_parse_from(std::iter::once("tessera".to_owned()).chain(args.iter().cloned()))
        .expect("the function's command line parses")
        .config;
    let mut expected = config.clone();
    expected.log_format = parsed.log_format;
    expected.no_migrate = true;
    assert_eq!(format!("{parsed:?}"), format!("{expected:?}"), "a setting is missing from lambda::arguments");
    args
}

/// A free loopback port (another process may take it before ours binds it: callers retry).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// One function instance: the Lambda runtime API emulator and the `tessera` process polling it.
/// Both are killed when this is dropped.
pub struct LambdaFunction {
    /// Where the tests send their HTTP requests (the emulator).
    pub base: String,
    _emulator: Child,
    _relay: Child,
    function: Child,
}

impl LambdaFunction {
    /// Starts the emulator and `program` (the `tessera` command line) as the function on `config`
    /// (storage set up beforehand: the function migrates nothing), and waits until it answers.
    pub async fn start(program: &std::path::Path, config: &Config) -> Self {
        use std::io::Write;
        let tool = emulator_tool().expect("TESSERA_TEST_LAMBDA names cargo-lambda");
        let arguments = arguments(config);
        for _ in 0..5 {
            let port = free_port();
            let mut emulator = Command::new(&tool)
                .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
                // Its log stays on the test's output (shown when the test fails): a request the
                // emulator failed or lost is said there.
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("cargo-lambda starts");
            if !listening(&mut emulator, port).await {
                continue;
            }
            // The relay picks its own port and says which: one chosen here could be taken meanwhile.
            let mut relay = Command::new("python3")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/lambda-relay.py"))
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("python3 runs the runtime API relay");
            let Some(relay_port) = relay_port(&mut relay).await else { continue };
            let function = Command::new(program)
                .args(&arguments)
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{relay_port}/.rt"))
                .env("AWS_LAMBDA_FUNCTION_NAME", "_")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("the test build of tessera starts");
            let base = format!("http://127.0.0.1:{port}");
            let mut started = Self { base, _emulator: emulator, _relay: relay, function };
            started.wait_until_it_answers().await;
            let _ = writeln!(std::io::stderr(), "lambda mode: a function behind the emulator at {}", started.base);
            return started;
        }
        panic!("the Lambda runtime API emulator never started");
    }

    async fn wait_until_it_answers(&mut self) {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.function.try_wait().expect("the process can be asked") {
                panic!("the function process exited: {status}");
            }
            let live = client.get(format!("{}/health/live", self.base)).send().await;
            if live.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "the function never answered through the emulator");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The port the relay says it listens on; `None` if it said nothing within 30 s.
async fn relay_port(relay: &mut Child) -> Option<u16> {
    use tokio::io::AsyncBufReadExt;
    let stdout = relay.stdout.take()?;
    let mut line = String::new();
    let mut stdout = tokio::io::BufReader::new(stdout);
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line)).await.ok()?.ok()?;
    line.trim().parse().ok()
}

/// Waits until `emulator` accepts connections on `port`; false if it exited (port taken).
async fn listening(emulator: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if emulator.try_wait().ok().flatten().is_some() {
            return false;
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// `config` with its storage unreachable, as when the backend is down, where the backend allows
/// it from outside the process: DynamoDB and PostgreSQL at a port where nothing listens.
pub fn with_storage_unreachable(config: &Config) -> Option<Config> {
    let mut down = config.clone();
    let nowhere = format!("127.0.0.1:{}", free_port());
    match config.storage {
        StorageKind::Dynamodb => down.dynamodb_endpoint = Some(format!("http://{nowhere}")),
        StorageKind::Postgres => {
            let url = config.database_url.clone()?;
            let (scheme, rest) = url.split_once("://")?;
            let (credentials, after) = rest.rsplit_once('@').map_or(("", rest), |(c, a)| (c, a));
            let (_, database) = after.split_once('/')?;
            let at = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
            down.database_url = Some(format!("{scheme}://{at}{nowhere}/{database}"));
        }
        StorageKind::Sqlite => return None,
    }
    Some(down)
}
