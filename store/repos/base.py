"""What every SQL repository shares: the connection, the cipher, the row lock, timestamps."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from store.cipher import Cipher


def ts(moment: datetime) -> str:
    """A moment as stored: UTC ISO text with microseconds (compares as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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

    def seal(self, text: str) -> str:
        return self.cipher.seal(text) if self.cipher is not None else text

    def open(self, stored: str) -> str:
        return self.cipher.open(stored) if self.cipher is not None else stored

    def value(self, stored: str | None) -> object | None:
        """A stored answer value, opened and decoded (None for a skip)."""
        return json.loads(self.open(stored)) if stored is not None else None


class Repository:
    """Base of the SQL repositories: each reads and writes through its session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.conn
