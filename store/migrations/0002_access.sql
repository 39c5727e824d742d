-- Hearth schema v2: clinicians' invitations, rate limits on guessing codes, erasure requests.

-- Where to reach a person (a clinician's notification). For Telegram private chats it equals
-- the user id, but that is the adapter's knowledge, not the store's: record what was seen.
ALTER TABLE people ADD COLUMN chat_id TEXT;

-- An invitation for a family to answer a clinician's interview. The code itself is never
-- stored: only its SHA-256, so a copy of the database cannot be used to claim interviews.
CREATE TABLE invites (
    code_hash       TEXT PRIMARY KEY,              -- hex sha256 of the code
    interview_id    TEXT NOT NULL REFERENCES interviews (id),
    created_by      INTEGER NOT NULL REFERENCES people (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,                          -- set once: claimed, or revoked by a newer invite
    used_by         INTEGER REFERENCES people (id) -- NULL when revoked, or after the claimer's erasure
);
CREATE INDEX invites_by_interview ON invites (interview_id);

-- Failed attempts (a wrong invitation code), counted per person over a sliding window.
CREATE TABLE attempts (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    kind            TEXT NOT NULL,                 -- 'invite_code'
    at              TEXT NOT NULL
);
CREATE INDEX attempts_by_person ON attempts (person_id, kind, at);

-- A pending "/forget": erasure happens only when confirmed within a short window.
CREATE TABLE erasure_requests (
    person_id       INTEGER PRIMARY KEY REFERENCES people (id),
    requested_at    TEXT NOT NULL
);
