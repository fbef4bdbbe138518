//! The byte budget of pages (API.md: a page also stops early once its items reach about 1 MiB
//! of JSON, holds at least one item, and `next_cursor` is null exactly at the end), on every
//! list of every backend: each page holds what fits its budget and stops only where the next
//! item would not fit, and a walk meets every item once, in order.

use std::future::Future;

use application::ports::Storage;
use domain::members::MemberListQuery;
use domain::posts::{CreatorPostsQuery, PostBody, PostId, PostStatus, ProjectPostsQuery};
use domain::projects::{Description, ProjectListQuery, ProjectRole};
use domain::users::{User, UserListQuery};
use domain::{Continuation, JsonSize, Page, PageBudget, PageLimit};

use super::workspace::{add_member, new_post, stored_project, stored_user};

/// Every page of one list, from the start to the page without a continuation.
async fn walk<T, F, Fut>(mut page: F) -> Vec<Page<T>>
where
    F: FnMut(Option<Continuation>) -> Fut,
    Fut: Future<Output = Page<T>>,
{
    let mut pages = Vec::new();
    let mut after = None;
    for _ in 0..200 {
        let got = page(after.take()).await;
        after = got.next.clone();
        pages.push(got);
        if after.is_none() {
            return pages;
        }
    }
    panic!("the list never ends");
}

/// Asserts the budget on a walk: a page over `budget` holds one item only; a page that has a
/// next one stopped because that one's first item would have passed the budget; the last page
/// has no continuation. Returns the items in order.
fn budgeted<T: JsonSize>(list: &str, pages: Vec<Page<T>>, budget: usize) -> Vec<T> {
    let sizes: Vec<Vec<usize>> = pages.iter().map(|p| p.items.iter().map(JsonSize::json_size).collect()).collect();
    for (i, page) in pages.iter().enumerate() {
        let used: usize = sizes[i].iter().sum();
        assert!(!page.items.is_empty(), "{list}: page {i} is empty: {sizes:?}");
        assert!(page.items.len() == 1 || used <= budget, "{list}: page {i} takes {used} > {budget}: {sizes:?}");
        match sizes.get(i + 1) {
            Some(next) => {
                assert!(page.next.is_some(), "{list}: page {i} has no continuation");
                assert!(used + next[0] > budget, "{list}: page {i} stopped with room left: {sizes:?}");
            }
            None => assert!(page.next.is_none(), "{list}: the last page has a continuation"),
        }
    }
    pages.into_iter().flat_map(|p| p.items).collect()
}

fn limit() -> PageLimit {
    PageLimit::parse(100).unwrap()
}

/// Twelve posts of the largest size (100,000 four-byte characters: ~400 KB of JSON each) walked
/// with `limit=100`: pages of two (three would pass 1 MiB), each with a cursor but the last.
pub async fn pages_of_large_posts_stop_at_about_one_mebibyte(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let vic = stored_user(storage, "vic").await;
    let project = stored_project(storage, &ada, "Heavy", 0).await;
    add_member(storage, &project, &vic, ProjectRole::Viewer, 0).await;
    let body = PostBody::parse("\u{1F600}".repeat(100_000)).unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut post = new_post(&project, &ada, &format!("heavy-{i:02}"), PostStatus::Published, 1 + i);
        post.body = body.clone();
        let mut uow = storage.begin().await.unwrap();
        uow.posts().insert(&post).await.unwrap();
        uow.commit().await.unwrap();
        ids.insert(0, post.id);
    }
    let budget = PageBudget::DEFAULT;

    let project_pages = walk(|after| async move {
        let query = ProjectPostsQuery { project: project.id, status: None, after, limit: limit(), budget };
        storage.read().await.unwrap().posts().list_for_project(&query).await.unwrap()
    })
    .await;
    let creator_pages = walk(|after| async move {
        let query = CreatorPostsQuery {
            creator: ada.id,
            viewer: vic.id,
            drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
            after,
            limit: limit(),
            budget,
        };
        storage.read().await.unwrap().posts().list_for_creator(&query).await.unwrap()
    })
    .await;

    for (list, pages) in [("project posts", project_pages), ("creator posts", creator_pages)] {
        assert_eq!(pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(), [2; 6], "{list}");
        let seen: Vec<PostId> = budgeted(list, pages, budget.get()).into_iter().map(|v| v.post.id).collect();
        assert_eq!(seen, ids, "{list}: every post once, newest first");
    }
}

