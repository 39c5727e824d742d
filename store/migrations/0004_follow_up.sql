-- Hearth schema v4: re-assessment. A follow-up interview names the earlier one it repeats.

-- No foreign key on purpose: an earlier interview removed by an operator must not block
-- (or cascade into) the later one; a link that leads nowhere simply means nothing is
-- carried over and no change report is drawn.
ALTER TABLE interviews ADD COLUMN follow_up_of TEXT;
CREATE INDEX interviews_by_follow_up ON interviews (follow_up_of);
