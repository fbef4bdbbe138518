//! Pages planned from index entries before any item is read: each entry carries its item's size
//! (`json_size`, the JSON its fields take in a page), so a page reads only the items that fit its
//! byte budget, then is cut again with the real sizes. Posts and files use it (`post_pages.rs`,
//! `files.rs`).

use std::collections::HashMap;

use domain::{JsonSize, Page, PageBudget, PageFill, PageLimit, StorageError};

use crate::cursor::Position;
use crate::item::{Fields, Item};
use crate::keys::{Key, JSON_SIZE};

/// What the profile shown with each item (a post's creator, a file's uploader) is counted as
/// while a page is planned, before profiles are read; the page is cut again with the real ones.
const PROFILE_PLANNED: usize = 200;

/// An index entry the page plans to read, counted as its item's size.
pub(crate) struct Planned {
    pub entry: Item,
    pub size: usize,
}

impl JsonSize for Planned {
    fn json_size(&self) -> usize {
        self.size
    }
}

/// Where the list goes on once every planned item is on the page.
pub(crate) enum Rest {
    /// Nothing past the planned entries.
    End,
    /// After this entry (or start key): the last planned one, or the last one looked at.
    After(Item),
}

/// The size an entry says its item takes, with its profile. Tables made before the indexes
/// carried sizes have none: such entries count as their profile only, and the page is cut by the
/// items actually read.
pub(crate) fn planned_size(entry: &Item) -> Result<usize, StorageError> {
    let hint = Fields::of(entry, "index entry").opt_int(JSON_SIZE)?.unwrap_or(0);
    Ok(usize::try_from(hint).unwrap_or(0) + PROFILE_PLANNED)
}

pub(crate) fn entry_key(entry: &Item) -> Result<Key, StorageError> {
    Key::of(entry).ok_or_else(|| StorageError::backend("an index entry without its key"))
}

/// The entries (in list order, `limit + 1` of them or up to the end of the list) whose items fit
/// the page, and where the list goes on after them.
pub(crate) fn plan(
    entries: Vec<Item>,
    limit: PageLimit,
    budget: PageBudget,
) -> Result<(Vec<Item>, Rest), StorageError> {
    let mut plan = PageFill::new(limit, budget);
    let mut rest = Rest::End;
    for entry in entries {
        let size = planned_size(&entry)?;
        if !plan.fits(size) {
            rest = plan.last().map_or(Rest::End, |last: &Planned| Rest::After(last.entry.clone()));
            break;
        }
        plan.offer(Planned { entry, size });
    }
    Ok((plan.finish(None).items.into_iter().map(|p| p.entry).collect(), rest))
}

/// The page from the items of `planned` entries (in list order) found in `found`: `show` gives
/// a found item's view if the caller may see it. An item gone since the Query, or not shown, is
/// passed over; the page stops at its limit or budget, and continues after the last entry it
/// used up.
pub(crate) fn fill<T: JsonSize>(
    planned: Vec<Item>,
    found: &HashMap<Key, Item>,
    limit: PageLimit,
    budget: PageBudget,
    rest: Rest,
    position: &Position<'_>,
    mut show: impl FnMut(&Item) -> Result<Option<T>, StorageError>,
) -> Result<Page<T>, StorageError> {
    let mut page = PageFill::new(limit, budget);
    let mut used_up: Option<Item> = None;
    let mut cut = false;
    for entry in planned {
        let view = match found.get(&entry_key(&entry)?) {
            Some(item) => show(item)?,
            None => None,
        };
        if let Some(view) = view {
            if !page.offer(view) {
                cut = true;
                break;
            }
        }
        used_up = Some(entry);
    }
    let next = match (cut, rest) {
        (true, _) => used_up.as_ref().map(|e| position.after(e)),
        (false, Rest::End) => None,
        (false, Rest::After(entry)) => Some(position.after(&entry)),
    };
    Ok(page.finish(next))
}
