"""The plans repository: the same script gives the same results on SQLite and on the fake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from store.backend import Backend
from store.contract import UnitOfWork
from store.memory import MemoryStore
from store.sqlite import Store
from tests.postgres import postgres_keyed_later

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def script(repo: UnitOfWork) -> list[Any]:
    plans = repo.plans
    seen: list[Any] = []
    plans.add_note("i1", "first", author_id=1, now=NOW)
    plans.add_note("i1", "second", author_id=1, now=NOW)
    plans.add_note("i2", "other", author_id=2, now=NOW)
    seen.append([(n.body, n.author_id) for n in plans.notes("i1")])
    seen.append(plans.plan("i1"))
    seen.append([plans.add_item("i1", "sleep_routine", None, now=NOW),
                 plans.add_item("i1", "keep_going", "our words", now=NOW)])
    plans.set_wording("i1", 1, "edited", now=NOW)
    plans.set_review("i1", date(2026, 12, 20), now=NOW)
    seen.append(plans.checkins_due(date(2026, 12, 31)))  # not sent yet: not due
    plans.mark_sent("i1", now=NOW)
    seen.append(plans.checkins_due(date(2026, 12, 19)))
    seen.append(plans.checkins_due(date(2026, 12, 20)))
    seen.append([plans.claim_checkin("i1", now=NOW), plans.claim_checkin("i1", now=NOW)])
    seen.append(plans.checkins_due(date(2026, 12, 31)))
    seen.append([plans.answer_item("i1", 1, tried="yes", now=NOW),
                 plans.answer_item("i1", 1, went="same", now=NOW),
                 plans.answer_item("i1", 9, tried="no", now=NOW)])
    found = plans.plan("i1")
    assert found is not None
    seen.append([(i.position, i.recommendation, i.wording, i.status, i.tried, i.went)
                 for i in found.items])
    seen.append((found.review_on, found.sent_at is not None, found.checkin_at is not None))
    plans.set_review("i1", date(2027, 1, 10), now=NOW)  # a new date: a new check-in
    seen.append(plans.checkins_due(date(2027, 1, 10)))
    plans.set_schedule("i1", 3, date(2027, 2, 25))
    plans.set_schedule("i2", 6, date(2027, 5, 25))
    seen.append([s.interview_id for s in plans.reassessments_due(date(2027, 3, 1))])
    seen.append([plans.advance("i1", date(2027, 2, 25), date(2027, 5, 25)),
                 plans.advance("i1", date(2027, 2, 25), date(2027, 5, 25))])
    plans.set_follow_up("i1", "f1")
    seen.append(plans.schedule("i1"))
    seen.append(plans.next_due(["i1", "i2", "i3"]))
    plans.erase_family("i1")
    after = plans.plan("i1")
    assert after is not None
    seen.append([(i.tried, i.went) for i in after.items])
    seen.append([plans.schedule("i1"), plans.checkins_due(date(2027, 1, 10))])
    plans.set_schedule("i2", None, None)
    seen.append(plans.schedule("i2"))
    plans.erase_interview("i1")
    seen.append([plans.plan("i1"), plans.notes("i1"), [n.body for n in plans.notes("i2")]])
    return seen


async def played(store: Backend) -> list[Any]:
    try:
        return await store.run(script)
    finally:
        await store.close()


async def test_plans_repo__same_on_memory_and_sqlite(tmp_path: Path) -> None:
    on_sqlite = await played(await Store.open(tmp_path / "plans.db"))
    on_memory = await played(MemoryStore())
    assert on_memory == on_sqlite
    assert on_sqlite[0] == [("first", 1), ("second", 1)]
    assert on_sqlite[4] == [] and on_sqlite[5] == ["i1"]
    assert on_sqlite[6] == [True, False]  # claimed once
    assert on_sqlite[13] == [True, False]  # moved on once
    assert on_sqlite[9] == [(1, "sleep_routine", "edited", "sent", "yes", "same"),
                            (2, "keep_going", "our words", "sent", None, None)]


async def test_plans_repo__same_on_postgres_and_sealed_sqlite(tmp_path: Path) -> None:
    from store.cipher import new_key
    from store.postgres import PostgresStore
    from tests.postgres import fresh_schema, postgres_url

    expected = await played(MemoryStore())
    assert await played(await Store.open(tmp_path / "sealed.db", data_key=new_key())) == expected
    with fresh_schema(postgres_url()) as url:
        assert await played(await PostgresStore.open(url, pool_size=2)) == expected


async def test_postgres__key_set_later__notes_and_plan_resealed__append_only_kept() -> None:
    from store.cipher import is_sealed

    def write(repo: UnitOfWork) -> None:
        repo.plans.add_note("i1", "a private note", author_id=1, now=NOW)
        repo.plans.add_item("i1", "sleep_routine", "our words", now=NOW)
        repo.plans.answer_item("i1", 1, tried="unknown", now=NOW)

    async with postgres_keyed_later(write) as keyed:
        raw = await keyed.read(lambda repo: [
            *repo.conn.execute("SELECT body FROM clinician_notes").fetchone(),  # type: ignore[attr-defined]
            *repo.conn.execute(  # type: ignore[attr-defined]
                "SELECT recommendation, wording, tried FROM plan_items").fetchone()])
        assert all(is_sealed(v) for v in raw)
        plan = await keyed.read(lambda repo: repo.plans.plan("i1"))
        assert plan is not None
        assert [(i.recommendation, i.wording, i.tried) for i in plan.items] == [
            ("sleep_routine", "our words", "unknown")]
        with pytest.raises(Exception, match="append-only"):
            await keyed.run(lambda repo: repo.conn.execute(  # type: ignore[attr-defined]
                "UPDATE clinician_notes SET body = ''"))
