//! Posts: titled texts in a project, drafts until published.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::FieldViolation;
use crate::pagination::{json_text_len, Continuation, JsonSize, PageBudget, PageLimit};
use crate::projects::{ProjectId, ProjectRole};
use crate::text;
use crate::users::{Profile, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostId(pub Uuid);

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 1 to 200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    pub fn parse(raw: impl crate::text::Raw) -> Result<Self, FieldViolation> {
        text::line("title", raw, 1, 200).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// 0 to 100 000 characters, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    pub fn parse(raw: impl crate::text::Raw) -> Result<Self, FieldViolation> {
        text::block("body", raw, 100_000).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A post's name in URLs: lower-case ASCII letters, digits and `-`, unique within its project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Longest slug made from a title, before any `-N` suffix.
    pub const MAX_BASE_CHARS: usize = 80;

    /// The slug a title asks for: Latin letters folded to ASCII, every other run of characters
    /// turned into one `-`; `post` when nothing is left.
    pub fn base_for(title: &PostTitle) -> Slug {
        let mut slug = String::new();
        for c in title.as_str().chars().flat_map(char::to_lowercase) {
            match fold(c) {
                Some(ascii) => slug.push_str(ascii),
                None if !slug.ends_with('-') => slug.push('-'),
                None => {}
            }
        }
        let mut slug: String = slug.trim_matches('-').chars().take(Self::MAX_BASE_CHARS).collect();
        while slug.ends_with('-') {
            slug.pop();
        }
        if slug.is_empty() {
            slug.push_str("post");
        }
        Slug(slug)
    }

    /// The first of `base`, `base-2`, `base-3`, … that is not in `taken`.
    pub fn first_free(base: &Slug, taken: &[Slug]) -> Slug {
        if !taken.contains(base) {
            return base.clone();
        }
        (2u64..)
            .map(|n| Slug(format!("{}-{n}", base.0)))
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| base.clone())
    }

    /// A slug read back from storage.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Slug(raw.to_owned()))
        } else {
            Err(FieldViolation::new("slug", "must be lower-case letters, digits and '-'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// ASCII for a lower-case character: itself, a folded Latin letter, or `None` for a separator.
fn fold(c: char) -> Option<&'static str> {
    const ASCII: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    if c.is_ascii_alphanumeric() {
        let i = ASCII.find(c)?;
        return ASCII.get(i..i + 1);
    }
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostStatus {
    Draft,
    Published,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(PostStatus::Draft),
            "published" => Some(PostStatus::Published),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub project_id: ProjectId,
    pub slug: Slug,
    pub title: PostTitle,
    pub body: PostBody,
    pub status: PostStatus,
    pub creator_id: UserId,
    pub created_at: OffsetDateTime,
    /// Set by every change after creation; `None` until then.
    pub updated_at: Option<OffsetDateTime>,
    /// Set the first time the post is published, never changed after.
    pub published_at: Option<OffsetDateTime>,
    pub version: i64,
}

impl Post {
    /// The "newest activity" sort key: `coalesce(updated_at, published_at, created_at)`.
    pub fn activity_at(&self) -> OffsetDateTime {
        self.updated_at.or(self.published_at).unwrap_or(self.created_at)
    }
}

/// The post's own fields (without its creator): its texts, and at most 340 bytes for its ids,
/// status, times, version and field names.
impl JsonSize for Post {
    fn json_size(&self) -> usize {
        340 + json_text_len(self.slug.as_str()) + json_text_len(self.title.as_str()) + json_text_len(self.body.as_str())
    }
}

/// A post with its creator's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostView {
    pub post: Post,
    pub creator: Profile,
}

impl JsonSize for PostView {
    fn json_size(&self) -> usize {
        self.post.json_size() + self.creator.json_size()
    }
}

/// One page of a project's posts, newest activity first, optionally of one status only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPostsQuery {
    pub project: ProjectId,
    pub status: Option<PostStatus>,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
}

/// One page of a creator's posts in the projects `viewer` is a member of, newest activity first.
/// Drafts are included only from projects where the viewer holds one of `drafts_visible_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorPostsQuery {
    pub creator: UserId,
    pub viewer: UserId,
    pub drafts_visible_to: Vec<ProjectRole>,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(title: &str) -> String {
        Slug::base_for(&PostTitle::parse(title).unwrap()).as_str().to_owned()
    }

    #[test]
    fn slugs_come_from_titles() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("  Über   die Brücke "), "uber-die-brucke");
        assert_eq!(slug("C++ & Rust -- 2026"), "c-rust-2026");
        assert_eq!(slug("日本語"), "post");
        assert_eq!(slug("---"), "post");
        let long = slug(&format!("{} end", "a".repeat(79)));
        assert_eq!(long, "a".repeat(79), "cut to 80 characters, without a trailing '-'");
        assert!(Slug::parse(&slug("Any Title 1")).is_ok());
    }

    #[test]
    fn the_first_free_slug_counts_up_from_two() {
        let base = Slug::parse("hello").unwrap();
        let s = |v: &str| Slug::parse(v).unwrap();
        assert_eq!(Slug::first_free(&base, &[]), s("hello"));
        assert_eq!(Slug::first_free(&base, &[s("hello")]), s("hello-2"));
        assert_eq!(Slug::first_free(&base, &[s("hello"), s("hello-2"), s("hello-4")]), s("hello-3"));
        assert_eq!(Slug::first_free(&base, &[s("hello-2")]), s("hello"));
    }

    #[test]
    fn titles_and_bodies_follow_the_rules() {
        assert!(PostTitle::parse("").is_err());
        assert!(PostTitle::parse("t".repeat(200)).is_ok());
        assert!(PostTitle::parse("t".repeat(201)).is_err());
        assert!(PostBody::parse("").is_ok());
        assert!(PostBody::parse("b".repeat(100_000)).is_ok());
        assert!(PostBody::parse("b".repeat(100_001)).is_err());
    }

    #[test]
    fn activity_is_the_latest_of_update_publication_and_creation() {
        use time::macros::datetime;
        let mut post = Post {
            id: PostId(Uuid::nil()),
            project_id: ProjectId(Uuid::nil()),
            slug: Slug::parse("a").unwrap(),
            title: PostTitle::parse("A").unwrap(),
            body: PostBody::parse("").unwrap(),
            status: PostStatus::Draft,
            creator_id: UserId(Uuid::nil()),
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: None,
            published_at: None,
            version: 1,
        };
        assert_eq!(post.activity_at(), datetime!(2026-01-01 0:00 UTC));
        post.published_at = Some(datetime!(2026-01-02 0:00 UTC));
        assert_eq!(post.activity_at(), datetime!(2026-01-02 0:00 UTC));
        post.updated_at = Some(datetime!(2026-01-03 0:00 UTC));
        assert_eq!(post.activity_at(), datetime!(2026-01-03 0:00 UTC));
    }
}
