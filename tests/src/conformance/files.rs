//! `FileRepository` contract: metadata with its uploader, the project's quota under concurrency,
//! newest-first pages, deletes that happen once, and a project's deletion taking its files.

use std::collections::BTreeSet;

use application::ports::Storage;
use domain::files::{FileId, ProjectFilesQuery};
use domain::projects::{ProjectId, ProjectRole};
use domain::{Conflict, PageBudget, PageLimit, StorageError};
use futures::future::join_all;
use uuid::Uuid;

use super::assert_matches;
use super::workspace::{add_member, insert_file, new_file, stored_project, stored_user};

const QUOTA: u64 = 1 << 30;

pub async fn a_file_is_stored_with_its_uploader_and_needs_its_project(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    add_member(storage, &project, &bob, ProjectRole::Editor, 1).await;
    let file = new_file(&project, &bob, "report – 2026.pdf", 12_345, 2);
    insert_file(storage, &file, QUOTA).await.unwrap();

    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.files().get(file.id).await.unwrap(), Some(file.clone()));
    let view = reader.files().view(file.id).await.unwrap().unwrap();
    assert_eq!(view.file, file);
    assert_eq!(view.uploader, bob.profile());
    assert_eq!(reader.files().get(FileId(Uuid::now_v7())).await.unwrap(), None);
    assert_eq!(reader.files().view(FileId(Uuid::now_v7())).await.unwrap(), None);
    drop(reader);

    let mut ghost = project.clone();
    ghost.id = ProjectId(Uuid::now_v7());
    let orphan = new_file(&ghost, &ada, "orphan", 1, 3);
    assert_matches!(
        insert_file(storage, &orphan, QUOTA).await,
        Err(StorageError::ConditionFailed),
        "a file needs its project"
    );
    assert_eq!(storage.read().await.unwrap().files().get(orphan.id).await.unwrap(), None);
}

/// The sizes of a project's files add up against the quota: the quota itself fits, one byte
/// more does not, a delete gives its bytes back, and other projects count apart.
pub async fn the_quota_counts_every_file_of_its_project(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &ada, "Other", 1).await;
    let big = new_file(&project, &ada, "big", 60, 2);
    insert_file(storage, &big, 100).await.unwrap();
    let over = new_file(&project, &ada, "over", 41, 3);
    assert_matches!(insert_file(storage, &over, 100).await, Err(StorageError::Conflict(Conflict::QuotaExceeded)));
    assert_eq!(storage.read().await.unwrap().files().get(over.id).await.unwrap(), None, "nothing of it is stored");
    insert_file(storage, &new_file(&other, &ada, "elsewhere", 100, 3), 100).await.unwrap();
    insert_file(storage, &new_file(&project, &ada, "exact", 40, 4), 100).await.unwrap();
    assert_matches!(
        insert_file(storage, &new_file(&project, &ada, "one more", 1, 5), 100).await,
        Err(StorageError::Conflict(Conflict::QuotaExceeded))
    );
    insert_file(storage, &new_file(&project, &ada, "empty", 0, 5), 100).await.unwrap();

    let mut uow = storage.begin().await.unwrap();
    uow.files().delete(&big).await.unwrap();
    uow.commit().await.unwrap();
    insert_file(storage, &new_file(&project, &ada, "again", 60, 6), 100).await.unwrap();
    assert_matches!(
        insert_file(storage, &new_file(&project, &ada, "one more", 1, 7), 100).await,
        Err(StorageError::Conflict(Conflict::QuotaExceeded))
    );
    // A smaller quota later (the operator lowered it) refuses every new byte, and nothing breaks.
    assert_matches!(
        insert_file(storage, &new_file(&project, &ada, "lowered", 1, 8), 50).await,
        Err(StorageError::Conflict(Conflict::QuotaExceeded))
    );
    insert_file(storage, &new_file(&project, &ada, "huge quota", 5, 8), u64::MAX).await.unwrap();
}

