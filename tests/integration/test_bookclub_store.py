"""Book-club storage on a real SQLite file: exactly-once claims, sealed reflections, erasure."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot import bookclub
from store.bookclub import ClubRecord
from store.cipher import new_key
from store.contract import UnitOfWork
from store.errors import Conflict
from store.sqlite import Store

NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
SERIES = "what_happened@1"


def group_club(chat_id: str, person_id: int | None = None, kind: str = "group") -> ClubRecord:
    return ClubRecord(
        channel="telegram", chat_id=chat_id, kind=kind, series_key=SERIES, weekday=0,
        local_time="19:00", timezone="Europe/Madrid", start=dt.date(2026, 11, 25),
        status="active", active_since=None, skip_week=None, locale="en", person_id=person_id,
    )


def add_club(repo: UnitOfWork, club: ClubRecord) -> None:
    repo.bookclub.save_club(club, now=NOW)


async def test_claim__same_week_twice__second_refused(store: Store) -> None:
    await store.run(lambda repo: add_club(repo, group_club("-1")))

    def claim(repo: UnitOfWork) -> bookclub.ClaimedWeek | None:
        return bookclub.claim_due_week(repo, "telegram", "-1", NOW, "w1")

    first = await store.run(claim)
    second = await store.run(claim)
    assert first is not None and first.week == 1 and len(first.token) == 12
    assert second is None


async def test_claim__two_stores_on_one_file__each_week_claimed_once(db_path: Path) -> None:
    one, two = await Store.open(db_path), await Store.open(db_path)
    try:
        for n in range(20):
            await one.run(lambda repo, n=n: add_club(repo, group_club(str(-100 - n))))

        async def claim_all(store: Store, worker: str) -> list[bookclub.ClaimedWeek]:
            found = await asyncio.gather(*(
                store.run(lambda repo, n=n: bookclub.claim_due_week(
                    repo, "telegram", str(-100 - n), NOW, worker))
                for n in range(20)
            ))
            return [c for c in found if c is not None]

        a, b = await asyncio.gather(claim_all(one, "one"), claim_all(two, "two"))
        assert len(a) + len(b) == 20
        assert len({c.chat_id for c in a + b}) == 20
    finally:
        await one.close()
        await two.close()


async def test_deliveries__unique_per_chat_series_week(store: Store) -> None:
    def insert_twice(repo: UnitOfWork) -> None:
        for _ in range(2):
            repo.conn.execute(
                "INSERT INTO bookclub_deliveries (channel, chat_id, series_key, week, status, "
                "token, claimed_at) VALUES ('telegram', '-1', ?, 1, 'sent', hex(randomblob(6)), "
                "'2026-11-30')",
                (SERIES,),
            )

    with pytest.raises(Conflict):
        await store.run(insert_twice)


async def test_reflections__sealed_at_rest(tmp_path: Path) -> None:
    db = tmp_path / "sealed.db"
    store = await Store.open(db, data_key=new_key())
    words = "I shouted at breakfast and felt awful after"
    try:
        def write(repo: UnitOfWork) -> list[tuple[str, int, str, dt.datetime]]:
            person = repo.people.get_or_create("telegram", "77", now=NOW)
            clubs = repo.bookclub
            clubs.add_reflection(person.id, SERIES, 3, words, now=NOW)
            return clubs.reflections(person.id)

        [(series, week, text, _)] = await store.run(write)
        assert (series, week, text) == (SERIES, 3, words)
        await store.checkpoint()
    finally:
        await store.close()
    assert words.encode() not in db.read_bytes()


async def test_erase_person__reflections_and_private_subscription_gone(store: Store) -> None:
    def prepare(repo: UnitOfWork) -> int:
        person = repo.people.get_or_create("telegram", "77", now=NOW)
        clubs = repo.bookclub
        clubs.save_club(group_club("77", person.id, kind="private"), now=NOW)
        clubs.save_club(group_club("-9", person.id), now=NOW)
        clubs.claim_week("telegram", "77", SERIES, 1, now=NOW, worker="w")
        clubs.claim_week("telegram", "-9", SERIES, 1, now=NOW, worker="w")
        clubs.add_reflection(person.id, SERIES, 1, "tired", now=NOW)
        clubs.set_pending(person.id, SERIES, 2, now=NOW)
        return person.id

    person_id = await store.run(prepare)
    await store.run(lambda repo: repo.erase_person(person_id, now=NOW))

    def left(repo: UnitOfWork) -> dict[str, list[tuple[object, ...]]]:
        return {
            table: [tuple(r) for r in repo.conn.execute(sql).fetchall()]
            for table, sql in {
                "reflections": "SELECT * FROM bookclub_reflections",
                "pending": "SELECT * FROM bookclub_pending",
                "schedules": "SELECT chat_id, person_id FROM bookclub_schedules",
                "deliveries": "SELECT chat_id, week FROM bookclub_deliveries",
            }.items()
        }

    assert await store.read(left) == {
        "reflections": [],
        "pending": [],
        # The group they set up runs on for the others, no longer naming them.
        "schedules": [("-9", None)],
        "deliveries": [("-9", 1)],
    }
