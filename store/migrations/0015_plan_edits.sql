-- Withdrawn clinician ratings and removed plan items (docs/clinicians.md). Both stay
-- append-only: a withdrawal is the next revision of a function's rating (its value is the
-- one withdrawn, its reason why; the scores then fall back to the family's view), and a
-- removal is a row of its own beside the plan item it removes (the item and what the
-- family said of it stay). Reasons are sealed like answers.
ALTER TABLE ratings ADD COLUMN status TEXT NOT NULL DEFAULT 'rated'
    CHECK (status IN ('rated', 'withdrawn'));

CREATE TABLE plan_item_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    interview_id    TEXT NOT NULL,
    position        INTEGER NOT NULL,
    change          TEXT NOT NULL CHECK (change IN ('removed')),
    reason          TEXT NOT NULL,                 -- the clinician's words (sealed)
    author_id       INTEGER,
    at              TEXT NOT NULL
);
CREATE INDEX plan_item_changes_by_interview ON plan_item_changes (interview_id, position);
CREATE TRIGGER plan_item_changes_append_only BEFORE UPDATE ON plan_item_changes
BEGIN
    SELECT RAISE(ABORT, 'plan changes are append-only: add a new change instead');
END;

-- The family's own words at the check-in (optional, beside the buttons; sealed), and who
-- the next typed message is awaited from, until when (bot/features/plan.py).
ALTER TABLE plans ADD COLUMN family_words TEXT;
ALTER TABLE plans ADD COLUMN words_at TEXT;
ALTER TABLE plans ADD COLUMN words_from INTEGER;
ALTER TABLE plans ADD COLUMN words_until TEXT;
CREATE INDEX plans_words_from ON plans (words_from) WHERE words_from IS NOT NULL;
