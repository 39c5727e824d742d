"""The plan's scheduled sends: the check-in at the review date, and re-assessments when due.

Like the paused-interview reminders (bot/reminders.py): each runs inside one store
transaction that marks the send before anything goes out (`claim_checkin`, the schedule
moved to its next date), so a crash, a restart or a second worker never sends it twice.
The replies are intents; the service renders them and the adapter sends them. For
families on the web, which has no push, the same sends are kept in their inbox in that
same transaction (bot/inbox.py); `deliver_web` is the web app's scheduler pass.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import caseload, inbox, plans
from bot.replies import Outcome, Reply, Say
from flows.catalog import FlowCatalog
from flows.lifecycle import State, is_open
from store.contract import UnitOfWork
from store.plan_records import Schedule
from store.records import InterviewRecord

LIBRARY = plans.LIBRARY


def due_plan_sends(
    uow: UnitOfWork, catalog: FlowCatalog, channel: str, now: datetime
) -> list[Outcome]:
    """Every check-in and re-assessment due now for families on `channel`, marked sent."""
    return [*asked_sends(uow, catalog, channel, now),
            *due_checkins(uow, catalog, channel, now),
            *due_reassessments(uow, catalog, channel, now)]


def deliver_web(uow: UnitOfWork, catalog: FlowCatalog, now: datetime) -> int:
    """Everything due for families on the web, kept in their inboxes (bot/inbox.py) in this
    transaction: the web's "send". How many sends."""
    return len(due_plan_sends(uow, catalog, inbox.WEB, now))


def asked_sends(
    uow: UnitOfWork, catalog: FlowCatalog, channel: str, now: datetime
) -> list[Outcome]:
    """Plans the clinician sent from the web workspace, delivered in the family's chat."""
    sends: list[Outcome] = []
    for interview_id in uow.plans.sends_asked():
        interview = uow.interviews.get(interview_id)
        family = plans.family_of(uow, interview) if interview is not None else None
        if interview is None or family is None:
            uow.plans.drop_send(interview_id)  # no one to send it to
            continue
        delivered, sent = inbox.send_plan(uow, catalog, interview, channel, by=None, now=now)
        if sent is not None:
            sends.append(Outcome(locale=family.locale, replies=[sent], channel=channel))
        elif delivered:  # kept in a web family's inbox: sent, with nothing to push
            sends.append(Outcome(locale=family.locale, replies=[], channel=inbox.WEB))
    return sends


def due_checkins(
    uow: UnitOfWork, catalog: FlowCatalog, channel: str, now: datetime
) -> list[Outcome]:
    """The check-in of each sent plan whose review date has come (at most once each)."""
    sends: list[Outcome] = []
    for interview_id in uow.plans.checkins_due(now.date()):
        interview = uow.interviews.get(interview_id)
        family = plans.family_of(uow, interview) if interview is not None else None
        if interview is None or family is None:
            uow.plans.claim_checkin(interview_id, now=now)  # no one to ask: never again
            continue
        chat = uow.people.chat_of(family.id)
        if family.channel != channel or chat is None:
            continue  # another adapter's family
        plan = uow.plans.plan(interview_id)
        if plan is None or not uow.plans.claim_checkin(interview_id, now=now):
            continue
        uow.audit.add("checkin_sent", interview_id=interview_id, person_id=None, now=now)
        recs = plans.recommendations(uow, catalog, interview)
        shown = plans.family_items(recs, plan, family.locale)
        sent = {i.position for i in plan.items if i.status == "sent"}
        # The web's copy: the questions as asked now; the page asks the ones still open.
        inbox.keep(uow, inbox.web_family(uow, interview), interview_id, "checkin", {
            "nickname": interview.subject_nickname, "count": len(sent),
            "items": [{"n": i["n"], "title": i["title"], "words": i["words"]}
                      for i in shown if i["n"] in sent]}, now)
        replies: list[Reply] = [Say(
            message="checkin_intro", library=LIBRARY, chat_id=chat, locale=family.locale,
            params={"nickname": interview.subject_nickname, "count": len(sent)},
        )]
        for item in shown:
            if item["n"] not in sent:
                continue
            replies.append(Say(
                message="checkin_tried", library=LIBRARY, chat_id=chat, locale=family.locale,
                params={"n": item["n"], "title": item["title"], "words": item["words"]},
                choices=[(f"tried_{v}", plans.payload("t", interview_id, item["n"], v))
                         for v in ("yes", "partly", "no", "unknown")],
            ))
        sends.append(Outcome(locale=family.locale, replies=replies, channel=channel))
    return sends


