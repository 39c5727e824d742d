"""Notes, a plan for the family, its check-in, and scheduled re-assessment (issue 20).

Clinician commands: `/note <id> [text]`, `/plan <id> [add <n> [words] | edit <item> <words> |
review <date> | send]`, `/schedule <id> 3|6|off`. Family buttons: the check-in's answers
(what was tried, how it went) and "start" on a scheduled re-assessment. The scheduled
sends themselves are bot/plan_jobs.py's; what this and they share is bot/plans.py.
"""

from __future__ import annotations

from bot import caseload, inbox, plans
from bot.context import StepContext
from bot.model import Kind
from bot.replies import Reply, Say
from bot.router import Interest
from flows.lifecycle import State, is_open
from store.plan_records import Plan, PlanItem
from store.records import InterviewRecord

LIBRARY = plans.LIBRARY
#: Longest note or plan wording kept (a message, not a file).
MAX_TEXT = 2000


class Plans:
    """The clinician's notes, plan and schedule; the family's check-in answers."""

    name = "plan"
    interest = Interest(
        commands=frozenset({"note", "nota", "plan", "schedule", "agenda"}),
        buttons=(plans.PREFIX,),
    )

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private:
            return False
        if inbound.kind is Kind.CHOICE:
            self.pressed(ctx, inbound.payload)
            return True
        if inbound.kind is not Kind.COMMAND:
            return False
        command = {"nota": "note", "agenda": "schedule"}.get(inbound.payload, inbound.payload)
        if not caseload.require_clinician(ctx, command):
            return True
        raw_id, _, rest = inbound.args.strip().partition(" ")
        if not raw_id:
            ctx.say(f"{command}_usage", library=LIBRARY)
            return True
        # /note <id> and /plan <id> alone only read: the owner's supervisor may too.
        reading = command in ("note", "plan") and not rest.strip()
        interview = caseload.owned_interview(ctx, raw_id, command, read_only=reading)
        if interview is None:
            return True
        if command == "note":
            self.note(ctx, interview, rest.strip())
        elif command == "plan":
            self.plan(ctx, interview, rest.strip())
        else:
            self.schedule(ctx, interview, rest.strip())
        return True

    # -- notes ---------------------------------------------------------------------------

    @staticmethod
    def note(ctx: StepContext, interview: InterviewRecord, text: str) -> None:
        """A note kept with the interview (no text: the notes so far)."""
        if not text:
            notes = ctx.uow.plans.notes(interview.id)
            ctx.audit("notes_viewed", interview_id=interview.id)
            ctx.say("note_list", library=LIBRARY, interview_id=interview.id,
                    notes=[{"at": f"{n.at:%Y-%m-%d %H:%M}", "body": n.body} for n in notes])
            return
        if len(text) > MAX_TEXT:
            ctx.say("too_long", library=LIBRARY, limit=MAX_TEXT)
            return
        ctx.uow.plans.add_note(interview.id, text, author_id=ctx.person.id, now=ctx.now)
        ctx.audit("noted", interview_id=interview.id)
        ctx.say("note_saved", library=LIBRARY, interview_id=interview.id,
                count=len(ctx.uow.plans.notes(interview.id)))

    # -- the plan ------------------------------------------------------------------------

    def plan(self, ctx: StepContext, interview: InterviewRecord, rest: str) -> None:
        if State(interview.state) is not State.SUBMITTED:
            ctx.say("not_submitted", library=LIBRARY, interview_id=interview.id)
            return
        word, _, args = rest.partition(" ")
        action = plans.action_named(word) if word else "show"
        if action == "add":
            self.add(ctx, interview, args.strip())
        elif action == "edit":
            self.edit(ctx, interview, args.strip())
        elif action == "review":
            self.review(ctx, interview, args.strip())
        elif action == "send":
            self.send(ctx, interview)
        elif action == "show":
            self.show(ctx, interview)
        else:
            ctx.say("plan_usage", library=LIBRARY)

    @staticmethod
    def show(ctx: StepContext, interview: InterviewRecord) -> None:
        """The report's recommendations, numbered to pick from, and the plan so far."""
        recs = plans.recommendations(ctx.uow, ctx.catalog, interview)
        plan = ctx.uow.plans.plan(interview.id)
        picked = {i.recommendation for i in plan.items} if plan else set()
        schedule = ctx.uow.plans.schedule(interview.id)
        locale = ctx.person.locale
        ctx.audit("plan_viewed", interview_id=interview.id)
        ctx.say(
            "plan_show", library=LIBRARY, interview_id=interview.id,
            nickname=interview.subject_nickname,
            picks=[{"n": n, "title": plans.clinician_title(r, locale),
                      "picked": r.id in picked} for n, r in enumerate(recs, start=1)],
            items=_items(ctx, interview, plan),
            review_on=_day(plan.review_on if plan else None),
            sent=bool(plan and plan.sent_at),
            next_due=_day(schedule.next_due if schedule else None),
        )

    def add(self, ctx: StepContext, interview: InterviewRecord, args: str) -> None:
        """`add <n> [words]`: recommendation n into the plan, in the report's words or these."""
        number, _, words = args.partition(" ")
        recs = plans.recommendations(ctx.uow, ctx.catalog, interview)
        if not number.isdigit() or not 1 <= int(number) <= len(recs):
            ctx.say("bad_number", library=LIBRARY, count=len(recs), interview_id=interview.id)
            return
        if len(words) > MAX_TEXT:
            ctx.say("too_long", library=LIBRARY, limit=MAX_TEXT)
            return
        rec = recs[int(number) - 1]
        plan = ctx.uow.plans.plan(interview.id)
        if plan is not None and any(i.recommendation == rec.id for i in plan.items):
            ctx.say("already_in_plan", library=LIBRARY, interview_id=interview.id)
            return
        position = ctx.uow.plans.add_item(interview.id, rec.id, words.strip() or None,
                                          now=ctx.now)
        ctx.audit("plan_item_added", interview_id=interview.id)
        ctx.say("item_added", library=LIBRARY, interview_id=interview.id, position=position,
                title=plans.clinician_title(rec, ctx.person.locale), edited=bool(words.strip()))

    @staticmethod
    def edit(ctx: StepContext, interview: InterviewRecord, args: str) -> None:
        """`edit <item> <words>`: new words for the family for one item."""
        number, _, words = args.partition(" ")
        plan = ctx.uow.plans.plan(interview.id)
        positions = [i.position for i in plan.items] if plan else []
        if not number.isdigit() or int(number) not in positions or not words.strip():
            ctx.say("bad_item", library=LIBRARY, count=len(positions), interview_id=interview.id)
            return
        if len(words) > MAX_TEXT:
            ctx.say("too_long", library=LIBRARY, limit=MAX_TEXT)
            return
        ctx.uow.plans.set_wording(interview.id, int(number), words.strip(), now=ctx.now)
        ctx.audit("plan_item_edited", interview_id=interview.id)
        ctx.say("item_edited", library=LIBRARY, interview_id=interview.id, position=int(number))

    @staticmethod
    def review(ctx: StepContext, interview: InterviewRecord, args: str) -> None:
        day = plans.parse_day(args)
        problem = plans.review_problem(day, ctx.now.date())
        if problem is not None or day is None:
            ctx.say(problem or "review_bad_date", library=LIBRARY, interview_id=interview.id,
                    today=ctx.now.date().isoformat())
            return
        ctx.uow.plans.set_review(interview.id, day, now=ctx.now)
        ctx.audit("plan_review_set", day.isoformat(), interview_id=interview.id)
        ctx.say("review_set", library=LIBRARY, interview_id=interview.id,
                review_on=day.isoformat())

    @staticmethod
    def send(ctx: StepContext, interview: InterviewRecord) -> None:
        """The family receives the plan in its chat, in its language (as notifications do)."""
        plan = ctx.uow.plans.plan(interview.id)
        if plan is None or not plan.items:
            ctx.say("plan_empty", library=LIBRARY, interview_id=interview.id)
            return
        after = _deliver(ctx, interview)
        if after is None:
            return
        ctx.say("plan_sent", library=LIBRARY, interview_id=interview.id,
                count=len(plan.items), review_on=_day(plan.review_on))
        ctx.replies.extend(after)

    # -- re-assessment schedule ----------------------------------------------------------

    @staticmethod
    def schedule(ctx: StepContext, interview: InterviewRecord, args: str) -> None:
        months = plans.interval_named(args) if args else ""
        if months == "":
            ctx.say("schedule_bad", library=LIBRARY, interview_id=interview.id)
            return
        if months is None:
            ctx.uow.plans.set_schedule(interview.id, None, None)
            ctx.audit("schedule_off", interview_id=interview.id)
            ctx.say("schedule_off", library=LIBRARY, interview_id=interview.id)
            return
        assert isinstance(months, int)
        if State(interview.state) is not State.SUBMITTED:
            ctx.say("not_submitted", library=LIBRARY, interview_id=interview.id)
            return
        if plans.family_of(ctx.uow, interview) is None:
            ctx.say("no_family", library=LIBRARY, interview_id=interview.id)
            return
        due = plans.add_months(ctx.now.date(), months)
        ctx.uow.plans.set_schedule(interview.id, months, due)
        ctx.audit("schedule_set", str(months), interview_id=interview.id)
        ctx.say("schedule_set", library=LIBRARY, interview_id=interview.id, months=months,
                next_due=due.isoformat())

    # -- the family's buttons ------------------------------------------------------------

    def pressed(self, ctx: StepContext, data: str) -> None:
        found = plans.decode(data)
        interview = ctx.uow.interviews.get(found.interview_id) if found else None
        if found is None or interview is None or not _may_press(ctx, interview, found):
            ctx.say("stale")
            return
        if found.kind == "r":
            if not is_open(State(interview.state)):
                ctx.say("stale")
                return
            assert ctx.conversation is not None
            ctx.audit("reassessment_started", interview_id=interview.id)
            ctx.conversation.take_up(ctx, interview)
            return
        self.checkin_answer(ctx, interview, found)

    @staticmethod
    def checkin_answer(ctx: StepContext, interview: InterviewRecord, found: plans.Pressed) -> None:
        """One answer of the check-in; "how did it go?" follows a "yes" or "partly"."""
        plan = ctx.uow.plans.plan(interview.id)
        item = next((i for i in plan.items if i.position == found.position), None) if plan else None
        if _closed(ctx, plan, item, found):
            return
        if found.kind == "t":
            ctx.uow.plans.answer_item(interview.id, found.position, tried=found.value,
                                      now=ctx.now)
        else:
            ctx.uow.plans.answer_item(interview.id, found.position, went=found.value,
                                      now=ctx.now)
        # Which button, never what it said: the answer itself is sealed in plan_items.
        ctx.audit("checkin_answered", interview_id=interview.id)
        if found.kind == "t" and found.value in ("yes", "partly"):
            ctx.say("checkin_went", [(f"went_{v}", plans.payload("w", interview.id,
                                                                  found.position, v))
                                     for v in ("better", "same", "worse", "too_soon")],
                    library=LIBRARY, n=found.position)
            return
        answered = ctx.uow.plans.plan(interview.id)
        assert answered is not None
        if all(_complete(i.tried, i.went) for i in answered.items if i.status == "sent"):
            ctx.say("checkin_done", library=LIBRARY)
            _tell_owner(ctx, interview)
        else:
            ctx.say("checkin_noted", library=LIBRARY)


