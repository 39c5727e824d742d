"""PostgreSQL for tests: the server named by HEARTH_TEST_POSTGRES_URL, a fresh schema per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from store.contract import UnitOfWork
    from store.postgres import PostgresStore

ENV = "HEARTH_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """The test server's URL; outside CI a missing one skips, inside CI it fails."""
    url = os.environ.get(ENV, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        # CI starts a server (.ci/run): a missing one is a broken pipeline, not a skip.
        pytest.fail(f"{ENV} is not set in CI: .ci/run should have started PostgreSQL")
    pytest.skip(f"PostgreSQL back end: set {ENV}=postgresql://... (bash .ci/run starts one)")


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A connection string whose tables live in a new, empty schema, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"{ENV} names a server that does not answer: {exc}")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield make_conninfo(url, options=f"-csearch_path={schema}")
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@asynccontextmanager
async def postgres_keyed_later(write: Callable[[UnitOfWork], Any]) -> AsyncIterator[PostgresStore]:
    """A fresh schema `write` filled without a key, opened again with a data key (the reseal
    pass at open); closed, and the schema dropped, on leaving."""
    from store.cipher import new_key
    from store.postgres import PostgresStore

    with fresh_schema(postgres_url()) as url:
        plain = await PostgresStore.open(url, pool_size=2)
        await plain.run(write)
        await plain.close()
        keyed = await PostgresStore.open(url, pool_size=2, data_key=new_key())
        try:
            yield keyed
        finally:
            await keyed.close()
