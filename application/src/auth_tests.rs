use std::sync::Arc;

use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::login_attempts::{AttemptKey, LoginName, Reservation};
use domain::users::{Email, PasswordHash, Role, UserId, Username};
use domain::{Conflict, StorageError};
use mockall::predicate::eq;
use time::Duration;
use uuid::Uuid;

use super::*;
use crate::login_limit::LoginLimit;
use crate::ports::{AccessToken, MockIdGenerator, MockPasswordHasher, MockTokenIssuer, NewRefreshToken};
use crate::testing::{fixed_clock, user, uuid, FakeStorage, NOW};

struct Fixture {
    storage: FakeStorage,
    hasher: MockPasswordHasher,
    tokens: MockTokenIssuer,
    ids: MockIdGenerator,
}

impl Fixture {
    fn new() -> Self {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(uuid(42));
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_hash_refresh_token().returning(|s| TokenHash(hash_of(s)));
        tokens
            .expect_new_refresh_token()
            .returning(|| NewRefreshToken { secret: "next-secret".into(), hash: TokenHash(hash_of("next-secret")) });
        tokens.expect_issue_access().returning(|_, _| Ok(AccessToken { token: "access".into(), expires_in: 900 }));
        Self { storage: FakeStorage::default(), hasher: MockPasswordHasher::new(), tokens, ids }
    }

    fn service(self) -> (AuthService, Arc<FakeStorage>) {
        let storage = Arc::new(self.storage);
        let deps = AuthDeps {
            storage: storage.clone(),
            hasher: Arc::new(self.hasher),
            tokens: Arc::new(self.tokens),
            clock: Arc::new(fixed_clock()),
            ids: Arc::new(self.ids),
        };
        let settings = AuthSettings {
            refresh_ttl: Duration::days(30),
            session_max_age: Duration::days(90),
            login_limit: LoginLimit::default(),
        };
        (AuthService::new(deps, settings), storage)
    }
}

fn hash_of(secret: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in secret.bytes().enumerate().take(32) {
        out[i] = b;
    }
    out
}

fn registration() -> Registration {
    Registration {
        email: " Ada@Example.com ".into(),
        username: "Ada_L".into(),
        password: "correct horse".into(),
        first_name: " Ada ".into(),
        last_name: "Lovelace".into(),
    }
}

fn chain(revoked: bool, epoch: i64) -> RefreshChain {
    RefreshChain {
        id: ChainId(uuid(9)),
        user_id: domain::users::UserId(uuid(1)),
        session_epoch: epoch,
        created_at: NOW - Duration::days(1),
        ends_at: NOW + Duration::days(89),
        revoked_at: revoked.then_some(NOW - Duration::hours(1)),
    }
}

/// A live chain whose login reached its max age at `NOW + left`.
fn chain_ending_in(left: Duration) -> RefreshChain {
    RefreshChain { ends_at: NOW + left, ..chain(false, 4) }
}

fn token(spent: bool, expires_in: Duration) -> RefreshToken {
    RefreshToken {
        hash: TokenHash(hash_of("old-secret")),
        chain_id: ChainId(uuid(9)),
        user_id: domain::users::UserId(uuid(1)),
        issued_at: NOW - Duration::days(1),
        expires_at: NOW + expires_in,
        spent_at: spent.then_some(NOW - Duration::minutes(1)),
    }
}

/// A unit of work in which the presented token, its chain and its user are found.
fn refresh_reads(uow: &mut crate::testing::FakeUow, token: RefreshToken, chain: RefreshChain) {
    uow.tokens.expect_find_token().return_once(move |_| Ok(Some(token)));
    uow.tokens.expect_get_chain().with(eq(ChainId(uuid(9)))).return_once(move |_| Ok(Some(chain)));
    uow.users.expect_get().return_once(|_| Ok(Some(user(1, "ada", Role::User))));
}

