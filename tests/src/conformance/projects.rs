//! `ProjectRepository` and `MemberRepository` contracts.

use application::ports::Storage;
use domain::members::MemberListQuery;
use domain::posts::{PostStatus, Slug};
use domain::projects::{ProjectListQuery, ProjectName, ProjectRole};
use domain::{Conflict, Continuation, PageBudget, PageLimit, StorageError};
use time::Duration;

use super::workspace::{add_member, new_post, stored_post, stored_project, stored_user};
use super::{assert_matches, T0};

pub async fn a_project_is_seen_by_its_members_only_with_exact_counts(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let eve = stored_user(storage, "eve").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    add_member(storage, &project, &bob, ProjectRole::Viewer, 1).await;
    stored_post(storage, &project, &ada, "one", PostStatus::Draft, 2).await;
    stored_post(storage, &project, &ada, "two", PostStatus::Published, 3).await;

    let mut reader = storage.read().await.unwrap();
    let as_owner = reader.projects().view(project.id, ada.id).await.unwrap().unwrap();
    assert_eq!(as_owner.project, project);
    assert_eq!(as_owner.owner, ada.profile());
    assert_eq!(as_owner.my_role, ProjectRole::Owner);
    assert_eq!((as_owner.member_count, as_owner.post_count), (2, 2), "drafts count, the owner counts");
    let as_viewer = reader.projects().view(project.id, bob.id).await.unwrap().unwrap();
    assert_eq!(as_viewer.my_role, ProjectRole::Viewer);
    assert_eq!(reader.projects().view(project.id, eve.id).await.unwrap(), None);
    assert_eq!(reader.projects().get(project.id).await.unwrap(), Some(project));
}

/// The counts follow every committed write and no rolled-back one, and lists show the same
/// counts as the single view.
pub async fn counts_follow_committed_writes_only(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let cyd = stored_user(storage, "cyd").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    add_member(storage, &project, &bob, ProjectRole::Editor, 1).await;
    add_member(storage, &project, &cyd, ProjectRole::Viewer, 2).await;
    let first = stored_post(storage, &project, &bob, "one", PostStatus::Published, 3).await;
    stored_post(storage, &project, &bob, "two", PostStatus::Draft, 4).await;

    // A unit that adds and removes, then is dropped uncommitted, changes no count.
    let mut uow = storage.begin().await.unwrap();
    uow.posts().insert(&new_post(&project, &ada, "three", PostStatus::Published, 5)).await.unwrap();
    uow.members().remove(project.id, cyd.id).await.unwrap();
    drop(uow);
    let mut reader = storage.read().await.unwrap();
    let view = reader.projects().view(project.id, ada.id).await.unwrap().unwrap();
    assert_eq!((view.member_count, view.post_count), (3, 2), "a rolled-back unit changes no count");
    drop(reader);

    let mut uow = storage.begin().await.unwrap();
    uow.members().remove(project.id, cyd.id).await.unwrap();
    uow.posts().delete(&first, first.version).await.unwrap();
    uow.commit().await.unwrap();
    let mut reader = storage.read().await.unwrap();
    let view = reader.projects().view(project.id, ada.id).await.unwrap().unwrap();
    assert_eq!((view.member_count, view.post_count), (2, 1), "removals count down");
    let listed = reader
        .projects()
        .list(&ProjectListQuery { member: bob.id, after: None, limit: PageLimit::DEFAULT, budget: PageBudget::DEFAULT })
        .await
        .unwrap()
        .items;
    assert_eq!(listed.iter().map(|v| (v.member_count, v.post_count)).collect::<Vec<_>>(), [(2, 1)]);
}