/// Twenty uploads of 10 bytes at once against a quota of 100: exactly ten are stored, whatever
/// the backend serialises. A write that lost a race to a concurrent one (a DynamoDB transaction
/// conflict) is retried, as the service retries it.
pub async fn concurrent_inserts_never_pass_the_quota(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let files: Vec<_> = (0..20).map(|i| new_file(&project, &ada, &format!("f{i}"), 10, 1)).collect();
    let outcomes = join_all(files.iter().map(|file| async move {
        for _ in 0..50 {
            match insert_file(storage, file, 100).await {
                Err(StorageError::Unavailable { .. } | StorageError::ConditionFailed) => continue,
                other => return other,
            }
        }
        panic!("an insert kept losing races");
    }))
    .await;
    let stored = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(stored, 10, "{outcomes:?}");
    for outcome in &outcomes {
        assert_matches!(outcome, Ok(()) | Err(StorageError::Conflict(Conflict::QuotaExceeded)));
    }
    let listed = list_all(storage, project.id, PageBudget::DEFAULT).await;
    assert_eq!(listed.len(), 10);
}

async fn list_all(storage: &dyn Storage, project: ProjectId, budget: PageBudget) -> Vec<FileId> {
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..100 {
        let query = ProjectFilesQuery { project, after, limit: PageLimit::parse(2).unwrap(), budget };
        let page = storage.read().await.unwrap().files().list(&query).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|v| v.file.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
    panic!("the list never ends");
}

pub async fn a_projects_files_are_listed_newest_first_in_pages(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &ada, "Other", 0).await;
    add_member(storage, &project, &bob, ProjectRole::Editor, 1).await;
    let mut expected = Vec::new();
    // Two files share a creation time: the id breaks the tie, newest (largest) first.
    for (i, minutes) in [2, 3, 3, 5, 7].into_iter().enumerate() {
        let uploader = if i % 2 == 0 { &ada } else { &bob };
        let file = new_file(&project, uploader, &format!("file {i}"), i as u64, minutes);
        insert_file(storage, &file, QUOTA).await.unwrap();
        insert_file(storage, &new_file(&other, &ada, "elsewhere", 1, minutes), QUOTA).await.unwrap();
        expected.push(file);
    }
    expected.sort_by_key(|f| std::cmp::Reverse((f.created_at, f.id)));
    let expected: Vec<FileId> = expected.iter().map(|f| f.id).collect();
    assert_eq!(list_all(storage, project.id, PageBudget::DEFAULT).await, expected);

    let query =
        ProjectFilesQuery { project: project.id, after: None, limit: PageLimit::DEFAULT, budget: PageBudget::DEFAULT };
    let page = storage.read().await.unwrap().files().list(&query).await.unwrap();
    let uploaders: Vec<_> = page.items.iter().map(|v| v.uploader.username.clone()).collect();
    assert_eq!(uploaders.len(), 5);
    for view in &page.items {
        let who = if view.file.uploader_id == ada.id { &ada } else { &bob };
        assert_eq!(view.uploader, who.profile());
    }

    let foreign = ProjectFilesQuery {
        project: project.id,
        after: Some(domain::Continuation(b"not a continuation".to_vec())),
        limit: PageLimit::DEFAULT,
        budget: PageBudget::DEFAULT,
    };
    assert_matches!(storage.read().await.unwrap().files().list(&foreign).await, Err(StorageError::BadContinuation));
}

/// A page stops before the file that would pass its budget (and holds at least one).
pub async fn file_pages_stop_at_their_budget(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    for i in 0..6 {
        let name = format!("{i}{}", "é\"".repeat(25 * i));
        insert_file(storage, &new_file(&project, &ada, &name, 1, i as i64), QUOTA).await.unwrap();
    }
    let budget = PageBudget::bytes(900);
    let mut after = None;
    let mut seen = 0;
    loop {
        let query = ProjectFilesQuery { project: project.id, after, limit: PageLimit::parse(100).unwrap(), budget };
        let page = storage.read().await.unwrap().files().list(&query).await.unwrap();
        let used: usize = page.items.iter().map(domain::JsonSize::json_size).sum();
        assert!(!page.items.is_empty());
        assert!(page.items.len() == 1 || used <= budget.get(), "{used}");
        seen += page.items.len();
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, 6);
}

