//! Test doubles for the storage ports: mockall mocks of the repositories behind a fake unit of
//! work that records `begin`/`read`/`commit`, so tests can assert the transaction boundary.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::files::{File, FileId, FileView, ProjectFilesQuery};
use domain::login_attempts::{AttemptKey, Reservation};
use domain::members::{Member, MemberListQuery, MemberView};
use domain::ports::{
    FileRepository, MemberRepository, PostRepository, ProjectRepository, RefreshTokenRepository, UserRepository,
};
use domain::posts::{CreatorPostsQuery, Post, PostId, PostView, ProjectPostsQuery, Slug};
use domain::projects::{Project, ProjectId, ProjectListQuery, ProjectRole, ProjectView};
use domain::users::{Email, PasswordHash, PersonName, Role, User, UserId, UserListQuery, Username};
use domain::{Page, StorageError};
use futures::StreamExt;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::files::BlobMeter;
use crate::ports::{BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PresignedRequest, StoredBlob};
use crate::ports::{ExpiredSessions, IdempotencyRecords, IdempotentAnswers, LoginAttempts, MockClock};
use crate::ports::{MockExpiredSessions, MockIdempotencyRecords, MockLoginAttempts, MockRecordScan, RecordScan};
use crate::ports::{Storage, UnitOfWork};
use domain::idempotency::Completion;

mockall::mock! {
    pub Users {}
    #[async_trait]
    impl UserRepository for Users {
        async fn insert(&mut self, user: &User) -> Result<(), StorageError>;
        async fn get(&mut self, id: UserId) -> Result<Option<User>, StorageError>;
        async fn find_by_email(&mut self, email: &Email) -> Result<Option<User>, StorageError>;
        async fn find_by_username(&mut self, username: &Username) -> Result<Option<User>, StorageError>;
        async fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StorageError>;
        async fn list(&mut self, query: &UserListQuery) -> Result<Page<User>, StorageError>;
    }
}

