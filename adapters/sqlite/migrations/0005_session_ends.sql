-- Logins end: a chain lives at most `--session-max-age` from its login, however often it is
-- refreshed. The end is stored with the chain (the setting in force at the login), and no token
-- of the chain expires later. Chains from before this migration get the default, 90 days.
ALTER TABLE refresh_chains ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;
UPDATE refresh_chains SET ends_at = created_at + 7776000000;

-- The sweep finds what expired by these ranges instead of reading every row: expired tokens,
-- ended chains, and revoked chains (a few, hence partial).
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX refresh_chains_ends ON refresh_chains (ends_at);
CREATE INDEX refresh_chains_revoked ON refresh_chains (revoked_at) WHERE revoked_at IS NOT NULL;
