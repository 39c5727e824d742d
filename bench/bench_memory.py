"""Peak RSS with 100 vs 10,000 open interviews, and database bytes per completed interview."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench._common import Caregiver, Move, catalog, header, inbound, median, spread, temp_dir, views
from bot.service import DialogueService
from store.sqlite import Store

#: Steps per open interview: /start, consent, first answer (then left open).
OPEN_STEPS = 3
#: People served at once while the interviews are opened.
AT_ONCE = 50


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def open_interviews(path: Path, count: int, steps: int) -> dict[str, float]:
    """Serve `count` people `steps` steps each, AT_ONCE at a time; report RSS."""
    cat = catalog()
    flow = cat.latest(cat.default_flow)
    store = await Store.open(path, "FULL")
    service = DialogueService(store, cat)
    # Warm up (templates compiled, caches filled) so the baseline is the steady state.
    await person(service, flow, "warm", steps)
    baseline = rss_mb()
    for first in range(0, count, AT_ONCE):
        await asyncio.gather(*(person(service, flow, f"p{n}", steps)
                               for n in range(first, min(count, first + AT_ONCE))))
    peak = rss_mb()
    await store.close()
    conn = sqlite3.connect(path)
    open_count = conn.execute(
        "SELECT count(*) FROM interviews WHERE submitted_at IS NULL").fetchone()[0]
    conn.close()
    return {"baseline": baseline, "peak": peak, "open": float(open_count)}


async def person(service: DialogueService, flow: object, user: str, steps: int | None) -> int:
    caregiver = Caregiver(flow, hash(user) & 0xFFFF)  # type: ignore[arg-type]
    move: Move | None = caregiver.first()
    n = 0
    while move is not None and (steps is None or n < steps):
        out = await service.handle(inbound(user, move, f"{user}-{n}"))
        n += 1
        move = caregiver.next(views(out))
    return n


async def bytes_per_interview(folder: Path, count: int) -> dict[str, float]:
    """Complete `count` interviews; file bytes (after a checkpoint) per interview, by table."""
    cat = catalog()
    flow = cat.latest(cat.default_flow)
    path = folder / "complete.db"
    store = await Store.open(path, "FULL")
    await store.checkpoint()
    empty = path.stat().st_size
    service = DialogueService(store, cat)
    steps = sum(await asyncio.gather(*(person(service, flow, f"c{n}", None)
                                       for n in range(count))))
    await store.checkpoint()
    await store.close()
    size = path.stat().st_size
    found = {"bytes": (size - empty) / count, "steps": steps / count}
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        tables = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        for name, used in rows:
            if name in tables:
                found[f"table {name}"] = used / count
        found["deliveries outcome"] = conn.execute(
            "SELECT avg(length(outcome)) FROM deliveries").fetchone()[0] or 0.0
    except sqlite3.Error:
        pass  # no dbstat in this SQLite build
    finally:
        conn.close()
    return found


async def open_on_telegram(path: Path, count: int, steps: int) -> dict[str, float]:
    """The same through Hearth's own Application (build_application: its handlers, book
    club, reminders, per-person processor; offline Bot API): does PTB keep anything?"""
    from bench._telegram import TOKEN, OfflineRequest, Session, Traffic
    from bot.settings import load_settings
    from bot.telegram import build_application

    cat = catalog()
    flow = cat.latest(cat.default_flow)
    store = await Store.open(path, "FULL")
    service = DialogueService(store, cat)
    request = OfflineRequest()
    # The overall rate limit off (0): at Telegram's 30/s this bench would take hours.
    settings = load_settings(telegram_token=TOKEN, telegram_max_rate=0)
    app = build_application(service, settings, request=request)
    traffic = Traffic(app, request)
    traffic.install()
    await app.initialize()
    await app.start()

    async def wave(first: int, size: int) -> None:
        sessions = [Session(Caregiver(flow, n), 10_000 + n, request)
                    for n in range(first, first + size)]
        await asyncio.gather(*(s.run(traffic, max_steps=steps) for s in sessions))
        for s in sessions:  # the simulated phones' state is the bench's, not Hearth's
            del request.inbox[s.user]
        traffic.latencies.clear()
        traffic.done_ids.clear()

    await wave(-1, 1)
    baseline = rss_mb()
    for first in range(0, count, AT_ONCE):
        await wave(first, min(AT_ONCE, count - first))
    peak = rss_mb()
    errors = len(traffic.errors)
    await app.stop()
    await app.shutdown()
    await store.close()
    conn = sqlite3.connect(path)
    open_count = conn.execute(
        "SELECT count(*) FROM interviews WHERE submitted_at IS NULL").fetchone()[0]
    conn.close()
    return {"baseline": baseline, "peak": peak, "open": float(open_count),
            "errors": float(errors)}


def child(count: int, steps: int, telegram: bool) -> None:
    with temp_dir() as folder:
        opener = open_on_telegram if telegram else open_interviews
        result = asyncio.run(opener(folder / "open.db", count, steps))
    print(json.dumps(result))


def measure(count: int, steps: int, telegram: bool = False) -> dict[str, float]:
    """One fresh interpreter per measurement, so peaks do not carry over."""
    command = [sys.executable, "-m", "bench.bench_memory", "--child", str(count),
               "--steps", str(steps)]
    out = subprocess.run(command + (["--telegram"] if telegram else []),
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=OPEN_STEPS)
    parser.add_argument("--complete", type=int, default=20, help="interviews to complete")
    parser.add_argument("--telegram", action="store_true",
                        help="open the interviews through the real PTB Application instead "
                             "of calling the service (slower: ~1 minute per 10,000)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.steps, args.telegram)
        return
    header("memory: peak RSS with open interviews; database bytes per completed interview")
    print(f"   flow {catalog().default_flow}; each open interview: /start, consent, "
          f"{args.steps - 2} answer(s), left open; {AT_ONCE} people served at once; through "
          f"{'the real PTB Application (offline Bot API)' if args.telegram else 'the service'}")
    small: list[dict[str, float]] = []
    large: list[dict[str, float]] = []
    for _ in range(args.runs):
        small.append(measure(args.small, args.steps, args.telegram))
        large.append(measure(args.large, args.steps, args.telegram))
    ratios = [b["peak"] / a["peak"] for a, b in zip(small, large, strict=True)]
    growth = [(b["peak"] - b["baseline"]) - (a["peak"] - a["baseline"])
              for a, b in zip(small, large, strict=True)]
    for label, runs in ((args.small, small), (args.large, large)):
        peak = median([r["peak"] for r in runs])
        print(f"   {label:>6,} open interviews: peak RSS {peak:6.1f} MB"
              f" (after warm-up {median([r['baseline'] for r in runs]):6.1f} MB; "
              f"{int(runs[0]['open']):,} open in the database)")
    failed = sum(int(r.get("errors", 0)) for r in small + large)
    if failed:
        print(f"   FAIL: {failed} updates raised in the Application")
    extra = median(growth) * 1024 * 1024 / (args.large - args.small)
    print(f"   ratio peak {args.large:,} / {args.small:,}: {median(ratios):.2f} "
          f"(1.00 = flat; median of {args.runs}, spread {spread(ratios)}); "
          f"~{extra:,.0f} bytes of RSS per extra open interview")
    with temp_dir() as folder:
        sizes = [asyncio.run(bytes_per_interview(folder, args.complete))]
        for _ in range(args.runs - 1):
            with temp_dir() as again:
                sizes.append(asyncio.run(bytes_per_interview(again, args.complete)))
    print(f"   database bytes per completed interview: {median([s['bytes'] for s in sizes]):,.0f}"
          f" ({median([s['steps'] for s in sizes]):.0f} steps each; {args.complete} completed, "
          f"after a WAL checkpoint; median of {args.runs})")
    parts = sorted((k for k in sizes[0] if k.startswith("table ")),
                   key=lambda k: -sizes[0][k])
    if parts:
        print("   by table (pages used per interview): " + ", ".join(
            f"{k[6:]} {median([s.get(k, 0.0) for s in sizes]):,.0f}" for k in parts[:6]))
        print(f"   average stored outcome per delivery: "
              f"{median([s['deliveries outcome'] for s in sizes]):,.0f} bytes of JSON")


if __name__ == "__main__":
    main()