mockall::mock! {
    pub Tokens {}
    #[async_trait]
    impl RefreshTokenRepository for Tokens {
        async fn insert_chain(&mut self, chain: &RefreshChain) -> Result<(), StorageError>;
        async fn get_chain(&mut self, id: ChainId) -> Result<Option<RefreshChain>, StorageError>;
        async fn revoke_chain(&mut self, id: ChainId, at: OffsetDateTime) -> Result<(), StorageError>;
        async fn insert_token(&mut self, token: &RefreshToken) -> Result<(), StorageError>;
        async fn find_token(&mut self, hash: &TokenHash) -> Result<Option<RefreshToken>, StorageError>;
        async fn spend_token(&mut self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StorageError>;
    }
}

mockall::mock! {
    pub Projects {}
    #[async_trait]
    impl ProjectRepository for Projects {
        async fn insert(&mut self, project: &Project) -> Result<(), StorageError>;
        async fn get(&mut self, id: ProjectId) -> Result<Option<Project>, StorageError>;
        async fn view(&mut self, id: ProjectId, viewer: UserId) -> Result<Option<ProjectView>, StorageError>;
        async fn update(&mut self, project: &Project, expected_version: i64) -> Result<(), StorageError>;
        async fn delete(&mut self, id: ProjectId, expected_version: i64) -> Result<(), StorageError>;
        async fn list(&mut self, query: &ProjectListQuery) -> Result<Page<ProjectView>, StorageError>;
    }
}

mockall::mock! {
    pub Members {}
    #[async_trait]
    impl MemberRepository for Members {
        async fn get(&mut self, project: ProjectId, user: UserId) -> Result<Option<Member>, StorageError>;
        async fn insert(&mut self, member: &Member) -> Result<(), StorageError>;
        async fn set_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StorageError>;
        async fn remove(&mut self, project: ProjectId, user: UserId) -> Result<(), StorageError>;
        async fn list(&mut self, query: &MemberListQuery) -> Result<Page<MemberView>, StorageError>;
    }
}

mockall::mock! {
    pub Posts {}
    #[async_trait]
    impl PostRepository for Posts {
        async fn insert(&mut self, post: &Post) -> Result<(), StorageError>;
        async fn get(&mut self, id: PostId) -> Result<Option<Post>, StorageError>;
        async fn view(&mut self, id: PostId) -> Result<Option<PostView>, StorageError>;
        async fn slugs_like(&mut self, project: ProjectId, base: &Slug) -> Result<Vec<Slug>, StorageError>;
        async fn update(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError>;
        async fn delete(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError>;
        async fn list_for_project(&mut self, query: &ProjectPostsQuery) -> Result<Page<PostView>, StorageError>;
        async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError>;
    }
}

mockall::mock! {
    pub Files {}
    #[async_trait]
    impl FileRepository for Files {
        async fn insert(&mut self, file: &File, quota: u64) -> Result<(), StorageError>;
        async fn get(&mut self, id: FileId) -> Result<Option<File>, StorageError>;
        async fn view(&mut self, id: FileId) -> Result<Option<FileView>, StorageError>;
        async fn delete(&mut self, file: &File) -> Result<(), StorageError>;
        async fn list(&mut self, query: &ProjectFilesQuery) -> Result<Page<FileView>, StorageError>;
        async fn ids_in_project(&mut self, project: ProjectId, after: Option<FileId>, limit: u32) -> Result<Vec<FileId>, StorageError>;
        async fn existing(&mut self, ids: &[FileId]) -> Result<Vec<FileId>, StorageError>;
    }
}

mockall::mock! {
    pub Answers {}
    #[async_trait]
    impl IdempotentAnswers for Answers {
        async fn store(&mut self, completion: &Completion) -> Result<(), StorageError>;
    }
}

pub type Log = Arc<Mutex<Vec<&'static str>>>;

pub struct FakeUow {
    pub users: MockUsers,
    pub tokens: MockTokens,
    pub projects: MockProjects,
    pub members: MockMembers,
    pub posts: MockPosts,
    pub files: MockFiles,
    pub answers: MockAnswers,
    pub commit_result: Result<(), StorageError>,
    log: Log,
}

#[async_trait]
impl UnitOfWork for FakeUow {
    fn users(&mut self) -> &mut dyn UserRepository {
        &mut self.users
    }

    fn refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository {
        &mut self.tokens
    }

    fn projects(&mut self) -> &mut dyn ProjectRepository {
        &mut self.projects
    }

    fn members(&mut self) -> &mut dyn MemberRepository {
        &mut self.members
    }

    fn posts(&mut self) -> &mut dyn PostRepository {
        &mut self.posts
    }

    fn files(&mut self) -> &mut dyn FileRepository {
        &mut self.files
    }

    fn idempotency(&mut self) -> &mut dyn IdempotentAnswers {
        &mut self.answers
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.log.lock().unwrap().push("commit");
        self.commit_result
    }
}

/// The login-attempt counts: a mock whose calls are also logged (`reserve`, `clear`, `sweep`)
/// beside the units of work, so tests can assert their order.
pub struct LoggedAttempts {
    mock: MockLoginAttempts,
    log: Log,
}

#[async_trait]
impl LoginAttempts for LoggedAttempts {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Reservation, StorageError> {
        self.log.lock().unwrap().push("reserve");
        self.mock.reserve(key, now, window).await
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StorageError> {
        self.log.lock().unwrap().push("clear");
        self.mock.clear(key).await
    }

    async fn sweep(&self, before: OffsetDateTime) -> Result<u64, StorageError> {
        self.log.lock().unwrap().push("sweep");
        self.mock.sweep(before).await
    }
}

/// Hands out the prepared units of work in order; `begin` and `read` are logged.
pub struct FakeStorage {
    units: Mutex<VecDeque<FakeUow>>,
    pub log: Log,
    /// Makes `ping` answer as an unreachable backend does.
    pub down: std::sync::atomic::AtomicBool,
    attempts: LoggedAttempts,
    sessions: MockExpiredSessions,
    records: MockIdempotencyRecords,
    scan: MockRecordScan,
}

impl Default for FakeStorage {
    fn default() -> Self {
        let log = Log::default();
        Self {
            units: Mutex::default(),
            attempts: LoggedAttempts { mock: MockLoginAttempts::new(), log: log.clone() },
            log,
            down: Default::default(),
            sessions: MockExpiredSessions::new(),
            records: MockIdempotencyRecords::new(),
            scan: MockRecordScan::new(),
        }
    }
}

impl FakeStorage {
    /// The login-attempt mock, for setting expectations (before the storage is shared).
    pub fn attempts(&mut self) -> &mut MockLoginAttempts {
        &mut self.attempts.mock
    }

    /// The expired-sessions mock, for setting expectations (before the storage is shared).
    pub fn sessions(&mut self) -> &mut MockExpiredSessions {
        &mut self.sessions
    }

    /// The idempotency-records mock, for setting expectations (before the storage is shared).
    pub fn records(&mut self) -> &mut MockIdempotencyRecords {
        &mut self.records
    }

    /// Prepares the next unit of work and returns it for setting expectations.
    pub fn unit(&self, setup: impl FnOnce(&mut FakeUow)) {
        let mut uow = FakeUow {
            users: MockUsers::new(),
            tokens: MockTokens::new(),
            projects: MockProjects::new(),
            members: MockMembers::new(),
            posts: MockPosts::new(),
            files: MockFiles::new(),
            answers: MockAnswers::new(),
            commit_result: Ok(()),
            log: self.log.clone(),
        };
        setup(&mut uow);
        self.units.lock().unwrap().push_back(uow);
    }

    pub fn calls(&self) -> Vec<&'static str> {
        self.log.lock().unwrap().clone()
    }

    fn next(&self, what: &'static str) -> Result<Box<dyn UnitOfWork>, StorageError> {
        self.log.lock().unwrap().push(what);
        let uow = self.units.lock().unwrap().pop_front().expect("an unexpected unit of work was opened");
        Ok(Box::new(uow))
    }
}

#[async_trait]
impl Storage for FakeStorage {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        self.next("begin")
    }

    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        self.next("read")
    }

    async fn ping(&self) -> Result<(), StorageError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StorageError::unavailable("the fake backend is down"));
        }
        Ok(())
    }

    fn login_attempts(&self) -> &dyn LoginAttempts {
        &self.attempts
    }

    fn expired_sessions(&self) -> &dyn ExpiredSessions {
        &self.sessions
    }

    fn idempotency(&self) -> &dyn IdempotencyRecords {
        &self.records
    }

    fn export(&self) -> &dyn RecordScan {
        &self.scan
    }
}

