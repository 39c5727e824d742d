"""Store design (one thread hop per step, group commit) vs naive aiosqlite, steps/s."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bench._common import Timer, header, median, spread, temp_dir
from store.contract import UnitOfWork
from store.sqlite import Store, Synchronous, migrate

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC).isoformat()

#: A step's statements, as a generator: it yields (sql, params) and is sent each result's
#: rows. The same nine statements a real answer step runs (see bot/steps.py and
#: store/repository.py): exactly-once check, person, interview, current answers, append
#: the answer, point the current answer at it, bump the interview, audit, record delivery.
Statements = Generator[tuple[str, tuple[Any, ...]], list[Any], None]


class Failed(Exception):
    """The step that fails on purpose, mid-way, in the isolation check."""


def step_statements(user: int, n: int, *, fail: bool = False) -> Statements:
    interview = f"iv{user}"
    delivery = f"{user}-{n}"
    yield "SELECT outcome FROM deliveries WHERE channel = ? AND delivery_id = ?", (
        "bench", delivery)
    person = yield (
        "SELECT id, role, locale, active_interview FROM people "
        "WHERE channel = ? AND external_id = ?", ("bench", f"u{user}"))
    yield "SELECT * FROM interviews WHERE id = ?", (interview,)
    yield (
        "SELECT c.item_key, a.value, c.skips FROM current_answers c "
        "JOIN answers a ON a.id = c.answer_id WHERE c.interview_id = ?", (interview,))
    yield (
        "INSERT INTO answers (interview_id, item_key, revision, value, answered_by, answered_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", (interview, f"q{n}", n + 1, '"some answer"',
                                      person[0][0], NOW))
    yield (
        "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
        "VALUES (?, ?, last_insert_rowid(), 0) ON CONFLICT (interview_id, item_key) "
        "DO UPDATE SET answer_id = excluded.answer_id, skips = 0", (interview, f"q{n}"))
    if fail:
        raise Failed(f"step {delivery} fails after writing its answer")
    yield (
        "UPDATE interviews SET revision = ?, cursor = ?, updated_at = ? WHERE id = ?",
        (n + 1, f"q{n + 1}", NOW, interview))
    yield (
        "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
        (interview, person[0][0], "answered", f"q{n}", NOW))
    yield (
        "INSERT INTO deliveries (channel, delivery_id, outcome, at) VALUES (?, ?, ?, ?)",
        ("bench", delivery, '{"replies": []}', NOW))


def run_sync(conn: sqlite3.Connection, statements: Statements) -> None:
    """Drive a step on a plain connection (inside the store's writer thread)."""
    rows: list[Any] | None = None
    try:
        while True:
            sql, params = statements.send(rows) if rows is not None else next(statements)
            rows = conn.execute(sql, params).fetchall()
    except StopIteration:
        return


async def run_async(db: aiosqlite.Connection, statements: Statements) -> None:
    """Drive a step with one awaited aiosqlite call per statement (the naive design)."""
    rows: list[Any] | None = None
    try:
        while True:
            sql, params = statements.send(rows) if rows is not None else next(statements)
            rows = list(await db.execute_fetchall(sql, params))
    except StopIteration:
        return


def prepare(path: Path, users: int) -> None:
    """Schema plus one person and one interview per simulated user."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO people (id, channel, external_id, active_interview, created_at) "
        "VALUES (?, 'bench', ?, ?, ?)",
        [(u + 1, f"u{u}", f"iv{u}", NOW) for u in range(users)])
    conn.executemany(
        "INSERT INTO interviews (id, flow_id, flow_version, owner_id, respondent_id, state, "
        "created_at, updated_at) VALUES (?, 'bench', 1, ?, ?, 'answering', ?, ?)",
        [(f"iv{u}", u + 1, u + 1, NOW, NOW) for u in range(users)])
    conn.execute("COMMIT")
    conn.close()


StepRunner = Callable[[int, int], Awaitable[None]]


async def drive(runner: StepRunner, users: int, steps: int) -> float:
    """`users` concurrent tasks, each running its steps one after another; steps/s."""
    per_user = steps // users

    async def user(u: int) -> None:
        for n in range(per_user):
            await runner(u, n)

    with Timer() as timer:
        await asyncio.gather(*(user(u) for u in range(users)))
    return per_user * users / timer.seconds


async def bench_store(path: Path, sync: Synchronous, users: int,
                      steps: int) -> tuple[float, float]:
    """Steps/s and steps per commit (group commit at work) for the store design."""
    prepare(path, users)
    store = await Store.open(path, sync)

    def step(u: int, n: int) -> Callable[[UnitOfWork], None]:
        return lambda repo: run_sync(repo.conn, step_statements(u, n))

    async def runner(u: int, n: int) -> None:
        await store.run(step(u, n))

    try:
        rate = await drive(runner, users, steps)
    finally:
        await store.close()
    return rate, store.steps / max(1, store.batches)


async def open_naive(path: Path, sync: Synchronous) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute(f"PRAGMA synchronous = {sync}")
    await db.execute("PRAGMA foreign_keys = ON")
    return db


async def naive_step(db: aiosqlite.Connection, lock: asyncio.Lock, statements: Statements) -> None:
    """The design the issue warns about: every statement its own awaited hop, under a lock."""
    async with lock:
        await db.execute("BEGIN IMMEDIATE")
        try:
            await run_async(db, statements)
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")


async def bench_naive(path: Path, sync: Synchronous, users: int, steps: int) -> float:
    prepare(path, users)
    db = await open_naive(path, sync)
    lock = asyncio.Lock()

    async def runner(u: int, n: int) -> None:
        await naive_step(db, lock, step_statements(u, n))

    try:
        return await drive(runner, users, steps)
    finally:
        await db.close()


# -- isolation ------------------------------------------------------------------------------

TASKS = 50
FAILING = 17


def committed(path: Path) -> tuple[int, int, int]:
    """(answers, deliveries, rows of the failing task) now in the file."""
    conn = sqlite3.connect(path)
    try:
        answers = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        deliveries = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        failing = conn.execute(
            "SELECT (SELECT count(*) FROM answers WHERE interview_id = ?) + "
            "(SELECT count(*) FROM current_answers WHERE interview_id = ?) + "
            "(SELECT count(*) FROM deliveries WHERE delivery_id = ?)",
            (f"iv{FAILING}", f"iv{FAILING}", f"{FAILING}-0"),
        ).fetchone()[0]
    finally:
        conn.close()
    return int(answers), int(deliveries), int(failing)


async def isolation_store(path: Path) -> str:
    prepare(path, TASKS)
    store = await Store.open(path, "FULL")

    def step(u: int) -> Callable[[UnitOfWork], None]:
        return lambda repo: run_sync(repo.conn, step_statements(u, 0, fail=u == FAILING))

    results = await asyncio.gather(*(store.run(step(u)) for u in range(TASKS)),
                                   return_exceptions=True)
    batches = store.batches
    await store.close()
    failures = sum(isinstance(r, Failed) for r in results)
    answers, deliveries, failing = committed(path)
    ok = failures == 1 and answers == deliveries == TASKS - 1 and failing == 0
    return (f"{'PASS' if ok else 'FAIL'}: {TASKS} concurrent steps in {batches} commit(s), "
            f"{failures} raised mid-step; committed {answers} answers / {deliveries} deliveries, "
            f"{failing} rows of the failing step")


async def isolation_naive_unlocked(path: Path) -> str:
    """For contrast: one shared aiosqlite connection WITHOUT the lock mixes transactions."""
    prepare(path, TASKS)
    db = await aiosqlite.connect(path)  # sqlite3's implicit transactions, as usually written
    await db.execute("PRAGMA journal_mode = WAL")

    async def step(u: int) -> None:
        try:
            await run_async(db, step_statements(u, 0, fail=u == FAILING))
        except Failed:
            await db.rollback()
            raise
        await db.commit()

    results = await asyncio.gather(*(step(u) for u in range(TASKS)), return_exceptions=True)
    await db.close()
    errors = sum(isinstance(r, BaseException) for r in results)
    answers, deliveries, failing = committed(path)
    ok = answers == deliveries == TASKS - 1 and failing == 0
    return (f"{'isolated' if ok else 'NOT isolated'}: {errors} raised; committed {answers} "
            f"answers / {deliveries} deliveries (expected {TASKS - 1}), {failing} rows of the "
            f"failing step")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 1],
                        help="concurrent tasks (simulated people)")
    parser.add_argument("--steps", type=int, default=3000, help="steps per store run")
    parser.add_argument("--naive-steps", type=int, default=600, help="steps per naive run")
    args = parser.parse_args()
    header("store: one hop per step + group commit vs naive aiosqlite under a lock")
    print("   workload: 9 statements per step (3 reads, 5 writes, exactly-once check)")
    with temp_dir() as folder:
        for users in args.users:
            for sync in ("FULL", "NORMAL"):
                store_rates: list[float] = []
                per_commit: list[float] = []
                naive_rates: list[float] = []
                ratios: list[float] = []
                for run in range(args.runs):
                    # Alone, both designs do about the same number of steps per second:
                    # equal counts keep the two runs equally long (equally exposed to noise).
                    # The order alternates, so neither design always runs first.
                    count = args.steps if users > 1 else args.naive_steps
                    store_db = folder / f"s{users}{sync}{run}.db"
                    naive_db = folder / f"n{users}{sync}{run}.db"
                    if run % 2:
                        n = await bench_naive(naive_db, sync, users, args.naive_steps)
                        s, batch = await bench_store(store_db, sync, users, count)
                    else:
                        s, batch = await bench_store(store_db, sync, users, count)
                        n = await bench_naive(naive_db, sync, users, args.naive_steps)
                    per_commit.append(batch)
                    store_rates.append(s)
                    naive_rates.append(n)
                    ratios.append(s / n)
                print(f"   {users:>3} concurrent, synchronous {sync:<6}: store "
                      f"{median(store_rates):>7,.0f} steps/s "
                      f"({median(per_commit):4.1f} steps/commit) · naive "
                      f"{median(naive_rates):>6,.0f} steps/s · ratio {median(ratios):5.1f}x "
                      f"(median of {args.runs}, spread {spread(ratios)})")
        print("   isolation, store:", await isolation_store(folder / "iso-store.db"))
        print("   isolation, aiosqlite shared WITHOUT a lock (the trap):",
              await isolation_naive_unlocked(folder / "iso-naive.db"))


if __name__ == "__main__":
    asyncio.run(main())
