"""The web family's inbox: what the plan's sends would tell a family with no push (0014).

A message's body (the plan as it was sent, in the clinician's words) is sealed with the
interview id as context, like answers; the page reads it back when the family opens it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.repos.base import Repository, dt, ts

#: What an inbox message can be: the plan, its check-in, a scheduled re-assessment.
KINDS = ("plan", "checkin", "reassess")


@dataclass(frozen=True)
class InboxEntry:
    """One message kept for a web person: which interview, what kind, what it said."""

    id: int
    person_id: int
    interview_id: str
    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    read_at: datetime | None = None


class WebInbox(Repository):
    """The `web_inbox` table."""

    def add(self, person_id: int, interview_id: str, kind: str, body: dict[str, Any], *,
            now: datetime) -> int:
        """Keep one message for a person; its id."""
        if kind not in KINDS:
            raise ValueError(f"inbox kind {kind!r} is not one of {KINDS}")
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        cur = self.conn.execute(
            "INSERT INTO web_inbox (person_id, interview_id, kind, body, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (person_id, interview_id, kind, self.session.seal(text, interview_id), ts(now)),
        )
        return int(cur.lastrowid or 0)

    def of_person(self, person_id: int, *, limit: int = 50) -> list[InboxEntry]:
        """A person's messages, newest first."""
        rows = self.conn.execute(
            "SELECT id, interview_id, kind, body, created_at, read_at FROM web_inbox "
            "WHERE person_id = ? ORDER BY id DESC LIMIT ?",
            (person_id, limit),
        ).fetchall()
        return [
            InboxEntry(int(r[0]), person_id, str(r[1]), str(r[2]),
                       json.loads(self.session.open(str(r[3]), str(r[1]))), dt(r[4]),
                       None if r[5] is None else dt(r[5]))
            for r in rows
        ]

    def has(self, person_id: int, interview_id: str, kind: str) -> bool:
        """Whether this person was sent this kind of message about this interview."""
        row = self.conn.execute(
            "SELECT 1 FROM web_inbox WHERE person_id = ? AND interview_id = ? AND kind = ?",
            (person_id, interview_id, kind),
        ).fetchone()
        return row is not None

    def mark_read(self, person_id: int, entry_id: int, *, now: datetime) -> str | None:
        """Mark one of the person's messages read; its interview id, None if not theirs."""
        row = self.conn.execute(
            "SELECT interview_id FROM web_inbox WHERE id = ? AND person_id = ?",
            (entry_id, person_id),
        ).fetchone()
        if row is None:
            return None
        self.conn.execute(
            "UPDATE web_inbox SET read_at = COALESCE(read_at, ?) WHERE id = ?",
            (ts(now), entry_id),
        )
        return str(row[0])

    # -- the way back: one-time links to a family's inbox -----------------------------------

    def add_link(self, token_hash: str, person_id: int, *, now: datetime,
                 expires_at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO web_return_links (token_hash, person_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, person_id, ts(now), ts(expires_at)),
        )

    def use_link(self, token_hash: str, *, now: datetime) -> int | None:
        """Spend a live link (once): its person's id; None if unknown, used or expired."""
        cur = self.conn.execute(
            "UPDATE web_return_links SET used_at = ? "
            "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            (ts(now), token_hash, ts(now)),
        )
        if int(cur.rowcount) != 1:
            return None
        row = self.conn.execute(
            "SELECT person_id FROM web_return_links WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return int(row[0])

    def links_since(self, person_id: int, since: datetime) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM web_return_links WHERE person_id = ? AND created_at >= ?",
            (person_id, ts(since)),
        ).fetchone()
        return int(row[0])

    def erase_person(self, person_id: int) -> None:
        """Everything kept for an erased person, and their links back."""
        self.conn.execute("DELETE FROM web_inbox WHERE person_id = ?", (person_id,))
        self.conn.execute("DELETE FROM web_return_links WHERE person_id = ?", (person_id,))

    def erase_interview(self, interview_id: str) -> None:
        """Every message about an interview erased whole."""
        self.conn.execute("DELETE FROM web_inbox WHERE interview_id = ?", (interview_id,))
