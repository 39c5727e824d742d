"""Data at rest: owner-only files, free text sealed with HEARTH_DATA_KEY, clear key errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.cipher import new_key
from store.errors import StoreError
from store.sqlite import Store
from tests.at_rest import database_bytes, mode
from tests.conftest import Clock, Person

#: A free-text answer no other byte sequence in the database could contain by chance.
SECRET_ANSWER = "Quokka-Marigold"


async def answer_name_and_go_back(service: DialogueService) -> Person:
    """Consent, type the free-text answer, go back so a stored reply quotes it too."""
    ana = Person(service)
    await ana.command("start")
    await ana.type("yes")
    await ana.type(SECRET_ANSWER)
    await ana.command("back")
    assert ana.asked is not None and SECRET_ANSWER in ana.text  # the answer so far
    return ana


async def test_database_files__created__owner_only(
    tmp_path: Path, loose_umask: None, catalog: FlowCatalog, clock: Clock
) -> None:
    db = tmp_path / "new-folder" / "hearth.db"
    store = await Store.open(db)
    try:
        await answer_name_and_go_back(DialogueService(store, catalog, clock=clock))
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
        assert oct(mode(db.parent)) == "0o700"  # a folder we created is not listable by others
    finally:
        await store.close()


async def test_free_text__no_key__readable_in_file_bytes(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    # The control: the scan below would see the answer if it were stored in the clear.
    db = tmp_path / "plain.db"
    store = await Store.open(db)
    try:
        await answer_name_and_go_back(DialogueService(store, catalog, clock=clock))
        assert SECRET_ANSWER.encode() in database_bytes(db)
    finally:
        await store.close()


async def test_free_text__with_key__not_in_file_bytes__reads_back(
    tmp_path: Path, catalog: FlowCatalog, clock: Clock
) -> None:
    db, key = tmp_path / "sealed.db", new_key()
    store = await Store.open(db, data_key=key)
    try:
        await answer_name_and_go_back(DialogueService(store, catalog, clock=clock))
        assert SECRET_ANSWER.encode() not in database_bytes(db)
        await store.checkpoint()
        assert SECRET_ANSWER.encode() not in database_bytes(db)
    finally:
        await store.close()

    # The same key opens it again and the person sees their own answer.
    again = await Store.open(db, data_key=key)
    try:
        ana = Person(DialogueService(again, catalog, clock=clock))
        await ana.command("start")
        assert ana.asked is not None and SECRET_ANSWER in ana.text
    finally:
        await again.close()


async def test_encrypted_database__missing_key__refused(tmp_path: Path) -> None:
    db = tmp_path / "sealed.db"
    await (await Store.open(db, data_key=new_key())).close()
    with pytest.raises(StoreError, match="is encrypted: set HEARTH_DATA_KEY to its key"):
        await Store.open(db)


async def test_encrypted_database__wrong_key__refused(tmp_path: Path) -> None:
    db = tmp_path / "sealed.db"
    await (await Store.open(db, data_key=new_key())).close()
    with pytest.raises(StoreError, match="HEARTH_DATA_KEY is not the key of the database"):
        await Store.open(db, data_key=new_key())


def run_chat(db: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HEARTH_DATA_KEY"}
    env["HEARTH_DATABASE"] = str(db)
    if key is not None:
        env["HEARTH_DATA_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--as", "ana"],
        env=env,
        input="quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "is encrypted: set HEARTH_DATA_KEY to its key"),
        ("wrong", "HEARTH_DATA_KEY: Value error, expected 44 characters"),
        (new_key(), "HEARTH_DATA_KEY is not the key of the database"),
    ],
    ids=["missing", "malformed", "another"],
)
def test_cli__encrypted_database__bad_key__one_line_error(
    tmp_path: Path, key: str | None, expected: str
) -> None:
    db, right = tmp_path / "sealed.db", new_key()
    assert run_chat(db, right).returncode == 0
    result = run_chat(db, key)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert "Traceback" not in result.stderr
    assert right not in result.stderr and (key is None or key not in result.stderr)
