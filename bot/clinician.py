"""Clinicians and access in a step: registering, inviting, listing, opening, reports, erasure."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.access import (
    WRONG_CODE,
    code_hash,
    find_invite,
    is_clinician,
    may_access,
    may_export_full_report,
    new_code,
    plausible_interview_id,
)
from bot.data import commands as data_commands
from bot.data import followup
from bot.model import Kind
from bot.replies import Export, ReviewRow, Say
from flows.answers import decode_value
from flows.engine import Answer, Answers, progress, questions
from flows.lifecycle import OPEN_STATES, State
from scoring import has_rules
from store.records import InterviewRecord, Person
from store.repository import Repository

if TYPE_CHECKING:
    from bot.steps import Step

LIBRARY = "clinician.j2"
#: Button payloads of this module start with it; the interview's own payloads never do.
PREFIX = "acc:"
#: The longest child nickname a clinician may give (a first name or nickname, no more).
MAX_NICKNAME = 40
#: How a person confirms "/forget" by typing (compared after folding case and punctuation).
#: ("sí, borrar" is what the Spanish confirmation asks for; "si" without the accent too.)
ERASE_WORDS = frozenset(
    {"yes erase", "yes, erase", "sí borrar", "sí, borrar", "si borrar", "si, borrar"}
)


def say(
    step: Step, message: str, choices: list[tuple[str, str]] | None = None, **params: Any
) -> None:
    """A reply from this module's message library."""
    step.replies.append(Say(message=message, params=params, choices=choices or [], library=LIBRARY))


def dispatch(step: Step) -> bool:
    """Handle access commands, their buttons and erasure confirmations; False: not ours."""
    inbound = step.inbound
    step.repo.remember_chat(step.person.id, inbound.chat_id)
    if inbound.kind is Kind.CHOICE and inbound.payload.startswith(PREFIX):
        choice(step, inbound.payload.removeprefix(PREFIX))
        return True
    requested = step.repo.erasure_requested_at(step.person.id)
    if requested is not None:
        if inbound.kind is Kind.TEXT and _folded(inbound.payload) in ERASE_WORDS:
            confirm_erasure(step)
            return True
        # Anything else lets the request lapse, so a later "yes, erase" typed as an
        # answer can never erase by surprise.
        step.repo.cancel_erasure(step.person.id)
    if inbound.kind is not Kind.COMMAND:
        return False
    args = inbound.args.strip()
    if inbound.payload == "start" and args:
        claim(step, args)
        return True
    handler = COMMANDS.get(inbound.payload)
    if handler is None:
        return False
    handler(step, args)
    return True


def _folded(text: str) -> str:
    return " ".join(text.casefold().replace("“", "").replace("”", "").strip(' ."!').split())


def choice(step: Step, action: str) -> None:
    verb, _, arg = action.partition(":")
    if verb == "open":
        open_interview(step, arg)
    elif verb == "erase":
        confirm_erasure(step)
    elif verb == "keep":
        step.repo.cancel_erasure(step.person.id)
        say(step, "forget_cancelled")
    elif verb == followup.SAME:
        followup.keep_previous(step, arg)
    else:
        step.say("stale")


# -- operators ------------------------------------------------------------------------------


def clinician_command(step: Step, args: str) -> None:
    """`/clinician add|remove <id>`: only an operator listed in HEARTH_ADMIN_IDS."""
    if not step.access.is_admin(step.inbound.channel, step.inbound.user_id):
        audit(step, "denied", "clinician")
        say(step, "not_admin")
        return
    verb, _, target = args.partition(" ")
    target = target.strip()
    if verb not in ("add", "remove") or not target or " " in target or len(target) > 80:
        say(step, "clinician_usage")
        return
    channel, _, external_id = target.rpartition(":")
    person = grant_role(
        step.repo,
        channel or step.inbound.channel,
        external_id,
        "clinician" if verb == "add" else "caregiver",
        by=step.person.id,
        now=step.now,
    )
    say(
        step,
        "clinician_added" if verb == "add" else "clinician_removed",
        who=target,
        person=person.id,
    )


