//! The client, table set-up, and handing out units of work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use application::ports::{
    ExpiredSessions, IdempotencyRecords, LoginAttempts, RecordScan, SessionsSwept, Storage, UnitOfWork,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use domain::StorageError;
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::errors::sdk_error;
use crate::keys::Key;
use crate::table::Table;
use crate::unit_of_work::DynamoUnit;

#[derive(Debug, Clone)]
pub struct DynamoSettings {
    pub table: String,
    /// Longest one call may take, retries included; past it the request gets 503.
    pub operation_timeout: Duration,
    /// Longest one attempt of a call may take before the SDK retries it.
    pub attempt_timeout: Duration,
    /// Overrides the standard chain's endpoint (DynamoDB Local).
    pub endpoint: Option<String>,
    /// Units of work open at once; more wait (up to `acquire_timeout`). A unit sends its calls
    /// one after another, so this bounds the connections the SDK keeps to DynamoDB — each
    /// holds a read buffer grown by the largest answer it carried (RESULTS.md "Speed" 9) — as a
    /// pool's size does on SQL.
    pub max_units: u32,
    /// Longest wait for a unit of work: past it the storage is unavailable (503).
    pub acquire_timeout: Duration,
    /// Remove a deleted project's items right after the deciding commit (always, in service).
    /// Off, the items stay until the next `migrate`, as when a process stops half-way: tests use
    /// this to prove that `migrate` finishes such deletions.
    pub finish_deletions: bool,
}

impl DynamoSettings {
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            operation_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(2),
            endpoint: None,
            max_units: 32,
            acquire_timeout: Duration::from_secs(5),
            finish_deletions: true,
        }
    }
}

#[derive(Clone)]
pub struct DynamoStorage {
    table: Table,
    /// Set by `close`: like a closed SQL pool, a closed storage hands out no more units.
    closed: Arc<AtomicBool>,
    /// One permit per unit of work open (`DynamoSettings::max_units`).
    units: Arc<Semaphore>,
    acquire_timeout: Duration,
}

/// Logs every attempt the SDK sends (retries included) under the target `tessera::dynamodb`,
/// so tests can count the calls a request costs.
#[derive(Debug)]
struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "tessera-call-log"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let call = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        tracing::debug!(target: "tessera::dynamodb", call = call.as_str(), "dynamodb call");
        Ok(())
    }
}

impl DynamoStorage {
    /// Builds the client from the standard AWS chain (`AWS_REGION`, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB` …). Nothing is sent yet: Tessera starts while DynamoDB is
    /// unreachable and answers 503 until it is back.
    pub async fn connect(settings: &DynamoSettings) -> Result<Self, StorageError> {
        let shared = aws_support::shared_config(settings.attempt_timeout, settings.operation_timeout)
            .await
            .map_err(|reason| StorageError::backend(format!("DynamoDB: {reason}")))?;
        let mut config = aws_sdk_dynamodb::config::Builder::from(&shared).interceptor(CallLog);
        // Set on the service's own configuration, it wins over AWS_ENDPOINT_URL_DYNAMODB.
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let config = config.build();
        let table = Table {
            client: Client::from_conf(config),
            name: Arc::from(settings.table.as_str()),
            finish_deletions: settings.finish_deletions,
        };
        let units = usize::try_from(settings.max_units.max(1)).unwrap_or(Semaphore::MAX_PERMITS);
        Ok(Self {
            table,
            closed: Arc::new(AtomicBool::new(false)),
            units: Arc::new(Semaphore::new(units.min(Semaphore::MAX_PERMITS))),
            acquire_timeout: settings.acquire_timeout,
        })
    }

    /// Creates the table, its indexes and the TTL setting if absent (safe when several
    /// instances start at once), then finishes project deletions a stopped process left.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        crate::setup::ensure_table(&self.table).await?;
        crate::deletion::resume(&self.table).await
    }

    /// Finishes project deletions a stopped process left, without touching the table's set-up
    /// (on Lambda a scheduled event does it, and nothing migrates outside the deploy).
    pub async fn finish_deletions(&self) -> Result<(), StorageError> {
        crate::deletion::resume(self.open()?).await
    }

    /// Stops handing out units of work (the client keeps no connections worth closing).
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.units.close();
    }

    /// A unit of work on the table, once fewer than `max_units` are open (within the acquire timeout).
    async fn unit(&self, writable: bool) -> Result<DynamoUnit, StorageError> {
        let table = self.open()?.clone();
        let permit: OwnedSemaphorePermit =
            match tokio::time::timeout(self.acquire_timeout, self.units.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => return Err(StorageError::unavailable("the storage is closed")),
                Err(_) => return Err(StorageError::unavailable("no dynamodb unit of work within the acquire timeout")),
            };
        Ok(DynamoUnit::new(table, writable, permit))
    }

    pub(crate) fn open(&self) -> Result<&Table, StorageError> {
        if self.closed.load(Ordering::SeqCst) {
            Err(StorageError::unavailable("the storage is closed"))
        } else {
            Ok(&self.table)
        }
    }
}

#[async_trait]
impl Storage for DynamoStorage {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        Ok(Box::new(self.unit(true).await?))
    }

    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        Ok(Box::new(self.unit(false).await?))
    }

    /// One eventually consistent GetItem of a key no item has: it proves the endpoint answers,
    /// the credentials work and the table exists, at half a read unit.
    async fn ping(&self) -> Result<(), StorageError> {
        let table = self.open()?;
        let probe = Key { pk: "HEALTH".into(), sk: "HEALTH".into() };
        table.client.get_item().table_name(&*table.name).set_key(Some(probe.item())).send().await.map(drop).map_err(
            |e| match sdk_error("GetItem", e) {
                StorageError::Backend { context, source } => StorageError::Unavailable { context, source },
                other => other,
            },
        )
    }

    fn login_attempts(&self) -> &dyn LoginAttempts {
        self
    }

    fn expired_sessions(&self) -> &dyn ExpiredSessions {
        self
    }

    fn idempotency(&self) -> &dyn IdempotencyRecords {
        self
    }

    fn export(&self) -> &dyn RecordScan {
        self
    }
}

#[async_trait]
impl ExpiredSessions for DynamoStorage {
    /// DynamoDB's TTL removes tokens past `expires_at` and chains past `ends_at` (both carry
    /// `expires_at_s`), lazily but without a Scan of the whole table, which is what finding them
    /// here would take: nothing to do. A revoked chain waits for its end; nothing reads it as live.
    async fn sweep(&self, _now: OffsetDateTime, _limit: u32) -> Result<SessionsSwept, StorageError> {
        self.open()?;
        Ok(SessionsSwept::default())
    }
}
