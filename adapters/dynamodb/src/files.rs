//! `FileRepository` on DynamoDB. A file's metadata lives in its project's partition under its id
//! (`FILE#<id>`: the table holds them in id order) and is listed newest first through the
//! `by_order` local index (`lsk = FILE#<created_at>#<id>`). A pointer item leads from the id to
//! the project and the uploader. The project item's `file_bytes` is the total of its files'
//! sizes, changed in the transaction of each insert and delete under a condition that keeps it
//! within the quota (`unit_of_work.rs`), so concurrent inserts never pass it together: DynamoDB
//! applies the conflicting transactions one at a time or cancels them.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::files::{File, FileId, FileName, FileView, MediaType, ProjectFilesQuery, Sha256Digest};
use domain::pagination::json_text_len;
use domain::ports::FileRepository;
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Conflict, Page, PageFill, StorageError};
use uuid::Uuid;

use crate::cursor::Position;
use crate::item::{millis, n, s, sortable, Fields, Item};
use crate::keys::{project_partition, Key, BY_ORDER, DELETING, FILE_PREFIX, JSON_SIZE, ORDER, PK, SK};
use crate::pages::{entry_key, fill, plan};
use crate::table::QuerySpec;
use crate::unit_of_work::{Counts, DynamoUnit};
use crate::users::profile_from_item;
use crate::writes::{Failure, Write};

const FILE_POSITION: Position<'static> = Position { names: &[PK, SK, ORDER] };

/// The uploader's id, under the name the indexes project (`setup.rs`): a page reads the files it
/// shows and their uploaders in one BatchGetItem, from the index entries alone.
const UPLOADER: &str = "creator_id";

