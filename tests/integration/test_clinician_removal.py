"""A clinician's role ends cleanly: no access, no notification, interviews handed on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.features.clinician import assign_held
from bot.model import Kind, Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock, Person, said
from tests.integration.clinic import (
    OPERATOR,
    clinic_service,
    events,
    invited_family,
    new_interview,
    person_row,
    register,
    rows,
)

pytestmark = pytest.mark.both_backends

#: Every command a clinician can name an interview in.
COMMANDS = ("open", "report", "invite", "followup", "export")


def keys(messages: list[Outbound]) -> list[str]:
    return [m.key for m in messages]


async def caseload(clinic: DialogueService) -> tuple[Person, Person, str, str]:
    """Dr Lee with two interviews: one a family claimed and paused, one they are answering."""
    doc = await register(clinic, "doc")
    fam, claimed, _ = await invited_family(doc)
    await fam.type("Sam")
    await fam.command("pause")
    _, own = await new_interview(doc, "Ada")
    await doc.tap_key("button_start_now")
    await doc.tap_key("agree")
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None and doc_row[2] == own  # their active interview
    return doc, fam, claimed, own


async def test_removed__every_command_on_former_interviews__same_reply_as_a_strangers_id(
    clinic: DialogueService,
) -> None:
    doc, _, claimed, own = await caseload(clinic)
    operator = Person(clinic, OPERATOR)
    await operator.command("clinician", "remove doc")
    assert keys(operator.last) == ["clinician.clinician_removed"]

    for command in COMMANDS:
        unknown = keys(await doc.command(command, "NoSuchId1234"))
        for former in (claimed, own):
            assert keys(await doc.command(command, former)) == unknown, command
            assert former not in doc.text
    await doc.command("report", claimed)
    assert keys(doc.last) == ["clinician.not_found"]  # a caregiver's /report <id>: not theirs
    await doc.send(Kind.CHOICE, f"acc:open:{claimed}")
    assert keys(doc.last) == keys(await doc.send(Kind.CHOICE, "acc:open:NoSuchId1234"))
    await doc.command("interviews")
    assert keys(doc.last) == ["clinician.not_clinician"]


async def test_removed__active_interview_released__typing_answers_nothing(
    clinic: DialogueService,
) -> None:
    doc, _, _, own = await caseload(clinic)
    before = await rows(clinic, "SELECT count(*) FROM answers WHERE interview_id = ?", own)
    await Person(clinic, OPERATOR).command("clinician", "remove doc")
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None and doc_row[1:] == ("caregiver", None)
    await doc.type("Ada")
    assert await rows(clinic, "SELECT count(*) FROM answers WHERE interview_id = ?", own) == before


async def test_removed_and_held__family_submits__nobody_notified__operator_holds_it(
    clinic: DialogueService,
) -> None:
    _doc, fam, claimed, own = await caseload(clinic)
    await Person(clinic, OPERATOR).command("clinician", "remove doc")
    trail = await events(clinic, claimed)
    assert trail[-1][0] == "reassigned" and trail[-1][2].endswith(":held")

    await fam.command("start")
    await fam.tap_key("continue")
    await answer_sample_rest(fam)
    assert not any(m.chat_id is not None for m in fam.last)  # no word to anyone's chat

    doc2 = await register(clinic, "doc2")
    moved = await clinic.store.run(
        lambda uow: assign_held(uow, "console", "doc2", by=None, now=clinic.clock())
    )
    assert sorted(moved or []) == sorted([claimed, own])
    await doc2.command("report", claimed)
    assert keys(doc2.last)[0].startswith("report.")


async def answer_sample_rest(fam: Person) -> None:
    """From the second question of the sample flow (the name is answered) to the submit."""
    await fam.type("2 years 6 months")
    await fam.choose("foster")
    await fam.choose("3")
    await fam.type("2")
    await fam.choose("sleep")
    await fam.tap_key("done")
    await fam.type("1, 2")
    await fam.type("3")
    await fam.type("Wakes at night")
    await fam.choose("no")
    await fam.tap_key("submit")
    await fam.tap_key("send_now")
    assert any(m.key == "replies.submitted" for m in fam.last), fam.text


async def test_removed_to_colleague__colleague_owns_and_is_notified_audited(
    clinic: DialogueService,
) -> None:
    _doc, fam, claimed, own = await caseload(clinic)
    doc2 = await register(clinic, "doc2")
    operator = Person(clinic, OPERATOR)
    await operator.command("clinician", "remove doc --to doc2")
    assert keys(operator.last) == ["clinician.clinician_removed"]
    doc2_row = await person_row(clinic, "doc2")
    doc_row = await person_row(clinic, "doc")
    assert doc2_row is not None and doc_row is not None
    owners = await rows(clinic, "SELECT id, owner_id FROM interviews ORDER BY id")
    assert owners == sorted([(claimed, doc2_row[0]), (own, doc2_row[0])])
    assert ("reassigned", (await person_row(clinic, OPERATOR) or [None])[0],
            f"{doc_row[0]}:{doc2_row[0]}") in await events(clinic, claimed)

    await fam.command("start")
    await fam.tap_key("continue")
    await answer_sample_rest(fam)
    assert [m.key for m in fam.last if m.chat_id == "doc2"] == ["clinician.family_submitted"]
    assert not [m for m in fam.last if m.chat_id == "doc"]
    await doc2.command("interviews")
    assert claimed in doc2.text and own in doc2.text


async def test_remove_to_someone_not_a_clinician__nothing_changes(
    clinic: DialogueService,
) -> None:
    doc, _, claimed, _ = await caseload(clinic)
    Person(clinic, "fam2")
    operator = Person(clinic, OPERATOR)
    await operator.command("clinician", "remove doc --to fam")
    assert keys(operator.last) == ["clinician.clinician_heir_unknown"]
    await operator.command("clinician", "remove doc --to doc")
    assert keys(operator.last) == ["clinician.clinician_heir_unknown"]
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None and doc_row[1] == "clinician"
    await doc.command("report", claimed)
    assert keys(doc.last)[0].startswith("report.")


async def test_colleagues_link__clinician_not_told_its_id(clinic: DialogueService) -> None:
    doc, doc2 = await register(clinic, "doc"), await register(clinic, "doc2")
    code, interview_id = await new_interview(doc, "Sam")
    await doc2.command("start", code)
    assert keys(doc2.last) == ["clinician.invite_clinician"]
    assert interview_id not in doc2.text
    await doc.command("start", code)  # their own link: the id tells them what to /open
    assert interview_id in doc.text


def test_cli_clinician_remove__to_colleague__interviews_move(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hearth.db"
    for who in ("doc", "doc2"):
        assert cli(["--db", str(db), "clinician", "add", "console", who]) == 0

    async def new() -> str:
        store = await Store.open(db)
        try:
            _, interview_id = await new_interview(
                Person(clinic_service(store, catalog, Clock()), "doc"), "Sam"
            )
            return interview_id
        finally:
            await store.close()

    interview_id = asyncio.run(new())
    assert cli(["--db", str(db), "clinician", "remove", "console", "doc", "--to", "x:nobody"]) == 2
    assert capsys.readouterr().err == f"hearth: {said('operator.not_clinician', who='x:nobody')}\n"
    assert cli(["--db", str(db), "clinician", "remove", "console", "doc", "--to",
                "console:doc2"]) == 0
    assert capsys.readouterr().out == said("operator.clinician_removed", who="console:doc",
                                           count=1, to="console:doc2", database=str(db)) + "\n"

    async def owner() -> list[tuple[object, ...]]:
        store = await Store.open(db)
        try:
            return await store.read(lambda uow: uow.conn.execute(
                "SELECT p.external_id FROM interviews i JOIN people p ON p.id = i.owner_id "
                "WHERE i.id = ?", (interview_id,)).fetchall())
        finally:
            await store.close()

    assert asyncio.run(owner()) == [("doc2",)]


async def test_role_taken_back_by_an_older_version__owner_no_longer_notified(
    clinic: DialogueService,
) -> None:
    """Databases where `remove` left the interviews with their clinician: no word to them."""
    _doc, fam, _, _ = await caseload(clinic)
    doc_row = await person_row(clinic, "doc")
    assert doc_row is not None
    await clinic.store.run(lambda uow: uow.people.set_role(doc_row[0], "caregiver"))
    await fam.command("start")
    await fam.tap_key("continue")
    await answer_sample_rest(fam)
    assert [m for m in fam.last if m.chat_id == "doc"] == []
