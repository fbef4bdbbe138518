//! Failed-login rate limiting per login name (API.md: 10 failures in 15 minutes, then 429 until
//! the window passes). The state lives in the process: with several instances behind a balancer
//! each counts on its own, so the effective limit is the per-instance limit times the instances.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

#[cfg_attr(test, mockall::automock)]
pub trait LoginThrottle: Send + Sync {
    /// `Err(seconds)` when `login` is blocked at `now`, with the seconds until it is not.
    fn check(&self, login: &str, now: OffsetDateTime) -> Result<(), u64>;

    fn record_failure(&self, login: &str, now: OffsetDateTime);
}

/// Sliding-window counter of failures per login name, bounded in memory.
pub struct InMemoryLoginThrottle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

/// Above this many tracked names, expired entries are swept; a flood of distinct names cannot
/// grow the map without bound for longer than one window.
const SWEEP_ABOVE: usize = 10_000;

impl InMemoryLoginThrottle {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    fn prune(times: &mut VecDeque<OffsetDateTime>, cutoff: OffsetDateTime) {
        while times.front().is_some_and(|t| *t <= cutoff) {
            times.pop_front();
        }
    }
}

impl LoginThrottle for InMemoryLoginThrottle {
    fn check(&self, login: &str, now: OffsetDateTime) -> Result<(), u64> {
        let cutoff = now - self.window;
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(login) else {
            return Ok(());
        };
        Self::prune(times, cutoff);
        if times.len() < self.max_failures {
            return Ok(());
        }
        // Blocked until enough failures leave the window to let one more attempt in.
        let unblocks_at = times[times.len() - self.max_failures] + self.window;
        let secs = (unblocks_at - now).whole_seconds().max(0) as u64;
        Err(secs.max(1))
    }

    fn record_failure(&self, login: &str, now: OffsetDateTime) {
        let cutoff = now - self.window;
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, times| {
                Self::prune(times, cutoff);
                !times.is_empty()
            });
        }
        let times = map.entry(login.to_owned()).or_default();
        Self::prune(times, cutoff);
        times.push_back(now);
        // Only the newest `max_failures` matter for blocking.
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let throttle = InMemoryLoginThrottle::new(3, Duration::minutes(15));
        let t0 = datetime!(2026-11-22 10:00 UTC);
        for i in 0..3 {
            assert_eq!(throttle.check("ada", t0 + Duration::minutes(i)), Ok(()));
            throttle.record_failure("ada", t0 + Duration::minutes(i));
        }
        // The oldest failure (t0) leaves the window at t0 + 15 min.
        assert_eq!(throttle.check("ada", t0 + Duration::minutes(5)), Err(600));
        assert_eq!(throttle.check("bob", t0 + Duration::minutes(5)), Ok(()));
        assert_eq!(throttle.check("ada", t0 + Duration::minutes(15)), Ok(()));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let throttle = InMemoryLoginThrottle::new(1, Duration::seconds(10));
        let t0 = datetime!(2026-11-22 10:00 UTC);
        throttle.record_failure("ada", t0);
        assert_eq!(throttle.check("ada", t0 + Duration::milliseconds(9_999)), Err(1));
    }

    #[test]
    fn many_distinct_names_are_swept_once_expired() {
        let throttle = InMemoryLoginThrottle::new(10, Duration::minutes(1));
        let t0 = datetime!(2026-11-22 10:00 UTC);
        for i in 0..=SWEEP_ABOVE {
            throttle.record_failure(&format!("user{i}"), t0);
        }
        throttle.record_failure("late", t0 + Duration::minutes(2));
        let size = throttle.failures.lock().map(|m| m.len()).unwrap_or_default();
        assert_eq!(size, 1);
    }
}
