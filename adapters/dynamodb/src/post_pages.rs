//! Pages of posts on DynamoDB. A page is planned from index entries before any post is read:
//! each entry carries its post's size (`json_size`), its status and its project, so the page
//! reads only the posts it will show — never a post past its byte budget, never one the caller
//! may not see — in one BatchGetItem with their creators.
//!
//! A creator's posts come from the global index, and which of them the caller may see depends
//! on the caller's membership of each post's project. The work per request is bounded: at most
//! [`CREATOR_ROUNDS`] Queries, each followed by at most one BatchGetItem of the caller's member
//! items in projects not met before (at most [`LOOKUPS_PER_ROUND`]). A page that runs out of
//! rounds ends short, even empty, with a cursor after the last entry it looked at: a creator
//! with many posts hidden from the caller costs the caller more pages, not one unbounded request.

use std::collections::HashMap;

use domain::posts::{CreatorPostsQuery, PostStatus, PostView, ProjectPostsQuery};
use domain::projects::{ProjectId, ProjectRole};
use domain::users::{Profile, UserId};
use domain::{Page, PageFill, StorageError};

use crate::cursor::Position;
use crate::item::{Fields, Item};
use crate::keys::{
    creator_partition, project_partition, Key, BY_CREATOR, BY_ORDER, BY_STATUS, CREATOR, CREATOR_ORDER, ORDER, PK,
    POST_PREFIX, SK, STATUS_ORDER,
};
use crate::members::member_from_item;
use crate::pages::{entry_key, fill, plan, planned_size, Planned, Rest};
use crate::posts::post_from_item;
use crate::projects::project_from_item;
use crate::table::QuerySpec;
use crate::unit_of_work::DynamoUnit;
use crate::users::profile_from_item;

const ORDER_POSITION: Position<'static> = Position { names: &[PK, SK, ORDER] };
const STATUS_POSITION: Position<'static> = Position { names: &[PK, SK, STATUS_ORDER] };
const CREATOR_POSITION: Position<'static> = Position { names: &[CREATOR, CREATOR_ORDER, PK, SK] };

/// Queries of the global index one page of a creator's posts may make.
const CREATOR_ROUNDS: usize = 4;
/// Entries asked for by each Query after the first (the first asks for the page and one more).
/// About 350 bytes each: one Query reads ~100 KB, 13 read units at most (eventually consistent).
const ROUND_ENTRIES: i32 = 300;
/// Member items looked up after one Query: one BatchGetItem's worth. The entries of projects past
/// them wait for the next round.
const LOOKUPS_PER_ROUND: usize = 100;

fn entry_project(entry: &Item) -> Result<ProjectId, StorageError> {
    Ok(ProjectId(Fields::of(entry, "post entry").uuid("project_id")?))
}

