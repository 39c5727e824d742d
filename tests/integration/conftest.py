"""Fixtures for the integration tests: every back end, and the service as an operator runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.backend import Backend
from store.cipher import new_key
from store.memory import MemoryStore
from store.sqlite import Store
from tests.conftest import Clock
from tests.integration.clinic import clinic_service


@pytest.fixture(params=["memory", "sqlite", "sealed", "postgres"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each back end a repository must behave the same on: the in-memory fake, a SQLite
    file, one with a data key (sealed columns read as ciphertext), and PostgreSQL (CI
    starts one; tests/postgres.py)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "postgres":
        from store.postgres import PostgresStore
        from tests.postgres import fresh_schema, postgres_url

        with fresh_schema(postgres_url()) as url:
            pg = await PostgresStore.open(url, pool_size=2)
            try:
                yield pg
            finally:
                await pg.close()
        return
    key = new_key() if request.param == "sealed" else None
    store = await Store.open(tmp_path / "hearth.db", data_key=key)
    yield store
    await store.close()


@pytest.fixture
def clinic(store: Store, catalog: FlowCatalog, clock: Clock) -> DialogueService:
    """The service with an operator (console:op) and a bot username (`clinic_service`)."""
    return clinic_service(store, catalog, clock)
