use std::sync::Arc;

use domain::projects::{ProjectId, ProjectRole};
use domain::users::{Role, UserId};
use domain::StorageError;
use mockall::predicate::eq;

use super::*;
use crate::ports::MockCursorCodec;
use crate::ports::MockIdGenerator;
use crate::testing::{fixed_clock, member, project, project_view, user, uuid, FakeStorage, NOW};
use crate::validation::Field;

fn service() -> (ProjectService, Arc<FakeStorage>) {
    let storage = Arc::new(FakeStorage::default());
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(77));
    let deps = WorkspaceDeps {
        storage: storage.clone(),
        clock: Arc::new(fixed_clock()),
        ids: Arc::new(ids),
        cursors: Arc::new(MockCursorCodec::new()),
    };
    (ProjectService::new(deps), storage)
}

fn me() -> Principal {
    Principal { user_id: UserId(uuid(1)) }
}

fn rename(name: &str) -> ProjectChanges {
    ProjectChanges::parse(ProjectPatch { name: Field::Value(name.into()), ..ProjectPatch::default() })
        .expect("a valid change")
}

#[tokio::test]
async fn creating_a_project_stores_it_with_its_owner_membership_in_one_unit() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(1, "ada", Role::User))));
        uow.projects
            .expect_insert()
            .withf(|p| p.version == 1 && p.owner_id == UserId(uuid(1)))
            .times(1)
            .returning(|_| Ok(()));
        uow.members
            .expect_insert()
            .withf(|m| {
                m.role == ProjectRole::Owner && m.user_id == UserId(uuid(1)) && m.project_id == ProjectId(uuid(77))
            })
            .times(1)
            .returning(|_| Ok(()));
    });

    let view =
        service.create(me(), NewProject { name: " Apollo ".into(), description: Field::Absent }, None).await.unwrap();

    assert_eq!(view.project.name.as_str(), "Apollo");
    assert_eq!((view.my_role, view.member_count, view.post_count), (ProjectRole::Owner, 1, 0));
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn a_bad_project_reports_every_field_and_touches_nothing() {
    let (service, storage) = service();
    let Err(AppError::Validation(v)) =
        service.create(me(), NewProject { name: "".into(), description: Field::Value("d".repeat(2001)) }, None).await
    else {
        panic!("expected 422")
    };
    assert_eq!(v.iter().map(|v| v.field).collect::<Vec<_>>(), ["name", "description"]);
    assert!(storage.calls().is_empty());
}

#[tokio::test]
async fn a_null_description_is_reported_with_a_bad_name_and_touches_nothing() {
    let (service, storage) = service();
    let Err(AppError::Validation(v)) =
        service.create(me(), NewProject { name: " ".into(), description: Field::Null }, None).await
    else {
        panic!("expected 422")
    };
    let fields: Vec<_> = v.iter().map(|v| (v.field, v.message.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("name", "must be 1 to 100 characters after trimming"),
            ("description", "must not be null; leave it out to keep the value"),
        ]
    );
    assert!(storage.calls().is_empty());
}

#[test]
fn a_project_change_reports_a_null_with_every_other_invalid_field() {
    let patch = ProjectPatch { name: Field::Null, description: Field::Value("\u{0}".into()) };

    let Err(AppError::Validation(v)) = ProjectChanges::parse(patch) else { panic!("expected 422") };
    let fields: Vec<_> = v.iter().map(|v| (v.field, v.message.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("name", "must not be null; leave it out to keep the value"),
            ("description", "must not contain control characters other than line breaks and tabs"),
        ]
    );
}

#[tokio::test]
async fn viewers_cannot_edit_and_strangers_cannot_see() {
    for (view, expected) in [
        (Some(project_view(5, ProjectRole::Viewer)), AppError::Forbidden),
        (None, AppError::NotFound(Resource::Project)),
    ] {
        let (service, storage) = service();
        storage.unit(move |uow| {
            uow.projects.expect_view().return_once(move |_, _| Ok(view));
            uow.projects.expect_update().never();
        });
        assert_eq!(service.update(me(), ProjectId(uuid(5)), rename("New"), None).await, Err(expected));
    }
}

#[tokio::test]
async fn an_editor_edits_with_compare_and_set() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.projects.expect_view().returning(|_, _| Ok(Some(project_view(5, ProjectRole::Editor))));
        uow.projects
            .expect_update()
            .withf(|p, expected| *expected == 3 && p.version == 4 && p.name.as_str() == "New" && p.updated_at == NOW)
            .times(1)
            .returning(|_, _| Ok(()));
    });

    let view = service.update(me(), ProjectId(uuid(5)), rename("New"), Some(3)).await.unwrap();

    assert_eq!((view.project.version, view.post_count), (4, 5));
    assert_eq!(storage.calls(), ["begin", "commit"]);
}

#[tokio::test]
async fn a_stale_if_match_or_a_lost_race_is_a_version_mismatch() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.projects.expect_view().returning(|_, _| Ok(Some(project_view(5, ProjectRole::Owner))));
        uow.projects.expect_update().never();
    });
    storage.unit(|uow| {
        uow.projects.expect_view().returning(|_, _| Ok(Some(project_view(5, ProjectRole::Owner))));
        uow.projects.expect_update().returning(|_, _| Err(StorageError::ConditionFailed));
    });

    assert_eq!(service.update(me(), ProjectId(uuid(5)), rename("New"), Some(2)).await, Err(AppError::VersionMismatch));
    assert_eq!(service.update(me(), ProjectId(uuid(5)), rename("New"), None).await, Err(AppError::VersionMismatch));
}

#[tokio::test]
async fn only_the_owner_deletes_and_the_delete_is_compare_and_set() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.members.expect_get().returning(|_, _| Ok(Some(member(5, 1, ProjectRole::Editor))));
        uow.projects.expect_delete().never();
    });
    storage.unit(|uow| {
        uow.members.expect_get().returning(|_, _| Ok(None));
    });
    storage.unit(|uow| {
        uow.members.expect_get().returning(|_, _| Ok(Some(member(5, 1, ProjectRole::Owner))));
        uow.projects.expect_get().returning(|_| Ok(Some(project(5, 1))));
        uow.projects.expect_delete().with(eq(ProjectId(uuid(5))), eq(3)).times(1).returning(|_, _| Ok(()));
    });

    assert_eq!(service.delete(me(), ProjectId(uuid(5)), None).await, Err(AppError::Forbidden));
    assert_eq!(service.delete(me(), ProjectId(uuid(5)), None).await, Err(AppError::NotFound(Resource::Project)));
    assert_eq!(service.delete(me(), ProjectId(uuid(5)), Some(3)).await, Ok(()));
    assert_eq!(storage.calls(), ["begin", "begin", "begin", "commit"]);
}
