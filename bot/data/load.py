"""Read interviews with their decoded answers through the repository (plaintext at rest or not)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.answers import decode_value
from flows.engine import Answer
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.plan_records import Note, Plan, Schedule
from store.records import InterviewRecord, Rating

#: Text items that hold the child's nickname: withheld unless a clinician exports their own.
NICKNAME_ITEMS = frozenset({"child_name"})
#: A caseload is exported whole, not the 50 rows `/interviews` lists.
CASELOAD_LIMIT = 100_000


@dataclass(frozen=True)
class InterviewData:
    """One interview as the data features see it: its row, link and current answers."""

    record: InterviewRecord
    answers: dict[str, Answer]
    follow_up_of: str | None
    last_answer_at: datetime | None
    #: Entered elsewhere and imported (`hearth import`): its times say nothing of the chat.
    imported: bool = False
    #: A second informant's form: the family's interview it sits beside, and the role
    #: ("teacher", "caregiver"); None for everyone else's (docs/informants.md).
    informant_of: str | None = None
    informant_role: str | None = None
    #: The clinician's ratings of its functions, every revision, oldest first (bot/ratings.py).
    ratings: tuple[Rating, ...] = ()
    #: The clinician's notes, plan (items, removals, check-in answers) and re-assessment
    #: schedule (bot/features/plan.py): a FHIR export carries them as a CarePlan.
    notes: tuple[Note, ...] = ()
    plan: Plan | None = None
    schedule: Schedule | None = None

    @property
    def amended(self) -> bool:
        """Submitted, then changed afterwards (an answer written after submission)."""
        submitted = self.record.submitted_at
        return (
            State(self.record.state) is State.SUBMITTED
            and submitted is not None
            and self.last_answer_at is not None
            and self.last_answer_at > submitted
        )


def decoded(stored: dict[str, tuple[object | None, int]]) -> dict[str, Answer]:
    """The repository's current answers as engine `Answer`s."""
    return {
        key: Answer(decode_value(value) if value is not None else None, skips)
        for key, (value, skips) in stored.items()
    }


def current_answers(repo: UnitOfWork, interview_id: str) -> dict[str, Answer]:
    """An interview's current answers, decoded, as the engine reads them."""
    return decoded(repo.answers.current(interview_id))


def load(repo: UnitOfWork, record: InterviewRecord) -> InterviewData:
    """One interview's data (the repository opens sealed answers)."""
    informant = repo.interviews.informant_of(record.id)
    return InterviewData(
        record=record,
        answers=decoded(repo.answers.current(record.id)),
        follow_up_of=repo.interviews.follow_up_of(record.id),
        last_answer_at=repo.answers.last_at(record.id),
        imported=any(e.kind == "imported" for e in repo.audit.of_interview(record.id)),
        informant_of=informant[0] if informant else None,
        informant_role=informant[1] if informant else None,
        ratings=tuple(repo.ratings.history(record.id)),
        notes=tuple(repo.plans.notes(record.id)),
        plan=repo.plans.plan(record.id),
        schedule=repo.plans.schedule(record.id),
    )


def load_all(repo: UnitOfWork, flow_id: str | None = None) -> list[InterviewData]:
    """Every interview, oldest first (the operator's view)."""
    return [load(repo, record) for record in repo.interviews.all(flow_id=flow_id)]


def load_owned(repo: UnitOfWork, owner_id: int, flow_id: str | None = None) -> list[InterviewData]:
    """A clinician's own interviews, oldest first."""
    owned = repo.interviews.owned_by(owner_id, limit=CASELOAD_LIMIT)
    chosen = [r for r in owned if flow_id is None or r.flow_id == flow_id]
    chosen.sort(key=lambda r: (r.created_at, r.id))
    return [load(repo, record) for record in chosen]
