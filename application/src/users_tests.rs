use std::sync::Arc;

use domain::login_attempts::{AttemptKey, Reservation};
use domain::users::{PasswordHash, Role, UserId};
use domain::{Conflict, Continuation, Page, StorageError};
use mockall::predicate::eq;

use super::*;
use crate::login_limit::LoginLimit;
use crate::ports::MockCursorCodec;
use crate::ports::MockPasswordHasher;
use crate::testing::{fixed_clock, user, uuid, FakeStorage, NOW};
use crate::validation::{Field, Patch};

struct Fixture {
    storage: FakeStorage,
    hasher: MockPasswordHasher,
    cursors: MockCursorCodec,
}

impl Fixture {
    fn new() -> Self {
        Self { storage: FakeStorage::default(), hasher: MockPasswordHasher::new(), cursors: MockCursorCodec::new() }
    }

    fn service(self) -> (UserService, Arc<FakeStorage>) {
        let storage = Arc::new(self.storage);
        let deps = UserDeps {
            storage: storage.clone(),
            hasher: Arc::new(self.hasher),
            clock: Arc::new(fixed_clock()),
            cursors: Arc::new(self.cursors),
        };
        (UserService::new(deps, LoginLimit::default()), storage)
    }

    /// Expects `times` checks of the current password counted against the caller's account,
    /// answering `failures`.
    fn counts(&mut self, times: usize, failures: u32) {
        self.storage
            .attempts()
            .expect_reserve()
            .with(eq(AttemptKey::Account(UserId(uuid(1)))), eq(NOW), eq(time::Duration::minutes(15)))
            .times(times)
            .returning(move |_, _, _| Ok(Reservation { failures, window_ends: NOW + time::Duration::minutes(9) }));
    }
}

fn me() -> Principal {
    Principal { user_id: UserId(uuid(1)) }
}

fn changes(patch: ProfilePatch) -> ProfileChanges {
    ProfileChanges::parse(patch).expect("a valid change")
}

#[tokio::test]
async fn me_reads_without_a_transaction() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().with(eq(UserId(uuid(1)))).returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    let (service, storage) = f.service();

    assert_eq!(service.me(me()).await.unwrap().username.as_str(), "ada");
    assert_eq!(storage.calls(), ["read"]);
}

#[tokio::test]
async fn a_token_for_a_vanished_user_is_unauthenticated() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(None));
    });
    let (service, _) = f.service();

    assert_eq!(service.me(me()).await, Err(AppError::Unauthenticated));
}

#[tokio::test]
async fn update_me_writes_with_compare_and_set_and_bumps_the_version() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users
            .expect_update()
            .withf(|u, expected| {
                *expected == 7
                    && u.version == 8
                    && u.updated_at == NOW
                    && u.username.as_str() == "countess"
                    && u.first_name.as_str() == "Augusta"
                    && u.avatar_url.as_ref().map(|a| a.as_str()) == Some("https://example.com/a.png")
            })
            .times(1)
            .returning(|_, _| Ok(()));
    });
    let (service, storage) = f.service();
    let changes = changes(ProfilePatch {
        first_name: Field::Value(" Augusta ".into()),
        username: Field::Value("Countess".into()),
        avatar_url: Field::Value("https://example.com/a.png".into()),
        ..ProfilePatch::default()
    });

    let updated = service.update_me(me(), changes, Some(7)).await.unwrap();

    assert_eq!(updated.version, 8);
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn update_me_with_a_stale_if_match_changes_nothing() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users.expect_update().never();
    });
    let (service, storage) = f.service();
    let changes = changes(ProfilePatch { first_name: Field::Value("Augusta".into()), ..ProfilePatch::default() });

    assert_eq!(service.update_me(me(), changes, Some(6)).await, Err(AppError::VersionMismatch));
    assert_eq!(storage.calls(), ["begin"]);
}

#[tokio::test]
async fn update_me_losing_the_compare_and_set_is_a_version_mismatch() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users.expect_update().returning(|_, _| Err(StorageError::ConditionFailed));
    });
    let (service, _) = f.service();
    let changes = changes(ProfilePatch { last_name: Field::Value("Byron".into()), ..ProfilePatch::default() });

    assert_eq!(service.update_me(me(), changes, None).await, Err(AppError::VersionMismatch));
}

