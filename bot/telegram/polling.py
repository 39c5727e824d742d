"""Long polling that confirms an update to Telegram only once it has been handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application, ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

log = logging.getLogger(__name__)

#: Seconds Telegram holds a getUpdates open when there is nothing to hand out.
LONG_POLL = 10
#: The most to wait after failed polls (doubling from one second).
MAX_BACKOFF = 30.0
#: Seconds to wait before asking again when a poll brought only updates already in hand
#: (unless the oldest of them finishes sooner): asking at once would fetch them again and
#: again, one HTTP round trip each (15 fetches per update at 200 people, issue 18). A new
#: update waits this much longer at most while older ones are in hand.
REFETCH_PAUSE = 0.05


def query(values: dict[str, Any]) -> RequestData:
    """A Bot API call's parameters, built as Bot methods build them."""
    # RequestParameter is not exported; its module has been stable across PTB 20-22.
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


class Poller:
    """Fetches updates and hands each to the Application's update processor.

    PTB's Updater confirms a batch (asks past it) as soon as it is queued, so a process
    killed with updates still queued loses them. Here an update is confirmed only after
    its handler returned: a crash means Telegram sends it again, and the store's
    delivery record makes that repeat change nothing. Until then the same update may
    come back from getUpdates; it is recognised by its id before it is parsed, so each
    update is parsed and dispatched once however often it is fetched.

    `request` is the HTTP client for getUpdates (build_application keeps it on the
    application as `updates_request`); through it the poller reads getUpdates' raw JSON.
    Without one it falls back to `Bot.get_updates`, which parses every update fetched.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        allowed_updates: Sequence[str],
        long_poll: int = LONG_POLL,
        request: BaseRequest | None = None,
    ) -> None:
        self.application = application
        self.request = request or getattr(application, "updates_request", None)
        self.parsed = 0  # updates built from JSON (each new update once)
        self.allowed_updates = list(allowed_updates)
        self.long_poll = long_poll
        self.offset: int | None = None  # the first update id not yet confirmed
        self.running: dict[int, asyncio.Task[None]] = {}
        self.finished: set[int] = set()  # handled, but above an unfinished one
        self.abandoned: set[int] = set()  # cancelled mid-way: never confirmed by this process
        self.advanced = asyncio.Event()  # set when the confirmation point moves

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
            if not updates and self.running:
                await self.pause()
        await self.drain()

    async def pause(self) -> None:
        """Wait until the confirmation point moves, or REFETCH_PAUSE at most."""
        self.advanced.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.advanced.wait(), REFETCH_PAUSE)

    async def fetch(self) -> list[Update]:
        """One getUpdates: everything from the first unconfirmed update on; only the updates
        not already in hand are parsed."""
        bot = self.application.bot
        if self.request is None:
            parsed = await bot.get_updates(
                offset=self.offset, timeout=self.long_poll, allowed_updates=self.allowed_updates
            )
            self.parsed += len(parsed)
            return [update for update in parsed if self.is_new(update.update_id)]
        result = await self.request.post(
            f"{bot.base_url}/getUpdates",
            query({"offset": self.offset, "timeout": self.long_poll,
                   "allowed_updates": self.allowed_updates}),
            # As Bot.get_updates does: the long poll on top of the client's own read timeout.
            read_timeout=(self.request.read_timeout or 0) + self.long_poll,
        )
        updates = []
        for data in result if isinstance(result, list) else []:
            if not self.is_new(int(data["update_id"])):
                continue
            update = Update.de_json(data, bot)
            self.parsed += 1
            if isinstance(bot, ExtBot):
                bot.insert_callback_data(update)  # a no-op unless arbitrary callback data is on
            updates.append(update)
        return updates

    def is_new(self, number: int) -> bool:
        """Whether an update id is neither in hand, nor handled, nor confirmed."""
        if number in self.running or number in self.finished:
            return False
        # Confirmed before: Telegram should not send it again, but it is never run twice.
        return self.offset is None or number >= self.offset

    def start(self, update: Update) -> None:
        """Hand an update to the processor unless it is already in hand or done."""
        number = update.update_id
        if not self.is_new(number):
            return
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
            self.advanced.set()

    async def drain(self) -> None:
        """Let the updates in hand finish, then tell Telegram they are done."""
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)
        if self.offset is not None:
            with contextlib.suppress(NetworkError):
                await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1)

