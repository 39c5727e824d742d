"""The narrow, synchronous repository a step runs against inside its transaction."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

from store.cipher import Cipher
from store.records import AnswerRevision, Erasure, Event, InterviewRecord, Invite, Person

#: Bytes of randomness in an interview id (72 bits: unguessable, short enough for buttons).
ID_BYTES = 9


def new_interview_id() -> str:
    """A random, URL-safe interview id (12 characters), never starting with "-" (a CLI option)."""
    while (token := secrets.token_urlsafe(ID_BYTES)).startswith("-"):
        pass
    return token


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

    def __init__(self, conn: sqlite3.Connection, cipher: Cipher | None = None) -> None:
        self.conn = conn
        #: Seals answer values and stored replies at rest (HEARTH_DATA_KEY). Sealing here,
        #: at the edge, keeps the engine and the steps working with plain values.
        self.cipher = cipher
        #: Appended to the reads of the person and the interview a step changes. The
        #: PostgreSQL store sets " FOR UPDATE" so steps of several workers on one interview
        #: queue instead of interleaving; SQLite's single writer already orders them ("").
        self.row_lock = ""

    def _seal(self, text: str) -> str:
        return self.cipher.seal(text) if self.cipher is not None else text

    def _open(self, stored: str) -> str:
        return self.cipher.open(stored) if self.cipher is not None else stored

    def _value(self, stored: str | None) -> object | None:
        return json.loads(self._open(stored)) if stored is not None else None

    # -- deliveries (exactly-once) -----------------------------------------------------

    def delivery_outcome(self, channel: str, delivery_id: str) -> str | None:
        """The outcome recorded for an already processed delivery, else None."""
        row = self.conn.execute(
            "SELECT outcome FROM deliveries WHERE channel = ? AND delivery_id = ?",
            (channel, delivery_id),
        ).fetchone()
        return None if row is None else self._open(str(row[0]))

    def prune_deliveries(self, before: datetime) -> int:
        """Forget deliveries processed before `before`; return how many were dropped."""
        cur = self.conn.execute("DELETE FROM deliveries WHERE at < ?", (_ts(before),))
        return int(cur.rowcount)

    def record_delivery(self, channel: str, delivery_id: str, outcome: str, now: datetime) -> None:
        """Mark a delivery processed (the primary key refuses a second one)."""
        # A stored reply can quote answers (a review): sealed like the answers themselves.
        sealed = self.cipher.seal_outcome(outcome) if self.cipher is not None else outcome
        self.conn.execute(
            "INSERT INTO deliveries (channel, delivery_id, outcome, at) VALUES (?, ?, ?, ?)",
            (channel, delivery_id, sealed, _ts(now)),
        )

    # -- people --------------------------------------------------------------------------

    def person(
        self, channel: str, external_id: str, *, now: datetime, locale: str = "en"
    ) -> Person:
        """The person with this channel id, created on first contact."""
        row = self.conn.execute(
            "SELECT id, channel, external_id, role, locale, active_interview FROM people "
            f"WHERE channel = ? AND external_id = ?{self.row_lock}",
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

    def low_exposure(self, person_id: int) -> bool:
        """Whether a person asked that their typed answers leave the chat once saved."""
        row = self.conn.execute(
            "SELECT low_exposure FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        return bool(row and row[0])

    def set_low_exposure(self, person_id: int, on: bool) -> None:
        """Turn the low-exposure option on or off for a person."""
        self.conn.execute(
            "UPDATE people SET low_exposure = ? WHERE id = ?", (int(on), person_id)
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
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews WHERE id = ?{self.row_lock}",
            (interview_id,),
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
            key: (self._value(value), skips)
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
        encoded = self._seal(json.dumps(value, ensure_ascii=False)) if value is not None else None
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

    def answer_count(self, interview_id: str) -> int:
        """How many revisions an interview holds (skips included): grows by one per save."""
        row = self.conn.execute(
            "SELECT count(*) FROM answers WHERE interview_id = ?", (interview_id,)
        ).fetchone()
        return int(row[0])

    def answer_history(self, interview_id: str) -> list[AnswerRevision]:
        """Every revision of every answer, oldest first."""
        rows = self.conn.execute(
            "SELECT item_key, revision, value, answered_by, answered_at FROM answers "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [
            AnswerRevision(k, r, self._value(v), b, _dt(t))
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

    def paused_unreminded(
        self, idle_before: datetime, *, limit: int = 200
    ) -> list[InterviewRecord]:
        """Interviews paused since before `idle_before` that were never sent a reminder."""
        rows = self.conn.execute(
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews i WHERE state = 'paused' "
            "AND updated_at < ? AND respondent_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.interview_id = i.id AND e.kind = 'reminded') "
            "ORDER BY updated_at LIMIT ?",
            (_ts(idle_before), limit),
        ).fetchall()
        return [_interview(r) for r in rows]

    def events(self, interview_id: str) -> list[Event]:
        """The audit trail of one interview, oldest first."""
        rows = self.conn.execute(
            "SELECT interview_id, person_id, kind, detail, at FROM events "
            "WHERE interview_id = ? ORDER BY id",
            (interview_id,),
        ).fetchall()
        return [Event(i, p, k, d, _dt(a)) for i, p, k, d, a in rows]

    # == access: roles, chats, invitations, attempts, erasure (migration 0002) ===============
    #
    # Kept as one block: the clinician and erasure features of bot/clinician.py and
    # bot/access.py read and write only through these methods.

    def set_role(self, person_id: int, role: str) -> None:
        """Make a person a 'caregiver', 'clinician' or 'admin' (the schema checks the name)."""
        self.conn.execute("UPDATE people SET role = ? WHERE id = ?", (role, person_id))

    def remember_chat(self, person_id: int, chat_id: str) -> None:
        """Record the private chat a person last wrote from (where notifications go)."""
        self.conn.execute(
            "UPDATE people SET chat_id = ? WHERE id = ? AND chat_id IS NOT ?",
            (chat_id, person_id, chat_id),
        )

    def person_by_id(self, person_id: int) -> Person | None:
        """The person with this row id, or None."""
        row = self.conn.execute(
            "SELECT id, channel, external_id, role, locale, active_interview FROM people "
            "WHERE id = ?",
            (person_id,),
        ).fetchone()
        return None if row is None else Person(*row)

    def chat_of(self, person_id: int) -> str | None:
        """The chat to reach a person in: the one they last wrote from, else their id.

        The fallback holds for Telegram private chats and the console (chat id == user id)
        and lets an operator-registered clinician be notified before their first message.
        """
        row = self.conn.execute(
            "SELECT coalesce(chat_id, external_id) FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def interviews_owned(self, owner_id: int, *, limit: int = 50) -> list[InterviewRecord]:
        """Interviews a person owns (a clinician's caseload), most recently active first."""
        rows = self.conn.execute(
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews WHERE owner_id = ? "
            "ORDER BY updated_at DESC LIMIT ?",
            (owner_id, limit),
        ).fetchall()
        return [_interview(r) for r in rows]

    def add_invite(
        self,
        code_hash: str,
        *,
        interview_id: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new invitation by the hash of its code."""
        self.conn.execute(
            "INSERT INTO invites (code_hash, interview_id, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (code_hash, interview_id, created_by, _ts(now), _ts(expires_at)),
        )

    def invite(self, code_hash: str) -> Invite | None:
        """The invitation whose code hashes to `code_hash`, or None."""
        row = self.conn.execute(
            "SELECT code_hash, interview_id, created_by, created_at, expires_at, used_at, "
            "used_by FROM invites WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        if row is None:
            return None
        return Invite(
            code_hash=row[0],
            interview_id=row[1],
            created_by=row[2],
            created_at=_dt(row[3]),
            expires_at=_dt(row[4]),
            used_at=_dt(row[5]) if row[5] else None,
            used_by=row[6],
        )

    def use_invite(self, code_hash: str, *, person_id: int, now: datetime) -> bool:
        """Claim an unused invitation; False if it was used meanwhile (single use)."""
        cur = self.conn.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL",
            (_ts(now), person_id, code_hash),
        )
        return cur.rowcount == 1

    def revoke_invites(self, interview_id: str, *, now: datetime) -> int:
        """Retire an interview's unused invitations (a newer one replaces them)."""
        cur = self.conn.execute(
            "UPDATE invites SET used_at = ? WHERE interview_id = ? AND used_at IS NULL",
            (_ts(now), interview_id),
        )
        return cur.rowcount

    def has_created_invites(self, person_id: int) -> bool:
        """Whether a person ever invited a family (so holds families' interviews)."""
        row = self.conn.execute(
            "SELECT 1 FROM invites WHERE created_by = ? LIMIT 1", (person_id,)
        ).fetchone()
        return row is not None

    def add_attempt(self, person_id: int, kind: str, *, now: datetime) -> None:
        """Count one failed attempt (a wrong code)."""
        self.conn.execute(
            "INSERT INTO attempts (person_id, kind, at) VALUES (?, ?, ?)",
            (person_id, kind, _ts(now)),
        )

    def forget_attempts(self, person_id: int, kind: str, before: datetime) -> None:
        """Drop attempts that no longer count (the table holds only the current window)."""
        self.conn.execute(
            "DELETE FROM attempts WHERE person_id = ? AND kind = ? AND at <= ?",
            (person_id, kind, _ts(before)),
        )

    def attempts_since(self, person_id: int, kind: str, since: datetime) -> int:
        """Failed attempts of this kind after `since` (timestamps compare as UTC text)."""
        row = self.conn.execute(
            "SELECT count(*) FROM attempts WHERE person_id = ? AND kind = ? AND at > ?",
            (person_id, kind, _ts(since)),
        ).fetchone()
        return int(row[0])

    def oldest_attempt_since(self, person_id: int, kind: str, since: datetime) -> datetime | None:
        """When the oldest attempt still inside the window was made (to say when to retry)."""
        row = self.conn.execute(
            "SELECT min(at) FROM attempts WHERE person_id = ? AND kind = ? AND at > ?",
            (person_id, kind, _ts(since)),
        ).fetchone()
        return _dt(row[0]) if row[0] else None

    def request_erasure(self, person_id: int, *, now: datetime) -> None:
        """Remember that a person asked to be forgotten (confirmation pending)."""
        self.conn.execute(
            "INSERT INTO erasure_requests (person_id, requested_at) VALUES (?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET requested_at = excluded.requested_at",
            (person_id, _ts(now)),
        )

    def erasure_requested_at(self, person_id: int) -> datetime | None:
        """When a pending erasure was asked for, or None."""
        row = self.conn.execute(
            "SELECT requested_at FROM erasure_requests WHERE person_id = ?", (person_id,)
        ).fetchone()
        return None if row is None else _dt(row[0])

    def cancel_erasure(self, person_id: int) -> None:
        """Drop a pending erasure request."""
        self.conn.execute("DELETE FROM erasure_requests WHERE person_id = ?", (person_id,))

    def erase_person(self, person_id: int, *, now: datetime) -> Erasure:
        """Erase what a person gave, leaving tombstone events without content.

        Interviews they own are deleted whole. In interviews someone else owns (a
        clinician's) only their own answer revisions go; the interview is withdrawn and
        keeps what others answered. The person row stays as an anonymous stub so its id is
        never reused by a newcomer and the tombstones stay unambiguous. docs/security.md
        states the rule; the caller decides who may be erased.
        """
        owned = [
            str(r[0])
            for r in self.conn.execute(
                "SELECT id FROM interviews WHERE owner_id = ?", (person_id,)
            ).fetchall()
        ]
        shared = [
            str(r[0])
            for r in self.conn.execute(
                "SELECT id FROM interviews WHERE respondent_id = ? AND owner_id != ?",
                (person_id, person_id),
            ).fetchall()
        ]
        for interview_id in owned:
            self.conn.execute("DELETE FROM current_answers WHERE interview_id = ?", (interview_id,))
            self.conn.execute("DELETE FROM answers WHERE interview_id = ?", (interview_id,))
            self.conn.execute("DELETE FROM invites WHERE interview_id = ?", (interview_id,))
            self.conn.execute("DELETE FROM events WHERE interview_id = ?", (interview_id,))
            self.conn.execute(
                "UPDATE people SET active_interview = NULL WHERE active_interview = ?",
                (interview_id,),
            )
            self.conn.execute("DELETE FROM interviews WHERE id = ?", (interview_id,))
        for interview_id in shared:
            self.conn.execute("DELETE FROM current_answers WHERE interview_id = ?", (interview_id,))
            self.conn.execute(
                "DELETE FROM answers WHERE interview_id = ? AND answered_by = ?",
                (interview_id, person_id),
            )
            self._rebuild_current_answers(interview_id)
            self.conn.execute(
                "UPDATE interviews SET respondent_id = NULL, state = 'withdrawn', cursor = NULL, "
                "draft = NULL, revision = revision + 1, updated_at = ? WHERE id = ?",
                (_ts(now), interview_id),
            )
        self.conn.execute("UPDATE invites SET used_by = NULL WHERE used_by = ?", (person_id,))
        # Audit details name the questions answered, and skip logic makes that telling:
        # everything the person caused goes, replaced below by content-free tombstones.
        self.conn.execute("DELETE FROM events WHERE person_id = ?", (person_id,))
        # A redelivered update replays its stored outcome, which can quote answers: keep
        # the delivery key (exactly-once still holds) but blank what it would say.
        empty = '{"locale":"en","replies":[]}'
        for interview_id in owned + shared:
            self.conn.execute(
                "UPDATE deliveries SET outcome = ? WHERE instr(outcome, ?) > 0",
                (empty, json.dumps(interview_id)),
            )
        self.conn.execute("DELETE FROM attempts WHERE person_id = ?", (person_id,))
        self.conn.execute("DELETE FROM erasure_requests WHERE person_id = ?", (person_id,))
        # Book clubs: reflections, an opened check-in, a private subscription (store/bookclub.py).
        from store.bookclub import BookClubRepository

        BookClubRepository(self).erase_person(person_id)
        self.conn.execute(
            "UPDATE people SET external_id = 'erased:' || id, chat_id = NULL, "
            "active_interview = NULL, role = 'caregiver' WHERE id = ?",
            (person_id,),
        )
        for interview_id in owned + shared:
            self.add_event("erased", interview_id=interview_id, person_id=person_id, now=now)
        self.add_event("erased", interview_id=None, person_id=person_id, now=now)
        return Erasure(deleted=owned, withdrawn=shared)

    def _rebuild_current_answers(self, interview_id: str) -> None:
        """Point each item at its latest remaining revision; count trailing skips."""
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

    # == data out: exports, follow-ups, program figures (migration 0004) ====================

    def all_interviews(self, *, flow_id: str | None = None) -> list[InterviewRecord]:
        """Every interview (optionally of one flow), oldest first: the operator's exports."""
        where, params = ("WHERE flow_id = ?", (flow_id,)) if flow_id else ("", ())
        rows = self.conn.execute(
            f"SELECT {_INTERVIEW_COLUMNS} FROM interviews {where} ORDER BY created_at, id",
            params,
        ).fetchall()
        return [_interview(r) for r in rows]

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

    def last_answer_at(self, interview_id: str) -> datetime | None:
        """When the newest answer revision of an interview was written."""
        row = self.conn.execute(
            "SELECT max(answered_at) FROM answers WHERE interview_id = ?", (interview_id,)
        ).fetchone()
        return _dt(row[0]) if row and row[0] else None
