//! Composition: builds every adapter and service from the configuration, and runs the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use application::auth::{AuthDeps, AuthService, AuthSettings};
use application::files::{FileService, FileSettings, DOWNLOAD_URL_TTL, UPLOAD_URL_TTL};
use application::health::HealthService;
use application::idempotency::{Retries, RetrySettings};
use application::login_limit::LoginLimit;
use application::members::MemberService;
use application::ports::CursorCodec;
use application::posts::PostService;
use application::projects::ProjectService;
use application::sweep::{SweepService, SweepSettings};
use application::users::{UserDeps, UserService};
use application::workspace::WorkspaceDeps;
use tessera_http::{HttpServices, HttpSettings, Lifecycle, MetricsRender};
use tessera_lambda::Function;
use tessera_security::{Argon2Hasher, HashingLimits, HmacCursorCodec, JwtTokenIssuer};

use crate::backend::Backend;
use crate::config::Config;
use crate::lambda::Upkeep;
use crate::secret::server_key;
use crate::sweeping::sweep_periodically;
use crate::system::{SystemClock, UuidV7Ids};
use crate::telemetry::prometheus;
use crate::BootError;

/// Everything a running instance needs, built and wired.
pub struct App {
    pub backend: Backend,
    pub auth: AuthService,
    pub users: UserService,
    pub sweep: SweepService,
    sweep_interval: Duration,
    services: HttpServices,
    settings: HttpSettings,
}

impl App {
    /// Opens the storage (migrating it unless told not to) and builds every service.
    pub async fn build(config: &Config, migrate: bool) -> Result<Self, BootError> {
        let backend = Backend::open(config).await?;
        if migrate {
            backend.migrate().await?;
        }
        let key = server_key(config).await?;
        let storage = backend.storage();
        let clock = Arc::new(SystemClock);
        let limits = HashingLimits::new(config.hash_concurrency, config.hash_queue);
        let hasher = Arc::new(Argon2Hasher::new(limits).map_err(|e| BootError::Config(e.to_string()))?);
        let access_ttl = time::Duration::seconds(i64::from(config.access_token_ttl));
        let login_limit = LoginLimit {
            max_failures: config.login_max_failures,
            window: time::Duration::seconds(i64::from(config.login_window)),
        };
        let auth = AuthService::new(
            AuthDeps {
                storage: storage.clone(),
                hasher: hasher.clone(),
                tokens: Arc::new(JwtTokenIssuer::new(&key, access_ttl)),
                clock: clock.clone(),
                ids: Arc::new(UuidV7Ids),
            },
            AuthSettings {
                refresh_ttl: time::Duration::seconds(i64::from(config.refresh_token_ttl)),
                session_max_age: time::Duration::seconds(i64::from(config.session_max_age)),
                login_limit,
            },
        );
        let blobs = crate::blobs::open(config).await?;
        if config.files_redirect && !blobs.presigns() {
            return Err(BootError::Config(
                "--files-redirect needs a blob store that presigns URLs (--blob-store s3); the fs store has none"
                    .into(),
            ));
        }
        let sweep_settings = SweepSettings {
            blob_grace: time::Duration::seconds(i64::from(config.orphan_blob_grace)),
            ..SweepSettings::default()
        };
        let sweep = SweepService::new(storage.clone(), clock.clone(), sweep_settings).with_blobs(blobs.clone());
        let cursors: Arc<dyn CursorCodec> = Arc::new(HmacCursorCodec::new(&key));
        let users = UserService::new(
            UserDeps { storage: storage.clone(), hasher, clock: clock.clone(), cursors: cursors.clone() },
            login_limit,
        );
        let request_timeout = Duration::from_millis(config.request_timeout_ms);
        let retries = Retries::new(
            storage.clone(),
            clock.clone(),
            Arc::new(UuidV7Ids),
            RetrySettings { lease: idempotency_lease(request_timeout), ..RetrySettings::default() },
        );
        let workspace = WorkspaceDeps { storage: storage.clone(), clock, ids: Arc::new(UuidV7Ids), cursors };
        let metrics = prometheus();
        let services = HttpServices {
            auth: auth.clone(),
            users: users.clone(),
            projects: ProjectService::new(workspace.clone()),
            members: MemberService::new(workspace.clone()),
            posts: PostService::new(workspace.clone()),
            files: FileService::new(
                workspace,
                blobs,
                FileSettings {
                    max_bytes: config.file_max_bytes,
                    project_quota: config.project_storage_quota,
                    redirect: config.files_redirect,
                    download_url_ttl: DOWNLOAD_URL_TTL,
                    upload_url_ttl: UPLOAD_URL_TTL,
                },
            ),
            health: HealthService::new(storage),
            metrics: MetricsRender(Arc::new(move || metrics.render())),
            retries,
        };
        let settings = HttpSettings {
            body_limit: config.body_limit,
            max_in_flight: config.max_in_flight,
            // The hasher bounds its own queue too; the edge sheds at the same bound earlier,
            // before a refused request reads its body or touches storage.
            hashing_lane: limits.admitted(),
            max_uploads: usize::try_from(config.max_uploads).unwrap_or(usize::MAX),
            upload_timeout: Duration::from_millis(config.upload_timeout_ms),
            max_connections: config.max_connections,
            request_timeout,
            drain_delay: Duration::from_millis(config.shutdown_drain_ms),
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            head_timeout: Duration::from_millis(config.header_timeout_ms),
            body_timeout: Duration::from_millis(config.body_timeout_ms),
        };
        let sweep_interval = Duration::from_secs(u64::from(config.sweep_interval));
        Ok(Self { backend, auth, users, sweep, sweep_interval, services, settings })
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests for at most `grace`.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
        grace: Duration,
    ) -> Result<(), BootError> {
        let upkeep = tokio::spawn(upkeep_metrics());
        let sweeping = tokio::spawn(sweep_periodically(self.sweep, self.sweep_interval));
        let result = tessera_http::serve(listener, self.services, self.settings, shutdown, grace)
            .await
            .map_err(|e| BootError::Io(e.to_string()));
        upkeep.abort();
        sweeping.abort();
        self.backend.close().await;
        result
    }
}

