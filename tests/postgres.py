"""PostgreSQL for tests: the server named by HEARTH_TEST_POSTGRES_URL, a fresh schema per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

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
