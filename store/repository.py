"""The narrow, synchronous repository a step runs against inside its transaction."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

from store.records import AnswerRevision, Event, InterviewRecord, Person

#: Bytes of randomness in an interview id (72 bits: unguessable, short enough for buttons).
ID_BYTES = 9


def new_interview_id() -> str:
    """A random, URL-safe interview id (12 characters)."""
    return secrets.token_urlsafe(ID_BYTES)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


_INTERVIEW_COLUMNS = (
    "id, flow_id, flow_version, owner_id, respondent_id, subject_nickname, state, consented, "
    "cursor, revision, draft, created_at, updated_at, submitted_at"
)


def _interview(row: sqlite3.Row | tuple[Any, ...]) -> InterviewRecord:
    return InterviewRecord(
        id=row[0],
        flow_id=row[1],
        flow_version=row[2],
        owner_id=row[3],
        respondent_id=row[4],
        subject_nickname=row[5],
        state=row[6],
        consented=bool(row[7]),
        cursor=row[8],
        revision=row[9],
        draft=json.loads(row[10]) if row[10] is not None else None,
        created_at=_dt(row[11]),
        updated_at=_dt(row[12]),
        submitted_at=_dt(row[13]) if row[13] else None,
    )


class Repository:
    """Queries and writes over one connection; the caller owns the transaction.

    Every method is synchronous and runs on the store's own thread, so a whole step costs
    one hop from the event loop, not one per statement.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # -- deliveries (exactly-once) -----------------------------------------------------

    def delivery_outcome(self, channel: str, delivery_id: str) -> str | None:
        """The outcome recorded for an already processed delivery, else None."""
        row = self.conn.execute(
            "SELECT outcome FROM deliveries WHERE channel = ? AND delivery_id = ?",
            (channel, delivery_id),
        ).fetchone()
        return None if row is None else str(row[0])

    def record_delivery(self, channel: str, delivery_id: str, outcome: str, now: datetime) -> None:
        """Mark a delivery processed (the primary key refuses a second one)."""
        self.conn.execute(
            "INSERT INTO deliveries (channel, delivery_id, outcome, at) VALUES (?, ?, ?, ?)",
            (channel, delivery_id, outcome, _ts(now)),
        )

    # -- people --------------------------------------------------------------------------

    def person(
        self, channel: str, external_id: str, *, now: datetime, locale: str = "en"
    ) -> Person:
        """The person with this channel id, created on first contact."""
        row = self.conn.execute(
            "SELECT id, channel, external_id, role, locale, active_interview FROM people "
            "WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        ).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO people (channel, external_id, locale, created_at) VALUES (?, ?, ?, ?)",
                (channel, external_id, locale, _ts(now)),
            )
            assert cur.lastrowid is not None
            return Person(cur.lastrowid, channel, external_id, "caregiver", locale, None)
        return Person(*row)

    def find_person(self, channel: str, external_id: str) -> Person | None:
        """The person with this channel id, or None (never creates)."""
        row = self.conn.execute(
            "SELECT id, channel, external_id, role, locale, active_interview FROM people "
            "WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        ).fetchone()
        return None if row is None else Person(*row)

    def save_person(self, person: Person) -> None:
        """Write back a person's role, locale and active interview."""
        self.conn.execute(
            "UPDATE people SET role = ?, locale = ?, active_interview = ? WHERE id = ?",
            (person.role, person.locale, person.active_interview, person.id),
        )

    # -- interviews ------------------------------------------------------------------------

    def create_interview(
        self,
        *,
        flow_id: str,
        flow_version: int,
        owner_id: int,
        respondent_id: int | None,
        nickname: str | None,
        state: str,
        now: datetime,
    ) -> InterviewRecord:
        """Insert a new interview with a fresh random id."""
        record = InterviewRecord(
            id=new_interview_id(),
            flow_id=flow_id,
            flow_version=flow_version,
            owner_id=owner_id,
            respondent_id=respondent_id,
            subject_nickname=nickname,
            state=state,
            consented=False,
            cursor=None,
            revision=0,
            draft=None,
            created_at=now,
            updated_at=now,
            submitted_at=None,
        )
        self.conn.execute(
            f"INSERT INTO interviews ({_INTERVIEW_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                flow_id,
                flow_version,
                owner_id,
                respondent_id,
                nickname,
                state,
                0,
                None,
                0,
                None,
                _ts(now),
                _ts(now),
                None,
            ),
        )
        return record

    def interview(self, interview_id: str) -> InterviewRecord | None:
        """The interview with this id, or None."""
        row = self.conn.execute(
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews WHERE id = ?", (interview_id,)
        ).fetchone()
        return None if row is None else _interview(row)

    def save_interview(self, record: InterviewRecord) -> None:
        """Write back an interview's state, cursor, revision and draft."""
        self.conn.execute(
            "UPDATE interviews SET state = ?, consented = ?, cursor = ?, revision = ?, draft = ?, "
            "updated_at = ?, submitted_at = ?, subject_nickname = ?, respondent_id = ? "
            "WHERE id = ?",
            (
                record.state,
                int(record.consented),
                record.cursor,
                record.revision,
                json.dumps(record.draft) if record.draft is not None else None,
                _ts(record.updated_at),
                _ts(record.submitted_at) if record.submitted_at else None,
                record.subject_nickname,
                record.respondent_id,
                record.id,
            ),
        )

    def interviews_of(self, person_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        """Interviews a person owns or answers, most recently active first."""
        rows = self.conn.execute(
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews WHERE owner_id = ? "
            "UNION "
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews WHERE respondent_id = ? "
            "ORDER BY updated_at DESC LIMIT ?",
            (person_id, person_id, limit),
        ).fetchall()
        return [_interview(r) for r in rows]

    # -- answers -----------------------------------------------------------------------------

    def current_answers(self, interview_id: str) -> dict[str, tuple[object | None, int]]:
        """Latest value (decoded JSON, None if skipped) and skip count per item key."""
        rows = self.conn.execute(
            "SELECT c.item_key, a.value, c.skips FROM current_answers c "
            "JOIN answers a ON a.id = c.answer_id WHERE c.interview_id = ?",
            (interview_id,),
        ).fetchall()
        return {
            key: (json.loads(value) if value is not None else None, skips)
            for key, value, skips in rows
        }

    def append_answer(
        self,
        interview_id: str,
        item_key: str,
        value: object | None,
        *,
        revision: int,
        by: int | None,
        now: datetime,
    ) -> None:
        """Add a revision (value None = skipped) and point the current answer at it."""
        encoded = json.dumps(value, ensure_ascii=False) if value is not None else None
        cur = self.conn.execute(
            "INSERT INTO answers (interview_id, item_key, revision, value, answered_by, "
            "answered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (interview_id, item_key, revision, encoded, by, _ts(now)),
        )
        if value is None:
            self.conn.execute(
                "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (interview_id, item_key) DO UPDATE SET "
                "answer_id = excluded.answer_id, skips = current_answers.skips + 1",
                (interview_id, item_key, cur.lastrowid),
            )
        else:
            self.conn.execute(
                "INSERT INTO current_answers (interview_id, item_key, answer_id, skips) "
                "VALUES (?, ?, ?, 0) ON CONFLICT (interview_id, item_key) DO UPDATE SET "
                "answer_id = excluded.answer_id, skips = 0",
                (interview_id, item_key, cur.lastrowid),
            )

    def answer_history(self, interview_id: str) -> list[AnswerRevision]:
        """Every revision of every answer, oldest first."""
        rows = self.conn.execute(
            "SELECT item_key, revision, value, answered_by, answered_at FROM answers "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [
            AnswerRevision(k, r, json.loads(v) if v is not None else None, b, _dt(t))
            for k, r, v, b, t in rows
        ]

    # -- audit -------------------------------------------------------------------------------

    def add_event(
        self,
        kind: str,
        *,
        interview_id: str | None,
        person_id: int | None,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        """Append to the audit trail (never answer content)."""
        self.conn.execute(
            "INSERT INTO events (interview_id, person_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            (interview_id, person_id, kind, detail, _ts(now)),
        )

    def events(self, interview_id: str) -> list[Event]:
        """The audit trail of one interview, oldest first."""
        rows = self.conn.execute(
            "SELECT interview_id, person_id, kind, detail, at FROM events "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [Event(i, p, k, d, _dt(a)) for i, p, k, d, a in rows]
