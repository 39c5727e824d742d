"""Teams: organisations, their members, and handing an interview to another clinician."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.access import is_clinician, may_transfer
from store.contract import UnitOfWork
from store.records import InterviewRecord, Organisation, Person
from store.repos.teams import MEMBER_ROLES

__all__ = ["MEMBER_ROLES", "Transfer", "add_member", "may_receive", "transfer"]


@dataclass(frozen=True)
class Transfer:
    """An interview handed on: from whom, to whom."""

    interview: InterviewRecord
    previous: Person | None
    heir: Person


def may_receive(uow: UnitOfWork, interview: InterviewRecord, heir: Person) -> bool:
    """Who may be handed an interview: a registered clinician other than its owner, and,
    when the owner belongs to organisations, a member of one of them (an interview stays
    inside its team; docs/clinicians.md "Teams and transfer")."""
    if not is_clinician(heir) or heir.id == interview.owner_id:
        return False
    orgs = {m.org_id for m in uow.teams.memberships_of(interview.owner_id)}
    if not orgs:
        return True
    return any(m.org_id in orgs for m in uow.teams.memberships_of(heir.id))


def transfer(
    uow: UnitOfWork,
    interview: InterviewRecord,
    heir: Person,
    *,
    by: Person | None,
    now: datetime,
) -> Transfer | None:
    """Hand `interview` to `heir`, audited (`transferred`, "<from>:<to>", by whom).

    `by` None is the operator (the CLI); a person must be allowed (bot/access.py
    `may_transfer`). None, with nothing changed, when the move is not allowed. The former
    owner loses access at once: every check reads the owner from the store; if they were
    answering it themselves, that stops too.
    """
    if by is not None and not may_transfer(uow, by, interview):
        return None
    if not may_receive(uow, interview, heir):
        return None
    previous = uow.people.by_id(interview.owner_id)
    uow.interviews.transfer_one(interview.id, heir.id, now=now)
    if previous is not None and previous.active_interview == interview.id:
        previous.active_interview = None
        uow.people.save(previous)
    uow.audit.add(
        "transferred", interview_id=interview.id, person_id=by.id if by else None, now=now,
        detail=f"{interview.owner_id}:{heir.id}",
    )
    moved = uow.interviews.get(interview.id)
    assert moved is not None
    return Transfer(moved, previous, heir)


def add_member(
    uow: UnitOfWork, org: Organisation, person: Person, role: str, *, by: int | None,
    now: datetime,
) -> None:
    """Put a clinician in an organisation (or change their role there), audited."""
    uow.teams.set_member(org.id, person.id, role, now=now)
    uow.audit.add("member", interview_id=None, person_id=by, now=now,
                  detail=f"{org.id}:{person.id}:{role}")
