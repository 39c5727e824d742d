"""Invitations from a family's side: `/start <code>` makes them an interview's respondent."""

from __future__ import annotations

from bot import caseload
from bot.access import WRONG_CODE, find_invite, guessing_wait, is_clinician
from bot.context import StepContext
from bot.model import Kind
from bot.router import Interest
from flows.lifecycle import State, is_open

LIBRARY = caseload.LIBRARY
#: The resume codes' messages (bot/features/resume.py), where "ask for a code" is said.
RESUME_LIBRARY = "resume.j2"


class Invitations:
    """`/start <code>` from an invitation link: claimed once, limited against guessing."""

    name = "invitations"
    interest = Interest(commands=frozenset({"start"}))

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        code = inbound.args.strip()
        if not (inbound.private and inbound.kind is Kind.COMMAND and code):
            return False  # a bare /start is the intake's
        self.claim(ctx, code)
        return True

    @staticmethod
    def claim(ctx: StepContext, code: str) -> None:
        """`/start <code>`: become the respondent of a clinician's interview."""
        access, person, now = ctx.uow.access, ctx.person, ctx.now
        assert ctx.conversation is not None
        wait = guessing_wait(ctx.uow, ctx.access, person.id, WRONG_CODE, now)
        if wait is not None:
            ctx.audit("invite_refused", "rate_limited")
            ctx.say("too_many_attempts", library=LIBRARY, minutes=wait)
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
            if interview is not None and still_open and interview.respondent_id == person.id:
                ctx.conversation.take_up(ctx, interview)  # their link tapped again: carry on
                return
            if (interview is not None and still_open and found.used_by is not None
                    and not is_clinician(person)):
                # Claimed and under way elsewhere (another app, another phone, another
                # person): only a resume code from there carries it on here.
                ctx.audit("invite_refused", "in_use")
                ctx.say("invite_resume", library=RESUME_LIBRARY)
                return
            ctx.audit("invite_refused", "used")
            ctx.say("invite_used", library=LIBRARY)
            return
        if now >= found.expires_at:
            ctx.audit("invite_refused", "expired")
            ctx.say("invite_expired", library=LIBRARY)
            return
        if is_clinician(person):
            # A colleague's link names a colleague's interview: its id is not theirs to know.
            own = interview is not None and interview.owner_id == person.id
            ctx.say("invite_clinician", library=LIBRARY,
                    interview_id=found.interview_id if own else None)
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
        informant = ctx.uow.interviews.informant_of(interview.id)
        if informant is not None:  # a teacher's or second caregiver's form: its own welcome
            ctx.say("informant_welcome", library="informants.j2",
                    nickname=interview.subject_nickname, role_name=informant[1])
        else:
            ctx.say("invite_claimed", library=LIBRARY, nickname=interview.subject_nickname,
                    interview_id=interview.id)
        ctx.conversation.take_up(ctx, interview)
