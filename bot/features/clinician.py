"""Clinicians and operators: registering, creating and inviting, listing, opening, reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import caseload
from bot.access import caseload_owners, is_clinician, may_read
from bot.context import Hooks, StepContext
from bot.data.load import decoded
from bot.model import Kind
from bot.reporting import Audience, change_reply, export_reply, safety_notes
from bot.router import Interest
from flows.catalog import FlowCatalog
from flows.engine import progress
from flows.lifecycle import State, is_open
from messages.words import invite_channel_named
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


#: The account that holds a removed clinician's interviews until the operator hands them
#: on: on a channel no adapter serves, so nobody can write as it and nothing reaches it.
HOLD = ("operator", "held")


@dataclass(frozen=True)
class Handover:
    """A clinician's role ended: who they were, who has their interviews now, which."""

    person: Person
    heir: Person | None  # None: held for the operator
    moved: list[str]


def end_role(
    uow: UnitOfWork,
    channel: str,
    external_id: str,
    *,
    to: tuple[str, str] | None,
    by: int | None,
    now: datetime,
) -> Handover | None:
    """Take the clinician role back and end every access it gave, at once.

    Their interviews go to `to` (a registered clinician) or to the operator's hold; their
    active interview is released; each move is audited (`reassigned`, `<from>:<to>`).
    None, with nothing changed, when `to` is not a clinician (or is the same person).
    """
    heir = uow.people.find(*to) if to is not None else None
    person = uow.people.find(channel, external_id)
    if to is not None and (
        heir is None or not is_clinician(heir) or (person is not None and heir.id == person.id)
    ):
        return None
    person = grant_role(uow, channel, external_id, "caregiver", by=by, now=now)
    uow.teams.drop_person(person.id)  # no longer in any team: a supervisor reads nothing more
    uow.clinic.end_sessions_of(person.id)  # their web workspace closes with the role
    if person.active_interview is not None:
        person.active_interview = None
        uow.people.save(person)
    keeper = heir or uow.people.get_or_create(*HOLD, now=now)
    moved = uow.interviews.transfer_owner(person.id, keeper.id, now=now)
    for interview_id in moved:
        if heir is None:  # nobody may continue a held interview: its links stop working
            uow.access.revoke_invites(interview_id, now=now)
        uow.audit.add(
            "reassigned", interview_id=interview_id, person_id=by, now=now,
            detail=f"{person.id}:{heir.id if heir else 'held'}",
        )
    return Handover(person, heir, moved)


def assign_held(
    uow: UnitOfWork, channel: str, external_id: str, *, by: int | None, now: datetime
) -> list[str] | None:
    """Hand every held interview to a registered clinician (None if they are not one)."""
    heir = uow.people.find(channel, external_id)
    keeper = uow.people.find(*HOLD)
    if heir is None or not is_clinician(heir):
        return None
    if keeper is None:
        return []
    moved = uow.interviews.transfer_owner(keeper.id, heir.id, now=now)
    for interview_id in moved:
        uow.audit.add(
            "reassigned", interview_id=interview_id, person_id=by, now=now,
            detail=f"held:{heir.id}",
        )
    return moved


def new_family_interview(
    uow: UnitOfWork, catalog: FlowCatalog, owner_id: int, nickname: str, *, now: datetime
) -> InterviewRecord:
    """A clinician's interview for a family, on the default flow, waiting for its consent."""
    flow = catalog.latest(catalog.default_flow)
    interview = uow.interviews.create(
        flow_id=flow.id,
        flow_version=flow.version,
        owner_id=owner_id,
        respondent_id=None,
        nickname=nickname,
        state=State.CONSENT.value,
        now=now,
    )
    uow.audit.add("created", interview_id=interview.id, person_id=owner_id, now=now,
                  detail=flow.key)
    return interview


def split_channel(args: str, locale: str) -> tuple[str, str | None]:
    """`Sam web` -> ("Sam", "web"): a trailing channel word (any locale's) and the rest."""
    words = args.split()
    channel = invite_channel_named(words[-1], locale) if len(words) > 1 else None
    if channel is not None:
        words = words[:-1]
    return " ".join(words), channel


def _parse_target(raw: str, default_channel: str) -> tuple[str, str] | None:
    if not raw or " " in raw or len(raw) > 80:
        return None
    channel, _, external_id = raw.rpartition(":")
    return (channel or default_channel, external_id) if external_id else None


def _informant_columns(ctx: StepContext, interview: InterviewRecord) -> dict[str, str | None]:
    linked = ctx.uow.interviews.informant_of(interview.id)
    return {"informant_of": linked[0] if linked else None, "role": linked[1] if linked else None}