impl DynamoUnit {
    /// A project's posts from a local index: `limit + 1` entries, then one BatchGetItem of the
    /// posts that fit the page and their creators.
    pub(crate) async fn project_posts_page(
        &mut self,
        query: &ProjectPostsQuery,
    ) -> Result<Page<PostView>, StorageError> {
        const OPERATION: &str = "posts.list_for_project";
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
        let entries = self
            .table
            .query_up_to(
                OPERATION,
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
        let (planned, rest) = plan(entries, query.limit, query.budget)?;
        let mut keys = Vec::with_capacity(planned.len() * 2);
        for entry in &planned {
            keys.push(entry_key(entry)?);
            keys.push(Key::user(UserId(Fields::of(entry, "post entry").uuid("creator_id")?)));
        }
        let found = self.table.batch_get(OPERATION, &keys).await?;
        let show = |item: &Item| {
            let post = post_from_item(item)?;
            let creator = found
                .get(&Key::user(post.creator_id))
                .ok_or_else(|| StorageError::backend(format!("post {} without its creator", post.id.0)))?;
            Ok(Some(PostView { creator: profile_from_item(creator)?, post }))
        };
        fill(planned, &found, query.limit, query.budget, rest, position, show)
    }

    /// A creator's posts the caller may see, newest activity first (see the module's comment).
    pub(crate) async fn creator_posts_page(
        &mut self,
        query: &CreatorPostsQuery,
    ) -> Result<Page<PostView>, StorageError> {
        const OPERATION: &str = "posts.list_for_creator";
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
        // The caller's role in each project met so far; `None`: not a member.
        let mut roles: HashMap<ProjectId, Option<ProjectRole>> = HashMap::new();
        let mut plan = PageFill::new(query.limit, query.budget);
        let mut looked_at: Option<Item> = None;
        let mut rest = Rest::End;
        'rounds: for round in 0..CREATOR_ROUNDS {
            let (entries, next) = self
                .table
                .query(
                    OPERATION,
                    QuerySpec {
                        index: Some(BY_CREATOR),
                        partition: (CREATOR, partition.clone()),
                        prefix: None,
                        forward: false,
                        start: start.take(),
                        limit: if round == 0 { query.limit.get() as i32 + 1 } else { ROUND_ENTRIES },
                        keys_only: false,
                    },
                )
                .await?;
            let decided = self.look_up_roles(OPERATION, &entries, query.viewer, &mut roles).await?;
            for entry in &entries[..decided] {
                if visible(entry, &roles, &query.drafts_visible_to)? {
                    let size = planned_size(entry)?;
                    if !plan.fits(size) {
                        rest = plan.last().map_or(Rest::End, |last: &Planned| Rest::After(last.entry.clone()));
                        break 'rounds;
                    }
                    plan.offer(Planned { entry: entry.clone(), size });
                }
                looked_at = Some(entry.clone());
            }
            start = if decided < entries.len() {
                // Projects past this round's lookups: the next round starts at their entries.
                looked_at.as_ref().map(|entry| CREATOR_POSITION.key_of(entry))
            } else {
                next
            };
            let Some(at) = &start else { break };
            if round + 1 == CREATOR_ROUNDS {
                rest = Rest::After(at.clone());
            }
        }
        let planned: Vec<Item> = plan.finish(None).items.into_iter().map(|p| p.entry).collect();
        // The posts, their projects (one being deleted hides its posts) and the creator.
        let mut keys = Vec::with_capacity(planned.len() * 2 + 1);
        keys.push(Key::user(query.creator));
        for entry in &planned {
            keys.push(entry_key(entry)?);
            keys.push(Key::project(entry_project(entry)?));
        }
        let found = if planned.is_empty() { HashMap::new() } else { self.table.batch_get(OPERATION, &keys).await? };
        let mut creator: Option<Profile> = None;
        let show = |item: &Item| {
            let post = post_from_item(item)?;
            let live = found.get(&Key::project(post.project_id)).map(project_from_item).transpose()?.flatten();
            let role = roles.get(&post.project_id).copied().flatten();
            // The index is eventually consistent: the post as read decides.
            let may_see = match (live, role) {
                (Some(_), Some(role)) => {
                    post.status == PostStatus::Published || query.drafts_visible_to.contains(&role)
                }
                _ => false,
            };
            if !may_see {
                return Ok(None);
            }
            if creator.is_none() {
                let item = found
                    .get(&Key::user(query.creator))
                    .ok_or_else(|| StorageError::backend(format!("post {} without its creator", post.id.0)))?;
                creator = Some(profile_from_item(item)?);
            }
            Ok(creator.clone().map(|creator| PostView { post, creator }))
        };
        fill(planned, &found, query.limit, query.budget, rest, &CREATOR_POSITION, show)
    }

    /// Reads the caller's member items in the projects of `entries` not met before, at most
    /// [`LOOKUPS_PER_ROUND`] of them in one BatchGetItem, into `roles`. Returns how many of the
    /// entries can be decided with what is known now (the rest belong to projects past the
    /// lookups).
    async fn look_up_roles(
        &mut self,
        operation: &'static str,
        entries: &[Item],
        viewer: UserId,
        roles: &mut HashMap<ProjectId, Option<ProjectRole>>,
    ) -> Result<usize, StorageError> {
        let mut unknown: Vec<ProjectId> = Vec::new();
        let mut decided = entries.len();
        for (i, entry) in entries.iter().enumerate() {
            let project = entry_project(entry)?;
            if roles.contains_key(&project) || unknown.contains(&project) {
                continue;
            }
            if unknown.len() == LOOKUPS_PER_ROUND {
                decided = i;
                break;
            }
            unknown.push(project);
        }
        if unknown.is_empty() {
            return Ok(decided);
        }
        let keys: Vec<Key> = unknown.iter().map(|p| Key::member(*p, viewer)).collect();
        let found = self.table.batch_get(operation, &keys).await?;
        for (project, key) in unknown.into_iter().zip(keys) {
            let role = found.get(&key).map(member_from_item).transpose()?.map(|m| m.role);
            roles.insert(project, role);
        }
        Ok(decided)
    }
}

/// Whether the caller may see the post of `entry`, from the entry and the caller's roles. An
/// entry without a status (a table made before the index carried it) is read to decide.
fn visible(
    entry: &Item,
    roles: &HashMap<ProjectId, Option<ProjectRole>>,
    drafts_visible_to: &[ProjectRole],
) -> Result<bool, StorageError> {
    let Some(role) = roles.get(&entry_project(entry)?).copied().flatten() else { return Ok(false) };
    let status = Fields::of(entry, "post entry").opt_str("status")?;
    Ok(match status.and_then(PostStatus::parse) {
        Some(PostStatus::Published) | None => true,
        Some(PostStatus::Draft) => drafts_visible_to.contains(&role),
    })
}
