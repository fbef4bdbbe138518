//! The end-to-end harness: the real server (built as `main` builds it) on port 0 against a fresh
//! database, and a small client whose every error answer is checked to be a proper problem.

use std::time::Duration;

use bootstrap::backend::Backend;
use bootstrap::{App, Config, Running};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::backend::{isolated_config, isolated_config_on, IsolatedConfig, TestBackend};
use crate::lambda::{self, LambdaFunction};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    running: Option<Running>,
    /// A server started as a process of its own ([`TestServer::another_process`]), killed on drop.
    process: Option<tokio::process::Child>,
    /// In Lambda mode ([`crate::lambda`]): the function `base` reaches, killed on drop. `running`
    /// is then a listener on the same storage, for the tests that open connections themselves.
    function: Option<LambdaFunction>,
    config: IsolatedConfig,
}

/// One HTTP answer, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an error answer with this status and problem `code`.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.body["code"], code, "unexpected problem code; body: {}", self.text);
        self
    }
}

/// Tokens of one login.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server whose configuration `adjust` may change first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(TestBackend::from_env(), adjust).await
    }

    /// Starts a server on `backend` whatever the run's backend is (backend-specific tests).
    ///
    /// In Lambda mode (`TESSERA_TEST_LAMBDA`, see [`crate::lambda`]) the server is a Lambda
    /// function, unless `adjust` changed a setting only a listener applies: then the test is
    /// about `tessera serve`'s listener, which is what it gets, and it says so on its output.
    pub async fn start_on(backend: TestBackend, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = isolated_config_on(backend).await;
        adjust(&mut config.config);
        if lambda::emulator_tool().is_some() {
            let listener_settings = lambda::listener_settings(&config.config);
            if listener_settings.is_empty() {
                return Self::as_lambda_function(config, None).await;
            }
            lambda::note(&format!(
                "served by `tessera serve`, not a function: {} apply only to a listener (on Lambda, API Gateway \
                 holds the connections and each instance gets one request at a time)",
                listener_settings.join(", ")
            ));
        }
        let running = bootstrap::spawn(&config.config).await.expect("the server starts");
        Self::around(running, config)
    }

    /// The function on `config`'s storage, set up first as a deploy does (`tessera migrate`),
    /// running on `function_config` when given (the same storage made unreachable). A listener
    /// on the same storage answers [`TestServer::addr`].
    async fn as_lambda_function(config: IsolatedConfig, function_config: Option<Config>) -> Self {
        let backend = Backend::open(&config.config).await.expect("the test backend opens");
        backend.migrate().await.expect("migrations apply");
        backend.close().await;
        let function_config = function_config.as_ref().unwrap_or(&config.config);
        let function = LambdaFunction::start(&lambda::program(), function_config).await;
        let mut listener = config.config.clone();
        listener.no_migrate = true;
        let running = bootstrap::spawn(&listener).await.expect("the listener starts");
        let mut server = Self::around(running, config);
        server.base = function.base.clone();
        server.function = Some(function);
        server
    }

    /// Starts `program` — the `tessera` command line, built for tests as `tessera-under-test`
    /// (pass `env!("CARGO_BIN_EXE_tessera-under-test")`) — as an operating-system process of its
    /// own on this server's configuration: the same SQLite file, PostgreSQL database or DynamoDB
    /// table, and the same secret. A second instance of one deployment that shares nothing with
    /// this one but the storage, so a rule that holds across both holds because of the storage.
    ///
    /// In Lambda mode, a second function instance: its own process behind its own emulator.
    pub async fn another_process(&self, program: &str) -> Self {
        let config = self.config.clone();
        if self.function.is_some() {
            let function = LambdaFunction::start(program.as_ref(), &config.config).await;
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a client");
            let base = function.base.clone();
            return Self { base, client, running: None, process: None, function: Some(function), config };
        }
        let c = &config.config;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = self.command_on_this_storage(program);
        command
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--login-max-failures", &c.login_max_failures.to_string()])
            .args(["--login-window", &c.login_window.to_string()]);
        let mut child = command.spawn().expect("the test build of tessera starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a client");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("the process can be asked") {
                panic!("the second tessera process exited before serving: {status}");
            }
            let ready = client.get(format!("{base}/health/ready")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the second tessera process never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { base, client, running: None, process: Some(child), function: None, config }
    }

    /// Runs `program` (the test build of `tessera`, as for [`TestServer::another_process`]) with
    /// `args` on this server's storage and secret, as an operator would, and waits for it to end.
    pub async fn run_command(&self, program: &str, args: &[&str]) -> std::process::Output {
        let mut command = self.command_on_this_storage(program);
        command.args(args);
        command.output().await.expect("the test build of tessera runs")
    }

    /// `program` set to this server's storage (SQLite file, PostgreSQL database or DynamoDB table)
    /// and secret, logging warnings only, migrating nothing.
    fn command_on_this_storage(&self, program: &str) -> tokio::process::Command {
        let c = &self.config.config;
        let mut command = tokio::process::Command::new(program);
        command
            .args(["--storage", &format!("{:?}", c.storage).to_lowercase()])
            .args(["--dynamodb-table", &c.dynamodb_table])
            .args(["--log-format", "json"])
            .arg("--no-migrate")
            .args(crate::backend::blob_store_arguments(c))
            .env("RUST_LOG", "warn")
            .env("TESSERA_JWT_SECRET", c.jwt_secret.clone().unwrap_or_default())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(url) = &c.database_url {
            command.env("TESSERA_DATABASE_URL", url);
        }
        if let Some(endpoint) = &c.dynamodb_endpoint {
            command.env("TESSERA_DYNAMODB_ENDPOINT", endpoint);
        }
        command
    }

    /// Starts a server on `backend` whose storage was set up beforehand with the default settings,
    /// so that `adjust` may shorten the storage timeouts for a fault test without a busy machine
    /// pushing a cold backend's set-up calls past them: setting up is not what such a test is about.
    pub async fn start_set_up_on(backend: TestBackend, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = isolated_config_on(backend).await;
        adjust(&mut config.config);
        let mut set_up = config.config.clone();
        set_up.dynamodb_timeout_ms = Config::defaults().dynamodb_timeout_ms.max(10_000);
        let backend = Backend::open(&set_up).await.expect("the test backend opens");
        backend.migrate().await.expect("migrations apply");
        backend.close().await;
        config.config.no_migrate = true;
        let running = bootstrap::spawn(&config.config).await.expect("the server starts");
        Self::around(running, config)
    }

    fn around(running: Running, config: IsolatedConfig) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a client");
        let base = format!("http://{}", running.addr);
        Self { base, client, running: Some(running), process: None, function: None, config }
    }

    /// Starts a server whose storage is closed before it serves: every storage call fails as it
    /// does when the backend is unreachable.
    ///
    /// In Lambda mode, the function on a storage it cannot reach (DynamoDB and PostgreSQL at a
    /// port where nothing listens); SQLite's file cannot be taken away from another process, so
    /// there the test gets a listener, and says so.
    pub async fn start_with_storage_down() -> Self {
        let config = isolated_config().await;
        if lambda::emulator_tool().is_some() {
            match lambda::with_storage_unreachable(&config.config) {
                Some(down) => return Self::as_lambda_function(config, Some(down)).await,
                None => {
                    lambda::note("served by `tessera serve`: a SQLite file cannot be made unreachable from outside")
                }
            }
        }
        let app = App::build(&config.config, true).await.expect("the app builds");
        app.backend.close().await;
        let running = bootstrap::spawn_app(app, &config.config).await.expect("the server starts");
        Self::around(running, config)
    }

    /// The configuration this server runs with (its own database, table, …).
    pub fn config(&self) -> &bootstrap::Config {
        &self.config.config
    }

    /// The URL of this server's own database.
    pub fn database_url(&self) -> Option<String> {
        self.config.config.database_url()
    }

    /// The server's listening address. In Lambda mode there is no listener in front of the
    /// function but the emulator's (on AWS: API Gateway's); this is then the address of `tessera serve` on the same storage, and the
    /// test says so: what it does on raw connections is about that listener.
    pub fn addr(&self) -> std::net::SocketAddr {
        if self.function.is_some() {
            lambda::note("raw connections go to `tessera serve` on the same storage; the function has no listener");
        }
        self.running.as_ref().map(|r| r.addr).expect("running")
    }

    /// Asks the server to shut down (as SIGTERM does) and returns a task that ends with the server,
    /// giving how long that took.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<Duration> {
        let mut running = self.running.take().expect("running");
        let started = std::time::Instant::now();
        running.begin_stop();
        tokio::spawn(async move {
            running.stop().await.expect("a clean stop");
            started.elapsed()
        })
    }

    /// Waits until readiness is back by itself (no restart), for at most 20 s.
    pub async fn ready_again(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.get("/health/ready", None).await.status != 200 {
            assert!(std::time::Instant::now() < deadline, "readiness never came back");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("a clean stop");
        }
        if let Some(mut process) = self.process.take() {
            let _ = process.kill().await;
        }
        drop(self.function.take());
    }

    /// Sends a request; `body` as JSON when given. Every error answer is checked for the problem
    /// contract: problem+json, `status` as sent, `request_id` equal to `X-Request-Id`.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.answer(request).await
    }

    pub async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let path = response.url().path().to_owned();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let answer = Answer { status, headers, body, text };
        check_problem_contract(&answer);
        check_security_headers(&answer, &path);
        answer
    }

    /// A request with an optional `If-Match` header.
    pub async fn send_if(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(if_match) = if_match {
            request = request.header("if-match", if_match);
        }
        self.answer(request).await
    }

    /// A POST with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: Option<&str>, body: &Value, key: &str) -> Answer {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body).header("idempotency-key", key);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.answer(request).await
    }

    pub async fn create_project(&self, owner: &Session, name: &str) -> Value {
        let answer = self.post("/api/v1/projects", Some(&owner.access), json!({"name": name})).await;
        answer.expect(201);
        answer.body
    }

    /// Gives `user` the `role` in the project (as its owner).
    pub async fn share(&self, owner: &Session, project_id: &str, user: &Session, role: &str) {
        let path = format!("/api/v1/projects/{project_id}/members/{}", user.user_id);
        let answer = self.send(Method::PUT, &path, Some(&owner.access), Some(json!({"role": role}))).await;
        assert!(answer.status == 201 || answer.status == 200, "sharing failed: {}", answer.text);
    }

    pub async fn create_post(&self, author: &Session, project_id: &str, title: &str, status: &str) -> Value {
        let path = format!("/api/v1/projects/{project_id}/posts");
        let answer = self
            .post(&path, Some(&author.access), json!({"title": title, "body": "Some text.", "status": status}))
            .await;
        answer.expect(201);
        answer.body
    }

    /// Every item of a list, walking `next_cursor` (`path` has no query string of its own but `?x=`).
    pub async fn walk(&self, path: &str, token: &str, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{separator}limit={limit}");
        for _ in 0..1000 {
            let page = self.get(&next, Some(token)).await;
            page.expect(200);
            let got = page.body["items"].as_array().cloned().unwrap_or_default();
            assert!(got.len() <= limit as usize, "a page over the limit");
            items.extend(got);
            match page.body["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}{separator}limit={limit}&cursor={cursor}"),
                None => return items,
            }
        }
        panic!("the list never ends");
    }

    /// Takes one of the server's in-flight slots and keeps it: announces a body and sends none of
    /// it. The slot is held until the body deadline or until the returned connection is dropped.
    /// With `max_in_flight = 1`, every request but health and the hashing operations is then refused.
    pub async fn hold_an_in_flight_slot(&self) -> std::net::TcpStream {
        use std::io::Write;
        let head = "POST /api/v1/projects HTTP/1.1\r\nHost: tessera\r\nContent-Type: application/json\r\n\
                    Content-Length: 100\r\n\r\n";
        for _ in 0..20 {
            let mut stream = std::net::TcpStream::connect(self.addr()).expect("a connection");
            stream.write_all(head.as_bytes()).expect("the head is sent");
            // Nothing else is sent meanwhile: a request in flight when it arrives would take the slot.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.get("/api/v1/users/me", None).await.status == StatusCode::SERVICE_UNAVAILABLE {
                return stream;
            }
        }
        panic!("the in-flight slot was never taken");
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, username: &str) -> Answer {
        self.post(
            "/api/v1/auth/register",
            None,
            json!({
                "email": format!("{username}@example.com"),
                "username": username,
                "password": PASSWORD,
                "first_name": "Test",
                "last_name": username,
            }),
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Answer {
        self.post("/api/v1/auth/login", None, json!({"login": login, "password": password})).await
    }

    /// Registers `username` and logs in.
    pub async fn user(&self, username: &str) -> Session {
        let registered = self.register(username).await;
        registered.expect(201);
        self.session(registered.body["id"].as_str().unwrap_or_default(), username).await
    }

    pub async fn session(&self, user_id: &str, username: &str) -> Session {
        let login = self.login(username, PASSWORD).await;
        login.expect(200);
        Session {
            user_id: user_id.to_owned(),
            access: login.body["access_token"].as_str().unwrap_or_default().to_owned(),
            refresh: login.body["refresh_token"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// Creates an administrator the way an operator does (`tessera admin create`), and logs in.
    pub async fn admin(&self, username: &str) -> Session {
        let app = App::build(&self.config.config, false).await.expect("a second instance builds");
        let admin = app
            .auth
            .create_admin(application::auth::Registration {
                email: format!("{username}@example.com"),
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
                first_name: "Admin".into(),
                last_name: "Istrator".into(),
            })
            .await
            .expect("the admin is created");
        app.backend.close().await;
        self.session(&admin.id.to_string(), username).await
    }
}

#[track_caller]
pub(crate) fn check_problem_contract(answer: &Answer) {
    if !(answer.status.is_client_error() || answer.status.is_server_error()) {
        return;
    }
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json"),
        "error without problem+json: {}",
        answer.text
    );
    assert_eq!(answer.body["status"], answer.status.as_u16(), "problem status differs: {}", answer.text);
    for field in ["type", "title", "detail", "code", "request_id"] {
        assert!(answer.body[field].is_string(), "problem without `{field}`: {}", answer.text);
    }
    assert_eq!(
        answer.body["request_id"].as_str(),
        answer.header("x-request-id"),
        "request_id differs from X-Request-Id"
    );
    if answer.status == StatusCode::UNAUTHORIZED {
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "401 without WWW-Authenticate: Bearer");
    }
    if matches!(answer.status.as_u16(), 429 | 503) {
        assert!(answer.header("retry-after").is_some(), "{} without Retry-After", answer.status);
    }
}

/// What every `/api/v1` answer carries (OWASP REST Security Cheat Sheet), errors included; its
/// `Cache-Control` is `no-store` unless the resource says otherwise (`e2e/headers.rs` checks which).
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-frame-options", "DENY"),
];

/// Every answer of every suite under `/api/v1` is checked for [`SECURITY_HEADERS`] and a `Cache-Control`.
#[track_caller]
pub(crate) fn check_security_headers(answer: &Answer, path: &str) {
    if !path.starts_with("/api/v1") {
        return;
    }
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(answer.header(name), Some(value), "{} on {path} without {name}: {value}", answer.status);
    }
    assert!(answer.header("cache-control").is_some(), "{} on {path} without Cache-Control", answer.status);
}
