"""List, resume, write and prune with 100,000 interviews in the database; plans too."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import (
    Caregiver,
    Move,
    Timer,
    catalog,
    header,
    inbound,
    median,
    percentile,
    spread,
    temp_dir,
    views,
)
from bot.service import DialogueService
from store.contract import UnitOfWork
from store.pruning import prune_deliveries
from store.sqlite import Store, migrate
from store.unit_of_work import SqlUnitOfWork

START = datetime(2026, 1, 1, tzinfo=UTC)
CLINICIANS = 100
#: The first clinician is a big clinic: this share of all interviews is theirs.
BIG_SHARE = 0.2


def ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def generate(path: Path, interviews: int, answers_each: int, seed: int = 7) -> float:
    """Fill a fresh database quickly (executemany, one transaction); returns seconds."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    migrate(conn)
    with Timer() as timer:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO people (id, channel, external_id, role, created_at) "
            "VALUES (?, 'telegram', ?, ?, ?)",
            ((p + 1, str(500_000 + p), "clinician" if p < CLINICIANS else "caregiver",
              ts(START)) for p in range(CLINICIANS + interviews)))
        ids = [f"iv{n:08d}xyz"[:12] for n in range(interviews)]
        big = int(interviews * BIG_SHARE)

        def owner(n: int) -> int:
            return 1 if n < big else 2 + n % (CLINICIANS - 1)

        conn.executemany(
            "INSERT INTO interviews (id, flow_id, flow_version, owner_id, respondent_id, state, "
            "consented, cursor, revision, created_at, updated_at, submitted_at) "
            "VALUES (?, 'developmental_history', 1, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            ((ids[n], owner(n), CLINICIANS + n + 1,
              "submitted" if n % 3 == 0 else "answering", None if n % 3 == 0 else "q9",
              answers_each, ts(START), ts(START + timedelta(seconds=rng.randrange(10**7))),
              ts(START) if n % 3 == 0 else None) for n in range(interviews)))
        conn.executemany(
            "INSERT INTO answers (id, interview_id, item_key, revision, value, answered_by, "
            "answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((n * answers_each + k + 1, ids[n], f"q{k}", k + 1, json.dumps(f"answer {k}"),
              CLINICIANS + n + 1, ts(START)) for n in range(interviews)
             for k in range(answers_each)))
        conn.executemany(
            "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
            "VALUES (?, ?, ?, 0)",
            ((ids[n], f"q{k}", n * answers_each + k + 1) for n in range(interviews)
             for k in range(answers_each)))
        conn.executemany(
            "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            ((ids[n], CLINICIANS + n + 1, "answered", f"q{k}", ts(START))
             for n in range(interviews) for k in range(answers_each)))
        conn.executemany(
            "INSERT INTO deliveries (channel, delivery_id, outcome, at) VALUES (?, ?, ?, ?)",
            (("telegram", f"1:{n * answers_each + k}", '{"locale":"en","replies":[]}', ts(START))
             for n in range(interviews) for k in range(answers_each)))
        conn.execute("UPDATE people SET active_interview = ? WHERE id = ?", (ids[-1], 1))
        conn.executemany("UPDATE people SET active_interview = ? WHERE id = ?",
                         ((ids[n], CLINICIANS + n + 1) for n in range(interviews)))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return timer.seconds


Query = Callable[[UnitOfWork], Any]


