//! `PostRepository` on DynamoDB. A post lives in its project's partition under its slug (so the
//! slug is unique there by key) and is listed by newest activity through the `by_order` and
//! `by_status` local indexes. A pointer item leads from the post's id to that key. The
//! `by_creator` global index lists a creator's posts across projects.

use async_trait::async_trait;
use domain::ports::PostRepository;
use domain::posts::{
    CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, PostView, ProjectPostsQuery, Slug,
};
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Conflict, Page, StorageError};

use crate::cursor::Position;
use crate::item::{millis, n, s, sortable, Fields, Item};
use crate::keys::{
    creator_partition, project_partition, Key, BY_CREATOR, BY_ORDER, BY_STATUS, CREATOR, CREATOR_ORDER, ORDER, PK,
    POST_PREFIX, SK, STATUS_ORDER,
};
use crate::members::member_from_item;
use crate::projects::project_from_item;
use crate::table::QuerySpec;
use crate::unit_of_work::{Counts, DynamoUnit};
use crate::users::profile_from_item;
use crate::writes::{Failure, Write};

const ORDER_POSITION: Position<'static> = Position { names: &[PK, SK, ORDER] };
const STATUS_POSITION: Position<'static> = Position { names: &[PK, SK, STATUS_ORDER] };
const CREATOR_POSITION: Position<'static> = Position { names: &[CREATOR, CREATOR_ORDER, PK, SK] };

fn activity_key(post: &Post) -> String {
    format!("{}#{}", sortable(post.activity_at()), post.id.0)
}

fn post_item(post: &Post) -> Item {
    let activity = activity_key(post);
    let mut item = Item::from([
        ("id".to_owned(), s(post.id.0.to_string())),
        ("project_id".to_owned(), s(post.project_id.0.to_string())),
        ("slug".to_owned(), s(post.slug.as_str())),
        ("title".to_owned(), s(post.title.as_str())),
        ("body".to_owned(), s(post.body.as_str())),
        ("status".to_owned(), s(post.status.as_str())),
        ("creator_id".to_owned(), s(post.creator_id.0.to_string())),
        ("created_at".to_owned(), n(millis(post.created_at))),
        ("version".to_owned(), n(post.version)),
        (ORDER.to_owned(), s(format!("{POST_PREFIX}{activity}"))),
        (STATUS_ORDER.to_owned(), s(format!("{POST_PREFIX}{}#{activity}", post.status.as_str()))),
        (CREATOR.to_owned(), s(creator_partition(post.creator_id))),
        (CREATOR_ORDER.to_owned(), s(activity)),
    ]);
    if let Some(at) = post.updated_at {
        item.insert("updated_at".into(), n(millis(at)));
    }
    if let Some(at) = post.published_at {
        item.insert("published_at".into(), n(millis(at)));
    }
    item
}

fn pointer_item(post: &Post) -> Item {
    Item::from([
        ("project_id".to_owned(), s(post.project_id.0.to_string())),
        ("slug".to_owned(), s(post.slug.as_str())),
        ("creator_id".to_owned(), s(post.creator_id.0.to_string())),
    ])
}

pub(crate) fn post_from_item(item: &Item) -> Result<Post, StorageError> {
    let f = Fields::of(item, "post");
    Ok(Post {
        id: PostId(f.uuid("id")?),
        project_id: ProjectId(f.uuid("project_id")?),
        slug: f.parsed("slug", Slug::parse)?,
        title: f.parsed("title", |v| PostTitle::parse(v))?,
        body: f.parsed("body", |v| PostBody::parse(v))?,
        status: f.parsed("status", |v| PostStatus::parse(v).ok_or("unknown status"))?,
        creator_id: UserId(f.uuid("creator_id")?),
        created_at: f.time("created_at")?,
        updated_at: f.opt_time("updated_at")?,
        published_at: f.opt_time("published_at")?,
        version: f.int("version")?,
    })
}

/// Where a post id leads.
struct Pointer {
    post: Key,
    creator: UserId,
}

impl DynamoUnit {
    /// Read for the port operation `operation` (the name its calls are timed under).
    async fn pointer(&mut self, operation: &'static str, id: PostId) -> Result<Option<Pointer>, StorageError> {
        let Some(item) = self.table.get(operation, &Key::post_pointer(id)).await? else { return Ok(None) };
        let f = Fields::of(&item, "post pointer");
        let project = ProjectId(f.uuid("project_id")?);
        let slug = f.parsed("slug", Slug::parse)?;
        Ok(Some(Pointer { post: Key::post(project, &slug), creator: UserId(f.uuid("creator_id")?) }))
    }
}

