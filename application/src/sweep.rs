//! The sweep (DESIGN.md, "State that must be shared by every instance"): purges the refresh
//! tokens and chains that can no longer serve, the login-attempt windows that ended and the
//! idempotency records past their 24 hours, so that storage does not grow with every login,
//! every guessed name and every keyed request. `serve` runs it periodically
//! and `tessera sweep` on demand; several instances sweeping at once only repeat each other.

use std::sync::Arc;

use time::Duration;

use crate::errors::AppError;
use crate::ports::{Clock, Storage};

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub refresh_tokens: u64,
    pub refresh_chains: u64,
    pub login_attempts: u64,
    pub idempotency_records: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepSettings {
    /// Rows removed per storage call at most: each call is one short write.
    pub batch: u32,
    /// How long past its expiry a record is kept. Every read compares times itself, so this costs
    /// nothing; it keeps a sweep on an instance whose clock runs ahead from removing a token that
    /// a refresh elsewhere is spending at that very moment (a vanished token reads as reuse).
    pub grace: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self { batch: 500, grace: Duration::minutes(1) }
    }
}

#[derive(Clone)]
pub struct SweepService {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    settings: SweepSettings,
}

impl SweepService {
    pub fn new(storage: Arc<dyn Storage>, clock: Arc<dyn Clock>, settings: SweepSettings) -> Self {
        Self { storage, clock, settings }
    }

    /// Removes everything that expired (`grace` ago), batch after batch until a batch comes back
    /// short, then the ended login-attempt windows, then the expired idempotency records batch
    /// after batch. A failure stops the sweep where it is: what
    /// was removed stays removed, and the next sweep goes on from there.
    pub async fn run(&self) -> Result<Swept, AppError> {
        let now = self.clock.now() - self.settings.grace;
        let limit = self.settings.batch.max(1);
        let mut swept = Swept::default();
        loop {
            let batch = self.storage.expired_sessions().sweep(now, limit).await?;
            swept.refresh_tokens += batch.tokens;
            swept.refresh_chains += batch.chains;
            if batch.tokens < u64::from(limit) && batch.chains < u64::from(limit) {
                break;
            }
        }
        swept.login_attempts = self.storage.login_attempts().sweep(now).await?;
        loop {
            let removed = self.storage.idempotency().sweep(now, limit).await?;
            swept.idempotency_records += removed;
            if removed < u64::from(limit) {
                break;
            }
        }
        Ok(swept)
    }
}

#[cfg(test)]
#[path = "sweep_tests.rs"]
mod tests;
