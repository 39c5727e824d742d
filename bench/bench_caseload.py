"""The clinician's caseload page: server time with 5,000 interviews (target < 150 ms).

A real SQLite file (sealed with a data key, as production runs) holds one clinician's
5,000 interviews, each with ~40 current answers (and a revision or two), ~60 audit events,
one in 25 with safety flags and one in 10 with an open follow-up, plus another clinician's
5,000 beside them. Each request goes through the whole ASGI app in process (session
lookup, role check, the one caseload read, sorting, 50 "viewed" audit rows committed,
HTML); the time is the server's, no network. Beside it: the caseload read alone.

Run: python -m bench.bench_caseload [--interviews 5000] [--runs 25] [--plain]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench._common import header, median, percentile, temp_dir
from bot.access import AccessPolicy
from bot.features.clinician import grant_role
from bot.features.web_signin import issue_link
from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.contract import UnitOfWork
from store.repos.base import ts
from store.sqlite import Store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ITEMS = 40
EVENTS = 60
PAGES = {
    "default (last activity)": "/clinic/",
    "sorted by nickname": "/clinic/?sort=nickname&order=asc",
    "sorted by progress, page 40": "/clinic/?sort=progress&order=desc&page=40",
    "flagged only": "/clinic/?flagged=1",
    "nickname search": "/clinic/?q=kid12",
}


def populate(store_path: Path, n: int) -> None:
    """Answers and events for every interview, in bulk (their content does not matter to
    the caseload read; interviews themselves went through the repository, sealed)."""
    rng = random.Random(7)
    with sqlite3.connect(store_path) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM interviews")]
        answers, current, events = [], [], []
        next_id = 1
        for iid in ids:
            at = ts(NOW - timedelta(minutes=rng.randrange(60 * 24 * 90)))
            for item in range(rng.randrange(ITEMS // 2, ITEMS + 1)):
                for revision in range(1, 2 + (item % 7 == 0)):
                    answers.append((next_id, iid, f"item{item}", revision, '"x"', None, at))
                    next_id += 1
                current.append((iid, f"item{item}", next_id - 1, 1 if item % 9 == 0 else 0))
            events.extend((iid, None, "answered", "sealed-detail", at) for _ in range(EVENTS))
            if rng.random() < 0.04:
                events.extend((iid, None, "sealed", "sealed-detail", at) for _ in range(2))
        conn.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", answers)
        conn.executemany("INSERT INTO current_answers VALUES (?, ?, ?, ?)", current)
        conn.executemany(
            "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            events)
        # One in ten has a follow-up still open.
        for iid in ids[: len(ids) // 10]:
            conn.execute("UPDATE interviews SET follow_up_of = ? WHERE id = ?",
                         (iid, rng.choice(ids)))


async def build(path: Path, catalog: FlowCatalog, n: int, key: str | None) -> None:
    store = await Store.open(path, data_key=key)
    flow = catalog.latest("developmental_history")
    states = ["consent", "answering", "paused", "review", "submitted"]

    def people(uow: UnitOfWork) -> list[int]:
        return [grant_role(uow, "console", who, "clinician", by=None, now=NOW).id
                for who in ("dr", "other")]

    owners = await store.run(people)
    for owner in owners:
        for chunk in range(0, n, 500):
            def make(uow: UnitOfWork, owner: int = owner, chunk: int = chunk) -> None:
                for i in range(chunk, min(n, chunk + 500)):
                    uow.interviews.create(
                        flow_id=flow.id, flow_version=flow.version, owner_id=owner,
                        respondent_id=None, nickname=f"Kid{i:04d}", state=states[i % 5],
                        now=NOW - timedelta(minutes=i))
            await store.run(make)
    await store.close()
    populate(path, n)


async def main(n: int, runs: int, sealed: bool) -> None:
    header(f"caseload page, {n} interviews of one clinician + {n} of another "
           f"({'sealed' if sealed else 'plain'} SQLite)")
    catalog = FlowCatalog.bundled("sample")
    key = new_key() if sealed else None
    with temp_dir() as folder:
        path = folder / "hearth.db"
        started = time.perf_counter()
        await build(path, catalog, n, key)
        print(f"   built in {time.perf_counter() - started:.1f} s")
        store = await Store.open(path, data_key=key)
        service = DialogueService(store, catalog, clock=lambda: NOW)
        app = create_app(service, WebConfig(rate_per_minute=1_000_000,
                                            link_rate_per_minute=1_000_000))
        dr = await store.read(lambda uow: uow.people.find("console", "dr"))
        assert dr is not None
        issued = await store.run(lambda uow: issue_link(uow, AccessPolicy(), dr, now=NOW))
        assert issued is not None
        token = issued.url.rsplit("/", 1)[1]
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
            signed = await web.post("/clinic/signin", data={"token": token})
            assert signed.status_code == 303, signed.status_code
            read = []
            for _ in range(runs):
                t0 = time.perf_counter()
                rows = await store.read(lambda uow: uow.clinic.caseload(dr.id))
                read.append((time.perf_counter() - t0) * 1000)
            assert len(rows) == n
            print(f"   the caseload read alone ({n} rows): median {median(read):.1f} ms, "
                  f"p90 {percentile(read, 90):.1f} ms")
            for label, url in PAGES.items():
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    page = await web.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert page.status_code == 200, page.status_code
                shown = len(re.findall(r"<tr data-interview=", page.text))
                print(f"   GET {label:<28} median {median(times):6.1f} ms  "
                      f"p90 {percentile(times, 90):6.1f} ms  ({shown} rows, "
                      f"{len(page.content) / 1024:.0f} KB)  target < 150 ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--plain", action="store_true", help="no data key (nothing sealed)")
    args = parser.parse_args()
    asyncio.run(main(args.interviews, args.runs, not args.plain))
