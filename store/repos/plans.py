"""Notes, plans, check-in answers and re-assessment schedules (migration 0010).

The notes' text, each item's recommendation and wording, and the family's check-in
answers are sealed with the interview id as context, like answers.
"""

from __future__ import annotations

from datetime import date, datetime

from store.plan_records import Note, Plan, PlanItem, Schedule
from store.repos.base import dt, ts
from store.repos.plan_changes import PlanChanges


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


class Plans(PlanChanges):
    """The `clinician_notes`, `plans`, `plan_items` and `reassessments` tables."""

    # -- notes ---------------------------------------------------------------------------

    def add_note(self, interview_id: str, body: str, *, author_id: int, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO clinician_notes (interview_id, author_id, body, at) VALUES (?, ?, ?, ?)",
            (interview_id, author_id, self.session.seal(body, interview_id), ts(now)),
        )

    def notes(self, interview_id: str) -> list[Note]:
        rows = self.conn.execute(
            "SELECT id, author_id, body, at FROM clinician_notes WHERE interview_id = ? "
            "ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [
            Note(int(r[0]), interview_id, int(r[1]), self.session.open(str(r[2]), interview_id),
                 dt(r[3]))
            for r in rows
        ]

    # -- the plan ------------------------------------------------------------------------

    def plan(self, interview_id: str) -> Plan | None:
        row = self.conn.execute(
            "SELECT review_on, sent_at, checkin_at, family_words, words_at FROM plans "
            "WHERE interview_id = ?",
            (interview_id,),
        ).fetchone()
        if row is None:
            return None
        open_ = self.session.open_opt
        removed = {c.position: c for c in self.changes(interview_id) if c.change == "removed"}
        items = [
            PlanItem(
                position=int(r[0]),
                recommendation=self.session.open(str(r[1]), interview_id),
                wording=open_(r[2], interview_id),
                status="removed" if int(r[0]) in removed else str(r[3]),
                tried=open_(r[4], interview_id),
                went=open_(r[5], interview_id),
                answered_at=None if r[6] is None else dt(r[6]),
                removed=removed.get(int(r[0])),
                was_sent=r[3] == "sent",
            )
            for r in self.conn.execute(
                "SELECT position, recommendation, wording, status, tried, went, answered_at "
                "FROM plan_items WHERE interview_id = ? ORDER BY position",
                (interview_id,),
            ).fetchall()
        ]
        return Plan(interview_id, _day(row[0]), None if row[1] is None else dt(row[1]),
                    None if row[2] is None else dt(row[2]), items,
                    open_(row[3], interview_id), None if row[4] is None else dt(row[4]))

    def _ensure(self, interview_id: str, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO plans (interview_id, updated_at) VALUES (?, ?) "
            "ON CONFLICT (interview_id) DO UPDATE SET updated_at = excluded.updated_at",
            (interview_id, ts(now)),
        )

    def add_item(
        self, interview_id: str, recommendation: str, wording: str | None, *, now: datetime
    ) -> int:
        """Add an item at the end of the plan; its position (1, 2, ...)."""
        self._ensure(interview_id, now)
        row = self.conn.execute(
            "SELECT COALESCE(MAX(position), 0) FROM plan_items WHERE interview_id = ?",
            (interview_id,),
        ).fetchone()
        position = int(row[0]) + 1
        seal = self.session.seal
        self.conn.execute(
            "INSERT INTO plan_items (interview_id, position, recommendation, wording) "
            "VALUES (?, ?, ?, ?)",
            (interview_id, position, seal(recommendation, interview_id),
             self.session.seal_opt(wording, interview_id)),
        )
        return position

    def set_wording(
        self, interview_id: str, position: int, wording: str, *, now: datetime
    ) -> None:
        """New words for the family for one item (sent again with the plan)."""
        self._ensure(interview_id, now)
        self.conn.execute(
            "UPDATE plan_items SET wording = ? WHERE interview_id = ? AND position = ?",
            (self.session.seal(wording, interview_id), interview_id, position),
        )

    def set_review(self, interview_id: str, review_on: date, *, now: datetime) -> None:
        """Set the review date; a new date means a new check-in (once more, at that date)."""
        self._ensure(interview_id, now)
        self.conn.execute(
            "UPDATE plans SET review_on = ?, checkin_at = NULL WHERE interview_id = ?",
            (review_on.isoformat(), interview_id),
        )

    def mark_sent(self, interview_id: str, *, now: datetime) -> None:
        self._ensure(interview_id, now)
        self.conn.execute(
            "UPDATE plans SET sent_at = ?, send_asked_at = NULL WHERE interview_id = ?",
            (ts(now), interview_id),
        )
        self.conn.execute(
            "UPDATE plan_items SET status = 'sent' WHERE interview_id = ?", (interview_id,)
        )

    def ask_send(self, interview_id: str, *, now: datetime) -> None:
        """Send the plan at the scheduler's next look (asked from the web workspace)."""
        self._ensure(interview_id, now)
        self.conn.execute(
            "UPDATE plans SET send_asked_at = ? WHERE interview_id = ?", (ts(now), interview_id)
        )

    def sends_asked(self, *, limit: int = 200) -> list[str]:
        rows = self.conn.execute(
            "SELECT interview_id FROM plans WHERE send_asked_at IS NOT NULL "
            "ORDER BY send_asked_at LIMIT ?",
            (limit,),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def drop_send(self, interview_id: str) -> None:
        """Nothing to send after all (no family to reach)."""
        self.conn.execute(
            "UPDATE plans SET send_asked_at = NULL WHERE interview_id = ?", (interview_id,)
        )

    def checkins_due(self, today: date, *, limit: int = 200) -> list[str]:
        """Sent plans whose review date has come and whose check-in has not gone yet."""
        rows = self.conn.execute(
            "SELECT interview_id FROM plans WHERE checkin_at IS NULL AND sent_at IS NOT NULL "
            "AND review_on <= ? ORDER BY review_on LIMIT ?",
            (today.isoformat(), limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def claim_checkin(self, interview_id: str, *, now: datetime) -> bool:
        """Mark the check-in sent; False if it already was (another worker, a restart)."""
        cur = self.conn.execute(
            "UPDATE plans SET checkin_at = ? WHERE interview_id = ? AND checkin_at IS NULL",
            (ts(now), interview_id),
        )
        return int(cur.rowcount) == 1

    def answer_item(
        self, interview_id: str, position: int, *, tried: str | None = None,
        went: str | None = None, now: datetime,
    ) -> bool:
        """Record one check-in answer (what was tried, or how it went); False: no such item."""
        column, value = ("tried", tried) if tried is not None else ("went", went)
        assert value is not None
        cur = self.conn.execute(
            f"UPDATE plan_items SET {column} = ?, answered_at = ? "
            "WHERE interview_id = ? AND position = ?",
            (self.session.seal(value, interview_id), ts(now), interview_id, position),
        )
        return int(cur.rowcount) == 1

    # -- re-assessment -------------------------------------------------------------------

    def schedule(self, interview_id: str) -> Schedule | None:
        row = self.conn.execute(
            "SELECT months, next_due, follow_up_id FROM reassessments WHERE interview_id = ?",
            (interview_id,),
        ).fetchone()
        if row is None:
            return None
        return Schedule(interview_id, int(row[0]), date.fromisoformat(row[1]), row[2])

    def set_schedule(self, interview_id: str, months: int | None, next_due: date | None) -> None:
        """Every `months` months from `next_due`; None stops it."""
        if months is None or next_due is None:
            self.conn.execute("DELETE FROM reassessments WHERE interview_id = ?", (interview_id,))
            return
        self.conn.execute(
            "INSERT INTO reassessments (interview_id, months, next_due) VALUES (?, ?, ?) "
            "ON CONFLICT (interview_id) DO UPDATE SET months = excluded.months, "
            "next_due = excluded.next_due",
            (interview_id, months, next_due.isoformat()),
        )

    def reassessments_due(self, today: date, *, limit: int = 200) -> list[Schedule]:
        rows = self.conn.execute(
            "SELECT interview_id, months, next_due, follow_up_id FROM reassessments "
            "WHERE next_due <= ? ORDER BY next_due LIMIT ?",
            (today.isoformat(), limit),
        ).fetchall()
        return [Schedule(str(r[0]), int(r[1]), date.fromisoformat(r[2]), r[3]) for r in rows]

    def advance(self, interview_id: str, was: date, next_due: date) -> bool:
        """Move a due schedule on to its next date; False if someone else already did (a
        second worker): whoever moves it sends the reminder."""
        cur = self.conn.execute(
            "UPDATE reassessments SET next_due = ? WHERE interview_id = ? AND next_due = ?",
            (next_due.isoformat(), interview_id, was.isoformat()),
        )
        return int(cur.rowcount) == 1

    def set_follow_up(self, interview_id: str, follow_up_id: str) -> None:
        """The follow-up interview the schedule last started."""
        self.conn.execute(
            "UPDATE reassessments SET follow_up_id = ? WHERE interview_id = ?",
            (follow_up_id, interview_id),
        )

    def next_due(self, interview_ids: list[str]) -> dict[str, date]:
        """Each scheduled interview's next re-assessment date (for the caseload)."""
        found: dict[str, date] = {}
        for start in range(0, len(interview_ids), 500):
            chunk = interview_ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT interview_id, next_due FROM reassessments WHERE interview_id IN ({marks})",
                chunk,
            ).fetchall():
                found[str(row[0])] = date.fromisoformat(row[1])
        return found

    # -- erasure -------------------------------------------------------------------------

    def erase_interview(self, interview_id: str) -> None:
        """Everything about an interview erased whole."""
        for table in ("clinician_notes", "plan_items", "plan_item_changes", "plans",
                      "reassessments"):
            self.conn.execute(f"DELETE FROM {table} WHERE interview_id = ?", (interview_id,))
        # A schedule elsewhere that started this interview forgets it.
        self.conn.execute(
            "UPDATE reassessments SET follow_up_id = NULL WHERE follow_up_id = ?", (interview_id,)
        )

    def erase_family(self, interview_id: str) -> None:
        """The family left a clinician's interview: its check-in answers go, and no more
        reminders or re-assessments are sent to no one."""
        self.conn.execute(
            "UPDATE plan_items SET tried = NULL, went = NULL, answered_at = NULL "
            "WHERE interview_id = ?",
            (interview_id,),
        )
        self.conn.execute("DELETE FROM reassessments WHERE interview_id = ?", (interview_id,))
        self.conn.execute(
            "UPDATE plans SET checkin_at = COALESCE(checkin_at, updated_at), send_asked_at = NULL, "
            "family_words = NULL, words_at = NULL, words_from = NULL, words_until = NULL "
            "WHERE interview_id = ?",
            (interview_id,),
        )
