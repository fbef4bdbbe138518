use std::sync::Arc;

use domain::posts::{PostId, PostStatus, Slug};
use domain::projects::{ProjectId, ProjectRole};
use domain::users::{Role, UserId};
use domain::{Conflict, Page, StorageError};

use super::*;
use crate::ports::MockCursorCodec;
use crate::ports::MockIdGenerator;
use crate::testing::{fixed_clock, member, post_view, user, uuid, FakeStorage, FakeUow, NOW};
use crate::validation::Field;

fn service() -> (PostService, Arc<FakeStorage>) {
    let storage = Arc::new(FakeStorage::default());
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(90));
    let deps = WorkspaceDeps {
        storage: storage.clone(),
        clock: Arc::new(fixed_clock()),
        ids: Arc::new(ids),
        cursors: Arc::new(MockCursorCodec::new()),
    };
    (PostService::new(deps), storage)
}

const ME: u128 = 1;

fn me() -> Principal {
    Principal { user_id: UserId(uuid(ME)) }
}

fn my_role(uow: &mut FakeUow, role: Option<ProjectRole>) {
    uow.members.expect_get().returning(move |p, u| Ok(role.map(|r| member(p.0.as_u128(), u.0.as_u128(), r))));
}

fn new_post(status: Field<PostStatus>) -> NewPost {
    NewPost { title: "Hello".into(), body: "text".into(), status }
}

fn changes(patch: PostPatch) -> PostChanges {
    PostChanges::parse(patch).expect("a valid change")
}

#[tokio::test]
async fn a_new_post_takes_the_first_free_slug_and_retries_when_beaten_to_it() {
    let (service, storage) = service();
    for attempt in 0..2 {
        storage.unit(move |uow| {
            my_role(uow, Some(ProjectRole::Editor));
            uow.users.expect_get().returning(|_| Ok(Some(user(ME, "ada", Role::User))));
            let taken: Vec<Slug> = if attempt == 0 { vec![] } else { vec![Slug::parse("hello").unwrap()] };
            uow.posts.expect_slugs_like().return_once(move |_, _| Ok(taken));
            if attempt == 0 {
                uow.posts.expect_insert().returning(|_| Err(StorageError::Conflict(Conflict::SlugTaken)));
            } else {
                uow.posts
                    .expect_insert()
                    .withf(|p| p.slug.as_str() == "hello-2" && p.published_at == Some(NOW) && p.version == 1)
                    .returning(|_| Ok(()));
            }
        });
    }

    let view =
        service.create(me(), ProjectId(uuid(5)), new_post(Field::Value(PostStatus::Published)), None).await.unwrap();

    assert_eq!(view.post.slug.as_str(), "hello-2");
    assert_eq!(view.post.updated_at, None);
    assert_eq!(storage.calls(), ["begin", "begin", "commit"]);
}

#[tokio::test]
async fn viewers_and_strangers_cannot_post() {
    for (role, expected) in
        [(Some(ProjectRole::Viewer), AppError::Forbidden), (None, AppError::NotFound(Resource::Project))]
    {
        let (service, storage) = service();
        storage.unit(move |uow| {
            my_role(uow, role);
            uow.posts.expect_insert().never();
        });
        assert_eq!(service.create(me(), ProjectId(uuid(5)), new_post(Field::Absent), None).await, Err(expected));
    }
}

#[tokio::test]
async fn a_new_post_names_a_null_status_with_a_bad_title_and_touches_nothing() {
    let (service, storage) = service();
    let new = NewPost { title: "".into(), body: "text".into(), status: Field::Null };

    let Err(AppError::Validation(v)) = service.create(me(), ProjectId(uuid(5)), new, None).await else {
        panic!("expected 422")
    };

    let fields: Vec<_> = v.iter().map(|v| (v.field, v.message.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("title", "must be 1 to 200 characters after trimming"),
            ("status", "must not be null; leave it out to keep the value"),
        ]
    );
    assert!(storage.calls().is_empty());
}

#[test]
fn a_post_change_names_a_null_status_and_a_long_title_in_one_answer() {
    let patch = PostPatch { status: Field::Null, title: Field::Value("x".repeat(300)), ..PostPatch::default() };

    let Err(AppError::Validation(v)) = PostChanges::parse(patch) else { panic!("expected 422") };

    let fields: Vec<_> = v.iter().map(|v| (v.field, v.message.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("title", "must be 1 to 200 characters after trimming"),
            ("status", "must not be null; leave it out to keep the value"),
        ],
        "every bad field, in the request's field order"
    );
}

