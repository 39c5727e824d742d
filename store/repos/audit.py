"""The audit trail: what happened to an interview, by whom, when (never answer content)."""

from __future__ import annotations

import json
from datetime import datetime

from store.records import Event
from store.repos.base import Repository, dt, ts

#: Kinds that are themselves derived from what a person wrote: with a key, the row's kind
#: reads SEALED_KIND and the real kind travels sealed in the detail.
SENSITIVE_KINDS = frozenset({"safety_flag", "safety_disclosure"})
SEALED_KIND = "sealed"


class Audit(Repository):
    """The `events` table. With a key every detail is sealed: details name questions
    (`answered adv_severity[sexual_harm]`), options and choices."""

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
        session = self.session
        stored_kind, stored_detail = kind, detail
        if session.cipher is not None:
            context = interview_id or ""
            if kind in SENSITIVE_KINDS:
                stored_kind = SEALED_KIND
                stored_detail = session.seal(json.dumps([kind, detail]), context)
            elif detail is not None:
                stored_detail = session.seal(detail, context)
        self.conn.execute(
            "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            (interview_id, person_id, stored_kind, stored_detail, ts(now)),
        )

    def of_interview(self, interview_id: str) -> list[Event]:
        """The audit trail of one interview, oldest first."""
        rows = self.conn.execute(
            "SELECT interview_id, person_id, kind, detail, at FROM events "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [self._event(i, p, k, d, a) for i, p, k, d, a in rows]

    def _event(
        self, interview_id: str | None, person_id: int | None, kind: str, detail: str | None,
        at: str,
    ) -> Event:
        detail = self.session.open_opt(detail, interview_id or "")
        if kind == SEALED_KIND and detail is not None:
            kind, detail = json.loads(detail)
        return Event(interview_id, person_id, kind, detail, dt(at))
