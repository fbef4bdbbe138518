//! The PostgreSQL unit of work (declared by `storage_support`, shared with the other SQL adapter):
//! a transaction, or a plain pooled connection for use cases that only read. Repositories are
//! implemented on it, one file per feature.

storage_support::sql_unit_of_work! {
    unit: PgUnit,
    transaction: sqlx::Transaction<'static, sqlx::Postgres>,
    pooled: sqlx::pool::PoolConnection<sqlx::Postgres>,
    connection: sqlx::PgConnection,
    backend: "postgres",
    storage_error: crate::errors::storage_error,
}