#[tokio::test]
async fn register_parses_hashes_and_stores_a_user_in_one_unit_of_work() {
    let mut f = Fixture::new();
    f.hasher.expect_hash().times(1).returning(|_| Ok(PasswordHash("phc".into())));
    f.storage.unit(|uow| {
        uow.users
            .expect_insert()
            .withf(|u| u.email.as_str() == "ada@example.com" && u.username.as_str() == "ada_l")
            .times(1)
            .returning(|_| Ok(()));
    });
    let (service, storage) = f.service();

    let user = service.register(registration(), None).await.unwrap();

    assert_eq!(user.first_name.as_str(), "Ada");
    assert_eq!(user.role, Role::User);
    assert_eq!((user.version, user.session_epoch), (1, 0));
    assert_eq!(user.created_at, NOW);
    assert_eq!(user.id.0, uuid(42));
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn register_reports_every_broken_rule_and_touches_nothing() {
    let (service, storage) = Fixture::new().service();
    let bad = Registration {
        email: "nope".into(),
        username: "a!".into(),
        password: "short".into(),
        first_name: " ".into(),
        last_name: "x".repeat(101),
    };

    let err = service.register(bad, None).await.unwrap_err();

    let AppError::Validation(violations) = err else { panic!("expected validation, got {err:?}") };
    let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
    assert_eq!(fields, ["email", "username", "password", "first_name", "last_name"]);
    assert!(storage.calls().is_empty());
}

#[tokio::test]
async fn register_maps_a_taken_username_at_write_or_commit_to_a_conflict() {
    for at_commit in [false, true] {
        let mut f = Fixture::new();
        f.hasher.expect_hash().returning(|_| Ok(PasswordHash("phc".into())));
        f.storage.unit(|uow| {
            if at_commit {
                uow.users.expect_insert().returning(|_| Ok(()));
                uow.commit_result = Err(StorageError::Conflict(Conflict::EmailTaken));
            } else {
                uow.users.expect_insert().returning(|_| Err(StorageError::Conflict(Conflict::UsernameTaken)));
            }
        });
        let (service, _) = f.service();

        let err = service.register(registration(), None).await.unwrap_err();

        let expected = if at_commit { Conflict::EmailTaken } else { Conflict::UsernameTaken };
        assert_eq!(err, AppError::Conflict(expected));
    }
}

#[tokio::test]
async fn create_admin_makes_an_admin() {
    let mut f = Fixture::new();
    f.hasher.expect_hash().returning(|_| Ok(PasswordHash("phc".into())));
    f.storage.unit(|uow| {
        uow.users.expect_insert().withf(|u| u.role == Role::Admin).returning(|_| Ok(()));
    });
    let (service, _) = f.service();

    assert_eq!(service.create_admin(registration()).await.unwrap().role, Role::Admin);
}

fn name_key(login: &str) -> AttemptKey {
    AttemptKey::unknown_name(&LoginName::parse(login).unwrap())
}

const ADA: AttemptKey = AttemptKey::Account(UserId(Uuid::from_u128(1)));

/// The window's count after this attempt, the window ending ten minutes and a bit from now.
fn counted(failures: u32) -> Reservation {
    Reservation { failures, window_ends: NOW + Duration::milliseconds(600_001) }
}

impl Fixture {
    /// Expects the attempt to be counted once under `key`, answering `failures`.
    fn counts(&mut self, key: AttemptKey, failures: u32) {
        self.storage
            .attempts()
            .expect_reserve()
            .with(eq(key), eq(NOW), eq(Duration::minutes(15)))
            .times(1)
            .returning(move |_, _, _| Ok(counted(failures)));
        self.storage.attempts().expect_clear().never();
    }
}

#[tokio::test]
async fn login_with_an_unknown_name_counts_its_digest_and_spends_a_hash() {
    let mut f = Fixture::new();
    f.counts(name_key("ghost"), 1);
    f.hasher.expect_verify_dummy().times(1).returning(|_| Ok(()));
    f.storage.unit(|uow| {
        uow.users.expect_find_by_username().with(eq(Username::parse("ghost").unwrap())).returning(|_| Ok(None));
    });
    let (service, storage) = f.service();

    assert_eq!(service.login("  GHOST ", "whatever1", None).await, Err(AppError::InvalidCredentials));
    assert_eq!(storage.calls(), ["read", "reserve"]);
}

/// What can be nobody's email or username (empty, a NUL, a stray `@`) never reaches the user
/// lookup — some backends refuse such keys — and costs the same count and hash as an unknown login.
#[tokio::test]
async fn a_login_that_can_be_nobodys_is_counted_and_hashed_without_a_lookup() {
    for login in ["", "a\u{0}b", "x@y@z", "\u{1F600}", &"x".repeat(254)] {
        let mut f = Fixture::new();
        f.counts(name_key(login), 1);
        f.hasher.expect_verify_dummy().times(1).returning(|_| Ok(()));
        let (service, storage) = f.service();

        assert_eq!(service.login(login, "whatever1", None).await, Err(AppError::InvalidCredentials), "{login:?}");
        assert_eq!(storage.calls(), ["reserve"], "{login:?}");
    }
}

#[tokio::test]
async fn a_login_longer_than_254_characters_is_refused_without_a_count_or_a_hash() {
    let long_email = format!("{}@example.com", "a".repeat(243));
    for login in ["x".repeat(255), "x".repeat(5000), long_email] {
        let mut f = Fixture::new();
        f.storage.attempts().expect_reserve().never();
        f.hasher.expect_verify().never();
        f.hasher.expect_verify_dummy().never();
        let (service, storage) = f.service();

        assert_eq!(service.login(&login, "correct horse", None).await, Err(AppError::InvalidCredentials));
        assert!(storage.calls().is_empty(), "{:?}", storage.calls());
    }
}

#[tokio::test]
async fn email_and_username_count_against_one_account() {
    for login in ["Ada@Example.com", "ADA"] {
        let mut f = Fixture::new();
        f.counts(ADA, 3);
        f.hasher.expect_verify().returning(|_, _| Ok(false));
        f.storage.unit(|uow| {
            uow.users
                .expect_find_by_email()
                .with(eq(Email::parse("ada@example.com").unwrap()))
                .returning(|_| Ok(Some(user(1, "ada", Role::User))));
            uow.users
                .expect_find_by_username()
                .with(eq(Username::parse("ada").unwrap()))
                .returning(|_| Ok(Some(user(1, "ada", Role::User))));
        });
        let (service, storage) = f.service();

        assert_eq!(service.login(login, "wrong-pass", None).await, Err(AppError::InvalidCredentials));
        assert_eq!(storage.calls(), ["read", "reserve"], "the counted attempt stands as the failure");
    }
}

#[tokio::test]
async fn the_attempt_is_counted_before_the_password_is_checked() {
    let mut f = Fixture::new();
    let mut order = mockall::Sequence::new();
    f.storage.attempts().expect_reserve().times(1).in_sequence(&mut order).returning(|_, _, _| Ok(counted(10)));
    f.hasher.expect_verify().times(1).in_sequence(&mut order).returning(|_, _| Ok(false));
    f.storage.unit(|uow| {
        uow.users.expect_find_by_username().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    let (service, _) = f.service();

    assert_eq!(
        service.login("ada", "wrong-pass", None).await,
        Err(AppError::InvalidCredentials),
        "the 10th is checked"
    );
}

/// Over the limit nothing is hashed — the right password is locked out too — and an account and
/// an unknown name get the same answer for the same work: one lookup, one count.
#[tokio::test]
async fn over_the_limit_the_answer_is_429_without_a_hash_for_an_account_and_an_unknown_name() {
    for (login, key) in [("ada", ADA), ("ghost", name_key("ghost"))] {
        let mut f = Fixture::new();
        f.counts(key, 11);
        f.hasher.expect_verify().never();
        f.hasher.expect_verify_dummy().never();
        f.storage.unit(|uow| {
            let found = (login == "ada").then(|| user(1, "ada", Role::User));
            uow.users.expect_find_by_username().times(1).return_once(move |_| Ok(found));
        });
        let (service, storage) = f.service();

        let answer = service.login(login, "correct horse", None).await;

        assert_eq!(answer, Err(AppError::TooManyRequests { retry_after_secs: 601 }), "{login}");
        assert_eq!(storage.calls(), ["read", "reserve"], "{login}");
    }
}

#[tokio::test]
async fn a_limiter_that_cannot_count_fails_the_login_unchecked() {
    let mut f = Fixture::new();
    f.storage.attempts().expect_reserve().returning(|_, _, _| Err(StorageError::unavailable("down")));
    f.hasher.expect_verify().never();
    f.storage.unit(|uow| {
        uow.users.expect_find_by_username().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    let (service, _) = f.service();

    assert_eq!(service.login("ada", "correct horse", None).await, Err(AppError::Unavailable));
}

/// One call more than a login without a limiter: the count. Clearing it is the chain's insert's
/// job, in the login's own unit of work.
#[tokio::test]
async fn login_starts_a_chain_under_the_users_epoch() {
    let mut f = Fixture::new();
    f.counts(ADA, 1);
    f.hasher.expect_verify().returning(|_, _| Ok(true));
    f.storage.unit(|uow| {
        uow.users.expect_find_by_username().returning(|_| Ok(Some(user(1, "ada", Role::User))));
    });
    f.storage.unit(|uow| {
        uow.tokens
            .expect_insert_chain()
            .withf(|c| {
                c.session_epoch == 4
                    && c.user_id.0 == uuid(1)
                    && c.revoked_at.is_none()
                    && (c.created_at, c.ends_at) == (NOW, NOW + Duration::days(90))
            })
            .times(1)
            .returning(|_| Ok(()));
        uow.tokens
            .expect_insert_token()
            .withf(|t| t.expires_at == NOW + Duration::days(30) && t.spent_at.is_none() && t.chain_id.0 == uuid(42))
            .times(1)
            .returning(|_| Ok(()));
    });
    let (service, storage) = f.service();

    let pair = service.login("ada", "correct horse", None).await.unwrap();

    assert_eq!(pair, TokenPair { access_token: "access".into(), expires_in: 900, refresh_token: "next-secret".into() });
    assert_eq!(storage.calls(), ["read", "reserve", "begin", "commit"]);
}

#[tokio::test]
async fn refresh_spends_the_token_and_continues_the_chain() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        refresh_reads(uow, token(false, Duration::days(1)), chain(false, 4));
        uow.tokens.expect_spend_token().with(eq(TokenHash(hash_of("old-secret"))), eq(NOW)).returning(|_, _| Ok(()));
        uow.tokens.expect_insert_token().withf(|t| t.chain_id.0 == uuid(9)).times(1).returning(|_| Ok(()));
    });
    let (service, storage) = f.service();

    let pair = service.refresh("old-secret", None).await.unwrap();

    assert_eq!(pair.refresh_token, "next-secret");
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn near_the_logins_max_age_the_fresh_token_expires_with_the_chain() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        refresh_reads(uow, token(false, Duration::days(1)), chain_ending_in(Duration::hours(2)));
        uow.tokens.expect_spend_token().returning(|_, _| Ok(()));
        uow.tokens
            .expect_insert_token()
            .withf(|t| t.expires_at == NOW + Duration::hours(2))
            .times(1)
            .returning(|_| Ok(()));
    });
    let (service, _) = f.service();

    assert!(service.refresh("old-secret", None).await.is_ok());
}

