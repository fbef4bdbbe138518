use std::sync::{Arc, Mutex};

use bytes::Bytes;
use domain::files::Sha256Digest;
use domain::projects::ProjectRole;
use domain::users::{Role, UserId};
use domain::Conflict;
use futures::StreamExt;

use super::*;
use crate::ports::{MockCursorCodec, MockIdGenerator};
use crate::testing::{fixed_clock, member, user, uuid, Blobs, FakeStorage, FakeUow, NOW};

const ME: u128 = 1;
const PROJECT: u128 = 5;
const NEW_ID: u128 = 90;

fn me() -> Principal {
    Principal { user_id: UserId(uuid(ME)) }
}

fn service() -> (FileService, Arc<FakeStorage>, Arc<Blobs>) {
    let storage = Arc::new(FakeStorage::default());
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().return_const(uuid(NEW_ID));
    let deps = WorkspaceDeps {
        storage: storage.clone(),
        clock: Arc::new(fixed_clock()),
        ids: Arc::new(ids),
        cursors: Arc::new(MockCursorCodec::new()),
    };
    let blobs = Arc::new(Blobs::default());
    let settings = FileSettings { max_bytes: 10, project_quota: 100, ..FileSettings::default() };
    (FileService::new(deps, blobs.clone(), settings), storage, blobs)
}

fn my_role(uow: &mut FakeUow, role: Option<ProjectRole>) {
    uow.members.expect_get().returning(move |p, u| Ok(role.map(|r| member(p.0.as_u128(), u.0.as_u128(), r))));
}

fn upload(bytes: &'static [u8]) -> NewFile {
    NewFile {
        name: " notes.txt ".into(),
        content_type: Some("Text/Plain; charset=utf-8".into()),
        bytes: futures::stream::iter(bytes.chunks(3).map(|c| Ok(Bytes::from_static(c)))).boxed(),
    }
}

/// A body nobody may read: the upload must be refused before its first byte.
fn unread() -> ByteStream {
    futures::stream::poll_fn(|_| panic!("the body was read")).boxed()
}

fn may_upload(storage: &FakeStorage) {
    storage.unit(|uow| my_role(uow, Some(ProjectRole::Editor)));
}

#[tokio::test]
async fn an_upload_stores_the_bytes_then_commits_the_metadata() {
    let (service, storage, blobs) = service();
    may_upload(&storage);
    storage.unit(|uow| {
        my_role(uow, Some(ProjectRole::Editor));
        uow.users.expect_get().returning(|_| Ok(Some(user(ME, "ada", Role::User))));
        uow.files
            .expect_insert()
            .withf(|f, quota| f.size == 10 && f.created_at == NOW && f.name.as_str() == "notes.txt" && *quota == 100)
            .returning(|_, _| Ok(()));
    });

    let view = service.upload(me(), ProjectId(uuid(PROJECT)), upload(b"0123456789"), None).await.unwrap();

    assert_eq!(view.file.id, FileId(uuid(NEW_ID)));
    assert_eq!(view.file.content_type.as_str(), "text/plain; charset=utf-8");
    assert_eq!(view.file.sha256, Sha256Digest(Sha256::digest(b"0123456789").into()));
    assert_eq!(view.uploader.username.as_str(), "ada");
    assert_eq!(storage.calls(), ["read", "begin", "commit"]);
    assert_eq!(blobs.stored.lock().unwrap()[&view.file.id], b"0123456789");
}

#[tokio::test]
async fn viewers_strangers_and_bad_labels_are_refused_before_a_byte_is_read() {
    for (role, expected) in
        [(Some(ProjectRole::Viewer), AppError::Forbidden), (None, AppError::NotFound(Resource::Project))]
    {
        let (service, storage, _) = service();
        storage.unit(move |uow| my_role(uow, role));
        let new = NewFile { name: "a".into(), content_type: None, bytes: unread() };
        assert_eq!(service.upload(me(), ProjectId(uuid(PROJECT)), new, None).await.unwrap_err(), expected);
    }
    let (service, storage, _) = service();
    let new = NewFile { name: "a/b".into(), content_type: Some("nonsense".into()), bytes: unread() };
    let err = service.upload(me(), ProjectId(uuid(PROJECT)), new, None).await.unwrap_err();
    let AppError::Validation(violations) = err else { panic!("{err:?}") };
    let fields: Vec<_> = violations.iter().map(|v| v.field).collect();
    assert_eq!(fields, ["name", "content_type"]);
    assert!(storage.calls().is_empty());
}

#[tokio::test]
async fn bytes_over_the_limit_are_refused_and_nothing_is_kept() {
    let (service, storage, blobs) = service();
    may_upload(&storage);
    let err = service.upload(me(), ProjectId(uuid(PROJECT)), upload(b"0123456789A"), None).await.unwrap_err();
    assert_eq!(err, AppError::UploadTooLarge { limit: 10 });
    assert!(blobs.stored.lock().unwrap().is_empty());
    assert_eq!(storage.calls(), ["read"]);
}