def due_reassessments(
    uow: UnitOfWork, catalog: FlowCatalog, channel: str, now: datetime
) -> list[Outcome]:
    """For each schedule due: a follow-up interview carried over as `/followup` makes it,
    a reminder to the family with a button to start it, and word to the clinician."""
    sends: list[Outcome] = []
    for schedule in uow.plans.reassessments_due(now.date()):
        origin = uow.interviews.get(schedule.interview_id)
        family = plans.family_of(uow, origin) if origin is not None else None
        if origin is None or family is None:
            uow.plans.set_schedule(schedule.interview_id, None, None)  # no one to ask
            continue
        chat = uow.people.chat_of(family.id)
        if family.channel != channel or chat is None:
            continue
        # Moved on first: a second worker finds it moved and sends nothing.
        if not uow.plans.advance(schedule.interview_id, schedule.next_due,
                                 _next(schedule, now.date())):
            continue
        follow_up = _follow_up(uow, catalog, schedule, origin, family.id, now)
        if follow_up is None:
            continue
        uow.plans.set_follow_up(schedule.interview_id, follow_up.id)
        uow.audit.add("reassessment_due", interview_id=follow_up.id, person_id=None, now=now)
        if family.channel == inbox.WEB:
            inbox.keep(uow, [family.id], follow_up.id, "reassess",
                       {"nickname": origin.subject_nickname, "months": schedule.months}, now)
        replies: list[Reply] = [Say(
            message="reassess_due", library=LIBRARY, chat_id=chat, locale=family.locale,
            params={"nickname": origin.subject_nickname, "months": schedule.months},
            choices=[("button_start", plans.payload("r", follow_up.id))],
        )]
        owner = uow.people.by_id(origin.owner_id)
        if owner is not None and owner.role == "clinician" and owner.channel == channel:
            replies.append(Say(
                message="reassess_owner", library=LIBRARY,
                chat_id=uow.people.chat_of(owner.id), locale=owner.locale,
                params={"nickname": origin.subject_nickname, "interview_id": follow_up.id,
                        "earlier_id": origin.id},
            ))
        sends.append(Outcome(locale=family.locale, replies=replies, channel=channel))
    return sends


def _follow_up(
    uow: UnitOfWork, catalog: FlowCatalog, schedule: Schedule, origin: InterviewRecord,
    family_id: int, now: datetime,
) -> InterviewRecord | None:
    """The interview to remind about: the last one still open, else a new follow-up of the
    newest submitted one in the chain (None when there is nothing submitted to follow)."""
    last = uow.interviews.get(schedule.follow_up_id) if schedule.follow_up_id else None
    if last is not None and is_open(State(last.state)):
        return last
    base = last if last is not None and State(last.state) is State.SUBMITTED else origin
    if State(base.state) is not State.SUBMITTED:
        return None
    return caseload.start_follow_up(uow, catalog, base, by=None, respondent_id=family_id,
                                    now=now)


def _next(schedule: Schedule, today: date) -> date:
    """The next date after today on the schedule (a long outage skips, never floods)."""
    due = schedule.next_due
    while due <= today:
        due = plans.add_months(due, schedule.months)
    return due
