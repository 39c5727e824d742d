"""The SQLite store: migrations, one writer thread with group commit, a reader thread."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

from store.cipher import CHECK, Cipher, DataKeyError
from store.errors import OpenFailed, translate
from store.reseal import needs_reseal, reseal
from store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)
Synchronous = Literal["FULL", "NORMAL", "EXTRA"]

#: Most steps committed together by one fsync. Bounded so one batch never holds the
#: writer long; under light load every batch is a single step.
MAX_BATCH = 128


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    number: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The bundled migrations, in order."""
    found: list[Migration] = []
    for entry in (resources.files("store") / "migrations").iterdir():
        stem = entry.name.removesuffix(".sql")
        if entry.name.endswith(".sql") and stem[:4].isdigit():
            found.append(Migration(int(stem[:4]), stem, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise OpenFailed(f"migrations are not numbered 1..n without gaps: {numbers}")
    return found


def _connect(
    path: Path, synchronous: Synchronous, *, readonly: bool = False, busy_timeout: float = 5.0
) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Erased answers are overwritten with zeros, not left in free pages.
    conn.execute("PRAGMA secure_delete = ON")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the schema version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    known = migrations()
    if current > len(known):
        raise OpenFailed(
            f"the database has schema version {current}, newer than this Hearth knows "
            f"({len(known)}): upgrade Hearth or use another database file"
        )
    for migration in known[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.number}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise OpenFailed(f"migration {migration.name} failed: {exc}") from exc
    return len(known)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (complete_statement respects triggers' bodies)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


class Store:
    """Runs steps against one SQLite file.

    `run(fn)` executes `fn(repository)` on the single writer thread inside its own SAVEPOINT,
    batched with whatever other steps queued meanwhile into ONE transaction and ONE fsync
    (group commit). A step that raises is rolled back to its savepoint alone; the others
    commit. The awaiting caller resumes only after the commit is durable, so nothing is
    acknowledged before it is on disk. `read(fn)` runs on a separate read-only connection,
    which under WAL sees the last committed state and never blocks the writer.
    """

    def __init__(
        self,
        path: Path,
        synchronous: Synchronous = "FULL",
        *,
        cipher: Cipher | None = None,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        #: Seals answer content at rest (HEARTH_DATA_KEY); None stores it as JSON text.
        self.cipher = cipher
        #: Seconds a step waits for another process's write lock before it fails.
        self.busy_timeout = busy_timeout
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="hearth-writer")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="hearth-reader")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._pending: list[tuple[Callable[[SqlUnitOfWork], object], asyncio.Future[object]]] = []
        self._first: list[tuple[Callable[[SqlUnitOfWork], object], asyncio.Future[object]]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None
        self.batches = 0
        self.steps = 0
        #: WAL truncations after erasures (tests and the operator's figures).
        self.folds = 0

    @classmethod
    async def open(
        cls,
        path: str | Path,
        synchronous: Synchronous = "FULL",
        *,
        data_key: str | None = None,
        busy_timeout: float = 5.0,
    ) -> Store:
        """Open (creating, owner-readable only), migrate, and check the data key."""
        try:
            cipher = Cipher(data_key) if data_key else None
        except DataKeyError as exc:
            raise OpenFailed(f"HEARTH_DATA_KEY: {exc}") from None
        store = cls(Path(path), synchronous, cipher=cipher, busy_timeout=busy_timeout)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(store._writer_pool, store._open_writer)
            await loop.run_in_executor(store._reader_pool, store._open_reader)
        except BaseException:
            await store.close()  # a refused start leaves no thread or handle behind
            raise
        return store

    def _open_writer(self) -> None:
        # The file and its -wal and -shm companions hold families' stories: readable by
        # their owner only, from birth, whatever umask the operator's shell has.
        umask = os.umask(0o077)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._writer = _connect(self.path, self.synchronous, busy_timeout=self.busy_timeout)
            migrate(self._writer)
            self._check_key(self._writer)
            self._reseal(self._writer)
        except sqlite3.Error as exc:
            raise OpenFailed(f"cannot open the database {self.path}: {exc}") from exc
        except OSError as exc:
            raise OpenFailed(f"cannot create the database {self.path}: {exc.strerror}") from exc
        finally:
            os.umask(umask)

    def _check_key(self, conn: sqlite3.Connection) -> None:
        """Refuse to start with a missing or wrong key; remember the key on first use."""
        row = conn.execute("SELECT value FROM store_meta WHERE name = 'data_key_check'").fetchone()
        if row is None:
            if self.cipher is not None:
                conn.execute(
                    "INSERT INTO store_meta (name, value) VALUES ('data_key_check', ?)",
                    (self.cipher.seal(CHECK),),
                )
            return
        if self.cipher is None:
            raise OpenFailed(
                f"the database {self.path} is encrypted: set HEARTH_DATA_KEY to its key"
            )
        try:
            opened = self.cipher.open(str(row[0]))
        except DataKeyError:
            opened = None
        if opened != CHECK:
            raise OpenFailed(
                f"HEARTH_DATA_KEY is not the key of the database {self.path}: "
                "use the key it was created with"
            )

    def _reseal(self, conn: sqlite3.Connection) -> None:
        """Seal what was written in clear before this key or this version (once)."""
        if self.cipher is None or not needs_reseal(conn):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            reseal(conn, self.cipher, postgres=False)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # The clear values are overwritten in the pages (secure_delete); fold the WAL so
        # no earlier page image of them stays behind in it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _open_reader(self) -> None:
        self._reader = _connect(
            self.path, self.synchronous, readonly=True, busy_timeout=self.busy_timeout
        )

    async def close(self) -> None:
        """Finish queued steps, then close both connections."""
        if self._flush_task is not None:
            await self._flush_task
        loop = asyncio.get_running_loop()
        if self._writer is not None:
            await loop.run_in_executor(self._writer_pool, self._writer.close)
        if self._reader is not None:
            await loop.run_in_executor(self._reader_pool, self._reader.close)
        self._writer_pool.shutdown()
        self._reader_pool.shutdown()

    async def run(self, step: Callable[[SqlUnitOfWork], T], *, first: bool = False) -> T:
        """Run one step in its own savepoint; return once it is committed and durable.

        `first`: the step goes in the next batch, committed with other `first` steps only,
        not behind the steps queued before it (the Telegram poller's queue: every person's
        next update waits for that commit, issue 18).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        (self._first if first else self._pending).append((step, future))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush())
        return await future  # type: ignore[return-value]

    async def read(self, query: Callable[[SqlUnitOfWork], T]) -> T:
        """Run a read-only query on the reader connection."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._reader_pool, self._read, query)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    def _read(self, query: Callable[[SqlUnitOfWork], T]) -> T:
        assert self._reader is not None
        self._reader.execute("BEGIN")
        try:
            return query(SqlUnitOfWork(self._reader, self.cipher))
        finally:
            self._reader.execute("COMMIT")

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._first or self._pending:
                if self._first:
                    batch, self._first = self._first[:MAX_BATCH], self._first[MAX_BATCH:]
                else:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    outcomes = await loop.run_in_executor(
                        self._writer_pool, self._run_batch, [step for step, _ in batch]
                    )
                except BaseException as exc:  # the commit itself failed: nothing was saved
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.cancelled():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(translate(value))  # type: ignore[arg-type]
        finally:
            self._flushing = False

    def _run_batch(
        self, steps: list[Callable[[SqlUnitOfWork], object]]
    ) -> list[tuple[bool, object]]:
        conn = self._writer
        assert conn is not None
        repository = SqlUnitOfWork(conn, self.cipher)
        results: list[tuple[bool, object]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in steps:
                conn.execute("SAVEPOINT step")
                try:
                    value = step(repository)
                except Exception as exc:
                    if not conn.in_transaction:
                        # SQLite gave up the whole transaction (disk full, I/O error): the
                        # steps before this one are gone too, so the batch fails as a whole
                        # with the real cause, and every caller hears nothing was saved.
                        raise
                    conn.execute("ROLLBACK TO step")
                    conn.execute("RELEASE step")
                    results.append((False, exc))
                else:
                    conn.execute("RELEASE step")
                    results.append((True, value))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if repository.session.erased:
            # Before any caller hears "erased": secure_delete zeroed the content in the
            # pages, but the WAL still holds their earlier images until a checkpoint.
            self._fold_wal(conn)
        self.batches += 1
        self.steps += len(steps)
        return results

    def _fold_wal(self, conn: sqlite3.Connection) -> None:
        """Checkpoint and truncate the WAL; a reader in the middle of a query can make
        SQLite skip the truncation, so try a few times before leaving it to the next."""
        for _ in range(5):
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                self.folds += 1
                return
        log.warning("the WAL could not be truncated after an erasure: a reader held it")

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (used before byte-level checks and backups)."""
        loop = asyncio.get_running_loop()
        assert self._writer is not None
        writer = self._writer
        await loop.run_in_executor(
            self._writer_pool, lambda: writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        )
