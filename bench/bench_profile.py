"""Profile the hot path of one step (pyinstrument tree, and cProfile cost by package)."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench._common import (
    Caregiver,
    Move,
    Timer,
    catalog,
    header,
    inbound,
    percentile,
    temp_dir,
    views,
)
from bot.service import DialogueService
from store.contract import UnitOfWork
from store.sqlite import migrate
from store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")


class InlineStore:
    """Runs each step in THIS thread inside its own transaction (profilers see one thread).

    Same work as the real Store minus the thread hop and group commit: the step function,
    then COMMIT. synchronous NORMAL so fsync does not hide the CPU cost.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        migrate(self.conn)
        self.repo = SqlUnitOfWork(self.conn)

    async def run(self, step: Callable[[UnitOfWork], T], *, first: bool = False) -> T:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            value = step(self.repo)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return value

    async def read(self, query: Callable[[UnitOfWork], T]) -> T:
        return query(self.repo)

    async def close(self) -> None:
        self.conn.close()


DURATIONS: list[float] = []
TEXTS: list[str] = []


async def interviews(service: DialogueService, people: int, prefix: str) -> int:
    """Complete `people` interviews one step at a time; returns the steps taken."""
    cat = service.catalog
    flow = cat.latest(cat.default_flow)
    steps = 0
    for n in range(people):
        user = f"{prefix}{n}"
        caregiver = Caregiver(flow, n)
        move: Move | None = caregiver.first()
        while move is not None:
            start = time.perf_counter()
            out = await service.handle(inbound(user, move, f"{user}-{steps}"))
            DURATIONS.append(time.perf_counter() - start)
            TEXTS.extend(o.text for o in out)
            steps += 1
            move = caregiver.next(views(out))
    return steps


def by_package(stats: pstats.Stats, top: int) -> list[tuple[str, float]]:
    """Own time (tottime) summed by package: bot/, flows/, jinja2, pydantic, sqlite3..."""
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, tottime, _, _) in raw.items():
        if filename == "~":
            key = "builtins: " + name.strip("<>").split(" of ")[0].replace("method ", "")
        elif "site-packages/" in filename:
            key = filename.split("site-packages/")[1].split("/")[0]
        elif "/work/" in filename or "/bench/" in filename:
            parts = Path(filename).parts
            key = "/".join(parts[-2:])
        else:
            key = "stdlib " + Path(filename).stem
        totals[key] = totals.get(key, 0.0) + tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=15, help="interviews completed")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--tree", action=argparse.BooleanOptionalAction, default=True,
                        help="print the pyinstrument tree")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code before a change (`git archive main | tar "
                             "-x -C DIR`): per-step time of both, interleaved, no profiler")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --before")
    parser.add_argument("--rate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rate_only:
        print(f"RATE {1e6 * rate_only(args.people):.1f}")
        return
    header("profile: one step's hot path (service + store inline, no thread hop)")
    if args.before is not None:
        before_after(args.before, args.people, args.rounds)
        return

    async def run(profile: Callable[[], Any] | None = None) -> tuple[int, float]:
        with temp_dir() as folder:
            store = InlineStore(folder / "profile.db")
            service = DialogueService(store, catalog())  # type: ignore[arg-type]
            await interviews(service, 2, "warm")  # templates compiled, caches warm
            with Timer() as timer:
                if profile is None:
                    steps = await interviews(service, args.people, "p")
                else:
                    with profile():
                        steps = await interviews(service, args.people, "p")
            await store.close()
        return steps, timer.seconds

    steps, seconds = asyncio.run(run())
    timed = DURATIONS[-steps:]
    print(f"   {steps} steps ({args.people} completed interviews, flow {catalog().default_flow}):"
          f" {1e6 * seconds / steps:,.0f} us per step without a profiler (p50 "
          f"{1e6 * percentile(timed, 50):,.0f} us, p99 {1e6 * percentile(timed, 99):,.0f} us, "
          f"max {1e6 * max(timed):,.0f} us)")
    profiler = cProfile.Profile()
    asyncio.run(run(lambda: profiler))
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"   own time by module/package (cProfile, {1e6 * total / steps:,.0f} us per step "
          "with its overhead):")
    for key, own in by_package(stats, args.top):
        print(f"     {100 * own / total:5.1f}%  {1e6 * own / steps:6.0f} us/step  {key}")
    print("   top functions by cumulative time:")
    stats.sort_stats("cumulative")
    rows = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, _, cumtime, _) in raw.items():
        if "/work/" in filename and "/bench/" not in filename:
            rows.append((cumtime, calls, f"{'/'.join(Path(filename).parts[-2:])}:{line} {name}"))
    for cumtime, calls, where in sorted(rows, reverse=True)[:args.top]:
        print(f"     {1e6 * cumtime / steps:6.0f} us/step {calls / steps:6.1f} calls/step  {where}")
    walks = {name: 0.0 for name in ("questions", "find_question")}
    for (filename, _, name), (_, calls, _, _, _) in raw.items():
        if filename.endswith("flows/engine.py") and name in walks:
            walks[name] += calls / steps
    print(f"   question-list walks per step (flows/engine.py): {walks['questions']:.1f} full "
          f"(questions, via next_question/progress/...), {walks['find_question']:.1f} partial "
          "(find_question)")
    print("   per call (cProfile, so inflated; compare them with each other):")
    wanted = {("bot/render.py", "review"), ("bot/render.py", "ask"),
              ("bot/steps.py", "current_answers"), ("flows/engine.py", "questions"),
              ("flows/engine.py", "find_question"), ("bot/steps.py", "show_review")}
    for (filename, line, name), (_, calls, _, cumtime, _) in raw.items():
        where = "/".join(Path(filename).parts[-2:])
        if (where, name) in wanted and calls:
            print(f"     {1e6 * cumtime / calls:8,.0f} us per call, {calls:6,} calls  "
                  f"{where}:{line} {name}")
    asyncio.run(end_of_interview())
    if args.tree:
        from pyinstrument import Profiler

        tree = Profiler(interval=0.0005)
        asyncio.run(run(lambda: tree))
        print("   pyinstrument (frames >= 3% of the total):")
        print(tree.output_text(unicode=False, color=False,
                               processor_options={"filter_threshold": 0.03}))


