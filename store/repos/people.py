"""People: who talks to Hearth on which channel, their role, language and chat."""

from __future__ import annotations

from datetime import datetime

from store.records import Arrival, Person
from store.repos.base import Repository, dt, ts

_COLUMNS = "id, channel, external_id, role, locale, active_interview"


class People(Repository):
    """The `people` table."""

    def get_or_create(
        self, channel: str, external_id: str, *, now: datetime, locale: str = "en"
    ) -> Person:
        """The person with this channel id, created on first contact."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM people "
            f"WHERE channel = ? AND external_id = ?{self.session.row_lock}",
            (channel, external_id),
        ).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO people (channel, external_id, locale, created_at) VALUES (?, ?, ?, ?)",
                (channel, external_id, locale, ts(now)),
            )
            assert cur.lastrowid is not None
            return Person(cur.lastrowid, channel, external_id, "caregiver", locale, None)
        return Person(*row)

    def arrive(
        self, channel: str, external_id: str, chat_id: str | None, *, now: datetime,
        locale: str = "en",
    ) -> Arrival:
        """`get_or_create`, `remember_chat` (when `chat_id`), and the low-exposure option,
        a pending erasure and an opened book-club check-in, in one read for a known person.

        Every private step needed these as four to five statements (~25 us each here).
        """
        row = self.conn.execute(
            f"SELECT {_COLUMNS}, low_exposure, chat_id, "
            "(SELECT requested_at FROM erasure_requests e WHERE e.person_id = p.id), "
            "(SELECT series_key FROM bookclub_pending b WHERE b.person_id = p.id), "
            "(SELECT week FROM bookclub_pending b WHERE b.person_id = p.id), "
            "(SELECT asked_at FROM bookclub_pending b WHERE b.person_id = p.id) "
            f"FROM people p WHERE channel = ? AND external_id = ?{self.session.row_lock}",
            (channel, external_id),
        ).fetchone()
        if row is None:
            person = self.get_or_create(channel, external_id, now=now, locale=locale)
            if chat_id is not None:
                self.remember_chat(person.id, chat_id)
            return Arrival(person)
        person = Person(*row[:6])
        low, known_chat, erasure, series, week, asked = row[6:]
        if chat_id is not None and known_chat != chat_id:
            self.remember_chat(person.id, chat_id)
        pending = None if series is None else (str(series), int(week), dt(str(asked)))
        return Arrival(person, bool(low), None if erasure is None else dt(erasure), pending)

    def find(self, channel: str, external_id: str) -> Person | None:
        """The person with this channel id, or None (never creates)."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM people WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        ).fetchone()
        return None if row is None else Person(*row)

    def by_id(self, person_id: int) -> Person | None:
        """The person with this row id, or None."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        return None if row is None else Person(*row)

    def save(self, person: Person) -> None:
        """Write back a person's role, locale and active interview."""
        self.conn.execute(
            "UPDATE people SET role = ?, locale = ?, active_interview = ? WHERE id = ?",
            (person.role, person.locale, person.active_interview, person.id),
        )

    def set_role(self, person_id: int, role: str) -> None:
        """Make a person a 'caregiver', 'clinician' or 'admin' (the schema checks the name)."""
        self.conn.execute("UPDATE people SET role = ? WHERE id = ?", (role, person_id))

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

    def remember_chat(self, person_id: int, chat_id: str) -> None:
        """Record the private chat a person last wrote from (where notifications go)."""
        self.conn.execute(
            "UPDATE people SET chat_id = ? WHERE id = ? AND chat_id IS NOT ?",
            (chat_id, person_id, chat_id),
        )

    def chat_of(self, person_id: int) -> str | None:
        """The chat to reach a person in: the one they last wrote from, else their id.

        The fallback holds for Telegram private chats and the console (chat id == user id)
        and lets an operator-registered clinician be notified before their first message.
        """
        row = self.conn.execute(
            "SELECT coalesce(chat_id, external_id) FROM people WHERE id = ?", (person_id,)
        ).fetchone()
        return None if row is None else str(row[0])
