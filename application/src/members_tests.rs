use std::sync::Arc;

use domain::projects::{ProjectId, ProjectRole};
use domain::users::{Role, UserId};
use domain::{Conflict, StorageError};

use super::*;
use crate::ports::MockCursorCodec;
use crate::ports::MockIdGenerator;
use crate::testing::{fixed_clock, member, user, uuid, FakeStorage, FakeUow, NOW};

fn service() -> (MemberService, Arc<FakeStorage>) {
    let storage = Arc::new(FakeStorage::default());
    let deps = WorkspaceDeps {
        storage: storage.clone(),
        clock: Arc::new(fixed_clock()),
        ids: Arc::new(MockIdGenerator::new()),
        cursors: Arc::new(MockCursorCodec::new()),
    };
    (MemberService::new(deps), storage)
}

const OWNER: u128 = 1;
const BOB: u128 = 2;

fn as_user(n: u128) -> Principal {
    Principal { user_id: UserId(uuid(n)) }
}

/// Memberships: the caller (user 1 unless said otherwise) and the target (user 2).
fn memberships(uow: &mut FakeUow, caller: Option<ProjectRole>, target: Option<ProjectRole>) {
    uow.members.expect_get().returning(move |_, u| {
        let role = if u == UserId(uuid(OWNER)) { caller } else { target };
        Ok(role.map(|r| member(5, u.0.as_u128(), r)))
    });
}

#[tokio::test]
async fn nobody_can_be_made_owner() {
    let (service, storage) = service();
    let result = service.put(as_user(OWNER), ProjectId(uuid(5)), UserId(uuid(BOB)), ProjectRole::Owner).await;
    assert_eq!(result, Err(AppError::CannotChangeOwner));
    assert!(storage.calls().is_empty());
}

#[tokio::test]
async fn only_the_owner_shares_and_strangers_do_not_see_the_project() {
    for (caller, expected) in [
        (Some(ProjectRole::Editor), AppError::Forbidden),
        (Some(ProjectRole::Viewer), AppError::Forbidden),
        (None, AppError::NotFound(Resource::Project)),
    ] {
        let (service, storage) = service();
        storage.unit(move |uow| {
            memberships(uow, caller, None);
            uow.members.expect_insert().never();
        });
        let result = service.put(as_user(OWNER), ProjectId(uuid(5)), UserId(uuid(BOB)), ProjectRole::Viewer).await;
        assert_eq!(result, Err(expected));
    }
}

#[tokio::test]
async fn sharing_adds_then_changes_then_keeps() {
    let (service, storage) = service();
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), None);
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
        uow.members
            .expect_insert()
            .withf(|m| m.role == ProjectRole::Viewer && m.added_at == NOW)
            .times(1)
            .returning(|_| Ok(()));
    });
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), Some(ProjectRole::Viewer));
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
        uow.members.expect_set_role().times(1).returning(|_, _, _| Ok(()));
    });
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), Some(ProjectRole::Editor));
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
        uow.members.expect_set_role().never();
    });
    let put = |role| service.put(as_user(OWNER), ProjectId(uuid(5)), UserId(uuid(BOB)), role);

    assert_eq!(put(ProjectRole::Viewer).await.map(|(_, o)| o), Ok(Outcome::Added));
    assert_eq!(put(ProjectRole::Editor).await.map(|(v, o)| (v.role, o)), Ok((ProjectRole::Editor, Outcome::Updated)));
    assert_eq!(put(ProjectRole::Editor).await.map(|(_, o)| o), Ok(Outcome::Updated));
    assert_eq!(storage.calls(), ["begin", "commit", "begin", "commit", "begin"]);
}

#[tokio::test]
async fn losing_the_race_to_add_retries_as_a_change() {
    let (service, storage) = service();
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), None);
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
        uow.members.expect_insert().returning(|_| Err(StorageError::Conflict(Conflict::AlreadyMember)));
    });
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), Some(ProjectRole::Viewer));
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
    });

    let result = service.put(as_user(OWNER), ProjectId(uuid(5)), UserId(uuid(BOB)), ProjectRole::Viewer).await;

    assert_eq!(result.map(|(_, o)| o), Ok(Outcome::Updated));
}

#[tokio::test]
async fn sharing_with_an_unknown_person_or_touching_the_owner_is_refused() {
    let (service, storage) = service();
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), None);
        uow.users.expect_get().returning(|_| Ok(None));
    });
    storage.unit(|uow| {
        memberships(uow, Some(ProjectRole::Owner), Some(ProjectRole::Owner));
        uow.users.expect_get().returning(|_| Ok(Some(user(BOB, "bob", Role::User))));
    });
    let put = || service.put(as_user(OWNER), ProjectId(uuid(5)), UserId(uuid(BOB)), ProjectRole::Editor);

    assert_eq!(put().await, Err(AppError::NotFound(Resource::User)));
    assert_eq!(put().await, Err(AppError::CannotChangeOwner));
}

#[tokio::test]
async fn members_leave_the_owner_cannot_and_others_are_removed_by_the_owner_only() {
    type Case = (u128, u128, Option<ProjectRole>, Option<ProjectRole>, Result<(), AppError>);
    let cases: [Case; 5] = [
        // (caller, target, caller's role, target's role, expected)
        (BOB, BOB, Some(ProjectRole::Viewer), Some(ProjectRole::Viewer), Ok(())),
        (OWNER, OWNER, Some(ProjectRole::Owner), Some(ProjectRole::Owner), Err(AppError::CannotChangeOwner)),
        (OWNER, BOB, Some(ProjectRole::Owner), Some(ProjectRole::Editor), Ok(())),
        (OWNER, BOB, Some(ProjectRole::Editor), Some(ProjectRole::Viewer), Err(AppError::Forbidden)),
        (OWNER, BOB, Some(ProjectRole::Owner), None, Err(AppError::NotFound(Resource::Member))),
    ];
    for (caller, target, caller_role, target_role, expected) in cases {
        let (service, storage) = service();
        let writes = expected.is_ok();
        storage.unit(move |uow| {
            uow.members.expect_get().returning(move |_, u| {
                let role = if u == UserId(uuid(caller)) { caller_role } else { target_role };
                Ok(role.map(|r| member(5, u.0.as_u128(), r)))
            });
            uow.members.expect_remove().times(usize::from(writes)).returning(|_, _| Ok(()));
        });
        let result = service.remove(as_user(caller), ProjectId(uuid(5)), UserId(uuid(target))).await;
        assert_eq!(result, expected, "{caller} removes {target} as {caller_role:?}");
    }
}
