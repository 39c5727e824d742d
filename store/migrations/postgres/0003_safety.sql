-- Hearth schema v3 for PostgreSQL: the twin of ../0003_safety.sql.

CREATE TABLE store_meta (
    name            TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);

ALTER TABLE people ADD COLUMN low_exposure INTEGER NOT NULL DEFAULT 0;
