"""Erasing a web family takes its inbox off the disk: right after the confirmed "erase
everything", with the store still running and no step of the test's own, the plan's words
it was sent are in none of the database file, its -wal or its -shm."""

from __future__ import annotations

from pathlib import Path

from bot.service import DialogueService
from tests.at_rest import database_bytes
from tests.conftest import Clock, Person
from tests.e2e.test_web_inbox import (  # noqa: F401  (pytest fixture)
    People,
    db_rows,
    family_interview,
    opened,
    people,
    plan_sent,
)


async def test_web_family_erased__its_inbox_gone_from_db_wal_shm_at_once(
    service: DialogueService, people: People, clock: Clock, db_path: Path  # noqa: F811
) -> None:
    family, user = await opened(people, db_path)
    interview = await family_interview(service, clock.now, web=user)
    await plan_sent(Person(service, "doc"), interview, "2026-12-01")
    clock.advance(days=7)
    await service.plan_sends("console")  # nothing for the chat's families
    from bot.web.inbox_jobs import deliver_due

    assert await deliver_due(service) == 1  # the check-in, kept in the inbox too
    await family.open()
    # Item 1 in the report's own words: the family's inbox is the only place on disk that
    # holds them (the plan keeps the recommendation's id, and edited words only).
    kept = await service.store.read(lambda uow: uow.inbox.of_person(
        uow.people.find("web", user).id))  # type: ignore[union-attr]
    words = str(kept[-1].body["items"][0]["words"])
    assert len(words) > 20 and words.encode() in database_bytes(db_path)

    await family.command("forget")
    page = await family.press("button_erase")
    assert "clinician.erased" in page.keys

    on_disk = database_bytes(db_path)  # the running store's files: what production leaves
    assert words.encode() not in on_disk
    assert db_rows(db_path, "SELECT count(*) FROM web_inbox") == [(0,)]
