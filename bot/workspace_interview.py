"""One interview as its clinician's workspace shows it: the report's parts, every answer's
revisions, the audit trail. Authorised and audited here, whatever draws it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.access import may_read, plausible_interview_id
from bot.data.load import current_answers, decoded
from bot.replies import InformantForm, RatingNote, SafetyNote
from bot.reporting import informant_forms, rating_notes, safety_notes
from bot.reports import AppendixRow, answer_text, report_locale, scored_interview
from flows.catalog import FlowCatalog
from flows.engine import questions, split_key
from flows.schema import Flow
from scoring import Report
from store.contract import UnitOfWork
from store.records import Event, InterviewRecord

#: Audit detail of an interview opened in the workspace (Telegram's `/open` writes "open").
OPENED = "web_interview"


@dataclass(frozen=True)
class Revision:
    number: int
    answer: str
    at: datetime
    #: "you", "family", "other" or "unknown" (clinic.j2's who_* words), and the person id.
    who: str
    by: int | None


@dataclass
class AnswerHistory:
    """One question and every answer it was given, oldest first."""

    key: str
    prompt: str
    revisions: list[Revision] = field(default_factory=list)


@dataclass
class InterviewView:
    record: InterviewRecord
    flow: Flow
    locale: str
    report: tuple[Report, list[AppendixRow]] | None
    safety: list[SafetyNote]
    informants: list[InformantForm]
    answers: list[AnswerHistory]
    events: list[Event]
    #: The clinician's ratings (bot/ratings.py): the report above is built with them.
    ratings: list[RatingNote] = field(default_factory=list)


def _label(text: Mapping[str, str], locale: str) -> str:
    return text.get(locale) or next(iter(text.values()), "")


def _prompt(flow: Flow, key: str, locale: str) -> str:
    item_id, option = split_key(key)
    try:
        item = flow.item(item_id)
    except KeyError:
        return key
    prompt = _label(item.prompt, locale)
    if option is not None:
        section = flow.section_of(item_id)
        source = flow.item(section.repeat_for) if section.repeat_for else None
        picked = source.option(option) if source is not None else None
        prompt = prompt.replace("{option}", _label(picked.label, locale) if picked else option)
    return prompt


def _histories(uow: UnitOfWork, flow: Flow, record: InterviewRecord, person_id: int,
               locale: str) -> list[AnswerHistory]:
    """Every item's revisions, in the order the questions are asked now (items no longer
    asked after a changed answer follow, in the order they were first answered)."""
    order = [q.key for q in questions(flow, current_answers(uow, record.id))]
    found: dict[str, AnswerHistory] = {}
    for rev in uow.answers.history(record.id):
        item_id, _ = split_key(rev.item_key)
        value = decoded({rev.item_key: (rev.value, 0)})[rev.item_key].value
        try:
            words = answer_text(flow, item_id, value, locale)
        except KeyError:
            words = str(rev.value)
        who = ("you" if rev.answered_by == person_id else
               "family" if rev.answered_by is not None and rev.answered_by == record.respondent_id
               else "unknown" if rev.answered_by is None else "other")
        history = found.setdefault(
            rev.item_key, AnswerHistory(rev.item_key, _prompt(flow, rev.item_key, locale)))
        history.revisions.append(Revision(rev.revision, words, rev.answered_at, who,
                                          rev.answered_by))
    rank = {key: i for i, key in enumerate(order)}
    return sorted(found.values(), key=lambda h: rank.get(h.key, len(rank)))


def interview_view(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
                   now: datetime) -> InterviewView | None:
    """An interview for its clinician (or their supervisor), audited as viewed; None
    (audited as denied, without the id: a guessed id must not land in a stranger's trail)
    for anyone else."""
    person = uow.people.by_id(person_id)
    record = uow.interviews.get(interview_id) if plausible_interview_id(interview_id) else None
    # Read access (bot/access.py): its clinician, or a supervisor of their organisation.
    if person is None or record is None or not may_read(uow, person, record):
        uow.audit.add("denied", interview_id=None, person_id=person_id, now=now, detail=OPENED)
        return None
    uow.audit.add("viewed", interview_id=record.id, person_id=person_id, now=now, detail=OPENED)
    locale = report_locale(person.locale)
    flow = catalog.get(record.flow_key)
    return InterviewView(
        record=record,
        flow=flow,
        locale=locale,
        report=scored_interview(uow, catalog, record.id, now, locale),
        safety=safety_notes(uow, record.id),
        informants=informant_forms(uow, catalog, record),
        answers=_histories(uow, flow, record, person_id, locale),
        events=uow.audit.of_interview(record.id),
        ratings=rating_notes(uow, record.id),
    )