pub async fn a_file_is_deleted_once(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let file = new_file(&project, &ada, "gone", 10, 1);
    let kept = new_file(&project, &ada, "kept", 10, 2);
    insert_file(storage, &file, QUOTA).await.unwrap();
    insert_file(storage, &kept, QUOTA).await.unwrap();

    let delete = || async {
        let mut uow = storage.begin().await?;
        uow.files().delete(&file).await?;
        uow.commit().await
    };
    let (first, second) = futures::join!(delete(), delete());
    let mut outcomes = [first, second];
    outcomes.sort_by_key(|o| o.is_err());
    assert_matches!(&outcomes[0], Ok(()));
    assert_matches!(&outcomes[1], Err(StorageError::ConditionFailed), "the second delete finds it gone");
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.files().get(file.id).await.unwrap(), None);
    assert_eq!(reader.files().get(kept.id).await.unwrap(), Some(kept));
}

/// A second file under a stored file's id (a direct upload completed twice) is a conflict of its
/// own, at the write or at the commit, and leaves the first file and the project's total as they were.
pub async fn a_second_file_under_a_stored_id_is_refused(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let file = new_file(&project, &ada, "first", 60, 1);
    insert_file(storage, &file, 100).await.unwrap();
    let mut again = new_file(&project, &ada, "again", 10, 2);
    again.id = file.id;

    assert_matches!(insert_file(storage, &again, 100).await, Err(StorageError::Conflict(Conflict::FileExists)));
    assert_eq!(storage.read().await.unwrap().files().get(file.id).await.unwrap(), Some(file));
    insert_file(storage, &new_file(&project, &ada, "fits", 40, 3), 100).await.unwrap();
}

/// Dropped and failed units leave neither the file nor its bytes in the project's total.
pub async fn a_file_written_in_a_unit_that_does_not_commit_counts_nothing(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let dropped = new_file(&project, &ada, "dropped", 100, 1);
    let mut uow = storage.begin().await.unwrap();
    uow.files().insert(&dropped, 100).await.unwrap();
    drop(uow);
    assert_eq!(storage.read().await.unwrap().files().get(dropped.id).await.unwrap(), None);
    insert_file(storage, &new_file(&project, &ada, "fits", 100, 2), 100).await.unwrap();
}

pub async fn deleting_a_project_takes_its_files(storage: &dyn Storage) {
    let ada = stored_user(storage, "ada").await;
    let project = stored_project(storage, &ada, "Apollo", 0).await;
    let other = stored_project(storage, &ada, "Other", 1).await;
    let mut ids = BTreeSet::new();
    for i in 0..7 {
        let file = new_file(&project, &ada, &format!("f{i}"), 1, 2);
        insert_file(storage, &file, QUOTA).await.unwrap();
        ids.insert(file.id);
    }
    let kept = new_file(&other, &ada, "kept", 1, 3);
    insert_file(storage, &kept, QUOTA).await.unwrap();

    let mut reader = storage.read().await.unwrap();
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let got = reader.files().ids_in_project(project.id, after, 3).await.unwrap();
        assert!(got.len() <= 3);
        if got.is_empty() {
            break;
        }
        after = got.last().copied();
        listed.extend(got);
    }
    assert_eq!(listed, ids.iter().copied().collect::<Vec<_>>(), "every id once, in id order");
    let mut asked: Vec<FileId> = ids.iter().copied().chain([kept.id, FileId(Uuid::now_v7())]).collect();
    asked.reverse();
    let found: BTreeSet<FileId> = reader.files().existing(&asked).await.unwrap().into_iter().collect();
    assert_eq!(found, ids.iter().copied().chain([kept.id]).collect());
    drop(reader);

    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(project.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let mut reader = storage.read().await.unwrap();
    for id in &ids {
        assert_eq!(reader.files().get(*id).await.unwrap(), None);
        assert_eq!(reader.files().view(*id).await.unwrap(), None);
    }
    assert_eq!(reader.files().ids_in_project(project.id, None, 100).await.unwrap(), Vec::new());
    assert_eq!(reader.files().existing(&asked).await.unwrap(), vec![kept.id], "once the deletion finished");
    assert_eq!(reader.files().get(kept.id).await.unwrap(), Some(kept));
}
