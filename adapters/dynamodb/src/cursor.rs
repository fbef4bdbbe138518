//! Continuations: the key attributes of the last item of a page, from which the next Query starts
//! (`ExclusiveStartKey`). The bytes are signed by the application before they leave; decoding
//! still checks that the key belongs to the queried partition and order, so even a validly
//! signed cursor of another list is `BadContinuation`, never a failed request to DynamoDB.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::{Continuation, StorageError};

use crate::item::{s, Item};

/// Which attributes form a position in one list, and what they must look like.
pub(crate) struct Position<'a> {
    /// The key attribute names, in the order they are encoded.
    pub names: &'a [&'a str],
}

impl Position<'_> {
    /// The continuation after `item`: its values of `names`, each length-prefixed.
    pub(crate) fn after(&self, item: &Item) -> Continuation {
        let mut bytes = Vec::new();
        for name in self.names {
            let value = match item.get(*name) {
                Some(AttributeValue::S(v)) => v.as_str(),
                _ => "",
            };
            let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&value.as_bytes()[..usize::from(len)]);
        }
        Continuation(bytes)
    }

    /// The attributes of `item` that make its position: the `ExclusiveStartKey` after it.
    pub(crate) fn key_of(&self, item: &Item) -> Item {
        self.names.iter().filter_map(|name| item.get(*name).map(|value| ((*name).to_owned(), value.clone()))).collect()
    }

    /// The `ExclusiveStartKey` a continuation stands for, if every value passes `valid`.
    pub(crate) fn start_key(
        &self,
        continuation: &Continuation,
        valid: impl Fn(&str, &str) -> bool,
    ) -> Result<Item, StorageError> {
        let mut rest = continuation.0.as_slice();
        let mut key = Item::new();
        for name in self.names {
            let (len, tail) = rest.split_first_chunk::<2>().ok_or(StorageError::BadContinuation)?;
            let len = usize::from(u16::from_be_bytes(*len));
            if tail.len() < len {
                return Err(StorageError::BadContinuation);
            }
            let value = std::str::from_utf8(&tail[..len]).map_err(|_| StorageError::BadContinuation)?;
            if value.is_empty() || !valid(name, value) {
                return Err(StorageError::BadContinuation);
            }
            key.insert((*name).to_owned(), s(value));
            rest = &tail[len..];
        }
        if rest.is_empty() {
            Ok(key)
        } else {
            Err(StorageError::BadContinuation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSITION: Position<'static> = Position { names: &["pk", "sk"] };

    #[test]
    fn a_position_round_trips_and_foreign_bytes_are_refused() {
        let mut item = Item::new();
        item.insert("pk".into(), s("PROJECT#1"));
        item.insert("sk".into(), s("POST#a"));
        let after = POSITION.after(&item);
        let key = POSITION.start_key(&after, |_, _| true);
        assert_eq!(key.unwrap(), item);
        let refused = |result: Result<Item, StorageError>| matches!(result, Err(StorageError::BadContinuation));
        assert!(refused(POSITION.start_key(&after, |name, v| name != "pk" || v == "PROJECT#2")));
        assert!(refused(POSITION.start_key(&Continuation(vec![0, 9, 1]), |_, _| true)));
        let mut longer = after.0.clone();
        longer.push(0);
        assert!(refused(POSITION.start_key(&Continuation(longer), |_, _| true)));
    }
}
