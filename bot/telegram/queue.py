"""Telegram's updates kept durably before they are confirmed, deleted once handled."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from store.backend import Backend
from store.contract import UnitOfWork
from store.errors import StepNotSaved
from store.repos.incoming import Arrived

log = logging.getLogger(__name__)

CHANNEL = "telegram"
#: Seconds a handled update's sealed page images may stay in SQLite's -wal file while
#: updates keep arriving; with none in hand the WAL is folded at once (store/sqlite.py).
FOLD_EVERY = 1.0

Json = dict[str, Any]


def sender_of(data: Json) -> str | None:
    """The Telegram id of the person an update comes from (as `people.external_id`)."""
    for name, part in data.items():
        if name != "update_id" and isinstance(part, dict):
            person = part.get("from")
            if isinstance(person, dict) and "id" in person:
                return str(person["id"])
    return None


class UpdateQueue:
    """The store's `incoming` table seen from the poller.

    `keep` returns once the updates are committed (durable): only then may Telegram be
    told they arrived. `handled` deletes an update's row right after its handler
    returned; the deletes of updates finishing together go in one step (one statement),
    which the store's group commit shares with the steps around it. A row whose delete
    was lost (a crash) is replayed at the next start, and the delivery record makes the
    repeat change nothing.
    """

    def __init__(self, store: Backend, bot_id: str, idle: Callable[[], bool] = lambda: True,
                 fold_every: float = FOLD_EVERY) -> None:
        self.store = store
        self.bot_id = bot_id
        #: Whether no update is in hand (then the WAL is folded with the next delete).
        self.idle = idle
        self.fold_every = fold_every
        self._handled: list[int] = []
        self._deleting: asyncio.Task[None] | None = None
        self._folded = time.monotonic()
        self.kept = 0
        self.deleted = 0
        self.folds = 0

    async def keep(self, updates: list[Json]) -> None:
        """Keep updates as Telegram sent them (sealed by the store); return once durable."""
        arrived = [Arrived(int(d["update_id"]), sender_of(d),
                           json.dumps(d, ensure_ascii=False, separators=(",", ":")))
                   for d in updates]
        now = datetime.now(UTC)
        bot = self.bot_id

        def keep(uow: UnitOfWork) -> None:
            uow.incoming.keep(bot, CHANNEL, arrived, now=now)

        # Ahead of the steps waiting for the writer: the next getUpdates waits for this.
        await self.store.run(keep, first=True)
        self.kept += len(arrived)

    async def waiting(self) -> list[Json]:
        """The updates kept and not handled (a crash, a stop mid-way), oldest first; what an
        earlier bot token kept is dropped."""
        bot = self.bot_id

        def waiting(uow: UnitOfWork) -> tuple[int, list[Arrived]]:
            return uow.incoming.drop_other_bots(bot), uow.incoming.waiting(bot)

        dropped, rows = await self.store.run(waiting)
        if dropped:
            log.warning("dropped %d updates another bot token had kept and not handled", dropped)
        return [json.loads(row.body) for row in rows]

    def handled(self, update_id: int) -> None:
        """Delete an update's row soon, with whatever else finished meanwhile."""
        self._handled.append(update_id)
        if self._deleting is None:
            self._deleting = asyncio.ensure_future(self._delete())

    async def settle(self) -> None:
        """Wait for the deletes asked for so far."""
        while self._deleting is not None:
            await asyncio.shield(self._deleting)

    async def _delete(self) -> None:
        try:
            while self._handled:
                ids, self._handled = self._handled, []
                now = time.monotonic()
                fold = (self.idle() and not self._handled) or now - self._folded >= self.fold_every

                def forget(uow: UnitOfWork, bot: str = self.bot_id, ids: list[int] = ids,
                           fold: bool = fold) -> int:
                    return uow.incoming.handled(bot, ids, fold=fold)

                try:
                    self.deleted += await self.store.run(forget)
                except StepNotSaved as exc:  # kept: replayed at the next start, harmlessly
                    log.warning("could not drop %d handled updates from the queue (%s)",
                                len(ids), exc)
                    continue
                if fold:
                    self._folded = now
                    self.folds += 1
        finally:
            self._deleting = None
