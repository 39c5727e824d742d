"""One intake workload on SQLite and PostgreSQL with 1, 2, 4 worker processes, interleaved."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import (
    Caregiver,
    Move,
    catalog,
    header,
    inbound,
    median,
    percentile,
    spread,
    temp_dir,
    views,
)


@dataclass(frozen=True)
class Job:
    """What one worker process runs: which store, how many caregivers, for how long."""

    backend: str  # 'sqlite' | 'postgres'
    target: str  # a file path or a PostgreSQL conninfo
    worker: int
    caregivers: int
    seconds: float
    pool: int


@dataclass(frozen=True)
class Result:
    updates: int
    interviews: int
    stuck: int
    latencies: list[float]
    retries: int


async def _open(job: Job) -> Any:
    if job.backend == "postgres":
        from store.postgres import PostgresStore

        return await PostgresStore.open(job.target, pool_size=job.pool)
    from store.sqlite import Store

    return await Store.open(Path(job.target))


async def _work(job: Job, ready: Any, go: Any) -> Result:
    """Caregivers complete interviews one update at a time until the time is up."""
    from bot.service import DialogueService

    cat = catalog()
    flow = cat.latest(cat.default_flow)
    store = await _open(job)
    service = DialogueService(store, cat)
    ready.put(job.worker)
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    deadline = time.monotonic() + job.seconds
    latencies: list[float] = []
    counts = {"interviews": 0, "stuck": 0}

    async def caregiver(index: int) -> None:
        generation = 0
        while time.monotonic() < deadline:
            user = f"w{job.worker}c{index}g{generation}"
            generation += 1
            person = Caregiver(flow, seed=hash(user) & 0xFFFF)
            move: Move | None = person.first()
            n = 0
            while move is not None and time.monotonic() < deadline:
                started = time.perf_counter()
                replies = await service.handle(inbound(user, move, f"{user}-{n}"))
                latencies.append(time.perf_counter() - started)
                n += 1
                try:
                    move = person.next(views(replies))
                except RuntimeError:  # an apology instead of a question: count, go on
                    counts["stuck"] += 1
                    break
            if move is None:
                counts["interviews"] += 1

    try:
        await asyncio.gather(*(caregiver(i) for i in range(job.caregivers)))
    finally:
        await store.close()
    return Result(len(latencies), counts["interviews"], counts["stuck"], latencies,
                  getattr(store, "retries", 0))


def _process(job: Job, ready: Any, go: Any, results: Any) -> None:
    results.put(asyncio.run(_work(job, ready, go)))


def run(backend: str, target: str, workers: int, caregivers: int, seconds: float,
        pool: int) -> tuple[float, Result]:
    """Start `workers` processes sharing `caregivers`, release them together; updates/s."""
    context = mp.get_context("spawn")  # fresh interpreters: no inherited threads or handles
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    share = [caregivers // workers + (1 if i < caregivers % workers else 0) for i in range(workers)]
    processes = [
        context.Process(target=_process, args=(
            Job(backend, target, i, share[i], seconds, pool), ready, go, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    go.set()
    gathered = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    total = Result(
        sum(r.updates for r in gathered), sum(r.interviews for r in gathered),
        sum(r.stuck for r in gathered), [x for r in gathered for x in r.latencies],
        sum(r.retries for r in gathered),
    )
    return total.updates / seconds, total


def _prepare_postgres(target: str) -> None:
    """Migrate once before the workers start (they would wait for each other otherwise)."""
    from store.postgres import PostgresStore

    async def go() -> None:
        store = await PostgresStore.open(target, pool_size=1)
        await store.close()

    asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("HEARTH_BENCH_POSTGRES_URL"),
                        help="a PostgreSQL server to use (default: start a throwaway cluster)")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured time per run")
    parser.add_argument("--caregivers", type=int, default=32,
                        help="people answering at once, shared by the workers")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--pool", type=int, default=8, help="PostgreSQL connections per worker")
    parser.add_argument("--runs", type=int, default=3,
                        help="interleaved rounds; medians of same-round ratios show")
    args = parser.parse_args()

    from bench._postgres import fresh_schema, server_version, temp_cluster

    with temp_cluster() if args.url is None else _given(args.url) as url:
        header("Intake workload on SQLite and PostgreSQL, 1..n worker processes")
        print(f"   {server_version(url)} · {args.caregivers} caregivers answering at once · "
              f"{args.seconds:g} s per run · full service path (step + render)")
        # Interleaved: every round runs every configuration once, starting one further
        # along each time, so a noisy minute on the shared machine hits all of them alike.
        configs = [("sqlite", 1)] + [("postgres", w) for w in args.workers]
        found: dict[tuple[str, int], list[tuple[float, Result]]] = {c: [] for c in configs}
        with temp_dir() as folder:
            for round_ in range(args.runs):
                shift = round_ % len(configs)
                for backend, workers in configs[shift:] + configs[:shift]:
                    if backend == "sqlite":
                        outcome = run("sqlite", str(folder / f"s{round_}.db"), 1,
                                      args.caregivers, args.seconds, args.pool)
                    else:
                        with fresh_schema(url) as target:
                            _prepare_postgres(target)
                            outcome = run("postgres", target, workers, args.caregivers,
                                          args.seconds, args.pool)
                    found[(backend, workers)].append(outcome)
        rows = [(backend, workers, [r for r, _ in found[(backend, workers)]],
                 found[(backend, workers)][-1][1]) for backend, workers in configs]
        base_rates = rows[0][2]
        print()
        print(f"   {'back end':<10} {'workers':>7} {'updates/s':>10} {'vs sqlite':>9} "
              f"{'spread':>7} {'p50 ms':>7} {'p99 ms':>7} {'interviews':>10} {'reruns':>6} "
              f"{'stuck':>5}")
        for backend, workers, rates, result in rows:
            rate = median(rates)
            ratios = [r / b for r, b in zip(rates, base_rates, strict=True)]
            print(f"   {backend:<10} {workers:>7} {rate:>10.0f} {median(ratios):>8.2f}x "
                  f"{spread(ratios):>7} "
                  f"{1000 * percentile(result.latencies, 50):>7.1f} "
                  f"{1000 * percentile(result.latencies, 99):>7.1f} "
                  f"{result.interviews:>10} {result.retries:>6} {result.stuck:>5}")
        print(f"\n   {os.cpu_count()} cores shared by the workers and the server: more workers "
              "than cores measure contention, not the design's ceiling.")


class _given:
    """A server the operator named: used as is, nothing started or stopped."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
