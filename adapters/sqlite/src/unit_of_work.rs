//! The SQLite unit of work (declared by `storage_support`, shared with the other SQL adapter):
//! a transaction on the leased writer, or a reader connection for use cases that only read. Repositories are
//! implemented on it, one file per feature.

storage_support::sql_unit_of_work! {
    unit: SqliteUnit,
    transaction: crate::pool::Lease,
    pooled: crate::pool::Lease,
    connection: sqlx::SqliteConnection,
    backend: "sqlite",
    storage_error: crate::errors::storage_error,
}
