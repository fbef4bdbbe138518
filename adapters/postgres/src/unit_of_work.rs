//! The PostgreSQL unit of work (declared by `storage_support`, shared with the other SQL adapter):
//! a transaction on a leased connection, or the connection alone for use cases that only read. Repositories are
//! implemented on it, one file per feature.

storage_support::sql_unit_of_work! {
    unit: PgUnit,
    transaction: crate::pool::Lease,
    pooled: crate::pool::Lease,
    connection: sqlx::PgConnection,
    backend: "postgres",
    storage_error: crate::errors::storage_error,
}
