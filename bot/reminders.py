"""A gentle reminder, once, for an interview left paused (off unless the operator sets it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.contract import UnitOfWork


@dataclass(frozen=True)
class Reminder:
    """Who to remind, where, in which language."""

    interview_id: str
    chat_id: str
    locale: str
    answered: int


def due_reminders(repo: UnitOfWork, channel: str, now: datetime, idle: timedelta) -> list[Reminder]:
    """Pick interviews paused for longer than `idle` and mark each reminded (at most once).

    Runs inside one store transaction: the "reminded" event is committed before anything is
    sent, so a crash or a second worker never sends a second reminder.
    """
    due: list[Reminder] = []
    for interview in repo.interviews.paused_unreminded(now - idle):
        assert interview.respondent_id is not None
        person = repo.people.by_id(interview.respondent_id)
        if person is None or person.channel != channel:
            continue
        chat = repo.people.chat_of(person.id)
        if chat is None:
            continue
        answered = sum(
            1 for value, _ in repo.answers.current(interview.id).values() if value is not None
        )
        repo.audit.add("reminded", interview_id=interview.id, person_id=None, now=now)
        due.append(Reminder(interview.id, chat, person.locale, answered))
    return due
