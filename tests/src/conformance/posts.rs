//! `PostRepository` contract.

use application::ports::Storage;
use domain::posts::{CreatorPostsQuery, PostStatus, PostTitle, ProjectPostsQuery, Slug};
use domain::projects::{ProjectId, ProjectRole};
use domain::{Conflict, PageBudget, PageLimit, StorageError};
use time::Duration;
use uuid::Uuid;

use super::workspace::{add_member, new_post, stored_post, stored_project, stored_user};
use super::{assert_matches, T0};

pub async fn a_post_is_stored_with_its_creator_and_slugs_are_unique_per_project(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &ada, "Other", 1).await;
    let post = stored_post(storage, &project, &ada, "hello", PostStatus::Draft, 2).await;
    stored_post(storage, &other, &ada, "hello", PostStatus::Draft, 3).await;

    let mut reader = storage.read().await.unwrap();
    let view = reader.posts().view(post.id).await.unwrap().unwrap();
    assert_eq!(view.post, post);
    assert_eq!(view.creator, ada.profile());
    drop(reader);

    let clash = new_post(&project, &ada, "hello", PostStatus::Draft, 4);
    let result = async {
        let mut uow = storage.begin().await?;
        uow.posts().insert(&clash).await?;
        uow.commit().await
    }
    .await;
    assert_matches!(result, Err(StorageError::Conflict(Conflict::SlugTaken)));

    let mut ghost_project = project.clone();
    ghost_project.id = ProjectId(Uuid::now_v7());
    let orphan = new_post(&ghost_project, &ada, "orphan", PostStatus::Draft, 5);
    let result = async {
        let mut uow = storage.begin().await?;
        uow.posts().insert(&orphan).await?;
        uow.commit().await
    }
    .await;
    assert_matches!(result, Err(StorageError::ConditionFailed), "a post needs its project");
}

pub async fn slugs_like_finds_the_base_and_its_numbered_forms_only(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    for (i, slug) in ["hello", "hello-2", "hello-world", "hellooo", "hell", "hello-10"].iter().enumerate() {
        stored_post(storage, &project, &ada, slug, PostStatus::Draft, i as i64).await;
    }

    let mut reader = storage.read().await.unwrap();
    let mut found: Vec<String> = reader
        .posts()
        .slugs_like(project.id, &Slug::parse("hello").unwrap())
        .await
        .unwrap()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    found.sort();
    assert_eq!(found, ["hello", "hello-10", "hello-2", "hello-world"]);
}

pub async fn post_updates_and_deletes_are_compare_and_set(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let post = stored_post(storage, &project, &ada, "hello", PostStatus::Draft, 1).await;
    let mut next = post.clone();
    next.title = PostTitle::parse("Hello again").unwrap();
    next.status = PostStatus::Published;
    next.published_at = Some(T0 + Duration::minutes(5));
    next.updated_at = Some(T0 + Duration::minutes(5));
    next.version = 2;

    let update = |expected: i64| {
        let next = next.clone();
        async move {
            let mut uow = storage.begin().await?;
            uow.posts().update(&next, expected).await?;
            uow.commit().await
        }
    };
    assert_matches!(update(1).await, Ok(()));
    assert_matches!(update(1).await, Err(StorageError::ConditionFailed));
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.posts().get(post.id).await.unwrap(), Some(next.clone()));
    drop(reader);

    let delete = |expected: i64| {
        let next = next.clone();
        async move {
            let mut uow = storage.begin().await?;
            uow.posts().delete(&next, expected).await?;
            uow.commit().await
        }
    };
    assert_matches!(delete(1).await, Err(StorageError::ConditionFailed));
    assert_matches!(delete(2).await, Ok(()));
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.posts().get(post.id).await.unwrap(), None);
    let view = reader.projects().view(project.id, ada.id).await.unwrap().unwrap();
    assert_eq!(view.post_count, 0);
}

