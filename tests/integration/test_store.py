"""The store on SQLite (and PostgreSQL): migrations, append-only answers, isolated steps."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.contract import UnitOfWork
from store.errors import Conflict, StoreError
from store.sqlite import Store, migrations

NOW = datetime(2026, 11, 25, tzinfo=UTC)

pytestmark = pytest.mark.both_backends


def new_interview(repo: UnitOfWork, user: str = "ana") -> str:
    person = repo.people.get_or_create("console", user, now=NOW)
    record = repo.interviews.create(
        flow_id="sample",
        flow_version=1,
        owner_id=person.id,
        respondent_id=person.id,
        nickname=None,
        state="answering",
        now=NOW,
    )
    return record.id


async def test_open__creates_owner_only_file_and_applies_every_migration(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations())
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"people", "interviews", "answers", "events", "deliveries"} <= tables


async def test_open__twice__migrations_not_reapplied(db_path: Path) -> None:
    for _ in range(2):
        store = await Store.open(db_path)
        await store.close()


async def test_open__newer_schema__refused_clearly(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer than this Hearth knows"):
        await Store.open(db_path)


async def test_answers__append_only_with_revisions(store: Store) -> None:
    iid = await store.run(new_interview)

    def answer_twice(repo: UnitOfWork) -> None:
        repo.answers.append(iid, "child_name", "Sam", revision=1, by=None, now=NOW)
        repo.answers.append(iid, "child_name", "Sammy", revision=2, by=None, now=NOW)
        repo.answers.append(iid, "siblings", None, revision=3, by=None, now=NOW)

    await store.run(answer_twice)
    current = await store.read(lambda repo: repo.answers.current(iid))
    assert current == {"child_name": ("Sammy", 0), "siblings": (None, 1)}
    history = await store.read(lambda repo: repo.answers.history(iid))
    assert [(h.item_key, h.revision, h.value) for h in history] == [
        ("child_name", 1, "Sam"),
        ("child_name", 2, "Sammy"),
        ("siblings", 3, None),
    ]

    def overwrite(repo: UnitOfWork) -> None:
        repo.conn.execute("UPDATE answers SET value = '\"x\"'")

    with pytest.raises(Conflict, match="append-only"):
        await store.run(overwrite)


async def test_delivery__recorded_once(store: Store) -> None:
    await store.run(lambda repo: repo.deliveries.record("telegram", "42", "{}", NOW))
    with pytest.raises(Conflict):
        await store.run(lambda repo: repo.deliveries.record("telegram", "42", "{}", NOW))
    assert await store.read(lambda repo: repo.deliveries.outcome("telegram", "42")) == "{}"


async def test_interview_ids__random_and_unguessable(store: Store) -> None:
    ids = [await store.run(lambda repo, n=n: new_interview(repo, f"u{n}")) for n in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 12 for i in ids)
    assert sorted(ids) != ids or len({i[:6] for i in ids}) > 40  # no shared prefix/counter


async def test_concurrent_steps__failed_one_rolls_back_alone(store: Store, backend: str) -> None:
    """Many steps at once on many interviews; one fails halfway; only it is lost."""
    ids = [await store.run(lambda repo, n=n: new_interview(repo, f"p{n}")) for n in range(40)]

    def step(iid: str, fail: bool, repo: UnitOfWork) -> str:
        repo.answers.append(iid, "child_name", "Kim", revision=1, by=None, now=NOW)
        repo.audit.add("answered", interview_id=iid, person_id=None, now=NOW)
        if fail:
            raise RuntimeError("boom halfway through the step")
        repo.answers.append(iid, "siblings", 2, revision=2, by=None, now=NOW)
        return iid

    results = await asyncio.gather(
        *(store.run(lambda repo, i=i, n=n: step(i, n == 17, repo)) for n, i in enumerate(ids)),
        return_exceptions=True,
    )
    assert isinstance(results[17], RuntimeError)
    assert [r for n, r in enumerate(results) if n != 17] == [
        i for n, i in enumerate(ids) if n != 17
    ]
    if backend == "sqlite":  # PostgreSQL commits each step alone; the server shares fsyncs
        assert store.batches < len(ids) + 40  # steps were grouped into fewer commits
    for n, iid in enumerate(ids):
        current = await store.read(lambda repo, i=iid: repo.answers.current(i))
        events = await store.read(lambda repo, i=iid: repo.audit.of_interview(i))
        if n == 17:
            assert current == {} and events == []
        else:
            assert current == {"child_name": ("Kim", 0), "siblings": (2, 0)}
            assert len(events) == 1


async def test_concurrent_steps__same_interview__serialised(store: Store) -> None:
    """Read-modify-write steps on one interview never interleave (no lost update)."""
    iid = await store.run(new_interview)

    def bump(repo: UnitOfWork) -> None:
        record = repo.interviews.get(iid)
        assert record is not None
        record.revision += 1
        repo.interviews.save(record)

    await asyncio.gather(*(store.run(bump) for _ in range(200)))
    record = await store.read(lambda repo: repo.interviews.get(iid))
    assert record is not None and record.revision == 200


async def test_committed_before_caller_resumes(db_path: Path) -> None:
    """When `run` returns, another connection already sees the write."""
    store = await Store.open(db_path)
    iid = await store.run(new_interview)
    other = sqlite3.connect(db_path)
    assert other.execute("SELECT count(*) FROM interviews WHERE id = ?", (iid,)).fetchone() == (1,)
    await store.close()


async def test_old_deliveries__pruned_after_the_retention_window(
    store: Store, catalog, clock  # type: ignore[no-untyped-def]
) -> None:
    from bot.model import Kind
    from bot.service import DialogueService
    from tests.conftest import inbound

    service = DialogueService(store, catalog, clock=clock)
    first = await service.handle(inbound(Kind.COMMAND, "start", delivery="old-1"))
    clock.advance(days=3)
    again = await service.handle(inbound(Kind.COMMAND, "start", delivery="old-1"))
    assert [m.text for m in again] == [m.text for m in first]  # inside the window: a repeat
    clock.advance(days=5)
    await service.handle(inbound(Kind.COMMAND, "help", delivery="new-1"))

    def ids(repo: UnitOfWork) -> list[str]:
        return [r[0] for r in repo.conn.execute("SELECT delivery_id FROM deliveries")]

    assert await store.read(ids) == ["new-1"]
