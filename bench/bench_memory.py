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

from bench._common import Caregiver, catalog, header, inbound, median, spread, temp_dir, views
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
    move = caregiver.first()
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


def child(count: int, steps: int) -> None:
    with temp_dir() as folder:
        result = asyncio.run(open_interviews(folder / "open.db", count, steps))
    print(json.dumps(result))


def measure(count: int, steps: int) -> dict[str, float]:
    """One fresh interpreter per measurement, so peaks do not carry over."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_memory", "--child", str(count), "--steps", str(steps)],
        check=True, capture_output=True, text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=OPEN_STEPS)
    parser.add_argument("--complete", type=int, default=20, help="interviews to complete")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.steps)
        return
    header("memory: peak RSS with open interviews; database bytes per completed interview")
    print(f"   flow {catalog().default_flow}; each open interview: /start, consent, "
          f"{args.steps - 2} answer(s), left open; {AT_ONCE} people served at once")
    small: list[dict[str, float]] = []
    large: list[dict[str, float]] = []
    for _ in range(args.runs):
        small.append(measure(args.small, args.steps))
        large.append(measure(args.large, args.steps))
    ratios = [b["peak"] / a["peak"] for a, b in zip(small, large, strict=True)]
    growth = [(b["peak"] - b["baseline"]) - (a["peak"] - a["baseline"])
              for a, b in zip(small, large, strict=True)]
    for label, runs in ((args.small, small), (args.large, large)):
        peak = median([r["peak"] for r in runs])
        print(f"   {label:>6,} open interviews: peak RSS {peak:6.1f} MB"
              f" (after warm-up {median([r['baseline'] for r in runs]):6.1f} MB; "
              f"{int(runs[0]['open']):,} open in the database)")
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