#[tokio::test]
async fn a_refused_commit_removes_the_bytes_again() {
    for (failure, expected) in [
        (StorageError::Conflict(Conflict::QuotaExceeded), AppError::Conflict(Conflict::QuotaExceeded)),
        (StorageError::ConditionFailed, AppError::NotFound(Resource::Project)),
    ] {
        let (service, storage, blobs) = service();
        may_upload(&storage);
        let failure = Mutex::new(Some(failure));
        storage.unit(move |uow| {
            my_role(uow, Some(ProjectRole::Owner));
            uow.users.expect_get().returning(|_| Ok(Some(user(ME, "ada", Role::User))));
            uow.files.expect_insert().return_once(move |_, _| Err(failure.lock().unwrap().take().unwrap()));
        });
        let err = service.upload(me(), ProjectId(uuid(PROJECT)), upload(b"abc"), None).await.unwrap_err();
        assert_eq!(err, expected);
        assert!(blobs.stored.lock().unwrap().is_empty(), "the bytes are removed");
        assert_eq!(*blobs.deleted.lock().unwrap(), [FileId(uuid(NEW_ID))]);
    }
}

#[tokio::test]
async fn a_commit_whose_outcome_is_unknown_leaves_the_bytes_to_the_sweep() {
    let (service, storage, blobs) = service();
    may_upload(&storage);
    storage.unit(|uow| {
        my_role(uow, Some(ProjectRole::Owner));
        uow.users.expect_get().returning(|_| Ok(Some(user(ME, "ada", Role::User))));
        uow.files.expect_insert().returning(|_, _| Ok(()));
        uow.commit_result = Err(StorageError::unavailable("connection lost during COMMIT"));
    });
    let err = service.upload(me(), ProjectId(uuid(PROJECT)), upload(b"abc"), None).await.unwrap_err();
    assert_eq!(err, AppError::Unavailable);
    assert_eq!(blobs.stored.lock().unwrap().len(), 1, "the commit may have landed: its bytes must stay");
}

#[tokio::test]
async fn the_uploader_or_the_owner_deletes_and_strangers_see_no_file() {
    let theirs = |uploader: u128| {
        let mut file = crate::testing::file_view(NEW_ID, PROJECT, uploader).file;
        file.uploader_id = UserId(uuid(uploader));
        file
    };
    let cases = [
        (ME, Some(ProjectRole::Viewer), Ok(())),
        (2, Some(ProjectRole::Owner), Ok(())),
        (2, Some(ProjectRole::Editor), Err(AppError::Forbidden)),
        (2, None, Err(AppError::NotFound(Resource::File))),
    ];
    for (uploader, role, expected) in cases {
        let (service, storage, blobs) = service();
        let file = theirs(uploader);
        blobs.stored.lock().unwrap().insert(file.id, b"x".to_vec());
        let allowed = expected.is_ok();
        storage.unit(move |uow| {
            uow.files.expect_get().return_once(move |_| Ok(Some(file)));
            my_role(uow, role);
            if allowed {
                uow.files.expect_delete().returning(|_| Ok(()));
            }
        });
        assert_eq!(service.delete(me(), FileId(uuid(NEW_ID))).await, expected, "{uploader} {role:?}");
        assert_eq!(blobs.stored.lock().unwrap().is_empty(), allowed, "bytes removed after the commit only");
    }
}

#[test]
fn ranges_resolve_against_the_size() {
    let from = |first, last| RangeRequest::From { first, last };
    assert_eq!(from(0, Some(4)).resolve(10), Ok(ByteRange { first: 0, last: 4 }));
    assert_eq!(from(5, None).resolve(10), Ok(ByteRange { first: 5, last: 9 }));
    assert_eq!(from(5, Some(100)).resolve(10), Ok(ByteRange { first: 5, last: 9 }));
    assert_eq!(from(9, Some(9)).resolve(10), Ok(ByteRange { first: 9, last: 9 }));
    assert_eq!(RangeRequest::Suffix(3).resolve(10), Ok(ByteRange { first: 7, last: 9 }));
    assert_eq!(RangeRequest::Suffix(30).resolve(10), Ok(ByteRange { first: 0, last: 9 }));
    for unsatisfiable in [from(10, None), from(10, Some(20)), RangeRequest::Suffix(0)] {
        assert_eq!(unsatisfiable.resolve(10), Err(AppError::RangeNotSatisfiable { size: 10 }));
    }
    assert_eq!(from(0, None).resolve(0), Err(AppError::RangeNotSatisfiable { size: 0 }));
    assert_eq!(RangeRequest::Suffix(1).resolve(0), Err(AppError::RangeNotSatisfiable { size: 0 }));
}