#[async_trait]
impl PostRepository for DynamoUnit {
    async fn insert(&mut self, post: &Post) -> Result<(), StorageError> {
        self.write([
            Write::put(Key::post(post.project_id, &post.slug), post_item(post))
                .when("attribute_not_exists(pk)", Failure::Conflict(Conflict::SlugTaken)),
            Write::put(Key::post_pointer(post.id), pointer_item(post))
                .when("attribute_not_exists(pk)", Failure::ConditionFailed),
        ])?;
        // The counter's condition also proves the project exists and is not being deleted.
        self.count(post.project_id, Counts { members: 0, posts: 1 })
    }

    async fn get(&mut self, id: PostId) -> Result<Option<Post>, StorageError> {
        let Some(pointer) = self.pointer("posts.get", id).await? else { return Ok(None) };
        self.table.get("posts.get", &pointer.post).await?.as_ref().map(post_from_item).transpose()
    }

    async fn view(&mut self, id: PostId) -> Result<Option<PostView>, StorageError> {
        let Some(pointer) = self.pointer("posts.view", id).await? else { return Ok(None) };
        let found = self.table.batch_get("posts.view", &[pointer.post.clone(), Key::user(pointer.creator)]).await?;
        let Some(post) = found.get(&pointer.post).map(post_from_item).transpose()? else { return Ok(None) };
        let creator = found
            .get(&Key::user(pointer.creator))
            .ok_or_else(|| StorageError::backend(format!("post {} without its creator", id.0)))?;
        Ok(Some(PostView { post, creator: profile_from_item(creator)? }))
    }

    async fn slugs_like(&mut self, project: ProjectId, base: &Slug) -> Result<Vec<Slug>, StorageError> {
        let prefix = format!("{POST_PREFIX}{}", base.as_str());
        let family = format!("{}-", base.as_str());
        let mut slugs = Vec::new();
        let mut start = None;
        loop {
            let (items, next) = self
                .table
                .query(
                    "posts.slugs_like",
                    QuerySpec {
                        index: None,
                        partition: (PK, project_partition(project)),
                        prefix: Some((SK, prefix.clone())),
                        forward: true,
                        start,
                        limit: 1000,
                        keys_only: true,
                    },
                )
                .await?;
            for item in &items {
                let slug = Fields::of(item, "post").str(SK)?.trim_start_matches(POST_PREFIX);
                if slug == base.as_str() || slug.starts_with(&family) {
                    slugs.push(Slug::parse(slug).map_err(|e| StorageError::backend(format!("stored slug: {e}")))?);
                }
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(slugs),
            }
        }
    }

