//! `RefreshTokenRepository` contract.

use application::ports::{SessionsSwept, Storage};
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::users::UserId;
use domain::StorageError;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{assert_matches, new_user, T0};
use crate::backend::TestBackend;

async fn user_with_chain(storage: &dyn Storage) -> (RefreshChain, RefreshToken) {
    let user = new_user("ada");
    let chain = RefreshChain {
        id: ChainId(Uuid::now_v7()),
        user_id: user.id,
        session_epoch: 2,
        created_at: T0,
        ends_at: T0 + Duration::days(90),
        revoked_at: None,
    };
    let token = RefreshToken {
        hash: TokenHash([7; 32]),
        chain_id: chain.id,
        user_id: user.id,
        issued_at: T0,
        expires_at: T0 + Duration::days(30),
        spent_at: None,
    };
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.refresh_tokens().insert_chain(&chain).await.unwrap();
    uow.refresh_tokens().insert_token(&token).await.unwrap();
    uow.commit().await.unwrap();
    (chain, token)
}

pub async fn chains_and_tokens_are_stored_and_found(storage: &dyn Storage) {
    let (chain, token) = user_with_chain(storage).await;

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.refresh_tokens().get_chain(chain.id).await.unwrap(), Some(chain));
    assert_eq!(reader.refresh_tokens().find_token(&token.hash).await.unwrap(), Some(token));
    assert_eq!(reader.refresh_tokens().find_token(&TokenHash([8; 32])).await.unwrap(), None);
    assert_eq!(reader.refresh_tokens().get_chain(ChainId(Uuid::now_v7())).await.unwrap(), None);
}

pub async fn a_token_is_spent_exactly_once(storage: &dyn Storage) {
    let (_, token) = user_with_chain(storage).await;
    let spend = || async {
        let mut uow = storage.begin().await?;
        uow.refresh_tokens().spend_token(&token.hash, T0 + Duration::minutes(1)).await?;
        uow.commit().await
    };

    assert_matches!(spend().await, Ok(()));
    assert_matches!(spend().await, Err(StorageError::ConditionFailed));

    let mut reader = storage.read().await.unwrap();
    let stored = reader.refresh_tokens().find_token(&token.hash).await.unwrap().unwrap();
    assert_eq!(stored.spent_at, Some(T0 + Duration::minutes(1)), "the first spend is kept");
}

pub async fn revoking_a_chain_is_idempotent_and_keeps_the_first_time(storage: &dyn Storage) {
    let (chain, _) = user_with_chain(storage).await;
    for minutes in [1, 2] {
        let mut uow = storage.begin().await.unwrap();
        uow.refresh_tokens().revoke_chain(chain.id, T0 + Duration::minutes(minutes)).await.unwrap();
        uow.commit().await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    let stored = reader.refresh_tokens().get_chain(chain.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(T0 + Duration::minutes(1)));
}

/// Stores `chain` (of a new user) with one token per `(hash byte, expiry)`.
async fn chain_with_tokens(
    storage: &dyn Storage,
    ends_at: OffsetDateTime,
    revoked: bool,
    tokens: &[(u8, OffsetDateTime)],
) -> ChainId {
    let user = new_user(&format!("user{}", tokens.first().map_or(0, |t| t.0)));
    let chain = RefreshChain {
        id: ChainId(Uuid::now_v7()),
        user_id: user.id,
        session_epoch: 0,
        created_at: T0,
        ends_at,
        revoked_at: revoked.then_some(T0 + Duration::hours(1)),
    };
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.refresh_tokens().insert_chain(&chain).await.unwrap();
    for &(byte, expires_at) in tokens {
        uow.refresh_tokens().insert_token(&stored_token(byte, chain.id, user.id, expires_at)).await.unwrap();
    }
    uow.commit().await.unwrap();
    chain.id
}

fn stored_token(byte: u8, chain_id: ChainId, user_id: UserId, expires_at: OffsetDateTime) -> RefreshToken {
    RefreshToken { hash: TokenHash([byte; 32]), chain_id, user_id, issued_at: T0, expires_at, spent_at: None }
}

/// SQL removes at once; DynamoDB leaves it to its TTL (every item carries it) and removes none.
fn removes(swept: SessionsSwept) -> SessionsSwept {
    if TestBackend::from_env() == TestBackend::Dynamodb {
        SessionsSwept::default()
    } else {
        swept
    }
}

pub async fn the_sweep_removes_expired_tokens_and_chains_that_are_over_and_nothing_else(storage: &dyn Storage) {
    let now = T0 + Duration::days(3);
    let ms = Duration::milliseconds(1);
    let day = |n: i64| T0 + Duration::days(n);
    // Live, with one expired token and one live one.
    let live = chain_with_tokens(storage, day(90), false, &[(1, day(1)), (2, day(30))]).await;
    // Ended at `now` exactly (its token with it).
    let ended = chain_with_tokens(storage, now, false, &[(3, now)]).await;
    // Revoked, every token expired.
    let revoked = chain_with_tokens(storage, day(90), true, &[(4, day(1))]).await;
    // Revoked, but a token still unexpired (by a millisecond): kept until it expires.
    let revoked_live = chain_with_tokens(storage, day(90), true, &[(5, now + ms)]).await;
    // Neither revoked nor ended, its only token expired: the token goes, the chain waits its end.
    let idle = chain_with_tokens(storage, day(90), false, &[(6, now - ms)]).await;

    let swept = storage.expired_sessions().sweep(now, 100).await.unwrap();

    assert_eq!(swept, removes(SessionsSwept { tokens: 4, chains: 2 }), "tokens 1, 3, 4, 6; chains ended and revoked");
    assert_eq!(storage.expired_sessions().sweep(now, 100).await.unwrap(), SessionsSwept::default(), "nothing twice");
    let mut reader = storage.read().await.unwrap();
    let tokens = reader.refresh_tokens();
    for kept in [2, 5] {
        assert!(tokens.find_token(&TokenHash([kept; 32])).await.unwrap().is_some(), "token {kept} is live");
    }
    for chain in [live, revoked_live, idle] {
        assert!(tokens.get_chain(chain).await.unwrap().is_some(), "chain {chain:?} is not over");
    }
    if TestBackend::from_env() != TestBackend::Dynamodb {
        for gone in [1, 3, 4, 6] {
            assert!(tokens.find_token(&TokenHash([gone; 32])).await.unwrap().is_none(), "token {gone} expired");
        }
        for chain in [ended, revoked] {
            assert!(tokens.get_chain(chain).await.unwrap().is_none(), "chain {chain:?} is over");
        }
    }
}

pub async fn the_sweep_removes_at_most_its_limit_per_call(storage: &dyn Storage) {
    let expired: Vec<(u8, OffsetDateTime)> = (10..15).map(|byte| (byte, T0 + Duration::days(1))).collect();
    chain_with_tokens(storage, T0 + Duration::days(90), false, &expired).await;
    let now = T0 + Duration::days(2);

    let mut batches = Vec::new();
    for _ in 0..4 {
        batches.push(storage.expired_sessions().sweep(now, 2).await.unwrap().tokens);
    }

    let expected = if TestBackend::from_env() == TestBackend::Dynamodb { [0; 4] } else { [2, 2, 1, 0] };
    assert_eq!(batches, expected);
}