def rate_only(people: int) -> float:
    """CPU seconds per step of `people` complete interviews, after two warm ones.

    CPU time of this process, not wall time: the store runs inline on this one thread,
    so it is the step's whole cost, and it moves far less than wall time when other
    processes take the cores.
    """
    async def run() -> float:
        with temp_dir() as folder:
            store = InlineStore(folder / "rate.db")
            service = DialogueService(store, catalog())  # type: ignore[arg-type]
            await interviews(service, 2, "warm")
            start = time.process_time()
            steps = await interviews(service, people, "p")
            used = time.process_time() - start
            await store.close()
        return used / steps

    return asyncio.run(run())


def before_after(before: Path, people: int, rounds: int) -> None:
    """This code's step against `before`'s, each in a fresh interpreter, alternating.

    Both run THIS bench script (its timing loop), importing `bot`, `flows`, `store` and
    `bench._common` from their own tree.
    """
    import os
    import statistics
    import subprocess
    import sys

    here = Path(__file__).resolve().parent.parent
    script = str(Path(__file__).resolve())
    found: dict[str, list[float]] = {"before": [], "after": []}
    for n in range(rounds):
        order = [("before", before), ("after", here)]
        for name, tree in order if n % 2 == 0 else reversed(order):
            env = dict(os.environ, PYTHONPATH=str(tree))
            out = subprocess.run(
                [sys.executable, "-c", "import runpy, sys; sys.argv = [sys.argv[1], "
                 f"'--rate-only', '--people', '{people}']; runpy.run_path(sys.argv[0], "
                 "run_name='__main__')", script],
                cwd=tree, env=env, check=True, capture_output=True, text=True,
            ).stdout
            found[name].append(float(out.split("RATE")[-1].split()[0]))
    ratios = [b / a for a, b in zip(found["after"], found["before"], strict=True)]
    spread = (max(ratios) - min(ratios)) / statistics.median(ratios)
    print(f"   CPU per step ({people} interviews, {rounds} interleaved rounds, no profiler): "
          "before "
          f"{statistics.median(found['before']):,.0f} us, after "
          f"{statistics.median(found['after']):,.0f} us; speed-up before/after "
          f"{statistics.median(ratios):.2f}x (spread {100 * spread:.0f}%; rounds "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")


async def end_of_interview(repeats: int = 2000) -> None:
    """Unit costs at the end of a completed interview (the most answers a step loads)."""
    from bot.data.load import current_answers
    from flows.engine import questions
    from messages.render import environment, macro

    with temp_dir() as folder:
        store = InlineStore(folder / "unit.db")
        cat = catalog()
        service = DialogueService(store, cat)  # type: ignore[arg-type]
        await interviews(service, 1, "unit")
        interview = str(store.conn.execute("SELECT id FROM interviews").fetchone()[0])
        flow = cat.latest(cat.default_flow)
        answers = current_answers(store.repo, interview)

        def each(fn: Callable[[], object]) -> float:
            with Timer() as timer:
                for _ in range(repeats):
                    fn()
            return 1e6 * timer.seconds / repeats

        walk = each(lambda: questions(flow, answers))
        load = each(lambda: current_answers(store.repo, interview))
        lookup = each(lambda: macro("en", "replies.j2", "ask"))
        template = environment().get_template("en/replies.j2")
        module: Any = template.module
        cached = each(lambda: module.ask)
        await store.close()
    print(f"   at the end of the interview ({len(answers)} answers): one full question-list "
          f"walk {walk:.0f} us; loading + decoding the current answers {load:.0f} us; "
          f"messages.render.macro() lookup {lookup:.1f} us (stat()s the template) vs "
          f"{cached:.1f} us from a held template")


if __name__ == "__main__":
    main()
