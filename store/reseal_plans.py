"""Seal the notes, plans and check-in answers an unkeyed database holds (store/reseal.py).

The notes' append-only trigger is lifted for this pass alone, in the same transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from store.cipher import Cipher, is_sealed

Connection = Any  # sqlite3.Connection or store.pgconn.PgConnection (the same subset)


def reseal_plans(conn: Connection, cipher: Cipher, *, postgres: bool) -> int:
    """Seal every note and plan item value still in clear; how many rows changed."""
    changed = 0
    # Two append-only tables of clinical text: notes, and the reasons plan items were
    # removed (migration 0015).
    for table, column in (("clinician_notes", "body"), ("plan_item_changes", "reason")):
        rows = [(row_id, iid, text) for row_id, iid, text in conn.execute(
            f"SELECT id, interview_id, {column} FROM {table}").fetchall()
            if not is_sealed(text)]
        if rows:
            trigger = _lift(conn, table, postgres=postgres)
            for row_id, iid, text in rows:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?",
                             (cipher.seal(text, iid), row_id))
            _restore(conn, table, trigger, postgres=postgres)
            changed += len(rows)
    for iid, position, *values in conn.execute(
        "SELECT interview_id, position, recommendation, wording, tried, went FROM plan_items"
    ).fetchall():
        if all(v is None or is_sealed(v) for v in values):
            continue
        sealed = [v if v is None or is_sealed(v) else cipher.seal(v, iid) for v in values]
        conn.execute(
            "UPDATE plan_items SET recommendation = ?, wording = ?, tried = ?, went = ? "
            "WHERE interview_id = ? AND position = ?",
            (*sealed, iid, position),
        )
        changed += 1
    for iid, words in conn.execute(
        "SELECT interview_id, family_words FROM plans WHERE family_words IS NOT NULL"
    ).fetchall():
        if not is_sealed(words):
            conn.execute("UPDATE plans SET family_words = ? WHERE interview_id = ?",
                         (cipher.seal(words, iid), iid))
            changed += 1
    return changed


def _lift(conn: Connection, table: str, *, postgres: bool) -> str:
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


def _restore(conn: Connection, table: str, trigger: str, *, postgres: bool) -> None:
    if postgres:
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    else:
        conn.execute(trigger)
