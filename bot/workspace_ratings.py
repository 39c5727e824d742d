"""An interview's clinician ratings as the workspace shows and changes them: every function
with the family's view, the clinician's rating and its history, and which view the scores
use. Authorised and audited here, whatever draws it (bot/web/clinic/ratings.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot import ratings
from bot.access import is_clinician, may_read, plausible_interview_id
from bot.data.load import current_answers
from bot.replies import RatingNote
from bot.reporting import current_ratings, rating_notes
from flows.catalog import FlowCatalog
from scoring.compute import function_scores
from scoring.ratings import RatingProblem, Source, scale, source_of
from scoring.rules import Band
from store.contract import UnitOfWork
from store.records import InterviewRecord, Person

#: Audit details of the page (a rating kept is audited `rated` by bot/ratings.py).
VIEWED = "web_ratings"


@dataclass(frozen=True)
class FunctionRow:
    """One function of the map on the page."""

    function: str
    region: str
    label: dict[str, str]
    caregiver: Band  # the family's own answer's band ("unrated": not known, not asked)
    used: Source
    history: tuple[RatingNote, ...]  # newest first

    @property
    def current(self) -> RatingNote | None:
        return self.history[0] if self.history else None


@dataclass(frozen=True)
class RatingsView:
    record: InterviewRecord
    scale: tuple[str, ...]
    rows: tuple[FunctionRow, ...]
    #: The owner rates; the owner's supervisor reads the ratings only (bot/access.py).
    can_rate: bool = True


def _permitted(uow: UnitOfWork, person_id: int, interview_id: str, now: datetime, *,
               read: bool = False) -> tuple[InterviewRecord, Person] | None:
    """The interview and the person, if it has a map and this person may rate it (`read`:
    or read its ratings, as the owner's supervisor may); else None, audited as denied."""
    person = uow.people.by_id(person_id)
    record = uow.interviews.get(interview_id) if plausible_interview_id(interview_id) else None
    if (person is None or record is None or ratings.map_of(record) is None
            or not (ratings.may_rate(person, record)
                    or (read and is_clinician(person) and may_read(uow, person, record)))):
        # Without the id: a guessed id must not land in a stranger's trail.
        uow.audit.add("denied", interview_id=None, person_id=person_id, now=now, detail=VIEWED)
        return None
    return record, person


def _view(uow: UnitOfWork, catalog: FlowCatalog, record: InterviewRecord) -> RatingsView | None:
    rules = ratings.map_of(record)
    if rules is None:
        return None
    flow = catalog.get(record.flow_key)
    caregiver = function_scores(rules, flow, current_answers(uow, record.id))
    notes = rating_notes(uow, record.id)
    latest = current_ratings(notes)
    rows = tuple(FunctionRow(
        f.item_id, f.region, dict(f.label), f.band,
        source_of(f.item_id, f.band, latest, rules),
        tuple(n for n in reversed(notes) if n.function == f.item_id)) for f in caregiver)
    return RatingsView(record, scale(rules), rows)


def _after(uow: UnitOfWork, catalog: FlowCatalog, record: InterviewRecord, outcome: object
           ) -> tuple[RatingsView, RatingProblem | None]:
    """The page after a change, with the problem if nothing changed."""
    view = _view(uow, catalog, record)
    assert view is not None
    return view, outcome if isinstance(outcome, RatingProblem) else None


def ratings_view(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
                 now: datetime) -> RatingsView | None:
    """The page's content for the interview's clinician, audited as viewed; None (audited
    as denied) for anyone else, an unknown id, or an interview with no map to rate."""
    found = _permitted(uow, person_id, interview_id, now, read=True)
    if found is None:
        return None
    record, person = found
    uow.audit.add("viewed", interview_id=record.id, person_id=person_id, now=now, detail=VIEWED)
    view = _view(uow, catalog, record)
    assert view is not None
    return replace(view, can_rate=ratings.may_rate(person, record))


def rate(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
         function: str, value: str, reason: str, now: datetime
         ) -> tuple[RatingsView, RatingProblem | None] | None:
    """Keep one rating from the page (audited `rated`), and the page after it with the
    problem if nothing was kept; None (audited as denied) as for `ratings_view`."""
    found = _permitted(uow, person_id, interview_id, now)
    if found is None:
        return None
    record, person = found
    kept = ratings.keep(uow, person, record, function, value, reason, now=now)
    return _after(uow, catalog, record, kept)


def withdraw(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
             function: str, reason: str, now: datetime
             ) -> tuple[RatingsView, RatingProblem | None] | None:
    """Withdraw one rating from the page (audited `rating_withdrawn` by bot/ratings.py),
    and the page after it with the problem if nothing changed; None as for `rate`."""
    found = _permitted(uow, person_id, interview_id, now)
    if found is None:
        return None
    record, person = found
    done = ratings.withdraw(uow, person, record, function, reason, now=now)
    return _after(uow, catalog, record, done)
