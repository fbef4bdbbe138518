//! Fixtures for the project, member, post and file contracts.

use application::ports::Storage;
use domain::files::{File, FileId, FileName, MediaType, Sha256Digest};
use domain::members::Member;
use domain::posts::{Post, PostBody, PostId, PostStatus, PostTitle, Slug};
use domain::projects::{Description, Project, ProjectId, ProjectName, ProjectRole};
use domain::users::User;
use domain::StorageError;
use time::Duration;
use uuid::Uuid;

use super::{new_user, T0};

pub async fn stored_user(storage: &dyn Storage, username: &str) -> User {
    let user = new_user(username);
    let mut uow = storage.begin().await.unwrap();
    uow.users().insert(&user).await.unwrap();
    uow.commit().await.unwrap();
    user
}

/// A project owned by `owner`, created `minutes` after T0, with its owner membership.
pub async fn stored_project(storage: &dyn Storage, owner: &User, name: &str, minutes: i64) -> Project {
    let at = T0 + Duration::minutes(minutes);
    let project = Project {
        id: ProjectId(Uuid::now_v7()),
        name: ProjectName::parse(name).unwrap(),
        description: Description::parse("about it").unwrap(),
        owner_id: owner.id,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let mut uow = storage.begin().await.unwrap();
    uow.projects().insert(&project).await.unwrap();
    uow.members()
        .insert(&Member { project_id: project.id, user_id: owner.id, role: ProjectRole::Owner, added_at: at })
        .await
        .unwrap();
    uow.commit().await.unwrap();
    project
}

pub async fn add_member(storage: &dyn Storage, project: &Project, user: &User, role: ProjectRole, minutes: i64) {
    let mut uow = storage.begin().await.unwrap();
    let member = Member { project_id: project.id, user_id: user.id, role, added_at: T0 + Duration::minutes(minutes) };
    uow.members().insert(&member).await.unwrap();
    uow.commit().await.unwrap();
}

pub fn new_post(project: &Project, creator: &User, slug: &str, status: PostStatus, minutes: i64) -> Post {
    let at = T0 + Duration::minutes(minutes);
    Post {
        id: PostId(Uuid::now_v7()),
        project_id: project.id,
        slug: Slug::parse(slug).unwrap(),
        title: PostTitle::parse(slug).unwrap(),
        body: PostBody::parse("body text").unwrap(),
        status,
        creator_id: creator.id,
        created_at: at,
        updated_at: None,
        published_at: (status == PostStatus::Published).then_some(at),
        version: 1,
    }
}

pub async fn stored_post(
    storage: &dyn Storage,
    project: &Project,
    creator: &User,
    slug: &str,
    status: PostStatus,
    minutes: i64,
) -> Post {
    let post = new_post(project, creator, slug, status, minutes);
    let mut uow = storage.begin().await.unwrap();
    uow.posts().insert(&post).await.unwrap();
    uow.commit().await.unwrap();
    post
}

/// A file of `size` bytes in `project`, uploaded `minutes` after T0 by `uploader`.
pub fn new_file(project: &Project, uploader: &User, name: &str, size: u64, minutes: i64) -> File {
    File {
        id: FileId(Uuid::now_v7()),
        project_id: project.id,
        name: FileName::parse(name).unwrap(),
        content_type: MediaType::parse("text/plain; charset=utf-8").unwrap(),
        size,
        sha256: Sha256Digest([size as u8; 32]),
        uploader_id: uploader.id,
        created_at: T0 + Duration::minutes(minutes),
    }
}

/// Stores `file` against a quota of `quota` bytes.
pub async fn insert_file(storage: &dyn Storage, file: &File, quota: u64) -> Result<(), StorageError> {
    let mut uow = storage.begin().await?;
    uow.files().insert(file, quota).await?;
    uow.commit().await
}