#[tokio::test]
async fn update_me_to_a_taken_username_is_a_conflict() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users.expect_update().returning(|_, _| Ok(()));
        uow.commit_result = Err(StorageError::Conflict(Conflict::UsernameTaken));
    });
    let (service, _) = f.service();
    let changes = changes(ProfilePatch { username: Field::Value("bob".into()), ..ProfilePatch::default() });

    assert_eq!(service.update_me(me(), changes, None).await, Err(AppError::Conflict(Conflict::UsernameTaken)));
}

#[tokio::test]
async fn update_me_without_changes_writes_nothing() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users.expect_update().never();
    });
    let (service, storage) = f.service();
    let changes = changes(ProfilePatch {
        username: Field::Value("ADA".into()),
        avatar_url: Field::Null,
        ..ProfilePatch::default()
    });
    assert_eq!(changes.avatar_url, Patch::Clear, "null clears the avatar");

    assert_eq!(service.update_me(me(), changes, Some(7)).await.map(|u| u.version), Ok(7));
    assert_eq!(storage.calls(), ["begin"]);
}

#[test]
fn a_profile_change_reports_every_invalid_field_at_once() {
    let patch = ProfilePatch {
        first_name: Field::Value("".into()),
        last_name: Field::Value("\u{7}".into()),
        username: Field::Value("no spaces".into()),
        avatar_url: Field::Value("ftp://x".into()),
    };

    let Err(AppError::Validation(v)) = ProfileChanges::parse(patch) else { panic!("expected 422") };
    let fields: Vec<_> = v.iter().map(|v| v.field).collect();
    assert_eq!(fields, ["first_name", "last_name", "username", "avatar_url"]);
}

#[test]
fn a_null_name_is_reported_with_the_other_invalid_fields() {
    let patch = ProfilePatch {
        first_name: Field::Null,
        username: Field::Value("no spaces".into()),
        avatar_url: Field::Null,
        ..ProfilePatch::default()
    };

    let Err(AppError::Validation(v)) = ProfileChanges::parse(patch) else { panic!("expected 422") };
    let fields: Vec<_> = v.iter().map(|v| (v.field, v.message.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("first_name", "must not be null; leave it out to keep the value"),
            ("username", "may contain only letters a-z, digits and underscores"),
        ],
        "a null avatar clears it and is no violation"
    );
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_ends_every_login() {
    let mut f = Fixture::new();
    f.counts(1, 4);
    f.storage.attempts().expect_clear().with(eq(AttemptKey::Account(UserId(uuid(1))))).times(1).returning(|_| Ok(()));
    f.hasher
        .expect_verify()
        .with(eq("old password"), eq(PasswordHash("hash-of-ada".into())))
        .returning(|_, _| Ok(true));
    f.hasher.expect_hash().returning(|_| Ok(PasswordHash("new-hash".into())));
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    f.storage.unit(|uow| {
        uow.users
            .expect_update()
            .withf(|u, expected| {
                *expected == 7 && u.session_epoch == 5 && u.version == 8 && u.password_hash.0 == "new-hash"
            })
            .times(1)
            .returning(|_, _| Ok(()));
    });
    let (service, storage) = f.service();

    assert_eq!(service.change_password(me(), "old password", "new password").await, Ok(()));
    assert_eq!(
        storage.calls(),
        ["read", "reserve", "clear", "begin", "commit"],
        "the right password is no failure: its count goes"
    );
}

#[tokio::test]
async fn change_password_with_a_wrong_current_password_is_refused_and_counted() {
    let mut f = Fixture::new();
    f.counts(1, 10);
    f.storage.attempts().expect_clear().never();
    f.hasher.expect_verify().returning(|_, _| Ok(false));
    f.hasher.expect_hash().never();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    let (service, storage) = f.service();

    assert_eq!(service.change_password(me(), "guess", "new password").await, Err(AppError::WrongCurrentPassword));
    assert_eq!(storage.calls(), ["read", "reserve"]);
}

#[tokio::test]
async fn change_password_over_the_accounts_limit_is_429_without_a_hash() {
    let mut f = Fixture::new();
    f.counts(1, 11);
    f.hasher.expect_verify().never();
    f.hasher.expect_hash().never();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    let (service, storage) = f.service();

    let answer = service.change_password(me(), "old password", "new password").await;

    assert_eq!(answer, Err(AppError::TooManyRequests { retry_after_secs: 540 }));
    assert_eq!(storage.calls(), ["read", "reserve"]);
}

#[tokio::test]
async fn change_password_enforces_the_policy_on_the_new_one() {
    let (service, storage) = Fixture::new().service();

    let Err(AppError::Validation(v)) = service.change_password(me(), "old password", "short").await else {
        panic!("expected 422")
    };
    assert_eq!(v[0].field, "new_password");
    assert!(storage.calls().is_empty());
}

/// Each check of the current password is counted, the one after a lost race too.
#[tokio::test]
async fn change_password_retries_after_losing_a_race() {
    let mut f = Fixture::new();
    f.counts(2, 1);
    f.storage.attempts().expect_clear().times(2).returning(|_| Ok(()));
    f.hasher.expect_verify().times(2).returning(|_, _| Ok(true));
    f.hasher.expect_hash().times(2).returning(|_| Ok(PasswordHash("new-hash".into())));
    for attempt in 0..2 {
        f.storage.unit(|uow| {
            uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        });
        f.storage.unit(|uow| {
            let result = if attempt == 0 { Err(StorageError::ConditionFailed) } else { Ok(()) };
            uow.users.expect_update().return_once(move |_, _| result);
        });
    }
    let (service, storage) = f.service();

    assert_eq!(service.change_password(me(), "old password", "new password").await, Ok(()));
    assert_eq!(storage.calls(), ["read", "reserve", "clear", "begin", "read", "reserve", "clear", "begin", "commit"]);
}

#[tokio::test]
async fn a_missing_profile_is_not_found() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(None));
    });
    let (service, _) = f.service();

    assert_eq!(service.profile(UserId(uuid(5))).await, Err(AppError::NotFound(Resource::User)));
}

