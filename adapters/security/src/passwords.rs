//! Argon2id with OWASP's parameters (7 MiB, 5 passes, 1 lane), on `concurrency` threads of its
//! own: never on the async workers, so a login flood queues for hashing instead of taking every
//! core from the rest of the server.
//!
//! The queue is bounded and lives in the callers' futures: a hash waits for a thread's permit
//! (one per thread) inside the request that asked for it, and at most `queue` hashes wait at once;
//! the next is refused at once with [`AppError::Overloaded`]. A request dropped while it waits
//! (its client went away, its timeout passed) leaves the queue and is never hashed; work is handed
//! to a thread only with a permit, so a thread is free for it the moment it is sent.
//!
//! Argon2's memory blocks (one per hash running) are reused by the hashes that follow and given
//! back after a second without one. Letting the library allocate 19 MiB per hash (on Tokio's
//! blocking pool) made RSS grow with every login: glibc kept the freed blocks, 138 MB after 10
//! logins and 256 MB after 20 at once.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use application::ports::PasswordHasher;
use application::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use domain::users::{Password, PasswordHash};
use tokio::sync::{oneshot, Semaphore};

#[derive(Debug, Clone, Copy)]
pub struct HashingLimits {
    /// Hashes computed at the same time: the number of hashing threads.
    pub concurrency: usize,
    /// Hashes that may wait for a thread; one more is refused at once with `Overloaded`.
    pub queue: usize,
}

/// The default queue, per hashing thread: with hashes of 10–30 ms, a wait of 0.6–2 s at most. Room
/// for a burst of logins at once (API.md's brute-force rule answers 40 guesses at once with 429s,
/// not refusals) on a machine with a single hashing thread.
const QUEUE_PER_THREAD: usize = 64;

impl HashingLimits {
    /// The limits asked for, with the defaults for what is not given: half the cores (at least
    /// one; the other half keeps serving everything else), and [`QUEUE_PER_THREAD`] waiting hashes
    /// per thread.
    pub fn new(concurrency: Option<usize>, queue: Option<usize>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let concurrency = concurrency.unwrap_or(cores / 2).max(1);
        Self { concurrency, queue: queue.unwrap_or(concurrency.saturating_mul(QUEUE_PER_THREAD)) }
    }

    /// Hashes admitted at once: computing, or waiting for a thread.
    pub fn admitted(&self) -> usize {
        self.concurrency.saturating_add(self.queue).min(Semaphore::MAX_PERMITS)
    }
}

impl Default for HashingLimits {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut [Block]) + Send + 'static>;

const OUTPUT_LEN: usize = 32;

/// How long a spare memory block may stay unused before it goes back to the allocator
/// (bench/RESULTS.md, "Speed" 7).
const KEEP_MEMORY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
    jobs: SyncSender<Job>,
    /// One permit per hashing thread: a job is sent only with one, and gives it back when done.
    threads: Arc<Semaphore>,
    /// Hashes being computed or waiting for a thread (`concurrency + queue` permits).
    admitted: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the login name is unknown.
    dummy: Arc<str>,
}

/// OWASP Password Storage Cheat Sheet: m = 7 MiB, t = 5, p = 1 — one of its five configurations
/// of equal strength (the first listed is m = 19 MiB, t = 2). The smaller block is 12 MiB less
/// resident memory per hashing thread for about the same CPU time per hash. Hashes stored with
/// other parameters still verify (with memory of their own).
fn owasp_params() -> Result<Params, AppError> {
    Params::new(7 * 1024, 5, 1, Some(OUTPUT_LEN)).map_err(|e| AppError::Internal(format!("argon2 params: {e}")))
}

fn internal(what: &str) -> impl Fn(argon2::password_hash::Error) -> AppError + '_ {
    move |e| AppError::Internal(format!("{what}: {e}"))
}

