"""Plain records the store hands out: people, interviews, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Person:
    """Someone who talks to Hearth on one channel."""

    id: int
    channel: str
    external_id: str
    role: str
    locale: str
    active_interview: str | None


@dataclass(frozen=True)
class Arrival:
    """A person as a step finds them, with what every private step checks, in one read.

    Facts as the step began: a feature that changes one of them in the step reads the
    store again (`Access.erasure_requested_at`, `BookClubRepo.pending`, ...).
    """

    person: Person
    low_exposure: bool = False
    erasure_requested_at: datetime | None = None
    bookclub_pending: tuple[str, int, datetime] | None = None


@dataclass
class InterviewRecord:
    """One interview's row: which flow, whose, where it stands."""

    id: str
    flow_id: str
    flow_version: int
    owner_id: int
    respondent_id: int | None
    subject_nickname: str | None
    state: str
    consented: bool
    cursor: str | None
    revision: int
    draft: list[str] | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None

    @property
    def flow_key(self) -> str:
        return f"{self.flow_id}@{self.flow_version}"


@dataclass(frozen=True)
class AnswerRevision:
    """One row of the append-only answer history."""

    item_key: str
    revision: int
    value: object | None  # decoded JSON; None when skipped
    answered_by: int | None
    answered_at: datetime


@dataclass(frozen=True)
class Rating:
    """One row of a clinician's append-only ratings: a function of the map, rated with a
    reason; a change of mind is the next revision of the same function."""

    interview_id: str
    function: str  # the map's item id, e.g. "bs_sleep"
    revision: int  # 1, 2, … per interview and function
    value: str  # a point key of the map's scale: "typical", "some", "a_lot"
    reason: str
    rated_by: int | None  # None once the author was erased
    rated_at: datetime
    #: "rated", or "withdrawn": this revision takes the rating back (its value is the one
    #: withdrawn, its reason why); the scores fall back to the family's view.
    status: str = "rated"


@dataclass(frozen=True)
class Event:
    """One audit-trail entry."""

    interview_id: str | None
    person_id: int | None
    kind: str
    detail: str | None
    at: datetime


@dataclass(frozen=True)
class Invite:
    """A family's invitation to a clinician's interview (the code itself is never kept)."""

    code_hash: str
    interview_id: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None


@dataclass(frozen=True)
class ResumeCode:
    """A code that moves an open interview to whoever redeems it (kept only as a hash)."""

    code_hash: str
    interview_id: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class Erasure:
    """What one person's erasure removed: interview ids, deleted whole or only their part."""

    deleted: list[str]
    withdrawn: list[str]


@dataclass(frozen=True)
class WebSession:
    """A browser's session on the web channel (the cookie itself is never stored)."""

    token_hash: str
    user_id: str
    created_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class Organisation:
    """A team of clinicians (a practice, a service) whose supervisors read its caseload."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Membership:
    """A person's place in an organisation: "clinician" or "supervisor"."""

    org_id: int
    person_id: int
    role: str
    since: datetime


@dataclass(frozen=True)
class ClinicLink:
    """A clinician's one-time sign-in link to the web workspace (kept as its hash)."""

    token_hash: str
    person_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class ClinicSession:
    """A clinician's browser session in the web workspace (the cookie is never stored)."""

    token_hash: str
    person_id: int
    created_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class CaseloadRow:
    """One interview as the caseload lists it, read with its counts in one query."""

    interview_id: str
    flow_id: str
    flow_version: int
    state: str
    nickname: str | None
    claimed: bool
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    #: Items whose latest revision is an answer (not a skip).
    answered: int
    #: Safety-net events (danger signs, disclosures) on the interview.
    flags: int
    #: Follow-up interviews of this one that are still open (awaiting the family).
    follow_ups_open: int
    informant_of: str | None
