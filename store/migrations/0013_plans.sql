-- Notes and a plan per interview, a check-in at the plan's review, and a re-assessment
-- schedule (bot/features/plan.py; docs/clinicians.md). Clinical text (notes, the plan's
-- wording, which recommendation an item came from) and the family's check-in answers are
-- sealed like answers. No foreign keys, as for follow_up_of (0004): the store's erase
-- paths delete these rows with the interview.

-- Append-only, as answers are: a note is corrected by a later note.
CREATE TABLE clinician_notes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    interview_id    TEXT NOT NULL,
    author_id       INTEGER NOT NULL,
    body            TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX clinician_notes_by_interview ON clinician_notes (interview_id, id);
CREATE TRIGGER clinician_notes_append_only BEFORE UPDATE ON clinician_notes
BEGIN
    SELECT RAISE(ABORT, 'notes are append-only: add a new note instead');
END;

-- One plan per interview. `checkin_at` is set before the check-in is sent (at most once).
CREATE TABLE plans (
    interview_id    TEXT PRIMARY KEY,
    review_on       TEXT,
    sent_at         TEXT,
    checkin_at      TEXT,
    -- Sending asked for from the web workspace: the bot's scheduler delivers it.
    send_asked_at   TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX plans_by_review ON plans (review_on) WHERE checkin_at IS NULL;
CREATE INDEX plans_to_send ON plans (send_asked_at) WHERE send_asked_at IS NOT NULL;

CREATE TABLE plan_items (
    interview_id    TEXT NOT NULL,
    position        INTEGER NOT NULL,
    recommendation  TEXT NOT NULL,
    wording         TEXT,
    status          TEXT NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'sent')),
    tried           TEXT,
    went            TEXT,
    answered_at     TEXT,
    PRIMARY KEY (interview_id, position)
);

-- Re-assessment every `months` months; `follow_up_id` is the last interview it started.
CREATE TABLE reassessments (
    interview_id    TEXT PRIMARY KEY,
    months          INTEGER NOT NULL CHECK (months IN (3, 6)),
    next_due        TEXT NOT NULL,
    follow_up_id    TEXT
);
CREATE INDEX reassessments_by_due ON reassessments (next_due);
