//! `RefreshTokenRepository` contract.

use application::ports::Storage;
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::StorageError;
use time::Duration;
use uuid::Uuid;

use super::{assert_matches, new_user, T0};

async fn user_with_chain(storage: &dyn Storage) -> (RefreshChain, RefreshToken) {
    let user = new_user("ada");
    let chain = RefreshChain {
        id: ChainId(Uuid::now_v7()),
        user_id: user.id,
        session_epoch: 2,
        created_at: T0,
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
