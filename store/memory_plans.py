"""The in-memory fake of the plans repository (store/repos/plans.py), for unit tests."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime

from store.plan_records import Note, Plan, PlanChange, PlanItem, Schedule


@dataclass
class PlanTables:
    """Notes, plans and schedules, kept inside the fake's tables (copied with them)."""

    notes: list[Note] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    send_asked: dict[str, datetime] = field(default_factory=dict)
    changes: list[tuple[str, PlanChange]] = field(default_factory=list)
    words: dict[str, tuple[int, datetime]] = field(default_factory=dict)


class MemoryPlans:
    """`PlansRepo` on dicts."""

    def __init__(self, t: PlanTables) -> None:
        self.t = t

    def add_note(self, interview_id: str, body: str, *, author_id: int, now: datetime) -> None:
        self.t.notes.append(Note(len(self.t.notes) + 1, interview_id, author_id, body, now))

    def notes(self, interview_id: str) -> list[Note]:
        return [n for n in self.t.notes if n.interview_id == interview_id]

    def plan(self, interview_id: str) -> Plan | None:
        found = self.t.plans.get(interview_id)
        if found is None:
            return None
        removed = {c.position: c for c in self.changes(interview_id) if c.change == "removed"}
        return dataclasses.replace(found, items=[
            dataclasses.replace(i, status="removed", removed=removed.get(i.position),
                                was_sent=i.status == "sent")
            if i.position in removed else dataclasses.replace(i, was_sent=i.status == "sent")
            for i in found.items])

    def remove_item(
        self, interview_id: str, position: int, reason: str, *, by: int, now: datetime
    ) -> PlanChange:
        self._ensure(interview_id)
        change = PlanChange(position, "removed", reason, by, now)
        self.t.changes.append((interview_id, change))
        return change

    def changes(self, interview_id: str) -> list[PlanChange]:
        return [c for i, c in self.t.changes if i == interview_id]

    def await_words(self, interview_id: str, person_id: int, until: datetime) -> None:
        self.t.words[interview_id] = (person_id, until)

    def awaiting_words(self, person_id: int, now: datetime) -> str | None:
        open_ = [(until, i) for i, (p, until) in self.t.words.items()
                 if p == person_id and until > now]
        return max(open_)[1] if open_ else None

    def keep_words(self, interview_id: str, words: str, *, now: datetime) -> None:
        self.t.words.pop(interview_id, None)
        plan = self._ensure(interview_id)
        self.t.plans[interview_id] = dataclasses.replace(plan, family_words=words, words_at=now)

    def restore(self, interview_id: str, plan: Plan | None, notes: list[Note],
                schedule: Schedule | None, *, by: int, now: datetime) -> None:
        for note in notes:
            self.add_note(interview_id, note.body, author_id=by, now=note.at)
        if plan is not None:
            items = [dataclasses.replace(i, status="sent" if i.was_sent else "planned",
                                         removed=None) for i in plan.items]
            self.t.plans[interview_id] = dataclasses.replace(plan, interview_id=interview_id,
                                                             items=items)
            for item in plan.items:
                if item.removed is not None:
                    self.remove_item(interview_id, item.position, item.removed.reason, by=by,
                                     now=item.removed.at)
        if schedule is not None:
            self.t.schedules[interview_id] = dataclasses.replace(
                schedule, interview_id=interview_id, follow_up_id=None)

    def _ensure(self, interview_id: str) -> Plan:
        return self.t.plans.setdefault(interview_id, Plan(interview_id, None, None, None, []))

    def add_item(
        self, interview_id: str, recommendation: str, wording: str | None, *, now: datetime
    ) -> int:
        plan = self._ensure(interview_id)
        position = max((i.position for i in plan.items), default=0) + 1
        plan.items.append(PlanItem(position, recommendation, wording, "planned"))
        return position

    def set_wording(
        self, interview_id: str, position: int, wording: str, *, now: datetime
    ) -> None:
        plan = self._ensure(interview_id)
        plan.items[:] = [dataclasses.replace(i, wording=wording) if i.position == position
                         else i for i in plan.items]

    def set_review(self, interview_id: str, review_on: date, *, now: datetime) -> None:
        plan = self._ensure(interview_id)
        self.t.plans[interview_id] = dataclasses.replace(plan, review_on=review_on,
                                                         checkin_at=None)

    def mark_sent(self, interview_id: str, *, now: datetime) -> None:
        plan = self._ensure(interview_id)
        items = [dataclasses.replace(i, status="sent") for i in plan.items]
        self.t.plans[interview_id] = dataclasses.replace(plan, sent_at=now, items=items)
        self.t.send_asked.pop(interview_id, None)

    def ask_send(self, interview_id: str, *, now: datetime) -> None:
        self._ensure(interview_id)
        self.t.send_asked[interview_id] = now

    def sends_asked(self, *, limit: int = 200) -> list[str]:
        return sorted(self.t.send_asked, key=lambda i: self.t.send_asked[i])[:limit]

    def drop_send(self, interview_id: str) -> None:
        self.t.send_asked.pop(interview_id, None)

    def checkins_due(self, today: date, *, limit: int = 200) -> list[str]:
        due = [
            p for p in self.t.plans.values()
            if p.checkin_at is None and p.sent_at is not None
            and p.review_on is not None and p.review_on <= today
        ]
        return [p.interview_id for p in sorted(due, key=lambda p: p.review_on or today)][:limit]

    def claim_checkin(self, interview_id: str, *, now: datetime) -> bool:
        plan = self.t.plans.get(interview_id)
        if plan is None or plan.checkin_at is not None:
            return False
        self.t.plans[interview_id] = dataclasses.replace(plan, checkin_at=now)
        return True

    def answer_item(
        self, interview_id: str, position: int, *, tried: str | None = None,
        went: str | None = None, now: datetime,
    ) -> bool:
        plan = self.t.plans.get(interview_id)
        if plan is None:
            return False
        for index, item in enumerate(plan.items):
            if item.position == position:
                change = {"tried": tried} if tried is not None else {"went": went}
                plan.items[index] = dataclasses.replace(item, answered_at=now, **change)
                return True
        return False

    def schedule(self, interview_id: str) -> Schedule | None:
        return self.t.schedules.get(interview_id)

    def set_schedule(self, interview_id: str, months: int | None, next_due: date | None) -> None:
        if months is None or next_due is None:
            self.t.schedules.pop(interview_id, None)
            return
        old = self.t.schedules.get(interview_id)
        self.t.schedules[interview_id] = Schedule(
            interview_id, months, next_due, old.follow_up_id if old else None
        )

    def reassessments_due(self, today: date, *, limit: int = 200) -> list[Schedule]:
        due = [s for s in self.t.schedules.values() if s.next_due <= today]
        return sorted(due, key=lambda s: s.next_due)[:limit]

    def advance(self, interview_id: str, was: date, next_due: date) -> bool:
        old = self.t.schedules.get(interview_id)
        if old is None or old.next_due != was:
            return False
        self.t.schedules[interview_id] = dataclasses.replace(old, next_due=next_due)
        return True

    def set_follow_up(self, interview_id: str, follow_up_id: str) -> None:
        old = self.t.schedules.get(interview_id)
        if old is not None:
            self.t.schedules[interview_id] = dataclasses.replace(old, follow_up_id=follow_up_id)

    def next_due(self, interview_ids: list[str]) -> dict[str, date]:
        return {i: self.t.schedules[i].next_due for i in interview_ids if i in self.t.schedules}

    def erase_interview(self, interview_id: str) -> None:
        self.t.send_asked.pop(interview_id, None)
        self.t.notes = [n for n in self.t.notes if n.interview_id != interview_id]
        self.t.changes = [(i, c) for i, c in self.t.changes if i != interview_id]
        self.t.words.pop(interview_id, None)
        self.t.plans.pop(interview_id, None)
        self.t.schedules.pop(interview_id, None)
        for key, schedule in list(self.t.schedules.items()):
            if schedule.follow_up_id == interview_id:
                self.t.schedules[key] = dataclasses.replace(schedule, follow_up_id=None)

    def erase_family(self, interview_id: str) -> None:
        self.t.send_asked.pop(interview_id, None)
        plan = self.t.plans.get(interview_id)
        if plan is not None:
            items = [dataclasses.replace(i, tried=None, went=None, answered_at=None)
                     for i in plan.items]
            self.t.plans[interview_id] = dataclasses.replace(
                plan, items=items, checkin_at=plan.checkin_at or plan.sent_at,
                family_words=None, words_at=None,
            )
        self.t.words.pop(interview_id, None)
        self.t.schedules.pop(interview_id, None)
