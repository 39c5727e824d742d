"""The family's inbox on its page: what the clinician sent, above (or below) the page.

Read on the store's read-only connection, like the rest of a GET (bot/inbox.py: `shown`);
its buttons are ordinary `/step` forms, so answering the check-in or "got it" is a step.
"""

from __future__ import annotations

from functools import partial

from bot import inbox
from bot.model import Outbound
from bot.replies import Outcome, Reply
from bot.service import DialogueService
from bot.web.pages import merge

CHANNEL = "web"
#: The messages the inbox draws (bot/inbox.py: the plan, the check-in, a re-assessment).
KEYS = frozenset({"inbox.plan", "plan.checkin_intro", "plan.checkin_tried",
                  "plan.checkin_went", "plan.reassess_due"})


class InboxPage:
    """Draws a web person's inbox messages for their page."""

    def __init__(self, service: DialogueService) -> None:
        self.service = service

    async def messages(self, user_id: str, locale: str, now: list[Outbound]
                       ) -> tuple[list[Outbound], list[Outbound]]:
        """(above the page, below it): what is new or waits for an answer goes above; the
        plan already read goes below, and only when no question is being asked."""
        found = await self.service.store.read(
            partial(inbox.shown, channel=CHANNEL, external_id=user_id))
        if found is None or not (found.top or found.below):
            return [], []
        asking = any(m.is_question for m in now)
        top = await self._render(locale, found.top)
        below = [] if asking else await self._render(locale, found.below)
        return top, below

    async def _render(self, locale: str, replies: list[Reply]) -> list[Outbound]:
        if not replies:
            return []
        return await self.service.render(Outcome(locale=locale, replies=replies,
                                                 channel=CHANNEL))


def with_inbox(pending: list[Outbound], now: list[Outbound], top: list[Outbound],
               below: list[Outbound]) -> list[Outbound]:
    """The last form's replies and the page now (pages.merge), with the inbox around them.

    A check-in question the last form's reply asked (how did it go?) is shown once: the
    inbox's copy, drawn from the plan as it stands now, wins."""
    if not top and not below:
        return merge(pending, now)
    shown = {(m.key, m.question) for m in top}
    kept = [m for m in pending if (m.key, m.question) not in shown]
    return top + merge(kept, now) + below


def from_inbox(messages: list[Outbound]) -> bool:
    """Whether the page shows something of the inbox."""
    return any(m.key in KEYS for m in messages)
