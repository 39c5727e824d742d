-- Hearth schema v1. The schema is the contract: change it only with a new numbered file.

CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,                 -- 'telegram', 'console', ...
    external_id     TEXT NOT NULL,                 -- the channel's id for the person
    role            TEXT NOT NULL DEFAULT 'caregiver' CHECK (role IN ('caregiver', 'clinician', 'admin')),
    locale          TEXT NOT NULL DEFAULT 'en',
    active_interview TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE interviews (
    id              TEXT PRIMARY KEY,              -- random, unguessable, never sequential
    flow_id         TEXT NOT NULL,
    flow_version    INTEGER NOT NULL,
    owner_id        INTEGER NOT NULL REFERENCES people (id),
    respondent_id   INTEGER REFERENCES people (id),
    subject_nickname TEXT,
    state           TEXT NOT NULL,
    consented       INTEGER NOT NULL DEFAULT 0,
    cursor          TEXT,                          -- the item key being asked, NULL at review
    revision        INTEGER NOT NULL DEFAULT 0,    -- bumped by every step; stale buttons carry an older one
    draft           TEXT,                          -- JSON: a multiple-choice selection being ticked
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    submitted_at    TEXT
);
CREATE INDEX interviews_by_owner ON interviews (owner_id, updated_at);
CREATE INDEX interviews_by_respondent ON interviews (respondent_id, updated_at);

-- Every answer ever given, append-only: a change is a new row with a higher revision.
CREATE TABLE answers (
    id              INTEGER PRIMARY KEY,
    interview_id    TEXT NOT NULL REFERENCES interviews (id),
    item_key        TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    value           TEXT,                          -- JSON; NULL when the question was skipped
    answered_by     INTEGER REFERENCES people (id),
    answered_at     TEXT NOT NULL,
    UNIQUE (interview_id, item_key, revision)
);
CREATE TRIGGER answers_append_only BEFORE UPDATE ON answers
BEGIN
    SELECT RAISE(ABORT, 'answers are append-only: add a new revision instead');
END;

-- The latest revision per item (a derived index into answers, rebuilt from it if ever needed).
CREATE TABLE current_answers (
    interview_id    TEXT NOT NULL,
    item_key        TEXT NOT NULL,
    answer_id       INTEGER NOT NULL REFERENCES answers (id),
    skips           INTEGER NOT NULL DEFAULT 0,    -- times skipped since the last real answer
    PRIMARY KEY (interview_id, item_key)
) WITHOUT ROWID;

-- The audit trail: who did what to which interview, when. No answer content here.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    interview_id    TEXT,
    person_id       INTEGER,
    kind            TEXT NOT NULL,
    detail          TEXT,
    at              TEXT NOT NULL
);
CREATE INDEX events_by_interview ON events (interview_id, id);

-- Exactly-once: a delivery (Telegram update_id, ...) is processed once; its outcome is kept
-- so a redelivery gets the same reply and changes nothing.
CREATE TABLE deliveries (
    channel         TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    at              TEXT NOT NULL,
    PRIMARY KEY (channel, delivery_id)
) WITHOUT ROWID;
