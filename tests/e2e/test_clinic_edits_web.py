"""Withdrawing a rating and removing a plan item in the web workspace (real SQLite file, the
ASGI app through httpx): the owner can, with a reason, audited; a supervisor reads and
cannot; a clinician whose role ended is refused; nothing is kept from a refusal."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx

from bot.features.clinician import end_role
from bot.service import DialogueService
from tests.conftest import Clock
from tests.e2e.conftest import Browser
from tests.e2e.test_clinic_plan_web import post as plan_post
from tests.e2e.test_clinic_plan_web import said
from tests.e2e.test_clinic_ratings_web import band, section, used
from tests.e2e.test_clinic_teams_web import teams
from tests.e2e.test_clinic_web import CSRF, events, make_clinician, signed_in
from tests.integration.clinic import submitted_history
from tests.integration.plan_helpers import submitted_interview

WHY = "Seen again at school: the family answer fits better"


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def token(client: httpx.AsyncClient) -> str:
    found = CSRF.search((await client.get("/clinic/")).text)
    assert found is not None
    return found.group(1)


async def test_ratings_page__withdraw__scores_fall_back__history__audited(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    mia = await submitted_history(service, "dr", "fam")
    client = await signed_in(browser, dr)
    address = f"/clinic/interviews/{mia}/ratings"
    csrf = await token(client)
    await client.post(address, data={"csrf": csrf, "function": "bs_startle", "value": "a_lot",
                                     "reason": "Startles at every door"})
    page = await client.get(address)
    assert used(page, "bs_startle") == "clinician"
    assert 'data-key="ratings.withdraw"' in section(page, "bs_startle")
    assert 'data-key="ratings.withdraw"' not in section(page, "bs_sleep")  # nothing to withdraw

    bad = await client.post(address, data={"csrf": csrf, "function": "bs_startle",
                                           "action": "withdraw", "reason": "  "})
    assert bad.status_code == 400 and 'data-key="ratings.problem.no_reason"' in bad.text
    assert count(db_path, "SELECT count(*) FROM ratings") == 1

    done = await client.post(address, data={"csrf": csrf, "function": "bs_startle",
                                            "action": "withdraw", "reason": WHY})
    assert done.status_code == 303 and "withdrawn=1" in done.headers["location"]
    page = await client.get(done.headers["location"])
    assert 'data-key="ratings.withdrawn"' in page.text
    assert used(page, "bs_startle") == "caregiver"
    assert band(page, "bs_startle", "clinician") == "none"
    assert re.findall(r'data-revision="(\d)" data-value="a_lot" data-status="([a-z]+)"',
                      section(page, "bs_startle")) == [("2", "withdrawn"), ("1", "rated")]
    assert [e[2] for e in events(db_path, "rating_withdrawn")] == ["bs_startle:2"]
    again = await client.post(address, data={"csrf": csrf, "function": "bs_startle",
                                             "action": "withdraw", "reason": WHY})
    assert again.status_code == 400 and 'data-key="ratings.problem.not_rated"' in again.text
    overview = await client.get(f"/clinic/interviews/{mia}")
    assert '<tr data-function="bs_startle" data-used="caregiver">' in overview.text


async def test_plan_page__remove__not_asked__history_shown__audited(
        service: DialogueService, browser: Browser,
        clock: Clock, db_path: Path) -> None:
    doc = await make_clinician(service, "doc")
    interview = await submitted_interview(service, "console", "doc", "fam", clock.now)
    client = await signed_in(browser, doc)
    assert said(await plan_post(client, interview, action="add", n="1")) == "plan.item_added"
    assert said(await plan_post(client, interview, action="add", n="2")) == "plan.item_added"
    page = await client.get(f"/clinic/interviews/{interview}/plan")
    assert page.text.count('data-key="plan.remove"') == 2

    bad = await plan_post(client, interview, action="remove", n="1", words="")
    assert (bad.status_code, said(bad)) == (400, "plan.remove_no_reason")
    bad = await plan_post(client, interview, action="remove", n="7", words=WHY)
    assert (bad.status_code, said(bad)) == (400, "plan.remove_bad_item")
    done = await plan_post(client, interview, action="remove", n="1", words=WHY)
    assert (done.status_code, said(done)) == (200, "plan.item_removed")
    assert 'data-item="1" data-removed="1"' in done.text
    assert 'data-key="plan.change" data-item="1" data-change="removed"' in done.text
    assert WHY.replace("'", "&#39;") in done.text
    assert done.text.count('data-key="plan.remove"') == 1  # the removed one has no form
    assert [e[2] for e in events(db_path, "plan_item_removed")] == ["web"]
    again = await plan_post(client, interview, action="remove", n="1", words=WHY)
    assert said(again) == "plan.remove_bad_item"
    assert count(db_path, "SELECT count(*) FROM plan_item_changes") == 1


async def test_supervisor_and_removed_clinician__cannot_withdraw_or_remove(
        service: DialogueService, browser: Browser,
        clock: Clock, db_path: Path) -> None:
    await teams(service)
    mia = await submitted_history(service, "dr", "fam")
    dr = await signed_in(browser, await make_clinician(service, "dr"))
    ratings, plan = f"/clinic/interviews/{mia}/ratings", f"/clinic/interviews/{mia}/plan"
    await dr.post(ratings, data={"csrf": await token(dr), "function": "bs_startle",
                                 "value": "a_lot", "reason": "Startles at every door"})
    assert said(await plan_post(dr, mia, action="add", n="1")) == "plan.item_added"

    sup = await signed_in(browser, await make_clinician(service, "sup"))
    page = await sup.get(ratings)
    assert page.status_code == 200 and 'data-key="ratings.withdraw"' not in page.text
    page = await sup.get(plan)
    assert page.status_code == 200 and 'data-key="plan.remove"' not in page.text
    csrf = await token(sup)
    refused = await sup.post(ratings, data={"csrf": csrf, "function": "bs_startle",
                                            "action": "withdraw", "reason": WHY})
    assert refused.status_code == 404
    refused = await sup.post(plan, data={"csrf": csrf, "action": "remove", "n": "1",
                                         "words": WHY})
    assert refused.status_code == 404

    # The owner's own role taken back mid-session: refused at the next request.
    csrf = await token(dr)
    await service.store.run(lambda uow: end_role(uow, "console", "dr", to=None, by=None,
                                                 now=service.clock()))
    gone = await dr.post(plan, data={"csrf": csrf, "action": "remove", "n": "1",
                                     "words": WHY})
    assert gone.status_code in (303, 403)
    gone = await dr.post(ratings, data={"csrf": csrf, "function": "bs_startle",
                                        "action": "withdraw", "reason": WHY})
    assert gone.status_code in (303, 403)

    assert count(db_path, "SELECT count(*) FROM ratings WHERE status = 'withdrawn'") == 0
    assert count(db_path, "SELECT count(*) FROM plan_item_changes") == 0
    assert all(e[0] is None for e in events(db_path, "denied"))
