"""The durable inbound queue's table (migration 0016) on SQLite and PostgreSQL, and the
writer's `first` steps."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.backend import Backend
from store.cipher import new_key
from store.contract import UnitOfWork
from store.memory import MemoryStore
from store.repos.incoming import Arrived
from store.sqlite import Store

NOW = datetime(2026, 11, 29, tzinfo=UTC)
BOT = "777"

pytestmark = pytest.mark.both_backends


def arrived(update_id: int, sender: str | None, words: str = "hello") -> Arrived:
    return Arrived(update_id, sender, f'{{"update_id":{update_id},"text":"{words}"}}')


async def keep(store: Backend, *updates: Arrived, bot: str = BOT) -> None:
    def step(uow: UnitOfWork) -> None:
        uow.incoming.keep(bot, "telegram", list(updates), now=NOW)
    await store.run(step)


async def waiting(store: Backend, bot: str = BOT) -> list[Arrived]:
    return await store.read(lambda uow: uow.incoming.waiting(bot))


@pytest.fixture(params=["sql", "memory"])
async def queue_store(request: pytest.FixtureRequest, store: Backend) -> Backend:
    return store if request.param == "sql" else MemoryStore()


async def test_kept__waiting_in_update_order__once__per_bot(queue_store: Backend) -> None:
    await keep(queue_store, arrived(12, "1001"), arrived(10, "1002"))
    await keep(queue_store, arrived(11, None), arrived(10, "1002", "again"))  # 10: already kept
    await keep(queue_store, arrived(5, "1001"), bot="another bot")
    assert await waiting(queue_store) == [
        arrived(10, "1002"), arrived(11, None), arrived(12, "1001")]


async def test_handled__deleted__others_stay(queue_store: Backend) -> None:
    await keep(queue_store, arrived(1, "1001"), arrived(2, "1001"), arrived(3, "1002"))
    gone = await queue_store.run(lambda uow: uow.incoming.handled(BOT, [1, 3, 99]))
    assert gone == 2 and await waiting(queue_store) == [arrived(2, "1001")]


async def test_other_bots_rows_dropped__this_bots_kept(queue_store: Backend) -> None:
    await keep(queue_store, arrived(1, "1001"), arrived(2, "1002"))
    await keep(queue_store, arrived(1, "1001", "old token"), arrived(9, None), bot="666")
    dropped = await queue_store.run(lambda uow: uow.incoming.drop_other_bots(BOT))
    assert dropped == 2
    assert await waiting(queue_store, bot="666") == []
    assert await waiting(queue_store) == [arrived(1, "1001"), arrived(2, "1002")]


async def test_person_erased__their_waiting_updates_gone__others_kept(
    queue_store: Backend,
) -> None:
    def known(uow: UnitOfWork) -> int:
        uow.people.get_or_create("telegram", "1002", now=NOW)
        return uow.people.get_or_create("telegram", "1001", now=NOW).id

    ana = await queue_store.run(known)
    await keep(queue_store, arrived(1, "1001"), arrived(2, "1002"), arrived(3, "1001"))
    await queue_store.run(lambda uow: uow.erase_person(ana, now=NOW))
    assert await waiting(queue_store) == [arrived(2, "1002")]


async def test_keyed__body_sealed_on_disk__opens_as_kept(db_path: Path) -> None:
    store = await Store.open(db_path, data_key=new_key())
    try:
        await keep(store, arrived(7, "1001", "my son bites"))
        rows = await store.read(lambda uow: uow.conn.execute(
            "SELECT body FROM incoming").fetchall())
        assert await waiting(store) == [arrived(7, "1001", "my son bites")]
    finally:
        await store.close()
    [(body,)] = rows
    assert body.startswith("g1:") and "bites" not in body


async def test_first_step__runs_before_the_steps_queued_earlier(db_path: Path) -> None:
    store = await Store.open(db_path)
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def busy(uow: UnitOfWork) -> None:  # holds the writer while the others queue
        started.set()
        release.wait(5)

    def step(name: str):  # type: ignore[no-untyped-def]
        return lambda uow: order.append(name)

    try:
        running = asyncio.ensure_future(store.run(busy))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        queued = [asyncio.ensure_future(store.run(step(f"step{i}"))) for i in range(3)]
        urgent = asyncio.ensure_future(store.run(step("keep"), first=True))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(running, *queued, urgent)
    finally:
        release.set()
        await store.close()
    assert order == ["keep", "step0", "step1", "step2"]
