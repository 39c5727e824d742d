"""A clinician's hold on interviews: who may use one, and invitations to families."""

from __future__ import annotations

from datetime import datetime

from bot.access import (
    AccessPolicy,
    code_hash,
    is_clinician,
    may_access,
    may_change,
    may_read,
    new_code,
    plausible_interview_id,
)
from bot.context import StepContext
from bot.replies import Say
from flows.catalog import FlowCatalog
from flows.lifecycle import State
from store.contract import UnitOfWork
from store.records import InterviewRecord, Person

LIBRARY = "clinician.j2"
#: Button payload that opens an interview (the clinician feature answers it).
OPEN = "acc:open:"


def may_use(person: Person, interview: InterviewRecord) -> bool:
    """A clinician works only on the interviews they own, never as someone's respondent."""
    if is_clinician(person):
        return may_change(person, interview)
    return may_access(person, interview)


def require_clinician(ctx: StepContext, command: str) -> bool:
    """True for a clinician; anyone else is told no, and the attempt is audited."""
    if is_clinician(ctx.person):
        return True
    ctx.audit("denied", command)
    ctx.say("not_clinician", library=LIBRARY)
    return False


def owned_interview(
    ctx: StepContext, raw_id: str, action: str, *, read_only: bool = False
) -> InterviewRecord | None:
    """The interview with this id if this person may use it; else say "not found".

    `read_only` (a report, an export, a page) also lets the owner's supervisors in
    (bot/access.py `may_read`); anything that changes the interview is the owner's.
    Unknown and foreign ids get the same answer, so the reply is no existence oracle.
    """
    interview_id = raw_id.strip()
    found = ctx.uow.interviews.get(interview_id) if plausible_interview_id(interview_id) else None
    allowed = found is not None and (
        may_use(ctx.person, found)
        or (read_only and may_read(ctx.uow, ctx.person, found))
    )
    if found is None or not allowed:
        # Audited without the id: a guessed id must not land in a stranger's trail.
        ctx.audit("denied", action)
        ctx.say(f"{action}_usage" if not interview_id else "not_found", library=LIBRARY)
        return None
    return found


def start_follow_up(
    uow: UnitOfWork,
    catalog: FlowCatalog,
    earlier: InterviewRecord,
    *,
    by: int | None,
    respondent_id: int | None,
    now: datetime,
) -> InterviewRecord:
    """A new interview for the same child, linked to a submitted one (`/followup`, and the
    scheduled re-assessment): the newest version of the same flow, whose item ids are
    stable across versions, so the history carries over item by item."""
    flow = catalog.latest(earlier.flow_id)
    interview = uow.interviews.create(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=earlier.owner_id,
        respondent_id=respondent_id,
        nickname=earlier.subject_nickname,
        state=State.CONSENT.value,
        now=now,
    )
    uow.interviews.set_follow_up_of(interview.id, earlier.id)
    uow.audit.add("created", interview_id=interview.id, person_id=by, now=now, detail=flow.key)
    uow.audit.add("follow_up", interview_id=interview.id, person_id=by, now=now,
                  detail=earlier.id)
    return interview


def issue_invite(
    uow: UnitOfWork, access: AccessPolicy, interview: InterviewRecord, *, by: int, now: datetime
) -> tuple[str, datetime]:
    """A fresh single-use code for an interview, stored as its hash (older unused ones stop
    working): (the code, when it expires). The CLI's `hearth invite` uses it too."""
    uow.access.revoke_invites(interview.id, now=now)
    code = new_code()
    expires = now + access.invite_ttl
    uow.access.add_invite(
        code_hash(code), interview_id=interview.id, created_by=by, now=now, expires_at=expires
    )
    uow.audit.add("invited", interview_id=interview.id, person_id=by, now=now, detail=None)
    return code, expires


def invite(ctx: StepContext, interview: InterviewRecord, channel: str | None = None) -> None:
    """Issue a fresh single-use code for an interview and show its links.

    `channel` ("web", "telegram", "both"; None: the operator's default) picks the links.
    """
    code, expires = issue_invite(ctx.uow, ctx.access, interview, by=ctx.person.id, now=ctx.now)
    links = ctx.access.invite_links(code, channel)
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
                "web_link": None,
            },
            # The code is shown once: only its hash is stored, not even in the delivery.
            secret={"code": code, "link": links.telegram, "web_link": links.web},
            choices=[("button_start_now", f"{OPEN}{interview.id}")],
        )
    )
