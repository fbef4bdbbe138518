//! Unit-of-work contract: all or nothing, nothing without commit, and at most 100 writes.

use application::ports::{Storage, MAX_WRITES_PER_UNIT};
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::StorageError;
use time::Duration;
use uuid::Uuid;

use super::{new_user, T0};

pub async fn a_dropped_unit_of_work_writes_nothing(storage: &dyn Storage) {
    let user = new_user("ada");
    {
        let mut uow = storage.begin().await.unwrap();
        uow.users().insert(&user).await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(user.id).await.unwrap(), None);
}

pub async fn a_failed_commit_writes_nothing_of_the_unit(storage: &dyn Storage) {
    let ada = new_user("ada");
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&ada).await.unwrap();
    uow.commit().await.unwrap();

    // One good write and one conflicting write in the same unit: neither may land.
    let bob = new_user("bob");
    let mut clash = new_user("ada");
    clash.email = domain::users::Email::parse("clash@example.com").unwrap();
    let result = async {
        let mut uow = storage.begin().await?;
        uow.users().insert(&bob).await?;
        uow.users().insert(&clash).await?;
        uow.commit().await
    }
    .await;
    assert!(matches!(result, Err(StorageError::Conflict(_))), "{result:?}");

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(bob.id).await.unwrap(), None, "all or nothing");
}

fn token_hash(i: usize) -> TokenHash {
    let mut hash = [7u8; 32];
    hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
    TokenHash(hash)
}

/// Counted in writes of one item each (a login's refresh tokens): on DynamoDB a write may take
/// more items (a user and its two uniqueness claims are three; a chain also clears its user's
/// login attempts), and the limit is one transaction's.
pub async fn a_unit_of_work_holds_at_most_one_hundred_writes(storage: &dyn Storage) {
    let user = new_user("ada");
    let chain = RefreshChain {
        id: ChainId(Uuid::now_v7()),
        user_id: user.id,
        session_epoch: 0,
        created_at: T0,
        ends_at: T0 + Duration::days(90),
        revoked_at: None,
    };
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.refresh_tokens().insert_chain(&chain).await.unwrap();
    uow.commit().await.unwrap();
    let tokens: Vec<_> = (0..=MAX_WRITES_PER_UNIT)
        .map(|i| RefreshToken {
            hash: token_hash(i),
            chain_id: chain.id,
            user_id: user.id,
            issued_at: T0,
            expires_at: T0 + Duration::days(1),
            spent_at: None,
        })
        .collect();
    let result = async {
        let mut uow = storage.begin().await?;
        for token in &tokens {
            uow.refresh_tokens().insert_token(token).await?;
        }
        uow.commit().await
    }
    .await;
    assert!(result.is_err(), "the 101st write must be refused");
    let mut reader = storage.read().await.unwrap();
    assert_eq!(
        reader.refresh_tokens().find_token(&tokens[0].hash).await.unwrap(),
        None,
        "and nothing of the unit lands"
    );

    let mut uow = storage.begin().await.unwrap();
    for token in &tokens[..MAX_WRITES_PER_UNIT] {
        uow.refresh_tokens().insert_token(token).await.unwrap();
    }
    uow.commit().await.unwrap();
    let mut reader = storage.read().await.unwrap();
    for token in [&tokens[0], &tokens[MAX_WRITES_PER_UNIT - 1]] {
        assert!(reader.refresh_tokens().find_token(&token.hash).await.unwrap().is_some());
    }
}
