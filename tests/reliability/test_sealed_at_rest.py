"""With HEARTH_DATA_KEY, nothing a family's answers give away is in any file on disk.

A whole developmental-history interview, every adverse experience ticked with every age,
severity and frequency, is played through the real service on a keyed SQLite file; the
raw bytes of the database, its -wal and -shm are then scanned, in the state production
leaves them (no checkpoint of ours) and again after the store closes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.model import Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.schema import Flow, Item
from store.cipher import new_key
from store.sqlite import Store
from tests.at_rest import database_bytes, keyed_later
from tests.conftest import Clock, Person
from tests.integration.clinic import clinic_service, invited_family, register

FLOW = "developmental_history"
SENSITIVE_ITEMS = ("adv_types", "adv_periods", "adv_severity", "adv_pattern")
#: Buttons that pick no option.
NAVIGATION = {"back", "skip", "done"}
NICKNAME = "Wombat-Juniper"
CHILD_NAME = "Quokka-Marigold"
FREE_TEXT = "Platypus-Cinnamon"


def wal_size(db: Path) -> int:
    return Path(f"{db}-wal").stat().st_size


def items(flow: Flow) -> dict[str, Item]:
    return {item.id: item for section in flow.sections for item in section.items}


def sensitive_needles(flow: Flow) -> set[str]:
    """Every option id and label (en, es) of the sensitive items, as they could be stored.

    An id is looked for quoted and bracketed (JSON values, drafts, item keys); an id of 8
    characters or more also bare. A sealed value is URL-safe base64, which has no quote,
    bracket or space, so no needle can turn up in one by chance.
    """
    found = items(flow)
    needles: set[str] = set()
    for item_id in SENSITIVE_ITEMS:
        for option in found[item_id].options:
            needles |= {f'"{option.value}"', f"[{option.value}]"}
            if len(option.value) >= 8:
                needles.add(option.value)
            for label in option.label.values():
                needles |= {label, json.dumps(label)[1:-1]}
    return needles


def ask_of(person: Person) -> Outbound | None:
    return next((m for m in reversed(person.last) if m.key == "replies.ask"), None)


def buttons(message: Outbound) -> dict[str, str]:
    return {c.key: c.payload for row in message.choices for c in row}


async def tick_all(person: Person, flow: Flow, item: Item) -> None:
    """Tick every option that is not exclusive, one toggle at a time, then Done."""
    exclusive = {o.value for o in item.options if o.exclusive}
    ask = ask_of(person)
    assert ask is not None
    for value in [k for k in buttons(ask) if k not in NAVIGATION | exclusive]:
        current = ask_of(person)
        assert current is not None, person.text
        await person.send(Kind.CHOICE, buttons(current)[value])
    current = ask_of(person)
    assert current is not None
    await person.send(Kind.CHOICE, buttons(current)["done"])


async def full_interview(person: Person, flow: Flow) -> int:
    """Answer every question; the sensitive ones with everything; return how many asked."""
    by_id = items(flow)
    asked = 0
    cycle = 0
    while (ask := ask_of(person)) is not None:
        asked += 1
        assert asked < 400, "the interview does not end"
        key = ask.question or ""
        item = by_id[key.partition("[")[0]]
        options = [k for k in buttons(ask) if k not in NAVIGATION]
        if "done" in buttons(ask):
            await tick_all(person, flow, item)
        elif options:
            # Severities and frequencies in turn, so each of them is stored somewhere.
            cycle += 1
            await person.send(Kind.CHOICE, buttons(ask)[options[cycle % len(options)]])
        elif item.id == "child_name":
            await person.type(CHILD_NAME)
        elif item.id == "child_age":
            await person.type("15 years")
        elif item.type.value == "number":
            await person.type("2")
        else:
            await person.type(FREE_TEXT)
    return asked


@pytest.fixture
def flows() -> FlowCatalog:
    return FlowCatalog.bundled(FLOW)


async def test_keyed_database__every_sensitive_option_ticked__none_in_any_file(
    tmp_path: Path, flows: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "hearth.db"
    store = await Store.open(db, data_key=new_key())
    try:
        service = clinic_service(store, flows, clock)
        family, _ = await play_invited_interview(service, flows)
        assert family.last[-1].key.startswith("replies.review")
        await family.tap_key("submit")
        await family.tap_key("send_now")  # submitted: the state a finished family leaves
        flow = flows.latest(FLOW)
        needles = sensitive_needles(flow) | {NICKNAME, CHILD_NAME, FREE_TEXT}
        assert wal_size(db) > 0  # the WAL is live: nothing folded it
        on_disk = database_bytes(db)
        assert sorted(n for n in needles if n.encode() in on_disk) == []
    finally:
        await store.close()
    assert sorted(n for n in needles if n.encode() in database_bytes(db)) == []


async def play_invited_interview(
    service: DialogueService, flows: FlowCatalog
) -> tuple[Person, str]:
    """Dr Lee invites; the family agrees and answers the whole interview: (family, its id)."""
    clinician = await register(service, "dr_lee")
    family, interview, _ = await invited_family(clinician, NICKNAME)
    asked = await full_interview(family, flows.latest(FLOW))
    assert asked > 60
    return family, interview


async def test_control__no_key__the_same_interview_is_in_the_file(
    tmp_path: Path, flows: FlowCatalog, clock: Clock
) -> None:
    """The scan finds what it looks for when nothing is sealed (so it can fail)."""
    db = tmp_path / "hearth.db"
    store = await Store.open(db)
    try:
        await play_invited_interview(clinic_service(store, flows, clock), flows)
        on_disk = database_bytes(db)
        needles = sensitive_needles(flows.latest(FLOW))
        assert b"[sexual_harm]" in on_disk and b'"sexual_harm"' in on_disk
        assert NICKNAME.encode() in on_disk and FREE_TEXT.encode() in on_disk
        assert sum(n.encode() in on_disk for n in needles) > 30
    finally:
        await store.close()


async def current_of(store: Store, interview_id: str) -> dict[str, object]:
    return await store.read(
        lambda uow: {k: v for k, (v, _) in uow.answers.current(interview_id).items()}
    )


async def test_key_set_later__clear_rows_resealed_at_open__read_back_the_same(
    tmp_path: Path, flows: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "hearth.db"
    store = await Store.open(db)
    try:
        _, interview = await play_invited_interview(clinic_service(store, flows, clock), flows)
        before = await current_of(store, interview)
        trail = await store.read(lambda uow: uow.audit.of_interview(interview))
    finally:
        await store.close()

    key = new_key()
    async with keyed_later(db, b"[sexual_harm]", key=key) as keyed:
        on_disk = database_bytes(db)
        needles = sensitive_needles(flows.latest(FLOW)) | {NICKNAME, CHILD_NAME, FREE_TEXT}
        assert sorted(n for n in needles if n.encode() in on_disk) == []
        assert await current_of(keyed, interview) == before
        assert await keyed.read(lambda uow: uow.audit.of_interview(interview)) == trail
        record = await keyed.read(lambda uow: uow.interviews.get(interview))
        assert record is not None and record.subject_nickname == NICKNAME
        # The pass lifted the append-only rule for itself alone.
        with pytest.raises(Exception, match="append-only"):
            await keyed.run(lambda uow: uow.conn.execute("UPDATE answers SET revision = 0"))
    again = await Store.open(db, data_key=key)  # a second start has nothing left to do
    try:
        assert await current_of(again, interview) == before
    finally:
        await again.close()


async def test_postgres__key_set_later__every_column_resealed__append_only_kept(
    flows: FlowCatalog, clock: Clock
) -> None:
    from store.postgres import PostgresStore
    from tests.postgres import fresh_schema, postgres_url

    with fresh_schema(postgres_url()) as url:
        store = await PostgresStore.open(url, pool_size=2)
        try:
            service = clinic_service(store, flows, clock)  # type: ignore[arg-type]
            await play_invited_interview(service, flows)
            [(interview,)] = await store.read(
                lambda uow: uow.conn.execute("SELECT id FROM interviews").fetchall()
            )
            before = await store.read(lambda uow: uow.answers.current(interview))
        finally:
            await store.close()
        keyed = await PostgresStore.open(url, data_key=new_key(), pool_size=2)
        try:
            text = await keyed.read(lambda uow: "\n".join(
                str(value)
                for sql in (
                    "SELECT item_key, value FROM answers",
                    "SELECT item_key FROM current_answers",
                    "SELECT cursor, draft, subject_nickname FROM interviews",
                    "SELECT kind, detail FROM events",
                    "SELECT outcome FROM deliveries",
                )
                for row in uow.conn.execute(sql).fetchall()
                for value in row
            ))
            needles = sensitive_needles(flows.latest(FLOW)) | {NICKNAME, CHILD_NAME, FREE_TEXT}
            assert sorted(n for n in needles if n in text) == []
            assert await keyed.read(lambda uow: uow.answers.current(interview)) == before
            with pytest.raises(Exception, match="append-only"):
                await keyed.run(lambda uow: uow.conn.execute("UPDATE answers SET revision = 0"))
        finally:
            await keyed.close()
