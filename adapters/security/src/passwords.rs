//! Argon2id with OWASP's parameters (7 MiB, 5 passes, 1 lane), on `concurrency` threads of its
//! own: never on the async workers, so a login flood queues for hashing instead of taking every
//! core from the rest of the server.
//!
//! Each hashing thread owns one Argon2 memory block, allocated once and reused by every hash.
//! Letting the library allocate 19 MiB per hash (on Tokio's blocking pool) made RSS grow with
//! every login: glibc kept the freed blocks, 138 MB after 10 logins and 256 MB after 20 at once.

use std::sync::{Arc, Mutex};

use application::ports::PasswordHasher;
use application::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash as PhcHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use domain::users::{Password, PasswordHash};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, Copy)]
pub struct HashingLimits {
    /// Hashes computed at the same time: the number of hashing threads.
    pub concurrency: usize,
}

impl Default for HashingLimits {
    fn default() -> Self {
        // Half the cores (at least one): the other half keeps serving everything else.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { concurrency: (cores / 2).max(1) }
    }
}

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut [Block]) + Send + 'static>;

/// Hashes waiting for a thread; past this, callers wait to enqueue (back-pressure, not memory).
const QUEUE: usize = 1024;
const OUTPUT_LEN: usize = 32;

#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
    jobs: mpsc::Sender<Job>,
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

/// Starts the hashing threads, each with its memory block; they end with the last hasher handle.
fn start_threads(count: usize, params: &Params) -> Result<mpsc::Sender<Job>, AppError> {
    let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count.max(1) {
        let queue = queue.clone();
        let blocks = params.block_count();
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || {
                let mut memory = vec![Block::default(); blocks];
                loop {
                    // One thread waits on the queue at a time; the others wait for the lock.
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).blocking_recv();
                    match job {
                        Some(job) => job(&mut memory),
                        None => break,
                    }
                }
            })
            .map_err(|e| AppError::Internal(format!("cannot start a hashing thread: {e}")))?;
    }
    Ok(jobs)
}

impl Argon2Hasher {
    pub fn new(limits: HashingLimits) -> Result<Self, AppError> {
        let params = owasp_params()?;
        let jobs = start_threads(limits.concurrency, &params)?;
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let (reply, result) = std::sync::mpsc::channel();
        let dummy_params = params.clone();
        jobs.try_send(Box::new(move |memory| {
            let _ = reply.send(hash_in(&dummy_params, memory, &random));
        }))
        .map_err(|_| AppError::Internal("hashing threads gone".into()))?;
        let dummy = result.recv().map_err(|_| AppError::Internal("a hashing thread died".into()))??;
        Ok(Self { params, jobs, dummy: dummy.into() })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(work(memory));
        });
        self.jobs.send(job).await.map_err(|_| AppError::Internal("hashing threads gone".into()))?;
        result.await.map_err(|_| AppError::Internal("a hashing thread died".into()))?
    }
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
        let hasher = Argon2Hasher::new(HashingLimits { concurrency: 2 }).unwrap();
        let password = Password::parse("password", "correct horse battery").unwrap();

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hash.0.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{}", hash.0);
        assert!(hasher.verify("correct horse battery", &hash).await.unwrap());
        assert!(!hasher.verify("wrong horse battery", &hash).await.unwrap());
        assert_ne!(hasher.hash(&password).await.unwrap(), hash, "salts must differ");
    }

    #[tokio::test]
    async fn hashes_agree_with_the_reference_implementation_both_ways() {
        let hasher = Argon2Hasher::new(HashingLimits { concurrency: 1 }).unwrap();
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
}
