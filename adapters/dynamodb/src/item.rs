//! Items as attribute maps: building attribute values, reading them back with clear errors, and
//! the fixed-width encodings that make sort keys sort as bytes.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::StorageError;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn b(bytes: impl Into<Vec<u8>>) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes))
}

/// Milliseconds since the epoch: the precision every backend keeps.
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Epoch seconds for the TTL attribute, rounded up: TTL must not remove an item before `at`.
pub(crate) fn ttl(at: OffsetDateTime) -> i64 {
    (millis(at) + 999).div_euclid(1000)
}

/// A time as a sort-key fragment: 13 digits zero-padded, so byte order is time order
/// (until the year 2286; times before 1970 do not occur).
pub(crate) fn sortable(at: OffsetDateTime) -> String {
    format!("{:013}", millis(at).max(0))
}

/// Reads typed attributes out of one item, naming the item kind in any error: a malformed item
/// is a broken invariant, never a client error.
pub(crate) struct Fields<'a> {
    item: &'a Item,
    kind: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn of(item: &'a Item, kind: &'static str) -> Self {
        Self { item, kind }
    }

    fn corrupt(&self, name: &str, why: &str) -> StorageError {
        StorageError::backend(format!("stored {} item: attribute {name} {why}", self.kind))
    }

    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, StorageError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value.as_str())),
            Some(_) => Err(self.corrupt(name, "is not a string")),
        }
    }

    pub(crate) fn opt_bytes(&self, name: &str) -> Result<Option<&'a [u8]>, StorageError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::B(value)) => Ok(Some(value.as_ref())),
            Some(_) => Err(self.corrupt(name, "is not binary")),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a str, StorageError> {
        self.opt_str(name)?.ok_or_else(|| self.corrupt(name, "is missing"))
    }

    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, StorageError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(value)) => value.parse().map(Some).map_err(|_| self.corrupt(name, "is no integer")),
            Some(_) => Err(self.corrupt(name, "is not a number")),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<i64, StorageError> {
        self.opt_int(name)?.ok_or_else(|| self.corrupt(name, "is missing"))
    }

    pub(crate) fn uuid(&self, name: &str) -> Result<Uuid, StorageError> {
        Uuid::parse_str(self.str(name)?).map_err(|_| self.corrupt(name, "is no uuid"))
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<OffsetDateTime>, StorageError> {
        match self.opt_int(name)? {
            None => Ok(None),
            Some(ms) => OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .map(Some)
                .map_err(|_| self.corrupt(name, "is out of range")),
        }
    }

    pub(crate) fn time(&self, name: &str) -> Result<OffsetDateTime, StorageError> {
        self.opt_time(name)?.ok_or_else(|| self.corrupt(name, "is missing"))
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.item.contains_key(name)
    }

    /// Parses a stored string with a domain parser, reporting a rule it breaks as corruption.
    pub(crate) fn parsed<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StorageError> {
        parse(self.str(name)?).map_err(|e| self.corrupt(name, &format!("breaks a rule: {e}")))
    }
}
