//! `IdempotencyRecords` and `IdempotentAnswers` contract: one claim granted among concurrent ones,
//! leases that lapse, answers stored with the effect's unit of work or alone, releases and
//! completions applied only by the claim's holder, expiry, the sweep, and answers of any size.

use application::ports::Storage;
use domain::idempotency::{Answer, ClaimOutcome, ClaimRequest, Completion, Fingerprint, Holder, RecordKey, Scope};
use domain::StorageError;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{assert_matches, new_user, T0};
use crate::backend::TestBackend;

const LEASE: Duration = Duration::seconds(30);
const RETENTION: Duration = Duration::hours(24);

fn record() -> RecordKey {
    RecordKey::new(Scope::Request, &Uuid::now_v7().to_string(), &Fingerprint([9; 32]))
}

fn claim_of(record: &RecordKey, body: u8, now: OffsetDateTime) -> ClaimRequest {
    ClaimRequest {
        record: record.clone(),
        fingerprint: Fingerprint([body; 32]),
        holder: Holder(Uuid::now_v7()),
        now,
        lease_ends: now + LEASE,
        expires_at: now + RETENTION,
    }
}

fn completion(claim: &ClaimRequest, answer: &[u8], at: OffsetDateTime) -> Completion {
    Completion {
        record: claim.record.clone(),
        holder: claim.holder,
        answer: Answer(answer.to_vec()),
        expires_at: at + RETENTION,
    }
}

async fn claim(storage: &dyn Storage, claim: &ClaimRequest) -> ClaimOutcome {
    storage.idempotency().claim(claim).await.unwrap()
}

/// Every byte value, `len` bytes: answers are opaque to storage.
fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 256) as u8).collect()
}

pub async fn a_claim_is_granted_once_and_then_seen_in_progress(storage: &dyn Storage) {
    let key = record();
    let first = claim_of(&key, 1, T0);

    assert_eq!(claim(storage, &first).await, ClaimOutcome::Granted);
    let again = claim(storage, &claim_of(&key, 2, T0 + Duration::seconds(1))).await;

    assert_eq!(again, ClaimOutcome::InProgress { fingerprint: Fingerprint([1; 32]), lease_ends: T0 + LEASE });
    assert_eq!(claim(storage, &claim_of(&record(), 1, T0)).await, ClaimOutcome::Granted, "another record");
}

pub async fn concurrent_claims_grant_exactly_one(storage: &dyn Storage) {
    let key = record();
    let claims: Vec<_> = (0..20).map(|_| claim_of(&key, 1, T0)).collect();

    let outcomes = futures::future::join_all(claims.iter().map(|c| storage.idempotency().claim(c))).await;

    let granted = outcomes.iter().filter(|o| matches!(o, Ok(ClaimOutcome::Granted))).count();
    let in_progress = outcomes.iter().filter(|o| matches!(o, Ok(ClaimOutcome::InProgress { .. }))).count();
    assert_eq!((granted, in_progress), (1, 19), "{outcomes:?}");
}

pub async fn an_answer_stored_in_a_unit_of_work_commits_with_its_effect(storage: &dyn Storage) {
    let key = record();
    let held = claim_of(&key, 1, T0);
    claim(storage, &held).await;
    let user = new_user("ada");

    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.idempotency().store(&completion(&held, b"201 ada", T0)).await.unwrap();
    uow.commit().await.unwrap();

    let again = claim(storage, &claim_of(&key, 1, T0 + Duration::seconds(1))).await;
    assert_eq!(
        again,
        ClaimOutcome::Completed { fingerprint: Fingerprint([1; 32]), answer: Answer(b"201 ada".to_vec()) }
    );
    assert!(storage.read().await.unwrap().users().get(user.id).await.unwrap().is_some());
}

pub async fn an_answer_in_a_unit_rolled_back_is_not_stored(storage: &dyn Storage) {
    let key = record();
    let held = claim_of(&key, 1, T0);
    claim(storage, &held).await;

    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&new_user("ada")).await.unwrap();
    uow.idempotency().store(&completion(&held, b"201 ada", T0)).await.unwrap();
    drop(uow);

    let again = claim(storage, &claim_of(&key, 1, T0 + Duration::seconds(1))).await;
    assert_eq!(again, ClaimOutcome::InProgress { fingerprint: Fingerprint([1; 32]), lease_ends: T0 + LEASE });
}