/// Hashes `password` with a fresh salt into a PHC string, in `memory`.
fn hash_in(params: &Params, memory: &mut [Block], password: &[u8]) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(internal("argon2 salt"))?;
    let mut out = [0u8; OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt_bytes, &mut out, &mut memory[..params.block_count()])
        .map_err(|e| AppError::Internal(format!("argon2 hash: {e}")))?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(internal("argon2 params"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(internal("argon2 output"))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string, in `memory` when the stored parameters fit in
/// it (hashes made with other parameters still verify, with memory of their own).
fn verify_in(memory: &mut [Block], password: &[u8], phc: &str) -> Result<bool, AppError> {
    let parsed = PhcHash::new(phc).map_err(internal("stored hash unreadable"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(internal("stored hash algorithm"))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| AppError::Internal(format!("stored hash version: {e}")))?;
    let params = Params::try_from(&parsed).map_err(internal("stored hash parameters"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(AppError::Internal("stored hash without salt or output".into()));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(internal("stored hash salt"))?;
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = if params.block_count() <= memory.len() {
        argon2.hash_password_into_with_memory(password, salt_bytes, &mut out, &mut memory[..params.block_count()])
    } else {
        argon2.hash_password_into(password, salt_bytes, &mut out)
    };
    computed.map_err(|e| AppError::Internal(format!("argon2 verify: {e}")))?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).map_err(internal("argon2 output"))? == expected)
}

/// Memory blocks between hashes, and hashes running. A spare block goes back to the allocator
/// once unused for [`KEEP_MEMORY`]: a burst of logins reuses the blocks, an instance that stopped
/// seeing logins holds none (7 MiB each).
#[derive(Default)]
struct Blocks {
    /// Each with the time its last hash ended; the most recent last.
    spare: Vec<(Instant, Vec<Block>)>,
    running: usize,
}

/// Starts the hashing threads; they end with the last hasher handle. The channel holds at most
/// one job per thread: jobs are sent only with a thread's permit.
fn start_threads(count: usize, params: &Params) -> Result<(SyncSender<Job>, Arc<Mutex<Blocks>>), AppError> {
    let (jobs, queue) = sync_channel::<Job>(count);
    let queue = Arc::new(Mutex::new(queue));
    let blocks = Arc::new(Mutex::new(Blocks::default()));
    for n in 0..count {
        let (queue, blocks) = (queue.clone(), blocks.clone());
        let block_count = params.block_count();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || loop {
                // One thread waits on the queue at a time; the others wait for the lock.
                let waiting = lock(&queue);
                // A block can come back later only from a hash running now: with none running
                // and none spare, nothing is to be given back and the wait needs no deadline.
                let holding = {
                    let blocks = lock(&blocks);
                    blocks.running > 0 || !blocks.spare.is_empty()
                };
                let job = if holding {
                    waiting.recv_timeout(KEEP_MEMORY)
                } else {
                    waiting.recv().map_err(|_| RecvTimeoutError::Disconnected)
                };
                let job = match job {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => {
                        let idle = std::mem::take(&mut lock(&blocks).spare);
                        drop(waiting);
                        drop(idle);
                        continue;
                    }
                };
                // Counted before the queue is released, so that the next thread to wait on it
                // knows a block is still to come back. Spares unused for KEEP_MEMORY go too: a
                // login now and then must not keep every block of the last burst.
                let (memory, stale) = {
                    let mut blocks = lock(&blocks);
                    blocks.running += 1;
                    let memory = blocks.spare.pop().map(|(_, memory)| memory);
                    let now = Instant::now();
                    let (fresh, stale): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut blocks.spare).into_iter().partition(|(at, _)| now - *at < KEEP_MEMORY);
                    blocks.spare = fresh;
                    (memory, stale)
                };
                drop(waiting);
                drop(stale);
                let mut memory = memory.unwrap_or_else(|| vec![Block::default(); block_count]);
                // A job that panics loses its answer (its requester is told the thread died),
                // not the thread, nor the count the waiting thread relies on.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                let mut blocks = lock(&blocks);
                blocks.running -= 1;
                blocks.spare.push((Instant::now(), memory));
            })
            .map_err(|e| AppError::Internal(format!("cannot start a hashing thread: {e}")))?;
    }
    Ok((jobs, blocks))
}

/// Nothing panics while these locks are held; a poisoned one is as good as any.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Argon2Hasher {
    pub fn new(limits: HashingLimits) -> Result<Self, AppError> {
        let params = owasp_params()?;
        let concurrency = limits.concurrency.clamp(1, Semaphore::MAX_PERMITS);
        let (jobs, _) = start_threads(concurrency, &params)?;
        // Nothing else runs yet: the threads are free for this one job.
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let (reply, result) = std::sync::mpsc::channel();
        let dummy_params = params.clone();
        jobs.try_send(Box::new(move |memory| {
            let _ = reply.send(hash_in(&dummy_params, memory, &random));
        }))
        .map_err(|_| AppError::Internal("hashing threads gone".into()))?;
        let dummy = result.recv().map_err(|_| AppError::Internal("a hashing thread died".into()))??;
        Ok(Self {
            params,
            jobs,
            threads: Arc::new(Semaphore::new(concurrency)),
            admitted: Arc::new(Semaphore::new(limits.admitted())),
            dummy: dummy.into(),
        })
    }

    /// Runs `work` on a hashing thread, once one is free: `Overloaded` at once when the queue is
    /// full. Dropping the returned future before a thread is free leaves the queue: the work is
    /// never done.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _admitted = self.admitted.try_acquire().map_err(|_| AppError::Overloaded)?;
        let thread = self.threads.clone().acquire_owned().await.map_err(|_| gone())?;
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // Handed over just as its requester was dropped: nobody wants the answer.
            if !reply.is_closed() {
                let _ = reply.send(work(memory));
            }
            drop(thread);
        });
        // Cannot be full: at most one job per thread permit is ever sent.
        self.jobs.try_send(job).map_err(|_| gone())?;
        // A hash already started runs to its end even if this future is dropped now.
        result.await.map_err(|_| AppError::Internal("a hashing thread died".into()))?
    }
}

