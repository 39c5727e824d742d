"""Teams: the authorization matrix (every role x every clinician command), transfer, removal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.model import Outbound
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from store.contract import UnitOfWork
from store.sqlite import Store
from tests.conftest import Clock, Person, said
from tests.integration.clinic import (
    OPERATOR,
    clinic_service,
    events,
    register,
    rows,
    submitted_history,
)
from tests.integration.test_informants import ask_teacher, fill_minimap

pytestmark = pytest.mark.both_backends

UNKNOWN = "NoSuchId1234"
#: Every clinician command that names an interview, with the words after the id (a
#: transfer to someone who cannot take it: past the access check, nothing moves).
COMMANDS = {"report": "", "open": "", "invite": "", "followup": "", "informant": "teacher",
            "transfer": "console:nobody", "ratings": "",
            # past the access check, an unknown function: nothing is kept
            "rate": "no_such_function 1 seen in clinic",
            "plan": "", "note": "",  # alone they only read
            "schedule": "sometimes"}  # past the access check: words it does not know
#: Who gets past the access check, per command; everyone else gets exactly the reply an
#: unknown id gets, and never sees the interview's id.
ALLOWED = {
    "report": {"owner", "supervisor", "family"},
    "transfer": {"owner", "supervisor"},
    "ratings": {"owner", "supervisor"},  # a supervisor reads the ratings; only the owner rates
    "rate": {"owner"},
    "plan": {"owner", "supervisor"}, "note": {"owner", "supervisor"},  # reading
    "schedule": {"owner"},
    "open": {"owner"}, "invite": {"owner"}, "followup": {"owner"}, "informant": {"owner"},
}
#: Whose /interviews and /export include the interview.
CASELOAD = {"owner", "supervisor"}
ROLES = ("supervisor", "other_supervisor", "colleague", "removed", "family", "informant",
         "stranger", "owner")  # the owner last: its followup and informant change things


def team(*members: tuple[str, str, str]):  # type: ignore[no-untyped-def]
    """A step putting console people in organisations: (org, user, role)."""
    def step(uow: UnitOfWork) -> None:
        now = Clock()()
        for org_name, user, role in members:
            org = uow.teams.org_named(org_name) or uow.teams.add_org(org_name, now=now)
            assert org is not None
            person = uow.people.find("console", user)
            assert person is not None, user
            uow.teams.set_member(org.id, person.id, role, now=now)
    return step


async def world(clinic: DialogueService) -> tuple[dict[str, Person], str]:
    """Two organisations; doc (owner) in North with sup and col; sup2 supervises South;
    gone supervised North until the operator took their role back."""
    people = {role: await register(clinic, user) for role, user in (
        ("owner", "doc"), ("supervisor", "sup"), ("other_supervisor", "sup2"),
        ("colleague", "col"), ("removed", "gone"))}
    await clinic.store.run(team(
        ("North", "doc", "clinician"), ("North", "sup", "supervisor"),
        ("North", "col", "clinician"), ("North", "gone", "supervisor"),
        ("South", "sup2", "supervisor")))
    primary = await submitted_history(clinic, "doc", "fam")
    code, _ = await ask_teacher(people["owner"], primary)
    people["informant"] = Person(clinic, "teach")
    await fill_minimap(people["informant"], code)
    people["family"] = Person(clinic, "fam")
    people["stranger"] = Person(clinic, "stranger")
    operator = Person(clinic, OPERATOR)
    await operator.command("clinician", "remove gone")
    assert operator.keys == ["clinician.clinician_removed"]
    return people, primary


def keys(messages: list[Outbound]) -> list[str]:
    return [m.key for m in messages]


def shows(messages: list[Outbound], interview_id: str) -> bool:
    return any(interview_id in m.text or (m.attachment is not None
                                          and interview_id.encode() in m.attachment.data)
               for m in messages)


async def test_matrix__every_role_every_command(clinic: DialogueService) -> None:
    people, primary = await world(clinic)
    seen: dict[tuple[str, str], bool] = {}
    for role in ROLES:
        who = people[role]
        for command, rest in COMMANDS.items():
            unknown = keys(await who.command(command, f"{UNKNOWN} {rest}".strip()))
            reply = await who.command(command, f"{primary} {rest}".strip())
            allowed = keys(reply) != unknown
            seen[role, command] = allowed
            if not allowed:
                assert not shows(reply, primary), (role, command)
        listing = await who.command("interviews")
        exported = await who.command("export", "csv")
        seen[role, "interviews"] = shows(listing, primary)
        seen[role, "export"] = shows(exported, primary)
    expected = {(role, command): role in ALLOWED[command] for role in ROLES for command in COMMANDS}
    expected |= {(role, view): role in CASELOAD for role in ROLES
                 for view in ("interviews", "export")}
    assert seen == expected


async def test_supervisor__reads_the_full_report__audited_as_theirs(
    clinic: DialogueService,
) -> None:
    people, primary = await world(clinic)
    [report, *_] = await people["supervisor"].command("report", primary)
    assert report.key == "report.clinician"
    sup = (await rows(clinic, "SELECT id FROM people WHERE external_id = 'sup'"))[0][0]
    assert ("exported", sup, "clinician") in await events(clinic, primary)


async def test_left_the_organisation__supervisor_reads_nothing_at_once(
    clinic: DialogueService,
) -> None:
    people, primary = await world(clinic)
    sup = people["supervisor"]
    assert keys(await sup.command("report", primary))[0] == "report.clinician"

    def leave(uow: UnitOfWork) -> None:
        org, person = uow.teams.org_named("North"), uow.people.find("console", "sup")
        assert org and person and uow.teams.drop_member(org.id, person.id)

    await clinic.store.run(leave)
    assert keys(await sup.command("report", primary)) == ["clinician.not_found"]
    assert not shows(await sup.command("interviews"), primary)


async def test_transfer__by_owner__new_owner_notified_audited_old_owner_out(
    clinic: DialogueService,
) -> None:
    people, primary = await world(clinic)
    doc, col = people["owner"], people["colleague"]
    sent = await doc.command("transfer", f"{primary} col")
    assert [(m.key, m.chat_id) for m in sent] == [
        ("teams.transferred", None), ("teams.transfer_received", "col")]
    ids = dict(await rows(clinic, "SELECT external_id, id FROM people WHERE channel='console'"))
    assert ("transferred", ids["doc"], f"{ids['doc']}:{ids['col']}") in await events(
        clinic, primary)
    assert await rows(clinic, "SELECT owner_id FROM interviews WHERE id = ?", primary) == [
        (ids["col"],)]
    # The former owner: the reply an unknown id gets, at once; the new one: the report.
    assert keys(await doc.command("report", primary)) == ["clinician.not_found"]
    assert keys(await doc.command("open", primary)) == ["clinician.not_found"]
    assert keys(await col.command("report", primary))[0] == "report.clinician"


async def test_transfer__by_supervisor__allowed_outside_the_team_refused(
    clinic: DialogueService,
) -> None:
    people, primary = await world(clinic)
    sup = people["supervisor"]
    # sup2 is a clinician, but of another organisation: the interview stays in its team.
    assert keys(await sup.command("transfer", f"{primary} sup2")) == ["teams.transfer_not_possible"]
    assert keys(await people["other_supervisor"].command("transfer", f"{primary} col")) == [
        "clinician.not_found"]
    assert keys(await people["colleague"].command("transfer", f"{primary} col")) == [
        "clinician.not_found"]
    moved = await sup.command("transfer", f"{primary} col")
    # The new owner is told, and so is the former one, whose list it leaves.
    assert sorted((m.key, m.chat_id) for m in moved) == [
        ("teams.transfer_received", "col"), ("teams.transfer_taken", "doc"),
        ("teams.transferred", None)]
    ids = dict(await rows(clinic, "SELECT external_id, id FROM people WHERE channel='console'"))
    assert ("transferred", ids["sup"], f"{ids['doc']}:{ids['col']}") in await events(
        clinic, primary)


@pytest.mark.parametrize("args", ["", "onlyone", "a b c"])
async def test_transfer__bad_words__usage(clinic: DialogueService, args: str) -> None:
    doc = await register(clinic, "doc")
    assert keys(await doc.command("transfer", args)) == ["teams.transfer_usage"]


def test_cli__org_member_list_transfer_remove(
    tmp_path: Path, catalog: FlowCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(tmp_path / "hearth.db")]
    assert cli([*db, "org", "add", "North Clinic"]) == 0
    assert cli([*db, "org", "add", "North Clinic"]) == 2  # one name, one organisation
    assert cli([*db, "org", "member", "North Clinic", "console:doc", "clinician"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "hearth: " + said("operator.org_exists", org="North Clinic"),
        "hearth: " + said("operator.not_clinician_add", who="console:doc")]
    for who in ("doc", "col"):
        assert cli([*db, "clinician", "add", "console", who, "--org", "North Clinic"]) == 0
    assert cli([*db, "clinician", "add", "console", "sup"]) == 0
    assert cli([*db, "org", "member", "North Clinic", "console:sup", "supervisor"]) == 0
    assert cli([*db, "clinician", "add", "console", "boss", "--org", "North Clinic",
                "--supervisor"]) == 0
    assert cli([*db, "clinician", "add", "console", "x", "--org", "Nowhere"]) == 2
    assert cli([*db, "clinician", "add", "console", "y", "--supervisor"]) == 2
    capsys.readouterr()
    assert cli([*db, "org", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("North Clinic")
    assert sorted(line.split() for line in listed[1:]) == sorted(
        [["clinician", "console:doc"], ["clinician", "console:col"],
         ["supervisor", "console:sup"], ["supervisor", "console:boss"]])

    async def interview() -> str:
        store = await Store.open(tmp_path / "hearth.db")
        try:
            return await submitted_history(clinic_service(store, catalog, Clock()), "doc", "fam")
        finally:
            await store.close()

    primary = asyncio.run(interview())
    assert cli([*db, "transfer", primary, "console:nobody"]) == 2
    refused = said("operator.cannot_take", who="console:nobody")
    assert capsys.readouterr().err == f"hearth: {refused}\n"
    assert cli([*db, "transfer", primary, "console:col"]) == 0
    assert capsys.readouterr().out == said("operator.transferred", interview_id=primary,
                                           to="console:col") + "\n"
    # col leaves their only organisation: no longer a clinician, their interview held.
    assert cli([*db, "org", "remove", "North Clinic", "console:col"]) == 0
    assert capsys.readouterr().out == said("operator.left_last_org", who="console:col",
                                           org="North Clinic", count=1) + "\n"

    async def state() -> list[tuple[object, ...]]:
        store = await Store.open(tmp_path / "hearth.db")
        try:
            return await store.read(lambda uow: uow.conn.execute(
                "SELECT p.role, (SELECT count(*) FROM memberships m WHERE m.person_id = p.id), "
                "(SELECT q.external_id FROM interviews i JOIN people q ON q.id = i.owner_id "
                "WHERE i.id = ?) FROM people p WHERE p.external_id = 'col'", (primary,)
            ).fetchall())
        finally:
            await store.close()

    assert asyncio.run(state()) == [("caregiver", 0, "held")]
