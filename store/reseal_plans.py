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
    notes = [(row_id, iid, body) for row_id, iid, body in conn.execute(
        "SELECT id, interview_id, body FROM clinician_notes").fetchall() if not is_sealed(body)]
    if notes:
        trigger = _lift(conn, postgres=postgres)
        for row_id, iid, body in notes:
            conn.execute("UPDATE clinician_notes SET body = ? WHERE id = ?",
                         (cipher.seal(body, iid), row_id))
        _restore(conn, trigger, postgres=postgres)
        changed += len(notes)
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
    return changed


def _lift(conn: Connection, *, postgres: bool) -> str:
    if postgres:
        conn.execute("ALTER TABLE clinician_notes DISABLE TRIGGER clinician_notes_append_only")
        return ""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
        "AND name = 'clinician_notes_append_only'"
    ).fetchone()
    if row is None:
        raise sqlite3.IntegrityError("the append-only trigger of clinician_notes is missing")
    conn.execute("DROP TRIGGER clinician_notes_append_only")
    return str(row[0])


def _restore(conn: Connection, trigger: str, *, postgres: bool) -> None:
    if postgres:
        conn.execute("ALTER TABLE clinician_notes ENABLE TRIGGER clinician_notes_append_only")
    else:
        conn.execute(trigger)