#[tokio::test]
async fn refresh_with_an_unknown_token_is_invalid_and_writes_nothing() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.tokens.expect_find_token().returning(|_| Ok(None));
    });
    let (service, storage) = f.service();

    assert_eq!(service.refresh("nope", None).await, Err(AppError::InvalidRefreshToken));
    assert_eq!(storage.calls(), ["begin"]);
}

#[tokio::test]
async fn refresh_on_a_dead_chain_or_expired_token_is_invalid() {
    let cases = [
        (token(false, Duration::days(1)), chain(true, 4)),  // logged out
        (token(false, Duration::days(1)), chain(false, 3)), // password changed since
        (token(false, Duration::ZERO), chain(false, 4)),    // expired
        (token(true, Duration::days(1)), chain(true, 4)),   // spent, but the chain is already dead
        (token(false, Duration::days(1)), chain_ending_in(Duration::ZERO)), // the login's max age
        (token(true, Duration::days(1)), chain_ending_in(-Duration::days(1))), // spent, chain ended
    ];
    for (token, chain) in cases {
        let f = Fixture::new();
        f.storage.unit(|uow| refresh_reads(uow, token, chain));
        let (service, storage) = f.service();

        assert_eq!(service.refresh("old-secret", None).await, Err(AppError::InvalidRefreshToken));
        assert_eq!(storage.calls(), ["begin"], "nothing may be committed");
    }
}

