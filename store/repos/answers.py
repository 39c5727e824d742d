"""Answers: the append-only revisions of an interview and the pointer to each latest one."""

from __future__ import annotations

import json
from datetime import datetime

from store.records import AnswerRevision
from store.repos.base import Repository, dt, ts

#: The newest current-answer row id of the interview in the enclosing query's `interviews`
#: row, or 0: with its revision, the answers' version (`Answers.version`).
NEWEST_ANSWER = (
    "(SELECT coalesce(max(c.answer_id), 0) FROM current_answers c "
    "WHERE c.interview_id = interviews.id)"
)


class Answers(Repository):
    """The `answers` (append-only) and `current_answers` tables."""

    def current(self, interview_id: str) -> dict[str, tuple[object | None, int]]:
        """Latest value (decoded JSON, None if skipped) and skip count per item key."""
        rows = self.conn.execute(
            "SELECT c.item_key, a.value, c.skips FROM current_answers c "
            "JOIN answers a ON a.id = c.answer_id WHERE c.interview_id = ?",
            (interview_id,),
        ).fetchall()
        session = self.session
        return {
            session.open_item(interview_id, key): (session.value(value, interview_id), skips)
            for key, value, skips in rows
        }

    def version(self, interview_id: str) -> tuple[int, int] | None:
        """(revision, newest current-answer row id or 0): moves whenever the answers change.

        An append points an item at a new row, whose id is above every earlier one; a
        removal (erasure) bumps the revision. None if there is no such interview.
        """
        row = self.conn.execute(
            f"SELECT revision, {NEWEST_ANSWER} FROM interviews WHERE id = ?", (interview_id,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def append(
        self,
        interview_id: str,
        item_key: str,
        value: object | None,
        *,
        revision: int,
        by: int | None,
        now: datetime,
    ) -> int:
        """Add a revision (value None = skipped), point the current answer at it; its row id.

        The id is above every earlier row's: a step that knows it knows the answers'
        `version` after the append without reading it again (bot/context.py).
        """
        # The value and, in a repeated section, the option in the key are sealed: a key
        # like `adv_severity[sexual_harm]` says as much as the answer.
        session = self.session
        encoded = (
            session.seal(json.dumps(value, ensure_ascii=False), interview_id)
            if value is not None
            else None
        )
        item_key = session.seal_item(interview_id, item_key)
        cur = self.conn.execute(
            "INSERT INTO answers (interview_id, item_key, revision, value, answered_by, "
            "answered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (interview_id, item_key, revision, encoded, by, ts(now)),
        )
        skips = "current_answers.skips + 1" if value is None else "0"
        self.conn.execute(
            "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
            f"VALUES (?, ?, ?, {1 if value is None else 0}) "
            "ON CONFLICT (interview_id, item_key) DO UPDATE SET "
            f"answer_id = excluded.answer_id, skips = {skips}",
            (interview_id, item_key, cur.lastrowid),
        )
        return int(cur.lastrowid or 0)

    def count(self, interview_id: str) -> int:
        """How many revisions an interview holds (skips included): grows by one per save."""
        row = self.conn.execute(
            "SELECT count(*) FROM answers WHERE interview_id = ?", (interview_id,)
        ).fetchone()
        return int(row[0])

    def history(self, interview_id: str) -> list[AnswerRevision]:
        """Every revision of every answer, oldest first."""
        rows = self.conn.execute(
            "SELECT item_key, revision, value, answered_by, answered_at FROM answers "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        session = self.session
        return [
            AnswerRevision(
                session.open_item(interview_id, k), r, session.value(v, interview_id), b, dt(t)
            )
            for k, r, v, b, t in rows
        ]

    def last_at(self, interview_id: str) -> datetime | None:
        """When the newest answer revision of an interview was written."""
        row = self.conn.execute(
            "SELECT max(answered_at) FROM answers WHERE interview_id = ?", (interview_id,)
        ).fetchone()
        return dt(row[0]) if row and row[0] else None

    def delete_all(self, interview_id: str) -> None:
        """Remove every revision of an interview (erasure of an interview a person owns)."""
        self.conn.execute("DELETE FROM current_answers WHERE interview_id = ?", (interview_id,))
        self.conn.execute("DELETE FROM answers WHERE interview_id = ?", (interview_id,))

    def delete_by(self, interview_id: str, person_id: int) -> None:
        """Remove one person's revisions of an interview and repoint the current answers."""
        self.conn.execute("DELETE FROM current_answers WHERE interview_id = ?", (interview_id,))
        self.conn.execute(
            "DELETE FROM answers WHERE interview_id = ? AND answered_by = ?",
            (interview_id, person_id),
        )
        latest: dict[str, tuple[int, int]] = {}  # item -> (answer id, skips)
        for answer_id, item_key, value in self.conn.execute(
            "SELECT id, item_key, value FROM answers WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall():
            previous = latest.get(item_key)
            if value is None:
                latest[item_key] = (answer_id, previous[1] + 1 if previous else 1)
            else:
                latest[item_key] = (answer_id, 0)
        self.conn.executemany(
            "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
            "VALUES (?, ?, ?, ?)",
            [(interview_id, key, answer_id, skips) for key, (answer_id, skips) in latest.items()],
        )
