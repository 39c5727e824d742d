"""Deliveries: which inbound events were processed, with the outcome they produced."""

from __future__ import annotations

from datetime import datetime

from store.repos.base import Repository, ts


class Deliveries(Repository):
    """The `deliveries` table: the exactly-once record."""

    def outcome(self, channel: str, delivery_id: str) -> str | None:
        """The outcome recorded for an already processed delivery, else None."""
        row = self.conn.execute(
            "SELECT outcome FROM deliveries WHERE channel = ? AND delivery_id = ?",
            (channel, delivery_id),
        ).fetchone()
        return None if row is None else self.session.open(str(row[0]))

    def record(self, channel: str, delivery_id: str, outcome: str, now: datetime) -> None:
        """Mark a delivery processed (the primary key refuses a second one)."""
        # A stored reply can quote answers (a review): sealed like the answers themselves.
        cipher = self.session.cipher
        sealed = cipher.seal_outcome(outcome) if cipher is not None else outcome
        self.conn.execute(
            "INSERT INTO deliveries (channel, delivery_id, outcome, at) VALUES (?, ?, ?, ?)",
            (channel, delivery_id, sealed, ts(now)),
        )

    def prune(self, before: datetime) -> int:
        """Forget deliveries processed before `before`; return how many were dropped."""
        cur = self.conn.execute("DELETE FROM deliveries WHERE at < ?", (ts(before),))
        return int(cur.rowcount)

    def blank_mentioning(self, interview_id: str) -> None:
        """Blank the stored outcomes that quote an interview (erasure); keep their keys.

        A redelivered update replays its stored outcome, which can quote answers: the
        delivery key stays (exactly-once still holds) but what it would say goes.
        """
        empty = '{"locale":"en","replies":[]}'
        self.conn.execute(
            "UPDATE deliveries SET outcome = ? WHERE instr(outcome, ?) > 0",
            (empty, f'"{interview_id}"'),
        )