/// Posts of mixed sizes (escapes and multi-byte text included, one larger than the budget), some
/// hidden from the viewer, under a small budget: every list of posts cuts where the rule says.
pub async fn post_pages_stop_before_the_post_that_would_pass_the_budget(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let vic = stored_user(storage, "vic").await;
    let shared = stored_project(storage, &ada, "Shared", 0).await;
    let private = stored_project(storage, &ada, "Private", 0).await;
    add_member(storage, &shared, &vic, ProjectRole::Viewer, 0).await;
    let bodies = [900, 1500, 200, 2500, 3900, 100, 700, 1200, 5000, 50, 1800, 600, 0, 2400];
    let mut shared_posts = Vec::new();
    let mut vic_sees = Vec::new();
    for (i, len) in bodies.into_iter().enumerate() {
        // Quotes, line breaks and 2- to 4-byte characters: sizes are JSON's, not characters'.
        let text: String = "a\"b\nç€😀 ".chars().cycle().take(len).collect();
        let status = if i % 5 == 3 { PostStatus::Draft } else { PostStatus::Published };
        let project = if i % 4 == 2 { &private } else { &shared };
        let mut post = new_post(project, &ada, &format!("post-{i:02}"), status, 1 + i as i64);
        post.body = PostBody::parse(text).unwrap();
        let mut uow = storage.begin().await.unwrap();
        uow.posts().insert(&post).await.unwrap();
        uow.commit().await.unwrap();
        if project.id == shared.id {
            shared_posts.insert(0, post.id);
            if status == PostStatus::Published {
                vic_sees.insert(0, post.id);
            }
        }
    }
    let budget = PageBudget::bytes(4_000);

    let pages = walk(|after| async move {
        let query = ProjectPostsQuery { project: shared.id, status: None, after, limit: limit(), budget };
        storage.read().await.unwrap().posts().list_for_project(&query).await.unwrap()
    })
    .await;
    let seen: Vec<PostId> = budgeted("project posts", pages, budget.get()).into_iter().map(|v| v.post.id).collect();
    assert_eq!(seen, shared_posts);

    let pages = walk(|after| async move {
        let status = Some(PostStatus::Published);
        let query = ProjectPostsQuery { project: shared.id, status, after, limit: limit(), budget };
        storage.read().await.unwrap().posts().list_for_project(&query).await.unwrap()
    })
    .await;
    let seen: Vec<PostId> = budgeted("published posts", pages, budget.get()).into_iter().map(|v| v.post.id).collect();
    assert_eq!(seen, vic_sees);

    let pages = walk(|after| async move {
        let query = CreatorPostsQuery {
            creator: ada.id,
            viewer: vic.id,
            drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
            after,
            limit: limit(),
            budget,
        };
        storage.read().await.unwrap().posts().list_for_creator(&query).await.unwrap()
    })
    .await;
    let seen: Vec<PostId> = budgeted("creator posts", pages, budget.get()).into_iter().map(|v| v.post.id).collect();
    assert_eq!(seen, vic_sees, "hidden posts take no room");
}

/// Users, projects and members under a small budget: the same rule on the lists of small items.
pub async fn every_list_stops_at_its_budget(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let mut others: Vec<User> = Vec::new();
    for name in ["bob", "cyd", "dee", "eve", "fay", "gus"] {
        others.push(stored_user(storage, name).await);
    }
    let mut projects = Vec::new();
    for (i, len) in [0, 300, 1200, 2000, 40, 900].into_iter().enumerate() {
        let mut project = stored_project(storage, &ada, &format!("P{i}"), i as i64).await;
        project.description = Description::parse("d\u{e9}\"\n".repeat(len / 4)).unwrap();
        project.updated_at = project.created_at;
        project.version = 2;
        let mut uow = storage.begin().await.unwrap();
        uow.projects().update(&project, 1).await.unwrap();
        uow.commit().await.unwrap();
        projects.insert(0, project.id);
    }
    let team = stored_project(storage, &ada, "Team", 10).await;
    for (i, user) in others.iter().enumerate() {
        add_member(storage, &team, user, ProjectRole::Viewer, 11 + i as i64).await;
    }
    projects.insert(0, team.id);
    let budget = PageBudget::bytes(1_200);

    let pages = walk(|after| async move {
        let query = UserListQuery { prefix: None, after, limit: limit(), budget };
        storage.read().await.unwrap().users().list(&query).await.unwrap()
    })
    .await;
    let seen: Vec<String> =
        budgeted("users", pages, budget.get()).into_iter().map(|u| u.username.as_str().to_owned()).collect();
    assert_eq!(seen, ["ada", "bob", "cyd", "dee", "eve", "fay", "gus"]);

    let pages = walk(|after| async move {
        let query = ProjectListQuery { member: ada.id, after, limit: limit(), budget };
        storage.read().await.unwrap().projects().list(&query).await.unwrap()
    })
    .await;
    let seen: Vec<_> = budgeted("projects", pages, budget.get()).into_iter().map(|v| v.project.id).collect();
    assert_eq!(seen, projects);

    let pages = walk(|after| async move {
        let query = MemberListQuery { project: team.id, after, limit: limit(), budget };
        storage.read().await.unwrap().members().list(&query).await.unwrap()
    })
    .await;
    let seen: Vec<_> = budgeted("members", pages, budget.get()).into_iter().map(|m| m.user.id).collect();
    let mut expected = vec![ada.id];
    expected.extend(others.iter().map(|u| u.id));
    assert_eq!(seen, expected);
}
