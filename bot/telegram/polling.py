"""Long polling through a durable queue: kept, then confirmed to Telegram, then handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application, ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.queue import Json, UpdateQueue
from store.errors import StepNotSaved

log = logging.getLogger(__name__)

#: Seconds Telegram holds a getUpdates open when there is nothing to hand out.
LONG_POLL = 10
#: The most to wait after failed polls (doubling from one second).
MAX_BACKOFF = 30.0
#: Updates in hand (kept, not yet handled) past which the poller stops fetching until
#: some finish: a flood waits at Telegram instead of growing this process's memory.
MAX_IN_HAND = 2048


def query(values: dict[str, Any]) -> RequestData:
    """A Bot API call's parameters, built as Bot methods build them."""
    # RequestParameter is not exported; its module has been stable across PTB 20-22.
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


def lean(data: Json) -> Json:
    """The update without the tapped message's keyboard, which Hearth never reads (it edits
    the message by chat and id): building its buttons as PTB objects was half of parsing a
    tap (issue 18). The queue keeps the update whole."""
    query = data.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if not isinstance(message, dict) or "reply_markup" not in message:
        return data
    message = {k: v for k, v in message.items() if k != "reply_markup"}
    return {**data, "callback_query": {**query, "message": message}}  # type: ignore[dict-item]


class Poller:
    """Fetches updates, keeps them durably, confirms them, then hands each to the processor.

    PTB's Updater confirms a batch (asks past it) as soon as it is queued, so a process
    killed with updates still queued loses them. Confirming only once an update was
    handled (this poller until issue 18) kept them at Telegram instead, but getUpdates
    hands out at most 100 updates from the first unconfirmed one: with more people than
    that waiting for a reply, the rest stayed unseen until the oldest finished. Here each
    batch is first committed to the store's queue (`UpdateQueue`: sealed, one commit per
    batch), then confirmed by the next getUpdates, then handled; a handled update's row
    is deleted right after. Updates left in the queue by a crash or a stop are replayed,
    in order, before polling resumes, and the store's delivery record makes a repeat of
    one already handled change nothing. Each update is parsed and dispatched once.

    `request` is the HTTP client for getUpdates (build_application keeps it on the
    application as `updates_request`); through it the poller reads getUpdates' raw JSON.
    Without one it falls back to `Bot.get_updates` and keeps what that parsed.
    `queue` defaults to one on the service's store.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        allowed_updates: Sequence[str],
        long_poll: int = LONG_POLL,
        request: BaseRequest | None = None,
        queue: UpdateQueue | None = None,
        max_in_hand: int = MAX_IN_HAND,
    ) -> None:
        self.application = application
        self.request = request or getattr(application, "updates_request", None)
        self.queue = queue
        self.parsed = 0  # updates built from JSON (each new update once)
        self.allowed_updates = list(allowed_updates)
        self.long_poll = long_poll
        self.max_in_hand = max_in_hand
        self.offset: int | None = None  # the first update id not yet kept
        self.running: dict[int, asyncio.Task[None]] = {}
        self.room = asyncio.Event()  # set while fewer than max_in_hand are in hand
        self.room.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Replay what the queue holds, then poll until `stop` is set; then finish the
        updates in hand, drop them from the queue and confirm the last batch."""
        queue = self.queue or self._default_queue()
        self.queue = queue
        await self.replay(queue)
        backoff = 0.0
        while not stop.is_set():
            if not self.room.is_set():
                await self._wait(self.room.wait(), stop)
                continue
            fetch = asyncio.ensure_future(self.fetch())
            if not await self._wait(fetch, stop):
                break
            try:
                raw = fetch.result()
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
            if not raw:
                continue
            try:
                await queue.keep(raw)
            except StepNotSaved as exc:  # not confirmed: Telegram hands them out again
                log.warning("could not keep %d updates (%s); asking again", len(raw), exc)
                await asyncio.sleep(1.0)
                continue
            # Durable: the next getUpdates confirms them (its offset is past them).
            self.take(raw)
        await self.drain()

    def _default_queue(self) -> UpdateQueue:
        hearth = self.application.bot_data["hearth"]
        return UpdateQueue(hearth.service.store, str(self.application.bot.id),
                           idle=lambda: not self.running)

    @staticmethod
    async def _wait(awaitable: Awaitable[object], stop: asyncio.Event) -> bool:
        """Await `awaitable` unless `stop` is set first (then cancel it); whether it finished."""
        task = asyncio.ensure_future(awaitable)
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def replay(self, queue: UpdateQueue) -> None:
        """Start the updates a crash or a stop left in the queue, oldest first."""
        waiting = await queue.waiting()
        if not waiting:
            return
        log.info("replaying %d updates kept before the last stop", len(waiting))
        # They may not have been confirmed yet: Telegram may hand them out again, and the
        # first getUpdates confirms them.
        self.take(waiting)

    def take(self, kept: list[Json]) -> None:
        """Start a batch the queue holds, in order, and ask past it from now on."""
        self.offset = max(int(d["update_id"]) for d in kept) + 1
        for data in kept:
            self.start(self.parse(data))

    async def fetch(self) -> list[Json]:
        """One getUpdates from the first update not yet kept: the updates as JSON."""
        bot = self.application.bot
        if self.request is None:
            parsed = await bot.get_updates(
                offset=self.offset, timeout=self.long_poll, allowed_updates=self.allowed_updates
            )
            return [u.to_dict() for u in parsed if self.is_new(u.update_id)]
        result = await self.request.post(
            f"{bot.base_url}/getUpdates",
            query({"offset": self.offset, "timeout": self.long_poll,
                   "allowed_updates": self.allowed_updates}),
            # As Bot.get_updates does: the long poll on top of the client's own read timeout.
            read_timeout=(self.request.read_timeout or 0) + self.long_poll,
        )
        return [data for data in (result if isinstance(result, list) else [])
                if isinstance(data, dict) and self.is_new(int(data["update_id"]))]

    def is_new(self, number: int) -> bool:
        """Whether an update id is neither in hand nor kept before (Telegram should not send
        a confirmed update again, but one is never run twice)."""
        return number not in self.running and (self.offset is None or number >= self.offset)

    def parse(self, data: Json) -> Update:
        """Build the Update from its JSON (once per update)."""
        bot = self.application.bot
        update = Update.de_json(lean(data), bot)
        self.parsed += 1
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)  # a no-op unless arbitrary callback data is on
        return update

    def start(self, update: Update) -> None:
        """Hand an update to the processor (in arrival order: one person's stay in order)."""
        number = update.update_id
        application = self.application
        task = asyncio.create_task(
            application.update_processor.process_update(update, application.process_update(update))
        )
        self.running[number] = task
        if len(self.running) >= self.max_in_hand:
            self.room.clear()
        task.add_done_callback(lambda finished: self.done(number, finished.cancelled()))

    def done(self, number: int, cancelled: bool = False) -> None:
        """Drop a handled update from the queue.

        A handler that raised still counts as handled (the error handler saw it, and a
        repeat would fail the same way); one cancelled mid-way does not: it stays in the
        queue for the next start.
        """
        self.running.pop(number, None)
        if len(self.running) < self.max_in_hand:
            self.room.set()
        if not cancelled and self.queue is not None:
            self.queue.handled(number)

    async def drain(self) -> None:
        """Let the updates in hand finish, drop them from the queue, then confirm the last
        batch to Telegram."""
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)
        if self.queue is not None:
            await self.queue.settle()
        if self.offset is not None:
            with contextlib.suppress(NetworkError):
                await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1)
