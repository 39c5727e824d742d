"""The PostgreSQL store: the run/read/close API of the SQLite one, on a pool of connections."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from store.cipher import CHECK, Cipher, DataKeyError
from store.errors import OpenFailed, translate
from store.pgconn import PgConnection, as_sqlite_error
from store.reseal import needs_reseal, reseal
from store.sqlite import migrations
from store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Held (session level) while migrating, so workers starting together migrate once.
MIGRATION_LOCK = 0x4E4152_7448  # "HEARTH" abbreviated: any constant shared by all workers
#: Row locks taken while a step reads the person and the interview it will change.
ROW_LOCK = " FOR UPDATE"
#: How often one step is run again after losing a race to another worker (see _retryable).
RETRIES = 3

_RETRYABLE = (pg_errors.UniqueViolation, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


@dataclass(frozen=True)
class PgMigration:
    """One numbered SQL file of store/migrations/postgres/."""

    number: int
    name: str
    sql: str


def pg_migrations() -> list[PgMigration]:
    """The PostgreSQL twins of the bundled migrations, in order; the numbers must match."""
    found: list[PgMigration] = []
    for entry in (resources.files("store") / "migrations" / "postgres").iterdir():
        stem = entry.name.removesuffix(".sql")
        if entry.name.endswith(".sql") and stem[:4].isdigit():
            found.append(PgMigration(int(stem[:4]), stem, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    sqlite_names = [m.name for m in migrations()]
    if [m.name for m in found] != sqlite_names:
        raise OpenFailed(
            "store/migrations/postgres/ must mirror store/migrations/ file for file: "
            f"{[m.name for m in found]} != {sqlite_names}"
        )
    return found


def identity_tables(conn: psycopg.Connection[Any]) -> set[str]:
    """Tables whose `id` the database assigns (where an INSERT wants `lastrowid`)."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND column_name = 'id' AND is_identity = 'YES'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def migrate_postgres(conn: psycopg.Connection[Any]) -> int:
    """Apply pending migrations, each in its own transaction; return the schema version.

    The version lives in `hearth_schema` (PostgreSQL has no user_version). A session
    advisory lock makes workers that start at once wait for the first one's migration.
    """
    known = pg_migrations()
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS hearth_schema (number INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(number), 0) FROM hearth_schema").fetchone()
        current = int(row[0]) if row else 0
        if current > len(known):
            raise OpenFailed(
                f"the database has schema version {current}, newer than this Hearth knows "
                f"({len(known)}): upgrade Hearth or use another database"
            )
        for migration in known[current:]:
            try:
                with conn.transaction():
                    conn.execute(migration.sql.encode())  # a script: no parameters
                    conn.execute(
                        "INSERT INTO hearth_schema (number, name) VALUES (%s, %s)",
                        (migration.number, migration.name),
                    )
            except psycopg.Error as exc:
                raise OpenFailed(f"migration postgres/{migration.name} failed: {exc}") from exc
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.autocommit = False
    return len(known)


def _retryable(exc: BaseException) -> bool:
    """A race another worker won: re-running the step sees its committed result.

    UniqueViolation: two workers handled one redelivered update (the deliveries key) or
    met one new person at once; the rerun finds the stored outcome or the person.
    Deadlock / serialization failure: PostgreSQL rolled one of them back to let the
    other go on.
    """
    return isinstance(exc, sqlite3.Error) and isinstance(exc.__cause__, _RETRYABLE)


