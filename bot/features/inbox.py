"""The web inbox's "got it" button: the family marks the plan it was sent as read (a POST).

What the inbox holds and how the page shows it is bot/inbox.py's; this only takes the
`inb:r:<entry id>` button, so reading happens in a step (audited), never on a GET.
"""

from __future__ import annotations

from bot import inbox
from bot.context import StepContext
from bot.model import Kind
from bot.router import Interest


class WebInbox:
    """Marks a message of the person's own inbox read."""

    name = "inbox"
    interest = Interest(buttons=(inbox.PREFIX,))

    def handle(self, ctx: StepContext) -> bool:
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