pub async fn a_lapsed_lease_is_taken_over_and_its_old_holder_commits_nothing(storage: &dyn Storage) {
    let key = record();
    let dead = claim_of(&key, 1, T0);
    claim(storage, &dead).await;
    // The lease ends at its end: a claim at that instant takes the record over, with its own body.
    let late = claim_of(&key, 2, T0 + LEASE);
    assert_eq!(claim(storage, &late).await, ClaimOutcome::Granted);
    let user = new_user("ada");

    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    let stored = uow.idempotency().store(&completion(&dead, b"201 ada", T0)).await;
    let outcome = match stored {
        Ok(()) => uow.commit().await,
        Err(err) => {
            drop(uow);
            Err(err)
        }
    };

    assert_matches!(outcome, Err(StorageError::ClaimLost), "the old holder's unit fails");
    assert!(storage.read().await.unwrap().users().get(user.id).await.unwrap().is_none(), "its effect did not commit");
    let now = T0 + LEASE + Duration::seconds(1);
    assert_eq!(
        claim(storage, &claim_of(&key, 2, now)).await,
        ClaimOutcome::InProgress { fingerprint: Fingerprint([2; 32]), lease_ends: T0 + LEASE + LEASE },
        "the new holder's claim stands"
    );
}

pub async fn a_lost_claim_wins_over_a_condition_failing_with_it(storage: &dyn Storage) {
    let key = record();
    let dead = claim_of(&key, 1, T0);
    claim(storage, &dead).await;
    claim(storage, &claim_of(&key, 1, T0 + LEASE)).await;
    let user = new_user("ada");
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.commit().await.unwrap();

    // A stale version: SQL refuses it at the call, DynamoDB at commit, where the lost claim
    // must be the failure reported (a refresh would otherwise take it for token reuse).
    let mut uow = storage.begin().await.unwrap();
    let mut changed = user.clone();
    changed.version = 3;
    match uow.users().update(&changed, 2).await {
        Err(err) => assert_matches!(err, StorageError::ConditionFailed),
        Ok(()) => {
            let outcome = match uow.idempotency().store(&completion(&dead, b"200", T0)).await {
                Ok(()) => uow.commit().await,
                Err(err) => Err(err),
            };
            assert_matches!(outcome, Err(StorageError::ClaimLost));
        }
    }
}

pub async fn an_answer_without_effect_is_stored_by_its_holder_only(storage: &dyn Storage) {
    let key = record();
    let held = claim_of(&key, 1, T0);
    claim(storage, &held).await;
    let stranger = Completion { holder: Holder(Uuid::now_v7()), ..completion(&held, b"stolen", T0) };

    assert!(!storage.idempotency().complete(&stranger).await.unwrap(), "not the holder");
    assert!(storage.idempotency().complete(&completion(&held, b"404 nope", T0)).await.unwrap());
    assert!(!storage.idempotency().complete(&completion(&held, b"again", T0)).await.unwrap(), "completed already");

    let again = claim(storage, &claim_of(&key, 1, T0 + Duration::seconds(1))).await;
    assert_eq!(
        again,
        ClaimOutcome::Completed { fingerprint: Fingerprint([1; 32]), answer: Answer(b"404 nope".to_vec()) }
    );
}

pub async fn a_release_by_the_holder_frees_the_key_and_nothing_else_does(storage: &dyn Storage) {
    let (key, done) = (record(), record());
    let held = claim_of(&key, 1, T0);
    claim(storage, &held).await;
    let finished = claim_of(&done, 1, T0);
    claim(storage, &finished).await;
    storage.idempotency().complete(&completion(&finished, b"201", T0)).await.unwrap();

    storage.idempotency().release(&key, Holder(Uuid::now_v7())).await.unwrap();
    assert_matches!(claim(storage, &claim_of(&key, 1, T0)).await, ClaimOutcome::InProgress { .. }, "a stranger");
    storage.idempotency().release(&key, held.holder).await.unwrap();
    storage.idempotency().release(&done, finished.holder).await.unwrap();

    assert_eq!(claim(storage, &claim_of(&key, 2, T0)).await, ClaimOutcome::Granted, "released");
    assert_matches!(
        claim(storage, &claim_of(&done, 1, T0)).await,
        ClaimOutcome::Completed { .. },
        "a stored answer stays"
    );
    storage.idempotency().release(&record(), Holder(Uuid::now_v7())).await.unwrap();
}

pub async fn an_answer_expires_and_its_record_starts_anew(storage: &dyn Storage) {
    let key = record();
    let first = claim_of(&key, 1, T0);
    claim(storage, &first).await;
    storage.idempotency().complete(&completion(&first, &bytes(3000), T0)).await.unwrap();

    let before = T0 + RETENTION - Duration::milliseconds(1);
    assert_matches!(claim(storage, &claim_of(&key, 2, before)).await, ClaimOutcome::Completed { .. });
    let next = claim_of(&key, 2, T0 + RETENTION);
    assert_eq!(claim(storage, &next).await, ClaimOutcome::Granted, "expired at its expiry");
    storage.idempotency().complete(&completion(&next, b"short", T0 + RETENTION)).await.unwrap();

    let again = claim(storage, &claim_of(&key, 2, T0 + RETENTION + Duration::seconds(1))).await;
    assert_eq!(
        again,
        ClaimOutcome::Completed { fingerprint: Fingerprint([2; 32]), answer: Answer(b"short".to_vec()) },
        "nothing of the old answer is left"
    );
}

