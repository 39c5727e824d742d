"""Second informants: `/informant <id> teacher|caregiver [web|telegram|both]`, and their form sent.

A teacher or another caregiver answers the short mini-map (flow `minimap`) about the child
of one of the clinician's family interviews. Their form is an interview of its own, owned
by the same clinician and linked to the family's (`interviews.informant_of`): they claim it
with an ordinary invitation and see only it. docs/informants.md.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from bot import caseload
from bot.access import code_hash, new_code
from bot.context import Hooks, StepContext
from bot.model import Kind
from bot.replies import Say
from bot.router import Interest
from flows.lifecycle import State
from messages.render import LOCALES, messages_dir
from messages.words import fold, strip_accents
from store.records import InterviewRecord

LIBRARY = "informants.j2"
#: The flow a second informant answers, and the flows whose interviews may have one.
FLOW = "minimap"
ROLES = ("teacher", "caregiver")
CHANNELS = ("web", "telegram", "both")


def _key(text: str) -> str:
    return strip_accents(fold(text))


@cache
def informant_words() -> dict[str, dict[str, str]]:
    """Typed word -> role, and word -> channel, from every locale's informant_words.yaml."""
    found: dict[str, dict[str, str]] = {"roles": {}, "channels": {}}
    for locale in LOCALES:
        path = messages_dir() / locale / "informant_words.yaml"
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in found:
            for name, words in data.get(section, {}).items():
                for word in [name, *words]:
                    found[section][_key(str(word))] = name
    return found


def parse_args(args: str) -> tuple[str, str, str | None] | None:
    """`<id> <role words> [channel]` -> (id, role, channel or None); None if not that."""
    interview_id, _, rest = args.strip().partition(" ")
    words = _key(rest).split()
    if not interview_id or not words:
        return None
    known = informant_words()
    channel = known["channels"].get(words[-1]) if len(words) > 1 else None
    if channel is not None:
        words = words[:-1]
    role = known["roles"].get(" ".join(words))
    return (interview_id, role, channel) if role else None


def is_informant_form(ctx: StepContext, interview: InterviewRecord) -> tuple[str, str] | None:
    """(the family's interview id, the role) when this interview is an informant's form."""
    return ctx.uow.interviews.informant_of(interview.id)


class Informants:
    """The clinician's `/informant` (and `/informante`), and word to them when a form is sent."""

    name = "informants"
    interest = Interest(commands=frozenset({"informant", "informante"}))

    def install(self, hooks: Hooks) -> None:
        hooks.after_submit.append(self.submitted)

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not (inbound.private and inbound.kind is Kind.COMMAND):
            return False
        if inbound.payload not in self.interest.commands:
            return False
        self.informant(ctx, inbound.args)
        return True

    @staticmethod
    def informant(ctx: StepContext, args: str) -> None:
        """Create the informant's form beside one of the clinician's family interviews."""
        if not caseload.require_clinician(ctx, "informant"):
            return
        parsed = parse_args(args)
        if parsed is None:
            ctx.say("informant_usage", library=LIBRARY)
            return
        raw_id, role, channel = parsed
        # The same check as /report: only the interview's owner, and unknown and foreign
        # ids get the same answer.
        primary = caseload.owned_interview(ctx, raw_id, "report")
        if primary is None:
            return
        if primary.flow_id == FLOW or is_informant_form(ctx, primary) is not None:
            ctx.say("informant_not_possible", library=LIBRARY, interview_id=primary.id)
            return
        flow = ctx.catalog.latest(FLOW)
        form = ctx.uow.interviews.create(
            flow_id=flow.id,
            flow_version=flow.version,
            owner_id=ctx.person.id,
            respondent_id=None,
            nickname=primary.subject_nickname,
            state=State.CONSENT.value,
            now=ctx.now,
        )
        ctx.uow.interviews.set_informant_of(form.id, primary.id, role)
        ctx.audit("created", f"{flow.key}:{role}", interview_id=form.id)
        _invite(ctx, form, primary, role, channel)

    @staticmethod
    def submitted(ctx: StepContext) -> None:
        """An informant sent their form: word to the clinician (no summary for them)."""
        interview = ctx.interview
        if interview is None or interview.owner_id == ctx.person.id:
            return
        if is_informant_form(ctx, interview) is not None:
            ctx.notify_owner("informant_submitted", LIBRARY)


def _invite(ctx: StepContext, form: InterviewRecord, primary: InterviewRecord, role: str,
            channel: str | None) -> None:
    """A single-use code for the form, shown once (only its hash is stored).

    The same steps as `caseload.invite`, with the informant's own message. When the
    web-invites branch lands, its one link-building function replaces the two lines
    marked below (docs/informants.md, "Links").
    """
    ctx.uow.access.revoke_invites(form.id, now=ctx.now)
    code = new_code()
    expires = ctx.now + ctx.access.invite_ttl
    ctx.uow.access.add_invite(code_hash(code), interview_id=form.id, created_by=ctx.person.id,
                              now=ctx.now, expires_at=expires)
    ctx.audit("invited", interview_id=form.id)
    # Links: Telegram's deep link for now; the web link comes with the web channel.
    telegram = ctx.access.invite_link(code) if channel in (None, "telegram", "both") else None
    web: str | None = None
    ctx.replies.append(Say(
        message="informant_created",
        library=LIBRARY,
        params={"nickname": form.subject_nickname, "interview_id": form.id,
                "primary_id": primary.id, "role_name": role,
                "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
                "code": None, "link": None, "web_link": None},
        secret={"code": code, "link": telegram, "web_link": web},
    ))
