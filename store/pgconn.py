"""A psycopg connection speaking the repositories' sqlite3 dialect: one query catalogue for both."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.adapt import Dumper

#: The repositories write SQLite SQL. These rewrites are the whole difference it needs on
#: PostgreSQL; anything else must be written in SQL both accept (see docs/deploy.md).
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    # SQLite's `IS NOT ?` / `IS ?` compare NULLs as values; PostgreSQL spells it out.
    (re.compile(r"\bIS\s+NOT\s+\?", re.IGNORECASE), "IS DISTINCT FROM ?"),
    (re.compile(r"\bIS\s+\?", re.IGNORECASE), "IS NOT DISTINCT FROM ?"),
    # instr(haystack, needle) is strpos(haystack, needle), same argument order.
    (re.compile(r"\binstr\s*\(", re.IGNORECASE), "strpos("),
)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def _outside_literals(sql: str) -> list[tuple[bool, str]]:
    """Split SQL into (is_code, text) runs so rewrites never touch a quoted string."""
    parts: list[tuple[bool, str]] = []
    for n, chunk in enumerate(re.split(r"('(?:[^']|'')*')", sql)):
        if chunk:
            parts.append((n % 2 == 0, chunk))
    return parts


@lru_cache(maxsize=1024)
def translate(sql: str, with_params: bool = True) -> str:
    """SQLite SQL as the repositories write it -> the same statement for psycopg."""
    out: list[str] = []
    for is_code, text in _outside_literals(sql):
        if is_code:
            for pattern, replacement in _REWRITES:
                text = pattern.sub(replacement, text)
            if with_params:
                # psycopg reads % as a placeholder marker whenever parameters are passed.
                text = text.replace("%", "%%").replace("?", "%s")
        elif with_params:
            text = text.replace("%", "%%")
        out.append(text)
    return "".join(out)


def as_sqlite_error(exc: psycopg.Error) -> sqlite3.Error:
    """The sqlite3 exception of the same DB-API class, carrying the SQLSTATE.

    Everything above the store (the service's "couldn't save, send again", tests that
    expect an IntegrityError) catches the sqlite3 classes; mapping here keeps that code
    back-end neutral. The psycopg error stays attached as __cause__ by the caller.
    """
    kind: type[sqlite3.Error]
    if isinstance(exc, psycopg.IntegrityError):
        kind = sqlite3.IntegrityError
    elif isinstance(exc, psycopg.OperationalError):
        kind = sqlite3.OperationalError
    elif isinstance(exc, psycopg.ProgrammingError):
        kind = sqlite3.ProgrammingError
    elif isinstance(exc, psycopg.DataError):
        kind = sqlite3.DataError
    elif isinstance(exc, psycopg.NotSupportedError):
        kind = sqlite3.NotSupportedError
    elif isinstance(exc, psycopg.InternalError):
        kind = sqlite3.InternalError
    else:
        kind = sqlite3.DatabaseError
    error = kind(str(exc).strip())
    error.sqlite_errorname = exc.sqlstate or "postgres"
    return error


class _BoolAsInt(Dumper):
    """Python bools go into INTEGER columns as 0/1, as sqlite3 stores them."""

    oid = psycopg.adapters.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class PgCursor:
    """The part of sqlite3.Cursor the repositories read: rows, rowcount, lastrowid."""

    def __init__(self, cursor: psycopg.Cursor[Any], lastrowid: int | None = None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        try:
            row: tuple[Any, ...] | None = self._cursor.fetchone()
        except psycopg.ProgrammingError:  # a statement without a result, like sqlite3's
            return None
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        try:
            rows: list[tuple[Any, ...]] = self._cursor.fetchall()
        except psycopg.ProgrammingError:
            return []
        return rows

    def __iter__(self) -> Any:
        return iter(self.fetchall())


class PgConnection:
    """Wraps a psycopg connection with the subset of sqlite3.Connection the repositories use.

    `?` placeholders become `%s`, the few SQLite-only spellings are rewritten (translate),
    an INSERT into a table with an identity `id` gets `RETURNING id` so `lastrowid` works,
    and errors arrive as the sqlite3 classes. The caller owns the transaction.
    """

    def __init__(self, conn: psycopg.Connection[Any], identity_tables: Iterable[str]) -> None:
        self.raw = conn
        self.identity_tables = frozenset(identity_tables)
        #: Statements that succeeded since the store last reset it (at each step's start):
        #: zero means a failure came before anything reached the server.
        self.executed = 0
        conn.adapters.register_dumper(bool, _BoolAsInt)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        """Run one statement; `lastrowid` is set for inserts into identity tables."""
        text = translate(sql, params is not None)
        wants_id = False
        match = _INSERT.match(sql)
        if match and match.group(1).lower() in self.identity_tables and "RETURNING" not in sql:
            text += " RETURNING id"
            wants_id = True
        try:
            cursor = self.raw.execute(text, params)
            lastrowid = None
            if wants_id:
                row = cursor.fetchone()
                lastrowid = int(row[0]) if row else None
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc
        self.executed += 1
        return PgCursor(cursor, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        """Run one statement per parameter row."""
        cursor = self.raw.cursor()
        try:
            cursor.executemany(translate(sql, True), list(seq))
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc
        return PgCursor(cursor)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
