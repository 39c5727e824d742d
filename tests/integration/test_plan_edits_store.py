"""Removed plan items, the family's own words and a restored plan: the same on the fake,
SQLite (plain and sealed) and PostgreSQL (withdrawn ratings: test_rating_withdrawal.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from store.backend import Backend
from store.contract import UnitOfWork
from store.memory import MemoryStore
from store.plan_records import Note, Schedule
from tests.postgres import postgres_keyed_later

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def script(repo: UnitOfWork) -> list[Any]:
    plans, seen = repo.plans, []
    plans.add_item("i1", "sleep_routine", None, now=NOW)
    plans.add_item("i1", "keep_going", "our words", now=NOW)
    plans.mark_sent("i1", now=NOW)
    plans.answer_item("i1", 1, tried="partly", now=NOW)
    seen.append(plans.remove_item("i1", 1, "found their own way", by=7, now=LATER))
    plan = plans.plan("i1")
    assert plan is not None
    seen.append([(i.position, i.status, i.was_sent, i.tried, i.removed) for i in plan.items])
    seen.append([i.position for i in plan.active])
    seen.append(plans.changes("i1"))
    plans.await_words("i1", 5, LATER)
    seen.append([plans.awaiting_words(5, NOW), plans.awaiting_words(5, LATER),
                 plans.awaiting_words(6, NOW)])
    plans.keep_words("i1", "calmer evenings", now=NOW)
    plan = plans.plan("i1")
    assert plan is not None
    seen.append((plan.family_words, plan.words_at, plans.awaiting_words(5, NOW)))
    # Written back whole, as `hearth import` does, under another id.
    plans.restore("i9", plan, [Note(0, "", 0, "a note", NOW)], Schedule("", 3, date(2027, 2, 1)),
                  by=3, now=LATER)
    copy = plans.plan("i9")
    assert copy is not None
    seen.append([(i.position, i.status, i.was_sent, i.tried, i.wording,
                  None if i.removed is None else (i.removed.reason, i.removed.author_id))
                 for i in copy.items])
    seen.append((copy.sent_at, copy.family_words, [(n.body, n.author_id)
                                                   for n in plans.notes("i9")]))
    seen.append(plans.schedule("i9"))
    plans.erase_family("i1")
    plan = plans.plan("i1")
    assert plan is not None
    seen.append((plan.family_words, plan.items[0].status, len(plans.changes("i1"))))
    plans.erase_interview("i9")
    seen.append((plans.plan("i9"), plans.changes("i9")))
    return seen


async def played(store: Backend) -> list[Any]:
    return await store.run(script)


async def test_plan_edits__same_on_every_back_end(any_store: Backend) -> None:
    expected = await MemoryStore().run(script)
    seen = await played(any_store)
    assert seen == expected
    assert seen[1][0][:4] == (1, "removed", True, "partly")  # removed, its answer kept
    assert seen[2] == [2]
    assert seen[4] == ["i1", None, None]
    assert seen[9] == (None, "removed", 1)  # the family's words go; the removal stays


async def test_postgres__key_set_later__removal_and_words_resealed__append_only_kept() -> None:
    from store.cipher import is_sealed

    def write(repo: UnitOfWork) -> None:
        repo.plans.add_item("i1", "sleep_routine", None, now=NOW)
        repo.plans.remove_item("i1", 1, "a private reason", by=1, now=NOW)
        repo.plans.keep_words("i1", "private words", now=NOW)

    async with postgres_keyed_later(write) as keyed:
        raw = await keyed.read(lambda repo: [
            *repo.conn.execute("SELECT reason FROM plan_item_changes").fetchone(),  # type: ignore[attr-defined]
            *repo.conn.execute("SELECT family_words FROM plans").fetchone()])  # type: ignore[attr-defined]
        assert all(is_sealed(v) for v in raw)
        plan = await keyed.read(lambda repo: repo.plans.plan("i1"))
        assert plan is not None and plan.family_words == "private words"
        assert plan.items[0].removed is not None
        assert plan.items[0].removed.reason == "a private reason"
        with pytest.raises(Exception, match="append-only"):
            await keyed.run(lambda repo: repo.conn.execute(  # type: ignore[attr-defined]
                "UPDATE plan_item_changes SET reason = ''"))