pub async fn a_projects_posts_are_listed_by_newest_activity_with_a_status_filter(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &ada, "Other", 0).await;
    let old = stored_post(storage, &project, &ada, "old", PostStatus::Published, 1).await;
    let draft = stored_post(storage, &project, &ada, "draft", PostStatus::Draft, 2).await;
    let newest = stored_post(storage, &project, &ada, "newest", PostStatus::Published, 3).await;
    stored_post(storage, &other, &ada, "elsewhere", PostStatus::Published, 4).await;
    // Editing the old post makes it the most active.
    let mut edited = old.clone();
    edited.updated_at = Some(T0 + Duration::minutes(10));
    edited.version = 2;
    let mut uow = storage.begin().await.unwrap();
    uow.posts().update(&edited, 1).await.unwrap();
    uow.commit().await.unwrap();

    let list = |status: Option<PostStatus>, limit: i64| async move {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let mut reader = storage.read().await.unwrap();
            let query = ProjectPostsQuery {
                project: project.id,
                status,
                after,
                limit: PageLimit::parse(limit).unwrap(),
                budget: PageBudget::DEFAULT,
            };
            let page = reader.posts().list_for_project(&query).await.unwrap();
            all.extend(page.items.into_iter().map(|v| v.post.id));
            after = page.next;
            if after.is_none() {
                return all;
            }
        }
    };
    assert_eq!(list(None, 1).await, [old.id, newest.id, draft.id]);
    assert_eq!(list(None, 20).await, [old.id, newest.id, draft.id]);
    assert_eq!(list(Some(PostStatus::Published), 1).await, [old.id, newest.id]);
    assert_eq!(list(Some(PostStatus::Draft), 2).await, [draft.id]);
}

pub async fn a_creators_posts_are_those_the_viewer_may_see(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let viewer = stored_user(storage, "vic").await;
    let shared_as_viewer = stored_project(storage, &ada, "Viewed", 0).await;
    let shared_as_editor = stored_project(storage, &ada, "Edited", 0).await;
    let private = stored_project(storage, &ada, "Private", 0).await;
    add_member(storage, &shared_as_viewer, &viewer, ProjectRole::Viewer, 1).await;
    add_member(storage, &shared_as_editor, &viewer, ProjectRole::Editor, 1).await;
    let p1 = stored_post(storage, &shared_as_viewer, &ada, "published-viewed", PostStatus::Published, 2).await;
    let _hidden_draft = stored_post(storage, &shared_as_viewer, &ada, "draft-viewed", PostStatus::Draft, 3).await;
    let p3 = stored_post(storage, &shared_as_editor, &ada, "draft-edited", PostStatus::Draft, 4).await;
    let _private = stored_post(storage, &private, &ada, "private", PostStatus::Published, 5).await;
    let _not_ada = stored_post(storage, &shared_as_editor, &viewer, "by-vic", PostStatus::Published, 6).await;

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let mut reader = storage.read().await.unwrap();
        let query = CreatorPostsQuery {
            creator: ada.id,
            viewer: viewer.id,
            drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
            after,
            limit: PageLimit::parse(1).unwrap(),
            budget: PageBudget::DEFAULT,
        };
        let page = reader.posts().list_for_creator(&query).await.unwrap();
        for view in &page.items {
            assert_eq!(view.creator, ada.profile());
        }
        seen.extend(page.items.iter().map(|v| v.post.id));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen, [p3.id, p1.id]);
}

/// A budget no page reaches: the case below is about the backends' own limits, not the API's.
const UNBOUNDED: PageBudget = PageBudget::bytes(usize::MAX);

