//! Load for fault, overload and shutdown tests: workers sending requests in a loop while the test
//! does something to the server or its storage, every answer recorded with how long it took.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// One request of the load: `status` is 0 when no answer came (`error` says why).
#[derive(Debug, Clone)]
pub struct Sent {
    pub worker: usize,
    pub n: usize,
    pub status: u16,
    pub error: Option<String>,
    pub took: Duration,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    /// Answers (or failures) recorded so far, by every worker.
    answered: Arc<AtomicUsize>,
    workers: Vec<JoinHandle<Vec<Sent>>>,
}

impl Load {
    /// `count` workers; worker `i` sends `request(i, n)` for n = 1, 2, … until [`Load::finish`].
    pub fn start<R>(count: usize, request: R) -> Self
    where
        R: Fn(usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        Self::start_with(count, move |i, n| status(request(i, n)))
    }

    /// Like [`Load::start`] for workers that do more than send one request (keep state between
    /// requests, read the answer): `step(i, n)` resolves to the status it got.
    pub fn start_with<S, F>(count: usize, step: S) -> Self
    where
        S: Fn(usize, usize) -> F + Send + Sync + 'static,
        F: Future<Output = Result<u16, String>> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let step = Arc::new(step);
        let workers = (0..count)
            .map(|worker| {
                let (stop, step, answered) = (stop.clone(), step.clone(), answered.clone());
                tokio::spawn(async move {
                    let mut sent = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let started = Instant::now();
                        let (status, error) = match step(worker, n).await {
                            Ok(status) => (status, None),
                            Err(e) => (0, Some(e)),
                        };
                        sent.push(Sent { worker, n, status, error, took: started.elapsed() });
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    sent
                })
            })
            .collect();
        Load { stop, answered, workers }
    }

    /// Waits until the workers have had `count` answers in all, so that what the test does next
    /// happens under load however slow the machine is (a fixed sleep does not promise that).
    pub async fn wait_for_answers(&self, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.answered.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "the load had fewer than {count} answers after {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the workers after their request in flight and returns every answer.
    pub async fn finish(self) -> Answers {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for worker in self.workers {
            all.extend(worker.await.expect("a load worker panicked"));
        }
        Answers(all)
    }
}

/// Sends `request` and gives the status of its answer.
pub async fn status(request: reqwest::RequestBuilder) -> Result<u16, String> {
    request.send().await.map(|r| r.status().as_u16()).map_err(|e| e.to_string())
}

/// Everything a load sent.
#[derive(Debug)]
pub struct Answers(pub Vec<Sent>);

impl Answers {
    /// Asserts that every answer has one of `statuses`.
    #[track_caller]
    pub fn assert_only(&self, statuses: &[u16]) {
        let unexpected: Vec<_> = self.0.iter().filter(|s| !statuses.contains(&s.status)).collect();
        assert!(
            unexpected.is_empty(),
            "{} of {} answers were not {statuses:?}: {:?}",
            unexpected.len(),
            self.0.len(),
            &unexpected[..unexpected.len().min(5)]
        );
    }

    pub fn count(&self, status: u16) -> usize {
        self.0.iter().filter(|s| s.status == status).count()
    }

    pub fn slowest(&self) -> Duration {
        self.0.iter().map(|s| s.took).max().unwrap_or_default()
    }

    /// Asserts that the fault was felt (some 503s), that nothing else went wrong, and that no
    /// answer took longer than `limit`.
    #[track_caller]
    pub fn assert_faults_felt(&self, successes: &[u16], limit: Duration) {
        let allowed: Vec<u16> = successes.iter().copied().chain([503]).collect();
        self.assert_only(&allowed);
        assert!(self.count(503) > 0, "the faults were felt: {} answers, none 503", self.0.len());
        let slowest = self.slowest();
        assert!(slowest < limit, "no answer hung past the timeout: {slowest:?}");
        eprintln!("{} answers under the faults, {} of them 503, slowest {slowest:?}", self.0.len(), self.count(503));
    }
}
