"""An in-memory unit of work and back end: the store contract on dicts, for fast unit tests.

It keeps the promises features rely on (append-only answers with skip counts, one
outcome per delivery key, a step rolled back whole when it raises) without SQL. The real
SQLite and PostgreSQL stores are exercised by the integration tests; book-club week
claims, which are about races between workers, exist only there.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from store.cipher import Cipher
from store.contract import UnitOfWork
from store.errors import Conflict
from store.memory_inbox import MemoryInbox
from store.memory_incoming import IncomingRows, MemoryIncoming
from store.memory_plans import MemoryPlans, PlanTables
from store.records import (
    AnswerRevision,
    Arrival,
    CaseloadRow,
    ClinicLink,
    ClinicSession,
    Erasure,
    Event,
    InterviewRecord,
    Invite,
    Membership,
    Organisation,
    Person,
    Rating,
    ResumeCode,
    WebSession,
)
from store.repos.inbox import InboxEntry
from store.repos.interviews import new_interview_id
from store.repos.teams import MEMBER_ROLES

if TYPE_CHECKING:
    from store.bookclub import ClubRecord, WeekDelivery

T = TypeVar("T")


@dataclass
class _Row:
    """One stored answer revision."""

    id: int
    interview_id: str
    item_key: str
    revision: int
    value: object | None
    by: int | None
    at: datetime


@dataclass
class _Tables:
    """Everything the fake holds; copied before a step so a failing step leaves no trace."""

    people: dict[int, Person] = field(default_factory=dict)
    low_exposure: set[int] = field(default_factory=set)
    chats: dict[int, str] = field(default_factory=dict)
    interviews: dict[str, InterviewRecord] = field(default_factory=dict)
    follow_ups: dict[str, str] = field(default_factory=dict)
    informants: dict[str, tuple[str, str]] = field(default_factory=dict)
    answers: list[_Row] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    invites: dict[str, Invite] = field(default_factory=dict)
    resume_codes: dict[str, ResumeCode] = field(default_factory=dict)
    attempts: list[tuple[int, str, datetime]] = field(default_factory=list)
    erasures: dict[int, datetime] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    clubs: dict[tuple[str, str], ClubRecord] = field(default_factory=dict)
    pending: dict[int, tuple[str, int, datetime]] = field(default_factory=dict)
    reflections: list[tuple[int, str, int, str, datetime]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    web_sessions: dict[str, WebSession] = field(default_factory=dict)
    plans: PlanTables = field(default_factory=PlanTables)
    inbox: list[InboxEntry] = field(default_factory=list)
    return_links: dict[str, tuple[int, datetime, datetime, datetime | None]] = field(
        default_factory=dict)
    incoming: IncomingRows = field(default_factory=dict)
    orgs: dict[int, Organisation] = field(default_factory=dict)
    members: dict[tuple[int, int], Membership] = field(default_factory=dict)
    ratings: list[Rating] = field(default_factory=list)
    clinic_links: dict[str, ClinicLink] = field(default_factory=dict)
    clinic_sessions: dict[str, ClinicSession] = field(default_factory=dict)


class _People:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get_or_create(
        self, channel: str, external_id: str, *, now: datetime, locale: str = "en"
    ) -> Person:
        found = self.find(channel, external_id)
        if found is not None:
            return found
        person = Person(next(self.t.ids), channel, external_id, "caregiver", locale, None)
        self.t.people[person.id] = copy.copy(person)
        return person

    def find(self, channel: str, external_id: str) -> Person | None:
        for person in self.t.people.values():
            if person.channel == channel and person.external_id == external_id:
                return copy.copy(person)
        return None

    def by_id(self, person_id: int) -> Person | None:
        person = self.t.people.get(person_id)
        return copy.copy(person) if person else None

    def save(self, person: Person) -> None:
        self.t.people[person.id] = copy.copy(person)

    def set_role(self, person_id: int, role: str) -> None:
        self.t.people[person_id].role = role

    def low_exposure(self, person_id: int) -> bool:
        return person_id in self.t.low_exposure

    def set_low_exposure(self, person_id: int, on: bool) -> None:
        (self.t.low_exposure.add if on else self.t.low_exposure.discard)(person_id)

    def remember_chat(self, person_id: int, chat_id: str) -> None:
        self.t.chats[person_id] = chat_id

    def chat_of(self, person_id: int) -> str | None:
        person = self.t.people.get(person_id)
        return None if person is None else self.t.chats.get(person_id, person.external_id)

    def arrive(
        self, channel: str, external_id: str, chat_id: str | None, *, now: datetime,
        locale: str = "en",
    ) -> Arrival:
        person = self.get_or_create(channel, external_id, now=now, locale=locale)
        if chat_id is not None:
            self.remember_chat(person.id, chat_id)
        return Arrival(person, self.low_exposure(person.id), self.t.erasures.get(person.id),
                       self.t.pending.get(person.id))


class _Interviews:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def create(
        self,
        *,
        flow_id: str,
        flow_version: int,
        owner_id: int,
        respondent_id: int | None,
        nickname: str | None,
        state: str,
        now: datetime,
    ) -> InterviewRecord:
        record = InterviewRecord(
            new_interview_id(), flow_id, flow_version, owner_id, respondent_id, nickname,
            state, False, None, 0, None, now, now, None,
        )
        self.t.interviews[record.id] = copy.deepcopy(record)
        return record

    def get(self, interview_id: str) -> InterviewRecord | None:
        record = self.t.interviews.get(interview_id)
        return copy.deepcopy(record) if record else None

    def get_versioned(
        self, interview_id: str
    ) -> tuple[InterviewRecord, tuple[int, int]] | None:
        record = self.get(interview_id)
        version = _Answers(self.t).version(interview_id)
        return None if record is None or version is None else (record, version)

    def save(self, record: InterviewRecord) -> None:
        self.t.interviews[record.id] = copy.deepcopy(record)

    def _recent(self, keep: Callable[[InterviewRecord], bool], limit: int) -> list[InterviewRecord]:
        found = [copy.deepcopy(r) for r in self.t.interviews.values() if keep(r)]
        return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]

    def of_person(self, person_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        return self._recent(lambda r: person_id in (r.owner_id, r.respondent_id), limit)

    def owned_by(self, owner_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        return self._recent(lambda r: r.owner_id == owner_id, limit)

    def all(self, *, flow_id: str | None = None) -> list[InterviewRecord]:
        found = [
            copy.deepcopy(r)
            for r in self.t.interviews.values()
            if flow_id is None or r.flow_id == flow_id
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    def paused_unreminded(
        self, idle_before: datetime, *, limit: int = 200
    ) -> list[InterviewRecord]:
        reminded = {e.interview_id for e in self.t.events if e.kind == "reminded"}
        found = [
            copy.deepcopy(r)
            for r in self.t.interviews.values()
            if r.state == "paused"
            and r.updated_at < idle_before
            and r.respondent_id is not None
            and r.id not in reminded
        ]
        return sorted(found, key=lambda r: r.updated_at)[:limit]

    def transfer_owner(self, from_id: int, to_id: int, *, now: datetime) -> list[str]:
        moved = sorted(i for i, r in self.t.interviews.items() if r.owner_id == from_id)
        for interview_id in moved:
            record = self.t.interviews[interview_id]
            record.owner_id, record.revision, record.updated_at = to_id, record.revision + 1, now
            if record.respondent_id == from_id:
                record.respondent_id = None
        return moved

    def transfer_one(self, interview_id: str, to_id: int, *, now: datetime) -> None:
        record = self.t.interviews[interview_id]
        if record.respondent_id == record.owner_id:
            record.respondent_id = None
        record.owner_id, record.revision, record.updated_at = to_id, record.revision + 1, now

    def set_follow_up_of(self, interview_id: str, earlier_id: str) -> None:
        self.t.follow_ups[interview_id] = earlier_id

    def follow_up_of(self, interview_id: str) -> str | None:
        return self.t.follow_ups.get(interview_id)

    def set_informant_of(self, interview_id: str, primary_id: str, role: str) -> None:
        self.t.informants[interview_id] = (primary_id, role)

    def informant_of(self, interview_id: str) -> tuple[str, str] | None:
        return self.t.informants.get(interview_id) if interview_id in self.t.interviews else None

    def informants_of(self, primary_id: str) -> list[tuple[InterviewRecord, str]]:
        found = [(self.t.interviews[i], role) for i, (p, role) in self.t.informants.items()
                 if p == primary_id and i in self.t.interviews]
        return sorted(found, key=lambda pair: (pair[0].created_at, pair[0].id))


class _Answers:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def version(self, interview_id: str) -> tuple[int, int] | None:
        record = self.t.interviews.get(interview_id)
        if record is None:
            return None
        # As in SQL: the newest row of an interview (ids only grow) is always a current
        # answer; rows leave only with a revision bump.
        ids = [r.id for r in self.t.answers if r.interview_id == interview_id]
        return record.revision, max(ids, default=0)

    def current(self, interview_id: str) -> dict[str, tuple[object | None, int]]:
        current: dict[str, tuple[object | None, int]] = {}
        for row in self.t.answers:
            if row.interview_id != interview_id:
                continue
            skips = current.get(row.item_key, (None, 0))[1]
            is_skip = row.value is None
            current[row.item_key] = (copy.deepcopy(row.value), skips + 1 if is_skip else 0)
        return current

    def append(
        self,
        interview_id: str,
        item_key: str,
        value: object | None,
        *,
        revision: int,
        by: int | None,
        now: datetime,
    ) -> int:
        row = _Row(
            next(self.t.ids), interview_id, item_key, revision, copy.deepcopy(value), by, now
        )
        self.t.answers.append(row)
        return row.id

    def count(self, interview_id: str) -> int:
        return sum(1 for r in self.t.answers if r.interview_id == interview_id)

    def history(self, interview_id: str) -> list[AnswerRevision]:
        return [
            AnswerRevision(r.item_key, r.revision, copy.deepcopy(r.value), r.by, r.at)
            for r in self.t.answers
            if r.interview_id == interview_id
        ]

    def last_at(self, interview_id: str) -> datetime | None:
        times = [r.at for r in self.t.answers if r.interview_id == interview_id]
        return max(times) if times else None


class _Audit:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add(
        self,
        kind: str,
        *,
        interview_id: str | None,
        person_id: int | None,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        self.t.events.append(Event(interview_id, person_id, kind, detail, now))

    def of_interview(self, interview_id: str) -> list[Event]:
        return [e for e in self.t.events if e.interview_id == interview_id]


class _Access:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add_invite(
        self,
        code_hash: str,
        *,
        interview_id: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.t.invites[code_hash] = Invite(
            code_hash, interview_id, created_by, now, expires_at, None, None
        )

    def invite(self, code_hash: str) -> Invite | None:
        return self.t.invites.get(code_hash)

    def use_invite(self, code_hash: str, *, person_id: int, now: datetime) -> bool:
        invite = self.t.invites.get(code_hash)
        if invite is None or invite.used_at is not None:
            return False
        self.t.invites[code_hash] = dataclasses.replace(invite, used_at=now, used_by=person_id)
        return True

    def revoke_invites(self, interview_id: str, *, now: datetime) -> int:
        unused = [
            k for k, v in self.t.invites.items()
            if v.interview_id == interview_id and v.used_at is None
        ]
        for key in unused:
            self.t.invites[key] = dataclasses.replace(self.t.invites[key], used_at=now)
        return len(unused)

    def has_created_invites(self, person_id: int) -> bool:
        return any(v.created_by == person_id for v in self.t.invites.values())

    def add_resume_code(
        self,
        code_hash: str,
        *,
        interview_id: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.drop_resume_codes(interview_id)
        self.t.resume_codes[code_hash] = ResumeCode(
            code_hash, interview_id, created_by, now, expires_at, None
        )

    def resume_code(self, code_hash: str) -> ResumeCode | None:
        return self.t.resume_codes.get(code_hash)

    def use_resume_code(self, code_hash: str, *, now: datetime) -> bool:
        found = self.t.resume_codes.get(code_hash)
        if found is None or found.used_at is not None:
            return False
        self.t.resume_codes[code_hash] = dataclasses.replace(found, used_at=now)
        return True

    def drop_resume_codes(self, interview_id: str) -> int:
        gone = [k for k, v in self.t.resume_codes.items() if v.interview_id == interview_id]
        for key in gone:
            del self.t.resume_codes[key]
        return len(gone)

    def prune_resume_codes(self, before: datetime) -> int:
        gone = [k for k, v in self.t.resume_codes.items() if v.expires_at < before]
        for key in gone:
            del self.t.resume_codes[key]
        return len(gone)

    def add_attempt(self, person_id: int, kind: str, *, now: datetime) -> None:
        self.t.attempts.append((person_id, kind, now))

    def forget_attempts(self, person_id: int, kind: str, before: datetime) -> None:
        self.t.attempts = [
            a
            for a in self.t.attempts
            if not (a[0] == person_id and a[1] == kind and a[2] <= before)
        ]

    def _since(self, person_id: int, kind: str, since: datetime) -> list[datetime]:
        return [
            a[2] for a in self.t.attempts if a[0] == person_id and a[1] == kind and a[2] > since
        ]

    def attempts_since(self, person_id: int, kind: str, since: datetime) -> int:
        return len(self._since(person_id, kind, since))

    def oldest_attempt_since(self, person_id: int, kind: str, since: datetime) -> datetime | None:
        times = self._since(person_id, kind, since)
        return min(times) if times else None

    def request_erasure(self, person_id: int, *, now: datetime) -> None:
        self.t.erasures[person_id] = now

    def erasure_requested_at(self, person_id: int) -> datetime | None:
        return self.t.erasures.get(person_id)

    def cancel_erasure(self, person_id: int) -> None:
        self.t.erasures.pop(person_id, None)


class _Deliveries:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def outcome(self, channel: str, delivery_id: str) -> str | None:
        found = self.t.deliveries.get((channel, delivery_id))
        return None if found is None else found[0]

    def record(self, channel: str, delivery_id: str, outcome: str, now: datetime) -> None:
        if (channel, delivery_id) in self.t.deliveries:
            raise Conflict(f"delivery {channel}/{delivery_id} was recorded already")
        self.t.deliveries[(channel, delivery_id)] = (outcome, now)

    def prune(self, before: datetime) -> int:
        old = [k for k, (_, at) in self.t.deliveries.items() if at < before]
        for key in old:
            del self.t.deliveries[key]
        return len(old)


class _WebSessions:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add(self, token_hash: str, user_id: str, *, now: datetime) -> None:
        if token_hash in self.t.web_sessions:
            raise Conflict("web session exists")
        self.t.web_sessions[token_hash] = WebSession(token_hash, user_id, now, now)

    def get(self, token_hash: str) -> WebSession | None:
        return self.t.web_sessions.get(token_hash)

    def seen(self, token_hash: str, *, now: datetime) -> None:
        found = self.t.web_sessions.get(token_hash)
        if found is not None:
            self.t.web_sessions[token_hash] = dataclasses.replace(found, seen_at=now)

    def end(self, token_hash: str) -> None:
        self.t.web_sessions.pop(token_hash, None)

    def prune(self, *, idle_before: datetime, created_before: datetime) -> int:
        old = [
            k for k, s in self.t.web_sessions.items()
            if s.seen_at < idle_before or s.created_at < created_before
        ]
        for key in old:
            del self.t.web_sessions[key]
        return len(old)

    def erase_user(self, user_id: str) -> None:
        for key in [k for k, s in self.t.web_sessions.items() if s.user_id == user_id]:
            del self.t.web_sessions[key]


class _Clinic:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add_link(self, token_hash: str, person_id: int, *, now: datetime,
                 expires_at: datetime) -> None:
        if token_hash in self.t.clinic_links:
            raise Conflict("clinic link exists")
        self.t.clinic_links[token_hash] = ClinicLink(token_hash, person_id, now, expires_at, None)

    def link(self, token_hash: str) -> ClinicLink | None:
        return self.t.clinic_links.get(token_hash)

    def use_link(self, token_hash: str, *, now: datetime) -> bool:
        found = self.t.clinic_links.get(token_hash)
        if found is None or found.used_at is not None:
            return False
        self.t.clinic_links[token_hash] = dataclasses.replace(found, used_at=now)
        return True

    def links_since(self, person_id: int, since: datetime) -> int:
        return sum(1 for k in self.t.clinic_links.values()
                   if k.person_id == person_id and k.created_at > since)

    def prune_links(self, before: datetime) -> int:
        old = [h for h, k in self.t.clinic_links.items() if k.expires_at < before]
        for key in old:
            del self.t.clinic_links[key]
        return len(old)

    def add_session(self, token_hash: str, person_id: int, *, now: datetime) -> None:
        if token_hash in self.t.clinic_sessions:
            raise Conflict("clinic session exists")
        self.t.clinic_sessions[token_hash] = ClinicSession(token_hash, person_id, now, now)

    def session_of(self, token_hash: str) -> ClinicSession | None:
        return self.t.clinic_sessions.get(token_hash)

    def seen(self, token_hash: str, *, now: datetime) -> None:
        found = self.t.clinic_sessions.get(token_hash)
        if found is not None:
            self.t.clinic_sessions[token_hash] = dataclasses.replace(found, seen_at=now)

    def end_session(self, token_hash: str) -> None:
        self.t.clinic_sessions.pop(token_hash, None)

    def end_sessions_of(self, person_id: int) -> int:
        for key in [h for h, k in self.t.clinic_links.items() if k.person_id == person_id]:
            del self.t.clinic_links[key]
        mine = [h for h, s in self.t.clinic_sessions.items() if s.person_id == person_id]
        for key in mine:
            del self.t.clinic_sessions[key]
        return len(mine)

    def prune_sessions(self, *, idle_before: datetime, created_before: datetime) -> int:
        old = [h for h, s in self.t.clinic_sessions.items()
               if s.seen_at < idle_before or s.created_at < created_before]
        for key in old:
            del self.t.clinic_sessions[key]
        return len(old)

    def _caseload(self, keep: Callable[[InterviewRecord], bool]) -> list[CaseloadRow]:
        t = self.t
        flags = ("safety_flag", "safety_disclosure", "sealed")
        open_states = ("consent", "answering", "paused", "review")
        rows = []
        for r in t.interviews.values():
            if not keep(r):
                continue
            latest: dict[str, object | None] = {}
            for a in t.answers:
                if a.interview_id == r.id:
                    latest[a.item_key] = a.value
            linked = t.informants.get(r.id)
            rows.append(CaseloadRow(
                interview_id=r.id, flow_id=r.flow_id, flow_version=r.flow_version,
                state=r.state, nickname=r.subject_nickname, claimed=r.respondent_id is not None,
                created_at=r.created_at, updated_at=r.updated_at, submitted_at=r.submitted_at,
                answered=sum(1 for v in latest.values() if v is not None),
                flags=sum(1 for e in t.events if e.interview_id == r.id and e.kind in flags),
                follow_ups_open=sum(
                    1 for f, earlier in t.follow_ups.items()
                    if earlier == r.id and f in t.interviews
                    and t.interviews[f].state in open_states
                ),
                informant_of=linked[0] if linked else None,
            ))
        return rows


    def caseload(self, owner_id: int, *, nicknames: bool = True,
                 answered: bool = True) -> list[CaseloadRow]:
        return [
            dataclasses.replace(r, nickname=r.nickname if nicknames else None,
                                answered=r.answered if answered else 0)
            for r in self._caseload(lambda r: r.owner_id == owner_id)
        ]

    def caseload_page(self, owner_id: int | list[int], *, state: str | None, flagged: bool,
                      follow_up: bool, sort: str, descending: bool, offset: int,
                      limit: int) -> tuple[int, list[CaseloadRow]]:
        ranks = ("consent", "answering", "paused", "review", "submitted", "withdrawn")
        keys: dict[str, Callable[[CaseloadRow], tuple[object, ...]]] = {
            "activity": lambda r: (r.updated_at, r.interview_id),
            "created": lambda r: (r.created_at, r.interview_id),
            "state": lambda r: (ranks.index(r.state) if r.state in ranks else 99,
                                r.updated_at, r.interview_id),
            "flags": lambda r: (r.flags, r.updated_at, r.interview_id),
            "progress": lambda r: (r.answered, r.interview_id),
        }
        owners = [owner_id] if isinstance(owner_id, int) else owner_id
        rows = [
            r for r in self._caseload(lambda r: r.owner_id in owners)
            if (not state or r.state == state) and (not flagged or r.flags)
            and (not follow_up or r.follow_ups_open)
        ]
        rows.sort(key=keys[sort], reverse=descending)
        return len(rows), rows[offset: offset + limit]

    def caseload_order(self, owner_id: int | list[int], *, state: str | None, flagged: bool,
                       follow_up: bool, sort: str, descending: bool
                       ) -> list[tuple[str, str | None]]:
        _, rows = self.caseload_page(owner_id, state=state, flagged=flagged,
                                     follow_up=follow_up, sort=sort, descending=descending,
                                     offset=0, limit=len(self.t.interviews))
        return [(r.interview_id, r.nickname) for r in rows]

    def caseload_rows(self, interview_ids: list[str]) -> list[CaseloadRow]:
        found = {r.interview_id: r for r in self._caseload(lambda r: r.id in interview_ids)}
        return [found[i] for i in interview_ids if i in found]


class _BookClub:
    """Subscriptions and private reflections; week claims belong to the SQL stores."""

    def __init__(self, t: _Tables) -> None:
        self.t = t

    def club(self, channel: str, chat_id: str) -> ClubRecord | None:
        return copy.deepcopy(self.t.clubs.get((channel, chat_id)))

    def running_clubs(self, channel: str) -> list[ClubRecord]:
        return [
            copy.deepcopy(c)
            for (ch, _), c in self.t.clubs.items()
            if ch == channel and c.status != "stopped"
        ]

    def save_club(self, club: ClubRecord, *, now: datetime) -> None:
        self.t.clubs[(club.channel, club.chat_id)] = copy.deepcopy(club)

    def stop_club(self, channel: str, chat_id: str, reason: str, *, now: datetime) -> bool:
        club = self.t.clubs.get((channel, chat_id))
        if club is None or club.status == "stopped":
            return False
        club.status, club.skip_week, club.stopped_reason = "stopped", None, reason
        return True

    def move_chat(self, channel: str, old_chat: str, new_chat: str) -> None:
        club = self.t.clubs.pop((channel, old_chat), None)
        if club is not None:
            club.chat_id = new_chat
            self.t.clubs[(channel, new_chat)] = club

    def _claims(self) -> NotImplementedError:
        return NotImplementedError("book-club week claims run on the SQL stores only")

    def weeks_taken(self, channel: str, chat_id: str, series_key: str) -> dict[int, datetime]:
        return {}

    def deliveries(self, channel: str, chat_id: str, series_key: str) -> list[WeekDelivery]:
        return []

    def claim_week(
        self, channel: str, chat_id: str, series_key: str, week: int, *, now: datetime, worker: str
    ) -> WeekDelivery | None:
        raise self._claims()

    def delivery_of(
        self, channel: str, chat_id: str, series_key: str, week: int
    ) -> WeekDelivery | None:
        return None

    def delivery_by_token(self, token: str) -> WeekDelivery | None:
        return None

    def retries_due(self, channel: str, now: datetime) -> list[WeekDelivery]:
        return []

    def next_retry_at(self, channel: str) -> datetime | None:
        return None

    def reclaim_retry(self, delivery_id: int, *, now: datetime, worker: str) -> bool:
        raise self._claims()

    def mark_sent(self, delivery_id: int, *, message_id: int | None, now: datetime) -> None:
        raise self._claims()

    def mark_retry(self, delivery_id: int, *, retry_at: datetime, error: str) -> None:
        raise self._claims()

    def mark_failed(self, delivery_id: int, *, status: str, error: str) -> None:
        raise self._claims()

    def set_pending(self, person_id: int, series_key: str, week: int, *, now: datetime) -> None:
        self.t.pending[person_id] = (series_key, week, now)

    def pending(self, person_id: int) -> tuple[str, int, datetime] | None:
        return self.t.pending.get(person_id)

    def clear_pending(self, person_id: int) -> None:
        self.t.pending.pop(person_id, None)

    def add_reflection(
        self, person_id: int, series_key: str, week: int, text: str, *, now: datetime
    ) -> None:
        self.t.reflections.append((person_id, series_key, week, text, now))

    def reflections(self, person_id: int) -> list[tuple[str, int, str, datetime]]:
        return [(s, w, x, at) for p, s, w, x, at in self.t.reflections if p == person_id]

    def erase_person(self, person_id: int) -> None:
        self.t.reflections = [r for r in self.t.reflections if r[0] != person_id]
        self.t.pending.pop(person_id, None)


class _Teams:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add_org(self, name: str, *, now: datetime) -> Organisation | None:
        if self.org_named(name) is not None:
            return None
        org = Organisation(next(self.t.ids), name, now)
        self.t.orgs[org.id] = org
        return org

    def org_named(self, name: str) -> Organisation | None:
        return next((o for o in self.t.orgs.values() if o.name == name), None)

    def orgs(self) -> list[Organisation]:
        return sorted(self.t.orgs.values(), key=lambda o: o.name)

    def set_member(self, org_id: int, person_id: int, role: str, *, now: datetime) -> None:
        if role not in MEMBER_ROLES:
            raise ValueError(f"member role must be one of {MEMBER_ROLES}, got {role!r}")
        found = self.t.members.get((org_id, person_id))
        since = found.since if found else now
        self.t.members[(org_id, person_id)] = Membership(org_id, person_id, role, since)

    def drop_member(self, org_id: int, person_id: int) -> bool:
        return self.t.members.pop((org_id, person_id), None) is not None

    def drop_person(self, person_id: int) -> int:
        keys = [k for k in self.t.members if k[1] == person_id]
        for key in keys:
            del self.t.members[key]
        return len(keys)

    def memberships_of(self, person_id: int) -> list[Membership]:
        return sorted((m for m in self.t.members.values() if m.person_id == person_id),
                      key=lambda m: m.org_id)

    def members(self, org_id: int) -> list[Membership]:
        return sorted((m for m in self.t.members.values() if m.org_id == org_id),
                      key=lambda m: m.person_id)

    def supervised_by(self, supervisor_id: int) -> list[int]:
        orgs = {m.org_id for m in self.memberships_of(supervisor_id) if m.role == "supervisor"}
        return sorted({m.person_id for m in self.t.members.values() if m.org_id in orgs})


class _Ratings:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def add(
        self, interview_id: str, function: str, value: str, reason: str, *, by: int,
        now: datetime, status: str = "rated",
    ) -> Rating:
        revision = 1 + max((r.revision for r in self.t.ratings
                            if r.interview_id == interview_id and r.function == function),
                           default=0)
        rating = Rating(interview_id, function, revision, value, reason, by, now, status)
        self.t.ratings.append(rating)
        return rating

    def history(self, interview_id: str) -> list[Rating]:
        return [r for r in self.t.ratings if r.interview_id == interview_id]

    def current(self, interview_id: str) -> dict[str, Rating]:
        return {r.function: r for r in self.history(interview_id)}


class MemoryUnitOfWork:
    """The repositories over one `_Tables`."""

    def __init__(self, tables: _Tables) -> None:
        self.tables = tables
        self.people = _People(tables)
        self.interviews = _Interviews(tables)
        self.answers = _Answers(tables)
        self.audit = _Audit(tables)
        self.access = _Access(tables)
        self.deliveries = _Deliveries(tables)
        self.bookclub = _BookClub(tables)
        self.web_sessions = _WebSessions(tables)
        self.plans = MemoryPlans(tables.plans)
        self.inbox = MemoryInbox(tables.inbox, tables.return_links)
        self.incoming = MemoryIncoming(tables.incoming)
        self.teams = _Teams(tables)
        self.ratings = _Ratings(tables)
        self.clinic = _Clinic(tables)

    def erase_person(self, person_id: int, *, now: datetime) -> Erasure:
        t = self.tables
        owned = [i for i, r in t.interviews.items() if r.owner_id == person_id]
        shared = [
            i for i, r in t.interviews.items()
            if r.respondent_id == person_id and r.owner_id != person_id
        ]
        t.answers = [
            a for a in t.answers
            if a.interview_id not in owned and not (a.interview_id in shared and a.by == person_id)
        ]
        t.events = [
            e for e in t.events if e.interview_id not in owned and e.person_id != person_id
        ]
        t.ratings = [
            r for r in t.ratings if r.interview_id not in owned and r.rated_by != person_id
        ]
        for interview_id in owned:
            self.plans.erase_interview(interview_id)
            self.inbox.erase_interview(interview_id)
            del t.interviews[interview_id]
            t.informants.pop(interview_id, None)
        for interview_id in owned + shared:
            self.access.drop_resume_codes(interview_id)
        t.resume_codes = {
            k: v for k, v in t.resume_codes.items() if v.created_by != person_id
        }
        for interview_id in shared:
            self.plans.erase_family(interview_id)
            record = t.interviews[interview_id]
            record.respondent_id, record.state, record.cursor, record.draft = (
                None, "withdrawn", None, None,
            )
            record.revision += 1
            record.updated_at = now
        for someone in t.people.values():
            if someone.active_interview in owned:
                someone.active_interview = None
        erased = t.people[person_id]
        if erased.channel == "web":
            self.web_sessions.erase_user(erased.external_id)
        self.clinic.end_sessions_of(person_id)
        self.inbox.erase_person(person_id)
        self.incoming.erase_sender(erased.channel, erased.external_id)
        erased.external_id, erased.role, erased.active_interview = (
            f"erased:{person_id}", "caregiver", None,
        )
        t.chats.pop(person_id, None)
        self.teams.drop_person(person_id)
        t.erasures.pop(person_id, None)
        self.bookclub.erase_person(person_id)
        tombstones: list[str | None] = [*owned, *shared, None]
        for tombstone in tombstones:
            self.audit.add("erased", interview_id=tombstone, person_id=person_id, now=now)
        return Erasure(deleted=owned, withdrawn=shared)


class MemoryStore:
    """A `Backend` on dicts: `run` applies a step whole or not at all."""

    cipher: Cipher | None = None

    def __init__(self) -> None:
        self.tables = _Tables()

    async def run(self, step: Callable[[UnitOfWork], T], *, first: bool = False) -> T:
        snapshot = copy.deepcopy(self.tables)
        try:
            return step(MemoryUnitOfWork(self.tables))
        except BaseException:
            self.tables = snapshot
            raise

    async def read(self, query: Callable[[UnitOfWork], T]) -> T:
        return query(MemoryUnitOfWork(copy.deepcopy(self.tables)))

    async def checkpoint(self) -> None:
        """Nothing to fold."""

    async def close(self) -> None:
        """Nothing to release."""


if TYPE_CHECKING:
    from store.backend import Backend

    def _conforms(uow: MemoryUnitOfWork, store: MemoryStore) -> tuple[UnitOfWork, Backend]:
        return uow, store  # mypy checks the fake against the contract here