def grant_role(
    repo: Repository, channel: str, external_id: str, role: str, *, by: int | None, now: datetime
) -> Person:
    """Give a person (created if new) a role, with an audit event; the CLI uses it too."""
    person = repo.person(channel, external_id, now=now)
    repo.set_role(person.id, role)
    person.role = role
    repo.add_event("role", interview_id=None, person_id=by, now=now, detail=f"{person.id}:{role}")
    return person


def audit(
    step: Step, kind: str, detail: str | None = None, interview_id: str | None = None
) -> None:
    """An audit event by this person; about no interview unless one is named."""
    step.repo.add_event(
        kind, interview_id=interview_id, person_id=step.person.id, now=step.now, detail=detail
    )


# -- clinicians: creating and inviting --------------------------------------------------------


def _require_clinician(step: Step, command: str) -> bool:
    if is_clinician(step.person):
        return True
    audit(step, "denied", command)
    say(step, "not_clinician")
    return False


def new_command(step: Step, args: str) -> None:
    """`/new <nickname>`: an interview for a family, with its invitation link."""
    if not _require_clinician(step, "new"):
        return
    nickname = " ".join(args.split())
    if not nickname or len(nickname) > MAX_NICKNAME:
        say(step, "new_usage", limit=MAX_NICKNAME)
        return
    flow = step.catalog.latest(step.catalog.default_flow)
    interview = step.repo.create_interview(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=step.person.id,
        respondent_id=None,
        nickname=nickname,
        state=State.CONSENT.value,
        now=step.now,
    )
    audit(step, "created", flow.key, interview.id)
    invite(step, interview)


def invite(step: Step, interview: InterviewRecord) -> None:
    """Issue a fresh single-use code for an interview (older unused ones stop working)."""
    step.repo.revoke_invites(interview.id, now=step.now)
    code = new_code()
    expires = step.now + step.access.invite_ttl
    step.repo.add_invite(
        code_hash(code),
        interview_id=interview.id,
        created_by=step.person.id,
        now=step.now,
        expires_at=expires,
    )
    audit(step, "invited", interview_id=interview.id)
    step.replies.append(
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
            secret={"code": code, "link": step.access.invite_link(code)},
            choices=[("button_start_now", f"{PREFIX}open:{interview.id}")],
        )
    )


def invite_command(step: Step, args: str) -> None:
    """`/invite <id>`: a new link for an interview no family has claimed yet."""
    if not _require_clinician(step, "invite"):
        return
    interview = owned_interview(step, args, "invite")
    if interview is None:
        return
    if interview.respondent_id is not None or State(interview.state) not in OPEN_STATES:
        say(step, "invite_not_possible", interview_id=interview.id)
        return
    invite(step, interview)


def owned_interview(step: Step, raw_id: str, action: str) -> InterviewRecord | None:
    """The interview with this id if this person may use it; else say "not found".

    Unknown and foreign ids get the same answer, so the reply is no existence oracle.
    """
    interview_id = raw_id.strip()
    interview = step.repo.interview(interview_id) if plausible_interview_id(interview_id) else None
    if interview is None or not _may_use(step.person, interview):
        # Audited without the id: a guessed id must not land in a stranger's trail.
        audit(step, "denied", action)
        if not interview_id:
            say(step, f"{action}_usage")
        else:
            say(step, "not_found")
        return None
    return interview


def _may_use(person: Person, interview: InterviewRecord) -> bool:
    # A clinician works only on the interviews they own, never as someone's respondent.
    if is_clinician(person):
        return interview.owner_id == person.id
    return may_access(person, interview)


# -- clinicians: listing and opening ----------------------------------------------------------


def interviews_command(step: Step, args: str) -> None:
    """`/interviews`: the clinician's own interviews, most recently active first."""
    if not _require_clinician(step, "interviews"):
        return
    rows: list[dict[str, Any]] = []
    for interview in step.repo.interviews_owned(step.person.id):
        flow = step.catalog.get(interview.flow_key)
        answers = _decoded(step.repo.current_answers(interview.id))
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
        audit(step, "viewed", "list", interview.id)
    if rows:
        say(step, "interviews_list", rows=rows)
    else:
        say(step, "interviews_none")


