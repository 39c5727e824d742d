-- Hearth schema v8: second informants. A teacher's or second caregiver's form (flow
-- `minimap`) names the family's interview it sits beside, and the informant's role.

-- No foreign key, as for follow_up_of (0004): the family's interview erased whole must
-- not block the form, and a link that leads nowhere means no side-by-side view is drawn.
ALTER TABLE interviews ADD COLUMN informant_of TEXT;
ALTER TABLE interviews ADD COLUMN informant_role TEXT
    CHECK (informant_role IS NULL OR informant_role IN ('teacher', 'caregiver'));
CREATE INDEX interviews_by_informant_of ON interviews (informant_of);
