-- Resume codes: a short code that moves an open interview to another person or device
-- (bot/features/resume.py). Like invitations, only the code's SHA-256 is kept. A code is
-- single use (marked used when redeemed), one per interview (a new one replaces the
-- older), and expires; erasure deletes the codes of the interviews it touches.
CREATE TABLE resume_codes (
    code_hash       TEXT PRIMARY KEY,              -- hex sha256 of the normalised code
    interview_id    TEXT NOT NULL REFERENCES interviews (id),
    created_by      INTEGER NOT NULL REFERENCES people (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT                           -- set once, when redeemed
);
CREATE INDEX resume_codes_by_interview ON resume_codes (interview_id);
CREATE INDEX resume_codes_by_expiry ON resume_codes (expires_at);
