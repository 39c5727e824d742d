"""Delivery pruning in small batches, so a large backlog never holds the writer for long."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from store.repos.base import ts

T = TypeVar("T")

#: Rows in the first batch; later batches are sized from how long the last one took.
FIRST_BATCH = 500
#: The bounds of a batch: a few rows always go, and never so many that one batch could run
#: long on a slow disk whatever the last one measured.
MIN_BATCH = 50
MAX_BATCH = 20_000
#: Seconds a batch aims to hold the writer: well under the 50 ms a person's step may be
#: made to wait, leaving room for the commit's fsync and for a busy machine's jitter.
TARGET = 0.010

#: The oldest deliveries first (the `deliveries_by_time` index), LIMIT rows at a time.
#: Row values work in SQLite 3.15+ and PostgreSQL; `?` is translated for the latter.
DELETE_BATCH = (
    "DELETE FROM deliveries WHERE (channel, delivery_id) IN ("
    "SELECT channel, delivery_id FROM deliveries WHERE at < ? ORDER BY at LIMIT ?)"
)


class Connection(Protocol):
    """What a batch needs of the repository's connection (sqlite3 or the PostgreSQL one)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


class HasConnection(Protocol):
    """A unit of work: the object a store hands each step (`conn` when it is SQL)."""

    deliveries: Any


class Store(Protocol):
    """Either store: runs one step on the writer, committed before it returns."""

    def run(self, step: Callable[[Any], T]) -> Awaitable[T]: ...


@dataclass
class Pruned:
    """What one pruning did: rows dropped, in how many batches, and the longest batch."""

    rows: int = 0
    batches: int = 0
    longest: float = 0.0  # seconds the slowest batch's DELETE held the writer


def delete_batch(repository: HasConnection, before: datetime, limit: int) -> tuple[int, float]:
    """Delete up to `limit` of the oldest deliveries processed before `before`.

    Returns (rows deleted, seconds the DELETE took). Runs inside a store step. A unit of
    work without SQL (the in-memory store) prunes everything at once: it holds nobody up.
    """
    started = time.perf_counter()
    conn = getattr(repository, "conn", None)
    if conn is None:
        rows = int(repository.deliveries.prune(before))
        return rows, time.perf_counter() - started
    cursor = conn.execute(DELETE_BATCH, (ts(before), limit))
    return int(cursor.rowcount), time.perf_counter() - started


def next_size(size: int, took: float, target: float = TARGET) -> int:
    """The next batch's size: scaled toward `target` seconds, growing by half at most."""
    grown = size + size // 2
    if took <= 0:
        return min(MAX_BATCH, grown)
    scaled = int(size * target / took)
    return max(MIN_BATCH, min(MAX_BATCH, grown, scaled))


async def prune_deliveries(
    store: Store, before: datetime, *, first: int = FIRST_BATCH, target: float = TARGET
) -> Pruned:
    """Forget deliveries processed before `before`, one small committed step at a time.

    Each batch is its own store step, so a person's step queued meanwhile waits for one
    batch, not for the whole backlog (800,000 rows in one DELETE held the writer ~2 s).
    """
    pruned = Pruned()
    size = first
    while True:
        rows, took = await store.run(partial(delete_batch, before=before, limit=size))
        pruned.rows += rows
        pruned.batches += 1
        pruned.longest = max(pruned.longest, took)
        if rows < size:
            return pruned
        size = next_size(size, took, target)

