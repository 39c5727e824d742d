"""What a database leaves on disk: its files' bytes and modes, and a file keyed after the fact."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from store.cipher import new_key
from store.sqlite import Store


def database_bytes(db: Path) -> bytes:
    """Everything on disk for this database: the main file, its WAL and shared memory."""
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@asynccontextmanager
async def keyed_later(
    db: Path, secret: bytes, *also_gone: bytes, key: str | None = None
) -> AsyncIterator[Store]:
    """The closed, unkeyed SQLite file `db`, opened again with a data key (the reseal pass).

    `secret` must be in the file before (so the scan can fail) and, with `also_gone`, out of
    it after, in every file as the opening store leaves it (the -wal included: no checkpoint
    of the test's own).
    """
    assert secret in database_bytes(db), secret
    keyed = await Store.open(db, data_key=key or new_key())
    try:
        after = database_bytes(db)
        for needle in (secret, *also_gone):
            assert needle not in after, needle
        yield keyed
    finally:
        await keyed.close()
