"""The in-memory store keeps the SQL stores' promises: the same conversation, the same result."""

from __future__ import annotations

from pathlib import Path

from bot.data.load import current_answers
from bot.model import Kind
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.backend import Backend
from store.contract import UnitOfWork
from store.memory import MemoryStore
from store.sqlite import Store
from tests.unit.test_intake import START, Family

SCRIPT: list[tuple[str, str]] = [
    ("command", "start"), ("tap", "agree"), ("type", "Sam"), ("type", "banana"),
    ("type", "about 3"), ("command", "back"), ("type", "4"), ("tap", "foster"),
    ("command", "skip"), ("command", "pause"), ("type", "hi"), ("tap", "continue"),
    ("type", "2"), ("tap", "sleep"), ("tap", "moods"), ("tap", "sleep"), ("tap", "done"),
    ("command", "review"), ("command", "edit", ), ("type", "x"), ("command", "status"),
]


async def play(store: Backend, catalog: FlowCatalog) -> tuple[list[list[str]], dict[str, object]]:
    service = DialogueService(store, catalog, clock=lambda: START)
    ana = Family(service)
    seen: list[list[str]] = []
    for verb, word in SCRIPT:
        if verb == "command":
            await ana.command(word, "1" if word == "edit" else "")
        elif verb == "tap":
            await ana.tap_key(word)
        else:
            await ana.send(Kind.TEXT, word)
        seen.append(ana.keys)

    def read(uow: UnitOfWork) -> dict[str, object]:
        person = uow.people.find("console", "ana")
        assert person is not None and person.active_interview is not None
        return {k: a.value for k, a in current_answers(uow, person.active_interview).items()}

    return seen, await store.read(read)


async def test_same_script__same_replies_and_answers_on_memory_and_sqlite(tmp_path: Path) -> None:
    catalog = FlowCatalog.bundled("sample")
    sqlite = await Store.open(tmp_path / "hearth.db")
    try:
        on_sqlite = await play(sqlite, catalog)
    finally:
        await sqlite.close()
    on_memory = await play(MemoryStore(), catalog)
    assert on_memory == on_sqlite
    assert on_sqlite[1]["worries"] == ["moods"]  # the script got somewhere


async def hand_over(store: Backend) -> list[tuple[str, int, int, int | None]]:
    """Two interviews of a clinician handed to a colleague (end_role): owners, revisions."""
    from datetime import timedelta

    from bot.features.clinician import end_role, grant_role

    def step(uow: UnitOfWork) -> list[tuple[str, int, int, int | None]]:
        doc = grant_role(uow, "console", "doc", "clinician", by=None, now=START)
        colleague = grant_role(uow, "console", "doc2", "clinician", by=None, now=START)
        ids = []
        for nickname in ("Sam", "Ada"):
            record = uow.interviews.create(
                flow_id="sample", flow_version=1, owner_id=doc.id, respondent_id=doc.id,
                nickname=nickname, state="answering", now=START,
            )
            ids.append(record.id)
        handover = end_role(uow, "console", "doc", to=("console", "doc2"), by=None,
                            now=START + timedelta(minutes=1))
        assert handover is not None and sorted(handover.moved) == sorted(ids)
        rows = []
        for interview_id in sorted(ids):
            record = uow.interviews.get(interview_id)
            assert record is not None
            rows.append((record.subject_nickname or "", record.owner_id - colleague.id,
                         record.revision, record.respondent_id))
        return sorted(rows)

    return await store.run(step)


async def test_end_role__same_handover_on_memory_and_sqlite(tmp_path: Path) -> None:
    sqlite = await Store.open(tmp_path / "hearth.db")
    try:
        on_sqlite = await hand_over(sqlite)
    finally:
        await sqlite.close()
    assert await hand_over(MemoryStore()) == on_sqlite
    assert on_sqlite == [("Ada", 0, 1, None), ("Sam", 0, 1, None)]
