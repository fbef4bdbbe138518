//! The PostgreSQL unit of work: a transaction, or a plain pooled connection
//! for use cases that only read. Repositories are implemented on it, one file per feature.

use application::storage::{UnitOfWork, MAX_WRITES_PER_UNIT};
use async_trait::async_trait;
use domain::auth::RefreshTokenRepository;
use domain::members::MemberRepository;
use domain::posts::PostRepository;
use domain::projects::ProjectRepository;
use domain::users::UserRepository;
use domain::StorageError;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::errors::storage_error;
use crate::metrics::timed;

enum Exec {
    Tx(Transaction<'static, Postgres>),
    Reads(PoolConnection<Postgres>),
}

pub(crate) struct PgUnit {
    exec: Exec,
    writes: usize,
}

impl PgUnit {
    pub(crate) fn transaction(tx: Transaction<'static, Postgres>) -> Self {
        Self { exec: Exec::Tx(tx), writes: 0 }
    }

    pub(crate) fn reads_only(conn: PoolConnection<Postgres>) -> Self {
        Self { exec: Exec::Reads(conn), writes: 0 }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        match &mut self.exec {
            Exec::Tx(tx) => tx,
            Exec::Reads(conn) => conn,
        }
    }

    /// The connection for one more write, refused outside a transaction and beyond the
    /// unit-of-work limit that DynamoDB imposes on every backend.
    pub(crate) fn write_conn(&mut self) -> Result<&mut PgConnection, StorageError> {
        let Exec::Tx(tx) = &mut self.exec else {
            return Err(StorageError::Backend("write through a read-only unit of work".into()));
        };
        self.writes += 1;
        if self.writes > MAX_WRITES_PER_UNIT {
            return Err(StorageError::Backend(format!("a unit of work holds at most {MAX_WRITES_PER_UNIT} writes")));
        }
        Ok(tx)
    }
}

#[async_trait]
impl UnitOfWork for PgUnit {
    fn users(&mut self) -> &mut dyn UserRepository {
        self
    }

    fn refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository {
        self
    }

    fn projects(&mut self) -> &mut dyn ProjectRepository {
        self
    }

    fn members(&mut self) -> &mut dyn MemberRepository {
        self
    }

    fn posts(&mut self) -> &mut dyn PostRepository {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        match self.exec {
            Exec::Tx(tx) => timed("commit", async { tx.commit().await.map_err(storage_error) }).await,
            Exec::Reads(_) => Ok(()),
        }
    }
}
