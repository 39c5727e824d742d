"""The clinician's web workspace end to end: sign-in by link, caseload, interview page
(real SQLite file, the ASGI app through httpx)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.features.clinician import end_role, grant_role
from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from tests.conftest import Clock, Person

LINK = re.compile(r"/clinic/signin/([A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
Browser = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def browser(service: DialogueService) -> AsyncIterator[Browser]:
    clients: list[httpx.AsyncClient] = []
    app = create_app(service, WebConfig(rate_per_minute=10_000, link_rate_per_minute=10_000))

    def open_browser() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(client)
        return client

    yield open_browser
    for client in clients:
        await client.aclose()


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
    assert (await sign_in(client, token)).status_code == 303  # not spent by the refusal


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
        service: DialogueService, browser: Browser) -> None:
    """Even a role changed behind the service's back (no session cleanup) is seen at once."""
    dr = await make_clinician(service, "dr")
    client = await signed_in(browser, dr)
    await service.store.run(lambda uow: uow.people.set_role(
        uow.people.find("console", "dr").id, "caregiver"))  # type: ignore[union-attr]
    gone = await client.get("/clinic/")
    assert gone.status_code == 403 and notice(gone) == "clinic.no_longer_clinician"


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
