"""Interviews: which flow, whose, where each stands (state, cursor, revision, draft)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import datetime
from typing import Any

from store.records import InterviewRecord
from store.repos.answers import NEWEST_ANSWER
from store.repos.base import Repository, Session, dt, ts

#: Bytes of randomness in an interview id (72 bits: unguessable, short enough for buttons).
ID_BYTES = 9


def new_interview_id() -> str:
    """A random, URL-safe interview id (12 characters), never starting with "-" (a CLI option)."""
    while (token := secrets.token_urlsafe(ID_BYTES)).startswith("-"):
        pass
    return token


_COLUMNS = (
    "id, flow_id, flow_version, owner_id, respondent_id, subject_nickname, state, consented, "
    "cursor, revision, draft, created_at, updated_at, submitted_at"
)


def _interview(session: Session, row: sqlite3.Row | tuple[Any, ...]) -> InterviewRecord:
    # The cursor names the question asked (in a repeated section, the option ticked), the
    # draft the options being ticked, the nickname the child: sealed, bound to the row.
    iid = str(row[0])
    draft = session.open_opt(row[10], iid)
    cursor = session.open_opt(row[8], iid)
    return InterviewRecord(
        id=iid,
        flow_id=row[1],
        flow_version=row[2],
        owner_id=row[3],
        respondent_id=row[4],
        subject_nickname=session.open_opt(row[5], iid),
        state=row[6],
        consented=bool(row[7]),
        cursor=cursor,
        revision=row[9],
        draft=json.loads(draft) if draft is not None else None,
        created_at=dt(row[11]),
        updated_at=dt(row[12]),
        submitted_at=dt(row[13]) if row[13] else None,
    )


class Interviews(Repository):
    """The `interviews` table."""

    def create(
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
            f"INSERT INTO interviews ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id, flow_id, flow_version, owner_id, respondent_id,
                self.session.seal_opt(nickname, record.id), state,
                0, None, 0, None, ts(now), ts(now), None,
            ),
        )
        return record

    def get(self, interview_id: str) -> InterviewRecord | None:
        """The interview with this id, or None."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM interviews WHERE id = ?{self.session.row_lock}",
            (interview_id,),
        ).fetchone()
        return None if row is None else _interview(self.session, row)

    def get_versioned(
        self, interview_id: str
    ) -> tuple[InterviewRecord, tuple[int, int]] | None:
        """The interview and its answers' version (Answers.version) in one statement.

        A step begins with both: the version says whether the decoded answers kept from
        the last step (bot/answer_cache.py) are still what is stored.
        """
        row = self.conn.execute(
            f"SELECT {_COLUMNS}, {NEWEST_ANSWER} FROM interviews WHERE id = ?"
            f"{self.session.row_lock}",
            (interview_id,),
        ).fetchone()
        if row is None:
            return None
        record = _interview(self.session, row)
        return record, (record.revision, int(row[-1]))

    def save(self, record: InterviewRecord) -> None:
        """Write back an interview's state, cursor, revision and draft."""
        session, iid = self.session, record.id
        self.conn.execute(
            "UPDATE interviews SET state = ?, consented = ?, cursor = ?, revision = ?, draft = ?, "
            "updated_at = ?, submitted_at = ?, subject_nickname = ?, respondent_id = ?, "
            "owner_id = ? WHERE id = ?",
            (
                record.state,
                int(record.consented),
                session.seal_opt(record.cursor, iid),
                record.revision,
                session.seal(json.dumps(record.draft), iid) if record.draft is not None else None,
                ts(record.updated_at),
                ts(record.submitted_at) if record.submitted_at else None,
                session.seal_opt(record.subject_nickname, iid),
                record.respondent_id,
                record.owner_id,
                record.id,
            ),
        )

    def of_person(self, person_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        """Interviews a person owns or answers, most recently active first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM interviews WHERE owner_id = ? "
            "UNION "
            f"SELECT {_COLUMNS} FROM interviews WHERE respondent_id = ? "
            "ORDER BY updated_at DESC LIMIT ?",
            (person_id, person_id, limit),
        ).fetchall()
        return [_interview(self.session, r) for r in rows]

    def owned_by(self, owner_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        """Interviews a person owns (a clinician's caseload), most recently active first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM interviews WHERE owner_id = ? "
            "ORDER BY updated_at DESC LIMIT ?",
            (owner_id, limit),
        ).fetchall()
        return [_interview(self.session, r) for r in rows]

    def all(self, *, flow_id: str | None = None) -> list[InterviewRecord]:
        """Every interview (optionally of one flow), oldest first: the operator's exports."""
        where, params = ("WHERE flow_id = ?", (flow_id,)) if flow_id else ("", ())
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM interviews {where} ORDER BY created_at, id", params
        ).fetchall()
        return [_interview(self.session, r) for r in rows]

    def paused_unreminded(
        self, idle_before: datetime, *, limit: int = 200
    ) -> list[InterviewRecord]:
        """Interviews paused since before `idle_before` that were never sent a reminder."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM interviews i WHERE state = 'paused' "
            "AND updated_at < ? AND respondent_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.interview_id = i.id AND e.kind = 'reminded') "
            "ORDER BY updated_at LIMIT ?",
            (ts(idle_before), limit),
        ).fetchall()
        return [_interview(self.session, r) for r in rows]

    def transfer_owner(self, from_id: int, to_id: int, *, now: datetime) -> list[str]:
        """Give every interview `from_id` owns to `to_id`; return their ids.

        The revision moves on, so buttons the former owner still has are stale; if the
        former owner was also answering one themselves, that stops too.
        """
        moved = [
            str(r[0])
            for r in self.conn.execute(
                f"SELECT id FROM interviews WHERE owner_id = ? ORDER BY id{self.session.row_lock}",
                (from_id,),
            ).fetchall()
        ]
        self.conn.execute(
            "UPDATE interviews SET owner_id = ?, revision = revision + 1, updated_at = ?, "
            "respondent_id = CASE WHEN respondent_id = ? THEN NULL ELSE respondent_id END "
            "WHERE owner_id = ?",
            (to_id, ts(now), from_id, from_id),
        )
        return moved

    def transfer_one(self, interview_id: str, to_id: int, *, now: datetime) -> None:
        """Give one interview to another owner; the revision moves on (stale buttons), and
        a former owner answering it themselves stops (as in `transfer_owner`)."""
        self.conn.execute(
            "UPDATE interviews SET owner_id = ?, revision = revision + 1, updated_at = ?, "
            "respondent_id = CASE WHEN respondent_id = owner_id THEN NULL "
            "ELSE respondent_id END WHERE id = ?",
            (to_id, ts(now), interview_id),
        )

    def set_follow_up_of(self, interview_id: str, earlier_id: str) -> None:
        """Link a re-assessment to the interview it repeats."""
        self.conn.execute(
            "UPDATE interviews SET follow_up_of = ? WHERE id = ?", (earlier_id, interview_id)
        )

    def follow_up_of(self, interview_id: str) -> str | None:
        """The earlier interview this one repeats, if it is a follow-up."""
        row = self.conn.execute(
            "SELECT follow_up_of FROM interviews WHERE id = ?", (interview_id,)
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def set_informant_of(self, interview_id: str, primary_id: str, role: str) -> None:
        """Make an interview a second informant's form beside the family's `primary_id`."""
        self.conn.execute(
            "UPDATE interviews SET informant_of = ?, informant_role = ? WHERE id = ?",
            (primary_id, role, interview_id),
        )

    def informant_of(self, interview_id: str) -> tuple[str, str] | None:
        """(the family's interview, the role) if this is an informant's form, else None."""
        row = self.conn.execute(
            "SELECT informant_of, informant_role FROM interviews WHERE id = ?", (interview_id,)
        ).fetchone()
        return None if row is None or row[0] is None else (str(row[0]), str(row[1]))

    def informants_of(self, primary_id: str) -> list[tuple[InterviewRecord, str]]:
        """The informants' forms beside one interview, oldest first, each with its role."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS}, informant_role FROM interviews WHERE informant_of = ? "
            "ORDER BY created_at, id",
            (primary_id,),
        ).fetchall()
        return [(_interview(self.session, r), str(r[14])) for r in rows]
