//! `RecordScan` contract (`tessera copy`'s source): every record of every kind met exactly once,
//! whole, page after page; nothing of a deleted project; walks that survive writes.

use std::collections::HashSet;

use application::ports::Storage;
use domain::posts::{PostStatus, PostTitle};
use domain::projects::ProjectRole;
use domain::records::{Record, RecordKind};
use domain::{Continuation, StorageError};
use time::Duration;

use super::workspace::{add_member, insert_file, new_file, stored_post, stored_project, stored_user};
use super::{assert_matches, T0};

/// Every record of `kind`, walking pages of `limit`; each page at most `limit` long.
async fn walk(storage: &dyn Storage, kind: RecordKind, limit: u32) -> Vec<Record> {
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let page = storage.export().scan(kind, after, limit).await.unwrap();
        assert!(page.records.len() <= limit as usize, "{kind:?}: a page over its limit");
        assert!(page.records.iter().all(|r| r.kind() == kind), "{kind:?}: a record of another kind");
        seen.extend(page.records);
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
    panic!("{kind:?}: the scan never ends");
}

/// `records` and `expected` hold the same records, in any order.
fn same(kind: RecordKind, records: Vec<Record>, expected: Vec<Record>) {
    assert_eq!(records.len(), expected.len(), "{kind:?}: {records:#?}");
    for record in &expected {
        assert!(records.contains(record), "{kind:?}: {record:#?} was not met (or not whole)");
    }
}

pub async fn every_record_of_every_kind_is_scanned_once_and_whole(storage: &dyn Storage) {
    let mut ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let cyd = stored_user(storage, "cyd").await;
    // A user whose record changed since it was made: version, epoch and times come as stored.
    let mut changed = ada.clone();
    changed.session_epoch = 3;
    changed.version = 2;
    changed.updated_at = T0 + Duration::minutes(9);
    let mut uow = storage.begin().await.unwrap();
    uow.users().update(&changed, 1).await.unwrap();
    uow.commit().await.unwrap();
    ada = changed;

    let apollo = stored_project(storage, &ada, "Apollo", 1).await;
    let gemini = stored_project(storage, &bob, "Gemini", 2).await;
    add_member(storage, &apollo, &bob, ProjectRole::Editor, 3).await;
    add_member(storage, &apollo, &cyd, ProjectRole::Viewer, 4).await;
    let draft = stored_post(storage, &apollo, &bob, "draft", PostStatus::Draft, 5).await;
    let mut edited = stored_post(storage, &apollo, &ada, "edited", PostStatus::Published, 6).await;
    edited.title = PostTitle::parse("Edited").unwrap();
    edited.updated_at = Some(T0 + Duration::minutes(8));
    edited.version = 2;
    let mut uow = storage.begin().await.unwrap();
    uow.posts().update(&edited, 1).await.unwrap();
    uow.commit().await.unwrap();
    let other = stored_post(storage, &gemini, &bob, "other", PostStatus::Published, 7).await;
    let file = new_file(&apollo, &bob, "notes.txt", 42, 8);
    insert_file(storage, &file, u64::MAX).await.unwrap();

    let mut members = Vec::new();
    for (project, user, role, minutes) in [
        (&apollo, &ada, ProjectRole::Owner, 1),
        (&gemini, &bob, ProjectRole::Owner, 2),
        (&apollo, &bob, ProjectRole::Editor, 3),
        (&apollo, &cyd, ProjectRole::Viewer, 4),
    ] {
        members.push(Record::Member(domain::members::Member {
            project_id: project.id,
            user_id: user.id,
            role,
            added_at: T0 + Duration::minutes(minutes),
        }));
    }
    for limit in [1, 2, 100] {
        let users = vec![Record::User(ada.clone()), Record::User(bob.clone()), Record::User(cyd.clone())];
        same(RecordKind::Users, walk(storage, RecordKind::Users, limit).await, users);
        let projects = vec![Record::Project(apollo.clone()), Record::Project(gemini.clone())];
        same(RecordKind::Projects, walk(storage, RecordKind::Projects, limit).await, projects);
        same(RecordKind::Members, walk(storage, RecordKind::Members, limit).await, members.clone());
        let posts = vec![Record::Post(draft.clone()), Record::Post(edited.clone()), Record::Post(other.clone())];
        same(RecordKind::Posts, walk(storage, RecordKind::Posts, limit).await, posts);
        same(RecordKind::Files, walk(storage, RecordKind::Files, limit).await, vec![Record::File(file.clone())]);
    }
    // What a copy's progress counts towards: as many as a walk meets, kind by kind, in order.
    let counted = storage.export().counts().await.unwrap();
    let expected = [3, 2, 4, 3, 1];
    assert_eq!(counted, RecordKind::ALL.into_iter().zip(expected).collect::<Vec<_>>());
}