pub const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00.123 UTC);

pub fn fixed_clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(NOW);
    clock
}

pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn user(n: u128, username: &str, role: Role) -> User {
    User {
        id: UserId(uuid(n)),
        email: Email::parse(&format!("{username}@example.com")).unwrap(),
        username: Username::parse(username).unwrap(),
        first_name: PersonName::parse("first_name", "Ada").unwrap(),
        last_name: PersonName::parse("last_name", "Lovelace").unwrap(),
        avatar_url: None,
        role,
        password_hash: PasswordHash(format!("hash-of-{username}")),
        session_epoch: 4,
        version: 7,
        created_at: NOW,
        updated_at: NOW,
    }
}

pub fn project(n: u128, owner: u128) -> Project {
    Project {
        id: ProjectId(uuid(n)),
        name: domain::projects::ProjectName::parse("Apollo").unwrap(),
        description: domain::projects::Description::default(),
        owner_id: UserId(uuid(owner)),
        created_at: NOW,
        updated_at: NOW,
        version: 3,
    }
}

pub fn project_view(n: u128, role: ProjectRole) -> ProjectView {
    ProjectView {
        project: project(n, 1),
        owner: user(1, "ada", Role::User).profile(),
        my_role: role,
        member_count: 2,
        post_count: 5,
    }
}

pub fn member(project: u128, user: u128, role: ProjectRole) -> Member {
    Member { project_id: ProjectId(uuid(project)), user_id: UserId(uuid(user)), role, added_at: NOW }
}