#[tokio::test]
async fn presenting_a_spent_token_revokes_its_chain() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        refresh_reads(uow, token(true, Duration::days(1)), chain(false, 4));
        uow.tokens.expect_revoke_chain().with(eq(ChainId(uuid(9))), eq(NOW)).times(1).returning(|_, _| Ok(()));
    });
    let (service, storage) = f.service();

    assert_eq!(service.refresh("old-secret", None).await, Err(AppError::RefreshTokenReused));
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn losing_the_spend_race_at_the_write_is_reuse() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        refresh_reads(uow, token(false, Duration::days(1)), chain(false, 4));
        uow.tokens.expect_spend_token().returning(|_, _| Err(StorageError::ConditionFailed));
        uow.tokens.expect_revoke_chain().times(1).returning(|_, _| Ok(()));
    });
    let (service, storage) = f.service();

    assert_eq!(service.refresh("old-secret", None).await, Err(AppError::RefreshTokenReused));
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn losing_the_spend_race_at_commit_is_reuse_too() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        refresh_reads(uow, token(false, Duration::days(1)), chain(false, 4));
        uow.tokens.expect_spend_token().returning(|_, _| Ok(()));
        uow.tokens.expect_insert_token().returning(|_| Ok(()));
        uow.commit_result = Err(StorageError::ConditionFailed);
    });
    f.storage.unit(|uow| {
        uow.tokens.expect_revoke_chain().with(eq(ChainId(uuid(9))), eq(NOW)).times(1).returning(|_, _| Ok(()));
    });
    let (service, storage) = f.service();

    assert_eq!(service.refresh("old-secret", None).await, Err(AppError::RefreshTokenReused));
    assert_eq!(storage.calls(), ["begin", "commit", "begin", "commit"]);
}

