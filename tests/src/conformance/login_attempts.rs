//! `LoginAttempts` contract: atomic counts per key and window, windows that restart once ended,
//! clearing (by hand, and by a login's new chain when it commits), and a sweep that never touches
//! an open window.

use application::ports::Storage;
use domain::auth::{ChainId, RefreshChain};
use domain::login_attempts::{AttemptKey, LoginName, Reservation};
use domain::users::UserId;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{new_user, T0};
use crate::backend::TestBackend;

const WINDOW: Duration = Duration::minutes(15);

fn name(login: &str) -> AttemptKey {
    AttemptKey::unknown_name(&LoginName::parse(login).unwrap())
}

fn account() -> AttemptKey {
    AttemptKey::Account(UserId(Uuid::now_v7()))
}

async fn reserve(storage: &dyn Storage, key: &AttemptKey, now: OffsetDateTime) -> Reservation {
    storage.login_attempts().reserve(key, now, WINDOW).await.unwrap()
}

pub async fn attempts_are_counted_per_key_within_one_window(storage: &dyn Storage) {
    let (ada, bob, ghost) = (account(), account(), name("ghost"));

    let first = reserve(storage, &ada, T0).await;
    let second = reserve(storage, &ada, T0 + Duration::minutes(14)).await;

    assert_eq!(first, Reservation { failures: 1, window_ends: T0 + WINDOW });
    assert_eq!(second, Reservation { failures: 2, window_ends: T0 + WINDOW }, "the window's end stays");
    assert_eq!(reserve(storage, &bob, T0).await.failures, 1, "another account counts alone");
    assert_eq!(reserve(storage, &ghost, T0).await.failures, 1, "an unknown name counts alone");
    assert_eq!(reserve(storage, &ghost, T0).await.failures, 2);
    assert_eq!(reserve(storage, &name(" GHOST "), T0).await.failures, 3, "names are normalised");
}

pub async fn a_window_starts_anew_once_it_ends(storage: &dyn Storage) {
    let ada = account();
    for _ in 0..3 {
        reserve(storage, &ada, T0).await;
    }

    // A window ends at its end: an attempt at that instant opens the next one.
    let next = reserve(storage, &ada, T0 + WINDOW).await;
    let after = reserve(storage, &ada, T0 + WINDOW + Duration::minutes(1)).await;

    assert_eq!(next, Reservation { failures: 1, window_ends: T0 + WINDOW + WINDOW });
    assert_eq!(after, Reservation { failures: 2, window_ends: T0 + WINDOW + WINDOW });
}

pub async fn clearing_forgets_a_keys_count_only(storage: &dyn Storage) {
    let (ada, ghost) = (account(), name("ghost"));
    for _ in 0..3 {
        reserve(storage, &ada, T0).await;
        reserve(storage, &ghost, T0).await;
    }

    storage.login_attempts().clear(&ada).await.unwrap();
    storage.login_attempts().clear(&account()).await.expect("clearing a key with no count is no error");

    let minute = T0 + Duration::minutes(1);
    assert_eq!(reserve(storage, &ada, minute).await, Reservation { failures: 1, window_ends: minute + WINDOW });
    assert_eq!(reserve(storage, &ghost, minute).await.failures, 4);
}

/// However many attempts arrive at once, each gets its own count: none is lost and no two see the
/// same (the limit is "at most N checked", so a lost count is a free guess). Also when they race
/// to restart an ended window.
pub async fn concurrent_attempts_each_get_their_own_count(storage: &dyn Storage) {
    const N: u32 = 24;
    let ada = account();
    for now in [T0, T0 + WINDOW + Duration::seconds(1)] {
        let attempts = (0..N).map(|_| storage.login_attempts().reserve(&ada, now, WINDOW));
        let mut counts: Vec<u32> =
            futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().failures).collect();
        counts.sort_unstable();

        assert_eq!(counts, (1..=N).collect::<Vec<_>>(), "at {now}");
    }
}

/// A new refresh chain is a successful login: it clears the account's count in its own unit of
/// work, when that commits and only then.
pub async fn a_new_chain_clears_its_accounts_count_when_it_commits(storage: &dyn Storage) {
    let (ada, bob) = (new_user("ada"), new_user("bob"));
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&ada).await.unwrap();
    uow.users().insert(&bob).await.unwrap();
    uow.commit().await.unwrap();
    let (ada_key, bob_key, ghost) = (AttemptKey::Account(ada.id), AttemptKey::Account(bob.id), name("ghost"));
    for key in [&ada_key, &bob_key, &ghost] {
        reserve(storage, key, T0).await;
        reserve(storage, key, T0).await;
    }
    let chain = |user: UserId| RefreshChain {
        id: ChainId(Uuid::now_v7()),
        user_id: user,
        session_epoch: 0,
        created_at: T0,
        ends_at: T0 + Duration::days(90),
        revoked_at: None,
    };

    {
        let mut uow = storage.begin().await.unwrap();
        uow.refresh_tokens().insert_chain(&chain(ada.id)).await.unwrap();
    }
    assert_eq!(reserve(storage, &ada_key, T0).await.failures, 3, "a login that did not commit clears nothing");

    let mut uow = storage.begin().await.unwrap();
    uow.refresh_tokens().insert_chain(&chain(ada.id)).await.unwrap();
    uow.refresh_tokens().insert_chain(&chain(ada.id)).await.unwrap();
    uow.commit().await.unwrap();

    assert_eq!(reserve(storage, &ada_key, T0).await.failures, 1, "the login cleared its account");
    assert_eq!(reserve(storage, &bob_key, T0).await.failures, 3, "and nobody else's");
    assert_eq!(reserve(storage, &ghost, T0).await.failures, 3);
}

pub async fn sweeping_removes_ended_windows_and_never_an_open_one(storage: &dyn Storage) {
    let keys: Vec<AttemptKey> = (0..4).map(|_| account()).collect();
    // Windows ending at T0+10, T0+15, T0+20 and T0+25 minutes.
    for (i, key) in keys.iter().enumerate() {
        let window = Duration::minutes(10 + 5 * i as i64);
        storage.login_attempts().reserve(key, T0, window).await.unwrap();
        storage.login_attempts().reserve(key, T0, window).await.unwrap();
    }
    let before = T0 + Duration::minutes(15);

    let removed = storage.login_attempts().sweep(before).await.unwrap();

    // DynamoDB's TTL removes ended windows by itself (the items carry it); the SQL backends here.
    let expected = if TestBackend::from_env() == TestBackend::Dynamodb { 0 } else { 2 };
    assert_eq!(removed, expected, "the windows ended at or before {before}");
    assert_eq!(storage.login_attempts().sweep(before).await.unwrap(), 0, "nothing is removed twice");
    let later = before + Duration::seconds(1);
    for (i, key) in keys.iter().enumerate() {
        let got = storage.login_attempts().reserve(key, later, WINDOW).await.unwrap();
        let ends = T0 + Duration::minutes(10 + 5 * i as i64);
        let open = Reservation { failures: 3, window_ends: ends };
        let restarted = Reservation { failures: 1, window_ends: later + WINDOW };
        assert_eq!(got, if i < 2 { restarted } else { open }, "window {i}");
    }
}
