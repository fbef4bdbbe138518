//! The single-table layout: attribute and index names, and the key of every kind of item.
//! `README.md` beside this crate maps each access pattern onto these keys.

use domain::auth::{ChainId, TokenHash};
use domain::files::FileId;
use domain::idempotency::RecordKey;
use domain::login_attempts::AttemptKey;
use domain::posts::{PostId, Slug};
use domain::projects::ProjectId;
use domain::users::UserId;

use crate::item::{s, Item};

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
/// Sort key of the `by_order` local index: a partition's items in list order.
pub(crate) const ORDER: &str = "lsk";
/// Sort key of the `by_status` local index: a project's posts of one status in activity order.
pub(crate) const STATUS_ORDER: &str = "lsk2";
/// Keys of the `by_creator` global index: a creator's posts across projects.
pub(crate) const CREATOR: &str = "gpk";
pub(crate) const CREATOR_ORDER: &str = "gsk";
/// Epoch seconds after which DynamoDB's TTL may delete the item (refresh tokens, login attempts,
/// idempotency records and their answer chunks).
pub(crate) const EXPIRES: &str = "expires_at_s";
/// On a post: the JSON its fields take in a page (`domain::JsonSize`), projected into the indexes
/// so that a page reads only the posts that fit it.
pub(crate) const JSON_SIZE: &str = "json_size";
/// Set on a project whose deletion has begun: from then on it reads as gone.
pub(crate) const DELETING: &str = "deleting_at";
/// On a project: the total size of its files, checked against the quota by every insert.
pub(crate) const FILE_BYTES: &str = "file_bytes";

pub(crate) const BY_ORDER: &str = "by_order";
pub(crate) const BY_STATUS: &str = "by_status";
pub(crate) const BY_CREATOR: &str = "by_creator";

/// The partition of all username claims, sorted by username: the admin list reads it in order.
pub(crate) const USERNAMES: &str = "USERNAMES";
/// The partition of the projects whose deletion has begun and not finished.
pub(crate) const DELETIONS: &str = "DELETIONS";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    pub(crate) fn item(&self) -> Item {
        Item::from([(PK.to_owned(), s(&self.pk)), (SK.to_owned(), s(&self.sk))])
    }

    pub(crate) fn of(item: &Item) -> Option<Key> {
        match (item.get(PK), item.get(SK)) {
            (Some(pk), Some(sk)) => Some(Key::new(pk.as_s().ok()?.clone(), sk.as_s().ok()?.clone())),
            _ => None,
        }
    }

    pub(crate) fn user(id: UserId) -> Key {
        Key::new(user_partition(id), USER_ITEM)
    }

    pub(crate) fn email_claim(email: &str) -> Key {
        Key::new(format!("EMAIL#{email}"), "EMAIL")
    }

    pub(crate) fn username_claim(username: &str) -> Key {
        Key::new(USERNAMES, username)
    }

    pub(crate) fn chain(id: ChainId) -> Key {
        Key::new(format!("CHAIN#{}", id.0), "CHAIN")
    }

    pub(crate) fn token(hash: &TokenHash) -> Key {
        let hex: String = hash.0.iter().map(|b| format!("{b:02x}")).collect();
        Key::new(format!("TOKEN#{hex}"), "TOKEN")
    }

    pub(crate) fn project(id: ProjectId) -> Key {
        Key::new(project_partition(id), PROJECT_ITEM)
    }

    /// A member, in the project's partition.
    pub(crate) fn member(project: ProjectId, user: UserId) -> Key {
        Key::new(project_partition(project), format!("{MEMBER_PREFIX}{}", user.0))
    }

    /// The same membership, copied into the member's partition for "my projects".
    pub(crate) fn membership(user: UserId, project: ProjectId) -> Key {
        Key::new(user_partition(user), format!("{MEMBERSHIP_PREFIX}{}", project.0))
    }

    /// A post, in its project's partition under its slug (which makes the slug unique there).
    pub(crate) fn post(project: ProjectId, slug: &Slug) -> Key {
        Key::new(project_partition(project), format!("{POST_PREFIX}{}", slug.as_str()))
    }

    /// Where a post id leads: its project and slug.
    pub(crate) fn post_pointer(id: PostId) -> Key {
        Key::new(format!("POST#{}", id.0), "POST")
    }

    /// A file's metadata, in its project's partition under its id (the `by_order` index lists
    /// them newest first; the table, in id order).
    pub(crate) fn file(project: ProjectId, id: FileId) -> Key {
        Key::new(project_partition(project), format!("{FILE_PREFIX}{}", id.0))
    }

    /// Where a file id leads: its project and uploader.
    pub(crate) fn file_pointer(id: FileId) -> Key {
        Key::new(format!("{FILE_PREFIX}{}", id.0), "FILE")
    }

    pub(crate) fn deletion(project: ProjectId) -> Key {
        Key::new(DELETIONS, project.0.to_string())
    }

    /// The failed login attempts of one account or unknown name (a partition each: attempts on
    /// different keys never contend).
    pub(crate) fn login_attempts(key: &AttemptKey) -> Key {
        Key::new(format!("LOGIN#{}", key.as_text()), "LOGIN")
    }

    /// The head of an idempotency record: its claim, and its answer when that is small.
    pub(crate) fn idempotency(record: &RecordKey) -> Key {
        Key::new(idempotency_partition(record), "IDEM")
    }

    /// One piece of a large answer, in its record's partition (`CHUNK#000`, … sort in order).
    pub(crate) fn answer_chunk(record: &RecordKey, index: usize) -> Key {
        Key::new(idempotency_partition(record), format!("{ANSWER_CHUNK_PREFIX}{index:03}"))
    }
}

pub(crate) const ANSWER_CHUNK_PREFIX: &str = "CHUNK#";

pub(crate) fn idempotency_partition(record: &RecordKey) -> String {
    format!("IDEM#{}", record.as_str())
}

/// The sort key of a user item, in its own partition (`USER#<id>`).
pub(crate) const USER_ITEM: &str = "USER";
/// The sort key of a project item, in its own partition (`PROJECT#<id>`).
pub(crate) const PROJECT_ITEM: &str = "PROJECT";
pub(crate) const USER_PARTITION_PREFIX: &str = "USER#";
pub(crate) const PROJECT_PARTITION_PREFIX: &str = "PROJECT#";

pub(crate) const MEMBER_PREFIX: &str = "MEMBER#";
pub(crate) const MEMBERSHIP_PREFIX: &str = "PROJECT#";
pub(crate) const POST_PREFIX: &str = "POST#";
pub(crate) const FILE_PREFIX: &str = "FILE#";

pub(crate) fn user_partition(id: UserId) -> String {
    format!("{USER_PARTITION_PREFIX}{}", id.0)
}

pub(crate) fn project_partition(id: ProjectId) -> String {
    format!("{PROJECT_PARTITION_PREFIX}{}", id.0)
}

pub(crate) fn creator_partition(id: UserId) -> String {
    format!("CREATOR#{}", id.0)
}
