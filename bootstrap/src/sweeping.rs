//! The periodic sweep of `serve`: the first run shortly after the start, then one every
//! `--sweep-interval`, each delay jittered so that instances started together do not sweep in
//! step. A failed sweep is logged and the next one tries again; it never stops the server.

use std::time::Duration;

use application::sweep::SweepService;
use application::ErrorChain;
use rand::Rng;

/// The wait before the first sweep: long enough for a start-up's own traffic, short enough that
/// an instance restarted often still sweeps.
const FIRST_AFTER: Duration = Duration::from_secs(10);

/// Sweeps forever; the caller aborts the task when the server stops.
pub async fn sweep_periodically(sweep: SweepService, interval: Duration) {
    tokio::time::sleep(first_delay(interval)).await;
    loop {
        match sweep.run().await {
            Ok(swept) => tracing::info!(
                refresh_tokens = swept.refresh_tokens,
                refresh_chains = swept.refresh_chains,
                login_attempts = swept.login_attempts,
                idempotency_records = swept.idempotency_records,
                orphan_blobs = swept.orphan_blobs,
                "swept expired records"
            ),
            Err(err) => tracing::warn!(error = %ErrorChain(&err), "the sweep failed; the next one tries again"),
        }
        tokio::time::sleep(jittered(interval)).await;
    }
}

/// `FIRST_AFTER` plus up to 50 s more, never later than one interval.
fn first_delay(interval: Duration) -> Duration {
    let spread = rand::thread_rng().gen_range(0..=50_000);
    (FIRST_AFTER + Duration::from_millis(spread)).min(interval)
}

/// `interval` give or take a tenth.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_their_bounds() {
        let hour = Duration::from_secs(3600);
        for _ in 0..1000 {
            let first = first_delay(hour);
            assert!((FIRST_AFTER..=Duration::from_secs(60)).contains(&first), "{first:?}");
            let next = jittered(hour);
            assert!((Duration::from_secs(3240)..=Duration::from_secs(3960)).contains(&next), "{next:?}");
        }
        assert_eq!(first_delay(Duration::from_secs(2)), Duration::from_secs(2), "never later than one interval");
    }
}