class PostgresStore:
    """Runs steps against one PostgreSQL database, shared by any number of workers.

    `run(fn)` executes `fn(repository)` on one of `pool_size` threads, each owning one
    psycopg connection, as its OWN transaction: BEGIN, the step, COMMIT. There is no
    group commit here because the server already does it: concurrent COMMITs from
    separate connections wait on the same WAL flush, so N steps in flight share fsyncs
    (synchronous_commit=on keeps every acknowledged step durable). The repositories lock
    the person and interview rows it reads (`FOR UPDATE`), so two workers' steps on one
    interview queue instead of interleaving. `read(fn)` runs in a READ ONLY transaction.
    """

    def __init__(
        self,
        url: str,
        *,
        cipher: Cipher | None = None,
        pool_size: int = 8,
        busy_timeout: float = 5.0,
    ) -> None:
        self.url = url
        #: Seals answer content at rest (HEARTH_DATA_KEY); None stores it as JSON text.
        self.cipher = cipher
        #: Seconds a step waits for another worker's row lock before it fails (lock_timeout).
        self.busy_timeout = busy_timeout
        self.pool_size = pool_size
        self._pool = ThreadPoolExecutor(pool_size, thread_name_prefix="hearth-pg")
        self._idle: queue.SimpleQueue[PgConnection | None] = queue.SimpleQueue()
        self._identity: set[str] = set()
        self._opened: list[PgConnection] = []
        #: Commits and steps, as on the SQLite store (here always one step per commit).
        self.batches = 0
        self.steps = 0
        #: Steps run again after losing a race to another worker.
        self.retries = 0
        self._counting = threading.Lock()

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        data_key: str | None = None,
        pool_size: int = 8,
        busy_timeout: float = 5.0,
    ) -> PostgresStore:
        """Connect, migrate and check the data key; connections are opened on first use."""
        try:
            cipher = Cipher(data_key) if data_key else None
        except DataKeyError as exc:
            raise OpenFailed(f"HEARTH_DATA_KEY: {exc}") from None
        store = cls(url, cipher=cipher, pool_size=pool_size, busy_timeout=busy_timeout)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(store._pool, store._open_first)
        except BaseException:
            await store.close()
            raise
        return store

    def _connect(self) -> PgConnection:
        """A new connection; failing, an sqlite3.OperationalError ("send it again")."""
        try:
            raw = psycopg.connect(self.url, autocommit=False, application_name="hearth")
            # Like SQLite's busy_timeout: a step that cannot get another worker's row lock
            # in time fails (and is asked to be sent again) instead of hanging the worker.
            raw.execute(f"SET lock_timeout = {int(self.busy_timeout * 1000)}")
            raw.commit()
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc
        conn = PgConnection(raw, self._identity)
        self._opened.append(conn)
        return conn

    def _open_first(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            # One line, as every start-up error (psycopg's message spans several).
            reason = " ".join(str(exc).split())
            raise OpenFailed(f"cannot connect to the database: {reason}") from exc
        migrate_postgres(conn.raw)
        self._identity.update(identity_tables(conn.raw))
        conn.identity_tables = frozenset(self._identity)
        conn.raw.commit()
        try:
            self._check_key(conn)
            if self.cipher is not None and needs_reseal(conn):
                # Under the key check's row lock: workers starting together reseal once.
                reseal(conn, self.cipher, postgres=True)
            conn.raw.commit()
        except BaseException:
            conn.raw.rollback()
            raise
        self._idle.put(conn)
        for _ in range(self.pool_size - 1):
            self._idle.put(None)  # a slot: connected when a step first needs it

    def _check_key(self, conn: PgConnection) -> None:
        """Refuse to start with a missing or wrong key; remember the key on first use."""
        row = conn.execute(
            "SELECT value FROM store_meta WHERE name = 'data_key_check' FOR UPDATE"
        ).fetchone()
        if row is None:
            if self.cipher is not None:
                conn.execute(
                    "INSERT INTO store_meta (name, value) VALUES ('data_key_check', ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    (self.cipher.seal(CHECK),),
                )
            return
        if self.cipher is None:
            raise OpenFailed("the database is encrypted: set HEARTH_DATA_KEY to its key")
        try:
            opened = self.cipher.open(str(row[0]))
        except DataKeyError:
            opened = None
        if opened != CHECK:
            raise OpenFailed(
                "HEARTH_DATA_KEY is not the key of the database: use the key it was created with"
            )

    def _take(self) -> PgConnection:
        conn = self._idle.get()
        if conn is None or conn.raw.closed or conn.raw.broken:
            try:
                return self._connect()
            except BaseException:
                self._idle.put(None)  # keep the slot for the next try
                raise
        return conn

    def _replace(self, conn: PgConnection) -> PgConnection:
        """A fresh connection in place of a broken one."""
        if not conn.raw.closed:
            conn.raw.close()
        if conn in self._opened:
            self._opened.remove(conn)
        return self._connect()

    def _give_back(self, conn: PgConnection) -> None:
        # A connection lost mid-step (server restart, network) is replaced on next use.
        self._idle.put(None if conn.raw.closed or conn.raw.broken else conn)

    async def close(self) -> None:
        """Let running steps finish, then close every connection."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._pool.shutdown)
        for conn in self._opened:
            if not conn.raw.closed:
                conn.raw.close()
        self._opened.clear()

    async def run(self, step: Callable[[SqlUnitOfWork], T], *, first: bool = False) -> T:
        """Run one step as its own transaction; return once it is committed and durable
        (`first` changes nothing: each step has its own connection and commit)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._run, step)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def read(self, query: Callable[[SqlUnitOfWork], T]) -> T:
        """Run a read-only query in a READ ONLY transaction (sees the last commits)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._read, query)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def checkpoint(self) -> None:
        """Nothing to fold: PostgreSQL manages its own WAL (kept for API parity)."""

    def _run(self, step: Callable[[SqlUnitOfWork], T]) -> T:
        conn = self._take()
        try:
            for attempt in range(RETRIES + 1):
                repository = SqlUnitOfWork(conn, self.cipher, ROW_LOCK)  # type: ignore[arg-type]
                conn.executed = 0
                try:
                    value = step(repository)
                    conn.raw.commit()
                except BaseException as exc:
                    self._rollback(conn)
                    if attempt < RETRIES and conn.raw.broken and conn.executed == 0:
                        # Lost while idle (server restart, network): nothing of the step
                        # reached the server, so it runs again on a fresh connection.
                        conn = self._replace(conn)
                        continue
                    if attempt < RETRIES and _retryable(exc):
                        with self._counting:
                            self.retries += 1
                        continue
                    if isinstance(exc, psycopg.Error):  # raised by commit() itself
                        raise as_sqlite_error(exc) from exc
                    raise
                with self._counting:
                    self.batches += 1
                    self.steps += 1
                return value
            raise AssertionError("unreachable: the last attempt returns or raises")
        finally:
            self._give_back(conn)

    def _read(self, query: Callable[[SqlUnitOfWork], T]) -> T:
        conn = self._take()
        try:
            for attempt in range(2):
                conn.raw.read_only = True
                try:
                    return query(SqlUnitOfWork(conn, self.cipher))  # type: ignore[arg-type]
                except sqlite3.Error:
                    if attempt == 0 and conn.raw.broken:  # lost while idle: read again
                        conn = self._replace(conn)
                        continue
                    raise
                finally:
                    self._rollback(conn)
                    if not conn.raw.closed:
                        conn.raw.read_only = False
            raise AssertionError("unreachable: the second attempt returns or raises")
        finally:
            self._give_back(conn)

    @staticmethod
    def _rollback(conn: PgConnection) -> None:
        if conn.raw.closed or conn.raw.broken:
            return
        try:
            conn.raw.rollback()
        except psycopg.Error:
            log.warning("rollback failed; the connection will be replaced", exc_info=True)
            conn.raw.close()

