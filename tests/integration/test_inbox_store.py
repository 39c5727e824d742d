"""The web inbox's repository (store/repos/inbox.py): the same behaviour on the fake, SQLite
(plain and sealed) and PostgreSQL; sealed on disk; erased with the person and the interview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.backend import Backend
from store.cipher import is_sealed, new_key
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.at_rest import database_bytes

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
WORDS = "Ten quiet minutes, Quokka-Marigold"


async def test_inbox__kept__newest_first__read_only_by_its_person(any_store: Backend) -> None:
    def script(uow: UnitOfWork) -> list[object]:
        box = uow.inbox
        first = box.add(1, "i1", "plan", {"items": [{"n": 1, "words": WORDS}]}, now=NOW)
        second = box.add(1, "i1", "checkin", {"count": 1}, now=NOW + timedelta(days=1))
        box.add(2, "i2", "reassess", {"months": 3}, now=NOW)
        mine = box.of_person(1)
        return [
            [(e.id, e.kind, e.interview_id, e.body, e.read_at) for e in mine] == [
                (second, "checkin", "i1", {"count": 1}, None),
                (first, "plan", "i1", {"items": [{"n": 1, "words": WORDS}]}, None)],
            [box.has(1, "i1", "checkin"), box.has(2, "i1", "checkin"), box.has(1, "i2", "plan")],
            box.mark_read(2, first, now=NOW),  # someone else's: not theirs
            box.mark_read(1, first, now=NOW),
            box.mark_read(1, first, now=NOW + timedelta(days=9)),  # read once: the time kept
            [e.read_at for e in box.of_person(1)],
            box.mark_read(1, 999, now=NOW),
        ]

    assert await any_store.run(script) == [
        True, [True, False, False], None, "i1", "i1", [None, NOW], None]
    with pytest.raises(ValueError, match="inbox kind"):
        await any_store.run(lambda uow: uow.inbox.add(1, "i1", "spam", {}, now=NOW))


async def test_inbox__erased_with_the_person_and_with_an_interview_erased_whole(
    any_store: Backend,
) -> None:
    def setup(uow: UnitOfWork) -> tuple[int, int, str, str]:
        doc = uow.people.get_or_create("console", "doc", now=NOW)
        uow.people.set_role(doc.id, "clinician")
        family = uow.people.get_or_create("web", "w-family", now=NOW)
        other = uow.people.get_or_create("web", "w-other", now=NOW)
        theirs = uow.interviews.create(flow_id="f", flow_version=1, owner_id=doc.id,
                                       respondent_id=family.id, nickname="Mia",
                                       state="submitted", now=NOW)
        own = uow.interviews.create(flow_id="f", flow_version=1, owner_id=other.id,
                                    respondent_id=other.id, nickname="Leo",
                                    state="submitted", now=NOW)
        uow.inbox.add(family.id, theirs.id, "plan", {"words": WORDS}, now=NOW)
        uow.inbox.add(other.id, own.id, "plan", {"words": WORDS}, now=NOW)
        uow.inbox.add(other.id, theirs.id, "checkin", {}, now=NOW)
        return family.id, other.id, theirs.id, own.id

    family, other, theirs, own = await any_store.run(setup)
    await any_store.run(lambda uow: uow.erase_person(family, now=NOW))
    left = await any_store.read(lambda uow: [
        (e.person_id, e.interview_id) for p in (family, other) for e in uow.inbox.of_person(p)])
    assert sorted(left) == sorted([(other, own), (other, theirs)])
    # Someone erased with the interviews they own: those interviews' messages go, anyone's.
    await any_store.run(lambda uow: uow.erase_person(other, now=NOW))
    assert await any_store.read(lambda uow: uow.inbox.of_person(other)) == []


async def test_inbox__sealed_on_disk_with_a_data_key(tmp_path: Path) -> None:
    db = tmp_path / "sealed.db"
    store = await Store.open(db, data_key=new_key())
    try:
        await store.run(lambda uow: uow.inbox.add(1, "i1", "plan", {"w": WORDS}, now=NOW))
        raw = await store.read(lambda uow: uow.conn.execute(  # type: ignore[attr-defined]
            "SELECT body FROM web_inbox").fetchone()[0])
        assert is_sealed(raw)
        assert [e.body for e in await store.read(lambda uow: uow.inbox.of_person(1))] == [
            {"w": WORDS}]
    finally:
        await store.close()
    assert WORDS.encode() not in database_bytes(db)


async def test_inbox__a_key_set_later__its_messages_resealed(tmp_path: Path) -> None:
    db = tmp_path / "later.db"
    plain = await Store.open(db)
    await plain.run(lambda uow: uow.inbox.add(1, "i1", "plan", {"w": WORDS}, now=NOW))
    await plain.close()
    assert WORDS.encode() in database_bytes(db)  # the scan can find it
    keyed = await Store.open(db, data_key=new_key())
    try:
        assert [e.body for e in await keyed.read(lambda uow: uow.inbox.of_person(1))] == [
            {"w": WORDS}]
        raw = await keyed.read(lambda uow: uow.conn.execute(  # type: ignore[attr-defined]
            "SELECT body FROM web_inbox").fetchone()[0])
        assert is_sealed(raw)
    finally:
        await keyed.close()


async def test_links_back__spent_once__not_after_expiry__erased_with_the_person(
    any_store: Backend,
) -> None:
    later = NOW + timedelta(days=30)

    def script(uow: UnitOfWork) -> list[object]:
        box = uow.inbox
        box.add_link("h1", 7, now=NOW, expires_at=later)
        box.add_link("h2", 7, now=NOW, expires_at=later)
        box.add_link("h3", 8, now=NOW, expires_at=later)
        seen: list[object] = [box.links_since(7, NOW), box.links_since(7, NOW + timedelta(1))]
        seen += [box.use_link("h1", now=NOW), box.use_link("h1", now=NOW),  # once
                 box.use_link("h2", now=later),  # expired
                 box.use_link("nope", now=NOW)]
        box.erase_person(8)
        seen.append(box.use_link("h3", now=NOW))
        return seen

    assert await any_store.run(script) == [2, 0, 7, None, None, None, None]