def _deliver(ctx: StepContext, interview: InterviewRecord) -> list[Reply] | None:
    """The plan to the family: in its chat (that message among the replies), or kept on its
    web page (bot/inbox.py), whatever our channel; what to say after "sent" (a web family's
    link back to its page, for the clinician to give); None when no family can be reached."""
    delivered, sent = inbox.send_plan(ctx.uow, ctx.catalog, interview, ctx.inbound.channel,
                                      by=ctx.person.id, now=ctx.now)
    if not delivered:
        ctx.say("no_family", library=LIBRARY, interview_id=interview.id)
        return None
    if sent is not None:
        ctx.replies.append(sent)
        return []
    return list(inbox.family_links(ctx.uow, ctx.access.web_url, interview, ctx.now))


def _may_press(ctx: StepContext, interview: InterviewRecord, found: plans.Pressed) -> bool:
    """The family's buttons are its respondent's; the check-in's also a web person's of the
    family who was sent it (bot/inbox.py)."""
    return interview.respondent_id == ctx.person.id or (
        found.kind != "r" and inbox.may_answer_checkin(ctx.uow, interview, ctx.person.id))


def _closed(ctx: StepContext, plan: Plan | None, item: PlanItem | None,
            found: plans.Pressed) -> bool:
    """True (and said why) when this check-in question takes no answer: no check-in, no such
    item, or answered already (here or in the family's other channel: kept as it was)."""
    if plan is None or plan.checkin_at is None or item is None:
        ctx.say("stale")
        return True
    if inbox.answered_already(item.tried, item.went, found.kind):
        ctx.say("checkin_already", library=inbox.LIBRARY, n=found.position)
        return True
    return False


