//! The brute-force limit of API.md: at most `max_failures` password checks per account (or per
//! unknown login name) in a window, each counted in storage *before* the check, so however many
//! guesses arrive at once, at most `max_failures` are checked.

use domain::login_attempts::AttemptKey;
use time::{Duration, OffsetDateTime};

use crate::errors::AppError;
use crate::ports::Storage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    /// Password checks a window may hold; the next attempt in it gets 429.
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    /// API.md's numbers: 10 failures in 15 minutes.
    fn default() -> Self {
        Self { max_failures: 10, window: Duration::minutes(15) }
    }
}

impl LoginLimit {
    /// Counts one password check for `key` at `now`. Over the limit it is `TooManyRequests`
    /// until the window ends, the right password included. The count stands as a failure unless
    /// the check succeeds and the caller clears it. A storage that cannot count fails the attempt
    /// (503): an unreachable limiter is never an absent one.
    pub(crate) async fn count_attempt(
        &self,
        storage: &dyn Storage,
        key: &AttemptKey,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let reservation = storage.login_attempts().reserve(key, now, self.window).await?;
        if reservation.failures > self.max_failures {
            return Err(AppError::TooManyRequests { retry_after_secs: reservation.retry_after_secs(now, self.window) });
        }
        Ok(())
    }
}
