//! Idempotent retries (API.md, "Idempotent retries"; DESIGN.md, "Idempotency").
//!
//! A request with a key first claims its record (atomic insert-if-absent with a lease), then runs.
//! A use case with an effect writes its answer in the effect's own unit of work through
//! [`Retry::record`], so the effect and its stored answer commit together or not at all; an answer
//! with no effect (an error, or a success that wrote nothing) is stored afterwards by
//! [`Retries::store`]. Answers that must not be stored (`429`, `503`, a claim in use) release the
//! claim, so that a retry runs the operation. A claim whose holder died lapses with its lease.
//!
//! The HTTP adapter owns the header, the fingerprint and the encoding of answers; this module
//! owns the claim and the record.

use std::sync::Arc;

use async_trait::async_trait;
use domain::idempotency::{Answer, ClaimOutcome, ClaimRequest, Completion, Fingerprint, Holder, RecordKey, Scope};
use domain::StorageError;
use time::{Duration, OffsetDateTime};

use crate::errors::AppError;
use crate::ports::{Clock, IdGenerator, Storage, UnitOfWork};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// How long a claim keeps others out when its holder never finishes. Longer than any request
    /// may run (the request timeout), so a live holder never loses its claim to a retry.
    pub lease: Duration,
    /// How long an answer is kept (API.md: 24 hours).
    pub retention: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self { lease: Duration::seconds(60), retention: Duration::hours(24) }
    }
}

/// A request that carries an `Idempotency-Key`, as the HTTP adapter describes it.
#[derive(Debug, Clone)]
pub struct KeyedRequest {
    pub key: String,
    pub scope: Scope,
    pub fingerprint: Fingerprint,
}

/// What to do with a keyed request.
#[derive(Debug)]
pub enum Claim {
    /// Run it, holding this lease.
    Run(Lease),
    /// Answer it with what the first request answered.
    Replay(Answer),
}

/// A held claim. Finishing it is one of: [`Retry::record`] in the effect's unit of work,
/// [`Retries::store`], or [`Retries::release`]; a lease never finished lapses by itself.
#[derive(Debug, Clone)]
pub struct Lease {
    record: RecordKey,
    holder: Holder,
}

/// Renders the answer that a use case's result will be sent as; the HTTP adapter implements it.
#[async_trait]
pub trait Recorder<T: ?Sized + Sync>: Send + Sync {
    async fn answer(&self, value: &T) -> Answer;
}

/// Handed to a use case with an effect: its answer, to write beside the effect.
pub struct Retry<T: ?Sized + Sync> {
    retries: Retries,
    lease: Lease,
    recorder: Arc<dyn Recorder<T>>,
}

impl<T: ?Sized + Sync> Retry<T> {
    /// Writes the answer for `value` into `uow`, before its commit.
    pub async fn record(&self, uow: &mut dyn UnitOfWork, value: &T) -> Result<(), StorageError> {
        let answer = self.recorder.answer(value).await;
        uow.idempotency().store(&self.retries.completion(&self.lease, answer)).await
    }
}

/// Records `value`'s answer in `uow` when the request carries a key: the one line a use case with
/// an effect adds before its commit.
pub async fn record<T: ?Sized + Sync>(
    retry: Option<&Retry<T>>,
    uow: &mut dyn UnitOfWork,
    value: &T,
) -> Result<(), StorageError> {
    match retry {
        Some(retry) => retry.record(uow, value).await,
        None => Ok(()),
    }
}

#[derive(Clone)]
pub struct Retries {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    settings: RetrySettings,
}

impl Retries {
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        settings: RetrySettings,
    ) -> Self {
        Self { storage, clock, ids, settings }
    }

    /// Claims the request's record: run it, replay the stored answer, or refuse it — `409` while
    /// another request holds the key, `422` when the key came with another request.
    pub async fn claim(&self, request: &KeyedRequest) -> Result<Claim, AppError> {
        let now = self.clock.now();
        let record = RecordKey::new(request.scope, &request.key, &request.fingerprint);
        let holder = Holder(self.ids.new_id());
        let claim = ClaimRequest {
            record: record.clone(),
            fingerprint: request.fingerprint,
            holder,
            now,
            lease_ends: now + self.settings.lease,
            expires_at: now + self.settings.retention,
        };
        match self.storage.idempotency().claim(&claim).await? {
            ClaimOutcome::Granted => Ok(Claim::Run(Lease { record, holder })),
            ClaimOutcome::Completed { fingerprint, answer } if fingerprint == request.fingerprint => {
                Ok(Claim::Replay(answer))
            }
            ClaimOutcome::InProgress { fingerprint, lease_ends } if fingerprint == request.fingerprint => {
                Err(AppError::IdempotencyKeyInUse { retry_after_secs: seconds_until(now, lease_ends) })
            }
            ClaimOutcome::Completed { .. } | ClaimOutcome::InProgress { .. } => Err(AppError::IdempotencyKeyReused),
        }
    }

    /// The handle a use case records its answer through.
    pub fn retry<T: ?Sized + Sync>(&self, lease: &Lease, recorder: Arc<dyn Recorder<T>>) -> Retry<T> {
        Retry { retries: self.clone(), lease: lease.clone(), recorder }
    }

    /// Stores the answer of a request that committed no effect (nothing to write it with). A
    /// claim lost meanwhile stores nothing: the request that took it over answers for the key.
    pub async fn store(&self, lease: &Lease, answer: Answer) -> Result<(), AppError> {
        self.storage.idempotency().complete(&self.completion(lease, answer)).await?;
        Ok(())
    }

    /// Gives the key up, so that a retry runs the operation (an answer that is not stored).
    pub async fn release(&self, lease: &Lease) -> Result<(), AppError> {
        self.storage.idempotency().release(&lease.record, lease.holder).await?;
        Ok(())
    }

    fn completion(&self, lease: &Lease, answer: Answer) -> Completion {
        Completion {
            record: lease.record.clone(),
            holder: lease.holder,
            answer,
            expires_at: self.clock.now() + self.settings.retention,
        }
    }
}

/// Whether the answer to `err` is stored for its key (API.md: `429`, `503` and `409
/// idempotency_key_in_use` are not; retrying them runs the operation). Every other outcome is
/// final for the key, errors included.
pub fn is_stored(err: &AppError) -> bool {
    !matches!(
        err,
        AppError::TooManyRequests { .. }
            | AppError::Unavailable
            | AppError::Overloaded
            | AppError::IdempotencyKeyInUse { .. }
    )
}

/// Whole seconds until `until`, rounded up, at least 1: a `Retry-After`.
fn seconds_until(now: OffsetDateTime, until: OffsetDateTime) -> u64 {
    let millis = u64::try_from((until - now).whole_milliseconds()).unwrap_or(0);
    millis.div_ceil(1000).max(1)
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
