-- Hearth schema v4 for PostgreSQL: the twin of ../0004_follow_up.sql (no foreign key, same
-- reason as there).

ALTER TABLE interviews ADD COLUMN follow_up_of TEXT;
CREATE INDEX interviews_by_follow_up ON interviews (follow_up_of);
