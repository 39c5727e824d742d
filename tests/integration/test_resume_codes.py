"""Resume codes on a real SQLite file: the hand-over, what is stored, and erasure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.features.resume import normalised, resume_hash
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Person, ids, said
from tests.integration.clinic import (
    events,
    invited_family,
    register,
    rows,
)
from tests.unit.test_resume_codes import SHOWN, Someone


def on_disk(db_path: Path) -> bytes:
    """The database file and its -wal/-shm companions, as bytes."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


async def code_of(person: Person | Someone) -> str:
    await person.command("code")
    assert ids(person.last) == ["resume.code_issued"]
    found = SHOWN.search("\n".join(m.text for m in person.last))
    assert found
    return found.group(1)


async def test_invited_family__code__continued_on_the_web__answers_and_trail_intact(
    clinic: DialogueService, db_path: Path
) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, _ = await invited_family(doc)
    await fam.type("Sam")
    await fam.type("2 years 6 months")
    code = await code_of(fam)
    stored = await rows(clinic, "SELECT code_hash, interview_id, used_at FROM resume_codes")
    assert stored == [(resume_hash(normalised(code) or ""), interview_id, None)]

    web = Someone(clinic, "3f9c0a", "web")
    await web.command("continue", code)
    assert web.keys[0] == "resume.continued" and web.asked == "respondent"
    answered = await rows(
        clinic, "SELECT item_key FROM current_answers WHERE interview_id = ?", interview_id
    )
    assert sorted(r[0] for r in answered) == ["child_age", "child_name"]
    respondent = await rows(
        clinic, "SELECT people.channel, people.external_id, interviews.owner_id FROM interviews "
        "JOIN people ON people.id = interviews.respondent_id WHERE interviews.id = ?",
        interview_id,
    )
    doc_row = await rows(clinic, "SELECT id FROM people WHERE external_id = 'doc'")
    assert respondent == [("web", "3f9c0a", doc_row[0][0])]
    fam_row = await rows(clinic, "SELECT active_interview FROM people WHERE external_id = 'fam'")
    assert fam_row == [(None,)]
    trail = await events(clinic, interview_id)
    assert [kind for kind, _, _ in trail].count("continued") == 1
    assert ("resume_code" in [kind for kind, _, _ in trail])
    # The code is in no table, no stored reply, nor the file itself.
    assert await rows(clinic, "SELECT used_at IS NOT NULL FROM resume_codes") == [(1,)]
    await clinic.store.checkpoint()
    raw = await asyncio.to_thread(on_disk, db_path)
    assert (normalised(code) or "").encode() not in raw and code.encode() not in raw
    assert resume_hash(normalised(code) or "").encode() in raw  # the hash is what is kept


async def test_erasure__the_codes_leave_the_database_file(
    clinic: DialogueService, db_path: Path
) -> None:
    ana = Person(clinic, "ana")
    await ana.command("start")
    await ana.tap_key("agree")
    await ana.type("Sam")
    code = await code_of(ana)
    digest = resume_hash(normalised(code) or "")
    assert await rows(clinic, "SELECT count(*) FROM resume_codes") == [(1,)]
    await ana.command("forget")
    await ana.tap_key("button_erase")
    assert ids(ana) == ["clinician.erased"]
    assert await rows(clinic, "SELECT count(*) FROM resume_codes") == [(0,)]
    # No checkpoint of the test's own: the store truncates the WAL after an erasure.
    raw = await asyncio.to_thread(on_disk, db_path)
    assert digest.encode() not in raw


async def test_erasure__after_a_hand_over__the_newcomers_codes_go_too(
    clinic: DialogueService,
) -> None:
    doc = await register(clinic, "doc")
    fam, interview_id, _ = await invited_family(doc)
    web = Someone(clinic, "77aa", "web")
    await web.command("continue", await code_of(fam))
    await code_of(web)  # a code for the web person's next device
    await web.command("forget")
    await web.tap_key("button_erase")
    assert web.keys == ["clinician.erased"]
    assert await rows(clinic, "SELECT count(*) FROM resume_codes") == [(0,)]
    state = await rows(clinic, "SELECT state FROM interviews WHERE id = ?", interview_id)
    assert state == [("withdrawn",)]


# -- `hearth invite` ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "flags", "printed"),
    [
        ({}, [], {"telegram"}),
        ({"HEARTH_WEB_URL": "https://h.example.org/"}, [], {"web", "telegram"}),
        ({"HEARTH_WEB_URL": "https://h.example.org"}, ["--channel", "web"], {"web"}),
        ({}, ["--channel", "web"], {"web"}),
    ],
)
def test_cli_invite__prints_the_links__their_code_claims_the_interview(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], flags: list[str], printed: set[str],
) -> None:
    from bot.cli import main as cli

    monkeypatch.setenv("HEARTH_BOT_USERNAME", "hearth_test_bot")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "hearth.db"
    assert cli(["--db", str(db), "clinician", "add", "telegram", "42"]) == 0
    capsys.readouterr()
    assert cli(["--db", str(db), "invite", "42", "Sam", *flags]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(": ", 1) for line in out.splitlines()[1:])
    assert set(lines) == printed
    base = env.get("HEARTH_WEB_URL", "http://127.0.0.1:8080").rstrip("/")
    codes = set()
    if "web" in lines:
        assert lines["web"].startswith(f"{base}/start/")
        codes.add(lines["web"].rsplit("/", 1)[1])
    if "telegram" in lines:
        assert lines["telegram"].startswith("https://t.me/hearth_test_bot?start=")
        codes.add(lines["telegram"].rsplit("=", 1)[1])
    (code,) = codes

    async def claim() -> list[str]:
        store = await Store.open(db)
        try:
            fam = Person(DialogueService(store, catalog), "fam")
            await fam.command("start", code)
            return fam.keys
        finally:
            await store.close()

    assert asyncio.run(claim())[0] == "clinician.invite_claimed"


@pytest.mark.parametrize("who", ["43", "person:9", "console:nobody", "a b"])
def test_cli_invite__not_a_clinician__clean_error_nothing_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    from bot.cli import main as cli

    db = tmp_path / "hearth.db"
    assert cli(["--db", str(db), "clinician", "add", "telegram", "42"]) == 0
    capsys.readouterr()
    assert cli(["--db", str(db), "invite", who, "Sam"]) == 2
    refused = (said("operator.invite_usage", got=who) if " " in who
               else said("operator.invite_not_clinician", who=who))
    assert capsys.readouterr().err == f"hearth: {refused}\n"


@pytest.mark.both_backends
async def test_hand_over__single_use_and_erasure__on_either_store(clinic: DialogueService) -> None:
    ana = Person(clinic, "ana")
    await ana.command("start")
    await ana.tap_key("agree")
    await ana.type("Sam")
    code = await code_of(ana)
    web = Someone(clinic, "ab12", "web")
    await web.command("continue", code)
    assert web.keys[0] == "resume.continued" and web.asked == "child_age"
    again = Someone(clinic, "cd34", "web")
    await again.command("continue", code)
    assert again.keys == ["resume.continue_used"]
    await code_of(web)
    await web.command("forget")
    await web.tap_key("button_erase")
    assert web.keys == ["clinician.erased"]
    assert await rows(clinic, "SELECT count(*) FROM resume_codes") == [(0,)]
    assert await rows(clinic, "SELECT count(*) FROM interviews") == [(0,)]  # moved whole
