//! Keyset pagination as the core sees it: a page of items and an opaque continuation that only
//! the adapter which produced it can read (keyset values on SQL, `LastEvaluatedKey` on DynamoDB).

use crate::errors::FieldViolation;

/// Adapter-private bytes saying where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation(pub Vec<u8>);

/// One page of a list; `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Continuation>,
}

impl<T> Page<T> {
    /// Cuts the `limit + 1` rows a keyset query fetched to one page: the extra row only tells
    /// that a next page exists, and the continuation is the key of the page's last item.
    pub fn from_overfetch(mut items: Vec<T>, limit: PageLimit, key: impl Fn(&T) -> Continuation) -> Page<T> {
        let limit = limit.get() as usize;
        if items.len() > limit {
            items.truncate(limit);
            let next = items.last().map(key);
            Page { items, next }
        } else {
            Page { items, next: None }
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// A page size the API accepts: 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: PageLimit = PageLimit(20);
    pub const MAX: u32 = 100;

    pub fn parse(value: i64) -> Result<Self, FieldViolation> {
        if (1..=i64::from(Self::MAX)).contains(&value) {
            Ok(Self(value as u32))
        } else {
            Err(FieldViolation::new("limit", format!("must be between 1 and {}", Self::MAX)))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_accepts_one_to_one_hundred_only() {
        assert!(PageLimit::parse(0).is_err());
        assert_eq!(PageLimit::parse(1).map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::parse(100).map(PageLimit::get), Ok(100));
        assert!(PageLimit::parse(101).is_err());
        assert!(PageLimit::parse(-5).is_err());
    }
}
