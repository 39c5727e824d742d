"""Report intents: an interview's answers packed for the report, and a follow-up's change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from bot import plans
from bot.data.load import decoded
from bot.replies import (
    Change,
    Export,
    InformantForm,
    RatingNote,
    ReviewRow,
    SafetyNote,
    Tried,
)
from flows.catalog import FlowCatalog
from flows.engine import questions
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.records import InterviewRecord

Audience = Literal["clinician", "caregiver"]


def answer_rows(
    uow: UnitOfWork, catalog: FlowCatalog, interview: InterviewRecord
) -> list[ReviewRow]:
    """Every current answer in question order (values encoded, None = skipped)."""
    flow = catalog.get(interview.flow_key)
    stored = uow.answers.current(interview.id)
    answers = decoded(stored)
    return [
        ReviewRow(key=q.key, value=stored[q.key][0])
        for q in questions(flow, answers)
        if q.key in stored
    ]


#: Audit kinds the safety net writes, and what each means for the clinician.
SAFETY_KINDS: dict[str, Literal["danger", "disclosure"]] = {
    "safety_flag": "danger",
    "safety_disclosure": "disclosure",
}


def safety_notes(uow: UnitOfWork, interview_id: str) -> list[SafetyNote]:
    """What the safety net caught in an interview, oldest first (for its clinician)."""
    notes = []
    for event in uow.audit.of_interview(interview_id):
        kind = SAFETY_KINDS.get(event.kind)
        if kind is None:
            continue
        try:
            detail = json.loads(event.detail) if event.detail else {}
        except ValueError:
            detail = {}  # written before details were kept: the time alone
        notes.append(
            SafetyNote(
                at=event.at,
                kind=kind,
                concern=detail.get("concern") if isinstance(detail, dict) else None,
                message=str(detail.get("message", "")) if isinstance(detail, dict) else "",
            )
        )
    return notes


def export_reply(
    uow: UnitOfWork,
    catalog: FlowCatalog,
    interview: InterviewRecord,
    audience: Audience,
    now: datetime,
) -> Export:
    """An interview's current answers, packed to be rendered as a report or a summary."""
    return Export(
        interview_id=interview.id,
        flow=interview.flow_key,
        audience=audience,
        nickname=interview.subject_nickname,
        state=interview.state,
        rows=answer_rows(uow, catalog, interview),
        at=now,
        safety=safety_notes(uow, interview.id) if audience == "clinician" else [],
        informants=informant_forms(uow, catalog, interview) if audience == "clinician" else [],
        # The family's summary rests on their own answers: the clinician's view is theirs.
        ratings=rating_notes(uow, interview.id) if audience == "clinician" else [],
    )


def rating_notes(uow: UnitOfWork, interview_id: str) -> list[RatingNote]:
    """Every clinician rating of an interview, oldest first (bot/ratings.py keeps them)."""
    return [RatingNote(function=r.function, revision=r.revision, value=r.value, reason=r.reason,
                       rated_by=r.rated_by, rated_at=r.rated_at, status=r.status)
            for r in uow.ratings.history(interview_id)]


def current_ratings(ratings: Sequence[RatingNote]) -> dict[str, str]:
    """function -> the value of its latest revision (what the scores use); a function whose
    latest revision is a withdrawal has none: its score falls back to the family's view."""
    latest: dict[str, str] = {}
    for note in ratings:
        if note.status == "withdrawn":
            latest.pop(note.function, None)
        else:
            latest[note.function] = note.value
    return latest


def informant_forms(
    uow: UnitOfWork, catalog: FlowCatalog, interview: InterviewRecord
) -> list[InformantForm]:
    """The second informants' sent forms beside this interview: only its owner's own, so a
    link never widens who sees what; forms still being answered are not shown."""
    return [
        InformantForm(interview_id=form.id, flow=form.flow_key, role=role,
                      rows=answer_rows(uow, catalog, form), submitted_at=form.submitted_at)
        for form, role in uow.interviews.informants_of(interview.id)
        if form.owner_id == interview.owner_id and State(form.state) is State.SUBMITTED
    ]


def change_reply(
    uow: UnitOfWork,
    catalog: FlowCatalog,
    interview: InterviewRecord,
    owner_id: int,
    now: datetime,
) -> Change | None:
    """Beside a follow-up's full report: the change since the earlier interview, if any."""
    if State(interview.state) is not State.SUBMITTED:
        return None
    earlier_id = uow.interviews.follow_up_of(interview.id)
    earlier = uow.interviews.get(earlier_id) if earlier_id else None
    # Only the owner's own earlier interview: a link never widens who sees what.
    if (
        earlier is None
        or earlier.owner_id != owner_id
        or State(earlier.state) is not State.SUBMITTED
    ):
        return None
    return Change(
        interview_id=interview.id,
        earlier_id=earlier.id,
        flow=interview.flow_key,
        earlier_flow=earlier.flow_key,
        nickname=interview.subject_nickname,
        then_rows=answer_rows(uow, catalog, earlier),
        now_rows=answer_rows(uow, catalog, interview),
        then_at=earlier.submitted_at or earlier.updated_at,
        at=now,
        tried=tried_items(uow, catalog, earlier, owner_id),
        family_words=_family_words(uow, earlier.id),
    )


def _family_words(uow: UnitOfWork, interview_id: str) -> str | None:
    plan = uow.plans.plan(interview_id)
    return None if plan is None else plan.family_words


def tried_items(
    uow: UnitOfWork, catalog: FlowCatalog, earlier: InterviewRecord, owner_id: int
) -> list[Tried]:
    """The earlier interview's plan items with the family's check-in answers, named in the
    clinician's language."""
    plan = uow.plans.plan(earlier.id)
    if plan is None or not plan.items:
        return []
    owner = uow.people.by_id(owner_id)
    locale = owner.locale if owner is not None else "en"
    titles = {r.id: plans.clinician_title(r, locale)
              for r in plans.recommendations(uow, catalog, earlier)}
    # Items removed after the family had them are shown as removed, with what the family
    # said before (the check-in no longer asks about them).
    return [Tried(n=i.position, title=titles.get(i.recommendation, i.recommendation),
                  tried=i.tried, went=i.went,
                  removed_on=None if i.removed is None else f"{i.removed.at:%Y-%m-%d}",
                  removed_reason=None if i.removed is None else i.removed.reason)
            for i in plan.items if i.was_sent]
