"""Web sessions in the store: the same behaviour on the fake, a SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.backend import Backend
from store.contract import UnitOfWork

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_erase_person__takes_their_web_sessions_only(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> int:
        ana = uow.people.get_or_create("web", "w-ana", now=NOW)
        uow.people.get_or_create("web", "w-leo", now=NOW)
        uow.web_sessions.add("hash-ana-phone", "w-ana", now=NOW)
        uow.web_sessions.add("hash-ana-laptop", "w-ana", now=NOW)
        uow.web_sessions.add("hash-leo", "w-leo", now=NOW)
        return ana.id

    ana = await any_store.run(setup)
    await any_store.run(lambda uow: uow.erase_person(ana, now=NOW))
    left = await any_store.read(lambda uow: [
        uow.web_sessions.get(h) for h in ("hash-ana-phone", "hash-ana-laptop", "hash-leo")])
    assert [s.user_id if s else None for s in left] == [None, None, "w-leo"]


async def test_prune__idle_or_too_old__dropped(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> None:
        uow.web_sessions.add("old", "w-1", now=NOW - timedelta(days=40))
        uow.web_sessions.seen("old", now=NOW)  # used lately, but begun too long ago
        uow.web_sessions.add("idle", "w-2", now=NOW - timedelta(days=5))
        uow.web_sessions.add("fresh", "w-3", now=NOW - timedelta(hours=1))

    await any_store.run(setup)
    dropped = await any_store.run(lambda uow: uow.web_sessions.prune(
        idle_before=NOW - timedelta(hours=72), created_before=NOW - timedelta(days=30)))
    assert dropped == 2
    kept = await any_store.read(lambda uow: [
        uow.web_sessions.get(h) is not None for h in ("old", "idle", "fresh")])
    assert kept == [False, False, True]
