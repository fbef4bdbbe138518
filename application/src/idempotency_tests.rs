use std::sync::Arc;

use domain::idempotency::{Answer, ClaimOutcome, Fingerprint, Holder, RecordKey, Scope};
use domain::users::UserId;
use domain::StorageError;

use super::*;
use crate::ports::MockIdGenerator;
use crate::testing::{fixed_clock, uuid, FakeStorage, NOW};

const SETTINGS: RetrySettings = RetrySettings { lease: Duration::seconds(30), retention: Duration::hours(24) };

fn retries(storage: FakeStorage) -> Retries {
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(77));
    Retries::new(Arc::new(storage), Arc::new(fixed_clock()), Arc::new(ids), SETTINGS)
}

fn request(body: u8) -> KeyedRequest {
    KeyedRequest { key: "k-1".into(), scope: Scope::Caller(UserId(uuid(1))), fingerprint: Fingerprint([body; 32]) }
}

struct Echo;

#[async_trait]
impl Recorder<str> for Echo {
    async fn answer(&self, value: &str) -> Answer {
        Answer(value.as_bytes().to_vec())
    }
}

#[tokio::test]
async fn a_first_request_claims_with_a_lease_and_a_retention() {
    let mut storage = FakeStorage::default();
    storage.records().expect_claim().times(1).returning(|claim| {
        assert_eq!(claim.record, RecordKey::new(Scope::Caller(UserId(uuid(1))), "k-1", &Fingerprint([1; 32])));
        assert_eq!(claim.fingerprint, Fingerprint([1; 32]));
        assert_eq!(claim.holder, Holder(uuid(77)));
        assert_eq!(
            (claim.now, claim.lease_ends, claim.expires_at),
            (NOW, NOW + SETTINGS.lease, NOW + SETTINGS.retention)
        );
        Ok(ClaimOutcome::Granted)
    });

    let claim = retries(storage).claim(&request(1)).await.unwrap();

    assert!(matches!(claim, Claim::Run(_)));
}

#[tokio::test]
async fn the_same_request_again_replays_and_another_request_is_refused() {
    for (stored, expected) in [(1u8, Ok(Some(b"first".to_vec()))), (2, Err(AppError::IdempotencyKeyReused))] {
        let mut storage = FakeStorage::default();
        storage.records().expect_claim().times(1).returning(move |_| {
            Ok(ClaimOutcome::Completed { fingerprint: Fingerprint([stored; 32]), answer: Answer(b"first".to_vec()) })
        });

        let claim = retries(storage).claim(&request(1)).await;

        let got = claim.map(|c| match c {
            Claim::Replay(answer) => Some(answer.0),
            Claim::Run(_) => None,
        });
        assert_eq!(got, expected);
    }
}

#[tokio::test]
async fn a_request_in_progress_is_in_use_until_its_lease_ends_or_reused_with_another_body() {
    for (stored, expected) in
        [(1u8, AppError::IdempotencyKeyInUse { retry_after_secs: 13 }), (2, AppError::IdempotencyKeyReused)]
    {
        let mut storage = FakeStorage::default();
        storage.records().expect_claim().times(1).returning(move |_| {
            Ok(ClaimOutcome::InProgress {
                fingerprint: Fingerprint([stored; 32]),
                lease_ends: NOW + Duration::milliseconds(12_100),
            })
        });

        let err = retries(storage).claim(&request(1)).await.unwrap_err();

        assert_eq!(err, expected);
    }
}

#[tokio::test]
async fn the_answer_of_an_effect_goes_into_its_unit_of_work() {
    let mut storage = FakeStorage::default();
    storage.records().expect_claim().times(1).returning(|_| Ok(ClaimOutcome::Granted));
    storage.unit(|uow| {
        uow.answers.expect_store().times(1).returning(|completion| {
            assert_eq!(completion.answer, Answer(b"made it".to_vec()));
            assert_eq!(completion.holder, Holder(uuid(77)));
            assert_eq!(completion.expires_at, NOW + SETTINGS.retention);
            Ok(())
        });
    });
    let storage = Arc::new(storage);
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(77));
    let retries = Retries::new(storage.clone(), Arc::new(fixed_clock()), Arc::new(ids), SETTINGS);

    let Claim::Run(lease) = retries.claim(&request(1)).await.unwrap() else { panic!("not granted") };
    let retry = retries.retry(&lease, Arc::new(Echo));
    let mut uow = storage.begin().await.unwrap();
    record(Some(&retry), uow.as_mut(), "made it").await.unwrap();
    uow.commit().await.unwrap();

    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn a_lost_claim_fails_the_unit_as_in_use() {
    let mut storage = FakeStorage::default();
    storage.records().expect_claim().times(1).returning(|_| Ok(ClaimOutcome::Granted));
    storage.unit(|uow| {
        uow.answers.expect_store().times(1).returning(|_| Err(StorageError::ClaimLost));
    });
    let storage = Arc::new(storage);
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(77));
    let retries = Retries::new(storage.clone(), Arc::new(fixed_clock()), Arc::new(ids), SETTINGS);

    let Claim::Run(lease) = retries.claim(&request(1)).await.unwrap() else { panic!("not granted") };
    let mut uow = storage.begin().await.unwrap();
    let err = record(Some(&retries.retry(&lease, Arc::new(Echo))), uow.as_mut(), "late").await.unwrap_err();

    assert_eq!(AppError::from(err), AppError::IdempotencyKeyInUse { retry_after_secs: 1 });
}

#[tokio::test]
async fn answers_without_effect_are_stored_and_others_released_by_their_holder() {
    let mut storage = FakeStorage::default();
    storage.records().expect_claim().times(2).returning(|_| Ok(ClaimOutcome::Granted));
    storage.records().expect_complete().times(1).returning(|completion| {
        assert_eq!(completion.answer, Answer(b"404".to_vec()));
        assert_eq!(completion.holder, Holder(uuid(77)));
        Ok(true)
    });
    storage.records().expect_release().times(1).returning(|_, holder| {
        assert_eq!(holder, Holder(uuid(77)));
        Ok(())
    });
    let retries = retries(storage);

    let Claim::Run(lease) = retries.claim(&request(1)).await.unwrap() else { panic!("not granted") };
    retries.store(&lease, Answer(b"404".to_vec())).await.unwrap();
    let Claim::Run(lease) = retries.claim(&request(1)).await.unwrap() else { panic!("not granted") };
    retries.release(&lease).await.unwrap();
}

#[tokio::test]
async fn without_a_key_recording_is_nothing() {
    let storage = FakeStorage::default();
    storage.unit(|_| {});
    let mut uow = storage.begin().await.unwrap();

    record::<str>(None, uow.as_mut(), "nothing").await.unwrap();
}

#[test]
fn answers_that_a_retry_must_run_again_are_not_stored() {
    for err in [
        AppError::TooManyRequests { retry_after_secs: 3 },
        AppError::Unavailable,
        AppError::Overloaded,
        AppError::IdempotencyKeyInUse { retry_after_secs: 1 },
    ] {
        assert!(!is_stored(&err), "{err:?}");
    }
    for err in [AppError::Forbidden, AppError::InvalidCredentials, AppError::Internal("x".into())] {
        assert!(is_stored(&err), "{err:?}");
    }
}
