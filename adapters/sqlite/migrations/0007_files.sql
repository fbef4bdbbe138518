-- Files shared in a project (API.md, "Files"): their metadata only; the bytes are in the blob
-- store under the file's id. Deleting a project deletes its files' rows in the same statement;
-- the blobs left behind are the sweep's (`ids_in_project`, `existing`).

CREATE TABLE files (
    id           TEXT    PRIMARY KEY NOT NULL,
    project_id   TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       BLOB    NOT NULL CHECK (length(sha256) = 32),
    uploader_id  TEXT    NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL
) STRICT;

-- Keyset of a project's files, newest first.
CREATE INDEX files_project_created ON files (project_id, created_at DESC, id DESC);
-- A project's file ids in id order (`ids_in_project`), one range per page.
CREATE INDEX files_project_id ON files (project_id, id);

-- The bytes of a project's files, checked against the quota by the write itself: an insert adds
-- its size with one conditional UPDATE of the project row (so inserts queue on it and never pass
-- the quota together) and a delete takes it off, both in the transaction that writes the file.
-- No trigger: a cascade from the project's deletion leaves no row to keep a total on.
ALTER TABLE projects ADD COLUMN file_bytes INTEGER NOT NULL DEFAULT 0 CHECK (file_bytes >= 0);
