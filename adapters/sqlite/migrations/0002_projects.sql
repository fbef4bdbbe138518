-- Projects, their members and their posts.

CREATE TABLE projects (
    id          TEXT    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    owner_id    TEXT    NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1)
) STRICT;

-- The owner is a member too (role 'owner'), so "projects I own or belong to" is one join.
-- Deleting a project deletes its members and posts in the same statement (all or nothing).
CREATE TABLE members (
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT;

-- Serves "my projects" (from the member side) and the draft visibility join of a creator's posts.
CREATE INDEX members_user ON members (user_id, project_id);
-- Serves the members list keyset: (added_at, user_id) within a project.
CREATE INDEX members_project_added ON members (project_id, added_at, user_id);

CREATE TABLE posts (
    id           TEXT    PRIMARY KEY NOT NULL,
    project_id   TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'published')),
    creator_id   TEXT    NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER,
    published_at INTEGER,
    -- The "newest activity" sort key, kept by SQLite itself so it can be indexed.
    activity_at  INTEGER NOT NULL GENERATED ALWAYS AS (coalesce(updated_at, published_at, created_at)) STORED,
    version      INTEGER NOT NULL CHECK (version >= 1),
    -- Slugs are unique per project; the adapter maps a violation to `SlugTaken`.
    UNIQUE (project_id, slug)
) STRICT;

-- Keyset of a project's posts, newest activity first, with and without a status filter.
CREATE INDEX posts_project_activity ON posts (project_id, activity_at DESC, id DESC);
CREATE INDEX posts_project_status_activity ON posts (project_id, status, activity_at DESC, id DESC);
-- Keyset of a creator's posts across projects.
CREATE INDEX posts_creator_activity ON posts (creator_id, activity_at DESC, id DESC);