def _decoded(stored: dict[str, tuple[object | None, int]]) -> Answers:
    return {
        key: Answer(decode_value(value) if value is not None else None, skips)
        for key, (value, skips) in stored.items()
    }


def open_command(step: Step, args: str) -> None:
    """`/open <id>`: continue a saved interview, the clinician answering."""
    open_interview(step, args)


def open_interview(step: Step, raw_id: str) -> None:
    if not _require_clinician(step, "open"):
        return
    interview = owned_interview(step, raw_id, "open")
    if interview is None:
        return
    audit(step, "viewed", "open", interview.id)
    if State(interview.state) not in OPEN_STATES:
        say(step, "interview_closed", state=interview.state, interview_id=interview.id)
        return
    say(step, "opened", nickname=interview.subject_nickname, interview_id=interview.id)
    take_up(step, interview)


def take_up(step: Step, interview: InterviewRecord) -> None:
    """Make an interview this person's active one and ask where it stopped."""
    step.person.active_interview = interview.id
    step.repo.save_person(step.person)
    step.switch_to(interview)
    state = State(interview.state)
    if state is State.CONSENT:
        step.touch()
        step.show_consent()
    elif state is State.PAUSED:
        step.resume()
    else:
        step.ask_current(welcome_back=True)


# -- families: claiming an invitation -------------------------------------------------------


def claim(step: Step, code: str) -> None:
    """`/start <code>`: become the respondent of a clinician's interview."""
    repo, person, now = step.repo, step.person, step.now
    window_start = now - step.access.wrong_code_window
    repo.forget_attempts(person.id, WRONG_CODE, window_start)
    # Checked before the code, so guessing stops counting once the limit is reached.
    if repo.attempts_since(person.id, WRONG_CODE, window_start) >= step.access.wrong_codes_allowed:
        oldest = repo.oldest_attempt_since(person.id, WRONG_CODE, window_start)
        wait = (oldest or now) + step.access.wrong_code_window - now
        audit(step, "invite_refused", "rate_limited")
        say(step, "too_many_attempts", minutes=max(1, math.ceil(wait.total_seconds() / 60)))
        return
    found = find_invite(repo, code.strip())
    if found is None:
        repo.add_attempt(person.id, WRONG_CODE, now=now)
        audit(step, "invite_refused", "wrong")
        say(step, "invite_unknown")
        return
    interview = repo.interview(found.interview_id)
    if found.used_at is not None:
        if found.used_by == person.id and interview is not None and _open(interview):
            take_up(step, interview)  # the family tapped their link again: carry on
            return
        audit(step, "invite_refused", "used")
        say(step, "invite_used")
        return
    if now >= found.expires_at:
        audit(step, "invite_refused", "expired")
        say(step, "invite_expired")
        return
    if is_clinician(person):
        say(step, "invite_clinician", interview_id=found.interview_id)
        return
    if interview is None or interview.respondent_id is not None or not _open(interview):
        audit(step, "invite_refused", "closed")
        say(step, "invite_used")
        return
    if not repo.use_invite(found.code_hash, person_id=person.id, now=now):
        say(step, "invite_used")
        return
    interview.respondent_id = person.id
    step.switch_to(interview)
    step.touch()
    step.event("claimed")
    say(step, "invite_claimed", nickname=interview.subject_nickname, interview_id=interview.id)
    take_up(step, interview)


def _open(interview: InterviewRecord) -> bool:
    return State(interview.state) in OPEN_STATES


# -- reports ------------------------------------------------------------------------------------


