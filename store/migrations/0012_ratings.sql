-- Hearth schema v12: clinician ratings. On the interview's functional map, the clinician
-- rates (or overrides) a function after observing the child, with a reason. Like answers,
-- a change is a new row with the next revision: an UPDATE is refused. The value and the
-- reason are sealed at rest (store/repos/ratings.py); the function key is the map's item id.
CREATE TABLE ratings (
    id              INTEGER PRIMARY KEY,
    interview_id    TEXT NOT NULL REFERENCES interviews (id),
    function_key    TEXT NOT NULL,                 -- a function of the map (its item id)
    revision        INTEGER NOT NULL,              -- 1, 2, … per interview and function
    value           TEXT NOT NULL,                 -- a point key of the map's scale (sealed)
    reason          TEXT NOT NULL,                 -- the clinician's words (sealed)
    rated_by        INTEGER REFERENCES people (id),
    rated_at        TEXT NOT NULL,
    UNIQUE (interview_id, function_key, revision)
);
CREATE INDEX ratings_by_author ON ratings (rated_by);
CREATE TRIGGER ratings_append_only BEFORE UPDATE ON ratings
BEGIN
    SELECT RAISE(ABORT, 'ratings are append-only: add a new revision instead');
END;
