-- Failed password checks, counted in the database so that the limit holds across every instance
-- sharing it and across restarts (API.md, "Brute-force protection").
--
-- One row per key: `account:<user id>` (email and username are one target) or `name:<sha-256
-- hex>` for a login name that matches nobody (never the name itself). A row is one window:
-- `failures` counts the attempts since `window_start`, until `window_ends`. The adapter counts
-- with one upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`): concurrent attempts on one key
-- queue on its row lock, so none is lost and none reads a stale count; the service checks the
-- password only while the count is within the limit.
CREATE TABLE login_attempts (
    key          text        COLLATE "C" PRIMARY KEY,
    failures     integer     NOT NULL CHECK (failures >= 1),
    window_start timestamptz NOT NULL,
    window_ends  timestamptz NOT NULL CHECK (window_ends > window_start)
);

-- The sweep removes ended windows by this range instead of reading every row.
CREATE INDEX login_attempts_window_ends ON login_attempts (window_ends);

-- A new refresh chain is a successful login, and a success clears its account's count. Doing it
-- here, in the login's own transaction, keeps a login at one statement more than without a
-- limiter (the count taken before the password check) and makes the clear commit with the login.
-- The row lock it takes is held only until the login commits.
CREATE FUNCTION clear_login_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- uuid::text is the lower-case hyphenated form the adapter writes in `account:<user id>`.
    DELETE FROM login_attempts WHERE key = 'account:' || NEW.user_id::text;
    RETURN NEW;
END
$$;

CREATE TRIGGER refresh_chains_clear_login_attempts AFTER INSERT ON refresh_chains
    FOR EACH ROW EXECUTE FUNCTION clear_login_attempts();
