"""What the service needs from a store, met by the SQLite and the PostgreSQL one alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from store.cipher import Cipher
from store.contract import UnitOfWork

T = TypeVar("T")


class Backend(Protocol):
    """One committed transaction per `run`, a read-only view per `read`.

    Both raise the store's own errors (store/errors.py), never a driver's.
    """

    cipher: Cipher | None

    async def run(self, step: Callable[[UnitOfWork], T], *, first: bool = False) -> T:
        """Run a step in its own transaction; return once it is committed and durable.

        `first`: ahead of the steps already waiting, where the store queues them (SQLite's
        group commit); a hint, for a step everyone else waits on.
        """
        ...

    async def read(self, query: Callable[[UnitOfWork], T]) -> T:
        """Run a query that changes nothing."""
        ...

    async def checkpoint(self) -> None:
        """Make the files self-contained where that means anything (SQLite's WAL)."""
        ...

    async def close(self) -> None:
        """Finish what is queued and release connections and threads."""
        ...
