-- Idempotency records (API.md, "Idempotent retries"): one row per (scope, key), keyed by their
-- SHA-256 (`record`); the client's key and body are never stored. A row is in progress while
-- `answer` is NULL (held by `holder` until `lease_ends`), completed once it holds the answer.
-- Times are Unix milliseconds. A completed answer of an effect is written in that effect's own
-- transaction, so both commit or neither does.
CREATE TABLE idempotency_records (
    record      TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    lease_ends  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answer      BLOB
) WITHOUT ROWID;

-- The sweep removes expired records by this range instead of reading every row.
CREATE INDEX idempotency_records_expires ON idempotency_records (expires_at);
