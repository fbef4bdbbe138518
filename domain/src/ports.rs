//! The repository ports: every way the core reads and writes stored records, one trait per
//! feature, each method's contract in its doc comment. The storage adapters (SQLite, PostgreSQL,
//! DynamoDB) implement all of them, the conformance suite in `tests/` holds every adapter to the
//! same contract, and services reach them only through a unit of work
//! (`application::ports::UnitOfWork`). `application::ports` lists every other port.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use crate::errors::StorageError;
use crate::files::{File, FileId, FileView, ProjectFilesQuery};
use crate::members::{Member, MemberListQuery, MemberView};
use crate::pagination::Page;
use crate::posts::{CreatorPostsQuery, Post, PostId, PostView, ProjectPostsQuery, Slug};
use crate::projects::{Project, ProjectId, ProjectListQuery, ProjectRole, ProjectView};
use crate::users::{Email, User, UserId, UserListQuery, Username};

/// Storage of users.
///
/// Reads through a unit of work see that unit's own writes where the backend allows it; services
/// must not rely on that (DynamoDB buffers writes until commit).
#[async_trait]
pub trait UserRepository: Send {
    /// Stores a new user. MUST fail with `Conflict(EmailTaken)` or `Conflict(UsernameTaken)` when
    /// another user holds the email or username (at the write or at commit).
    async fn insert(&mut self, user: &User) -> Result<(), StorageError>;

    async fn get(&mut self, id: UserId) -> Result<Option<User>, StorageError>;

    async fn find_by_email(&mut self, email: &Email) -> Result<Option<User>, StorageError>;

    async fn find_by_username(&mut self, username: &Username) -> Result<Option<User>, StorageError>;

    /// Replaces the stored user with `user` only if the stored version is `expected_version`
    /// (compare-and-set). MUST fail with `ConditionFailed` when the version differs or the user
    /// is gone, and with `Conflict(UsernameTaken)` when the new username is held by another user.
    async fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StorageError>;

    /// Users ordered by username, starting after `query.after`, optionally only those whose
    /// username starts with `query.prefix`. MUST return `BadContinuation` for bytes it did not
    /// produce.
    async fn list(&mut self, query: &UserListQuery) -> Result<Page<User>, StorageError>;
}

/// Storage of refresh-token chains and tokens.
#[async_trait]
pub trait RefreshTokenRepository: Send {
    /// Stores a new chain: a successful login. MUST also clear the failed login attempts counted
    /// under [`AttemptKey::Account`] of `chain.user_id`, in the same unit of work (they clear when
    /// it commits, and only then): a success clears the account's count at no extra call.
    ///
    /// [`AttemptKey::Account`]: crate::login_attempts::AttemptKey::Account
    async fn insert_chain(&mut self, chain: &RefreshChain) -> Result<(), StorageError>;

    async fn get_chain(&mut self, id: ChainId) -> Result<Option<RefreshChain>, StorageError>;

    /// Marks the chain revoked at `at`. Revoking a revoked chain is not an error (idempotent).
    async fn revoke_chain(&mut self, id: ChainId, at: OffsetDateTime) -> Result<(), StorageError>;

    async fn insert_token(&mut self, token: &RefreshToken) -> Result<(), StorageError>;

    async fn find_token(&mut self, hash: &TokenHash) -> Result<Option<RefreshToken>, StorageError>;

    /// Marks the token spent at `at` only if it is not spent yet. MUST fail with
    /// `ConditionFailed` when it already was (two concurrent refreshes: exactly one wins).
    async fn spend_token(&mut self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StorageError>;
}

/// Storage of projects. Counts in views are exact at the time of the read, under any concurrency.
#[async_trait]
pub trait ProjectRepository: Send {
    async fn insert(&mut self, project: &Project) -> Result<(), StorageError>;

    async fn get(&mut self, id: ProjectId) -> Result<Option<Project>, StorageError>;

    /// The project as `viewer` sees it; `None` when it does not exist or `viewer` is no member.
    async fn view(&mut self, id: ProjectId, viewer: UserId) -> Result<Option<ProjectView>, StorageError>;

    /// Compare-and-set on the version. MUST fail with `ConditionFailed` when the stored version
    /// differs or the project is gone.
    async fn update(&mut self, project: &Project, expected_version: i64) -> Result<(), StorageError>;

