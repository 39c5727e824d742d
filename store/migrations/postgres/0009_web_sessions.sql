-- Hearth schema v9 for PostgreSQL: the twin of ../0009_web_sessions.sql.
-- The web channel's sessions (bot/web/; docs/web.md). The cookie's value is never stored:
-- only its SHA-256, so a copy of the database opens no one's session. `user_id` is the web
-- person's opaque id (people.external_id with channel 'web'); an erasure deletes the rows.
CREATE TABLE web_sessions (
    token_hash     TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    seen_at        TEXT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
CREATE INDEX web_sessions_by_seen ON web_sessions (seen_at);
