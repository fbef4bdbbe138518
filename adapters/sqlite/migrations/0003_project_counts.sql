-- Member and post counts kept on the project row, in the same transaction as the write that
-- changes them. Counting at read time made every page of projects cost as much as the posts of
-- its projects. Triggers keep the counts whichever statement writes (including cascades).

ALTER TABLE projects ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0);
ALTER TABLE projects ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0 CHECK (post_count >= 0);

UPDATE projects SET
    member_count = (SELECT count(*) FROM members m WHERE m.project_id = projects.id),
    post_count   = (SELECT count(*) FROM posts x WHERE x.project_id = projects.id);

CREATE TRIGGER members_counted_insert AFTER INSERT ON members BEGIN
    UPDATE projects SET member_count = member_count + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER members_counted_delete AFTER DELETE ON members BEGIN
    UPDATE projects SET member_count = member_count - 1 WHERE id = OLD.project_id;
END;
CREATE TRIGGER posts_counted_insert AFTER INSERT ON posts BEGIN
    UPDATE projects SET post_count = post_count + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER posts_counted_delete AFTER DELETE ON posts BEGIN
    UPDATE projects SET post_count = post_count - 1 WHERE id = OLD.project_id;
END;
