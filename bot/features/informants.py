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
from bot.context import Hooks, StepContext
from bot.model import Kind
from bot.replies import Say
from bot.router import Interest
from flows.lifecycle import State
from messages.render import LOCALES, messages_dir
from messages.words import fold, invite_channel_named, strip_accents
from store.records import InterviewRecord

LIBRARY = "informants.j2"
#: The flow a second informant answers, and the flows whose interviews may have one.
FLOW = "minimap"
ROLES = ("teacher", "caregiver")


def _key(text: str) -> str:
    return strip_accents(fold(text))


@cache
def informant_words() -> dict[str, str]:
    """Typed words -> role, from every locale's informant_words.yaml."""
    found: dict[str, str] = {}
    for locale in LOCALES:
        path = messages_dir() / locale / "informant_words.yaml"
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, words in data.get("roles", {}).items():
            for word in [name, *words]:
                found[_key(str(word))] = name
    return found


def parse_args(args: str, locale: str) -> tuple[str, str, str | None] | None:
    """`<id> <role words> [channel]` -> (id, role, channel or None); None if not that.

    The channel words are `/new`'s (words.yaml: invite_channels), any locale's."""
    interview_id, _, rest = args.strip().partition(" ")
    words = rest.split()
    if not interview_id or not words:
        return None
    channel = invite_channel_named(words[-1], locale) if len(words) > 1 else None
    if channel is not None:
        words = words[:-1]
    role = informant_words().get(_key(" ".join(words)))
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
        parsed = parse_args(args, ctx.person.locale)
        if parsed is None:
            ctx.say("informant_usage", library=LIBRARY)
            return
        raw_id, role, channel = parsed
        # The same check as /report: only the interview's owner, and unknown and foreign
        # ids get the same answer.
        primary = caseload.owned_interview(ctx, raw_id, "informant")  # audited as that
        if primary is None:
            return
        # Only an interview whose functional map the mini-map is scored on (the family's
        # developmental history): beside any other, its answers could never be compared.
        # The informant rules (scoring's models) load with the first request, not at start.
        from scoring.informants import informant_rules

        if (primary.flow_id != informant_rules(FLOW).map
                or is_informant_form(ctx, primary) is not None):
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
    """A single-use code for the form and its links, built as `/new` builds them; the code
    is shown once (only its hash is stored, not even in the delivery)."""
    code, expires = caseload.issue_invite(ctx.uow, ctx.access, form, by=ctx.person.id,
                                          now=ctx.now)
    links = ctx.access.invite_links(code, channel)
    ctx.replies.append(Say(
        message="informant_created",
        library=LIBRARY,
        params={"nickname": form.subject_nickname, "interview_id": form.id,
                "primary_id": primary.id, "role_name": role,
                "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
                "code": None, "link": None, "web_link": None},
        secret={"code": code, "link": links.telegram, "web_link": links.web},
    ))
