"""The web family's inbox: what it adds to a family's GET / (bot/web/inbox.py).

In process (httpx's ASGI transport, a real SQLite file), interleaved in one run: GET / of
a family with a plan and an open check-in in its inbox, the same family's page with the
inbox read switched off (the page as it was before the inbox), and a family with nothing
in its inbox (every family that has no plan: the extra read finds nothing).

Run: python -m bench.bench_web_inbox [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench._common import header, median, percentile, temp_dir
from bot.model import Outbound
from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from bot.web.inbox import InboxPage
from bot.web.inbox_jobs import deliver_due
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock, Person
from tests.e2e.test_web_inbox import family_interview


async def _empty(self: InboxPage, user_id: str, locale: str, now: list[Outbound]
                 ) -> tuple[list[Outbound], list[Outbound]]:
    return [], []


async def main(rounds: int) -> None:
    header("web inbox: GET / of a family (ms, in process)")
    with temp_dir() as folder:
        store = await Store.open(folder / "bench.db")
        clock = Clock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
        service = DialogueService(store, FlowCatalog.bundled("sample"), clock=clock)
        app = create_app(service, WebConfig(rate_per_minute=1_000_000,
                                            idle=timedelta(days=365)))
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 1))
        clients = [httpx.AsyncClient(transport=transport, base_url="http://b")
                   for _ in range(2)]
        for client in clients:
            await client.get("/")
        users = await store.read(lambda uow: [str(r[0]) for r in uow.conn.execute(  # type: ignore[attr-defined]
            "SELECT user_id FROM web_sessions ORDER BY created_at").fetchall()])
        interview = await family_interview(service, clock.now, web=users[0])
        doc = Person(service, "doc")
        for command in ("add 1", "add 2 Ten quiet minutes together.", "review 2026-12-01",
                        "send"):
            await doc.command("plan", f"{interview} {command}")
        clock.advance(days=7)
        await deliver_due(service)
        real = InboxPage.messages
        times: dict[str, list[float]] = {"plan + check-in": [], "same, inbox off": [],
                                         "empty inbox": []}
        for _ in range(rounds):
            for name, client, patched in (("plan + check-in", clients[0], False),
                                          ("same, inbox off", clients[0], True),
                                          ("empty inbox", clients[1], False)):
                InboxPage.messages = _empty if patched else real  # type: ignore[method-assign]
                start = time.perf_counter()
                page = await client.get("/")
                times[name].append((time.perf_counter() - start) * 1000)
                assert page.status_code == 200
        InboxPage.messages = real  # type: ignore[method-assign]
        for name, values in times.items():
            print(f"  {name:18} median {median(values):6.2f}  p90 {percentile(values, 90):6.2f}")
        base = median(times["same, inbox off"])
        print(f"  ratio plan+check-in / inbox off: {median(times['plan + check-in']) / base:.2f}")
        for client in clients:
            await client.aclose()
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    asyncio.run(main(parser.parse_args().rounds))
