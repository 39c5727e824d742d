"""What sealing costs a step: a whole developmental-history interview, keyed and not.

Every adverse experience is ticked (the repeated sections are the longest interview
there is), through the real DialogueService on SQLite (synchronous=NORMAL so the disk's
fsync does not drown the figure). Prints the median and 90th percentile of one step
(one person's message, committed), and how the current-answer lookup is planned.
Run it from two checkouts to compare versions: `python -m bench.bench_sealing`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from pathlib import Path

from bench._common import header, median, percentile, temp_dir
from bot.model import Inbound, Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.sqlite import Store

FLOW = "developmental_history"
NAVIGATION = {"back", "skip", "done"}
_ids = itertools.count()


class Family:
    def __init__(self, service: DialogueService, user: str) -> None:
        self.service, self.user, self.last, self.times = service, user, list[Outbound](), []

    async def send(self, kind: Kind, payload: str) -> None:
        event = Inbound("console", self.user, self.user, kind, payload, f"b{next(_ids)}")
        start = time.perf_counter()
        self.last = await self.service.handle(event)
        self.times.append(time.perf_counter() - start)

    def ask(self) -> Outbound | None:
        return next((m for m in reversed(self.last) if m.key == "replies.ask"), None)


def buttons(message: Outbound) -> dict[str, str]:
    return {c.key: c.payload for row in message.choices for c in row}


async def interview(service: DialogueService, user: str) -> list[float]:
    family = Family(service, user)
    await family.send(Kind.COMMAND, "start")
    await family.send(Kind.CHOICE, buttons(family.last[0])["agree"])
    cycle = 0
    while (ask := family.ask()) is not None:
        choices = buttons(ask)
        options = [k for k in choices if k not in NAVIGATION]
        if "done" in choices:
            for value in [k for k in options if k not in ("none", "unknown", "not_sure")]:
                current = family.ask()
                assert current is not None
                await family.send(Kind.CHOICE, buttons(current)[value])
            current = family.ask()
            assert current is not None
            await family.send(Kind.CHOICE, buttons(current)["done"])
        elif options:
            cycle += 1
            await family.send(Kind.CHOICE, choices[options[cycle % len(options)]])
        elif ask.question == "child_age":
            await family.send(Kind.TEXT, "15 years")
        elif ask.question == "cg_children":
            await family.send(Kind.TEXT, "2")
        else:
            await family.send(Kind.TEXT, "Quokka")
    return family.times


async def run(path: Path, families: int, key: str | None) -> list[float]:
    store = await Store.open(path, "NORMAL", data_key=key)
    try:
        service = DialogueService(store, FlowCatalog.bundled(FLOW))
        times: list[float] = []
        for n in range(families):
            times += await interview(service, f"fam{n}")
        return times
    finally:
        await store.close()


def plan(path: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(path)
    rows = conn.execute(
        "EXPLAIN QUERY PLAN SELECT c.item_key, a.value, c.skips FROM current_answers c "
        "JOIN answers a ON a.id = c.answer_id WHERE c.interview_id = ?", ("x",)
    ).fetchall()
    conn.close()
    return "; ".join(str(r[-1]) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=3)
    args = parser.parse_args()
    header("sealing: one step of a whole developmental-history interview")
    with temp_dir() as folder:
        runs = (("no key", None), ("keyed", new_key()), ("no key, again", None))
        for n, (label, key) in enumerate(runs):
            path = folder / f"run{n}.db"
            times = asyncio.run(run(path, args.families, key))
            print(f"{label:14} {len(times):5} steps  median {median(times) * 1000:6.2f} ms  "
                  f"p90 {percentile(times, 90) * 1000:6.2f} ms")
            if key:
                print(f"{'':14} lookup plan: {plan(path)}")


if __name__ == "__main__":
    main()
