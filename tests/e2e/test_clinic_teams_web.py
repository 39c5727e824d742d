"""Teams in the web workspace: a supervisor's caseload and pages, the printable PDF, and
access that ends at the next request (transfer, leaving the team, the role taken back)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.features.clinician import end_role
from bot.service import DialogueService
from bot.teams import transfer
from store.contract import UnitOfWork
from tests.e2e.conftest import Browser
from tests.e2e.test_clinic_web import (
    add_interview,
    events,
    listed,
    make_clinician,
    person_id,
    signed_in,
)
from tests.integration.clinic import submitted_history
from tests.integration.test_report_pdf import _MISSING


async def teams(service: DialogueService) -> tuple[str, str]:
    """dr and sup in North (sup supervises), far supervises South; an interview each of dr
    and far. Returns (dr's, far's) interview ids."""
    for user in ("dr", "sup", "far"):
        await make_clinician(service, user)

    def step(uow: UnitOfWork) -> None:
        now = service.clock()
        north, south = uow.teams.add_org("North", now=now), uow.teams.add_org("South", now=now)
        assert north and south
        for org, user, role in ((north, "dr", "clinician"), (north, "sup", "supervisor"),
                                (south, "far", "supervisor")):
            person = uow.people.find("console", user)
            assert person is not None
            uow.teams.set_member(org.id, person.id, role, now=now)

    await service.store.run(step)
    ours = await add_interview(service, "dr", "Sam", state="submitted", family="mum",
                               answers={"respondent": ["parent"], "living": ["kin"]})
    theirs = await add_interview(service, "far", "Zed", answers={"living": ["kin"]})
    return ours, theirs


async def test_supervisor__team_caseload_and_pages__not_another_teams(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    ours, theirs = await teams(service)
    client = await signed_in(browser, await make_clinician(service, "sup"))
    assert listed(await client.get("/clinic/")) == [ours]
    # Paged in SQL, and by nickname (sealed, compared in Python): the same team either way.
    assert listed(await client.get("/clinic/?sort=nickname&order=asc")) == [ours]
    assert listed(await client.get("/clinic/?q=sa")) == [ours]
    assert listed(await client.get("/clinic/?q=ze")) == []
    assert listed(await client.get("/clinic/?state=submitted&sort=state")) == [ours]
    assert (await client.get(f"/clinic/interviews/{ours}")).status_code == 200
    foreign = await client.get(f"/clinic/interviews/{theirs}")
    assert foreign.status_code == 404 and "Zed" not in foreign.text
    sup = await person_id(service, "sup")
    assert (ours, sup, "web_interview") in events(db_path, "viewed")

    def leave(uow: UnitOfWork) -> None:
        org, person = uow.teams.org_named("North"), uow.people.find("console", "sup")
        assert org and person and uow.teams.drop_member(org.id, person.id)

    await service.store.run(leave)  # out of the team: the very next request shows nothing
    assert listed(await client.get("/clinic/")) == []
    assert (await client.get(f"/clinic/interviews/{ours}")).status_code == 404


async def test_transfer__former_owner_loses_the_page_at_once(
        service: DialogueService, browser: Browser) -> None:
    ours, _ = await teams(service)
    await make_clinician(service, "col")

    def join_and_move(uow: UnitOfWork) -> None:
        org, col = uow.teams.org_named("North"), uow.people.find("console", "col")
        interview = uow.interviews.get(ours)
        assert org and col and interview
        uow.teams.set_member(org.id, col.id, "clinician", now=service.clock())
        assert transfer(uow, interview, col, by=None, now=service.clock()) is not None

    client = await signed_in(browser, await make_clinician(service, "dr"))
    assert (await client.get(f"/clinic/interviews/{ours}")).status_code == 200
    await service.store.run(join_and_move)
    assert (await client.get(f"/clinic/interviews/{ours}")).status_code == 404
    assert listed(await client.get("/clinic/")) == []


@pytest.mark.skipif(_MISSING is not None, reason=f"WeasyPrint cannot run here: {_MISSING}")
async def test_report_pdf__owner_and_supervisor__others_404__removed_refused(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    ours, _ = await teams(service)
    sup = await signed_in(browser, await make_clinician(service, "sup"))
    far = await signed_in(browser, await make_clinician(service, "far"))
    dr = await signed_in(browser, await make_clinician(service, "dr"))
    page = await dr.get(f"/clinic/interviews/{ours}")
    assert f'href="/clinic/interviews/{ours}/report.pdf"' in page.text
    for client in (dr, sup):
        got = await client.get(f"/clinic/interviews/{ours}/report.pdf?paper=letter")
        assert got.status_code == 200 and got.content.startswith(b"%PDF-")
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["cache-control"] == "no-store"
    refused = await far.get(f"/clinic/interviews/{ours}/report.pdf")
    unknown = await far.get("/clinic/interviews/AAAAAAAAAAAA/report.pdf")
    assert refused.status_code == unknown.status_code == 404
    assert b"%PDF" not in refused.content and "Sam" not in refused.text
    exported = [(i, p) for i, p, d in events(db_path, "exported") if d == "pdf"]
    assert exported == [(ours, await person_id(service, "dr")),
                        (ours, await person_id(service, "sup"))]
    # The supervisor's role taken back: the next request is refused, the session ended.
    await service.store.run(lambda uow: end_role(uow, "console", "sup", to=None, by=None,
                                                 now=service.clock()))
    gone = await sup.get(f"/clinic/interviews/{ours}/report.pdf")
    assert gone.status_code in (303, 403) and b"%PDF" not in gone.content


async def test_supervisor__reads_the_ratings_page__cannot_rate(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    await teams(service)
    mia = await submitted_history(service, "dr", "fam")
    address = f"/clinic/interviews/{mia}/ratings"
    sup = await signed_in(browser, await make_clinician(service, "sup"))
    page = await sup.get(address)
    assert page.status_code == 200
    assert 'data-key="ratings.submit"' not in page.text  # no form to rate with
    token = re.search(r'name="csrf" value="([^"]+)"', (await sup.get("/clinic/")).text)
    assert token is not None
    post = await sup.post(address, data={"csrf": token.group(1), "function": "bs_sleep",
                                         "value": "a_lot", "reason": "seen at a visit"})
    assert post.status_code == 404
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
    dr = await signed_in(browser, await make_clinician(service, "dr"))
    assert 'data-key="ratings.submit"' in (await dr.get(address)).text  # the owner rates


async def test_supervisor__reads_the_plan_page__cannot_change_it(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    await teams(service)
    mia = await submitted_history(service, "dr", "fam")
    address = f"/clinic/interviews/{mia}/plan"
    dr = await signed_in(browser, await make_clinician(service, "dr"))
    page = await dr.get(address)
    assert 'data-key="plan.add_note"' in page.text  # the owner changes it
    sup = await signed_in(browser, await make_clinician(service, "sup"))
    page = await sup.get(address)
    assert page.status_code == 200
    assert "<form" not in page.text.split('id="notes"', 1)[1]  # read only: no form at all
    token = re.search(r'name="csrf" value="([^"]+)"', (await sup.get("/clinic/")).text)
    assert token is not None
    post = await sup.post(address, data={"csrf": token.group(1), "action": "note",
                                         "words": "a supervisor's note"})
    assert post.status_code == 404
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM clinician_notes").fetchone()[0] == 0
