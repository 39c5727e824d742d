"""Records of notes, plans, check-in answers and re-assessment schedules (migration 0010)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

#: What a family may answer at the check-in, per plan item ("unknown" is "I don't know").
TRIED = ("yes", "partly", "no", "unknown")
WENT = ("better", "same", "worse", "too_soon")
#: Re-assessment intervals a clinician may choose, in months.
INTERVALS = (3, 6)


@dataclass(frozen=True)
class Note:
    """One clinician note (append-only: corrected by a later note)."""

    id: int
    interview_id: str
    author_id: int
    body: str
    at: datetime


@dataclass(frozen=True)
class PlanChange:
    """A change of a plan item kept beside it, append-only: today only its removal."""

    position: int
    change: str  # "removed"
    reason: str
    author_id: int | None
    at: datetime


@dataclass(frozen=True)
class PlanItem:
    """One thing in the plan: the recommendation it came from, the words for this family."""

    position: int
    recommendation: str
    #: The clinician's words for this family; None: the recommendation's own.
    wording: str | None
    #: "planned" or "sent"; "removed" once a removal is kept for it (plan_item_changes):
    #: a check-in no longer asks about it, and reports show it as removed.
    status: str
    tried: str | None = None  # one of TRIED once the family answered
    went: str | None = None  # one of WENT once the family answered
    answered_at: datetime | None = None
    removed: PlanChange | None = None
    #: The family was sent this item (a removed one too, if it went before its removal).
    was_sent: bool = False


@dataclass(frozen=True)
class Plan:
    """An interview's plan, its review date, and whether it and its check-in were sent."""

    interview_id: str
    review_on: date | None
    sent_at: datetime | None
    checkin_at: datetime | None
    items: list[PlanItem] = field(default_factory=list)
    #: What the family wrote in its own words after the check-in's buttons (optional).
    family_words: str | None = None
    words_at: datetime | None = None

    @property
    def active(self) -> list[PlanItem]:
        """The items not removed (what the family is sent and asked about)."""
        return [i for i in self.items if i.removed is None]


@dataclass(frozen=True)
class Schedule:
    """Re-assessment every `months` months; `follow_up_id` is the last one it started."""

    interview_id: str
    months: int
    next_due: date
    follow_up_id: str | None = None
