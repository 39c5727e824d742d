"""The clinician's web workspace end to end: sign-in by link, caseload, interview page
(real SQLite file, the ASGI app through httpx)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.features.clinician import end_role, grant_role
from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from store.contract import UnitOfWork
from tests.conftest import Clock, Person
from tests.e2e.conftest import Browser

LINK = re.compile(r"/clinic/signin/([A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def make_clinician(service: DialogueService, user: str) -> Person:
    await service.store.run(
        lambda uow: grant_role(uow, "console", user, "clinician", by=None, now=service.clock()))
    return Person(service, user)


async def web_link(clinician: Person) -> str:
    """The token of a fresh `/web` link (the bot's reply says it once)."""
    await clinician.command("web")
    assert clinician.keys == ["clinic.web_link"]
    found = LINK.search(clinician.text)
    assert found is not None
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get(f"/clinic/signin/{token}")
    assert page.status_code == 200 and 'data-key="clinic.signin"' in page.text
    return await client.post("/clinic/signin", data={"token": token})


async def signed_in(browser: Browser, clinician: Person) -> httpx.AsyncClient:
    client = browser()
    answer = await sign_in(client, await web_link(clinician))
    assert answer.status_code == 303 and answer.headers["location"] == "/clinic/"
    return client


def events(db: Path, kind: str) -> list[tuple[str | None, int | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT interview_id, person_id, detail FROM events WHERE kind = ? ORDER BY id",
            (kind,))]


def notice(page: httpx.Response) -> str | None:
    found = re.search(r'class="notice"[^>]*data-key="([^"]+)"', page.text)
    return found.group(1) if found else None


# -- signing in ------------------------------------------------------------------------------


async def test_web_link__signs_in_once__get_spends_nothing(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    token = await web_link(dr)
    client = browser()
    # GET twice (a link preview, a reload): nothing is spent, no session is made.
    for _ in range(2):
        page = await client.get(f"/clinic/signin/{token}")
        assert page.status_code == 200 and "hearth-clinic" not in page.headers.get(
            "set-cookie", "")
    answer = await client.post("/clinic/signin", data={"token": token})
    assert answer.status_code == 303
    assert (await client.get("/clinic/")).status_code == 200
    # The same link again, from another browser: refused.
    again = await sign_in(browser(), token)
    assert again.status_code == 403 and notice(again) == "clinic.signin_failed"
    with sqlite3.connect(db_path) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM clinic_links")]
    assert stored and token not in stored[0]  # kept only as a hash


async def test_web_link__expired_or_wrong__refused(
        service: DialogueService, browser: Browser, clock: Clock) -> None:
    dr = await make_clinician(service, "dr")
    token = await web_link(dr)
    clock.advance(minutes=16)
    late = await sign_in(browser(), token)
    assert late.status_code == 403 and notice(late) == "clinic.signin_failed"
    fresh = await web_link(dr)
    wrong = fresh[:-4] + ("AAAA" if not fresh.endswith("AAAA") else "BBBB")
    bad = await sign_in(browser(), wrong)
    assert bad.status_code == 403 and notice(bad) == "clinic.signin_failed"
    assert (await sign_in(browser(), fresh)).status_code == 303


async def test_web_link__only_for_clinicians__and_rate_limited(service: DialogueService) -> None:
    family = Person(service, "mum")
    await family.command("web")
    assert family.keys == ["clinician.not_clinician"]
    dr = await make_clinician(service, "dr")
    for _ in range(5):
        await web_link(dr)
    await dr.command("web")
    assert dr.keys == ["clinic.web_link_limited"]


async def test_no_session__sent_to_sign_in(browser: Browser) -> None:
    answer = await browser().get("/clinic/")
    assert answer.status_code == 303 and answer.headers["location"] == "/clinic/signin"


async def test_sign_in__cross_site_post_refused(service: DialogueService, browser: Browser) -> None:
    dr = await make_clinician(service, "dr")
    token = await web_link(dr)
    client = browser()
    answer = await client.post("/clinic/signin", data={"token": token},
                               headers={"origin": "https://evil.example"})
    assert answer.status_code == 403
    answer = await client.post("/clinic/signin", data={"token": token},
                               headers={"sec-fetch-site": "cross-site", "origin": "null"})
    assert answer.status_code == 403
    # A real browser's own POST: fetch metadata says same-origin, and Origin is "null"
    # under the pages' no-referrer policy (tests/browser/test_clinic_browser.py signs in so).
    page = await client.get(f"/clinic/signin/{token}")
    assert page.status_code == 200
    answer = await client.post("/clinic/signin", data={"token": token},
                               headers={"sec-fetch-site": "same-origin", "origin": "null"})
    assert answer.status_code == 303  # not spent by the refusals


async def test_sign_out__needs_csrf__ends_the_session(
        service: DialogueService, browser: Browser) -> None:
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    refused = await client.post("/clinic/signout", data={"csrf": "nope"})
    assert refused.status_code == 403
    assert (await client.get("/clinic/")).status_code == 200
    csrf = CSRF.search((await client.get("/clinic/")).text)
    assert csrf is not None
    out = await client.post("/clinic/signout", data={"csrf": csrf.group(1)})
    assert out.status_code == 200 and notice(out) == "clinic.signed_out"
    assert (await client.get("/clinic/")).status_code == 303


async def test_removed_clinician__loses_the_workspace_mid_session(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    assert (await client.get("/clinic/")).status_code == 200
    await service.store.run(lambda uow: end_role(uow, "console", "dr", to=None, by=None,
                                                 now=service.clock()))
    gone = await client.get("/clinic/")
    assert gone.status_code in (303, 403)
    # Given the role again, the old session stays ended: a new link is needed.
    await make_clinician(service, "dr")
    assert (await client.get("/clinic/")).status_code == 303
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM clinic_sessions").fetchone()[0] == 0


async def test_role_taken_back_directly__refused_at_the_next_request(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    """Even a role changed behind the service's back (no session cleanup) is seen at once."""
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    await service.store.run(lambda uow: uow.people.set_role(
        uow.people.find("console", "dr").id, "caregiver"))  # type: ignore[union-attr]
    gone = await client.get("/clinic/")
    assert gone.status_code == 403 and notice(gone) == "clinic.no_longer_clinician"
    # The session ended there (not only its cookie dropped): nothing is left to revive.
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM clinic_sessions").fetchone()[0] == 0


async def test_headers__strict_on_workspace_pages(service: DialogueService,
                                                  browser: Browser) -> None:
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    page = await client.get("/clinic/")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    cookie = client.cookies.get("hearth-clinic")
    assert cookie is not None


# -- the caseload and the interview page -----------------------------------------------------


async def add_interview(service: DialogueService, owner: str, nickname: str, *,
                        state: str = "answering", answers: dict[str, list[str]] | None = None,
                        flagged: int = 0, family: str | None = None) -> str:
    """An interview of `owner` on the scored flow, with answer revisions (oldest first)."""
    now = service.clock()

    def make(uow: UnitOfWork) -> str:
        clinician = uow.people.find("console", owner)
        assert clinician is not None
        respondent = uow.people.get_or_create("console", family, now=now) if family else None
        flow = service.catalog.latest("developmental_history")
        record = uow.interviews.create(
            flow_id=flow.id, flow_version=flow.version, owner_id=clinician.id,
            respondent_id=respondent.id if respondent else None, nickname=nickname,
            state=state, now=now)
        for key, values in (answers or {}).items():
            for revision, value in enumerate(values, 1):
                uow.answers.append(record.id, key, value, revision=revision,
                                   by=respondent.id if respondent else clinician.id, now=now)
        for _ in range(flagged):
            uow.audit.add("safety_flag", interview_id=record.id, person_id=None, now=now,
                          detail='{"concern": "harm", "message": ""}')
        return record.id

    return await service.store.run(make)


def listed(page: httpx.Response) -> list[str]:
    """The interview ids of the caseload's rows, in the order shown."""
    return re.findall(r'<tr data-interview="([^"]+)"', page.text)


async def test_caseload__own_interviews_only__sorted_and_filtered(
        service: DialogueService, browser: Browser, clock: Clock, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    await make_clinician(service, "other")
    bea = await add_interview(service, "dr", "Bea", answers={"respondent": ["parent"]})
    clock.advance(hours=1)
    ana = await add_interview(service, "dr", "Ana", state="submitted", flagged=2,
                              answers={"respondent": ["parent"], "living": ["kin"]})
    clock.advance(hours=1)
    cal = await add_interview(service, "dr", "Cal", state="paused")
    theirs = await add_interview(service, "other", "Zed")
    client = await signed_in(browser, dr)

    page = await client.get("/clinic/")
    assert listed(page) == [cal, ana, bea]  # most recent activity first
    assert theirs not in page.text and "Zed" not in page.text
    assert listed(await client.get("/clinic/?sort=nickname&order=asc")) == [ana, bea, cal]
    assert listed(await client.get("/clinic/?sort=nickname&order=desc")) == [cal, bea, ana]
    assert listed(await client.get("/clinic/?sort=progress&order=desc"))[0] == ana
    assert listed(await client.get("/clinic/?sort=flags&order=desc"))[0] == ana
    assert listed(await client.get("/clinic/?flagged=1")) == [ana]
    assert listed(await client.get("/clinic/?state=paused")) == [cal]
    assert listed(await client.get("/clinic/?q=be")) == [bea]
    assert listed(await client.get("/clinic/?sort=nope&state=nope&page=x")) == [cal, ana, bea]
    # Each listing audits every interview it showed, by whom.
    seen = [(i, p) for i, p, d in events(db_path, "viewed") if d == "web_list"]
    assert {i for i, _ in seen} == {ana, bea, cal}


async def test_caseload__paged_by_links(service: DialogueService, browser: Browser,
                                        clock: Clock) -> None:
    dr = await make_clinician(service, "dr")
    made = []
    for n in range(55):
        made.append(await add_interview(service, "dr", f"Kid{n:02d}"))
        clock.advance(minutes=1)
    client = await signed_in(browser, dr)
    first = await client.get("/clinic/")
    assert len(listed(first)) == 50 and 'data-key="page.next"' in first.text
    second = await client.get("/clinic/?sort=activity&order=desc&page=2")
    assert listed(second) == list(reversed(made))[50:]
    assert 'data-key="page.prev"' in second.text
    assert listed(await client.get("/clinic/?page=999")) == listed(second)  # the last page


async def test_interview_page__report_revisions_audit(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    sam = await add_interview(service, "dr", "Sam", family="mum",
                              answers={"respondent": ["foster", "parent"], "living": ["kin"]})
    client = await signed_in(browser, dr)
    page = await client.get(f"/clinic/interviews/{sam}")
    assert page.status_code == 200
    # The report inline, its charts as data: images the page's policy allows, its style
    # allowed by hash (no 'unsafe-inline').
    assert 'class="report"' in page.text and 'src="data:image/png;base64,' in page.text
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data:" in csp and "'sha256-" in csp and "unsafe-inline" not in csp
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp  # the browser applies exactly this stylesheet
    # Both revisions of the changed answer, oldest first, by the family.
    row = re.search(r'<tr data-item="respondent">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert re.findall(r'data-revision="(\d)" data-who="(\w+)"', row.group(1)) == [
        ("1", "family"), ("2", "family")]
    # The audit trail lists this very view, and the store has it.
    assert 'data-event="viewed"' in page.text
    assert (sam, await person_id(service, "dr"), "web_interview") in events(db_path, "viewed")


async def person_id(service: DialogueService, user: str) -> int:
    found = await service.store.read(lambda uow: uow.people.find("console", user))
    assert found is not None
    return found.id


async def test_interview_page__another_clinicians__not_found_and_not_leaked(
        service: DialogueService, browser: Browser, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    await make_clinician(service, "other")
    theirs = await add_interview(service, "other", "Zed", answers={"living": ["kin"]})
    client = await signed_in(browser, dr)
    foreign = await client.get(f"/clinic/interviews/{theirs}")
    unknown = await client.get("/clinic/interviews/AAAAAAAAAAAA")
    assert foreign.status_code == unknown.status_code == 404
    assert "Zed" not in foreign.text and theirs not in foreign.text
    assert notice(foreign) == notice(unknown) == "clinic.not_found"
    denied = [(i, d) for i, _, d in events(db_path, "denied")]
    assert denied == [(None, "web_interview"), (None, "web_interview")]
    assert not [e for e in events(db_path, "viewed") if e[0] == theirs]


async def test_interview_page__role_taken_back__refused_at_once(
        service: DialogueService, browser: Browser) -> None:
    dr = await make_clinician(service, "dr")
    sam = await add_interview(service, "dr", "Sam")
    client = await signed_in(browser, dr)
    assert (await client.get(f"/clinic/interviews/{sam}")).status_code == 200
    await service.store.run(lambda uow: end_role(uow, "console", "dr", to=None, by=None,
                                                 now=service.clock()))
    again = await client.get(f"/clinic/interviews/{sam}")
    assert again.status_code in (303, 403) and "Sam" not in again.text


async def test_cli_link__prints_a_working_link(
        service: DialogueService, browser: Browser, db_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    await make_clinician(service, "dr")
    monkeypatch.setenv("HEARTH_WEB_URL", "https://clinic.example")
    done = await asyncio.to_thread(
        main, ["--db", str(db_path), "clinician", "link", "console", "dr"])
    assert done == 0
    printed = capsys.readouterr().out
    assert "https://clinic.example/clinic/signin/" in printed
    found = LINK.search(printed)
    assert found is not None
    assert (await sign_in(browser(), found.group(1))).status_code == 303


async def test_access_log__never_prints_a_sign_in_link(
        service: DialogueService, browser: Browser, caplog: pytest.LogCaptureFixture) -> None:
    dr = await make_clinician(service, "dr")
    token = await web_link(dr)
    with caplog.at_level(logging.INFO, logger="hearth.web.access"):
        await sign_in(browser(), token)
    logged = [r.getMessage() for r in caplog.records if r.name == "hearth.web.access"]
    assert any("/clinic/signin/[code]" in line for line in logged)
    assert not any(token in line for line in logged)


async def test_sign_in_page__in_the_browser_language(browser: Browser) -> None:
    page = await browser().get("/clinic/signin/" + "A" * 43, headers={"accept-language": "es"})
    assert '<html lang="es">' in page.text and 'data-key="clinic.signin"' in page.text


async def test_session__expires_when_idle__swept_at_the_next_sign_in(
        service: DialogueService, browser: Browser, clock: Clock, db_path: Path) -> None:
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    clock.advance(hours=13)
    assert (await client.get("/clinic/")).status_code == 303
    await signed_in(browser, dr)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM clinic_sessions").fetchone()[0] == 1


async def test_sign_in_link__tries_rate_limited(service: DialogueService) -> None:
    app = create_app(service, WebConfig(rate_per_minute=10_000, link_rate_per_minute=3))
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        guesses = [await client.get(f"/clinic/signin/{n:043d}") for n in range(5)]
    assert [g.status_code for g in guesses][-1] == 429
    assert notice(guesses[-1]) == "clinic.too_many" and guesses[-1].headers["retry-after"]
