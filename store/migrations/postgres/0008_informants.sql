-- Hearth schema v8 for PostgreSQL: the twin of ../0008_informants.sql (no foreign key, same
-- reason as there).

ALTER TABLE interviews ADD COLUMN informant_of TEXT;
ALTER TABLE interviews ADD COLUMN informant_role TEXT
    CHECK (informant_role IS NULL OR informant_role IN ('teacher', 'caregiver'));
CREATE INDEX interviews_by_informant_of ON interviews (informant_of);
