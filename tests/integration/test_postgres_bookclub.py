"""Book-club weeks claimed in PostgreSQL: with several workers, exactly one sends each week."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from store.bookclub import WeekDelivery
from store.contract import UnitOfWork
from tests.postgres import fresh_schema, postgres_url

if TYPE_CHECKING:
    from store.postgres import PostgresStore

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema(postgres_url()) as url:
        yield url


@pytest.fixture
async def workers(pg_url: str) -> AsyncIterator[list[PostgresStore]]:
    from store.postgres import PostgresStore

    stores = [await PostgresStore.open(pg_url, pool_size=4) for _ in range(3)]
    yield stores
    for store in stores:
        await store.close()


async def test_claim__same_week_from_three_workers__exactly_one_wins(
    workers: list[PostgresStore],
) -> None:
    def claim(worker: str, week: int, repo: UnitOfWork) -> WeekDelivery | None:
        return repo.bookclub.claim_week(
            "telegram", "-100", "what_happened@1", week, now=NOW, worker=worker
        )

    for week in range(1, 11):
        results = await asyncio.gather(
            *(
                store.run(lambda repo, w=f"w{n}.{k}", wk=week: claim(w, wk, repo))
                for k in range(4)
                for n, store in enumerate(workers)
            )
        )
        won = [r for r in results if r is not None]
        assert len(won) == 1, f"week {week}: {len(won)} workers would send"
        assert won[0].week == week and won[0].status == "sending"


async def test_reclaim_retry__due_week__taken_by_one_worker(
    workers: list[PostgresStore],
) -> None:
    first = workers[0]
    claimed = await first.run(
        lambda repo: repo.bookclub.claim_week(
            "telegram", "-100", "what_happened@1", 1, now=NOW, worker="w0"
        )
    )
    assert claimed is not None
    await first.run(
        lambda repo: repo.bookclub.mark_retry(
            claimed.id, retry_at=NOW, error="429 too many requests"
        )
    )
    later = NOW + timedelta(seconds=5)
    taken = await asyncio.gather(
        *(
            store.run(
                lambda repo, w=f"w{n}": repo.bookclub.reclaim_retry(
                    claimed.id, now=later, worker=w
                )
            )
            for n, store in enumerate(workers)
            for _ in range(3)
        )
    )
    assert taken.count(True) == 1


async def test_claim_due_week__scheduler_race__one_worker_sends(
    workers: list[PostgresStore],
) -> None:
    """The book club's own transaction (bot/bookclub.py) run by three workers' schedulers."""
    from bot import bookclub
    from store.bookclub import ClubRecord

    start = NOW - timedelta(days=8)
    club = ClubRecord(
        channel="telegram", chat_id="-200", kind="group", series_key="what_happened@1",
        weekday=NOW.weekday(), local_time="09:00", timezone="UTC", start=start.date(),
        status="active", active_since=start, skip_week=None, locale="en", person_id=None,
    )
    await workers[0].run(lambda repo: repo.bookclub.save_club(club, now=start))
    due = await workers[1].read(
        lambda repo: bookclub.due_chats(repo, channel="telegram", now=NOW)
    )
    assert due == ["-200"]
    claims = await asyncio.gather(
        *(
            store.run(
                lambda repo, w=f"w{n}.{k}": bookclub.claim_due_week(
                    repo, channel="telegram", chat_id="-200", now=NOW, worker=w
                )
            )
            for n, store in enumerate(workers)
            for k in range(4)
        )
    )
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    log = await workers[2].read(
        lambda repo: repo.bookclub.deliveries("telegram", "-200", "what_happened@1")
    )
    assert [(d.week, d.status) for d in log] == [(won[0].week, "sending")]
