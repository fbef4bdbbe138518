//! `PostRepository` on DynamoDB. A post lives in its project's partition under its slug (so the
//! slug is unique there by key) and is listed by newest activity through the `by_order` and
//! `by_status` local indexes. A pointer item leads from the post's id to that key. The
//! `by_creator` global index lists a creator's posts across projects (pages: `post_pages.rs`).

use async_trait::async_trait;
use domain::ports::PostRepository;
use domain::posts::{
    CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, PostView, ProjectPostsQuery, Slug,
};
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Conflict, JsonSize, Page, StorageError};

use crate::item::{millis, n, s, sortable, Fields, Item};
use crate::keys::{
    creator_partition, project_partition, Key, CREATOR, CREATOR_ORDER, JSON_SIZE, ORDER, PK, POST_PREFIX, SK,
    STATUS_ORDER,
};
use crate::table::QuerySpec;
use crate::unit_of_work::{Counts, DynamoUnit};
use crate::users::profile_from_item;
use crate::writes::{Failure, Write};

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
        (JSON_SIZE.to_owned(), n(i64::try_from(post.json_size()).unwrap_or(i64::MAX))),
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
        self.count(post.project_id, Counts { posts: 1, ..Counts::default() })
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
        self.count(post.project_id, Counts { posts: -1, ..Counts::default() })
    }

    async fn list_for_project(&mut self, query: &ProjectPostsQuery) -> Result<Page<PostView>, StorageError> {
        self.project_posts_page(query).await
    }

    async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError> {
        self.creator_posts_page(query).await
    }
}