pub fn post_view(n: u128, project: u128, creator: u128, status: domain::posts::PostStatus) -> PostView {
    let post = Post {
        id: PostId(uuid(n)),
        project_id: ProjectId(uuid(project)),
        slug: Slug::parse("hello").unwrap(),
        title: domain::posts::PostTitle::parse("Hello").unwrap(),
        body: domain::posts::PostBody::parse("text").unwrap(),
        status,
        creator_id: UserId(uuid(creator)),
        created_at: NOW,
        updated_at: None,
        published_at: (status == domain::posts::PostStatus::Published).then_some(NOW),
        version: 2,
    };
    PostView { post, creator: user(creator, "creator", Role::User).profile() }
}

pub fn file_view(n: u128, project: u128, uploader: u128) -> domain::files::FileView {
    use domain::files::{File, FileId, FileName, FileView, MediaType, Sha256Digest};
    let file = File {
        id: FileId(uuid(n)),
        project_id: ProjectId(uuid(project)),
        name: FileName::parse("notes.txt").unwrap(),
        content_type: MediaType::parse("text/plain").unwrap(),
        size: 1,
        sha256: Sha256Digest([7; 32]),
        uploader_id: UserId(uuid(uploader)),
        created_at: NOW,
    };
    FileView { file, uploader: user(uploader, "uploader", Role::User).profile() }
}

/// Blobs in memory; `put` measures as every store must.
#[derive(Default)]
pub struct Blobs {
    pub stored: Mutex<HashMap<FileId, Vec<u8>>>,
    pub deleted: Mutex<Vec<FileId>>,
    /// When each blob was written (`NOW` unless set).
    pub written: Mutex<HashMap<FileId, OffsetDateTime>>,
    /// Hands out presigned requests (as S3 does), or not (as the filesystem store does).
    pub presigning: bool,
}

#[async_trait]
impl BlobStore for Blobs {
    async fn put(&self, id: FileId, mut bytes: ByteStream, limit: u64) -> Result<StoredBlob, BlobError> {
        let mut meter = BlobMeter::new(limit);
        let mut all = Vec::new();
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk?;
            meter.pass(&chunk)?;
            all.extend_from_slice(&chunk);
        }
        self.stored.lock().unwrap().insert(id, all);
        self.written.lock().unwrap().insert(id, NOW);
        Ok(meter.finish())
    }

    async fn get(&self, id: FileId, _range: Option<ByteRange>) -> Result<Option<BlobRead>, BlobError> {
        let bytes = self.stored.lock().unwrap().get(&id).cloned();
        Ok(bytes.map(|b| BlobRead {
            size: b.len() as u64,
            bytes: futures::stream::once(async move { Ok(Bytes::from(b)) }).boxed(),
        }))
    }

    async fn delete(&self, id: FileId) -> Result<(), BlobError> {
        self.stored.lock().unwrap().remove(&id);
        self.deleted.lock().unwrap().push(id);
        Ok(())
    }

    async fn list(&self, after: Option<FileId>, limit: u32) -> Result<Vec<(FileId, OffsetDateTime)>, BlobError> {
        let written = self.written.lock().unwrap();
        let mut ids: Vec<FileId> = self.stored.lock().unwrap().keys().copied().filter(|id| Some(*id) > after).collect();
        ids.sort();
        Ok(ids.into_iter().take(limit as usize).map(|id| (id, written.get(&id).copied().unwrap_or(NOW))).collect())
    }

    fn presigns(&self) -> bool {
        self.presigning
    }

    async fn presign_get(
        &self,
        id: FileId,
        ttl: std::time::Duration,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(self.presigning.then(|| PresignedRequest {
            url: format!("https://blobs.test/{id}?type={content_type}&disposition={content_disposition}"),
            method: "GET".into(),
            headers: Vec::new(),
            expires_at: NOW + ttl,
        }))
    }

    async fn presign_put(
        &self,
        id: FileId,
        size: u64,
        content_type: &str,
        sha256: domain::files::Sha256Digest,
        ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(self.presigning.then(|| PresignedRequest {
            url: format!("https://blobs.test/{id}?sha256={}", sha256.to_hex()),
            method: "PUT".into(),
            headers: vec![("content-length".into(), size.to_string()), ("content-type".into(), content_type.into())],
            expires_at: NOW + ttl,
        }))
    }
}
