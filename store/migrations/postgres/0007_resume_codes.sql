-- Hearth schema v7 for PostgreSQL: the twin of ../0007_resume_codes.sql.

CREATE TABLE resume_codes (
    code_hash       TEXT PRIMARY KEY,
    interview_id    TEXT NOT NULL REFERENCES interviews (id),
    created_by      BIGINT NOT NULL REFERENCES people (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);
CREATE INDEX resume_codes_by_interview ON resume_codes (interview_id);
CREATE INDEX resume_codes_by_expiry ON resume_codes (expires_at);