pub async fn an_empty_storage_scans_nothing(storage: &dyn Storage) {
    for kind in RecordKind::ALL {
        let page = storage.export().scan(kind, None, 10).await.unwrap();
        assert_eq!((page.records.len(), page.next.is_none()), (0, true), "{kind:?}");
    }
    let counted = storage.export().counts().await.unwrap();
    assert_eq!(counted, RecordKind::ALL.into_iter().map(|kind| (kind, 0)).collect::<Vec<_>>());
}

pub async fn a_deleted_projects_records_are_not_scanned(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let gone = stored_project(storage, &ada, "Gone", 1).await;
    let kept = stored_project(storage, &ada, "Kept", 2).await;
    add_member(storage, &gone, &bob, ProjectRole::Editor, 3).await;
    stored_post(storage, &gone, &bob, "gone", PostStatus::Published, 4).await;
    insert_file(storage, &new_file(&gone, &bob, "gone.txt", 1, 5), u64::MAX).await.unwrap();
    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(gone.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let projects = walk(storage, RecordKind::Projects, 10).await;
    assert_eq!(projects, vec![Record::Project(kept.clone())]);
    let members = walk(storage, RecordKind::Members, 10).await;
    assert!(members.iter().all(|m| matches!(m, Record::Member(m) if m.project_id == kept.id)), "{members:#?}");
    assert_eq!(members.len(), 1, "the kept project's owner only");
    assert_eq!(walk(storage, RecordKind::Posts, 10).await, Vec::new());
    assert_eq!(walk(storage, RecordKind::Files, 10).await, Vec::new());
}

/// Users written and deleted projects while a walk is under way: every record stored for the
/// whole walk is met exactly once.
pub async fn a_walk_meets_every_record_stored_throughout_once_whatever_is_written_meanwhile(storage: &dyn Storage) {
    let mut before = Vec::new();
    for i in 0..7 {
        before.push(stored_user(storage, &format!("early{i}")).await);
    }
    let mut seen = Vec::new();
    let mut after: Option<Continuation> = None;
    let mut round = 0;
    loop {
        let page = storage.export().scan(RecordKind::Users, after, 2).await.unwrap();
        seen.extend(page.records);
        stored_user(storage, &format!("late{round}")).await;
        round += 1;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(round < 100, "the walk never ends");
    }
    let ids: Vec<_> = seen
        .iter()
        .map(|r| match r {
            Record::User(u) => u.id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len(), "a user met twice");
    for user in &before {
        assert!(ids.contains(&user.id), "{} was not met", user.username.as_str());
    }
}

pub async fn a_scan_refuses_a_continuation_it_did_not_make(storage: &dyn Storage) {
    stored_user(storage, "ada").await;
    stored_user(storage, "bob").await;
    let first = storage.export().scan(RecordKind::Users, None, 0).await.unwrap();
    assert_eq!(first.records.len(), 1, "a limit of 0 is taken as 1");
    assert!(first.next.is_some());
    for kind in RecordKind::ALL {
        let foreign = Continuation(b"not a continuation".to_vec());
        assert_matches!(storage.export().scan(kind, Some(foreign), 10).await, Err(StorageError::BadContinuation));
    }
}
