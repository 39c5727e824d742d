"""What every SQL repository shares: the connection, the cipher, the row lock, timestamps."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from store.cipher import Cipher

#: The last moment written and its text: a step stamps every row with the same `now`
#: (four to five times a step), so it is formatted once. One tuple, replaced whole, so
#: the writer and reader threads never see a moment with another's text.
_last: tuple[datetime, str] | None = None


def ts(moment: datetime) -> str:
    """A moment as stored: UTC ISO text with microseconds (compares as text)."""
    global _last
    last = _last
    if last is not None and last[0] is moment:
        return last[1]
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    _last = (moment, text)
    return text


def dt(text: str) -> datetime:
    """A stored moment back as a datetime."""
    return datetime.fromisoformat(text)


@dataclass
class Session:
    """One open transaction: the connection, the cipher and the row lock its repositories use.

    Sealing at this edge keeps the engine and the features working with plain values.
    """

    conn: sqlite3.Connection
    cipher: Cipher | None = None
    #: Appended to the reads of the rows a step changes. The PostgreSQL store sets
    #: " FOR UPDATE" so steps of several workers on one interview queue instead of
    #: interleaving; SQLite's single writer already orders them ("").
    row_lock: str = ""

    #: Set by an erasure: the store folds the WAL into the file right after the commit,
    #: so the erased text does not outlive the step in the -wal file (store/sqlite.py).
    erased: bool = False

    def seal(self, text: str, context: str = "") -> str:
        return self.cipher.seal(text, context) if self.cipher is not None else text

    def open(self, stored: str, context: str = "") -> str:
        return self.cipher.open(stored, context) if self.cipher is not None else stored

    def seal_opt(self, text: str | None, context: str = "") -> str | None:
        return None if text is None else self.seal(text, context)

    def open_opt(self, stored: str | None, context: str = "") -> str | None:
        return None if stored is None else self.open(stored, context)

    def seal_item(self, interview_id: str, item_key: str) -> str:
        """An item key as stored: a repeated section's option sealed (see Cipher.seal_item)."""
        return self.cipher.seal_item(interview_id, item_key) if self.cipher else item_key

    def open_item(self, interview_id: str, stored: str) -> str:
        return self.cipher.open_item(interview_id, stored) if self.cipher else stored

    def value(self, stored: str | None, context: str = "") -> object | None:
        """A stored answer value, opened and decoded (None for a skip)."""
        return json.loads(self.open(stored, context)) if stored is not None else None


class Repository:
    """Base of the SQL repositories: each reads and writes through its session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.conn
