"""Teams' store: organisations, memberships and a single hand-over behave the same on the
fake, a SQLite file and PostgreSQL, and an erasure takes a person out of every team."""

from __future__ import annotations

import pytest

from store.backend import Backend
from store.contract import UnitOfWork
from store.errors import Conflict
from tests.integration.test_clinic_store import NOW


def people(uow: UnitOfWork, *users: str) -> list[int]:
    return [uow.people.get_or_create("console", u, now=NOW).id for u in users]


async def test_orgs_and_members__supervised_by__role_changes_in_place(
        any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> tuple[list[int], int, int]:
        ids = people(uow, "doc", "sup", "col", "far")
        north, south = uow.teams.add_org("North", now=NOW), uow.teams.add_org("South", now=NOW)
        assert north and south and uow.teams.add_org("North", now=NOW) is None
        for org, who, role in ((north, 0, "clinician"), (north, 1, "supervisor"),
                               (north, 2, "clinician"), (south, 3, "supervisor")):
            uow.teams.set_member(org.id, ids[who], role, now=NOW)
        return ids, north.id, south.id

    (doc, sup, col, far), north, _south = await any_store.run(setup)
    found = await any_store.read(lambda uow: (
        [o.name for o in uow.teams.orgs()], uow.teams.supervised_by(sup),
        uow.teams.supervised_by(doc), uow.teams.supervised_by(far),
        [(m.person_id, m.role) for m in uow.teams.members(north)]))
    assert found == (["North", "South"], sorted([doc, sup, col]), [], [far],
                     sorted([(doc, "clinician"), (sup, "supervisor"), (col, "clinician")]))
    await any_store.run(lambda uow: uow.teams.set_member(north, col, "supervisor", now=NOW))
    assert [m.role for m in await any_store.read(lambda uow: uow.teams.memberships_of(col))
            ] == ["supervisor"]
    with pytest.raises(ValueError):
        await any_store.run(lambda uow: uow.teams.set_member(north, col, "owner", now=NOW))
    assert await any_store.run(lambda uow: uow.teams.drop_member(north, sup)) is True
    assert await any_store.run(lambda uow: uow.teams.drop_member(north, sup)) is False
    assert await any_store.read(lambda uow: uow.teams.supervised_by(sup)) == []
    assert await any_store.run(lambda uow: uow.teams.drop_person(col)) == 1
    assert await any_store.read(lambda uow: uow.teams.memberships_of(col)) == []


async def test_transfer_one__owner_revision__self_answering_owner_stops(
        any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> tuple[int, int, str, int]:
        doc, col = people(uow, "doc", "col")
        record = uow.interviews.create(flow_id="sample", flow_version=1, owner_id=doc,
                                       respondent_id=doc, nickname="Sam", state="answering",
                                       now=NOW)
        return doc, col, record.id, record.revision

    _doc, col, interview_id, revision = await any_store.run(setup)
    await any_store.run(lambda uow: uow.interviews.transfer_one(interview_id, col, now=NOW))
    moved = await any_store.read(lambda uow: uow.interviews.get(interview_id))
    assert moved is not None
    assert (moved.owner_id, moved.respondent_id, moved.revision) == (col, None, revision + 1)


async def test_erasure__leaves_every_team(any_store: Backend) -> None:
    def setup(uow: UnitOfWork) -> int:
        [doc] = people(uow, "doc")
        org = uow.teams.add_org("North", now=NOW)
        assert org is not None
        uow.teams.set_member(org.id, doc, "supervisor", now=NOW)
        return doc

    doc = await any_store.run(setup)
    await any_store.run(lambda uow: uow.erase_person(doc, now=NOW))
    assert await any_store.read(lambda uow: uow.teams.memberships_of(doc)) == []


async def test_schema__a_member_role_outside_the_list_refused(
        any_store: Backend) -> None:
    if not hasattr(any_store, "path"):
        pytest.skip("the SQLite file's own CHECK (the fake and the repository check too)")

    def raw(uow: UnitOfWork) -> None:
        [doc] = people(uow, "doc")
        org = uow.teams.add_org("North", now=NOW)
        assert org is not None
        uow.conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO memberships (org_id, person_id, role, since) VALUES (?, ?, 'owner', ?)",
            (org.id, doc, NOW.isoformat()))

    with pytest.raises(Conflict):  # the store turns an integrity error into Conflict
        await any_store.run(raw)