def _complete(tried: str | None, went: str | None) -> bool:
    return tried is not None and (tried not in ("yes", "partly") or went is not None)


def _tell_owner(ctx: StepContext, interview: InterviewRecord) -> None:
    """The clinician hears the check-in is answered (in their chat, as notifications go)."""
    owner = ctx.uow.people.by_id(interview.owner_id)
    if owner is None or owner.role != "clinician" or owner.channel != ctx.inbound.channel:
        return
    ctx.replies.append(Say(
        message="checkin_answered", library=LIBRARY, chat_id=ctx.uow.people.chat_of(owner.id),
        locale=owner.locale,
        params={"nickname": interview.subject_nickname, "interview_id": interview.id},
    ))


def _items(
    ctx: StepContext, interview: InterviewRecord, plan: Plan | None
) -> list[dict[str, object]]:
    if plan is None:
        return []
    recs = plans.recommendations(ctx.uow, ctx.catalog, interview)
    titles = {r.id: plans.clinician_title(r, ctx.person.locale) for r in recs}
    return [{"n": i.position, "title": titles.get(i.recommendation, i.recommendation),
             "edited": i.wording is not None, "status": i.status, "tried": i.tried,
             "went": i.went} for i in plan.items]


def _day(day: object) -> str | None:
    return None if day is None else str(day)