impl App {
    /// Serves invocations of the Lambda runtime until it goes away (see [`crate::lambda`]).
    pub async fn serve_lambda(self) -> Result<(), BootError> {
        tokio::spawn(upkeep_metrics());
        self.lambda_function().run().await.map_err(|e| BootError::Io(e.to_string()))
    }

    /// The app as a Lambda function: HTTP events to the same app [`App::serve`] serves,
    /// scheduled events to the sweep.
    pub fn lambda_function(self) -> Function<impl tessera_lambda::Endpoint> {
        let settings = tessera_lambda::Settings {
            request_id_header: Some(tessera_http::REQUEST_ID_HEADER),
            request_timeout: self.settings.request_timeout,
        };
        let endpoint = tessera_http::app(self.services, self.settings, Lifecycle::default());
        let upkeep = Upkeep { sweep: self.sweep, backend: self.backend };
        Function::new(endpoint, Arc::new(upkeep), settings)
    }
}

/// The Prometheus recorder needs periodic upkeep to bound histogram memory.
async fn upkeep_metrics() {
    let handle = prometheus();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// A server running in the background (tests, embedding).
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), BootError>>,
}

impl Running {
    /// Asks for a shutdown (as SIGTERM does) without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks for a shutdown, then waits for in-flight requests to finish and the server to end.
    pub async fn stop(mut self) -> Result<(), BootError> {
        self.begin_stop();
        (&mut self.task).await.map_err(|e| BootError::Io(e.to_string()))?
    }
}

/// Builds the app from `config` (migrating unless `no_migrate`) and serves it on `config.listen`
/// (port 0 picks a free port) in the background.
pub async fn spawn(config: &Config) -> Result<Running, BootError> {
    let app = App::build(config, !config.no_migrate).await?;
    spawn_app(app, config).await
}

/// Serves an already built `app` on `config.listen` in the background.
pub async fn spawn_app(app: App, config: &Config) -> Result<Running, BootError> {
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| BootError::Io(e.to_string()))?;
    let addr = listener.local_addr().map_err(|e| BootError::Io(e.to_string()))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_secs(config.shutdown_grace);
    let task = tokio::spawn(app.serve(
        listener,
        async move {
            let _ = stopped.await;
        },
        grace,
    ));
    Ok(Running { addr, stop: Some(stop), task })
}

/// How long a keyed request's claim keeps retries out. The edge abandons a request at its
/// timeout, so a live holder never needs more (plus a second for clocks read at different
/// moments). Correctness does not rest on it: a holder that outlives its lease fails its
/// conditional write of the answer, and so its whole transaction.
fn idempotency_lease(request_timeout: Duration) -> time::Duration {
    let margin = Duration::from_secs(1);
    time::Duration::try_from(request_timeout + margin).unwrap_or(time::Duration::minutes(1))
}