pub async fn project_updates_and_deletes_are_compare_and_set(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let mut renamed = project.clone();
    renamed.name = ProjectName::parse("Artemis").unwrap();
    renamed.version = 2;
    renamed.updated_at = T0 + Duration::hours(1);

    let attempt = |expected: i64| {
        let renamed = renamed.clone();
        async move {
            let mut uow = storage.begin().await?;
            uow.projects().update(&renamed, expected).await?;
            uow.commit().await
        }
    };
    assert_matches!(attempt(1).await, Ok(()));
    assert_matches!(attempt(1).await, Err(StorageError::ConditionFailed));

    let delete = |expected: i64| async move {
        let mut uow = storage.begin().await?;
        uow.projects().delete(project.id, expected).await?;
        uow.commit().await
    };
    assert_matches!(delete(1).await, Err(StorageError::ConditionFailed));
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.projects().get(project.id).await.unwrap(), Some(renamed));
    drop(reader);
    assert_matches!(delete(2).await, Ok(()));
    assert_matches!(delete(2).await, Err(StorageError::ConditionFailed), "deleting a deleted project");
}

pub async fn deleting_a_project_removes_its_members_and_posts(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &bob, "Other", 1).await;
    add_member(storage, &project, &bob, ProjectRole::Editor, 2).await;
    let post = stored_post(storage, &project, &bob, "gone", PostStatus::Published, 3).await;
    let kept = stored_post(storage, &other, &bob, "kept", PostStatus::Published, 4).await;

    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(project.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.projects().get(project.id).await.unwrap(), None);
    assert_eq!(reader.members().get(project.id, bob.id).await.unwrap(), None);
    assert_eq!(reader.members().get(project.id, ada.id).await.unwrap(), None);
    assert_eq!(reader.posts().get(post.id).await.unwrap(), None);
    assert_eq!(reader.posts().get(kept.id).await.unwrap(), Some(kept));
    let bobs = reader
        .projects()
        .list(&ProjectListQuery { member: bob.id, after: None, limit: PageLimit::DEFAULT, budget: PageBudget::DEFAULT })
        .await
        .unwrap();
    assert_eq!(bobs.items.iter().map(|v| v.project.id).collect::<Vec<_>>(), [other.id]);
}

/// More children than one DynamoDB transaction holds (100): the project is gone at once for
/// every reader, and afterwards nothing of it is left in storage.
pub async fn deleting_a_project_with_hundreds_of_posts_leaves_nothing(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Big", 0).await;
    let mut members = Vec::new();
    for i in 0..30 {
        let user = stored_user(storage, &format!("member{i:02}")).await;
        add_member(storage, &project, &user, ProjectRole::Editor, 1).await;
        members.push(user);
    }
    let mut posts = Vec::new();
    for chunk in 0..10 {
        // 30 posts per unit of work: on DynamoDB 60 items (post + pointer) and one counter.
        let mut uow = storage.begin().await.unwrap();
        for (i, creator) in members.iter().enumerate() {
            let post = new_post(&project, creator, &format!("post-{chunk}-{i}"), PostStatus::Published, 2);
            uow.posts().insert(&post).await.unwrap();
            posts.push(post);
        }
        uow.commit().await.unwrap();
    }
    let mut reader = storage.read().await.unwrap();
    let view = reader.projects().view(project.id, ada.id).await.unwrap().unwrap();
    assert_eq!((view.member_count, view.post_count), (31, 300));

    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(project.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.projects().get(project.id).await.unwrap(), None);
    for post in &posts {
        assert_eq!(reader.posts().get(post.id).await.unwrap(), None, "post {}", post.slug.as_str());
    }
    let base = Slug::parse("post").unwrap();
    assert_eq!(reader.posts().slugs_like(project.id, &base).await.unwrap(), Vec::<Slug>::new());
    let listed = reader
        .members()
        .list(&MemberListQuery {
            project: project.id,
            after: None,
            limit: PageLimit::DEFAULT,
            budget: PageBudget::DEFAULT,
        })
        .await
        .unwrap();
    assert_eq!(listed.items, Vec::new(), "no member is left in the project");
    for user in members.iter().chain([&ada]) {
        assert_eq!(reader.members().get(project.id, user.id).await.unwrap(), None);
        let theirs = reader
            .projects()
            .list(&ProjectListQuery {
                member: user.id,
                after: None,
                limit: PageLimit::DEFAULT,
                budget: PageBudget::DEFAULT,
            })
            .await
            .unwrap();
        assert_eq!(theirs.items, Vec::new());
    }
}

