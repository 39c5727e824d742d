-- The web family's inbox (bot/inbox.py; docs/web.md "From the clinician"): what the
-- clinician's plan, its check-in and a scheduled re-assessment would send a family on
-- the web, which has no push. One row per message per person; the page shows it when the
-- family opens it, and `read_at` is set by a POST ("got it"), never by a GET. `body` holds
-- what the plan said when it was sent (the clinician's wording: clinical text), sealed
-- with `interview_id` as context like answers. No foreign keys, as for plans (0013): the
-- store's erase paths delete these rows with the person and with the interview.
CREATE TABLE web_inbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id       INTEGER NOT NULL,
    interview_id    TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('plan', 'checkin', 'reassess')),
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    read_at         TEXT
);
CREATE INDEX web_inbox_by_person ON web_inbox (person_id, id);
CREATE INDEX web_inbox_by_interview ON web_inbox (interview_id);

-- A way back to the inbox for a family whose browser session ended: a one-time link the
-- clinician gives the family (`/familylink`, and with `/plan <id> send`). Only the token's
-- SHA-256 is kept; spent once (`used_at`), it signs one browser in as that web person.
CREATE TABLE web_return_links (
    token_hash      TEXT PRIMARY KEY,
    person_id       INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);
CREATE INDEX web_return_links_by_person ON web_return_links (person_id);
