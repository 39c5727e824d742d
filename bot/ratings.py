"""Clinician ratings, channel-neutral: who may rate, keeping one, and their history.

The bot feature (bot/features/ratings.py) and the web page (bot/web/clinic/ratings.py)
both come here, so a rating is checked, authorised and audited in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot import caseload
from bot.access import is_clinician
from scoring import has_rules
from store.contract import UnitOfWork
from store.records import InterviewRecord, Person, Rating

if TYPE_CHECKING:
    from scoring.ratings import RatingProblem
    from scoring.rules import ScoringRules

#: The audit kind of a kept rating (detail: "<function>:<revision>", sealed with a key).
RATED = "rated"
#: The audit kind of a withdrawal (detail as for RATED: the withdrawal's own revision).
WITHDRAWN = "rating_withdrawn"


def map_of(interview: InterviewRecord) -> ScoringRules | None:
    """The functional map an interview's ratings sit on; None for a flow without one (the
    sample flow) or an informant's form (the clinician rates on the family's interview)."""
    # Imported on first use: the rule models are off `hearth chat`'s way to its first question.
    from scoring.informants import has_informant_rules
    from scoring.rules import bundled_rules

    if has_informant_rules(interview.flow_id) or not has_rules(interview.flow_id):
        return None
    return bundled_rules(interview.flow_id).scoring


def may_rate(person: Person, interview: InterviewRecord) -> bool:
    """Only a clinician who may use the interview: the one ownership check (bot/caseload.py)."""
    return is_clinician(person) and caseload.may_use(person, interview)


def keep(uow: UnitOfWork, person: Person, interview: InterviewRecord, function: str,
         value: str, reason: str, *, now: datetime) -> Rating | RatingProblem:
    """Append one rating, audited; or the problem with it (nothing kept). The caller has
    checked `may_rate` and `map_of` (the feature and the page answer those themselves)."""
    from scoring.ratings import check_rating

    rules = map_of(interview)
    assert rules is not None and may_rate(person, interview)
    reason = " ".join(reason.split())
    problem = check_rating(rules, function, value, reason)
    if problem is not None:
        return problem
    rating = uow.ratings.add(interview.id, function, value, reason, by=person.id, now=now)
    uow.audit.add(RATED, interview_id=interview.id, person_id=person.id, now=now,
                  detail=f"{function}:{rating.revision}")
    return rating


def in_force(uow: UnitOfWork, interview_id: str, function: str) -> Rating | None:
    """The function's rating the scores use now, or None (never rated, or withdrawn)."""
    latest = uow.ratings.current(interview_id).get(function)
    return latest if latest is not None and latest.status != "withdrawn" else None


def withdraw(uow: UnitOfWork, person: Person, interview: InterviewRecord, function: str,
             reason: str, *, now: datetime) -> Rating | RatingProblem:
    """Take a rating back with a reason: the next revision, append-only, audited; the
    scores fall back to the family's (and informants') view. Or the problem (nothing kept).
    The caller has checked `may_rate` and `map_of`, as for `keep`."""
    from scoring.ratings import RatingProblem, check_rating

    rules = map_of(interview)
    assert rules is not None and may_rate(person, interview)
    reason = " ".join(reason.split())
    rated = in_force(uow, interview.id, function)
    # Checked as a rating is (a known function, a reason), with the value withdrawn.
    problem = check_rating(rules, function, rated.value if rated else "", reason)
    if problem is RatingProblem.UNKNOWN_FUNCTION:
        return problem
    if rated is None:
        return RatingProblem.NOT_RATED
    if problem is not None:
        return problem
    # The withdrawal carries the value it takes back, so the history (and an export) says
    # what was withdrawn without reading the revision before it.
    withdrawal = uow.ratings.add(interview.id, function, rated.value, reason, by=person.id,
                                 now=now, status="withdrawn")
    uow.audit.add(WITHDRAWN, interview_id=interview.id, person_id=person.id, now=now,
                  detail=f"{function}:{withdrawal.revision}")
    return withdrawal