/// What a file's own fields take in a page: `FileView::json_size` without the uploader's
/// profile, which a page plans for apart (`pages.rs`). Only a hint for which files to read: the
/// page is cut with the real sizes.
fn json_size(file: &File) -> i64 {
    let size = 300 + json_text_len(file.name.as_str()) + json_text_len(file.content_type.as_str());
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn file_item(file: &File) -> Item {
    Item::from([
        ("id".to_owned(), s(file.id.0.to_string())),
        ("project_id".to_owned(), s(file.project_id.0.to_string())),
        ("name".to_owned(), s(file.name.as_str())),
        ("content_type".to_owned(), s(file.content_type.as_str())),
        ("size".to_owned(), AttributeValue::N(file.size.to_string())),
        ("sha256".to_owned(), s(file.sha256.to_hex())),
        (UPLOADER.to_owned(), s(file.uploader_id.0.to_string())),
        ("created_at".to_owned(), n(millis(file.created_at))),
        (JSON_SIZE.to_owned(), n(json_size(file))),
        (ORDER.to_owned(), s(format!("{FILE_PREFIX}{}#{}", sortable(file.created_at), file.id.0))),
    ])
}

fn pointer_item(file: &File) -> Item {
    Item::from([
        ("project_id".to_owned(), s(file.project_id.0.to_string())),
        (UPLOADER.to_owned(), s(file.uploader_id.0.to_string())),
    ])
}

pub(crate) fn file_from_item(item: &Item) -> Result<File, StorageError> {
    let f = Fields::of(item, "file");
    Ok(File {
        id: FileId(f.uuid("id")?),
        project_id: ProjectId(f.uuid("project_id")?),
        name: f.parsed("name", |v| FileName::parse(v))?,
        content_type: f.parsed("content_type", MediaType::parse)?,
        size: u64::try_from(f.int("size")?)
            .map_err(|_| StorageError::backend("stored file item: attribute size is negative"))?,
        sha256: f.parsed("sha256", |v| Sha256Digest::from_hex(v).ok_or("not 64 hex digits"))?,
        uploader_id: UserId(f.uuid(UPLOADER)?),
        created_at: f.time("created_at")?,
    })
}

/// Whether `found` holds the project and its deletion has not begun.
fn live(found: &HashMap<Key, Item>, project: ProjectId) -> bool {
    found.get(&Key::project(project)).is_some_and(|item| !item.contains_key(DELETING))
}

/// A file's size as a change of its project's total.
fn bytes(file: &File) -> Result<i64, StorageError> {
    i64::try_from(file.size).map_err(|_| StorageError::backend(format!("file {} of {} bytes", file.id, file.size)))
}

/// Where a file id leads.
struct Pointer {
    file: Key,
    project: ProjectId,
    uploader: UserId,
}

impl DynamoUnit {
    async fn file_pointer(&mut self, operation: &'static str, id: FileId) -> Result<Option<Pointer>, StorageError> {
        let Some(item) = self.table.get(operation, &Key::file_pointer(id)).await? else { return Ok(None) };
        let f = Fields::of(&item, "file pointer");
        let project = ProjectId(f.uuid("project_id")?);
        Ok(Some(Pointer { file: Key::file(project, id), project, uploader: UserId(f.uuid(UPLOADER)?) }))
    }

    /// The file with, when `with_uploader`, its uploader's item: one BatchGetItem after the
    /// pointer, with the project (a project whose deletion has begun hides its files).
    async fn read_file(
        &mut self,
        operation: &'static str,
        id: FileId,
        with_uploader: bool,
    ) -> Result<Option<(File, Option<Item>)>, StorageError> {
        let Some(pointer) = self.file_pointer(operation, id).await? else { return Ok(None) };
        let mut keys = vec![pointer.file.clone(), Key::project(pointer.project)];
        if with_uploader {
            keys.push(Key::user(pointer.uploader));
        }
        let mut found = self.table.batch_get(operation, &keys).await?;
        if !live(&found, pointer.project) {
            return Ok(None);
        }
        let Some(file) = found.get(&pointer.file).map(file_from_item).transpose()? else { return Ok(None) };
        Ok(Some((file, found.remove(&Key::user(pointer.uploader)))))
    }
}

#[async_trait]
impl FileRepository for DynamoUnit {
    /// The file and its pointer, and the project's `ADD file_bytes` whose condition checks that
    /// the project is live and the total stays within `quota` (see `Counts::admits`).
    async fn insert(&mut self, file: &File, quota: u64) -> Result<(), StorageError> {
        let size = bytes(file)?;
        if file.size > quota || !self.counted(file.project_id).admits(size, quota) {
            return Err(StorageError::Conflict(Conflict::QuotaExceeded));
        }
        self.write([
            Write::put(Key::file(file.project_id, file.id), file_item(file))
                .when("attribute_not_exists(pk)", Failure::Conflict(Conflict::FileExists)),
            Write::put(Key::file_pointer(file.id), pointer_item(file))
                .when("attribute_not_exists(pk)", Failure::Conflict(Conflict::FileExists)),
        ])?;
        self.count(file.project_id, Counts { file_bytes: size, quota: Some(quota), ..Counts::default() })
    }

    async fn get(&mut self, id: FileId) -> Result<Option<File>, StorageError> {
        Ok(self.read_file("files.get", id, false).await?.map(|(file, _)| file))
    }

    async fn view(&mut self, id: FileId) -> Result<Option<FileView>, StorageError> {
        let Some((file, uploader)) = self.read_file("files.view", id, true).await? else { return Ok(None) };
        let uploader = uploader.ok_or_else(|| StorageError::backend(format!("file {id} without its uploader")))?;
        Ok(Some(FileView { uploader: profile_from_item(&uploader)?, file }))
    }

    /// Of two concurrent deletes, the second finds the file gone (or its transaction is
    /// cancelled by the first: `Unavailable`, and a retry finds it gone).
    async fn delete(&mut self, file: &File) -> Result<(), StorageError> {
        let size = bytes(file)?;
        self.write([
            Write::delete(Key::file(file.project_id, file.id)).when("attribute_exists(pk)", Failure::ConditionFailed),
            Write::delete(Key::file_pointer(file.id)).when("attribute_exists(pk)", Failure::ConditionFailed),
        ])?;
        self.count(file.project_id, Counts { file_bytes: -size, ..Counts::default() })
    }

    /// `limit + 1` entries of the `by_order` index, then one BatchGetItem of the files that fit
    /// the page, their uploaders and the project.
    async fn list(&mut self, query: &ProjectFilesQuery) -> Result<Page<FileView>, StorageError> {
        const OPERATION: &str = "files.list";
        let partition = project_partition(query.project);
        let start = match &query.after {
            Some(after) => Some(FILE_POSITION.start_key(after, |name, value| match name {
                PK => value == partition,
                _ => value.starts_with(FILE_PREFIX),
            })?),
            None => None,
        };
        let entries = self
            .table
            .query_up_to(
                OPERATION,
                QuerySpec {
                    index: Some(BY_ORDER),
                    partition: (PK, partition),
                    prefix: Some((ORDER, FILE_PREFIX.to_owned())),
                    forward: false,
                    start,
                    limit: query.limit.get() as i32 + 1,
                    keys_only: false,
                },
            )
            .await?;
        let (planned, rest) = plan(entries, query.limit, query.budget)?;
        let mut keys = Vec::with_capacity(planned.len() * 2 + 1);
        keys.push(Key::project(query.project));
        for entry in &planned {
            keys.push(entry_key(entry)?);
            keys.push(Key::user(UserId(Fields::of(entry, "file entry").uuid(UPLOADER)?)));
        }
        let found = self.table.batch_get(OPERATION, &keys).await?;
        if !live(&found, query.project) {
            return Ok(PageFill::new(query.limit, query.budget).finish(None));
        }
        let show = |item: &Item| {
            let file = file_from_item(item)?;
            let uploader = found
                .get(&Key::user(file.uploader_id))
                .ok_or_else(|| StorageError::backend(format!("file {} without its uploader", file.id)))?;
            Ok(Some(FileView { uploader: profile_from_item(uploader)?, file }))
        };
        fill(planned, &found, query.limit, query.budget, rest, &FILE_POSITION, show)
    }

    /// The table's `FILE#<id>` items of the partition, keys only, from the key after `after`.
    async fn ids_in_project(
        &mut self,
        project: ProjectId,
        after: Option<FileId>,
        limit: u32,
    ) -> Result<Vec<FileId>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .table
            .query_up_to(
                "files.ids_in_project",
                QuerySpec {
                    index: None,
                    partition: (PK, project_partition(project)),
                    prefix: Some((SK, FILE_PREFIX.to_owned())),
                    forward: true,
                    start: after.map(|id| Key::file(project, id).item()),
                    limit: i32::try_from(limit).unwrap_or(i32::MAX),
                    keys_only: true,
                },
            )
            .await?;
        items
            .iter()
            .map(|item| {
                let sk = Fields::of(item, "file").str(SK)?;
                sk.strip_prefix(FILE_PREFIX)
                    .and_then(|id| Uuid::parse_str(id).ok())
                    .map(FileId)
                    .ok_or_else(|| StorageError::backend(format!("stored file key {sk}")))
            })
            .collect()
    }

    /// One BatchGetItem of the pointers.
    async fn existing(&mut self, ids: &[FileId]) -> Result<Vec<FileId>, StorageError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let keys: Vec<Key> = ids.iter().map(|id| Key::file_pointer(*id)).collect();
        let found = self.table.batch_get("files.existing", &keys).await?;
        Ok(ids.into_iter().filter(|id| found.contains_key(&Key::file_pointer(*id))).collect())
    }
}
