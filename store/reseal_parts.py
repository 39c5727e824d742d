"""What every reseal pass shares (store/reseal.py, reseal_plans.py): sealing a value still in
clear, and lifting an append-only table's trigger for the pass, in its transaction."""

from __future__ import annotations

import sqlite3
from typing import Any

from store.cipher import Cipher, is_sealed

Connection = Any  # sqlite3.Connection or store.pgconn.PgConnection (the same subset)


def sealed(cipher: Cipher, value: str | None, context: str) -> str | None:
    """The value sealed for `context`; None and already sealed values as they are."""
    return value if value is None or is_sealed(value) else cipher.seal(value, context)


def lift_append_only(conn: Connection, table: str, *, postgres: bool) -> str:
    """Turn off `table`'s append-only trigger; what `restore_append_only` needs back."""
    if postgres:
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        return ""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        (f"{table}_append_only",),
    ).fetchone()
    if row is None:
        raise sqlite3.IntegrityError(f"the append-only trigger of {table} is missing")
    conn.execute(f"DROP TRIGGER {table}_append_only")
    return str(row[0])


def restore_append_only(conn: Connection, table: str, trigger: str, *, postgres: bool) -> None:
    """Put back the trigger `lift_append_only` took off."""
    if postgres:
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    else:
        conn.execute(trigger)