def queries(interviews: int, answers_each: int, rng: random.Random) -> dict[str, Query]:
    """The list and resume lookups, as the repository runs them, for random people."""

    def caregiver() -> tuple[str, str]:
        n = rng.randrange(interviews)
        return str(500_000 + CLINICIANS + n), f"iv{n:08d}xyz"[:12]

    def resume(repo: UnitOfWork) -> Any:
        external, _ = caregiver()
        person = repo.people.find("telegram", external)
        assert person is not None and person.active_interview is not None
        record = repo.interviews.get(person.active_interview)
        assert record is not None
        repo.deliveries.outcome("telegram", f"9:{rng.randrange(10**9)}")
        return repo.answers.current(record.id)

    def clinic(person: int) -> Query:
        return lambda repo: repo.interviews.of_person(person)

    return {
        "resume: person -> interview -> current answers (+ redelivery check)": resume,
        "list: a caregiver's interviews (interviews_of)":
            lambda repo: repo.interviews.of_person(CLINICIANS + 1 + rng.randrange(interviews)),
        f"list: small clinic, ~{int(interviews * (1 - BIG_SHARE) / (CLINICIANS - 1)):,} "
        "interviews (interviews_of)": clinic(2 + rng.randrange(CLINICIANS - 1)),
        f"list: big clinic, {int(interviews * BIG_SHARE):,} interviews (interviews_of)": clinic(1),
        "history: one interview's answers (answer_history)":
            lambda repo: repo.answers.history(caregiver()[1]),
        "audit: one interview's events (events)":
            lambda repo: repo.audit.of_interview(caregiver()[1]),
    }


