//! `UserRepository` contract.

use application::ports::Storage;
use domain::users::{AvatarUrl, Email, UserId, UserListQuery, Username, UsernamePrefix};
use domain::{Conflict, Continuation, PageBudget, PageLimit, StorageError};
use uuid::Uuid;

use super::{assert_matches, new_user, T0};

pub async fn a_stored_user_is_found_by_id_email_and_username(storage: &dyn Storage) {
    let mut user = new_user("ada");
    user.avatar_url = Some(AvatarUrl::parse("https://example.com/ada.png").unwrap());
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.commit().await.unwrap();

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        reader.users().find_by_email(&Email::parse("ada@example.com").unwrap()).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(reader.users().find_by_username(&Username::parse("ada").unwrap()).await.unwrap(), Some(user.clone()));
    assert_eq!(reader.users().get(UserId(Uuid::now_v7())).await.unwrap(), None);
    assert_eq!(reader.users().find_by_email(&Email::parse("nobody@example.com").unwrap()).await.unwrap(), None);
    assert_eq!(reader.users().find_by_username(&Username::parse("nobody").unwrap()).await.unwrap(), None);
}

/// Inserts `user` in its own unit of work, returning the error from the write or the commit.
async fn insert(storage: &dyn Storage, user: &domain::users::User) -> Result<(), StorageError> {
    let mut uow = storage.begin().await?;
    uow.users().insert(user).await?;
    uow.commit().await
}

pub async fn a_taken_email_or_username_is_a_conflict_and_writes_nothing(storage: &dyn Storage) {
    insert(storage, &new_user("ada")).await.unwrap();

    let mut same_email = new_user("other");
    same_email.email = Email::parse("ada@example.com").unwrap();
    assert_matches!(insert(storage, &same_email).await, Err(StorageError::Conflict(Conflict::EmailTaken)));

    let mut same_username = new_user("ada");
    same_username.email = Email::parse("else@example.com").unwrap();
    assert_matches!(insert(storage, &same_username).await, Err(StorageError::Conflict(Conflict::UsernameTaken)));

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(same_email.id).await.unwrap(), None);
    assert_eq!(reader.users().get(same_username.id).await.unwrap(), None);
    assert_eq!(reader.users().find_by_email(&Email::parse("else@example.com").unwrap()).await.unwrap(), None);
}

pub async fn update_is_a_compare_and_set_on_the_version(storage: &dyn Storage) {
    let user = new_user("ada");
    insert(storage, &user).await.unwrap();

    let mut changed = user.clone();
    changed.username = Username::parse("countess").unwrap();
    changed.version = 2;
    changed.session_epoch = 3;
    changed.updated_at = T0 + time::Duration::seconds(5);
    let mut uow = storage.begin().await.unwrap();
    uow.users().update(&changed, 1).await.unwrap();
    uow.commit().await.unwrap();

    let mut stale = changed.clone();
    stale.first_name = domain::users::PersonName::parse("first_name", "Stale").unwrap();
    stale.version = 2;
    let result = async {
        let mut uow = storage.begin().await?;
        uow.users().update(&stale, 1).await?;
        uow.commit().await
    }
    .await;
    assert_matches!(result, Err(StorageError::ConditionFailed));

    let mut ghost = new_user("ghost");
    ghost.version = 2;
    let result = async {
        let mut uow = storage.begin().await?;
        uow.users().update(&ghost, 1).await?;
        uow.commit().await
    }
    .await;
    assert_matches!(result, Err(StorageError::ConditionFailed), "updating a missing user fails the condition");

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(user.id).await.unwrap(), Some(changed));
    assert_eq!(
        reader.users().find_by_username(&Username::parse("ada").unwrap()).await.unwrap(),
        None,
        "the old username is free again"
    );
}

pub async fn renaming_to_a_taken_username_is_a_conflict(storage: &dyn Storage) {
    let ada = new_user("ada");
    insert(storage, &ada).await.unwrap();
    insert(storage, &new_user("bob")).await.unwrap();

    let mut renamed = ada.clone();
    renamed.username = Username::parse("bob").unwrap();
    renamed.version = 2;
    let result = async {
        let mut uow = storage.begin().await?;
        uow.users().update(&renamed, 1).await?;
        uow.commit().await
    }
    .await;

    assert_matches!(result, Err(StorageError::Conflict(Conflict::UsernameTaken)));
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.users().get(ada.id).await.unwrap(), Some(ada));
}

pub async fn the_user_list_pages_by_username_without_repeats(storage: &dyn Storage) {
    let names = ["dora", "ada", "a_b", "axe", "bob", "abc", "carl"];
    for name in names {
        insert(storage, &new_user(name)).await.unwrap();
    }
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();

    let mut seen = Vec::new();
    let mut after: Option<Continuation> = None;
    let mut pages = 0;
    loop {
        let mut reader = storage.read().await.unwrap();
        let query = UserListQuery {
            prefix: None,
            after: after.clone(),
            limit: PageLimit::parse(3).unwrap(),
            budget: PageBudget::DEFAULT,
        };
        let page = reader.users().list(&query).await.unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|u| u.username.as_str().to_owned()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "the list never ends");
    }
    assert_eq!(seen, sorted);
    assert_eq!(pages, 3, "7 users in pages of 3, the last one short");
}

pub async fn the_user_list_filters_by_prefix_literally(storage: &dyn Storage) {
    for name in ["a_b", "axb", "a_c", "b_a"] {
        insert(storage, &new_user(name)).await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    let query = UserListQuery {
        prefix: Some(UsernamePrefix::parse("a_").unwrap()),
        after: None,
        limit: PageLimit::DEFAULT,
        budget: PageBudget::DEFAULT,
    };
    let page = reader.users().list(&query).await.unwrap();

    let names: Vec<_> = page.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["a_b", "a_c"], "`_` is a character, not a wildcard");
    assert_eq!(page.next, None);
}

pub async fn a_full_last_page_may_end_with_an_empty_one(storage: &dyn Storage) {
    for name in ["ada", "bob"] {
        insert(storage, &new_user(name)).await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    let first = reader
        .users()
        .list(&UserListQuery {
            prefix: None,
            after: None,
            limit: PageLimit::parse(2).unwrap(),
            budget: PageBudget::DEFAULT,
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    if let Some(next) = first.next {
        let rest = reader
            .users()
            .list(&UserListQuery {
                prefix: None,
                after: Some(next),
                limit: PageLimit::parse(2).unwrap(),
                budget: PageBudget::DEFAULT,
            })
            .await
            .unwrap();
        assert!(rest.items.is_empty());
        assert_eq!(rest.next, None);
    }
}
