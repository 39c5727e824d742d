"""Erasure erases on disk: right after a confirmed /forget, with no step of the test's own,
none of the erased text is in the database file, its -wal or its -shm."""

from __future__ import annotations

from pathlib import Path

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.at_rest import database_bytes
from tests.conftest import Clock, Person
from tests.integration.clinic import (
    answer_sample,
    clinic_service,
    invited_family,
    register,
)

NOTE = "Wakes at 3am most nights, Quokka-Marigold"
NAME = "Samuel-Wombat"


async def test_secure_delete__on_for_the_writer_and_the_reader(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "hearth.db")
    try:
        pragma = "PRAGMA secure_delete"
        assert await store.run(lambda uow: uow.conn.execute(pragma).fetchone()[0]) == 1
        assert await store.read(lambda uow: uow.conn.execute(pragma).fetchone()[0]) == 1
    finally:
        await store.close()


async def forget(person: Person) -> None:
    await person.command("forget")
    await person.tap_key("button_erase")
    assert any(m.key == "clinician.erased" for m in person.last), person.text


async def test_forget__own_interview__text_gone_from_db_wal_shm_at_once(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "hearth.db"
    store = await Store.open(db)
    erased: list[list[str]] = []

    async def delete_files(ids: list[str]) -> None:
        erased.append(ids)

    try:
        service = clinic_service(store, catalog, clock)
        service.after_erasure = delete_files
        ana = Person(service, "ana")
        await ana.command("start")
        await ana.tap_key("agree")
        await answer_sample(ana, note=NOTE)
        await ana.type("1")  # a second revision of the name
        await ana.type(NAME)
        interview = await store.read(lambda uow: uow.people.find("console", "ana"))
        assert interview is not None and interview.active_interview is not None
        before = database_bytes(db)
        assert NOTE.encode() in before and NAME.encode() in before  # the scan can find them

        await forget(ana)

        on_disk = database_bytes(db)  # the store is still running: the state it leaves
        assert NOTE.encode() not in on_disk and NAME.encode() not in on_disk
        assert store.folds == 1
        assert erased == [[interview.active_interview]]
        await ana.command("start")  # life goes on after the truncation
        assert ana.last
    finally:
        await store.close()
    assert NOTE.encode() not in database_bytes(db)


async def test_forget__invited_family__their_text_gone_the_clinicians_kept(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "hearth.db"
    store = await Store.open(db)
    try:
        service: DialogueService = clinic_service(store, catalog, clock)
        doc = await register(service, "doc")
        fam, _, _ = await invited_family(doc)
        await answer_sample(fam, note=NOTE)
        assert NOTE.encode() in database_bytes(db)

        await forget(fam)

        assert NOTE.encode() not in database_bytes(db)
    finally:
        await store.close()
