//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). Hashing runs on the blocking pool,
//! never on the async workers, and at most `concurrency` hashes run at once, so a login flood
//! queues for hashing instead of taking every core from the rest of the server.

use std::sync::Arc;

use application::ports::PasswordHasher;
use application::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use domain::users::{Password, PasswordHash};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy)]
pub struct HashingLimits {
    /// Hashes computed at the same time.
    pub concurrency: usize,
}

impl Default for HashingLimits {
    fn default() -> Self {
        // Half the cores (at least one): the other half keeps serving everything else.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { concurrency: (cores / 2).max(1) }
    }
}

#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the login name is unknown.
    dummy: Arc<str>,
}

/// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
fn owasp_params() -> Result<Params, AppError> {
    Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::Internal(format!("argon2 params: {e}")))
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &[u8]) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params)
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2 hash: {e}")))
}

fn verify_blocking(params: &Params, password: &[u8], phc: &str) -> Result<bool, AppError> {
    let parsed = PhcHash::new(phc).map_err(|e| AppError::Internal(format!("stored hash unreadable: {e}")))?;
    match argon2(params).verify_password(password, &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AppError::Internal(format!("argon2 verify: {e}"))),
    }
}

impl Argon2Hasher {
    pub fn new(limits: HashingLimits) -> Result<Self, AppError> {
        let params = owasp_params()?;
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let dummy = hash_blocking(&params, &random)?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(limits.concurrency.max(1))), dummy: dummy.into() })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Params) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::Internal("hasher closed".into()))?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || work(&params))
            .await
            .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, AppError> {
        let password = password.expose().as_bytes().to_vec();
        self.run(move |params| hash_blocking(params, &password)).await.map(PasswordHash)
    }

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, AppError> {
        let password = password.as_bytes().to_vec();
        let phc = hash.0.clone();
        self.run(move |params| verify_blocking(params, &password, &phc)).await
    }

    async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let password = password.as_bytes().to_vec();
        let phc = self.dummy.clone();
        self.run(move |params| verify_blocking(params, &password, &phc)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = Argon2Hasher::new(HashingLimits { concurrency: 2 }).unwrap();
        let password = Password::parse("password", "correct horse battery").unwrap();

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.0);
        assert!(hasher.verify("correct horse battery", &hash).await.unwrap());
        assert!(!hasher.verify("wrong horse battery", &hash).await.unwrap());
        assert_ne!(hasher.hash(&password).await.unwrap(), hash, "salts must differ");
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
