"""The audit trail: what happened to an interview, by whom, when (never answer content)."""

from __future__ import annotations

from datetime import datetime

from store.records import Event
from store.repos.base import Repository, dt, ts


class Audit(Repository):
    """The `events` table."""

    def add(
        self,
        kind: str,
        *,
        interview_id: str | None,
        person_id: int | None,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        """Append one entry."""
        self.conn.execute(
            "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            (interview_id, person_id, kind, detail, ts(now)),
        )

    def of_interview(self, interview_id: str) -> list[Event]:
        """The audit trail of one interview, oldest first."""
        rows = self.conn.execute(
            "SELECT interview_id, person_id, kind, detail, at FROM events "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [Event(i, p, k, d, dt(a)) for i, p, k, d, a in rows]