#[tokio::test]
async fn only_admins_list_users() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.users.expect_list().never();
    });
    let (service, _) = f.service();

    assert_eq!(service.list(me(), None, None, None).await, Err(AppError::Forbidden));
}

#[tokio::test]
async fn the_admin_list_seals_its_continuation_bound_to_the_filter() {
    let mut f = Fixture::new();
    let list = ListKey::new("list_users", &["ad"]);
    let key = list.clone();
    f.cursors
        .expect_unseal()
        .withf(move |l, c| *l == key && c == "cursor-1")
        .returning(|_, _| Ok(Continuation(b"ada".to_vec())));
    f.cursors.expect_seal().withf(move |l, c| *l == list && c.0 == b"adb").returning(|_, _| "cursor-2".into());
    f.storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "root", Role::Admin))));
        uow.users
            .expect_list()
            .withf(|q| {
                q.prefix.as_ref().map(|p| p.as_str()) == Some("ad")
                    && q.after.as_ref().map(|a| a.0.as_slice()) == Some(b"ada")
                    && q.limit.get() == 2
            })
            .returning(|_| {
                Ok(Page { items: vec![user(2, "adb", Role::User)], next: Some(Continuation(b"adb".to_vec())) })
            });
    });
    let (service, storage) = f.service();

    let listed = service.list(me(), Some("AD"), Some("cursor-1"), Some(2)).await.unwrap();

    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.next_cursor.as_deref(), Some("cursor-2"));
    assert_eq!(storage.calls(), ["read"]);
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_refused_before_any_storage_call() {
    let mut f = Fixture::new();
    f.cursors.expect_unseal().returning(|_, _| Err(AppError::InvalidCursor));
    let (service, storage) = f.service();

    assert_eq!(service.list(me(), None, Some("forged"), None).await, Err(AppError::InvalidCursor));
    let Err(AppError::Validation(v)) = service.list(me(), Some("a-b"), None, Some(0)).await else { panic!() };
    assert_eq!(v.iter().map(|v| v.field).collect::<Vec<_>>(), ["username_prefix", "limit"]);
    assert!(storage.calls().is_empty());
}
