//! Keyset pagination as the core sees it: a page of items and an opaque continuation that only
//! the adapter which produced it can read (keyset values on SQL, `LastEvaluatedKey` on DynamoDB).
//!
//! A page is bounded twice (API.md): by its `limit`, and by the JSON its items take — it stops
//! before the item that would take it past its [`PageBudget`] (about 1 MiB), though never before
//! its first item. Every adapter fills its pages through [`PageFill`], so the rule is one rule on
//! every backend, and the continuation is always that of the last item the page holds: a short
//! page neither skips nor repeats anything.

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

impl<T: JsonSize> Page<T> {
    /// Cuts the `limit + 1` rows a keyset query fetched to one page of at most `limit` items
    /// within `budget`: a row left over only tells that a next page exists, and the continuation
    /// is the key of the page's last item.
    pub fn from_overfetch(
        items: Vec<T>,
        limit: PageLimit,
        budget: PageBudget,
        key: impl Fn(&T) -> Continuation,
    ) -> Page<T> {
        let mut page = PageFill::new(limit, budget);
        let mut more = false;
        for item in items {
            if !page.offer(item) {
                more = true;
                break;
            }
        }
        page.finish_after_last(more, key)
    }
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// How many bytes of JSON an item takes in a page of the API: its texts exactly as JSON writes
/// them, plus a fixed allowance for the rest (ids, times, numbers, names of fields) that is never
/// below what they take. Near enough to bound a page by, and one measure on every backend.
pub trait JsonSize {
    fn json_size(&self) -> usize;
}

/// An item with the adapter's record of where it sits in its list (an index entry, a key): it
/// takes what the item takes.
impl<P, T: JsonSize> JsonSize for (P, T) {
    fn json_size(&self) -> usize {
        self.1.json_size()
    }
}

/// The length of `text` as a JSON string, its quotes included: `"`, `\` and the control
/// characters are escaped (two bytes each for `\n`, `\r`, `\t`, `\b`, `\f`, six for the others),
/// every other character is its UTF-8 bytes — as serde_json writes it.
///
/// Every item of every page is measured, post bodies included (a sixth of a list's CPU when this
/// was a `match` per byte). Counting into byte-wide counters, chunk by chunk (128 < 256: they
/// cannot overflow), branch-free, lets the loop be vectorised: about ten times faster.
pub fn json_text_len(text: &str) -> usize {
    let mut extra = 0usize;
    for chunk in text.as_bytes().chunks(128) {
        let (mut quoted, mut control, mut short) = (0u8, 0u8, 0u8);
        for &b in chunk {
            quoted += u8::from((b == b'"') | (b == b'\\'));
            control += u8::from(b < 0x20);
            short += u8::from((b == b'\n') | (b == b'\r') | (b == b'\t') | (b == 0x08) | (b == 0x0c));
        }
        // A quote or backslash takes one byte more, a short escape one more, any other control five.
        extra += usize::from(quoted) + usize::from(short) + 5 * usize::from(control - short);
    }
    2 + text.len() + extra
}

/// The most JSON a page's items may take before the page stops early (API.md: about 1 MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBudget(usize);

impl PageBudget {
    pub const DEFAULT: PageBudget = PageBudget(1024 * 1024);

