"""Seal the notes, plans and check-in answers an unkeyed database holds (store/reseal.py).

The notes' append-only trigger is lifted for this pass alone, in the same transaction.
"""

from __future__ import annotations

from store.cipher import Cipher, is_sealed
from store.reseal_parts import Connection, lift_append_only, restore_append_only, sealed


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
            trigger = lift_append_only(conn, table, postgres=postgres)
            for row_id, iid, text in rows:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?",
                             (cipher.seal(text, iid), row_id))
            restore_append_only(conn, table, trigger, postgres=postgres)
            changed += len(rows)
    for iid, position, *values in conn.execute(
        "SELECT interview_id, position, recommendation, wording, tried, went FROM plan_items"
    ).fetchall():
        if all(v is None or is_sealed(v) for v in values):
            continue
        clear = [sealed(cipher, v, iid) for v in values]
        conn.execute(
            "UPDATE plan_items SET recommendation = ?, wording = ?, tried = ?, went = ? "
            "WHERE interview_id = ? AND position = ?",
            (*clear, iid, position),
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
