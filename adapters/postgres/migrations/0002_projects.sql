-- Projects, their members and their posts.

CREATE TABLE projects (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL,
    owner_id    uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL CHECK (version >= 1)
);

-- The owner is a member too (role 'owner'), so "projects I own or belong to" is one join.
-- Deleting a project deletes its members and posts in the same statement (all or nothing).
CREATE TABLE members (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_at   timestamptz NOT NULL,
    -- The adapter maps a violation to `AlreadyMember` by this name.
    CONSTRAINT members_pkey PRIMARY KEY (project_id, user_id)
);

-- "My projects" from the member side, and the draft-visibility join of a creator's posts.
CREATE INDEX members_user ON members (user_id, project_id);
-- The members list keyset: (added_at, user_id) within a project.
CREATE INDEX members_project_added ON members (project_id, added_at, user_id);

CREATE TABLE posts (
    id           uuid        PRIMARY KEY,
    project_id   uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug         text        COLLATE "C" NOT NULL,
    title        text        NOT NULL,
    body         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('draft', 'published')),
    creator_id   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz,
    published_at timestamptz,
    -- The "newest activity" sort key, kept by PostgreSQL so it can be indexed.
    activity_at  timestamptz NOT NULL GENERATED ALWAYS AS (coalesce(updated_at, published_at, created_at)) STORED,
    version      bigint      NOT NULL CHECK (version >= 1),
    -- Slugs are unique per project; the adapter maps a violation to `SlugTaken` by this name.
    -- The index also serves the slug range of `slugs_like`.
    CONSTRAINT posts_project_slug_key UNIQUE (project_id, slug)
);

-- Keysets of a project's posts, newest activity first, with and without a status filter.
CREATE INDEX posts_project_activity ON posts (project_id, activity_at DESC, id DESC);
CREATE INDEX posts_project_status_activity ON posts (project_id, status, activity_at DESC, id DESC);
-- Keyset of a creator's posts across projects.
CREATE INDEX posts_creator_activity ON posts (creator_id, activity_at DESC, id DESC);
-- Project deletion cascades and counts per project use posts_project_activity's prefix.
