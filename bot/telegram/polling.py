"""Long polling that confirms an update to Telegram only once it has been handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application

log = logging.getLogger(__name__)

#: Seconds Telegram holds a getUpdates open when there is nothing to hand out.
LONG_POLL = 10
#: The most to wait after failed polls (doubling from one second).
MAX_BACKOFF = 30.0


class Poller:
    """Fetches updates and hands each to the Application's update processor.

    PTB's Updater confirms a batch (asks past it) as soon as it is queued, so a process
    killed with updates still queued loses them. Here an update is confirmed only after
    its handler returned: a crash means Telegram sends it again, and the store's
    delivery record makes that repeat change nothing. Until then the same update may
    come back from getUpdates; it is recognised by its id and not started twice.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        allowed_updates: Sequence[str],
        long_poll: int = LONG_POLL,
    ) -> None:
        self.application = application
        self.allowed_updates = list(allowed_updates)
        self.long_poll = long_poll
        self.offset: int | None = None  # the first update id not yet confirmed
        self.running: dict[int, asyncio.Task[None]] = {}
        self.finished: set[int] = set()  # handled, but above an unfinished one
        self.abandoned: set[int] = set()  # cancelled mid-way: never confirmed by this process

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; then finish the updates in hand and confirm them."""
        backoff = 0.0
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.fetch())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch
                break
            try:
                updates = fetch.result()
            except TimedOut:
                continue  # a long poll outlived the HTTP timeout: ask again
            except (InvalidToken, Conflict):
                raise  # another instance polls with this token, or the token was revoked
            except TelegramError as exc:  # the network, a 5xx, a flood wait: back off
                backoff = min(max(1.0, backoff * 2), MAX_BACKOFF)
                log.warning("getUpdates failed (%s); trying again in %.0f s", exc.message, backoff)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            for update in updates:
                self.start(update)
        await self.drain()

    async def fetch(self) -> tuple[Update, ...]:
        """One getUpdates: everything from the first unconfirmed update on."""
        updates: tuple[Update, ...] = await self.application.bot.get_updates(
            offset=self.offset,
            timeout=self.long_poll,
            allowed_updates=self.allowed_updates,
        )
        return updates

    def start(self, update: Update) -> None:
        """Hand an update to the processor unless it is already in hand or done."""
        number = update.update_id
        if number in self.running or number in self.finished:
            return
        if self.offset is not None and number < self.offset:
            return  # confirmed before: Telegram should not send it, but never twice
        application = self.application
        task = asyncio.create_task(
            application.update_processor.process_update(update, application.process_update(update))
        )
        self.running[number] = task
        task.add_done_callback(lambda finished: self.done(number, finished.cancelled()))

    def done(self, number: int, cancelled: bool = False) -> None:
        """Mark an update handled and move the confirmation point past what is finished.

        A handler that raised still counts as handled (the error handler saw it, and a
        repeat would fail the same way); one cancelled mid-way does not.
        """
        self.running.pop(number, None)
        (self.abandoned if cancelled else self.finished).add(number)
        lowest_open = min(self.running.keys() | self.abandoned, default=None)
        confirmed = {n for n in self.finished if lowest_open is None or n < lowest_open}
        if confirmed:
            self.offset = max(max(confirmed) + 1, self.offset or 0)
            self.finished -= confirmed

    async def drain(self) -> None:
        """Let the updates in hand finish, then tell Telegram they are done."""
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)
        if self.offset is not None:
            with contextlib.suppress(NetworkError):
                await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1)

