//! Posts: write (editors and the owner), read (drafts only for those who may see them), change
//! and delete (the creator or the project owner), and a creator's posts across projects.

use domain::members::Member;
use domain::posts::{
    CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, PostView, ProjectPostsQuery, Slug,
};
use domain::projects::{ProjectAction, ProjectId, ProjectRole};
use domain::users::UserId;
use domain::{Conflict, Page, StorageError};

use crate::auth::Principal;
use crate::errors::{AppError, Resource};
use crate::idempotency::{record, Retry};
use crate::pagination::{parse_limit, ListKey, Listed, PageRequest};
use crate::ports::UnitOfWork;
use crate::validation::{validate, Field};
use crate::versions::expected_version;
use crate::workspace::{require, WorkspaceDeps};

/// Slug races lost to concurrent posts with the same title before giving up (each lost race
/// means another post took a slug, so the next attempt sees one more).
const SLUG_ATTEMPTS: usize = 64;

/// A new post as it arrives: raw strings, parsed by the service.
#[derive(Debug, Clone, Default)]
pub struct NewPost {
    pub title: String,
    pub body: String,
    /// A draft when left out; `null` is refused.
    pub status: Field<PostStatus>,
}

/// A change to a post as it arrives: each field left out, `null`, or a raw value.
#[derive(Debug, Clone, Default)]
pub struct PostPatch {
    pub title: Field<String>,
    pub body: Field<String>,
    pub status: Field<PostStatus>,
}

/// A change to a post, every field valid; `None` keeps the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostChanges {
    pub title: Option<PostTitle>,
    pub body: Option<PostBody>,
    pub status: Option<PostStatus>,
}

impl PostChanges {
    /// Parses every field of `patch` at once: one `Validation` error names each bad field. Done
    /// before the change's precondition is looked at, so a bad body is 422 whatever its `If-Match`.
    pub fn parse(patch: PostPatch) -> Result<Self, AppError> {
        let (title, body, status) = validate((
            patch.title.non_null("title", PostTitle::parse),
            patch.body.non_null("body", PostBody::parse),
            patch.status.non_null("status", Ok),
        ))?;
        Ok(Self { title, body, status })
    }
}

#[derive(Clone)]
pub struct PostService {
    deps: WorkspaceDeps,
}

/// Whether `role` may see a post of this status.
fn visible(role: ProjectRole, status: PostStatus) -> bool {
    status == PostStatus::Published || role.can(ProjectAction::SeeDrafts)
}

impl PostService {
    pub fn new(deps: WorkspaceDeps) -> Self {
        Self { deps }
    }