def traced(store_path: Path, query: Query) -> list[str]:
    """The SQL statements a repository call runs (parameters inlined)."""
    conn = sqlite3.connect(store_path)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        query(SqlUnitOfWork(conn))
    finally:
        conn.close()
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def plan(store_path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(store_path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        conn.close()


async def timings(path: Path, todo: dict[str, Query], repeats: int) -> dict[str, list[float]]:
    """Each query `repeats` times through Store.read (one reader-thread hop each)."""
    store = await Store.open(path, "FULL")
    found: dict[str, list[float]] = {name: [] for name in todo}
    try:
        for _ in range(repeats):
            for name, query in todo.items():
                start = time.perf_counter()
                await store.read(query)
                found[name].append(time.perf_counter() - start)
    finally:
        await store.close()
    return found


class Writer:
    """New caregivers answering through the real DialogueService on one database."""

    def __init__(self, store: Store, prefix: str) -> None:
        cat = catalog()
        self.flow = cat.latest(cat.default_flow)
        self.store = store
        self.service = DialogueService(store, cat)
        # The first step would prune every old delivery in one go (timed separately
        # below); here only the step itself is timed.
        self.service._next_prune = datetime.now(UTC) + timedelta(days=1)
        self.prefix = prefix
        self.count = 0

    async def person(self, steps: int) -> list[float]:
        """One new caregiver: /start, consent, answers; the seconds each step took."""
        self.count += 1
        user = f"{self.prefix}{self.count}"
        caregiver = Caregiver(self.flow, self.count)
        move: Move | None = caregiver.first()
        took: list[float] = []
        while move is not None and len(took) < steps:
            start = time.perf_counter()
            out = await self.service.handle(inbound(user, move, f"{user}-{len(took)}"))
            took.append(time.perf_counter() - start)
            move = caregiver.next(views(out))
        return took


async def write_steps(big: Path, empty: Path, people: int, steps: int,
                      rounds: int) -> dict[str, list[list[float]]]:
    """Steps at scale and on an empty database, alternating person by person, per round."""
    stores = {"big": await Store.open(big, "FULL"), "empty": await Store.open(empty, "FULL")}
    writers = {name: Writer(store, f"w{name}-") for name, store in stores.items()}
    found: dict[str, list[list[float]]] = {name: [] for name in writers}
    try:
        for _ in range(rounds):
            this_round: dict[str, list[float]] = {name: [] for name in writers}
            for _ in range(people):
                for name, writer in writers.items():
                    this_round[name] += await writer.person(steps)
            for name in writers:
                found[name].append(this_round[name])
    finally:
        for store in stores.values():
            await store.close()
    return found


async def pruning(one_shot: Path, batched: Path, steps: int) -> dict[str, Any]:
    """The 800k old deliveries pruned as shipped (one DELETE) and in batches, while a
    caregiver keeps answering; how long the writer was held, how long steps waited."""
    before = datetime.now(UTC) - timedelta(days=7)
    found: dict[str, Any] = {}
    for name, path in (("one DELETE (as shipped)", one_shot), ("batched", batched)):
        store = await Store.open(path, "FULL")
        writer = Writer(store, f"p{len(found)}-")
        try:
            if name == "batched":
                task = asyncio.create_task(prune_deliveries(store, before))
            else:
                task = asyncio.create_task(store.run(
                    lambda repo: repo.deliveries.prune(before)))
            with Timer() as timer:
                await asyncio.sleep(0)  # the prune is queued first, as in DialogueService
                waits: list[float] = []
                while not task.done():
                    waits += await writer.person(steps)
                result = await task
            rows = result.rows if name == "batched" else result
            longest = result.longest if name == "batched" else timer.seconds
            found[name] = (rows, timer.seconds, longest, waits,
                           result.batches if name == "batched" else 1)
        finally:
            await store.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=8, help="answers per interview")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--writers", type=int, default=10, help="new caregivers per round")
    parser.add_argument("--steps", type=int, default=12, help="steps per new caregiver")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    header(f"scale: list and resume with {args.interviews:,} interviews")
    with temp_dir() as folder:
        path = folder / "scale.db"
        seconds = generate(path, args.interviews, args.answers)
        print(f"   generated {args.interviews:,} interviews, {args.interviews * args.answers:,} "
              f"answers / events / deliveries in {seconds:.1f} s; file "
              f"{path.stat().st_size / 2**20:,.0f} MB")
        rng = random.Random(11)
        todo = queries(args.interviews, args.answers, rng)
        found = asyncio.run(timings(path, todo, args.repeats))
        print(f"   timings through Store.read (one thread hop), {args.repeats} random lookups "
              f"each: median / p99")
        for name, values in found.items():
            print(f"     {1000 * median(values):7.3f} ms / {1000 * percentile(values, 99):7.3f} ms"
                  f"  {name}")
        print("   EXPLAIN QUERY PLAN:")
        missing: list[str] = []
        for name, query in todo.items():
            print(f"     {name}")
            for sql in traced(path, query):
                short = " ".join(sql.split())
                print(f"       {short[:110]}{'…' if len(short) > 110 else ''}")
                for line in plan(path, sql):
                    print(f"         {line}")
                    if line.startswith("SCAN") and "USING" not in line:
                        missing.append(f"{line} in: {short[:60]}")
        print("   indexes: " + ("every lookup uses an index" if not missing else
                                 "FULL SCANS: " + "; ".join(missing)))
        shutil.copyfile(path, folder / "prune-a.db")
        shutil.copyfile(path, folder / "prune-b.db")
        written = asyncio.run(write_steps(path, folder / "empty.db", args.writers, args.steps,
                                          args.rounds))
        print(f"   write steps through DialogueService.handle (new caregivers: /start, consent, "
              f"answers; {args.writers} x {args.steps} steps per round, alternating with an "
              f"empty database; {args.rounds} rounds):")
        for name, rounds in written.items():
            every = [x for r in rounds for x in r]
            print(f"     {name:>6}: median {1000 * median(every):6.2f} ms, p99 "
                  f"{1000 * percentile(every, 99):6.2f} ms per step")
        ratios = [median(a) / median(b) for a, b in zip(written["big"], written["empty"],
                                                        strict=True)]
        print(f"     big ({args.interviews:,} interviews) / empty, median step: "
              f"{median(ratios):.2f} (spread {spread(ratios)})")
        pruned = asyncio.run(pruning(folder / "prune-a.db", folder / "prune-b.db", args.steps))
        print("   pruning every delivery older than 7 days while one caregiver answers:")
        for name, (rows, seconds, longest, waits, batches) in pruned.items():
            print(f"     {name:<24}: {rows:,} rows in {seconds:.2f} s, {batches} batch(es), "
                  f"writer held at most {1000 * longest:,.0f} ms; {len(waits)} steps meanwhile, "
                  f"longest {1000 * max(waits, default=0):,.0f} ms")


if __name__ == "__main__":
    main()
