//! The domain's size of a list item (`JsonSize`), by which every backend cuts pages at about
//! 1 MiB, against the JSON this adapter writes for it: never less, and close.

use domain::members::MemberView;
use domain::posts::{Post, PostBody, PostId, PostStatus, PostTitle, PostView, Slug};
use domain::projects::{Description, Project, ProjectId, ProjectName, ProjectRole, ProjectView};
use domain::users::{AvatarUrl, Email, PasswordHash, PersonName, Role, User, UserId, Username};
use domain::JsonSize;
use serde::Serialize;
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::members::schemas::MemberBody;
use crate::api::posts::schemas::PostBody as PostJson;
use crate::api::projects::schemas::ProjectBody;
use crate::api::users::schemas::UserBody;

/// Nanoseconds, the longest time `time` writes in RFC 3339.
const LONG_TIME: OffsetDateTime = datetime!(2026-11-22 10:00:00.123456789 UTC);
const SHORT_TIME: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

/// Text with every kind of character JSON writes longer than one byte per character.
fn awkward(chars: usize) -> String {
    "a\"\\\n\t\r\u{e9}\u{20ac}\u{1F600}".chars().cycle().take(chars).collect()
}

fn user(big: bool) -> User {
    let (name, at) =
        if big { (awkward(100).replace(['\n', '\t', '\r'], "x"), LONG_TIME) } else { ("A".into(), SHORT_TIME) };
    User {
        id: UserId(Uuid::now_v7()),
        email: Email::parse(if big { "a.very.long.address@example.com" } else { "a@b" }).unwrap(),
        username: Username::parse(&if big { "u".repeat(32) } else { "abc".to_owned() }).unwrap(),
        first_name: PersonName::parse("first_name", name.clone()).unwrap(),
        last_name: PersonName::parse("last_name", name).unwrap(),
        avatar_url: big.then(|| AvatarUrl::parse("https://example.com/a\u{e9}.png").unwrap()),
        role: if big { Role::Admin } else { Role::User },
        password_hash: PasswordHash("$argon2id$…".into()),
        session_epoch: 0,
        version: if big { i64::MIN } else { 1 },
        created_at: at,
        updated_at: at,
    }
}

fn post(big: bool) -> PostView {
    let at = if big { LONG_TIME } else { SHORT_TIME };
    let creator = user(big).profile();
    let post = Post {
        id: PostId(Uuid::now_v7()),
        project_id: ProjectId(Uuid::now_v7()),
        slug: Slug::parse(if big { "a-slug-of-some-length-2" } else { "a" }).unwrap(),
        title: PostTitle::parse(if big { awkward(200).replace(['\n', '\t', '\r'], "x") } else { "A".into() }).unwrap(),
        body: PostBody::parse(if big { awkward(100_000) } else { String::new() }).unwrap(),
        status: if big { PostStatus::Published } else { PostStatus::Draft },
        creator_id: creator.id,
        created_at: at,
        updated_at: big.then_some(at),
        published_at: big.then_some(at),
        version: if big { i64::MIN } else { 1 },
    };
    PostView { post, creator }
}

fn project(big: bool) -> ProjectView {
    let owner = user(big).profile();
    let at = if big { LONG_TIME } else { SHORT_TIME };
    ProjectView {
        project: Project {
            id: ProjectId(Uuid::now_v7()),
            name: ProjectName::parse(if big { awkward(100).replace(['\n', '\t', '\r'], "x") } else { "P".into() })
                .unwrap(),
            description: Description::parse(if big { awkward(2000) } else { String::new() }).unwrap(),
            owner_id: owner.id,
            created_at: at,
            updated_at: at,
            version: if big { i64::MIN } else { 1 },
        },
        owner,
        my_role: if big { ProjectRole::Editor } else { ProjectRole::Owner },
        member_count: if big { i64::MIN } else { 1 },
        post_count: if big { i64::MIN } else { 0 },
    }
}

fn member(big: bool) -> MemberView {
    MemberView {
        user: user(big).profile(),
        role: if big { ProjectRole::Editor } else { ProjectRole::Owner },
        added_at: if big { LONG_TIME } else { SHORT_TIME },
    }
}

/// The size of `item` covers its JSON with a separating comma, and is at most `slack` more.
fn assert_covers(what: &str, size: usize, json: &impl Serialize, slack: usize) {
    let written = serde_json::to_vec(json).unwrap().len() + 1;
    assert!(size >= written, "{what}: counted {size} bytes, written {written}");
    assert!(size - written <= slack, "{what}: counted {size} bytes, written only {written}");
}

#[test]
fn the_size_of_every_list_item_covers_its_json_closely() {
    for big in [false, true] {
        let what = if big { "largest" } else { "smallest" };
        let view = post(big);
        assert_covers(&format!("{what} post"), view.json_size(), &PostJson::from(view.clone()), 200);
        let view = project(big);
        assert_covers(&format!("{what} project"), view.json_size(), &ProjectBody::from(&view), 200);
        let view = member(big);
        assert_covers(&format!("{what} member"), view.json_size(), &MemberBody::from(&view), 120);
        let view = user(big);
        assert_covers(&format!("{what} user"), view.json_size(), &UserBody::from(&view), 120);
    }
}

#[test]
fn a_page_of_the_largest_posts_is_cut_below_one_mebibyte() {
    // Four bytes per character is the most a body can take: the other characters JSON writes
    // longer (quotes, backslashes, line breaks, tabs) take two; other control characters are refused.
    let mut view = post(true);
    view.post.body = PostBody::parse("\u{1F600}".repeat(100_000)).unwrap();
    assert_covers("the largest post", view.json_size(), &PostJson::from(view.clone()), 200);
    let largest = view.json_size();
    assert!(largest > 400_000, "{largest}");
    assert!(2 * largest < domain::PageBudget::DEFAULT.get() && 3 * largest > domain::PageBudget::DEFAULT.get());
}
