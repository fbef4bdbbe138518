//! The SQLite unit of work (declared by `storage_support`, shared with the other SQL adapter):
//! a transaction, or a plain pooled connection for use cases that only read. Repositories are
//! implemented on it, one file per feature.

storage_support::sql_unit_of_work! {
    unit: SqliteUnit,
    transaction: sqlx::Transaction<'static, sqlx::Sqlite>,
    pooled: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    connection: sqlx::SqliteConnection,
    backend: "sqlite",
    storage_error: crate::errors::storage_error,
}
