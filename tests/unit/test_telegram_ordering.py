"""Per-person ordering: one person's updates in arrival order, others' alongside, no leftovers."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.ordering import KeyedLocks, PerPersonUpdateProcessor


async def run_in_order(locks: KeyedLocks, jobs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Start every job at once (in list order); each holds its key for a few loop turns."""
    finished: list[tuple[int, int]] = []

    async def job(key: int, number: int, turns: int) -> None:
        async with locks.hold(key):
            for _ in range(turns):
                await asyncio.sleep(0)
            finished.append((key, number))

    await asyncio.gather(*(job(key, n, turns) for n, (key, turns) in enumerate(jobs)))
    return finished


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=40))
def test_keyed_locks__same_key_in_arrival_order__none_kept(jobs: list[tuple[int, int]]) -> None:
    locks = KeyedLocks()
    finished = asyncio.run(run_in_order(locks, jobs))
    for key in {k for k, _ in jobs}:
        numbers = [n for k, n in finished if k == key]
        assert numbers == sorted(numbers)
    assert len(finished) == len(jobs)
    assert len(locks) == 0


async def test_keyed_locks__other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    released = asyncio.Event()

    async def slow() -> None:
        async with locks.hold("ana"):
            await released.wait()

    task = asyncio.create_task(slow())
    await asyncio.sleep(0)
    async with asyncio.timeout(1), locks.hold("leo"):
        pass  # not blocked by ana's turn
    released.set()
    await task
    assert len(locks) == 0


async def test_keyed_locks__cancelled_waiter__forgotten() -> None:
    locks = KeyedLocks()
    released = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("ana"):
            await released.wait()

    async def waiter() -> None:
        async with locks.hold("ana"):
            pass

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    second.cancel()
    released.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    assert len(locks) == 0


def test_processor__needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="max_active must be at least 1"):
        PerPersonUpdateProcessor(0)
