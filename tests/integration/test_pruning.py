"""Delivery pruning in batches: only deliveries past the retention window go, all of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.backend import Backend
from store.contract import UnitOfWork
from store.pruning import MAX_BATCH, MIN_BATCH, next_size, prune_deliveries

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


async def _deliveries(store: Backend) -> set[str]:
    return set(await store.read(
        lambda repo: [str(r[0]) for r in repo.conn.execute(  # type: ignore[attr-defined]
            "SELECT delivery_id FROM deliveries").fetchall()]))


async def test_prune__old_deliveries_gone_in_batches__recent_ones_still_answer(
    store: Backend,
) -> None:
    def record(repo: UnitOfWork) -> None:
        for n in range(23):
            repo.deliveries.record("telegram", f"old{n}", "{}", NOW - timedelta(days=8, minutes=n))
        for n in range(5):
            repo.deliveries.record("telegram", f"new{n}", "{}", NOW - timedelta(hours=n))

    await store.run(record)
    pruned = await prune_deliveries(store, NOW - timedelta(days=7), first=4)
    assert pruned.rows == 23
    assert pruned.batches > 1  # 23 rows never fit one batch of 4 (or its growth)
    assert await _deliveries(store) == {f"new{n}" for n in range(5)}
    assert await store.read(lambda repo: repo.deliveries.outcome("telegram", "new0")) == "{}"


async def test_prune__nothing_old__one_empty_batch(store: Backend) -> None:
    pruned = await prune_deliveries(store, NOW)
    assert (pruned.rows, pruned.batches) == (0, 1)


def test_next_size__toward_the_target__within_bounds() -> None:
    assert next_size(1000, 0.050, target=0.025) == 500  # took twice the target: halve
    assert next_size(1000, 0.001, target=0.025) == 1500  # far under: grows by half at most
    assert next_size(100, 10.0) == MIN_BATCH
    assert next_size(MAX_BATCH, 0.0) == MAX_BATCH


async def test_prune__in_memory_store__same_outcome() -> None:
    from store.memory import MemoryStore

    memory = MemoryStore()
    await memory.run(lambda repo: [
        repo.deliveries.record("telegram", f"old{n}", "{}", NOW - timedelta(days=9))
        for n in range(3)] + [repo.deliveries.record("telegram", "new", "{}", NOW)])
    pruned = await prune_deliveries(memory, NOW - timedelta(days=7))
    assert pruned.rows == 3
    assert await memory.read(lambda repo: repo.deliveries.outcome("telegram", "new")) == "{}"
    assert await memory.read(lambda repo: repo.deliveries.outcome("telegram", "old0")) is None
