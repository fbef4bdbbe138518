//! Readiness: whether this instance can serve requests, asked of the storage backend through the
//! same port every use case uses, so the HTTP adapter never reaches storage itself.

use std::sync::Arc;

use crate::errors::AppError;
use crate::ports::Storage;

#[derive(Clone)]
pub struct HealthService {
    storage: Arc<dyn Storage>,
}

impl HealthService {
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self { storage }
    }

    /// `Ok` when the storage backend answers; `Unavailable` (or `Internal`) when it does not.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.storage.ping().await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::testing::FakeStorage;

    #[tokio::test]
    async fn ready_is_the_storage_answering() {
        let storage = Arc::new(FakeStorage::default());
        let health = HealthService::new(storage.clone());
        assert_eq!(health.ready().await, Ok(()));

        storage.down.store(true, Ordering::SeqCst);
        assert_eq!(health.ready().await, Err(AppError::Unavailable));
    }
}