#[tokio::test]
async fn viewers_list_published_posts_only() {
    let (service, storage) = service();
    storage.unit(|uow| {
        my_role(uow, Some(ProjectRole::Viewer));
        uow.posts
            .expect_list_for_project()
            .withf(|q| q.status == Some(PostStatus::Published))
            .times(1)
            .returning(|_| Ok(Page { items: vec![], next: None }));
    });
    storage.unit(|uow| {
        my_role(uow, Some(ProjectRole::Viewer));
        uow.posts.expect_list_for_project().never();
    });

    let all = service.list_for_project(me(), ProjectId(uuid(5)), None, None, None).await.unwrap();
    let drafts = service.list_for_project(me(), ProjectId(uuid(5)), Some(PostStatus::Draft), None, None).await.unwrap();

    assert!(all.items.is_empty() && drafts.items.is_empty() && drafts.next_cursor.is_none());
}

#[tokio::test]
async fn a_draft_is_not_found_for_a_viewer() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.posts.expect_view().returning(|_| Ok(Some(post_view(9, 5, 3, PostStatus::Draft))));
        my_role(uow, Some(ProjectRole::Viewer));
    });
    assert_eq!(service.get(me(), PostId(uuid(9))).await, Err(AppError::NotFound(Resource::Post)));
}

#[tokio::test]
async fn only_the_creator_or_the_owner_changes_a_post() {
    // (creator of the post, my role, expected)
    let cases = [
        (ME, ProjectRole::Editor, true),
        (3, ProjectRole::Editor, false),
        (3, ProjectRole::Owner, true),
        (ME, ProjectRole::Viewer, false),
    ];
    for (creator, role, allowed) in cases {
        let (service, storage) = service();
        storage.unit(move |uow| {
            uow.posts.expect_view().returning(move |_| Ok(Some(post_view(9, 5, creator, PostStatus::Published))));
            my_role(uow, Some(role));
            uow.posts.expect_update().times(usize::from(allowed)).returning(|_, _| Ok(()));
        });
        let changes = changes(PostPatch { body: Field::Value("new".into()), ..PostPatch::default() });
        let result = service.update(me(), PostId(uuid(9)), changes, None).await;
        assert_eq!(result.is_ok(), allowed, "creator {creator} as {role:?}: {result:?}");
        if !allowed {
            assert_eq!(result, Err(AppError::Forbidden));
        }
    }
}

#[tokio::test]
async fn publishing_sets_published_at_once() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.posts.expect_view().returning(|_| Ok(Some(post_view(9, 5, ME, PostStatus::Draft))));
        my_role(uow, Some(ProjectRole::Editor));
        uow.posts
            .expect_update()
            .withf(|p, expected| {
                *expected == 2 && p.published_at == Some(NOW) && p.updated_at == Some(NOW) && p.version == 3
            })
            .times(1)
            .returning(|_, _| Ok(()));
    });
    storage.unit(|uow| {
        let mut earlier = post_view(9, 5, ME, PostStatus::Draft);
        earlier.post.published_at = Some(NOW - time::Duration::days(1));
        uow.posts.expect_view().return_once(move |_| Ok(Some(earlier)));
        my_role(uow, Some(ProjectRole::Editor));
        uow.posts
            .expect_update()
            .withf(|p, _| p.published_at == Some(NOW - time::Duration::days(1)))
            .times(1)
            .returning(|_, _| Ok(()));
    });
    let publish = || changes(PostPatch { status: Field::Value(PostStatus::Published), ..PostPatch::default() });

    service.update(me(), PostId(uuid(9)), publish(), Some(2)).await.unwrap();
    service.update(me(), PostId(uuid(9)), publish(), None).await.unwrap();
}

#[tokio::test]
async fn a_stale_post_version_is_refused_before_writing() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.posts.expect_view().returning(|_| Ok(Some(post_view(9, 5, ME, PostStatus::Draft))));
        my_role(uow, Some(ProjectRole::Owner));
        uow.posts.expect_delete().never();
    });
    assert_eq!(service.delete(me(), PostId(uuid(9)), Some(1)).await, Err(AppError::VersionMismatch));
}

#[tokio::test]
async fn a_creators_posts_let_owners_and_editors_see_drafts() {
    let (service, storage) = service();
    storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(Some(user(3, "bob", Role::User))));
        uow.posts
            .expect_list_for_creator()
            .withf(|q| {
                q.drafts_visible_to == [ProjectRole::Owner, ProjectRole::Editor]
                    && q.viewer == UserId(uuid(ME))
                    && q.creator == UserId(uuid(3))
            })
            .returning(|_| Ok(Page { items: vec![], next: None }));
    });
    storage.unit(|uow| {
        uow.users.expect_get().returning(|_| Ok(None));
    });

    assert!(service.list_for_creator(me(), UserId(uuid(3)), None, None).await.is_ok());
    assert_eq!(
        service.list_for_creator(me(), UserId(uuid(4)), None, None).await,
        Err(AppError::NotFound(Resource::User))
    );
}
