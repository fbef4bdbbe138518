use std::sync::Arc;

use domain::StorageError;
use mockall::predicate::eq;
use mockall::Sequence;

use super::*;
use crate::ports::SessionsSwept;
use crate::testing::{fixed_clock, FakeStorage, NOW};

const SETTINGS: SweepSettings = SweepSettings { batch: 3, grace: Duration::minutes(1), blob_grace: Duration::hours(1) };

fn service(storage: FakeStorage) -> SweepService {
    SweepService::new(Arc::new(storage), Arc::new(fixed_clock()), SETTINGS)
}

fn batch(tokens: u64, chains: u64) -> Result<SessionsSwept, StorageError> {
    Ok(SessionsSwept { tokens, chains })
}

#[tokio::test]
async fn sweeps_batch_after_batch_until_one_comes_back_short_then_the_login_attempts() {
    let mut storage = FakeStorage::default();
    let before = NOW - Duration::minutes(1);
    let mut order = Sequence::new();
    for answer in [batch(3, 1), batch(2, 3), batch(0, 2)] {
        storage
            .sessions()
            .expect_sweep()
            .with(eq(before), eq(3))
            .times(1)
            .in_sequence(&mut order)
            .return_once(move |_, _| answer);
    }
    storage.attempts().expect_sweep().with(eq(before)).times(1).in_sequence(&mut order).return_once(|_| Ok(4));
    for removed in [3, 1] {
        storage
            .records()
            .expect_sweep()
            .with(eq(before), eq(3))
            .times(1)
            .in_sequence(&mut order)
            .return_once(move |_, _| Ok(removed));
    }

    let swept = service(storage).run().await.unwrap();

    assert_eq!(
        swept,
        Swept { refresh_tokens: 5, refresh_chains: 6, login_attempts: 4, idempotency_records: 4, orphan_blobs: 0 }
    );
}

#[tokio::test]
async fn a_failing_batch_fails_the_sweep_and_goes_no_further() {
    let mut storage = FakeStorage::default();
    storage.sessions().expect_sweep().times(1).return_once(|_, _| batch(3, 3));
    storage
        .sessions()
        .expect_sweep()
        .times(1)
        .return_once(|_, _| Err(StorageError::unavailable("the database went away")));
    storage.attempts().expect_sweep().never();

    let err = service(storage).run().await.unwrap_err();

    assert_eq!(err, AppError::Unavailable);
}

#[tokio::test]
async fn a_failing_login_attempts_sweep_fails_the_sweep() {
    let mut storage = FakeStorage::default();
    storage.sessions().expect_sweep().times(1).return_once(|_, _| batch(0, 0));
    storage.attempts().expect_sweep().times(1).return_once(|_| Err(StorageError::unavailable("down")));

    assert!(service(storage).run().await.is_err());
}

#[tokio::test]
async fn blobs_no_file_references_are_removed_once_past_their_grace() {
    use crate::testing::{uuid, Blobs};
    use domain::files::FileId;
    let mut storage = FakeStorage::default();
    storage.sessions().expect_sweep().returning(|_, _| batch(0, 0));
    storage.attempts().expect_sweep().returning(|_| Ok(0));
    storage.records().expect_sweep().returning(|_, _| Ok(0));
    let blobs = Arc::new(Blobs::default());
    let (kept, orphan, young) = (FileId(uuid(1)), FileId(uuid(2)), FileId(uuid(3)));
    for (id, age) in [(kept, Duration::hours(2)), (orphan, Duration::hours(2)), (young, Duration::minutes(59))] {
        blobs.stored.lock().unwrap().insert(id, b"x".to_vec());
        blobs.written.lock().unwrap().insert(id, NOW - age);
    }
    storage.unit(move |uow| {
        uow.files.expect_existing().withf(move |ids| ids == [kept, orphan]).returning(move |_| Ok(vec![kept]));
    });
    let settings = SweepSettings { blob_grace: Duration::hours(1), ..SETTINGS };
    let service = SweepService::new(Arc::new(storage), Arc::new(fixed_clock()), settings).with_blobs(blobs.clone());

    let swept = service.run().await.unwrap();

    assert_eq!(swept.orphan_blobs, 1);
    assert_eq!(*blobs.deleted.lock().unwrap(), [orphan]);
    let mut left: Vec<FileId> = blobs.stored.lock().unwrap().keys().copied().collect();
    left.sort();
    assert_eq!(left, [kept, young], "a referenced blob and one younger than the grace stay");
}
