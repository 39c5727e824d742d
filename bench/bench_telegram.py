"""Hearth through a real python-telegram-bot Application with an offline Bot API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import (
    Caregiver,
    Timer,
    catalog,
    check_answers,
    header,
    median,
    percentile,
    spread,
    temp_dir,
)
from bench._telegram import (
    App,
    OfflineRequest,
    Session,
    Traffic,
    bare_application,
    hearth_application,
    real_adapter_available,
    replay_session,
)
from bot.service import DialogueService
from store.sqlite import Store

FIRST_USER = 10_000


@dataclass
class Run:
    """The outcome of one timed run."""

    updates: int
    seconds: float
    latencies: list[float]
    calls: int

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def started(app: App) -> None:
    await app.initialize()
    await app.start()


async def stopped(app: App) -> None:
    await app.stop()
    await app.shutdown()


def deliveries(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(
            "SELECT count(*) FROM deliveries WHERE channel = 'telegram'").fetchone()[0])
    finally:
        conn.close()


class Crowd:
    """Simulated caregivers on one Hearth database, driven in phases (each its own App)."""

    def __init__(self, store: Store, people: int, delay: float, redeliver_every: int,
                 seed: int) -> None:
        cat = catalog()
        flow = cat.latest(cat.default_flow)
        self.store = store
        self.service = DialogueService(store, cat)
        self.request = OfflineRequest(delay)
        self.update_ids = itertools.count(1)
        self.sessions = [Session(Caregiver(flow, seed * 1_000_003 + u), FIRST_USER + u,
                                 self.request, redeliver_every) for u in range(people)]
        self.done_ids: set[int] = set()
        self.errors: list[str] = []
        self.adapter = ""

    @classmethod
    async def open(cls, path: Path, people: int, *, delay: float = 0.0,
                   redeliver_every: int = 0, seed: int = 0) -> Crowd:
        return cls(await Store.open(path, "FULL"), people, delay, redeliver_every, seed)

    async def phase(self, *, concurrent: bool = True, rate_limited: bool = False,
                    max_steps: int | None = None, seconds: float | None = None) -> Run:
        """Everyone sends updates (up to `max_steps` each, or for `seconds`): one timed run."""
        app, self.adapter = hearth_application(self.request, self.service, concurrent,
                                               rate_limited=rate_limited)
        traffic = Traffic(app, self.request, self.update_ids)
        traffic.install()
        await started(app)
        calls_before = self.request.calls
        deadline = time.perf_counter() + seconds if seconds else None

        async def person(session: Session) -> int:
            try:
                return await session.run(traffic, max_steps=max_steps, deadline=deadline)
            except asyncio.CancelledError:
                return 0  # its update was dropped when the timed run ended

        with Timer() as timer:
            tasks = [asyncio.create_task(person(s)) for s in self.sessions]
            if deadline is not None:
                await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
                traffic.drop_pending()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        calls = self.request.calls - calls_before
        await stopped(app)
        self.done_ids |= traffic.done_ids
        self.errors += traffic.errors
        self.errors += [repr(o) for o in outcomes if isinstance(o, BaseException)]
        return Run(len(traffic.latencies), timer.seconds, traffic.latencies, calls)

    async def close(self) -> list[str]:
        """Close the store; the problems found: order, exactly-once, deliveries, errors."""
        await self.store.close()
        path = self.store.path
        problems = self.errors[:3]
        problems += check_answers(path, "telegram",
                                  {str(s.user): s.confirmed for s in self.sessions})
        stored = deliveries(path)
        if stored != len(self.done_ids):
            problems.append(f"{stored} deliveries stored for {len(self.done_ids)} updates")
        return problems

    @property
    def recorded(self) -> dict[int, list[dict[str, Any]]]:
        return {s.user: s.recorded for s in self.sessions}


async def ceiling_run(recorded: dict[int, list[dict[str, Any]]], *, delay: float,
                      concurrent: bool, repeat: int = 3) -> Run:
    """The same updates, the same people at once, through a bare one-reply handler.

    Replayed `repeat` times in a row: the ceiling is fast, and a longer run is less at the
    mercy of a moment's noise on a shared machine.
    """
    request = OfflineRequest(delay)
    app = bare_application(request, concurrent)
    traffic = Traffic(app, request)
    traffic.install()
    await started(app)
    calls_before = request.calls
    with Timer() as timer:
        for _ in range(repeat):
            await asyncio.gather(*(replay_session(traffic, ups) for ups in recorded.values()))
    calls = request.calls - calls_before
    await stopped(app)
    return Run(len(traffic.latencies), timer.seconds, traffic.latencies, calls)


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


async def ceiling_and_hearth(folder: Path, args: argparse.Namespace) -> None:
    print(f"-- (a)+(b) {args.people} caregivers at once completing the interview, no Bot API "
          f"delay, SQLite WAL FULL; every {args.redeliver}th update redelivered")
    hearth: list[Run] = []
    ceiling: list[Run] = []
    ratios: list[float] = []
    problems: list[str] = []
    adapter = ""
    for run in range(args.runs):
        crowd = await Crowd.open(folder / f"b{run}.db", args.people,
                                 redeliver_every=args.redeliver, seed=run)
        h = await crowd.phase()
        adapter = crowd.adapter
        problems += await crowd.close()
        c = await ceiling_run(crowd.recorded, delay=0.0, concurrent=True)
        hearth.append(h)
        ceiling.append(c)
        ratios.append(h.rate / c.rate)
    lat = [x for h in hearth for x in h.latencies]
    print(f"   Hearth via {adapter}")
    print(f"   (a) ceiling, bare reply handler : {median([c.rate for c in ceiling]):>7,.0f} "
          f"updates/s ({ceiling[0].calls / max(1, ceiling[0].updates):.1f} Bot API calls/update)")
    print(f"   (b) Hearth                      : {median([h.rate for h in hearth]):>7,.0f} "
          f"updates/s ({hearth[0].calls / max(1, hearth[0].updates):.1f} Bot API calls/update,"
          f" {hearth[0].updates} updates/run)")
    print(f"       ratio Hearth / ceiling      : {median(ratios):.2f} (target >= 0.5; median of "
          f"{args.runs}, spread {spread(ratios)})")
    print(f"       per-update latency, {args.people} at once: p50 {ms(percentile(lat, 50))}, "
          f"p99 {ms(percentile(lat, 99))}")
    crowd = await Crowd.open(folder / "b-one.db", 1)
    one = await crowd.phase()
    problems += await crowd.close()
    print(f"       one caregiver alone         : p50 {ms(percentile(one.latencies, 50))}, "
          f"p99 {ms(percentile(one.latencies, 99))} per update ({one.updates} updates)")
    print(f"       checks (order, exactly-once, deliveries): "
          f"{'PASS' if not problems else 'FAIL ' + '; '.join(problems[:3])}")


async def many_people(folder: Path, args: argparse.Namespace) -> None:
    delay = args.delay_ms / 1000
    print(f"-- (c) {args.crowd} caregivers, {args.delay_ms:g} ms simulated Bot API round trip. "
          f"/start and consent untimed; then answers: concurrently ({args.crowd_steps} each), "
          f"then the same people one update at a time ({args.seq_seconds:g} s window)")
    conc: list[Run] = []
    seq: list[Run] = []
    limited: list[Run] = []
    ratios: list[float] = []
    problems: list[str] = []
    adapters: list[str] = []
    for run in range(args.crowd_runs):
        crowd = await Crowd.open(folder / f"c{run}.db", args.crowd, delay=delay,
                                 redeliver_every=args.redeliver, seed=run)
        await crowd.phase(max_steps=2)
        c = await crowd.phase(max_steps=args.crowd_steps)
        a1 = crowd.adapter
        s = await crowd.phase(concurrent=False, seconds=args.seq_seconds)
        adapters = [a1, crowd.adapter]
        problems += await crowd.close()
        conc.append(c)
        seq.append(s)
        ratios.append(c.rate / s.rate)
        if args.shipped:
            crowd = await Crowd.open(folder / f"r{run}.db", args.shipped_people, delay=delay,
                                     redeliver_every=args.redeliver, seed=run)
            await crowd.phase(max_steps=2)
            limited.append(await crowd.phase(rate_limited=True, seconds=args.seq_seconds))
            adapters.append(crowd.adapter)
            problems += await crowd.close()
    lat = [x for c in conc for x in c.latencies]
    print(f"   concurrent                      : {median([c.rate for c in conc]):>7,.0f} "
          f"updates/s ({conc[0].calls / max(1, conc[0].updates):.1f} calls/update), "
          f"p50 {ms(percentile(lat, 50))}, p99 {ms(percentile(lat, 99))}  [{adapters[0]}]")
    print(f"   one at a time                   : {median([s.rate for s in seq]):>7,.1f} "
          f"updates/s ({seq[0].calls / max(1, seq[0].updates):.1f} calls/update)  "
          f"[{adapters[1]}]")
    print(f"   ratio concurrent / one at a time: {median(ratios):.0f}x (target >= 30x; median of "
          f"{args.crowd_runs}, spread {spread(ratios)})")
    if limited:
        rates = [r.rate for r in limited]
        sent = [r.calls / r.seconds for r in limited]
        print(f"   as shipped, {args.shipped_people} people         : {median(rates):>7,.1f} "
              f"updates/s, {median(sent):.0f} Bot API calls/s (Telegram's 30 messages/s, not "
              f"Hearth, is the bound)  [{adapters[2]}]")
    print(f"   checks (order, exactly-once, deliveries) on "
          f"{sum(r.updates for r in conc + seq + limited)} timed updates: "
          f"{'PASS' if not problems else 'FAIL ' + '; '.join(problems[:3])}")


async def main() -> None:
    # Failures are collected and reported as FAIL lines; no tracebacks in the figures.
    for name in ("bot", "telegram", "store"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--people", type=int, default=20, help="(b) caregivers at once")
    parser.add_argument("--redeliver", type=int, default=7, help="redeliver every Nth update")
    parser.add_argument("--crowd", type=int, default=1000, help="(c) caregivers")
    parser.add_argument("--crowd-steps", type=int, default=6, help="(c) timed updates each")
    parser.add_argument("--crowd-runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--seq-seconds", type=float, default=4.0)
    parser.add_argument("--shipped", action=argparse.BooleanOptionalAction, default=True,
                        help="(c) also run the adapter as shipped, with its rate limiter")
    parser.add_argument("--shipped-people", type=int, default=40)
    parser.add_argument("--only", choices=["ab", "c"], default=None)
    parser.add_argument("--what-if", action="store_true",
                        help="prototype the profile's proposed fixes (bench/_whatif.py)")
    args = parser.parse_args()
    if args.what_if:
        from bench._whatif import applied

        with applied("walk", "review", "templates"):
            print("   WHAT-IF: fixes 1-3 of bench/README.md prototyped by monkeypatching")
            await run(args)
        return
    await run(args)


async def run(args: argparse.Namespace) -> None:
    header("Telegram: real PTB Application, offline Bot API, real SQLite file")
    print(f"   flow {catalog().default_flow}; adapter: "
          f"{'bot/telegram' if real_adapter_available() else 'bench-local handlers'}")
    with temp_dir() as folder:
        if args.only in (None, "ab"):
            await ceiling_and_hearth(folder, args)
        if args.only in (None, "c"):
            await many_people(folder, args)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
