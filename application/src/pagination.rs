//! Public cursors. Repositories hand out adapter-private continuations; the `CursorCodec` port seals them into
//! opaque, signed strings bound to the list they belong to, and opens them again, so a foreign or
//! altered cursor is rejected before any storage call, on every backend alike.

use domain::{Continuation, FieldViolation, Page, PageBudget, PageLimit};

use crate::errors::AppError;
use crate::ports::CursorCodec;

/// What a cursor is bound to: the list operation, its parent id and its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListKey(String);

impl ListKey {
    pub fn new(operation: &str, parts: &[&str]) -> Self {
        let mut key = operation.to_owned();
        for part in parts {
            key.push('\u{1f}');
            key.push_str(part);
        }
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page as services return it: items and the sealed cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The page size asked for, or the default.
pub fn parse_limit(limit: Option<i64>) -> Result<PageLimit, FieldViolation> {
    limit.map_or(Ok(PageLimit::DEFAULT), PageLimit::parse)
}

/// One page request of one list: where to start, how many items and how many bytes of them at
/// most, with the list's cursor key.
pub struct PageRequest<'a> {
    cursors: &'a dyn CursorCodec,
    list: ListKey,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    /// API.md's "about 1 MiB of JSON": what one request can make the process hold for its page.
    pub budget: PageBudget,
}

impl<'a> PageRequest<'a> {
    /// Opens `cursor` for `list`, before any storage call.
    pub fn open(
        cursors: &'a dyn CursorCodec,
        list: ListKey,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Self, AppError> {
        let after = cursor.map(|c| cursors.unseal(&list, c)).transpose()?;
        Ok(Self { cursors, list, after, limit, budget: PageBudget::DEFAULT })
    }

    /// The page as services return it, its continuation sealed for this list.
    pub fn finish<T>(&self, page: Page<T>) -> Listed<T> {
        let next_cursor = page.next.as_ref().map(|c| self.cursors.seal(&self.list, c));
        Listed { items: page.items, next_cursor }
    }
}
