"""The workspace's ratings page end to end: a signed-in clinician rates functions in the
browser (real SQLite file, the ASGI app through httpx); others cannot; CSRF; audit."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx

from bot.service import DialogueService
from tests.e2e.conftest import Browser
from tests.e2e.test_clinic_web import CSRF, events, make_clinician, signed_in
from tests.integration.clinic import submitted_history

REASON = "Jumps at every door & <slams>, seen at two home visits"


def section(page: httpx.Response, function: str) -> str:
    found = re.search(rf'<section class="rating" id="f-{function}" (.*?)</section>', page.text,
                      re.S)
    assert found, f"no section for {function}"
    return found.group(1)


def used(page: httpx.Response, function: str) -> str:
    found = re.search(r'data-used="([a-z]+)"', section(page, function))
    assert found
    return found.group(1)


def band(page: httpx.Response, function: str, view: str) -> str:
    found = re.search(rf'data-view="{view}" data-band="([a-z_]+)"', section(page, function))
    assert found
    return found.group(1)


def stored(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT interview_id, function_key, revision FROM ratings ORDER BY id")]


async def test_ratings_page__rate_twice__history__report_uses_it(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    mia = await submitted_history(service, "dr", "fam")
    client = await signed_in(browser, dr)
    address = f"/clinic/interviews/{mia}/ratings"

    page = await client.get(address)
    assert page.status_code == 200
    assert len(re.findall(r'<section class="rating" ', page.text)) == 30
    assert used(page, "bs_sleep") == "caregiver" and band(page, "bs_sleep", "caregiver") == (
        "moderate")
    assert used(page, "bs_startle") == "caregiver"
    assert f'href="{address}" data-key="tab.ratings" aria-current="page"' in page.text
    token = CSRF.search(page.text)
    assert token is not None

    for value, reason in (("some", "Flinches at loud noises"), ("a_lot", REASON)):
        done = await client.post(address, data={"csrf": token.group(1), "function": "bs_startle",
                                                "value": value, "reason": reason})
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"{address}?saved=bs_startle")
    assert stored(db_path) == [(mia, "bs_startle", 1), (mia, "bs_startle", 2)]

    page = await client.get(f"{address}?saved=bs_startle")
    assert 'data-key="ratings.saved" data-function="bs_startle"' in page.text
    assert used(page, "bs_startle") == "clinician"
    assert band(page, "bs_startle", "clinician") == "a_lot"
    assert re.findall(r'data-revision="(\d)"', section(page, "bs_startle")) == ["2", "1"]
    assert "&amp; &lt;slams&gt;" in page.text and "<slams>" not in page.text  # escaped once
    assert [e[2] for e in events(db_path, "rated")] == ["bs_startle:1", "bs_startle:2"]
    assert (mia, "web_ratings") in [(e[0], e[2]) for e in events(db_path, "viewed")]

    # The interview page's report: the scores use the clinician's rating for startle.
    overview = await client.get(f"/clinic/interviews/{mia}")
    assert 'id="ratings" data-rated="1"' in overview.text
    assert '<tr data-function="bs_startle" data-used="clinician">' in overview.text


async def test_ratings_page__problems_csrf_and_strangers__nothing_kept(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    other = await make_clinician(service, "other")
    mia = await submitted_history(service, "dr", "fam")
    client = await signed_in(browser, dr)
    address = f"/clinic/interviews/{mia}/ratings"
    token = CSRF.search((await client.get(address)).text)
    assert token is not None

    no_reason = await client.post(address, data={"csrf": token.group(1), "function": "bs_sleep",
                                                 "value": "a_lot", "reason": "   "})
    assert no_reason.status_code == 400
    assert 'data-key="ratings.problem.no_reason"' in section(no_reason, "bs_sleep")
    bad_value = await client.post(address, data={"csrf": token.group(1), "function": "bs_sleep",
                                                 "value": "3", "reason": "seen"})
    assert bad_value.status_code == 400
    assert 'data-key="ratings.problem.bad_value"' in section(bad_value, "bs_sleep")
    assert "seen</textarea>" in section(bad_value, "bs_sleep")  # what was typed is kept
    forged = await client.post(address, data={"function": "bs_sleep", "value": "a_lot",
                                              "reason": "forged"})
    assert forged.status_code == 403

    stranger = await signed_in(browser, other)
    assert (await stranger.get(address)).status_code == 404
    their_token = CSRF.search((await stranger.get("/clinic/")).text)
    assert their_token is not None
    post = await stranger.post(address, data={"csrf": their_token.group(1),
                                              "function": "bs_sleep", "value": "a_lot",
                                              "reason": "not mine"})
    assert post.status_code == 404
    assert (await stranger.get("/clinic/interviews/nosuchid/ratings")).status_code == 404
    assert stored(db_path) == []
    # Audited without the id: a guessed id must not land in a stranger's trail.
    denied = [e for e in events(db_path, "denied") if e[2] == "web_ratings"]
    assert [e[0] for e in denied] == [None] * 3
    anonymous = browser()
    signed_out = await anonymous.get(address)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/clinic/signin"