    /// Writes a post in a project (editors and the owner). Its slug is the title's, made unique
    /// in the project with `-2`, `-3`, … even when posts with one title are created at once.
    pub async fn create(
        &self,
        principal: Principal,
        project: ProjectId,
        new: NewPost,
        retry: Option<Retry<PostView>>,
    ) -> Result<PostView, AppError> {
        let (title, body, status) =
            validate((PostTitle::parse(new.title), PostBody::parse(new.body), new.status.non_null("status", Ok)))?;
        let status = status.unwrap_or(PostStatus::Draft);
        let base = Slug::base_for(&title);
        let id = PostId(self.deps.ids.new_id());
        for _ in 0..SLUG_ATTEMPTS {
            let mut uow = self.deps.storage.begin().await?;
            require(uow.as_mut(), project, principal.user_id, ProjectAction::CreatePost).await?;
            let creator = uow.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?;
            let taken = uow.posts().slugs_like(project, &base).await?;
            let now = self.deps.clock.now();
            let post = Post {
                id,
                project_id: project,
                slug: Slug::first_free(&base, &taken),
                title: title.clone(),
                body: body.clone(),
                status,
                creator_id: principal.user_id,
                created_at: now,
                updated_at: None,
                published_at: (status == PostStatus::Published).then_some(now),
                version: 1,
            };
            let view = PostView { post, creator: creator.profile() };
            let written = match uow.posts().insert(&view.post).await {
                Ok(()) => match record(retry.as_ref(), uow.as_mut(), &view).await {
                    Ok(()) => uow.commit().await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match written {
                Ok(()) => return Ok(view),
                Err(StorageError::Conflict(Conflict::SlugTaken)) => continue,
                Err(StorageError::ConditionFailed) => return Err(AppError::NotFound(Resource::Project)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Internal(format!("no free slug for {:?} after {SLUG_ATTEMPTS} attempts", base.as_str())))
    }

    /// A project's posts, newest activity first; viewers get published posts only.
    pub async fn list_for_project(
        &self,
        principal: Principal,
        project: ProjectId,
        status: Option<PostStatus>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<PostView>, AppError> {
        let limit = parse_limit(limit).map_err(AppError::invalid)?;
        let list = ListKey::new("list_project_posts", &[&project.to_string(), status.map_or("", PostStatus::as_str)]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;
        let mut reader = self.deps.storage.read().await?;
        let role = require(reader.as_mut(), project, principal.user_id, ProjectAction::View).await?;
        let status = match status {
            _ if role.can(ProjectAction::SeeDrafts) => status,
            None | Some(PostStatus::Published) => Some(PostStatus::Published),
            Some(PostStatus::Draft) => return Ok(page.finish(Page { items: Vec::new(), next: None })),
        };
        let query =
            ProjectPostsQuery { project, status, after: page.after.clone(), limit: page.limit, budget: page.budget };
        Ok(page.finish(reader.posts().list_for_project(&query).await?))
    }

    /// One post, if the caller may see it.
    pub async fn get(&self, principal: Principal, id: PostId) -> Result<PostView, AppError> {
        let mut reader = self.deps.storage.read().await?;
        let (view, _) = Self::visible_post(reader.as_mut(), principal, id).await?;
        Ok(view)
    }

    /// The post and the caller's role in its project; not found unless the caller may see it.
    async fn visible_post(
        uow: &mut dyn UnitOfWork,
        principal: Principal,
        id: PostId,
    ) -> Result<(PostView, ProjectRole), AppError> {
        let view = uow.posts().view(id).await?.ok_or(AppError::NotFound(Resource::Post))?;
        let member: Option<Member> = uow.members().get(view.post.project_id, principal.user_id).await?;
        match member {
            Some(m) if visible(m.role, view.post.status) => Ok((view, m.role)),
            _ => Err(AppError::NotFound(Resource::Post)),
        }
    }

    /// Checks that the caller may change or delete the post: its creator (still an editor) or
    /// the project owner.
    fn may_modify(principal: Principal, post: &Post, role: ProjectRole) -> Result<(), AppError> {
        let own = post.creator_id == principal.user_id && role.can(ProjectAction::ModifyOwnPost);
        if own || role.can(ProjectAction::ModifyAnyPost) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub async fn update(
        &self,
        principal: Principal,
        id: PostId,
        changes: PostChanges,
        if_match: Option<i64>,
    ) -> Result<PostView, AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let (mut view, role) = Self::visible_post(uow.as_mut(), principal, id).await?;
        Self::may_modify(principal, &view.post, role)?;
        let expected = expected_version(if_match, view.post.version)?;
        let mut next = view.post.clone();
        if let Some(title) = changes.title {
            next.title = title;
        }
        if let Some(body) = changes.body {
            next.body = body;
        }
        if let Some(status) = changes.status {
            next.status = status;
        }
        if next == view.post {
            return Ok(view);
        }
        let now = self.deps.clock.now();
        if next.status == PostStatus::Published && next.published_at.is_none() {
            next.published_at = Some(now);
        }
        next.updated_at = Some(now);
        next.version += 1;
        uow.posts().update(&next, expected).await?;
        uow.commit().await?;
        view.post = next;
        Ok(view)
    }

    pub async fn delete(&self, principal: Principal, id: PostId, if_match: Option<i64>) -> Result<(), AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let (view, role) = Self::visible_post(uow.as_mut(), principal, id).await?;
        Self::may_modify(principal, &view.post, role)?;
        let expected = expected_version(if_match, view.post.version)?;
        uow.posts().delete(&view.post, expected).await?;
        uow.commit().await?;
        Ok(())
    }

    /// A creator's posts in the projects the caller can see, newest activity first.
    pub async fn list_for_creator(
        &self,
        principal: Principal,
        creator: UserId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<PostView>, AppError> {
        let limit = parse_limit(limit).map_err(AppError::invalid)?;
        // What the list holds depends on who asks: bind the cursor to both.
        let list = ListKey::new("list_creator_posts", &[&creator.to_string(), &principal.user_id.to_string()]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;
        let mut reader = self.deps.storage.read().await?;
        reader.users().get(creator).await?.ok_or(AppError::NotFound(Resource::User))?;
        let query = CreatorPostsQuery {
            creator,
            viewer: principal.user_id,
            drafts_visible_to: ProjectRole::ALL.into_iter().filter(|r| r.can(ProjectAction::SeeDrafts)).collect(),
            after: page.after.clone(),
            limit: page.limit,
            budget: page.budget,
        };
        Ok(page.finish(reader.posts().list_for_creator(&query).await?))
    }
}

#[cfg(test)]
#[path = "posts_tests.rs"]
mod tests;
