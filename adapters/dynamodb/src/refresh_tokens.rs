//! `RefreshTokenRepository` on DynamoDB: a chain is one item, a token is one item keyed by its
//! hash. Both carry the TTL attribute (a token its `expires_at`, a chain its `ends_at`), so
//! DynamoDB deletes them by itself once they can no longer serve (lazily: the service still
//! compares both times). A new chain also deletes its user's login-attempts item.

use async_trait::async_trait;
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::login_attempts::AttemptKey;
use domain::ports::RefreshTokenRepository;
use domain::users::UserId;
use domain::StorageError;
use time::{Duration, OffsetDateTime};

use crate::item::{millis, n, s, ttl, Fields, Item};
use crate::keys::{Key, EXPIRES};
use crate::unit_of_work::DynamoUnit;
use crate::writes::{Failure, Write};

/// The session max age of chains written before chains stored their end: the default then.
const ENDS_AFTER_BEFORE_THEY_WERE_STORED: Duration = Duration::days(90);

fn chain_from_item(item: &Item) -> Result<RefreshChain, StorageError> {
    let f = Fields::of(item, "refresh chain");
    let created_at = f.time("created_at")?;
    Ok(RefreshChain {
        id: ChainId(f.uuid("id")?),
        user_id: UserId(f.uuid("user_id")?),
        session_epoch: f.int("session_epoch")?,
        created_at,
        ends_at: f.opt_time("ends_at")?.unwrap_or(created_at + ENDS_AFTER_BEFORE_THEY_WERE_STORED),
        revoked_at: f.opt_time("revoked_at")?,
    })
}

fn token_from_item(item: &Item, hash: &TokenHash) -> Result<RefreshToken, StorageError> {
    let f = Fields::of(item, "refresh token");
    Ok(RefreshToken {
        hash: hash.clone(),
        chain_id: ChainId(f.uuid("chain_id")?),
        user_id: UserId(f.uuid("user_id")?),
        issued_at: f.time("issued_at")?,
        expires_at: f.time("expires_at")?,
        spent_at: f.opt_time("spent_at")?,
    })
}

#[async_trait]
impl RefreshTokenRepository for DynamoUnit {
    async fn insert_chain(&mut self, chain: &RefreshChain) -> Result<(), StorageError> {
        let mut item = Item::from([
            ("id".to_owned(), s(chain.id.0.to_string())),
            ("user_id".to_owned(), s(chain.user_id.0.to_string())),
            ("session_epoch".to_owned(), n(chain.session_epoch)),
            ("created_at".to_owned(), n(millis(chain.created_at))),
            ("ends_at".to_owned(), n(millis(chain.ends_at))),
            (EXPIRES.to_owned(), n(ttl(chain.ends_at))),
        ]);
        if let Some(at) = chain.revoked_at {
            item.insert("revoked_at".into(), n(millis(at)));
        }
        let put = Write::put(Key::chain(chain.id), item).when("attribute_not_exists(pk)", Failure::ConditionFailed);
        // A login clears its account's failed attempts in its own transaction (the port's
        // contract): one more action, no more calls. Once per unit: a transaction may not touch
        // an item twice.
        let attempts = Key::login_attempts(&AttemptKey::Account(chain.user_id));
        if self.writes_to(&attempts) {
            self.write([put])
        } else {
            self.write([put, Write::delete(attempts)])
        }
    }

    async fn get_chain(&mut self, id: ChainId) -> Result<Option<RefreshChain>, StorageError> {
        self.table.get("refresh_chains.get", &Key::chain(id)).await?.as_ref().map(chain_from_item).transpose()
    }

    async fn revoke_chain(&mut self, id: ChainId, at: OffsetDateTime) -> Result<(), StorageError> {
        // The first revocation's time stays; the condition keeps an unknown id from creating
        // a stray item.
        self.write([Write::update(Key::chain(id), "SET revoked_at = if_not_exists(revoked_at, :at)")
            .when("attribute_exists(pk)", Failure::ConditionFailed)
            .value(":at", n(millis(at)))])
    }

    async fn insert_token(&mut self, token: &RefreshToken) -> Result<(), StorageError> {
        let mut item = Item::from([
            ("chain_id".to_owned(), s(token.chain_id.0.to_string())),
            ("user_id".to_owned(), s(token.user_id.0.to_string())),
            ("issued_at".to_owned(), n(millis(token.issued_at))),
            ("expires_at".to_owned(), n(millis(token.expires_at))),
            (EXPIRES.to_owned(), n(ttl(token.expires_at))),
        ]);
        if let Some(at) = token.spent_at {
            item.insert("spent_at".into(), n(millis(at)));
        }
        self.write([
            Write::put(Key::token(&token.hash), item).when("attribute_not_exists(pk)", Failure::ConditionFailed)
        ])
    }

    async fn find_token(&mut self, hash: &TokenHash) -> Result<Option<RefreshToken>, StorageError> {
        self.table
            .get("refresh_tokens.find", &Key::token(hash))
            .await?
            .as_ref()
            .map(|item| token_from_item(item, hash))
            .transpose()
    }

    async fn spend_token(&mut self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StorageError> {
        self.write([Write::update(Key::token(hash), "SET spent_at = :at")
            .when("attribute_exists(pk) AND attribute_not_exists(spent_at)", Failure::ConditionFailed)
            .value(":at", n(millis(at)))])
    }
}
