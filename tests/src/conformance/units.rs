//! Unit-of-work contract: all or nothing, nothing without commit, and at most 100 writes.

use application::ports::{Storage, MAX_WRITES_PER_UNIT};
use domain::auth::{ChainId, RefreshChain};
use domain::StorageError;
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

/// Counted in writes of one item each (a login's chain): on DynamoDB a write may take more
/// items (a user and its two uniqueness claims are three), and the limit is one transaction's.
pub async fn a_unit_of_work_holds_at_most_one_hundred_writes(storage: &dyn Storage) {
    let user = new_user("ada");
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.commit().await.unwrap();
    let chains: Vec<_> = (0..=MAX_WRITES_PER_UNIT)
        .map(|_| RefreshChain {
            id: ChainId(Uuid::now_v7()),
            user_id: user.id,
            session_epoch: 0,
            created_at: T0,
            revoked_at: None,
        })
        .collect();
    let result = async {
        let mut uow = storage.begin().await?;
        for chain in &chains {
            uow.refresh_tokens().insert_chain(chain).await?;
        }
        uow.commit().await
    }
    .await;
    assert!(result.is_err(), "the 101st write must be refused");
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.refresh_tokens().get_chain(chains[0].id).await.unwrap(), None, "and nothing of the unit lands");

    let mut uow = storage.begin().await.unwrap();
    for chain in &chains[..MAX_WRITES_PER_UNIT] {
        uow.refresh_tokens().insert_chain(chain).await.unwrap();
    }
    uow.commit().await.unwrap();
    let mut reader = storage.read().await.unwrap();
    for chain in [&chains[0], &chains[MAX_WRITES_PER_UNIT - 1]] {
        assert!(reader.refresh_tokens().get_chain(chain.id).await.unwrap().is_some());
    }
}
