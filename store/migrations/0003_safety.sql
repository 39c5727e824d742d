-- Hearth schema v3: the at-rest key check, and the low-exposure option.

-- Facts about the database itself. 'data_key_check' holds a value sealed with the
-- operator's HEARTH_DATA_KEY: a database once opened with a key refuses to start without
-- it, or with another one, instead of writing a mix or failing on the first read.
CREATE TABLE store_meta (
    name            TEXT PRIMARY KEY,
    value           TEXT NOT NULL
) WITHOUT ROWID;

-- A person who asked that their typed answers be deleted from the chat once saved.
ALTER TABLE people ADD COLUMN low_exposure INTEGER NOT NULL DEFAULT 0;
