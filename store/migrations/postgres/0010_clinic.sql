-- Hearth schema v10 for PostgreSQL: the twin of ../0010_clinic.sql.
-- The clinician's web workspace (bot/web/clinic/; docs/clinicians.md). A sign-in link's
-- token and a session's cookie are never stored: only their SHA-256, so a copy of the
-- database opens no one's workspace. Both rows name the clinician's person; taking the
-- role back ends the sessions (checked on every request besides), an erasure deletes them.
CREATE TABLE clinic_links (
    token_hash     TEXT PRIMARY KEY,
    person_id      BIGINT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
);
CREATE INDEX clinic_links_by_person ON clinic_links (person_id);
CREATE INDEX clinic_links_by_expiry ON clinic_links (expires_at);

CREATE TABLE clinic_sessions (
    token_hash     TEXT PRIMARY KEY,
    person_id      BIGINT NOT NULL,
    created_at     TEXT NOT NULL,
    seen_at        TEXT NOT NULL
);
CREATE INDEX clinic_sessions_by_person ON clinic_sessions (person_id);
CREATE INDEX clinic_sessions_by_seen ON clinic_sessions (seen_at);

-- The caseload counts each interview's safety flags in one read: an index by kind finds
-- the few flag events without scanning every event (with a key their kind reads 'sealed').
CREATE INDEX events_by_kind ON events (kind, interview_id);
