"""What the plan feature, its scheduler and the clinic pages share (bot/features/plan.py).

Pure helpers (dates, typed words, button payloads) and the few reads they all need: the
recommendations an interview's report gives, the family an interview belongs to, the
words the family reads for each plan item.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

from bot.data.load import decoded
from bot.replies import Say
from flows.catalog import FlowCatalog
from messages.render import LOCALES, messages_dir
from messages.words import fold, strip_accents
from store.contract import UnitOfWork
from store.plan_records import INTERVALS, TRIED, WENT, Plan
from store.records import InterviewRecord, Person

if TYPE_CHECKING:
    from scoring.report import Recommendation

LIBRARY = "plan.j2"
#: Button payloads: `pln:t:<interview>:<item>:<tried>`, `pln:w:<interview>:<item>:<went>`,
#: `pln:r:<follow-up interview>` (start the scheduled re-assessment).
PREFIX = "pln:"
#: How far ahead a review date may be set.
MAX_REVIEW_DAYS = 2 * 366

_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month: 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_day(text: str) -> date | None:
    """2026-12-24, or 24/12/2026 (day first, as in most of the world); None if not a date."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    found = _DAY.match(text)
    if found is None:
        return None
    try:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        return None


def review_problem(day: date | None, today: date) -> str | None:
    """Why a review date cannot be used (a message of plan.j2), or None if it can."""
    if day is None:
        return "review_bad_date"
    if day <= today:
        return "review_past"
    if (day - today).days > MAX_REVIEW_DAYS:
        return "review_too_far"
    return None


def _key(text: str) -> str:
    return strip_accents(fold(text))


@cache
def _words(section: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for locale in LOCALES:
        path = messages_dir() / locale / "plan_words.yaml"
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, words in data.get(section, {}).items():
            for word in [name, *words]:
                found[_key(str(word))] = str(name)
    return found


def interval_named(text: str) -> int | str | None:
    """Typed interval -> months (3, 6), None for "off", or "" when not understood."""
    name = _words("intervals").get(_key(text), "")
    if name == "off":
        return None
    return int(name) if name and int(name) in INTERVALS else ""


def action_named(word: str) -> str | None:
    """`add`, `review` or `send` for any locale's word; None when not one of them."""
    return _words("actions").get(_key(word))


def payload(kind: str, interview_id: str, position: int | None = None, value: str = "") -> str:
    """A check-in or re-assessment button (kept under Telegram's 64 bytes)."""
    if position is None:
        return f"{PREFIX}{kind}:{interview_id}"
    return f"{PREFIX}{kind}:{interview_id}:{position}:{value}"


@dataclass(frozen=True)
class Pressed:
    """A decoded check-in button."""

    kind: str  # "t" tried, "w" went, "r" re-assessment
    interview_id: str
    position: int = 0
    value: str = ""


def decode(data: str) -> Pressed | None:
    """The button's parts, or None when it is not a well-formed plan button."""
    parts = data.removeprefix(PREFIX).split(":")
    if len(parts) == 2 and parts[0] == "r":
        return Pressed("r", parts[1])
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    kind, interview_id, position, value = parts
    if (kind, value) not in {("t", v) for v in TRIED} | {("w", v) for v in WENT}:
        return None
    return Pressed(kind, interview_id, int(position), value)


# -- reads ------------------------------------------------------------------------------


def recommendations(
    uow: UnitOfWork, catalog: FlowCatalog, interview: InterviewRecord
) -> list[Recommendation]:
    """The recommendations of the interview's report, in the report's order (tier first)."""
    from bot.data.scores import scored  # scoring loads on first use (bot/data/scores.py)

    flow = catalog.flows.get(interview.flow_key)
    if flow is None:
        return []
    report = scored(flow, decoded(uow.answers.current(interview.id)),
                    interview.submitted_at or interview.updated_at)
    return [] if report is None else list(report.recommendations)


def family_of(uow: UnitOfWork, interview: InterviewRecord) -> Person | None:
    """The person who answers the interview (the family), if still there."""
    if interview.respondent_id is None or interview.respondent_id == interview.owner_id:
        return None
    person = uow.people.by_id(interview.respondent_id)
    if person is None or person.external_id.startswith("erased:"):
        return None
    return person


def family_items(
    recs: list[Recommendation], plan: Plan, locale: str
) -> list[dict[str, Any]]:
    """What the family reads for each item: its title and the words (edited or the report's)."""
    by_id = {r.id: r for r in recs}
    shown: list[dict[str, Any]] = []
    for item in plan.items:
        rec = by_id.get(item.recommendation)
        title = _text(rec.title, locale) if rec is not None else ""
        words = item.wording or (_text(rec.try_, locale) if rec is not None else "")
        shown.append({"n": item.position, "title": title, "words": words,
                      "tried": item.tried, "went": item.went})
    return shown


def _text(text: dict[str, str], locale: str) -> str:
    return text.get(locale) or text.get("en") or next(iter(text.values()), "")


def clinician_title(rec: Recommendation, locale: str) -> str:
    """A recommendation's name as a clinician reads it."""
    return _text(rec.clinical_title or rec.title, locale)


def send_plan(
    uow: UnitOfWork, catalog: FlowCatalog, interview: InterviewRecord, channel: str, *,
    by: int | None, now: datetime,
) -> Say | None:
    """The plan for the family's chat, in its language, marked sent and audited; None when
    the family cannot be reached on `channel` (nothing is marked)."""
    plan = uow.plans.plan(interview.id)
    family = family_of(uow, interview)
    chat = uow.people.chat_of(family.id) if family is not None else None
    if plan is not None:
        # Removed items are the clinician's history, not the family's plan.
        plan = dataclasses.replace(plan, items=plan.active)
    if plan is None or not plan.items or family is None or chat is None:
        return None
    if family.channel != channel:
        return None
    recs = recommendations(uow, catalog, interview)
    uow.plans.mark_sent(interview.id, now=now)
    uow.audit.add("plan_sent", interview_id=interview.id, person_id=by, now=now,
                  detail=str(family.id))
    return Say(
        message="plan_for_family", library=LIBRARY, chat_id=chat, locale=family.locale,
        params={"nickname": interview.subject_nickname,
                "items": family_items(recs, plan, family.locale),
                "review_on": None if plan.review_on is None else plan.review_on.isoformat()},
    )
