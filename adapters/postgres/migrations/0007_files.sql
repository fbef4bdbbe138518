-- Files shared in a project (API.md, "Files"): their metadata only; the bytes are in the blob
-- store under the file's id. Deleting a project deletes its files' rows in the same statement;
-- the blobs left behind are the sweep's (`ids_in_project`, `existing`).

CREATE TABLE files (
    id           uuid        PRIMARY KEY,
    project_id   uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL CHECK (size >= 0),
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
    uploader_id  uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL
);

-- Keyset of a project's files, newest first; the cascade from a project's deletion uses its prefix.
CREATE INDEX files_project_created ON files (project_id, created_at DESC, id DESC);
-- A project's file ids in id order (`ids_in_project`), one range per page.
CREATE INDEX files_project_id ON files (project_id, id);

-- The bytes of a project's files, checked against the quota by the write itself: an insert adds
-- its size with one conditional UPDATE of the project row, whose row lock makes concurrent
-- inserts queue (each re-checks the condition on the total the one before it committed), and a
-- delete takes it off, both in the transaction that writes the file. No trigger: a cascade from
-- the project's deletion leaves no row to keep a total on.
ALTER TABLE projects ADD COLUMN file_bytes bigint NOT NULL DEFAULT 0 CHECK (file_bytes >= 0);
