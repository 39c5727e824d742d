"""Kept changes of plan items (migration 0014): today their removal, append-only."""

from __future__ import annotations

from datetime import datetime

from store.plan_records import PlanChange
from store.repos.base import Repository, dt, ts


class PlanChanges(Repository):
    """The `plan_item_changes` table, under the plans repository (store/repos/plans.py)."""

    def remove_item(
        self, interview_id: str, position: int, reason: str, *, by: int, now: datetime
    ) -> PlanChange:
        """Keep the item's removal (append-only, beside it): the item and its check-in
        answers stay for the history and the follow-up report."""
        self.conn.execute(
            "INSERT INTO plan_item_changes (interview_id, position, change, reason, author_id, "
            "at) VALUES (?, ?, 'removed', ?, ?, ?)",
            (interview_id, position, self.session.seal(reason, interview_id), by, ts(now)),
        )
        return PlanChange(position, "removed", reason, by, now)

    def changes(self, interview_id: str) -> list[PlanChange]:
        """Every kept change of the plan's items, oldest first."""
        rows = self.conn.execute(
            "SELECT position, change, reason, author_id, at FROM plan_item_changes "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [PlanChange(int(r[0]), str(r[1]), self.session.open(str(r[2]), interview_id),
                           None if r[3] is None else int(r[3]), dt(r[4])) for r in rows]
