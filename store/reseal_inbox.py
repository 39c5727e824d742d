"""Seal the web inbox's messages an unkeyed database holds (store/reseal.py)."""

from __future__ import annotations

from store.cipher import Cipher, is_sealed
from store.reseal_parts import Connection


def reseal_inbox(conn: Connection, cipher: Cipher) -> int:
    """Seal every inbox message still in clear; how many rows changed."""
    changed = 0
    for row_id, iid, body in conn.execute(
        "SELECT id, interview_id, body FROM web_inbox"
    ).fetchall():
        if is_sealed(body):
            continue
        conn.execute("UPDATE web_inbox SET body = ? WHERE id = ?", (cipher.seal(body, iid), row_id))
        changed += 1
    return changed
