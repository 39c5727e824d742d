"""Kept changes of plan items (migration 0015: today their removal, append-only), the
family's own words at the check-in, and a plan written back whole by `hearth import`."""

from __future__ import annotations

from datetime import datetime

from store.plan_records import Note, Plan, PlanChange, Schedule
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

    def await_words(self, interview_id: str, person_id: int, until: datetime) -> None:
        """The family's next typed message, until `until`, is their words on the check-in."""
        self.conn.execute(
            "UPDATE plans SET words_from = ?, words_until = ? WHERE interview_id = ?",
            (person_id, ts(until), interview_id),
        )

    def awaiting_words(self, person_id: int, now: datetime) -> str | None:
        """The interview whose check-in awaits this person's words now, if any."""
        row = self.conn.execute(
            "SELECT interview_id FROM plans WHERE words_from = ? AND words_until > ? "
            "ORDER BY words_until DESC LIMIT 1",
            (person_id, ts(now)),
        ).fetchone()
        return None if row is None else str(row[0])

    def keep_words(self, interview_id: str, words: str, *, now: datetime) -> None:
        """Keep the family's words (sealed); no more are awaited."""
        self.conn.execute(
            "UPDATE plans SET family_words = ?, words_at = ?, words_from = NULL, "
            "words_until = NULL WHERE interview_id = ?",
            (self.session.seal(words, interview_id), ts(now), interview_id),
        )

    def changes(self, interview_id: str) -> list[PlanChange]:
        """Every kept change of the plan's items, oldest first."""
        rows = self.conn.execute(
            "SELECT position, change, reason, author_id, at FROM plan_item_changes "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [PlanChange(int(r[0]), str(r[1]), self.session.open(str(r[2]), interview_id),
                           None if r[3] is None else int(r[3]), dt(r[4])) for r in rows]

    def restore(self, interview_id: str, plan: Plan | None, notes: list[Note],
                schedule: Schedule | None, *, by: int, now: datetime) -> None:
        """Write an imported interview's notes, plan and schedule as they were exported:
        items with their state and check-in answers, removals, dates. `by` (the clinician
        the import names) authors what the exporting server's people wrote: their person
        numbers mean nothing here. Sealed as every write is."""
        seal, seal_opt = self.session.seal, self.session.seal_opt
        for note in notes:
            self.conn.execute(
                "INSERT INTO clinician_notes (interview_id, author_id, body, at) "
                "VALUES (?, ?, ?, ?)",
                (interview_id, by, seal(note.body, interview_id), ts(note.at)),
            )
        if plan is not None:
            moments = [d for d in (plan.sent_at, plan.checkin_at) if d is not None]
            updated = max(moments, default=now)
            self.conn.execute(
                "INSERT INTO plans (interview_id, review_on, sent_at, checkin_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (interview_id, plan.review_on.isoformat() if plan.review_on else None,
                 ts(plan.sent_at) if plan.sent_at else None,
                 ts(plan.checkin_at) if plan.checkin_at else None, ts(updated)),
            )
            if plan.family_words is not None:
                self.keep_words(interview_id, plan.family_words, now=plan.words_at or now)
            for item in plan.items:
                self.conn.execute(
                    "INSERT INTO plan_items (interview_id, position, recommendation, wording, "
                    "status, tried, went, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (interview_id, item.position, seal(item.recommendation, interview_id),
                     seal_opt(item.wording, interview_id),
                     "sent" if item.was_sent else "planned",
                     seal_opt(item.tried, interview_id), seal_opt(item.went, interview_id),
                     ts(item.answered_at) if item.answered_at else None),
                )
                if item.removed is not None:
                    self.remove_item(interview_id, item.position, item.removed.reason, by=by,
                                     now=item.removed.at)
        if schedule is not None:
            self.conn.execute(
                "INSERT INTO reassessments (interview_id, months, next_due) VALUES (?, ?, ?)",
                (interview_id, schedule.months, schedule.next_due.isoformat()),
            )
