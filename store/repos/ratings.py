"""Ratings: a clinician's append-only ratings of functions on an interview's map."""

from __future__ import annotations

from datetime import datetime

from store.records import Rating
from store.repos.base import Repository, dt, ts


class Ratings(Repository):
    """The `ratings` table (migration 0012): an UPDATE is refused by a trigger."""

    def add(
        self,
        interview_id: str,
        function: str,
        value: str,
        reason: str,
        *,
        by: int,
        now: datetime,
        status: str = "rated",
    ) -> Rating:
        """Append the next revision of one function's rating (`status` "withdrawn": the
        revision that takes it back); return the row as stored."""
        # The caller has read the interview (under the row lock on PostgreSQL), so two
        # ratings of one interview queue; the UNIQUE key catches anything that slips by.
        row = self.conn.execute(
            "SELECT max(revision) FROM ratings WHERE interview_id = ? AND function_key = ?",
            (interview_id, function),
        ).fetchone()
        revision = int(row[0] if row and row[0] is not None else 0) + 1
        # The value and the reason say what the clinician found: sealed like an answer,
        # bound to the interview so a row copied into another cannot be opened there.
        session = self.session
        self.conn.execute(
            "INSERT INTO ratings (interview_id, function_key, revision, value, reason, "
            "rated_by, rated_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (interview_id, function, revision, session.seal(value, interview_id),
             session.seal(reason, interview_id), by, ts(now), status),
        )
        return Rating(interview_id, function, revision, value, reason, by, now, status)

    def history(self, interview_id: str) -> list[Rating]:
        """Every revision of every function's rating, oldest first."""
        rows = self.conn.execute(
            "SELECT function_key, revision, value, reason, rated_by, rated_at, status "
            "FROM ratings "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        session = self.session
        return [
            Rating(interview_id, str(f), int(r), session.open(v, interview_id),
                   session.open(why, interview_id), None if b is None else int(b), dt(t),
                   str(st))
            for f, r, v, why, b, t, st in rows
        ]

    def current(self, interview_id: str) -> dict[str, Rating]:
        """The latest revision per function (a withdrawal included: its status says so)."""
        latest: dict[str, Rating] = {}
        for rating in self.history(interview_id):
            latest[rating.function] = rating
        return latest

    def delete_all(self, interview_id: str) -> None:
        """Remove every rating of an interview (it is erased whole)."""
        self.conn.execute("DELETE FROM ratings WHERE interview_id = ?", (interview_id,))

    def delete_by(self, person_id: int) -> None:
        """Remove what an erased person wrote, wherever it stands (as their answers go)."""
        self.conn.execute("DELETE FROM ratings WHERE rated_by = ?", (person_id,))