fn gone() -> AppError {
    AppError::Internal("hashing threads gone".into())
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, AppError> {
        let password = password.expose().as_bytes().to_vec();
        let params = self.params.clone();
        self.run(move |memory| hash_in(&params, memory, &password)).await.map(PasswordHash)
    }

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, AppError> {
        let password = password.as_bytes().to_vec();
        let phc = hash.0.clone();
        self.run(move |memory| verify_in(memory, &password, &phc)).await
    }

    async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let password = password.as_bytes().to_vec();
        let phc = self.dummy.clone();
        self.run(move |memory| verify_in(memory, &password, &phc)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = Argon2Hasher::new(HashingLimits::new(Some(2), None)).unwrap();
        let password = Password::parse("password", "correct horse battery").unwrap();

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hash.0.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{}", hash.0);
        assert!(hasher.verify("correct horse battery", &hash).await.unwrap());
        assert!(!hasher.verify("wrong horse battery", &hash).await.unwrap());
        assert_ne!(hasher.hash(&password).await.unwrap(), hash, "salts must differ");
    }

    /// Polls `state` until it returns `want` (the threads put blocks back just after answering).
    fn eventually(state: impl Fn() -> (usize, usize), want: (usize, usize), within: Duration) -> (usize, usize) {
        let deadline = Instant::now() + within;
        while state() != want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        state()
    }

    #[test]
    fn memory_blocks_are_reused_then_given_back_when_no_hash_comes() {
        let params = owasp_params().unwrap();
        let (jobs, blocks) = start_threads(2, &params).unwrap();
        let state = || {
            let blocks = lock(&blocks);
            (blocks.spare.len(), blocks.running)
        };
        // A job that marks its block and tells what mark it found; each waits for `go`.
        let run = |mark: u64| {
            let (reply, answer) = std::sync::mpsc::channel();
            let (go, gate) = std::sync::mpsc::channel::<()>();
            jobs.try_send(Box::new(move |memory: &mut [Block]| {
                let _ = gate.recv();
                let found = memory[0].as_mut()[0];
                memory[0].as_mut()[0] = mark;
                reply.send((found, memory.len())).unwrap();
            }))
            .unwrap();
            (go, answer)
        };

        // Two hashes at once: two blocks, both kept afterwards.
        let (first, second) = (run(1), run(2));
        let _ = (first.0.send(()), second.0.send(()));
        assert_eq!(first.1.recv().unwrap(), (0, params.block_count()));
        assert_eq!(second.1.recv().unwrap(), (0, params.block_count()));
        assert_eq!(eventually(state, (2, 0), Duration::from_secs(2)), (2, 0), "both blocks kept");
        // The next hash gets one of them, as it was left.
        let (go, answer) = run(3);
        let _ = go.send(());
        assert!(matches!(answer.recv().unwrap().0, 1 | 2), "a block of the burst is reused");

        // Nothing for a while: every block goes back; the next hash gets a fresh one.
        assert_eq!(eventually(state, (0, 0), KEEP_MEMORY * 5), (0, 0), "no block kept once no hash came");
        let (go, answer) = run(4);
        let _ = go.send(());
        assert_eq!(answer.recv().unwrap().0, 0);
    }

    #[test]
    fn a_hashing_thread_outlives_a_job_that_panics() {
        let params = owasp_params().unwrap();
        let (jobs, blocks) = start_threads(1, &params).unwrap();
        jobs.try_send(Box::new(|_: &mut [Block]| panic!("a job that fails"))).unwrap();
        let (reply, answer) = std::sync::mpsc::channel();
        jobs.send(Box::new(move |memory: &mut [Block]| reply.send(memory.len()).unwrap())).unwrap();
        assert_eq!(answer.recv_timeout(Duration::from_secs(10)).unwrap(), params.block_count());
        let state = || {
            let blocks = lock(&blocks);
            (blocks.spare.len(), blocks.running)
        };
        assert_eq!(eventually(state, (0, 0), KEEP_MEMORY * 5), (0, 0), "the count came back to zero");
    }

    #[tokio::test]
    async fn hashes_agree_with_the_reference_implementation_both_ways() {
        let hasher = Argon2Hasher::new(HashingLimits::new(Some(1), None)).unwrap();
        let ours = hasher.hash(&Password::parse("password", "correct horse battery").unwrap()).await.unwrap();
        let reference = Argon2::default();
        assert!(reference.verify_password(b"correct horse battery", &PhcHash::new(&ours.0).unwrap()).is_ok());

        let theirs =
            reference.hash_password(b"another password", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        assert!(hasher.verify("another password", &PasswordHash(theirs.clone())).await.unwrap());
        assert!(!hasher.verify("not the password", &PasswordHash(theirs)).await.unwrap());
        for (m, t) in [(32 * 1024, 3), (19 * 1024, 2)] {
            let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, 1, None).unwrap())
                .hash_password(b"pw", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            assert!(hasher.verify("pw", &PasswordHash(other)).await.unwrap(), "m={m} t={t} still verifies");
        }
    }

    #[tokio::test]
    async fn the_dummy_verification_matches_nothing_and_succeeds() {
        let hasher = Argon2Hasher::new(HashingLimits::default()).unwrap();
        assert!(hasher.verify_dummy("anything at all").await.is_ok());
    }

    #[tokio::test]
    async fn an_unreadable_stored_hash_is_an_internal_error() {
        let hasher = Argon2Hasher::new(HashingLimits::default()).unwrap();
        let result = hasher.verify("pw", &PasswordHash("not-a-phc-string".into())).await;
        assert!(matches!(result, Err(AppError::Internal(_))));
    }

    /// Occupies every hashing thread of `hasher` until the returned sender is dropped or sent to.
    async fn occupy(hasher: &Argon2Hasher) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let busy = hasher.clone();
        let task = tokio::spawn(async move {
            let _ = busy
                .run(move |_| {
                    let _ = started.send(());
                    let _ = gate.recv();
                    Ok(())
                })
                .await;
        });
        running.await.unwrap();
        (release, task)
    }

    /// Waits until `hasher` has `n` calls admitted (computing or waiting).
    async fn admitted(hasher: &Argon2Hasher, n: usize, limits: HashingLimits) {
        while limits.admitted() - hasher.admitted.available_permits() < n {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn past_the_queue_a_hash_is_refused_at_once_and_those_queued_are_served() {
        let limits = HashingLimits::new(Some(1), Some(2));
        let hasher = Argon2Hasher::new(limits).unwrap();
        let (release, busy) = occupy(&hasher).await;
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify_dummy("queued").await })
            })
            .collect();
        admitted(&hasher, 3, limits).await;

        let refused = tokio::time::timeout(std::time::Duration::from_secs(1), hasher.verify_dummy("one more")).await;

        assert_eq!(refused, Ok(Err(AppError::Overloaded)), "refused at once, without waiting");
        release.send(()).unwrap();
        busy.await.unwrap();
        for queued in queued {
            assert_eq!(queued.await.unwrap(), Ok(()), "the queued hashes are computed");
        }
        assert_eq!(hasher.verify_dummy("room again").await, Ok(()));
    }

    #[tokio::test]
    async fn a_hash_whose_caller_left_the_queue_is_never_computed() {
        let limits = HashingLimits::new(Some(1), Some(4));
        let hasher = Argon2Hasher::new(limits).unwrap();
        let computed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, busy) = occupy(&hasher).await;
        let abandoned = {
            let (hasher, computed) = (hasher.clone(), computed.clone());
            tokio::spawn(async move {
                hasher
                    .run(move |_| {
                        computed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            })
        };
        admitted(&hasher, 2, limits).await;

        // As when a client goes away or the request timeout passes: the request's future is dropped.
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).unwrap();
        busy.await.unwrap();
        // The thread is free again; one more hash shows that it has done whatever was queued.
        hasher.verify_dummy("after").await.unwrap();

        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 0, "the abandoned work never ran");
        assert_eq!(hasher.admitted.available_permits(), limits.admitted(), "nothing holds a place");
    }
}
