"""The web app's scheduler: plans, check-ins and re-assessments due for families on the web.

The web cannot push, so "sending" there is keeping the message in the family's inbox
(bot/inbox.py) in the transaction that marks it sent (bot/plan_jobs.py: `deliver_web`);
the family's page shows it. It runs wherever the web app runs (`hearth web`, and once in
`hearth run --web`, beside the Telegram job that sends to Telegram's families).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from bot.plan_jobs import deliver_web
from bot.service import DialogueService
from store.errors import StepNotSaved

log = logging.getLogger(__name__)


async def deliver_due(service: DialogueService) -> int:
    """Keep what is due now in the web families' inboxes; how many sends."""
    return await service.store.run(
        partial(deliver_web, catalog=service.catalog, now=service.clock()))


async def run_until(service: DialogueService, stop: asyncio.Event, every: float) -> None:
    """Look now, then every `every` seconds, until `stop` is set."""
    while not stop.is_set():
        try:
            await deliver_due(service)
        except StepNotSaved as exc:  # the store was busy: nothing was kept, look again later
            log.warning("web plan sends not saved: %s", exc)
        except Exception:  # a bug must not stop the web app serving: said, and tried again
            log.exception("web plan sends failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
