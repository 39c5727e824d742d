"""Per-person ordering: different people's updates run concurrently, one person's in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates allowed to wait for their turn at once; past it the fetcher waits too, so a
#: flood cannot grow memory without bound.
MAX_PENDING_UPDATES = 4096


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders plus waiters


class KeyedLocks:
    """One `asyncio.Lock` per key, forgotten as soon as nobody holds or waits for it."""

    def __init__(self) -> None:
        self._slots: dict[Hashable, _Slot] = {}

    def __len__(self) -> int:
        """How many keys are in use right now (idle keys are not kept)."""
        return len(self._slots)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for `key`'s turn (first come, first served) and hold it for the block."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.users += 1
        try:
            async with slot.lock:
                yield
        finally:
            # Counted rather than inspecting the lock's waiters: a waiter cancelled while
            # queued still leaves through here, so the count is exact.
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]


def ordering_key(update: object) -> int | None:
    """Whose turn an update waits for: the person's id (a private chat's id is the same)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different people concurrently and each person's strictly in order.

    The base class's semaphore is acquired first and in arrival order; it only bounds how
    many updates may be waiting. The per-person lock comes next (FIFO, so one person's
    updates keep their order), and only then a slot of `max_active`: a person whose
    updates queue behind their own earlier one occupies no slot another person could use.
    """

    def __init__(self, max_active: int, max_pending: int = MAX_PENDING_UPDATES) -> None:
        if max_active < 1:
            raise ValueError(f"max_active must be at least 1, got {max_active}")
        super().__init__(max(max_pending, max_active, 2))
        self.max_active = max_active
        self.locks = KeyedLocks()
        self._active = asyncio.Semaphore(max_active)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the person's turn, then for a free slot, then process."""
        key = ordering_key(update)
        if key is None:
            async with self._active:
                await coroutine
            return
        async with self.locks.hold(key), self._active:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""