    /// Deletes the project with its members and posts, all or nothing, if the stored version is
    /// `expected_version`; else `ConditionFailed`.
    async fn delete(&mut self, id: ProjectId, expected_version: i64) -> Result<(), StorageError>;

    /// Newest first (creation time, then id). MUST return `BadContinuation` for foreign bytes.
    async fn list(&mut self, query: &ProjectListQuery) -> Result<Page<ProjectView>, StorageError>;
}

#[async_trait]
pub trait MemberRepository: Send {
    /// `user`'s membership of `project`; `None` when not a member or the project does not exist.
    async fn get(&mut self, project: ProjectId, user: UserId) -> Result<Option<Member>, StorageError>;

    /// Adds a member. MUST fail with `Conflict(AlreadyMember)` when the person is one already, and
    /// with `ConditionFailed` when the project is gone.
    async fn insert(&mut self, member: &Member) -> Result<(), StorageError>;

    /// Changes a member's role. MUST fail with `ConditionFailed` when they are no member.
    async fn set_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StorageError>;

    /// Removes a member. MUST fail with `ConditionFailed` when they are no member.
    async fn remove(&mut self, project: ProjectId, user: UserId) -> Result<(), StorageError>;

    async fn list(&mut self, query: &MemberListQuery) -> Result<Page<MemberView>, StorageError>;
}

#[async_trait]
pub trait PostRepository: Send {
    /// Stores a new post. MUST fail with `Conflict(SlugTaken)` when the project has a post with
    /// this slug, and with `ConditionFailed` when the project is gone.
    async fn insert(&mut self, post: &Post) -> Result<(), StorageError>;

    async fn get(&mut self, id: PostId) -> Result<Option<Post>, StorageError>;

    async fn view(&mut self, id: PostId) -> Result<Option<PostView>, StorageError>;

    /// The slugs of `project` that are `base` or start with `base-`.
    async fn slugs_like(&mut self, project: ProjectId, base: &Slug) -> Result<Vec<Slug>, StorageError>;

    /// Compare-and-set on the version; `ConditionFailed` when it differs or the post is gone.
    async fn update(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError>;

    /// Compare-and-set delete; `ConditionFailed` when the version differs or the post is gone.
    async fn delete(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError>;

    async fn list_for_project(&mut self, query: &ProjectPostsQuery) -> Result<Page<PostView>, StorageError>;

    async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError>;
}

/// Storage of files' metadata (their bytes are in the blob store, `application::ports::BlobStore`).
/// Each project keeps the total size of its files, changed by `insert` and `delete` only, so that
/// its quota holds under any concurrency.
#[async_trait]
pub trait FileRepository: Send {
    /// Stores a new file and adds its size to its project's total, only if the project exists
    /// and the total then is at most `quota` bytes — checked atomically with the write, so that
    /// concurrent inserts never pass the quota together. MUST fail with `ConditionFailed` when the
    /// project is gone (or its deletion has begun), and with `Conflict(QuotaExceeded)` when the
    /// total would pass `quota`.
    async fn insert(&mut self, file: &File, quota: u64) -> Result<(), StorageError>;

    /// The file; `None` when it does not exist or its project is gone.
    async fn get(&mut self, id: FileId) -> Result<Option<File>, StorageError>;

    /// The file with its uploader's profile; `None` as for `get`.
    async fn view(&mut self, id: FileId) -> Result<Option<FileView>, StorageError>;

    /// Removes the file and takes its size off its project's total. MUST fail with
    /// `ConditionFailed` when the file is gone (two concurrent deletes: exactly one wins).
    async fn delete(&mut self, file: &File) -> Result<(), StorageError>;

    /// A project's files, newest first (creation time, then id). MUST return `BadContinuation`
    /// for foreign bytes.
    async fn list(&mut self, query: &ProjectFilesQuery) -> Result<Page<FileView>, StorageError>;

    /// Up to `limit` ids of `project`'s files, in id order after `after`: the blobs that deleting
    /// the project leaves without metadata.
    async fn ids_in_project(
        &mut self,
        project: ProjectId,
        after: Option<FileId>,
        limit: u32,
    ) -> Result<Vec<FileId>, StorageError>;

    /// Which of `ids` (at most 100) a stored file has, in any order: the sweep removes the blobs
    /// of the others. A file whose project's deletion has begun MAY still be reported until that
    /// deletion finishes.
    async fn existing(&mut self, ids: &[FileId]) -> Result<Vec<FileId>, StorageError>;
}