#[tokio::test]
async fn refresh_passes_storage_outages_through() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.tokens.expect_find_token().returning(|_| Err(StorageError::unavailable("down")));
    });
    let (service, _) = f.service();

    assert_eq!(service.refresh("x", None).await, Err(AppError::Unavailable));
}

#[tokio::test]
async fn logout_revokes_the_chain_and_ignores_unknown_tokens() {
    let f = Fixture::new();
    f.storage.unit(|uow| {
        uow.tokens.expect_find_token().return_once(|_| Ok(Some(token(false, Duration::days(1)))));
        uow.tokens.expect_revoke_chain().with(eq(ChainId(uuid(9))), eq(NOW)).times(1).returning(|_, _| Ok(()));
    });
    f.storage.unit(|uow| {
        uow.tokens.expect_find_token().returning(|_| Ok(None));
    });
    let (service, storage) = f.service();

    assert_eq!(service.logout("old-secret", None).await, Ok(()));
    assert_eq!(service.logout("unknown", None).await, Ok(()));
    assert_eq!(storage.calls(), ["begin", "commit", "begin"]);
}

#[tokio::test]
async fn authenticate_checks_the_token_against_the_clock() {
    let mut f = Fixture::new();
    f.tokens.expect_verify_access().with(eq("good"), eq(NOW)).returning(|_, _| Ok(domain::users::UserId(uuid(1))));
    f.tokens.expect_verify_access().with(eq("bad"), eq(NOW)).returning(|_, _| Err(AppError::Unauthenticated));
    let (service, storage) = f.service();

    assert_eq!(service.authenticate("good").map(|p| p.user_id.0), Ok(uuid(1)));
    assert_eq!(service.authenticate("bad"), Err(AppError::Unauthenticated));
    assert!(storage.calls().is_empty());
}
