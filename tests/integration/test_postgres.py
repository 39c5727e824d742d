"""PostgreSQL beside SQLite: one schema in two dialects, several workers on one database."""

from __future__ import annotations

import ast
import asyncio
import inspect
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.model import Kind
from bot.service import DialogueService
from bot.settings import SettingsError, load_settings
from flows.catalog import FlowCatalog
from store import bookclub as bookclub_repo
from store import unit_of_work
from store.contract import UnitOfWork
from store.errors import StoreError
from store.pgconn import translate
from store.repos import access, answers, audit, deliveries, interviews, people
from store.sqlite import migrate, migrations
from tests.conftest import Clock, Person, ids, inbound
from tests.postgres import ENV, fresh_schema, postgres_url

NOW = datetime(2026, 11, 25, tzinfo=UTC)


# -- no server needed ------------------------------------------------------------------------


def test_translate__placeholders_and_sqlite_spellings__literals_untouched() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c = '?'") == (
        "SELECT a FROM t WHERE b = %s AND c = '?'"
    )
    assert translate("UPDATE p SET c = ? WHERE id = ? AND c IS NOT ?") == (
        "UPDATE p SET c = %s WHERE id = %s AND c IS DISTINCT FROM %s"
    )
    assert translate("SELECT 1 WHERE a IS ?") == "SELECT 1 WHERE a IS NOT DISTINCT FROM %s"
    assert translate("UPDATE d SET o = ? WHERE instr(o, ?) > 0") == (
        "UPDATE d SET o = %s WHERE strpos(o, %s) > 0"
    )
    assert translate("SELECT '50%' || ?, x % 2") == "SELECT '50%%' || %s, x %% 2"
    assert translate("SELECT 'it''s ?' WHERE a IS NOT NULL", False) == (
        "SELECT 'it''s ?' WHERE a IS NOT NULL"
    )


def test_repository__uses_only_what_the_postgres_adapter_offers() -> None:
    """Every `<x>.conn.<y>` in the SQL repositories must exist on PgConnection as well."""
    from store.pgconn import PgConnection

    modules = (
        people, interviews, answers, audit, access, deliveries, bookclub_repo, unit_of_work
    )
    used = {
        node.attr
        for module in modules
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.Attribute)
        and (
            (isinstance(node.value, ast.Attribute) and node.value.attr == "conn")
            or (isinstance(node.value, ast.Name) and node.value.id == "conn")
        )
    }
    assert {"execute", "executemany"} <= used  # the scan sees the repositories' calls
    missing = {name for name in used if not hasattr(PgConnection, name)}
    assert not missing, f"store/pgconn.py PgConnection lacks {missing}: add it there"


def test_migrations__postgres_twin_for_every_number() -> None:
    folder = Path(unit_of_work.__file__).parent / "migrations"
    sqlite_names = sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    pg_names = sorted(p.name for p in (folder / "postgres").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert pg_names == sqlite_names, "each store/migrations/NNNN_x.sql needs postgres/NNNN_x.sql"


def test_settings__database_url__checked_and_never_echoed() -> None:
    settings = load_settings(database_url="postgresql://hearth:pw@db.internal/hearth")
    assert settings.database_url is not None
    assert load_settings(database_url="  ").database_url is None
    with pytest.raises(SettingsError, match="HEARTH_DATABASE_URL") as caught:
        load_settings(database_url="mysql://hearth:pw@db/hearth")
    assert "pw" not in str(caught.value) and "hidden" in str(caught.value)


def test_postgres_url__missing__skips_outside_ci_fails_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI"):
        postgres_url()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=ENV):
        postgres_url()


# -- against the server ----------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema(postgres_url()) as url:
        yield url