    pub const fn bytes(bytes: usize) -> Self {
        Self(bytes)
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for PageBudget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One page being filled in list order: it takes items while it holds fewer than `limit` and
/// their JSON stays within the budget (its first item always fits).
#[derive(Debug)]
pub struct PageFill<T> {
    items: Vec<T>,
    limit: usize,
    budget: usize,
    used: usize,
}

impl<T: JsonSize> PageFill<T> {
    pub fn new(limit: PageLimit, budget: PageBudget) -> Self {
        let limit = limit.get() as usize;
        Self { items: Vec::with_capacity(limit.min(32)), limit, budget: budget.get(), used: 0 }
    }

    /// Whether an item of `size` bytes would still be taken: for adapters that know sizes
    /// before they read the items themselves (DynamoDB's index entries).
    pub fn fits(&self, size: usize) -> bool {
        self.items.len() < self.limit && (self.items.is_empty() || self.used.saturating_add(size) <= self.budget)
    }

    /// Takes the next item of the list, or gives `false` when the page is full: the item is
    /// dropped, and its existence proves that a next page does.
    pub fn offer(&mut self, item: T) -> bool {
        let size = item.json_size();
        if !self.fits(size) {
            return false;
        }
        self.used += size;
        self.items.push(item);
        true
    }

    /// Bytes of JSON taken so far.
    pub fn used(&self) -> usize {
        self.used
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The page, with the continuation the adapter made (`None` exactly when the list ends).
    pub fn finish(self, next: Option<Continuation>) -> Page<T> {
        Page { items: self.items, next }
    }

    /// The page, continuing after its last item when `more` items follow it (one was refused, or
    /// the adapter saw one past the page).
    pub fn finish_after_last(self, more: bool, key: impl Fn(&T) -> Continuation) -> Page<T> {
        let next = if more { self.items.last().map(key) } else { None };
        self.finish(next)
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
    /// What serde_json writes, measured by writing it.
    fn written_len(text: &str) -> usize {
        serde_json::to_string(text).map(|s| s.len()).unwrap_or(0)
    }

    #[test]
    fn a_texts_json_length_is_what_serde_json_writes() {
        let mut every_byte_char = String::new();
        for c in (0u32..0x300).filter_map(char::from_u32) {
            every_byte_char.push(c);
            assert_eq!(super::json_text_len(&c.to_string()), written_len(&c.to_string()), "{c:?}");
        }
        for text in
            ["", "plain", "a \"quoted\" \\ path\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}", "日本語 — ✓ 🎉", &every_byte_char]
        {
            assert_eq!(super::json_text_len(text), written_len(text), "{text:?}");
        }
    }

    use super::*;

    #[test]
    fn limit_accepts_one_to_one_hundred_only() {
        assert!(PageLimit::parse(0).is_err());
        assert_eq!(PageLimit::parse(1).map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::parse(100).map(PageLimit::get), Ok(100));
        assert!(PageLimit::parse(101).is_err());
        assert!(PageLimit::parse(-5).is_err());
    }

    struct Sized(usize);

    impl JsonSize for Sized {
        fn json_size(&self) -> usize {
            self.0
        }
    }

    fn cut(sizes: &[usize], limit: i64, budget: usize) -> (Vec<usize>, Option<Continuation>) {
        let items = sizes.iter().map(|&s| Sized(s)).collect();
        let page = Page::from_overfetch(items, PageLimit::parse(limit).unwrap(), PageBudget::bytes(budget), |last| {
            Continuation(last.0.to_be_bytes().to_vec())
        });
        (page.items.iter().map(|s| s.0).collect(), page.next)
    }

    #[test]
    fn a_page_stops_at_its_limit_or_before_the_item_that_would_pass_its_budget() {
        let after = |size: usize| Some(Continuation(size.to_be_bytes().to_vec()));
        assert_eq!(cut(&[1, 2, 3], 2, 100), (vec![1, 2], after(2)), "the extra row means more");
        assert_eq!(cut(&[1, 2], 2, 100), (vec![1, 2], None), "no extra row: the end");
        assert_eq!(cut(&[40, 50, 20, 1], 10, 100), (vec![40, 50], after(50)), "90 + 20 would pass 100");
        assert_eq!(cut(&[40, 60, 1], 10, 100), (vec![40, 60], after(60)), "exactly the budget fits");
        assert_eq!(cut(&[500, 1], 10, 100), (vec![500], after(500)), "the first item always fits");
        assert_eq!(cut(&[500], 10, 100), (vec![500], None), "a short last page has no cursor");
        assert_eq!(cut(&[], 10, 100), (vec![], None));
    }

    #[test]
    fn json_text_length_counts_escapes_and_utf8_bytes() {
        assert_eq!(json_text_len(""), 2);
        assert_eq!(json_text_len("abc"), 5);
        assert_eq!(json_text_len("a\"b\\c"), 2 + 5 + 2);
        assert_eq!(json_text_len("\n\t\r"), 2 + 6);
        assert_eq!(json_text_len("\u{1}"), 2 + 6);
        assert_eq!(json_text_len("é😀"), 2 + 2 + 4);
    }
}