/// Posts of the largest size (100,000 characters of 4-byte UTF-8 each): a full page is full
/// whatever the backend's limits per response (DynamoDB returns at most 1 MB per Query and 16 MB
/// per BatchGetItem). The API's own budget on pages is `pages.rs`'s.
pub async fn pages_of_the_largest_posts_are_complete(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Heavy", 0).await;
    let body = domain::posts::PostBody::parse("\u{1F600}".repeat(100_000)).unwrap();
    for i in 0..12 {
        let mut post = new_post(&project, &ada, &format!("heavy-{i:02}"), PostStatus::Published, 1 + i);
        post.body = body.clone();
        let mut uow = storage.begin().await.unwrap();
        uow.posts().insert(&post).await.unwrap();
        uow.commit().await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    let query = ProjectPostsQuery {
        project: project.id,
        status: None,
        after: None,
        limit: PageLimit::parse(10).unwrap(),
        budget: UNBOUNDED,
    };
    let first = reader.posts().list_for_project(&query).await.unwrap();
    assert_eq!(first.items.len(), 10);
    assert!(first.items.iter().all(|v| v.post.body == body));
    let rest = ProjectPostsQuery { after: first.next, ..query };
    let second = reader.posts().list_for_project(&rest).await.unwrap();
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next, None);
    let creators = CreatorPostsQuery {
        creator: ada.id,
        viewer: ada.id,
        drafts_visible_to: vec![ProjectRole::Owner],
        after: None,
        limit: PageLimit::parse(10).unwrap(),
        budget: UNBOUNDED,
    };
    assert_eq!(reader.posts().list_for_creator(&creators).await.unwrap().items.len(), 10);
}

/// A creator whose newest posts are hidden from the caller: 980 in one project, and one in each
/// of 150 more (more projects than one lookup of memberships covers). Pages may come short,
/// even empty, where a backend bounds its work per page; the walk still ends, and shows each
/// visible post once, in order.
pub async fn a_creators_posts_behind_many_hidden_ones_are_each_found_once(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let vic = stored_user(storage, "vic").await;
    let shared = stored_project(storage, &ada, "Shared", 0).await;
    add_member(storage, &shared, &vic, ProjectRole::Viewer, 0).await;
    let mut visible = Vec::new();
    for i in 0..3 {
        visible.insert(
            0,
            stored_post(storage, &shared, &ada, &format!("seen-{i}"), PostStatus::Published, 1 + i).await.id,
        );
    }
    stored_post(storage, &shared, &ada, "draft", PostStatus::Draft, 5).await;
    for batch in 0..5 {
        // 30 projects per unit of work: on DynamoDB 90 items (project, owner, owner's copy).
        let mut uow = storage.begin().await.unwrap();
        let mut projects = Vec::new();
        for i in 0..30 {
            let mut project = shared.clone();
            project.id = ProjectId(Uuid::now_v7());
            project.name = domain::projects::ProjectName::parse(format!("Private {batch}-{i}")).unwrap();
            uow.projects().insert(&project).await.unwrap();
            let owner = domain::members::Member {
                project_id: project.id,
                user_id: ada.id,
                role: ProjectRole::Owner,
                added_at: project.created_at,
            };
            uow.members().insert(&owner).await.unwrap();
            projects.push(project);
        }
        uow.commit().await.unwrap();
        let mut uow = storage.begin().await.unwrap();
        for (i, project) in projects.iter().enumerate() {
            let post = new_post(project, &ada, &format!("elsewhere-{batch}-{i}"), PostStatus::Published, 10 + batch);
            uow.posts().insert(&post).await.unwrap();
        }
        uow.commit().await.unwrap();
    }
    let private = stored_project(storage, &ada, "Private", 0).await;
    for batch in 0..20 {
        // 49 posts per unit of work: on DynamoDB 98 items (post, pointer) and one counter.
        let mut uow = storage.begin().await.unwrap();
        for i in 0..49 {
            let post = new_post(&private, &ada, &format!("hidden-{batch}-{i}"), PostStatus::Published, 100 + batch);
            uow.posts().insert(&post).await.unwrap();
        }
        uow.commit().await.unwrap();
    }

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let query = CreatorPostsQuery {
            creator: ada.id,
            viewer: vic.id,
            drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
            after: after.take(),
            limit: PageLimit::parse(2).unwrap(),
            budget: PageBudget::DEFAULT,
        };
        let page = storage.read().await.unwrap().posts().list_for_creator(&query).await.unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|v| v.post.id));
        after = page.next;
        if after.is_none() {
            break;
        }
        assert!(pages < 20, "the walk makes no progress: {pages} pages, {} posts", seen.len());
    }
    assert_eq!(seen, visible);
}