def _sqlite_schema() -> dict[str, dict[str, tuple[str, bool]]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        tables[name] = {
            col: ("integer" if kind.upper() == "INTEGER" else kind.lower(), bool(notnull or pk))
            for _, col, kind, notnull, _default, pk in conn.execute(f"PRAGMA table_info({name})")
        }
    return tables


def test_schema__same_tables_columns_types_and_nullability(pg_url: str) -> None:
    import psycopg

    from store.postgres import migrate_postgres

    with psycopg.connect(pg_url) as conn:
        assert migrate_postgres(conn) == len(migrations())
        pg: dict[str, dict[str, tuple[str, bool]]] = {}
        for table, column, kind, nullable in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name <> 'hearth_schema'"
        ):
            # 32- and 64-bit integers are both SQLite's INTEGER (itself 64-bit).
            simple = "integer" if kind in ("integer", "bigint") else kind
            pg.setdefault(table, {})[column] = (simple, nullable == "NO")
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'"
            )
        }
        triggers = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = current_schema()"
            )
        }
    assert pg == _sqlite_schema()
    lite = sqlite3.connect(":memory:", isolation_level=None)
    migrate(lite)
    assert indexes == {
        r[0]
        for r in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    assert triggers == {
        r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }


async def test_open__newer_schema__refused_clearly(pg_url: str) -> None:
    import psycopg

    from store.postgres import PostgresStore

    store = await PostgresStore.open(pg_url)
    await store.close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO hearth_schema (number, name) VALUES (999, 'future')")
    with pytest.raises(StoreError, match="newer than this Hearth knows"):
        await PostgresStore.open(pg_url)


async def test_open__data_key__remembered_then_required(pg_url: str) -> None:
    from store.cipher import new_key
    from store.postgres import PostgresStore

    key = new_key()
    store = await PostgresStore.open(pg_url, data_key=key)
    await store.close()
    with pytest.raises(StoreError, match="encrypted: set HEARTH_DATA_KEY"):
        await PostgresStore.open(pg_url)
    with pytest.raises(StoreError, match="not the key"):
        await PostgresStore.open(pg_url, data_key=new_key())
    store = await PostgresStore.open(pg_url, data_key=key)
    await store.close()


async def test_open__several_workers_at_once__migrate_once(pg_url: str) -> None:
    from store.postgres import PostgresStore

    stores = await asyncio.gather(*(PostgresStore.open(pg_url) for _ in range(4)))
    for store in stores:
        await store.close()


def _new_interview(repo: UnitOfWork) -> str:
    person = repo.people.get_or_create("console", "ana", now=NOW)
    return repo.interviews.create(
        flow_id="sample", flow_version=1, owner_id=person.id, respondent_id=person.id,
        nickname=None, state="answering", now=NOW,
    ).id


async def test_two_workers__steps_on_one_interview__never_interleave(pg_url: str) -> None:
    """Read-modify-write from two stores (two processes' worth) loses no update."""
    from store.postgres import PostgresStore

    first, second = [await PostgresStore.open(pg_url, pool_size=4) for _ in range(2)]
    try:
        iid = await first.run(_new_interview)

        def bump(repo: UnitOfWork) -> None:
            record = repo.interviews.get(iid)  # FOR UPDATE: the other worker waits here
            assert record is not None
            record.revision += 1
            repo.interviews.save(record)

        await asyncio.gather(*(s.run(bump) for _ in range(60) for s in (first, second)))
        record = await second.read(lambda repo: repo.interviews.get(iid))
        assert record is not None and record.revision == 120
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def workers(
    pg_url: str, catalog: FlowCatalog, clock: Clock
) -> AsyncIterator[tuple[DialogueService, DialogueService]]:
    from store.postgres import PostgresStore

    stores = [await PostgresStore.open(pg_url, pool_size=4) for _ in range(2)]
    yield DialogueService(stores[0], catalog, clock=clock), DialogueService(
        stores[1], catalog, clock=clock
    )
    for store in stores:
        await store.close()


async def test_two_workers__same_update__applied_once_same_reply(
    workers: tuple[DialogueService, DialogueService],
) -> None:
    """A redelivered update reaching two workers at once: one answer, one reply, twice."""
    one, two = workers
    ana = Person(one, "ana")
    await ana.command("start")
    await ana.tap_key("agree")
    before = await one.store.read(lambda r: r.answers.count(_active(r)))
    event = inbound(Kind.TEXT, "Sam", delivery="same-update-1")
    replies = await asyncio.gather(*(w.handle(event) for w in (one, two, one, two)))
    assert all(r == replies[0] for r in replies)
    assert await two.store.read(lambda r: r.answers.count(_active(r))) == before + 1
    deliveries = await two.store.read(
        lambda r: r.conn.execute(
            "SELECT count(*) FROM deliveries WHERE delivery_id = ?", ("same-update-1",)
        ).fetchone()
    )
    assert deliveries == (1,)


async def test_two_workers__one_person_new_at_both__one_row(
    workers: tuple[DialogueService, DialogueService],
) -> None:
    """First contact reaching two workers at once creates the person once (the rerun finds it)."""
    one, two = workers
    replies = await asyncio.gather(
        one.handle(inbound(Kind.COMMAND, "start", user="ben")),
        two.handle(inbound(Kind.COMMAND, "language", user="ben")),
    )
    assert not any("safety.store_failed" in ids(m) for r in replies for m in r)
    rows = await one.store.read(
        lambda r: r.conn.execute(
            "SELECT count(*) FROM people WHERE external_id = ?", ("ben",)
        ).fetchone()
    )
    assert rows == (1,)


def _active(repo: UnitOfWork) -> str:
    person = repo.people.find("console", "ana")
    assert person is not None and person.active_interview is not None
    return person.active_interview


async def test_connections_dropped_by_the_server__steps_and_reads_reconnect(pg_url: str) -> None:
    """A server restart (or a proxy's idle timeout) costs no step: idle ones reconnect."""
    import psycopg

    from store.postgres import PostgresStore

    store = await PostgresStore.open(pg_url, pool_size=2)
    try:
        iid = await store.run(_new_interview)
        await asyncio.gather(*(store.run(lambda repo: repo.interviews.get(iid)) for _ in range(4)))
        pids = [c.raw.info.backend_pid for c in store._opened if not c.raw.closed]
        assert pids
        with psycopg.connect(pg_url, autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.1)
        found = await asyncio.gather(
            *(store.run(lambda repo: repo.interviews.get(iid)) for _ in range(4))
        )
        assert all(record is not None for record in found)
        assert await store.read(lambda repo: repo.interviews.get(iid)) is not None
    finally:
        await store.close()
