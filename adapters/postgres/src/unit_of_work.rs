//! The PostgreSQL unit of work (declared by `storage_support`, shared with the other SQL adapter):
//! a transaction, or a plain pooled connection for use cases that only read. Repositories are
//! implemented on it, one file per feature.

use crate::errors::storage_error;

storage_support::sql_unit_of_work!(PgUnit, sqlx::Postgres, sqlx::PgConnection, "postgres");
