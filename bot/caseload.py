"""A clinician's hold on interviews: who may use one, and invitations to families."""

from __future__ import annotations

from bot.access import code_hash, is_clinician, may_access, new_code, plausible_interview_id
from bot.context import StepContext
from bot.replies import Say
from store.records import InterviewRecord, Person

LIBRARY = "clinician.j2"
#: Button payload that opens an interview (the clinician feature answers it).
OPEN = "acc:open:"


def may_use(person: Person, interview: InterviewRecord) -> bool:
    """A clinician works only on the interviews they own, never as someone's respondent."""
    if is_clinician(person):
        return interview.owner_id == person.id
    return may_access(person, interview)


def require_clinician(ctx: StepContext, command: str) -> bool:
    """True for a clinician; anyone else is told no, and the attempt is audited."""
    if is_clinician(ctx.person):
        return True
    ctx.audit("denied", command)
    ctx.say("not_clinician", library=LIBRARY)
    return False


def owned_interview(ctx: StepContext, raw_id: str, action: str) -> InterviewRecord | None:
    """The interview with this id if this person may use it; else say "not found".

    Unknown and foreign ids get the same answer, so the reply is no existence oracle.
    """
    interview_id = raw_id.strip()
    found = ctx.uow.interviews.get(interview_id) if plausible_interview_id(interview_id) else None
    if found is None or not may_use(ctx.person, found):
        # Audited without the id: a guessed id must not land in a stranger's trail.
        ctx.audit("denied", action)
        ctx.say(f"{action}_usage" if not interview_id else "not_found", library=LIBRARY)
        return None
    return found


def invite(ctx: StepContext, interview: InterviewRecord) -> None:
    """Issue a fresh single-use code for an interview (older unused ones stop working)."""
    ctx.uow.access.revoke_invites(interview.id, now=ctx.now)
    code = new_code()
    expires = ctx.now + ctx.access.invite_ttl
    ctx.uow.access.add_invite(
        code_hash(code),
        interview_id=interview.id,
        created_by=ctx.person.id,
        now=ctx.now,
        expires_at=expires,
    )
    ctx.audit("invited", interview_id=interview.id)
    ctx.replies.append(
        Say(
            message="invite_created",
            library=LIBRARY,
            params={
                "nickname": interview.subject_nickname,
                "interview_id": interview.id,
                "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
                "code": None,
                "link": None,
            },
            # The code is shown once: only its hash is stored, not even in the delivery.
            secret={"code": code, "link": ctx.access.invite_link(code)},
            choices=[("button_start_now", f"{OPEN}{interview.id}")],
        )
    )
