-- Users and logins.
--
-- Ids are UUIDv7 in their canonical text form (they sort by creation time). Timestamps are Unix
-- milliseconds: integers compare and sort exactly, and the API's precision is the millisecond.
-- STRICT tables make SQLite refuse a value of the wrong type instead of storing it.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    email         TEXT    NOT NULL,  -- lower-cased by the domain before it gets here
    username      TEXT    NOT NULL,  -- lower-cased by the domain before it gets here
    first_name    TEXT    NOT NULL,
    last_name     TEXT    NOT NULL,
    avatar_url    TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    password_hash TEXT    NOT NULL,  -- Argon2id PHC string; never leaves the server
    session_epoch INTEGER NOT NULL,  -- refresh chains of an older epoch are dead
    version       INTEGER NOT NULL CHECK (version >= 1),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Uniqueness of login names is the database's job, so concurrent registrations cannot both win.
-- The adapter maps a violation of each to its own conflict (email_taken / username_taken).
CREATE UNIQUE INDEX users_email_key ON users (email);
-- Also serves the admin list: keyset on username, and the username_prefix range.
CREATE UNIQUE INDEX users_username_key ON users (username);

-- One row per login (a chain of refresh tokens); revoking it ends the login in one write.
CREATE TABLE refresh_chains (
    id            TEXT    PRIMARY KEY NOT NULL,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_epoch INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;

CREATE INDEX refresh_chains_user ON refresh_chains (user_id);

-- Refresh tokens are stored only as the SHA-256 of the secret the client holds.
CREATE TABLE refresh_tokens (
    hash       BLOB    PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
    chain_id   TEXT    NOT NULL REFERENCES refresh_chains (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
) STRICT;

CREATE INDEX refresh_tokens_chain ON refresh_tokens (chain_id);
