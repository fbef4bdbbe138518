-- Users and logins.
--
-- Ids are UUIDv7 (time-ordered: new rows land at the right edge of the primary-key index).
-- Timestamps are timestamptz holding milliseconds (the domain truncates them).
-- Login names sort in byte order (COLLATE "C"): the admin list's order and its prefix range are
-- the same as on the other backends, whatever the database's locale.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    username      text        COLLATE "C" NOT NULL,
    first_name    text        NOT NULL,
    last_name     text        NOT NULL,
    avatar_url    text,
    role          text        NOT NULL CHECK (role IN ('user', 'admin')),
    password_hash text        NOT NULL,   -- Argon2id PHC string; never leaves the server
    session_epoch bigint      NOT NULL,   -- refresh chains of an older epoch are dead
    version       bigint      NOT NULL CHECK (version >= 1),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    -- The adapter maps a violation to email_taken / username_taken by these names.
    CONSTRAINT users_email_key UNIQUE (email),
    -- Also serves the admin list: keyset on username and the username_prefix range.
    CONSTRAINT users_username_key UNIQUE (username)
);

-- One row per login (a chain of refresh tokens); revoking it ends the login in one write.
CREATE TABLE refresh_chains (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_epoch bigint      NOT NULL,
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);

CREATE INDEX refresh_chains_user ON refresh_chains (user_id);

-- Refresh tokens are stored only as the SHA-256 of the secret the client holds.
CREATE TABLE refresh_tokens (
    hash       bytea       PRIMARY KEY CHECK (length(hash) = 32),
    chain_id   uuid        NOT NULL REFERENCES refresh_chains (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz
);

CREATE INDEX refresh_tokens_chain ON refresh_tokens (chain_id);
