-- Teams (issue 20; docs/security.md "Roles"): organisations, and which clinicians belong to
-- one as a clinician or as its supervisor. A supervisor reads the interviews their
-- organisation's members own; only the owner changes one (bot/access.py).
CREATE TABLE organisations (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE memberships (
    org_id          INTEGER NOT NULL REFERENCES organisations (id),
    person_id       INTEGER NOT NULL REFERENCES people (id),
    role            TEXT NOT NULL CHECK (role IN ('clinician', 'supervisor')),
    since           TEXT NOT NULL,
    PRIMARY KEY (org_id, person_id)
);
CREATE INDEX memberships_by_person ON memberships (person_id);