    async fn update(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError> {
        self.write([Write::put(Key::post(post.project_id, &post.slug), post_item(post))
            .when("#version = :expected", Failure::ConditionFailed)
            .name("#version", "version")
            .value(":expected", n(expected_version))])
    }

    async fn delete(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError> {
        self.write([
            Write::delete(Key::post(post.project_id, &post.slug))
                .when("#version = :expected", Failure::ConditionFailed)
                .name("#version", "version")
                .value(":expected", n(expected_version)),
            Write::delete(Key::post_pointer(post.id)),
        ])?;
        self.count(post.project_id, Counts { members: 0, posts: -1 })
    }

    async fn list_for_project(&mut self, query: &ProjectPostsQuery) -> Result<Page<PostView>, StorageError> {
        let partition = project_partition(query.project);
        let (index, attribute, prefix, position) = match query.status {
            None => (BY_ORDER, ORDER, POST_PREFIX.to_owned(), &ORDER_POSITION),
            Some(status) => (BY_STATUS, STATUS_ORDER, format!("{POST_PREFIX}{}#", status.as_str()), &STATUS_POSITION),
        };
        let start = match &query.after {
            Some(after) => Some(position.start_key(after, |name, value| match name {
                PK => value == partition,
                SK => value.starts_with(POST_PREFIX),
                _ => value.starts_with(&prefix),
            })?),
            None => None,
        };
        let items = self
            .table
            .query_up_to(
                "posts.list_for_project",
                QuerySpec {
                    index: Some(index),
                    partition: (PK, partition),
                    prefix: Some((attribute, prefix.clone())),
                    forward: false,
                    start,
                    limit: query.limit.get() as i32 + 1,
                    keys_only: false,
                },
            )
            .await?;
        // The index holds keys and ids; the posts and their creators come in one BatchGetItem.
        let mut keys = Vec::with_capacity(items.len() * 2);
        for entry in &items {
            keys.push(Key::of(entry).ok_or_else(|| StorageError::backend("an index entry without its key"))?);
            keys.push(Key::user(UserId(Fields::of(entry, "post entry").uuid("creator_id")?)));
        }
        let found = self.table.batch_get("posts.list_for_project", &keys).await?;
        let mut rows = Vec::with_capacity(items.len());
        for (entry, key) in items.into_iter().zip(keys.into_iter().step_by(2)) {
            // Deleted between the Query and the read: not on this page.
            let Some(post) = found.get(&key).map(post_from_item).transpose()? else { continue };
            let creator = found
                .get(&Key::user(post.creator_id))
                .ok_or_else(|| StorageError::backend(format!("post {} without its creator", post.id.0)))?;
            rows.push((entry, PostView { creator: profile_from_item(creator)?, post }));
        }
        Ok(Page::from_overfetch(rows, query.limit, |(entry, _)| position.after(entry)).map(|(_, view)| view))
    }

    /// The creator's posts come from the global index; which of them the viewer may see depends
    /// on the viewer's membership of each post's project, read with the creator's profile in
    /// one BatchGetItem per Query. When some are hidden the next Query continues, so a page is
    /// never cut short by them.
    async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError> {
        let partition = creator_partition(query.creator);
        let mut start = match &query.after {
            Some(after) => Some(CREATOR_POSITION.start_key(after, |name, value| match name {
                CREATOR => value == partition,
                PK => value.starts_with("PROJECT#"),
                SK => value.starts_with(POST_PREFIX),
                _ => value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'#' || b == b'-'),
            })?),
            None => None,
        };
        let wanted = query.limit.get() as usize + 1;
        let mut rows = Vec::with_capacity(wanted);
        let mut creator = None;
        let mut rounds = 0;
        loop {
            let (items, next) = self
                .table
                .query(
                    "posts.list_for_creator",
                    QuerySpec {
                        index: Some(BY_CREATOR),
                        partition: (CREATOR, partition.clone()),
                        prefix: None,
                        forward: false,
                        start: start.take(),
                        // After a round that hid posts, read ahead in larger steps: entries past the
                        // page are read again by the next page, never skipped.
                        limit: if rounds == 0 { (wanted - rows.len()) as i32 } else { 100 },
                        keys_only: false,
                    },
                )
                .await?;
            rounds += 1;
            // Per entry: the post, its project and the viewer's membership; and the creator once.
            let mut keys = Vec::with_capacity(items.len() * 3 + 1);
            let mut post_keys = Vec::with_capacity(items.len());
            if creator.is_none() {
                keys.push(Key::user(query.creator));
            }
            for entry in &items {
                let post_key = Key::of(entry).ok_or_else(|| StorageError::backend("an index entry without its key"))?;
                let project = ProjectId(Fields::of(entry, "post entry").uuid("project_id")?);
                keys.extend([post_key.clone(), Key::project(project), Key::member(project, query.viewer)]);
                post_keys.push(post_key);
            }
            let found = self.table.batch_get("posts.list_for_creator", &keys).await?;
            if creator.is_none() {
                creator = found.get(&Key::user(query.creator)).map(profile_from_item).transpose()?;
            }
            for (item, post_key) in items.into_iter().zip(post_keys) {
                let Some(post) = found.get(&post_key).map(post_from_item).transpose()? else { continue };
                let live = found.get(&Key::project(post.project_id)).map(project_from_item).transpose()?.flatten();
                let member =
                    found.get(&Key::member(post.project_id, query.viewer)).map(member_from_item).transpose()?;
                let visible = match (live, member) {
                    (Some(_), Some(member)) => {
                        post.status == PostStatus::Published || query.drafts_visible_to.contains(&member.role)
                    }
                    _ => false,
                };
                if visible {
                    let creator = creator
                        .clone()
                        .ok_or_else(|| StorageError::backend(format!("post {} without its creator", post.id.0)))?;
                    rows.push((item, PostView { post, creator }));
                }
            }
            match next {
                Some(next) if rows.len() < wanted => start = Some(next),
                _ => break,
            }
        }
        Ok(Page::from_overfetch(rows, query.limit, |(item, _)| CREATOR_POSITION.after(item)).map(|(_, view)| view))
    }
}
