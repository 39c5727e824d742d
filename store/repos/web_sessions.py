"""Web sessions: which browser is which web person, found by the hash of its cookie."""

from __future__ import annotations

from datetime import datetime

from store.records import WebSession
from store.repos.base import Repository, dt, ts


class WebSessions(Repository):
    """The `web_sessions` table (migration 0009)."""

    def add(self, token_hash: str, user_id: str, *, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO web_sessions (token_hash, user_id, created_at, seen_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, user_id, ts(now), ts(now)),
        )

    def get(self, token_hash: str) -> WebSession | None:
        row = self.conn.execute(
            "SELECT user_id, created_at, seen_at FROM web_sessions "
            "WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return WebSession(token_hash, str(row[0]), dt(row[1]), dt(row[2]))

    def seen(self, token_hash: str, *, now: datetime) -> None:
        """Mark the session used now (its idle expiry counts from here)."""
        self.conn.execute(
            "UPDATE web_sessions SET seen_at = ? WHERE token_hash = ?", (ts(now), token_hash)
        )

    def end(self, token_hash: str) -> None:
        self.conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    def prune(self, *, idle_before: datetime, created_before: datetime) -> int:
        """Drop sessions idle since `idle_before` or opened before `created_before`."""
        cur = self.conn.execute(
            "DELETE FROM web_sessions WHERE seen_at < ? OR created_at < ?",
            (ts(idle_before), ts(created_before)),
        )
        return int(cur.rowcount)

    def erase_user(self, user_id: str) -> None:
        """An erased web person's sessions go with them."""
        self.conn.execute("DELETE FROM web_sessions WHERE user_id = ?", (user_id,))