def report_command(step: Step, args: str) -> None:
    """`/report [id]`: the full report (its clinician) or the summary (its family)."""
    if args or is_clinician(step.person):
        interview = owned_interview(step, args, "report")
        if interview is None:
            return
    else:
        interview = _latest_submitted(step)
        if interview is None:
            say(step, "report_not_ready")
            return
    full = may_export_full_report(step.person, interview)
    if not full and State(interview.state) is not State.SUBMITTED:
        say(step, "report_not_ready")
        return
    audience: Literal["clinician", "caregiver"] = "clinician" if full else "caregiver"
    audit(step, "exported", audience, interview.id)
    step.replies.append(export_reply(step, interview, audience))
    if full:
        followup.add_change(step, interview)


def export_reply(
    step: Step, interview: InterviewRecord, audience: Literal["clinician", "caregiver"]
) -> Export:
    """An interview's current answers, packed to be rendered as a report or summary."""
    flow = step.catalog.get(interview.flow_key)
    stored = step.repo.current_answers(interview.id)
    answers = _decoded(stored)
    # Values travel encoded, as the review's do; the renderer decodes them.
    rows = [
        ReviewRow(key=q.key, value=stored[q.key][0])
        for q in questions(flow, answers)
        if q.key in stored
    ]
    return Export(
        interview_id=interview.id,
        flow=interview.flow_key,
        audience=audience,
        nickname=interview.subject_nickname,
        state=interview.state,
        rows=rows,
        at=step.now,
    )


def _latest_submitted(step: Step) -> InterviewRecord | None:
    """A caregiver's interview to report on: the active one if sent, else the latest sent."""
    active = step.interview
    if active is not None and State(active.state) is State.SUBMITTED:
        return active
    for interview in step.repo.interviews_of(step.person.id):
        if State(interview.state) is State.SUBMITTED:
            return interview
    return None


# -- notifications ------------------------------------------------------------------------------


def on_submitted(step: Step) -> None:
    """Give the person their summary (scored flows), and tell the owning clinician."""
    interview = step.interview
    if interview is None:
        return
    if has_rules(interview.flow_id):
        step.replies.append(export_reply(step, interview, "caregiver"))
    if interview.owner_id != step.person.id:
        notify_owner(step, "family_submitted", LIBRARY)


def notify_owner(step: Step, message: str, library: str) -> None:
    """Tell the interview's clinician something, in their own chat and language."""
    interview = step.interview
    assert interview is not None
    owner = step.repo.person_by_id(interview.owner_id)
    # An adapter can deliver only within its own channel.
    if owner is None or owner.channel != step.inbound.channel:
        return
    step.replies.append(
        Say(
            message=message,
            library=library,
            params={"nickname": interview.subject_nickname, "interview_id": interview.id},
            chat_id=step.repo.chat_of(owner.id),
            locale=owner.locale,
        )
    )
    step.event("notified", str(owner.id))


# -- erasure ------------------------------------------------------------------------------------


def forget_command(step: Step, args: str) -> None:
    """`/forget`: ask for confirmation before erasing everything this person gave."""
    if is_clinician(step.person) or step.repo.has_created_invites(step.person.id):
        say(step, "forget_refused")
        return
    step.repo.request_erasure(step.person.id, now=step.now)
    count = len(step.repo.interviews_of(step.person.id))
    say(
        step,
        "forget_confirm",
        count=count,
        minutes=int(step.access.erase_window.total_seconds() // 60),
        choices=[("button_erase", f"{PREFIX}erase"), ("button_keep", f"{PREFIX}keep")],
    )


def confirm_erasure(step: Step) -> None:
    """Erase, if a "/forget" is pending and recent; otherwise change nothing."""
    requested = step.repo.erasure_requested_at(step.person.id)
    if requested is None or step.now - requested > step.access.erase_window:
        step.repo.cancel_erasure(step.person.id)
        say(step, "forget_expired")
        return
    step.repo.erase_person(step.person.id, now=step.now)
    step.switch_to(None)
    say(step, "erased")


COMMANDS: dict[str, Callable[[Step, str], None]] = {
    "clinician": clinician_command,
    "new": new_command,
    "invite": invite_command,
    "interviews": interviews_command,
    "open": open_command,
    "report": report_command,
    "forget": forget_command,
    "export": data_commands.export_command,
    "followup": followup.followup_command,
}
