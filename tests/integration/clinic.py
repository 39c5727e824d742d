"""Helpers for the clinician and erasure tests: an operator-configured service and DB peeks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.access import AccessPolicy, code_hash
from bot.model import Outbound
from bot.service import DialogueService
from flows.answers import encode_value
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Clock, Person, ids
from tests.unit.families import family_mia

OPERATOR = "op"
BOT = "hearth_test_bot"


def clinic_service(store: Store, catalog: FlowCatalog, clock: Clock) -> DialogueService:
    """The service as an operator runs it: one admin (console:op) and a bot username."""
    access = AccessPolicy.build([f"console:{OPERATOR}"], bot_username=BOT)
    return DialogueService(store, catalog, clock=clock, access=access)


async def rows(service: DialogueService, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Query the committed database directly (the reader connection)."""
    return await service.store.read(lambda repo: repo.conn.execute(sql, params).fetchall())


async def person_row(service: DialogueService, user: str) -> tuple[Any, ...] | None:
    found = await rows(
        service,
        "SELECT id, role, active_interview FROM people WHERE channel = 'console' "
        "AND external_id = ?",
        user,
    )
    return found[0] if found else None


async def register(service: DialogueService, user: str) -> Person:
    """The operator makes `user` a clinician; returns the clinician's driver."""
    operator = Person(service, OPERATOR)
    await operator.command("clinician", f"add {user}")
    assert "clinician.clinician_added" in ids(operator)
    return Person(service, user)


async def new_interview(clinician: Person, nickname: str) -> tuple[str, str]:
    """`/new nickname`: returns (invitation code, interview id).

    The code is read from the link in the reply (data, not wording); the id from the store,
    as the interview that code invites to.
    """
    await clinician.command("new", nickname)
    assert clinician.keys == ["clinician.invite_created"], clinician.keys
    link = re.search(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)", clinician.text)
    assert link, clinician.text
    code = link.group(1)
    found = await rows(
        clinician.service, "SELECT interview_id FROM invites WHERE code_hash = ?", code_hash(code)
    )
    assert found, "no invitation stored for that code"
    return code, str(found[0][0])


async def invited_family(
    clinician: Person, nickname: str = "Sam", user: str = "fam"
) -> tuple[Person, str, str]:
    """`/new nickname`, then the family opens the link and agrees: (family, interview id, code)."""
    code, interview_id = await new_interview(clinician, nickname)
    family = Person(clinician.service, user)
    await family.command("start", code)
    await family.tap_key("agree")
    return family, interview_id, code


async def mia_written(
    service: DialogueService, owner: str, respondent: str, *, now: datetime, sent: bool
) -> str:
    """Family Mia's developmental history, written directly as submitted; `sent` also marks
    it consented and sent at `now` (revision 99), as a family's own send leaves it."""
    flow = service.catalog.latest("developmental_history")

    def write(repo: UnitOfWork) -> str:
        owner_id = repo.people.get_or_create("console", owner, now=now).id
        respondent_id = repo.people.get_or_create("console", respondent, now=now).id
        record = repo.interviews.create(
            flow_id=flow.id, flow_version=flow.version, owner_id=owner_id,
            respondent_id=respondent_id, nickname="Mia", state="submitted", now=now,
        )
        for revision, (key, answer) in enumerate(family_mia().items(), start=1):
            assert answer.value is not None
            repo.answers.append(record.id, key, encode_value(answer.value), revision=revision,
                               by=respondent_id, now=now)
        if sent:
            record.consented, record.submitted_at, record.revision = True, now, 99
            repo.interviews.save(record)
        return record.id

    return await service.store.run(write)


async def submitted_history(service: DialogueService, owner: str, respondent: str) -> str:
    """A submitted developmental-history interview (hand-scored family Mia), written directly."""
    return await mia_written(
        service, owner, respondent, now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), sent=False
    )


@asynccontextmanager
async def mia_on_file(
    db: Path, catalog: FlowCatalog, clock: Clock, key: str | None = None
) -> AsyncIterator[tuple[DialogueService, Person, str]]:
    """A SQLite file at `db` (keyed with `key`) where clinician "doc" has family Mia's
    submitted history: (service, clinician, interview id); the store closes on leaving."""
    store = await Store.open(db, data_key=key)
    try:
        clinic = clinic_service(store, catalog, clock)
        doc = await register(clinic, "doc")
        yield clinic, doc, await submitted_history(clinic, "doc", "fam")
    finally:
        await store.close()


async def answer_sample(person: Person, *, note: str = "Wakes at 3am most nights") -> None:
    """From the first question of the sample flow to its review list."""
    await person.type("Sam")
    await person.type("2 years 6 months")
    await person.choose("foster")
    await person.choose("3")
    await person.type("2")
    await person.choose("sleep")
    await person.tap_key("done")
    await person.type("1, 2")
    await person.type("3")
    await person.type(note)
    await person.choose("no")
    assert "replies.review" in ids(person)


def to_chat(messages: list[Outbound], chat_id: str) -> list[Outbound]:
    return [m for m in messages if m.chat_id == chat_id]


async def events(service: DialogueService, interview_id: str) -> list[tuple[Any, ...]]:
    """(kind, person id, detail) of an interview's audit trail, oldest first."""
    return await rows(
        service,
        "SELECT kind, person_id, detail FROM events WHERE interview_id = ? ORDER BY id",
        interview_id,
    )
