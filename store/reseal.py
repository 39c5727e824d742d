"""Seal what an older Hearth, or a database without a key, left in clear (once, at open).

A key can be set on a database that already holds answers, and databases keyed before
item keys, cursors, drafts, nicknames and audit details were sealed hold those in clear.
The first start with a key runs this pass inside the key check's transaction and records
`seal_level` in `store_meta`; later starts skip it. The append-only trigger of `answers`
is lifted for this pass alone, in the same transaction, so it is never off for a step.
"""

from __future__ import annotations

import json

from store.cipher import Cipher, is_sealed
from store.repos.audit import SEALED_KIND, SENSITIVE_KINDS
from store.reseal_inbox import reseal_inbox
from store.reseal_parts import Connection, lift_append_only, restore_append_only, sealed
from store.reseal_plans import reseal_plans

#: What this code seals. Raise it when something new is sealed, with its pass below.
SEAL_LEVEL = 6  # 3: clinicians' ratings (value and reason); 4: notes, plans, check-ins;
#                5: the web inbox's messages (store/reseal_inbox.py);
#                6: why plan items were removed, the family's own check-in words



def needs_reseal(conn: Connection) -> bool:
    row = conn.execute("SELECT value FROM store_meta WHERE name = 'seal_level'").fetchone()
    return row is None or int(row[0]) < SEAL_LEVEL


def reseal(conn: Connection, cipher: Cipher, *, postgres: bool) -> dict[str, int]:
    """Seal every value still in clear; return how many values per table. No commit."""
    counts = {"answers": 0, "current_answers": 0, "interviews": 0, "events": 0,
              "deliveries": 0, "bookclub_reflections": 0, "ratings": 0, "plans": 0}
    answers = [
        (row_id, iid, key, value)
        for row_id, iid, key, value in conn.execute(
            "SELECT id, interview_id, item_key, value FROM answers"
        ).fetchall()
        if cipher.seal_item(iid, key) != key or (value is not None and not is_sealed(value))
    ]
    if answers:
        trigger = lift_append_only(conn, "answers", postgres=postgres)
        for row_id, iid, key, value in answers:
            conn.execute(
                "UPDATE answers SET item_key = ?, value = ? WHERE id = ?",
                (
                    cipher.seal_item(iid, key),
                    sealed(cipher, value, iid),
                    row_id,
                ),
            )
        restore_append_only(conn, "answers", trigger, postgres=postgres)
        counts["answers"] = len(answers)
    for iid, key in conn.execute("SELECT interview_id, item_key FROM current_answers").fetchall():
        if cipher.seal_item(iid, key) != key:
            conn.execute(
                "UPDATE current_answers SET item_key = ? WHERE interview_id = ? AND item_key = ?",
                (cipher.seal_item(iid, key), iid, key),
            )
            counts["current_answers"] += 1
    for iid, cursor, draft, nickname in conn.execute(
        "SELECT id, cursor, draft, subject_nickname FROM interviews"
    ).fetchall():
        clear = [v for v in (cursor, draft, nickname) if v is not None and not is_sealed(v)]
        if clear:
            conn.execute(
                "UPDATE interviews SET cursor = ?, draft = ?, subject_nickname = ? WHERE id = ?",
                (*tuple(sealed(cipher, v, iid) for v in (cursor, draft, nickname)), iid),
            )
            counts["interviews"] += 1
    for row_id, iid, kind, detail in conn.execute(
        "SELECT id, interview_id, kind, detail FROM events"
    ).fetchall():
        if kind in SENSITIVE_KINDS:
            packed = cipher.seal(json.dumps([kind, detail]), iid or "")
            conn.execute(
                "UPDATE events SET kind = ?, detail = ? WHERE id = ?", (SEALED_KIND, packed, row_id)
            )
        elif detail is not None and not is_sealed(detail):
            conn.execute(
                "UPDATE events SET detail = ? WHERE id = ?",
                (cipher.seal(detail, iid or ""), row_id),
            )
        else:
            continue
        counts["events"] += 1
    for channel, delivery, outcome in conn.execute(
        "SELECT channel, delivery_id, outcome FROM deliveries"
    ).fetchall():
        if not is_sealed(outcome):
            conn.execute(
                "UPDATE deliveries SET outcome = ? WHERE channel = ? AND delivery_id = ?",
                (cipher.seal_outcome(outcome), channel, delivery),
            )
            counts["deliveries"] += 1
    for row_id, text in conn.execute("SELECT id, text FROM bookclub_reflections").fetchall():
        if not is_sealed(text):
            conn.execute(
                "UPDATE bookclub_reflections SET text = ? WHERE id = ?", (cipher.seal(text), row_id)
            )
            counts["bookclub_reflections"] += 1
    counts["ratings"] = _reseal_ratings(conn, cipher, postgres=postgres)
    counts["plans"] = reseal_plans(conn, cipher, postgres=postgres)
    counts["web_inbox"] = reseal_inbox(conn, cipher)
    conn.execute(
        "INSERT INTO store_meta (name, value) VALUES ('seal_level', ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (str(SEAL_LEVEL),),
    )
    return counts


def _reseal_ratings(conn: Connection, cipher: Cipher, *, postgres: bool) -> int:
    """Seal ratings' values and reasons written before a key was set (trigger lifted)."""
    clear = [
        (row_id, iid, value, reason)
        for row_id, iid, value, reason in conn.execute(
            "SELECT id, interview_id, value, reason FROM ratings"
        ).fetchall()
        if not (is_sealed(value) and is_sealed(reason))
    ]
    if not clear:
        return 0
    trigger = lift_append_only(conn, "ratings", postgres=postgres)
    for row_id, iid, value, reason in clear:
        conn.execute(
            "UPDATE ratings SET value = ?, reason = ? WHERE id = ?",
            (sealed(cipher, value, iid), sealed(cipher, reason, iid), row_id),
        )
    restore_append_only(conn, "ratings", trigger, postgres=postgres)
    return len(clear)
