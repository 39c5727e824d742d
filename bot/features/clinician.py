"""Clinicians and operators: registering, creating and inviting, listing, opening, reports."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot import caseload
from bot.access import WRONG_CODE, find_invite, is_clinician, may_export_full_report
from bot.context import Hooks, StepContext
from bot.data.load import decoded
from bot.model import Kind
from bot.reporting import Audience, change_reply, export_reply
from bot.router import Interest
from flows.engine import progress
from flows.lifecycle import State, is_open
from scoring import has_rules
from store.contract import UnitOfWork
from store.records import InterviewRecord, Person

LIBRARY = caseload.LIBRARY
#: The longest child nickname a clinician may give (a first name or nickname, no more).
MAX_NICKNAME = 40


def grant_role(
    uow: UnitOfWork, channel: str, external_id: str, role: str, *, by: int | None, now: datetime
) -> Person:
    """Give a person (created if new) a role, with an audit event; the CLI uses it too."""
    person = uow.people.get_or_create(channel, external_id, now=now)
    uow.people.set_role(person.id, role)
    person.role = role
    uow.audit.add("role", interview_id=None, person_id=by, now=now, detail=f"{person.id}:{role}")
    return person


class Clinicians:
    """The clinicians' commands, invitation codes (`/start <code>`), and their notifications."""

    name = "clinician"
    interest = Interest(
        commands=frozenset(
            {"clinician", "new", "invite", "interviews", "open", "report", "start"}
        ),
        buttons=(caseload.OPEN,),
    )

    def __init__(self) -> None:
        self.commands: dict[str, Callable[[StepContext, str], None]] = {
            "clinician": self.clinician,
            "new": self.new,
            "invite": self.invite,
            "interviews": self.interviews,
            "open": self.open,
            "report": self.report,
        }

    def install(self, hooks: Hooks) -> None:
        hooks.after_submit.append(self.submitted)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not inbound.private:
            return False
        if inbound.kind is Kind.CHOICE and inbound.payload.startswith(caseload.OPEN):
            self.open(ctx, inbound.payload.removeprefix(caseload.OPEN))
            return True
        if inbound.kind is not Kind.COMMAND:
            return False
        args = inbound.args.strip()
        if inbound.payload == "start" and args:
            self.claim(ctx, args)
            return True
        command = self.commands.get(inbound.payload)
        if command is None:
            return False
        command(ctx, args)
        return True

    # -- operators --------------------------------------------------------------------------

    @staticmethod
    def clinician(ctx: StepContext, args: str) -> None:
        """`/clinician add|remove <id>`: only an operator listed in HEARTH_ADMIN_IDS."""
        if not ctx.access.is_admin(ctx.inbound.channel, ctx.inbound.user_id):
            ctx.audit("denied", "clinician")
            ctx.say("not_admin", library=LIBRARY)
            return
        verb, _, target = args.partition(" ")
        target = target.strip()
        if verb not in ("add", "remove") or not target or " " in target or len(target) > 80:
            ctx.say("clinician_usage", library=LIBRARY)
            return
        channel, _, external_id = target.rpartition(":")
        role = "clinician" if verb == "add" else "caregiver"
        person = grant_role(
            ctx.uow, channel or ctx.inbound.channel, external_id, role, by=ctx.person.id,
            now=ctx.now,
        )
        message = "clinician_added" if verb == "add" else "clinician_removed"
        ctx.say(message, library=LIBRARY, who=target, person=person.id)

    # -- creating and inviting ----------------------------------------------------------------

    @staticmethod
    def new(ctx: StepContext, args: str) -> None:
        """`/new <nickname>`: an interview for a family, with its invitation link."""
        if not caseload.require_clinician(ctx, "new"):
            return
        nickname = " ".join(args.split())
        if not nickname or len(nickname) > MAX_NICKNAME:
            ctx.say("new_usage", library=LIBRARY, limit=MAX_NICKNAME)
            return
        flow = ctx.catalog.latest(ctx.catalog.default_flow)
        interview = ctx.uow.interviews.create(
            flow_id=flow.id,
            flow_version=flow.version,
            owner_id=ctx.person.id,
            respondent_id=None,
            nickname=nickname,
            state=State.CONSENT.value,
            now=ctx.now,
        )
        ctx.audit("created", flow.key, interview_id=interview.id)
        caseload.invite(ctx, interview)

    @staticmethod
    def invite(ctx: StepContext, args: str) -> None:
        """`/invite <id>`: a new link for an interview no family has claimed yet."""
        if not caseload.require_clinician(ctx, "invite"):
            return
        interview = caseload.owned_interview(ctx, args, "invite")
        if interview is None:
            return
        if interview.respondent_id is not None or not is_open(State(interview.state)):
            ctx.say("invite_not_possible", library=LIBRARY, interview_id=interview.id)
            return
        caseload.invite(ctx, interview)

    # -- listing and opening --------------------------------------------------------------------

    @staticmethod
    def interviews(ctx: StepContext, args: str) -> None:
        """`/interviews`: the clinician's own interviews, most recently active first."""
        if not caseload.require_clinician(ctx, "interviews"):
            return
        rows: list[dict[str, Any]] = []
        for interview in ctx.uow.interviews.owned_by(ctx.person.id):
            flow = ctx.catalog.get(interview.flow_key)
            answers = decoded(ctx.uow.answers.current(interview.id))
            done = progress(flow, answers, interview.cursor)
            rows.append(
                {
                    "nickname": interview.subject_nickname or "",
                    "state": interview.state,
                    "answered": done.answered,
                    "total": done.total,
                    "updated": f"{interview.updated_at:%Y-%m-%d %H:%M} UTC",
                    "interview_id": interview.id,
                    "claimed": interview.respondent_id is not None,
                }
            )
            ctx.audit("viewed", "list", interview_id=interview.id)
        if rows:
            ctx.say("interviews_list", library=LIBRARY, rows=rows)
        else:
            ctx.say("interviews_none", library=LIBRARY)

    @staticmethod
    def open(ctx: StepContext, raw_id: str) -> None:
        """`/open <id>` (or its button): continue a saved interview, the clinician answering."""
        if not caseload.require_clinician(ctx, "open"):
            return
        interview = caseload.owned_interview(ctx, raw_id, "open")
        if interview is None:
            return
        ctx.audit("viewed", "open", interview_id=interview.id)
        if not is_open(State(interview.state)):
            ctx.say("interview_closed", library=LIBRARY, state=interview.state,
                    interview_id=interview.id)
            return
        ctx.say("opened", library=LIBRARY, nickname=interview.subject_nickname,
                interview_id=interview.id)
        assert ctx.conversation is not None
        ctx.conversation.take_up(ctx, interview)

    # -- families: claiming an invitation ---------------------------------------------------------

    @staticmethod
    def claim(ctx: StepContext, code: str) -> None:
        """`/start <code>`: become the respondent of a clinician's interview."""
        access, person, now = ctx.uow.access, ctx.person, ctx.now
        assert ctx.conversation is not None
        window_start = now - ctx.access.wrong_code_window
        access.forget_attempts(person.id, WRONG_CODE, window_start)
        # Checked before the code, so guessing stops counting once the limit is reached.
        tried = access.attempts_since(person.id, WRONG_CODE, window_start)
        if tried >= ctx.access.wrong_codes_allowed:
            oldest = access.oldest_attempt_since(person.id, WRONG_CODE, window_start)
            wait = (oldest or now) + ctx.access.wrong_code_window - now
            ctx.audit("invite_refused", "rate_limited")
            ctx.say("too_many_attempts", library=LIBRARY,
                    minutes=max(1, math.ceil(wait.total_seconds() / 60)))
            return
        found = find_invite(ctx.uow, code.strip())
        if found is None:
            access.add_attempt(person.id, WRONG_CODE, now=now)
            ctx.audit("invite_refused", "wrong")
            ctx.say("invite_unknown", library=LIBRARY)
            return
        interview = ctx.uow.interviews.get(found.interview_id)
        still_open = interview is not None and is_open(State(interview.state))
        if found.used_at is not None:
            if found.used_by == person.id and interview is not None and still_open:
                ctx.conversation.take_up(ctx, interview)  # their link tapped again: carry on
                return
            ctx.audit("invite_refused", "used")
            ctx.say("invite_used", library=LIBRARY)
            return
        if now >= found.expires_at:
            ctx.audit("invite_refused", "expired")
            ctx.say("invite_expired", library=LIBRARY)
            return
        if is_clinician(person):
            ctx.say("invite_clinician", library=LIBRARY, interview_id=found.interview_id)
            return
        if interview is None or interview.respondent_id is not None or not still_open:
            ctx.audit("invite_refused", "closed")
            ctx.say("invite_used", library=LIBRARY)
            return
        if not access.use_invite(found.code_hash, person_id=person.id, now=now):
            ctx.say("invite_used", library=LIBRARY)
            return
        interview.respondent_id = person.id
        ctx.switch_to(interview)
        ctx.touch()
        ctx.event("claimed")
        ctx.say("invite_claimed", library=LIBRARY, nickname=interview.subject_nickname,
                interview_id=interview.id)
        ctx.conversation.take_up(ctx, interview)

    # -- reports and notifications ---------------------------------------------------------------

    def report(self, ctx: StepContext, args: str) -> None:
        """`/report [id]`: the full report (its clinician) or the summary (its family)."""
        if args or is_clinician(ctx.person):
            interview = caseload.owned_interview(ctx, args, "report")
            if interview is None:
                return
        else:
            interview = self.latest_submitted(ctx)
            if interview is None:
                ctx.say("report_not_ready", library=LIBRARY)
                return
        full = may_export_full_report(ctx.person, interview)
        if not full and State(interview.state) is not State.SUBMITTED:
            ctx.say("report_not_ready", library=LIBRARY)
            return
        audience: Audience = "clinician" if full else "caregiver"
        ctx.audit("exported", audience, interview_id=interview.id)
        ctx.replies.append(export_reply(ctx.uow, ctx.catalog, interview, audience, ctx.now))
        if not full:
            return
        change = change_reply(ctx.uow, ctx.catalog, interview, ctx.person.id, ctx.now)
        if change is not None:
            ctx.audit("exported", "change", interview_id=change.earlier_id)
            ctx.replies.append(change)

    @staticmethod
    def latest_submitted(ctx: StepContext) -> InterviewRecord | None:
        """A caregiver's interview to report on: the active one if sent, else the latest sent."""
        active = ctx.interview
        if active is not None and State(active.state) is State.SUBMITTED:
            return active
        for interview in ctx.uow.interviews.of_person(ctx.person.id):
            if State(interview.state) is State.SUBMITTED:
                return interview
        return None

    @staticmethod
    def submitted(ctx: StepContext) -> None:
        """After a submission: the person's summary (scored flows), and word to the clinician."""
        interview = ctx.interview
        if interview is None:
            return
        if has_rules(interview.flow_id):
            ctx.replies.append(export_reply(ctx.uow, ctx.catalog, interview, "caregiver", ctx.now))
        if interview.owner_id != ctx.person.id:
            ctx.notify_owner("family_submitted", LIBRARY)
