"""The web inbox's "got it" button, and the clinician's link back for a family on the web.

What the inbox holds and how the page shows it is bot/inbox.py's. This takes the family's
`inb:r:<entry id>` button, so reading happens in a step (audited), never on a GET; and
`/familylink <interview id>` (`/enlacefamilia`): the interview's clinician gets a one-time
link to give a family on the web whose browser session has ended.
"""

from __future__ import annotations

from bot import caseload, inbox
from bot.context import StepContext
from bot.model import Kind
from bot.router import Interest


class WebInbox:
    """Marks a message of the person's own inbox read."""

    name = "inbox"
    interest = Interest(commands=frozenset({"familylink", "enlacefamilia"}),
                        buttons=(inbox.PREFIX,))

    def handle(self, ctx: StepContext) -> bool:
        if ctx.inbound.kind is Kind.COMMAND:
            self.link(ctx)
            return True
        if ctx.inbound.kind is not Kind.CHOICE:
            return False
        kind, _, raw_id = ctx.inbound.payload.removeprefix(inbox.PREFIX).partition(":")
        read = ctx.uow.inbox.mark_read(ctx.person.id, int(raw_id), now=ctx.now) \
            if kind == "r" and raw_id.isdigit() and len(raw_id) < 19 else None
        if read is None:  # not theirs, or no longer there (erased): nothing to mark
            ctx.say("stale")
            return True
        # Which message, never what it said: the clinician's trail shows the plan was read.
        ctx.audit("plan_read", interview_id=read)
        ctx.say("read_done", library=inbox.LIBRARY)
        return True

    @staticmethod
    def link(ctx: StepContext) -> None:
        """`/familylink <id>`: the owner's one-time link(s) for the family's web people."""
        if not caseload.require_clinician(ctx, "familylink"):
            return
        raw_id = ctx.inbound.args.strip().partition(" ")[0]
        if not raw_id:
            ctx.say("family_link_usage", library=inbox.LIBRARY)
            return
        interview = caseload.owned_interview(ctx, raw_id, "familylink")
        if interview is None:
            return
        links = inbox.family_links(ctx.uow, ctx.access.web_url, interview, ctx.now)
        if not links:
            ctx.say("family_link_none", library=inbox.LIBRARY, interview_id=interview.id)
            return
        ctx.audit("family_link", interview_id=interview.id)
        ctx.replies.extend(links)
