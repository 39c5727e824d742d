"""The unit of work a step runs against: one transaction, one repository per aggregate."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from store.bookclub import BookClubRepository
from store.cipher import Cipher
from store.records import Erasure
from store.repos.access import Access
from store.repos.answers import Answers
from store.repos.audit import Audit
from store.repos.base import Session, ts
from store.repos.clinic import Clinic
from store.repos.deliveries import Deliveries
from store.repos.inbox import WebInbox
from store.repos.incoming import Incoming
from store.repos.interviews import Interviews
from store.repos.people import People
from store.repos.plans import Plans
from store.repos.ratings import Ratings
from store.repos.teams import Teams
from store.repos.web_sessions import WebSessions


class SqlUnitOfWork:
    """The repositories of one open transaction; the store commits or rolls it back.

    Steps receive this from `Backend.run`/`read` and never see the connection's commit:
    the store owns the transaction (group commit on SQLite, one per step on PostgreSQL).
    """

    def __init__(
        self, conn: sqlite3.Connection, cipher: Cipher | None = None, row_lock: str = ""
    ) -> None:
        self.session = Session(conn, cipher, row_lock)
        self.conn = conn
        self.people = People(self.session)
        self.interviews = Interviews(self.session)
        self.answers = Answers(self.session)
        self.audit = Audit(self.session)
        self.access = Access(self.session)
        self.deliveries = Deliveries(self.session)
        self.bookclub = BookClubRepository(self.session)
        self.web_sessions = WebSessions(self.session)
        self.plans = Plans(self.session)
        self.inbox = WebInbox(self.session)
        self.incoming = Incoming(self.session)
        self.teams = Teams(self.session)
        self.ratings = Ratings(self.session)
        self.clinic = Clinic(self.session)

    def erase_person(self, person_id: int, *, now: datetime) -> Erasure:
        """Erase what a person gave, leaving tombstone events without content.

        Interviews they own are deleted whole. In interviews someone else owns (a
        clinician's) only their own answer revisions go; the interview is withdrawn and
        keeps what others answered. The person row stays as an anonymous stub so its id is
        never reused by a newcomer and the tombstones stay unambiguous. docs/security.md
        states the rule; the caller decides who may be erased.
        """
        conn = self.conn
        # The store folds the WAL into the file right after this commit (store/sqlite.py):
        # until then the erased text is still in the -wal file's page images.
        self.session.erased = True
        owned = [
            str(r[0])
            for r in conn.execute(
                "SELECT id FROM interviews WHERE owner_id = ?", (person_id,)
            ).fetchall()
        ]
        shared = [
            str(r[0])
            for r in conn.execute(
                "SELECT id FROM interviews WHERE respondent_id = ? AND owner_id != ?",
                (person_id, person_id),
            ).fetchall()
        ]
        # A resume code would hand a (withdrawn) interview on; a code the person asked for
        # names them as its creator. First, before the interviews they reference go.
        for interview_id in owned + shared:
            self.access.drop_resume_codes(interview_id)
        conn.execute("DELETE FROM resume_codes WHERE created_by = ?", (person_id,))
        for interview_id in owned:
            self.plans.erase_interview(interview_id)
            self.inbox.erase_interview(interview_id)
            self.answers.delete_all(interview_id)
            self.ratings.delete_all(interview_id)
            conn.execute("DELETE FROM invites WHERE interview_id = ?", (interview_id,))
            conn.execute("DELETE FROM events WHERE interview_id = ?", (interview_id,))
            conn.execute(
                "UPDATE people SET active_interview = NULL WHERE active_interview = ?",
                (interview_id,),
            )
            conn.execute("DELETE FROM interviews WHERE id = ?", (interview_id,))
        for interview_id in shared:
            self.plans.erase_family(interview_id)
            self.answers.delete_by(interview_id, person_id)
            conn.execute(
                "UPDATE interviews SET respondent_id = NULL, state = 'withdrawn', cursor = NULL, "
                "draft = NULL, revision = revision + 1, updated_at = ? WHERE id = ?",
                (ts(now), interview_id),
            )
        conn.execute("UPDATE invites SET used_by = NULL WHERE used_by = ?", (person_id,))
        # Ratings they wrote on interviews they no longer own (one transferred away).
        self.ratings.delete_by(person_id)
        # A web person's browser sessions (their cookie no longer opens anything).
        conn.execute(
            "DELETE FROM web_sessions WHERE user_id IN "
            "(SELECT external_id FROM people WHERE id = ? AND channel = 'web')",
            (person_id,),
        )
        # A clinician's workspace sessions and sign-in links.
        self.clinic.end_sessions_of(person_id)
        # What the clinician's plan and its check-ins told them on the web.
        self.inbox.erase_person(person_id)
        # Audit details name the questions answered, and skip logic makes that telling:
        # everything the person caused goes, replaced below by content-free tombstones.
        conn.execute("DELETE FROM events WHERE person_id = ?", (person_id,))
        for interview_id in owned + shared:
            self.deliveries.blank_mentioning(interview_id)
        conn.execute("DELETE FROM attempts WHERE person_id = ?", (person_id,))
        conn.execute("DELETE FROM erasure_requests WHERE person_id = ?", (person_id,))
        self.teams.drop_person(person_id)
        # Book clubs: reflections, an opened check-in, a private subscription.
        self.bookclub.erase_person(person_id)
        # What they sent that is still queued, unhandled (a crash, or a message that came
        # right behind the one that erased): their words must not wait there for a replay.
        who = conn.execute(
            "SELECT channel, external_id FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        if who is not None:
            self.incoming.erase_sender(str(who[0]), str(who[1]))
        conn.execute(
            "UPDATE people SET external_id = 'erased:' || id, chat_id = NULL, "
            "active_interview = NULL, role = 'caregiver' WHERE id = ?",
            (person_id,),
        )
        for interview_id in owned + shared:
            self.audit.add("erased", interview_id=interview_id, person_id=person_id, now=now)
        self.audit.add("erased", interview_id=None, person_id=person_id, now=now)
        return Erasure(deleted=owned, withdrawn=shared)


if TYPE_CHECKING:
    from store.contract import UnitOfWork

    def _conforms(uow: SqlUnitOfWork) -> UnitOfWork:
        return uow  # mypy checks the SQL unit of work against the contract here
