-- Hearth schema v5: book clubs. Weekly schedules, the log of weeks sent, private reflections.

-- One schedule per chat: a group that runs /bookclub setup, or a person subscribed in their
-- private chat. The columns are the fields of flows.schedule.Schedule; a stopped schedule
-- stays (with why) so status can say so and a new setup replaces it.
CREATE TABLE bookclub_schedules (
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('group', 'private')),
    series_key      TEXT NOT NULL,                 -- 'id@version': a running club keeps its version
    weekday         INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    local_time      TEXT NOT NULL,                 -- 'HH:MM' wall clock in `timezone`
    timezone        TEXT NOT NULL,                 -- IANA name
    start_date      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'paused', 'stopped')),
    active_since    TEXT,
    skip_week       INTEGER,
    locale          TEXT NOT NULL DEFAULT 'en',
    person_id       INTEGER REFERENCES people (id), -- private: the subscriber; group: who set it up
    stopped_reason  TEXT,                          -- 'stopped', 'removed', 'blocked', 'finished'
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX bookclub_schedules_by_status ON bookclub_schedules (status);

-- Every week sent, or being sent. The UNIQUE key is the exactly-once rule: a worker claims
-- the row in a transaction BEFORE it sends, so a restart or a second worker finds it taken.
-- status: 'sending' (claimed; counts as sent if the worker dies), 'sent', 'retry'
-- (Telegram said "too many requests": certainly not shown, sent again at retry_at),
-- 'failed' (refused for good: removed, blocked), 'unconfirmed' (no answer from Telegram).
CREATE TABLE bookclub_deliveries (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    series_key      TEXT NOT NULL,
    week            INTEGER NOT NULL CHECK (week >= 1),
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'retry', 'failed', 'unconfirmed')),
    token           TEXT NOT NULL UNIQUE,          -- the "Reflect privately" link's r_<token>
    claimed_at      TEXT NOT NULL,                 -- the week's delivery instant for the schedule
    claimed_by      TEXT,                          -- which worker claimed it (diagnostics)
    attempts        INTEGER NOT NULL DEFAULT 1,
    sent_at         TEXT,
    message_id      INTEGER,
    retry_at        TEXT,
    error           TEXT,
    UNIQUE (channel, chat_id, series_key, week)
);
CREATE INDEX bookclub_deliveries_by_status ON bookclub_deliveries (status, retry_at);

-- What one person wrote back to a week's check-in, in their private chat. Never shown to
-- anyone else; sealed with HEARTH_DATA_KEY like answers; erased by /forget.
CREATE TABLE bookclub_reflections (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    series_key      TEXT NOT NULL,
    week            INTEGER NOT NULL,
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX bookclub_reflections_by_person ON bookclub_reflections (person_id, id);

-- A check-in a person opened with the link and has not answered yet: their next typed
-- message (within the window the bot allows) is the reflection.
CREATE TABLE bookclub_pending (
    person_id       INTEGER PRIMARY KEY REFERENCES people (id),
    series_key      TEXT NOT NULL,
    week            INTEGER NOT NULL,
    asked_at        TEXT NOT NULL
);