def _forms_under_their_child(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each second informant's form right under the family's interview it belongs to."""
    listed = {row["interview_id"] for row in rows}
    ordered: list[dict[str, Any]] = []
    for row in rows:
        if row["informant_of"] in listed:
            continue  # placed under its child below
        ordered.append(row)
        ordered.extend(r for r in rows if r["informant_of"] == row["interview_id"])
    return ordered


class Clinicians:
    """The clinicians' commands and their notifications (invitation codes: invitations.py)."""

    name = "clinician"
    interest = Interest(
        commands=frozenset(
            {"clinician", "new", "invite", "interviews", "open", "report"}
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
        words = args.split()
        verb, target, *_ = [*words, "", ""]
        heir = ""
        if len(words) == 4 and verb == "remove" and words[2] == "--to":
            heir = words[3]
        elif len(words) != 2:
            verb = ""
        here = ctx.inbound.channel
        who = _parse_target(target, here)
        to = _parse_target(heir, here) if heir else None
        if verb not in ("add", "remove") or who is None or (heir and to is None):
            ctx.say("clinician_usage", library=LIBRARY)
            return
        if verb == "add":
            person = grant_role(ctx.uow, *who, "clinician", by=ctx.person.id, now=ctx.now)
            ctx.say("clinician_added", library=LIBRARY, who=target, person=person.id)
            return
        handover = end_role(ctx.uow, *who, to=to, by=ctx.person.id, now=ctx.now)
        if handover is None:
            ctx.say("clinician_heir_unknown", library=LIBRARY, to=heir)
            return
        ctx.say("clinician_removed", library=LIBRARY, who=target, person=handover.person.id,
                moved=len(handover.moved), to=heir or None)

    # -- creating and inviting ----------------------------------------------------------------

    @staticmethod
    def new(ctx: StepContext, args: str) -> None:
        """`/new <nickname>`: an interview for a family, with its invitation link."""
        if not caseload.require_clinician(ctx, "new"):
            return
        nickname, channel = split_channel(args, ctx.person.locale)
        if not nickname or len(nickname) > MAX_NICKNAME:
            ctx.say("new_usage", library=LIBRARY, limit=MAX_NICKNAME)
            return
        interview = new_family_interview(
            ctx.uow, ctx.catalog, ctx.person.id, nickname, now=ctx.now
        )
        caseload.invite(ctx, interview, channel)

    @staticmethod
    def invite(ctx: StepContext, args: str) -> None:
        """`/invite <id>`: a new link for an interview no family has claimed yet."""
        if not caseload.require_clinician(ctx, "invite"):
            return
        raw_id, channel = split_channel(args, ctx.person.locale)
        interview = caseload.owned_interview(ctx, raw_id, "invite")
        if interview is None:
            return
        if interview.respondent_id is not None or not is_open(State(interview.state)):
            ctx.say("invite_not_possible", library=LIBRARY, interview_id=interview.id)
            return
        caseload.invite(ctx, interview, channel)

    # -- listing and opening --------------------------------------------------------------------

    @staticmethod
    def interviews(ctx: StepContext, args: str) -> None:
        """`/interviews`: the clinician's own interviews (and, for a supervisor, their
        team's), most recently active first."""
        if not caseload.require_clinician(ctx, "interviews"):
            return
        rows: list[dict[str, Any]] = []
        listed = [i for owner in caseload_owners(ctx.uow, ctx.person)
                  for i in ctx.uow.interviews.owned_by(owner)]
        listed.sort(key=lambda i: i.updated_at, reverse=True)
        for interview in listed:
            flow = ctx.catalog.get(interview.flow_key)
            answers = decoded(ctx.uow.answers.current(interview.id))
            done = progress(flow, answers, interview.cursor)
            caught = [note.kind for note in safety_notes(ctx.uow, interview.id)]
            rows.append(
                {
                    "nickname": interview.subject_nickname or "",
                    "state": interview.state,
                    "answered": done.answered,
                    "total": done.total,
                    "updated": f"{interview.updated_at:%Y-%m-%d %H:%M} UTC",
                    "interview_id": interview.id,
                    "claimed": interview.respondent_id is not None,
                    "team": interview.owner_id != ctx.person.id,
                    "danger": caught.count("danger"),
                    "disclosures": caught.count("disclosure"),
                    **_informant_columns(ctx, interview),
                }
            )
            ctx.audit("viewed", "list", interview_id=interview.id)
        rows = _forms_under_their_child(rows)
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

    # -- reports and notifications ---------------------------------------------------------------

    def report(self, ctx: StepContext, args: str) -> None:
        """`/report [id]`: the full report (its clinician) or the summary (its family)."""
        if args or is_clinician(ctx.person):
            interview = caseload.owned_interview(ctx, args, "report", read_only=True)
            if interview is None:
                return
        else:
            interview = self.latest_submitted(ctx)
            if interview is None:
                ctx.say("report_not_ready", library=LIBRARY)
                return
        full = may_read(ctx.uow, ctx.person, interview)
        if not full and State(interview.state) is not State.SUBMITTED:
            ctx.say("report_not_ready", library=LIBRARY)
            return
        audience: Audience = "clinician" if full else "caregiver"
        ctx.audit("exported", audience, interview_id=interview.id)
        ctx.replies.append(export_reply(ctx.uow, ctx.catalog, interview, audience, ctx.now))
        if not full:
            return
        change = change_reply(ctx.uow, ctx.catalog, interview, interview.owner_id, ctx.now)
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
        # An informant's form is not the family's: its word is the informants feature's.
        if interview.owner_id != ctx.person.id and not ctx.uow.interviews.informant_of(
                interview.id):
            ctx.notify_owner("family_submitted", LIBRARY)
