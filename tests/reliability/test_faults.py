"""Faults at the edges: a locked database, a full disk, a failing commit, Bot API errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.model import Kind
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Clock, Person, inbound, questions, said
from tests.e2e.telegram_harness import FakeBotApi, Phone
from tests.e2e.test_telegram import ANA, answers_of, launch

#: "Sorry, I couldn't save that just now — please send it again."
SORRY = "safety.store_failed"

#: Seconds a step waits for a lock here; the real default is 5 s (store/sqlite.py).
SHORT_WAIT = 0.3


@pytest.fixture
async def impatient_store(db_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(db_path, busy_timeout=SHORT_WAIT)
    yield store
    await store.close()


@pytest.fixture
def ana(impatient_store: Store, catalog: FlowCatalog, clock: Clock) -> Person:
    return Person(DialogueService(impatient_store, catalog, clock=clock), "ana")


@contextmanager
def another_process_writing(db: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process takes the database's write lock and holds it until `release`d."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('ROLLBACK')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.wait(10) == 0


async def history(store: Store, user: str = "ana") -> list[tuple[str, object]]:
    """Every answer revision of the person's interview, oldest first."""

    def query(repo: UnitOfWork) -> list[tuple[str, object]]:
        person = repo.people.find("console", user)
        if person is None or person.active_interview is None:
            return []
        return [(r.item_key, r.value) for r in repo.answers.history(person.active_interview)]

    return await store.read(query)


async def deliveries(store: Store) -> int:
    return int(
        await store.read(lambda r: r.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0])
    )


async def consent(person: Person) -> None:
    await person.command("start")
    await person.type("yes")
    assert "child_name" in questions(person)


async def test_database_locked_by_another_process__sorry__resend_saves_once(
    ana: Person, impatient_store: Store, db_path: Path
) -> None:
    await consent(ana)
    recorded = await deliveries(impatient_store)
    with another_process_writing(db_path) as holder:
        replies = await ana.type("Sam")
        assert [(m.key, m.text) for m in replies] == [(SORRY, said(SORRY))]
        assert await history(impatient_store) == []
        assert await deliveries(impatient_store) == recorded  # not marked processed
        release(holder)

    await ana.type("Sam")
    assert "child_age" in questions(ana)
    assert await history(impatient_store) == [("child_name", "Sam")]


async def test_locked__same_delivery_redelivered_later__processed_once(
    impatient_store: Store, catalog: FlowCatalog, clock: Clock, db_path: Path
) -> None:
    service = DialogueService(impatient_store, catalog, clock=clock)
    await consent(Person(service))
    event = inbound(Kind.TEXT, "Sam", delivery="update-77")
    with another_process_writing(db_path) as holder:
        assert (await service.handle(event))[0].key == SORRY
        release(holder)
    first = await service.handle(event)  # Telegram delivers the same update again
    again = await service.handle(event)
    assert "child_age" in questions(first) and again == first
    assert await history(impatient_store) == [("child_name", "Sam")]


async def test_disk_full_during_step__sorry__nothing_half_saved__resend_saves_once(
    ana: Person, impatient_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await consent(ana)
    # SQLite's own "database or disk is full" (SQLITE_FULL): the file may not grow past
    # its size now (the pragma never goes below it), so a step that needs a page fails.
    await impatient_store.run(lambda r: r.conn.execute("PRAGMA max_page_count = 1"))
    answers = ["Sam", "2y 6m", "2", "3", "1", "1, 3", "1", "3", "a note", "2", "3", "more"]
    told_saved: list[str] = []
    for line in answers:
        replies = await ana.type(line)
        if replies[0].key == SORRY:
            refused = line
            break
        told_saved.append(line)
    else:
        pytest.fail("the disk never filled up")
    saved_before = await history(impatient_store)
    assert len(saved_before) == len(told_saved)  # everything acknowledged is there
    assert "database or disk is full" in caplog.text  # the real cause reaches the log

    await impatient_store.run(lambda r: r.conn.execute("PRAGMA max_page_count = 1073741823"))
    await ana.type(refused)
    after = await history(impatient_store)
    assert after[: len(saved_before)] == saved_before and len(after) == len(saved_before) + 1
    assert len({key for key, _ in after}) == len(after)  # no question answered twice


class FailingCommit:
    """The writer connection, except that the next `failures` COMMITs fail as on a full disk."""

    def __init__(self, conn: sqlite3.Connection, failures: int = 1) -> None:
        self.conn = conn
        self.failures = failures

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


async def test_commit_fails__whole_batch_rolled_back__both_people_asked_again(
    impatient_store: Store, catalog: FlowCatalog, clock: Clock
) -> None:
    service = DialogueService(impatient_store, catalog, clock=clock)
    ana, leo = Person(service, "ana"), Person(service, "leo")
    await consent(ana)
    await consent(leo)
    writer = impatient_store._writer
    assert writer is not None
    impatient_store._writer = FailingCommit(writer)  # type: ignore[assignment]
    try:
        # Typed at the same moment: one group commit, which fails as a whole.
        first, second = await asyncio.gather(ana.type("Sam"), leo.type("Robin"))
    finally:
        impatient_store._writer = writer
    assert first[0].key == SORRY and second[0].key == SORRY
    assert await history(impatient_store, "ana") == [] == await history(impatient_store, "leo")

    await asyncio.gather(ana.type("Sam"), leo.type("Robin"))
    assert "child_age" in questions(ana) and "child_age" in questions(leo)
    assert await history(impatient_store, "ana") == [("child_name", "Sam")]
    assert await history(impatient_store, "leo") == [("child_name", "Robin")]


# -- through Telegram ---------------------------------------------------------------------------


class BadGatewayApi(FakeBotApi):
    """The offline Bot API, plus 502 Bad Gateway answers for the next `gateway_errors` sends."""

    def __init__(self) -> None:
        super().__init__()
        self.gateway_errors = 0

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/sendMessage") and self.gateway_errors:
            self.gateway_errors -= 1
            body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            return 502, json.dumps(body).encode()
        return await super().do_request(url, method, *args, **kwargs)


async def test_telegram__bot_api_502__retried__answer_saved_once(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    api = BadGatewayApi()
    bot = await launch(DialogueService(await Store.open(db_path), catalog, clock=clock), api)
    try:
        ana = Phone(api, bot.app.bot, ANA)
        await bot.send(ana.command("start"), ana.text("yes"))
        api.gateway_errors = 2
        await bot.send(ana.text("Mia"))
        assert "child_age" in questions(ana.last)
        assert await answers_of(bot.service, ANA) == {"child_name": "Mia"}
        revisions = await bot.service.store.read(
            lambda r: r.conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        )
        assert revisions == 1
    finally:
        await bot.stop()


async def test_telegram__database_locked__person_told_to_resend__then_saved_once(
    db_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    store = await Store.open(db_path, busy_timeout=SHORT_WAIT)
    api = FakeBotApi()
    bot = await launch(DialogueService(store, catalog, clock=clock), api)
    try:
        ana = Phone(api, bot.app.bot, ANA)
        await bot.send(ana.command("start"), ana.text("yes"))
        with another_process_writing(db_path) as holder:
            await bot.send(ana.text("Mia"))
            assert ana.last.key == SORRY
            assert await answers_of(bot.service, ANA) == {}
            release(holder)
        await bot.send(ana.text("Mia"))
        assert "child_age" in questions(ana.last)
        assert await answers_of(bot.service, ANA) == {"child_name": "Mia"}
    finally:
        await bot.stop()