pub async fn answers_of_any_bytes_and_size_come_back_whole(storage: &dyn Storage) {
    // Larger than a DynamoDB item (400 KB): a post of 100 000 characters answers about that.
    for len in [0, 1, 399_000, 1_100_000] {
        let (alone, with_effect) = (record(), record());
        let held = claim_of(&alone, 1, T0);
        claim(storage, &held).await;
        assert!(storage.idempotency().complete(&completion(&held, &bytes(len), T0)).await.unwrap());
        let held2 = claim_of(&with_effect, 1, T0);
        claim(storage, &held2).await;
        let mut uow = storage.begin().await.unwrap();
        uow.users().insert(&new_user(&format!("user{len}"))).await.unwrap();
        uow.idempotency().store(&completion(&held2, &bytes(len), T0)).await.unwrap();
        uow.commit().await.unwrap();

        for key in [alone, with_effect] {
            match claim(storage, &claim_of(&key, 1, T0 + Duration::seconds(1))).await {
                ClaimOutcome::Completed { answer, .. } => assert!(answer.0 == bytes(len), "{len} bytes changed"),
                other => panic!("{len} bytes: {other:?}"),
            }
        }
    }
}

pub async fn the_sweep_removes_expired_records_only(storage: &dyn Storage) {
    let (old, lapsed, fresh) = (record(), record(), record());
    let done = claim_of(&old, 1, T0);
    claim(storage, &done).await;
    storage.idempotency().complete(&completion(&done, b"old", T0)).await.unwrap();
    claim(storage, &claim_of(&lapsed, 1, T0 + Duration::hours(1))).await;
    let kept = claim_of(&fresh, 1, T0 + Duration::hours(2));
    claim(storage, &kept).await;
    storage.idempotency().complete(&completion(&kept, b"fresh", T0 + Duration::hours(2))).await.unwrap();

    let removed = storage.idempotency().sweep(T0 + RETENTION, 100).await.unwrap();

    let expected = if TestBackend::from_env() == TestBackend::Dynamodb { 0 } else { 1 };
    assert_eq!(removed, expected, "DynamoDB leaves expiry to its TTL");
    let later = T0 + RETENTION + Duration::minutes(1);
    assert_eq!(claim(storage, &claim_of(&old, 2, later)).await, ClaimOutcome::Granted);
    assert_matches!(
        claim(storage, &claim_of(&lapsed, 2, later)).await,
        ClaimOutcome::Granted,
        "its lease lapsed long ago"
    );
    assert_matches!(claim(storage, &claim_of(&fresh, 1, later)).await, ClaimOutcome::Completed { .. });
}

pub async fn the_sweep_works_in_batches(storage: &dyn Storage) {
    for _ in 0..5 {
        let held = claim_of(&record(), 1, T0);
        claim(storage, &held).await;
        storage.idempotency().complete(&completion(&held, b"x", T0)).await.unwrap();
    }
    let later = T0 + RETENTION;
    let batches = [
        storage.idempotency().sweep(later, 3).await.unwrap(),
        storage.idempotency().sweep(later, 3).await.unwrap(),
        storage.idempotency().sweep(later, 3).await.unwrap(),
    ];
    let expected = if TestBackend::from_env() == TestBackend::Dynamodb { [0, 0, 0] } else { [3, 2, 0] };
    assert_eq!(batches, expected);
}

pub async fn a_large_answer_that_expired_leaves_nothing_in_the_next(storage: &dyn Storage) {
    let key = record();
    let first = claim_of(&key, 1, T0);
    claim(storage, &first).await;
    let old: Vec<u8> = bytes(1_100_000).into_iter().map(|b| b ^ 0xff).collect();
    assert!(storage.idempotency().complete(&completion(&first, &old, T0)).await.unwrap());
    let next = claim_of(&key, 2, T0 + RETENTION);
    assert_eq!(claim(storage, &next).await, ClaimOutcome::Granted, "expired at its expiry");

    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&new_user("ada")).await.unwrap();
    uow.idempotency().store(&completion(&next, &bytes(400_000), T0 + RETENTION)).await.unwrap();
    uow.commit().await.unwrap();

    match claim(storage, &claim_of(&key, 2, T0 + RETENTION + Duration::seconds(1))).await {
        ClaimOutcome::Completed { fingerprint, answer } => {
            assert_eq!(fingerprint, Fingerprint([2; 32]));
            assert!(answer.0 == bytes(400_000), "the new answer, whole and alone ({} bytes)", answer.0.len());
        }
        other => panic!("{other:?}"),
    }
}
