"""The plan in the clinician's web workspace, channel-neutral: authorised and audited here,
drawn by bot/web/clinic/plan.py. The same rules as `/note`, `/plan`, `/schedule`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import caseload, inbox, plans
from bot.access import is_clinician, may_read, plausible_interview_id
from flows.catalog import FlowCatalog
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.plan_records import Plan, PlanItem
from store.records import InterviewRecord

#: Audit detail of what the workspace did (the bot's own events carry none).
WEB = "web"
MAX_TEXT = 2000


@dataclass
class PlanPage:
    """Everything the plan page shows."""

    interview_id: str
    nickname: str
    submitted: bool
    recs: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    review_on: str = ""
    sent: bool = False
    send_asked: bool = False
    months: int = 0
    next_due: str = ""
    #: The owner changes the plan; the owner's supervisor reads it (bot/access.py).
    can_change: bool = True
    #: Every kept change of the plan's items (removals), oldest first, with who and when.
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: The family's own words at the check-in (optional), and when.
    family_words: str = ""
    words_at: str = ""
    #: Whether the family answers on the web (it may need a link back to its page), and the
    #: one-time links just made for it: shown on this one response, kept nowhere.
    on_web: bool = False
    links: list[str] = field(default_factory=list)
    link_days: int = inbox.LINK_TTL.days


def owned(uow: UnitOfWork, person_id: int, interview_id: str, now: datetime,
          action: str, *, read: bool = False) -> InterviewRecord | None:
    """The interview if this clinician may work on it (`read`: or read it, as the owner's
    supervisor may); else None, the refusal audited (without the id: a guessed id must not
    land in a stranger's trail)."""
    person = uow.people.by_id(person_id)
    found = uow.interviews.get(interview_id) if plausible_interview_id(interview_id) else None
    if person is None or not is_clinician(person) or found is None or not (
            caseload.may_use(person, found) or (read and may_read(uow, person, found))):
        uow.audit.add("denied", interview_id=None, person_id=person_id, now=now, detail=action)
        return None
    return found


def plan_page(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
              now: datetime) -> PlanPage | None:
    """The page's data, audited as viewed; None when not this clinician's interview."""
    interview = owned(uow, person_id, interview_id, now, "web_plan", read=True)
    if interview is None:
        return None
    uow.audit.add("plan_viewed", interview_id=interview.id, person_id=person_id, now=now,
                  detail=WEB)
    clinician = uow.people.by_id(person_id)
    locale = clinician.locale if clinician is not None else "en"
    family = plans.family_of(uow, interview)
    family_locale = family.locale if family is not None else locale
    submitted = State(interview.state) is State.SUBMITTED
    recs = plans.recommendations(uow, catalog, interview) if submitted else []
    plan = uow.plans.plan(interview.id)
    picked = {i.recommendation for i in plan.active} if plan else set()
    page = PlanPage(interview.id, interview.subject_nickname or "", submitted)
    page.can_change = clinician is not None and caseload.may_use(clinician, interview)
    page.on_web = bool(inbox.web_family(uow, interview))
    page.recs = [{"n": n, "title": plans.clinician_title(r, locale),
                  "words": plans.family_items([r], _one(r.id), family_locale)[0]["words"],
                  "picked": r.id in picked} for n, r in enumerate(recs, start=1)]
    if plan is not None:
        titles = {r.id: plans.clinician_title(r, locale) for r in recs}
        shown = plans.family_items(recs, plan, family_locale)
        page.items = [{**s, "title": titles.get(i.recommendation, i.recommendation),
                       "status": i.status, "removed": i.removed is not None}
                      for s, i in zip(shown, plan.items, strict=True)]
        page.changes = [{"n": c.position, "change": c.change, "reason": c.reason,
                         "by": c.author_id, "mine": c.author_id == person_id,
                         "title": next((i["title"] for i in page.items if i["n"] == c.position),
                                       ""),
                         "at": f"{c.at:%Y-%m-%d %H:%M}"}
                        for c in uow.plans.changes(interview.id)]
        page.review_on = plan.review_on.isoformat() if plan.review_on else ""
        page.sent = plan.sent_at is not None
        page.send_asked = interview.id in uow.plans.sends_asked(limit=10_000)
        page.family_words = plan.family_words or ""
        page.words_at = f"{plan.words_at:%Y-%m-%d %H:%M}" if plan.words_at else ""
    page.notes = [{"at": f"{n.at:%Y-%m-%d %H:%M}", "body": n.body}
                  for n in uow.plans.notes(interview.id)]
    schedule = uow.plans.schedule(interview.id)
    if schedule is not None:
        page.months, page.next_due = schedule.months, schedule.next_due.isoformat()
    return page


def _one(recommendation: str) -> Plan:
    """A plan of this one recommendation in its own words (what the family would read)."""
    return Plan("", None, None, None, [PlanItem(1, recommendation, None, "planned")])


def change_plan(uow: UnitOfWork, catalog: FlowCatalog, person_id: int, interview_id: str,
                form: dict[str, str], now: datetime) -> tuple[str, bool] | None:
    """One change posted from the page: (its notice, whether it was made); None when not
    this clinician's interview. Bad input changes nothing and says what was expected."""
    interview = owned(uow, person_id, interview_id, now, "web_plan")
    if interview is None:
        return None
    action = form.get("action", "")
    words = form.get("words", "").strip()
    if len(words) > MAX_TEXT:
        return "too_long", False
    if action == "note":
        if not words:
            return "note_empty", False
        uow.plans.add_note(interview.id, words, author_id=person_id, now=now)
        return _done(uow, interview, person_id, now, "noted", "note_saved")
    if action == "schedule":
        return _schedule(uow, interview, person_id, form.get("months", ""), now)
    if State(interview.state) is not State.SUBMITTED:
        return "not_submitted", False
    if action == "add":
        recs = plans.recommendations(uow, catalog, interview)
        n = form.get("n", "")
        if not n.isdigit() or not 1 <= int(n) <= len(recs):
            return "bad_number", False
        plan = uow.plans.plan(interview.id)
        rec = recs[int(n) - 1]
        if plan is not None and any(i.recommendation == rec.id for i in plan.active):
            return "already_in_plan", False
        # The words shown in the form are the report's own: kept only when edited.
        default = plans.family_items([rec], _one(rec.id), _family_locale(uow, interview))
        edited = words if words and words != default[0]["words"] else None
        uow.plans.add_item(interview.id, rec.id, edited, now=now)
        return _done(uow, interview, person_id, now, "plan_item_added", "item_added")
    if action == "edit":
        plan = uow.plans.plan(interview.id)
        n = form.get("n", "")
        if plan is None or not n.isdigit() or int(n) not in {i.position for i in plan.active} \
                or not words:
            return "bad_item", False
        uow.plans.set_wording(interview.id, int(n), words, now=now)
        return _done(uow, interview, person_id, now, "plan_item_edited", "item_edited")
    if action == "review":
        day = plans.parse_day(form.get("date", ""))
        problem = plans.review_problem(day, now.date())
        if problem is not None or day is None:
            return problem or "review_bad_date", False
        uow.plans.set_review(interview.id, day, now=now)
        return _done(uow, interview, person_id, now, "plan_review_set", "review_set")
    if action == "remove":
        return _remove(uow, interview, person_id, form.get("n", ""), words, now)
    if action == "send":
        plan = uow.plans.plan(interview.id)
        if plan is None or not plan.active:
            return "plan_empty", False
        if plans.family_of(uow, interview) is None:
            return "no_family", False
        uow.plans.ask_send(interview.id, now=now)
        return _done(uow, interview, person_id, now, "plan_send_asked", "send_asked")
    return "bad_form", False


def _remove(uow: UnitOfWork, interview: InterviewRecord, person_id: int, n: str,
            reason: str, now: datetime) -> tuple[str, bool]:
    """An item out of the plan, with the reason (the same rules as `/plan <id> remove`)."""
    plan = uow.plans.plan(interview.id)
    if plan is None or not n.isdigit() or int(n) not in {i.position for i in plan.active}:
        return "remove_bad_item", False
    if not reason:
        return "remove_no_reason", False
    uow.plans.remove_item(interview.id, int(n), " ".join(reason.split()), by=person_id, now=now)
    return _done(uow, interview, person_id, now, "plan_item_removed", "item_removed")


def _schedule(uow: UnitOfWork, interview: InterviewRecord, person_id: int, months: str,
              now: datetime) -> tuple[str, bool]:
    chosen = plans.interval_named(months)
    if chosen == "":
        return "schedule_bad", False
    if chosen is None:
        uow.plans.set_schedule(interview.id, None, None)
        return _done(uow, interview, person_id, now, "schedule_off", "schedule_off")
    assert isinstance(chosen, int)
    if State(interview.state) is not State.SUBMITTED:
        return "not_submitted", False
    if plans.family_of(uow, interview) is None:
        return "no_family", False
    uow.plans.set_schedule(interview.id, chosen, plans.add_months(now.date(), chosen))
    return _done(uow, interview, person_id, now, "schedule_set", "schedule_set")


def _family_locale(uow: UnitOfWork, interview: InterviewRecord) -> str:
    family = plans.family_of(uow, interview)
    return family.locale if family is not None else "en"


def _done(uow: UnitOfWork, interview: InterviewRecord, person_id: int, now: datetime,
          kind: str, notice: str) -> tuple[str, bool]:
    uow.audit.add(kind, interview_id=interview.id, person_id=person_id, now=now, detail=WEB)
    return notice, True


def family_links(uow: UnitOfWork, person_id: int, interview_id: str, web_url: str | None,
                 now: datetime) -> list[str] | None:
    """The owner's one-time links back to the family's web page (bot/inbox.py: the chat's
    `/familylink` makes the same), audited; [] when the family is not on the web or the
    hourly limit is spent; None when not this clinician's interview to change."""
    interview = owned(uow, person_id, interview_id, now, "web_family_link")
    if interview is None:
        return None
    links = inbox.new_links(uow, web_url, interview, now)
    if links:
        uow.audit.add("family_link", interview_id=interview.id, person_id=person_id, now=now,
                      detail=WEB)
    return links
