-- Idempotency records (API.md, "Idempotent retries"): one row per (scope, key), keyed by their
-- SHA-256 (`record`); the client's key and body are never stored. A row is in progress while
-- `answer` is NULL (held by `holder` until `lease_ends`), completed once it holds the answer.
-- The answer of an effect is written in that effect's own transaction (an UPDATE conditional on
-- the holder, which waits on the row lock of a concurrent take-over), so both commit or neither.
CREATE TABLE idempotency_records (
    record      text        COLLATE "C" PRIMARY KEY,
    fingerprint text        NOT NULL,
    holder      uuid        NOT NULL,
    lease_ends  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    answer      bytea
);

-- The sweep removes expired records by this range instead of reading every row.
CREATE INDEX idempotency_records_expires ON idempotency_records (expires_at);
