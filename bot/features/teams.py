"""`/transfer`: a clinician (or their supervisor) hands an interview to a colleague."""

from __future__ import annotations

from bot import caseload
from bot.context import StepContext
from bot.model import Kind
from bot.replies import Say
from bot.router import Interest
from bot.teams import transfer
from store.records import Person

LIBRARY = "teams.j2"


def parse_person(raw: str, default_channel: str) -> tuple[str, str] | None:
    """`web:abc` -> ("web", "abc"); a bare id is on `default_channel`."""
    if not raw or " " in raw or len(raw) > 80:
        return None
    channel, _, external_id = raw.rpartition(":")
    return (channel or default_channel, external_id) if external_id else None


class Teams:
    """Handing interviews on inside a team (organisations: the operator's CLI)."""

    name = "teams"
    interest = Interest(commands=frozenset({"transfer"}))

    def handle(self, ctx: StepContext) -> bool:
        inbound = ctx.inbound
        if not (inbound.private and inbound.kind is Kind.COMMAND
                and inbound.payload == "transfer"):
            return False
        self.transfer(ctx, inbound.args.strip())
        return True

    @staticmethod
    def transfer(ctx: StepContext, args: str) -> None:
        """`/transfer <interview id> <clinician>`: the owner or a supervisor of the owner's
        organisation; audited; the new owner is told in their chat."""
        if not caseload.require_clinician(ctx, "transfer"):
            return
        words = args.split()
        target = parse_person(words[1], ctx.inbound.channel) if len(words) == 2 else None
        if target is None:
            ctx.say("transfer_usage", library=LIBRARY)
            return
        # Supervisors may hand on their team's interviews, so the read check finds it.
        interview = caseload.owned_interview(ctx, words[0], "transfer", read_only=True)
        if interview is None:
            return
        heir = ctx.uow.people.find(*target)
        done = transfer(ctx.uow, interview, heir, by=ctx.person, now=ctx.now) if heir else None
        if done is None:
            ctx.say("transfer_not_possible", library=LIBRARY, to=words[1])
            return
        params: dict[str, object] = {"nickname": interview.subject_nickname,
                                     "interview_id": interview.id}
        ctx.say("transferred", library=LIBRARY, to=words[1], nickname=interview.subject_nickname,
                interview_id=interview.id)
        # An adapter delivers only within its own channel: a colleague elsewhere sees the
        # interview in their list (and on the web workspace) without a message.
        Teams.tell(ctx, done.heir, "transfer_received", params)
        # A supervisor moved it: its former clinician hears why it left their list.
        if done.previous is not None and done.previous.id != ctx.person.id:
            Teams.tell(ctx, done.previous, "transfer_taken", params)

    @staticmethod
    def tell(ctx: StepContext, person: Person, message: str, params: dict[str, object]) -> None:
        """A notice to another clinician's chat, in their language, audited as `notified`."""
        if person.channel != ctx.inbound.channel or person.role != "clinician":
            return
        ctx.replies.append(Say(
            message=message, library=LIBRARY, params=params,
            chat_id=ctx.uow.people.chat_of(person.id), locale=person.locale,
        ))
        ctx.audit("notified", str(person.id), interview_id=str(params["interview_id"]))