pub async fn a_members_projects_are_listed_newest_first_in_pages(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let owner = if i % 2 == 0 { &ada } else { &bob };
        let project = stored_project(storage, owner, &format!("P{i}"), i).await;
        if owner.id == bob.id {
            add_member(storage, &project, &ada, ProjectRole::Viewer, 10 + i).await;
        }
        expected.push(project.id);
    }
    let _unrelated = stored_project(storage, &bob, "not ada's", 20).await;
    expected.reverse();

    let mut seen = Vec::new();
    let mut after: Option<Continuation> = None;
    loop {
        let mut reader = storage.read().await.unwrap();
        let page = reader
            .projects()
            .list(&ProjectListQuery {
                member: ada.id,
                after: after.clone(),
                limit: PageLimit::parse(2).unwrap(),
                budget: PageBudget::DEFAULT,
            })
            .await
            .unwrap();
        for view in &page.items {
            let role = if view.project.owner_id == ada.id { ProjectRole::Owner } else { ProjectRole::Viewer };
            assert_eq!(view.my_role, role);
            assert_eq!(view.member_count, if role == ProjectRole::Owner { 1 } else { 2 });
        }
        seen.extend(page.items.iter().map(|v| v.project.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(seen.len() <= 10, "the list never ends");
    }
    assert_eq!(seen, expected);

    let mut reader = storage.read().await.unwrap();
    let foreign = Continuation(b"not a keyset".to_vec());
    let result = reader
        .projects()
        .list(&ProjectListQuery {
            member: ada.id,
            after: Some(foreign),
            limit: PageLimit::DEFAULT,
            budget: PageBudget::DEFAULT,
        })
        .await;
    assert_matches!(result.err(), Some(StorageError::BadContinuation));
}

pub async fn memberships_are_unique_and_changes_need_a_member(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    add_member(storage, &project, &bob, ProjectRole::Viewer, 1).await;

    let write = |f: &'static str| {
        let (project, bob) = (project.clone(), bob.clone());
        async move {
            let mut uow = storage.begin().await?;
            match f {
                "insert again" => {
                    let member = domain::members::Member {
                        project_id: project.id,
                        user_id: bob.id,
                        role: ProjectRole::Editor,
                        added_at: T0,
                    };
                    uow.members().insert(&member).await?
                }
                "promote" => uow.members().set_role(project.id, bob.id, ProjectRole::Editor).await?,
                "remove" => uow.members().remove(project.id, bob.id).await?,
                _ => unreachable!(),
            }
            uow.commit().await
        }
    };
    assert_matches!(write("insert again").await, Err(StorageError::Conflict(Conflict::AlreadyMember)));
    assert_matches!(write("promote").await, Ok(()));
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.members().get(project.id, bob.id).await.unwrap().map(|m| m.role), Some(ProjectRole::Editor));
    drop(reader);
    assert_matches!(write("remove").await, Ok(()));
    assert_matches!(write("remove").await, Err(StorageError::ConditionFailed));
    assert_matches!(write("promote").await, Err(StorageError::ConditionFailed));
}

pub async fn a_member_of_a_deleted_project_cannot_be_added(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(project.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let result = async {
        let mut uow = storage.begin().await?;
        let member = domain::members::Member {
            project_id: project.id,
            user_id: bob.id,
            role: ProjectRole::Viewer,
            added_at: T0,
        };
        uow.members().insert(&member).await?;
        uow.commit().await
    }
    .await;
    assert_matches!(result, Err(StorageError::ConditionFailed));
}

pub async fn members_are_listed_in_the_order_they_were_added(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let mut expected = vec![ada.id];
    for (i, name) in ["zed", "bob", "cat", "dan"].iter().enumerate() {
        let user = stored_user(storage, name).await;
        add_member(storage, &project, &user, ProjectRole::Viewer, 1 + i as i64).await;
        expected.push(user.id);
    }

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let mut reader = storage.read().await.unwrap();
        let query = MemberListQuery {
            project: project.id,
            after,
            limit: PageLimit::parse(2).unwrap(),
            budget: PageBudget::DEFAULT,
        };
        let page = reader.members().list(&query).await.unwrap();
        seen.extend(page.items.iter().map(|m| (m.user.id, m.role)));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expected);
    assert_eq!(seen[0].1, ProjectRole::Owner);
}
