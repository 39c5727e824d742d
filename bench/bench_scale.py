"""List and resume with 100,000 interviews in the database; timings and query plans."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import Timer, header, median, percentile, temp_dir
from store.contract import UnitOfWork
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=8, help="answers per interview")
    parser.add_argument("--repeats", type=int, default=200)
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


if __name__ == "__main__":
    main()
