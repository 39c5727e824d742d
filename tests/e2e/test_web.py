"""The web channel end to end: a family answers through forms, against a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.service import DialogueService
from bot.web.app import WebConfig, create_app
from bot.web.pages import MAX_ANSWER_CHARS
from flows.catalog import FlowCatalog
from store.sqlite import Store
from tests.conftest import Clock
from tests.e2e.web_client import Page, WebPerson

#: What a family types where the sample flow asks for words or numbers.
TYPED = {"child_age": "3 years", "siblings": "2"}
NAVIGATION = {"command.back", "command.skip", "command.review", "command.pause",
              "command.code", "command.forget", "send-text", "lang_es", "lang_en"}

People = Callable[..., WebPerson]


@pytest.fixture
async def people(service: DialogueService) -> AsyncIterator[People]:
    clients: list[httpx.AsyncClient] = []

    def open_browser(config: WebConfig | None = None, base: str = "http://testserver",
                     peer: str = "127.0.0.1") -> WebPerson:
        app = create_app(service, config or WebConfig(rate_per_minute=10_000))
        transport = httpx.ASGITransport(app, client=(peer, 50000))
        client = httpx.AsyncClient(transport=transport, base_url=base)
        clients.append(client)
        return WebPerson(client)

    yield open_browser
    for client in clients:
        await client.aclose()


def answers_in(db: Path) -> list[tuple[str, int]]:
    """(item, revision) of every stored answer revision, read from the file itself."""
    with sqlite3.connect(db) as conn:
        return [(str(r[0]), int(r[1])) for r in conn.execute(
            "SELECT item_key, revision FROM answers ORDER BY id")]


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def begin(person: WebPerson) -> Page:
    await person.open()
    await person.command("start")
    return await person.press("agree")


async def answer_current(person: WebPerson) -> Page:
    """Answer the question on the page the way a family would: a button, or a few words."""
    page = person.page
    assert page is not None and page.question is not None
    if page.text_form is not None:
        return await person.type(TYPED.get(page.question, "Fine, thank you"))
    options = [b for b in page.buttons if b.message == "replies.ask" and b.key not in NAVIGATION]
    if any(b.key == "done" for b in options):
        await person.press(options[0].key)
        return await person.press("done")
    return await person.press(options[0].key)


async def answer_all(person: WebPerson) -> Page:
    page = person.page
    assert page is not None
    for _ in range(80):
        if page.question is None:
            if "replies.revisit_offer" in page.keys:
                page = await person.press("to_review")
            return page
        page = await answer_current(person)
    raise AssertionError("the interview never ended")


async def test_family__answers_whole_sample__through_forms(people: People, db_path: Path) -> None:
    ana = people()
    page = await ana.open()
    assert page.status == 200 and page.keys == ["web.welcome"] and page.lang == "en"
    page = await ana.command("start")
    assert page.keys == ["replies.consent"]
    page = await ana.press("agree")
    assert page.question == "child_name" and page.text_tag == "textarea"
    assert "About your child" in page.texts[-1]  # the section's title (flow data)
    page = await answer_all(ana)
    assert "replies.review" in page.keys and "replies.review_actions" in page.keys
    page = await ana.press("submit")
    assert page.keys == ["replies.send_confirm"]  # only the question, nothing sent yet
    assert (await ana.open()).keys == ["replies.send_confirm"]
    page = await ana.press("not_yet")
    assert "replies.review" in page.keys
    page = await ana.press("submit")
    page = await ana.press("send_now")
    assert "replies.submitted" in page.keys
    # Sent is the end: no button here starts another interview.
    assert "command.start" not in {b.key for b in page.buttons}
    with sqlite3.connect(db_path) as conn:
        state = conn.execute("SELECT state FROM interviews").fetchone()[0]
    assert state == "submitted"
    assert len({item for item, _ in answers_in(db_path)}) >= 8


async def test_get__twice__changes_nothing(people: People, db_path: Path) -> None:
    ana = people()
    await begin(ana)
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT revision, updated_at FROM interviews").fetchall()
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    first = await ana.open()
    second = await ana.open()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT revision, updated_at FROM interviews").fetchall() == before
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == events
    assert first.question == second.question == "child_name"


async def test_pause__then_continue__same_question(people: People) -> None:
    ana = people()
    await begin(ana)
    await ana.type("Sam")
    page = await ana.command("pause")
    assert "replies.paused" in page.keys and "replies.resume_offer" in page.keys
    # The pause reply says to take a resume code to another device: the page offers it.
    assert "command.code" in {b.key for b in page.buttons}
    assert (await ana.open()).keys == page.keys  # a reload shows the same
    page = await ana.press("continue")
    assert page.question == "child_age"


async def test_review__edit_by_number__asks_it_again_then_returns(people: People) -> None:
    ana = people()
    await begin(ana)
    page = await answer_all(ana)
    assert "replies.review" in page.keys
    page = await ana.type("1")
    assert page.question == "child_name"
    page = await ana.type("Robin")
    assert "replies.review_return" in page.keys
    page = await ana.press("show_answers")
    assert "Robin" in " ".join(page.texts)


async def test_back_and_skip__navigation_commands(people: People) -> None:
    ana = people()
    await begin(ana)
    await ana.type("Sam")
    page = await ana.command("back")
    assert page.question == "child_name"
    page = await ana.command("skip")
    assert page.question == "child_age"


async def test_same_form__posted_twice__one_answer(people: People, db_path: Path) -> None:
    ana = people()
    page = await begin(ana)
    assert page.text_form is not None
    # "3" is a fine answer to this question and to the next (an age): only the nonce
    # tells the second post apart from a new answer.
    form = {**page.text_form, "text": "3"}
    first = await ana.client.post("/step", data=form)
    second = await ana.client.post("/step", data=form)
    assert first.status_code == second.status_code == 303
    assert [item for item, _ in answers_in(db_path)] == ["child_name"]
    assert (await ana.open()).question == "child_age"


async def test_post__without_csrf__refused_nothing_saved(people: People, db_path: Path) -> None:
    ana = people()
    page = await begin(ana)
    assert page.text_form is not None
    form = {**page.text_form, "text": "Sam"}
    for forged in ({**form, "csrf": ""}, {k: v for k, v in form.items() if k != "csrf"},
                   {**form, "csrf": "x" * 24}):
        refused = await ana.post("/step", forged)
        assert refused.status == 403 and refused.notice == "web.forbidden"
    stranger = people()  # another browser's own session cannot post Ana's form
    await stranger.open()
    assert (await stranger.post("/step", form)).status == 403
    assert answers_in(db_path) == []


@pytest.mark.parametrize(
    ("fields", "status", "notice"),
    [
        ({"text": ""}, 422, "web.empty_text"),
        ({"text": "   "}, 422, "web.empty_text"),
        ({"text": "x" * (MAX_ANSWER_CHARS + 1)}, 422, "web.too_long"),
        ({"nonce": "forged.1.abc", "text": "Sam"}, 400, "web.stale_form"),
        ({"nonce": "", "text": "Sam"}, 400, "web.stale_form"),
        ({"command": "drop_tables"}, 400, "web.bad_form"),
        ({}, 400, "web.bad_form"),
    ],
)
async def test_bad_form__clear_notice__nothing_lost(
    people: People, db_path: Path, fields: dict[str, str], status: int, notice: str
) -> None:
    ana = people()
    page = await begin(ana)
    await ana.type("Sam")
    page = await ana.open()
    assert page.text_form is not None
    refused = await ana.post("/step", {**page.text_form, **fields})
    assert (refused.status, refused.notice) == (status, notice)
    assert refused.question == "child_age"  # the page as it is now, under the notice
    assert [item for item, _ in answers_in(db_path)] == ["child_name"]


async def test_unknown_choice__says_stale__never_500(people: People, db_path: Path) -> None:
    ana = people()
    page = await begin(ana)
    assert page.text_form is not None
    page = await ana.post("/step", {**page.text_form, "choice": "1:nope:3:x:o1"})
    assert page.status == 200 and "replies.stale" in page.keys
    assert page.question == "child_name"


async def test_not_a_form__refused_cleanly(people: People) -> None:
    ana = people()
    await ana.open()
    response = await ana.client.post("/step", content=b"\xff\xfe", headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 403)
    response = await ana.client.post("/step", json={"text": "hi"})
    assert response.status_code == 400
    assert (await ana.client.get("/nowhere")).status_code == 404
    assert (await ana.client.delete("/step")).status_code == 405


async def test_headers__strict_on_every_page(people: People) -> None:
    ana = people()
    response = await ana.client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "<script" not in response.text and "style=" not in response.text
    css = await ana.client.get("/static/app.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "nosniff" in css.headers["x-content-type-options"]


async def test_cookie__secure_behind_https(people: People) -> None:
    ana = people(WebConfig(secure=True), base="https://testserver")
    response = await ana.client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-hearth=") and "secure" in cookie.lower()


async def test_session__stored_hashed__expires_when_idle(
    people: People, db_path: Path, clock: Clock
) -> None:
    ana = people(WebConfig(idle=timedelta(hours=2), rate_per_minute=10_000))
    await begin(ana)
    cookie = next(iter(ana.client.cookies.values()))
    with sqlite3.connect(db_path) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM web_sessions")]
    assert len(stored) == 1 and cookie not in stored[0]
    clock.advance(hours=1)
    assert (await ana.open()).question == "child_name"
    clock.advance(hours=3)
    page = await ana.open()
    assert page.keys == ["web.welcome"]  # a new session: the old cookie opens nothing
    assert next(iter(ana.client.cookies.values())) != cookie


async def test_session__absolute_expiry(people: People, clock: Clock) -> None:
    ana = people(WebConfig(lifetime=timedelta(hours=5), rate_per_minute=10_000))
    await begin(ana)
    for _ in range(6):
        clock.advance(hours=1)
        page = await ana.open()
    assert page.keys == ["web.welcome"]


async def test_rate_limit__429_page(people: People) -> None:
    ana = people(WebConfig(rate_per_minute=10))
    statuses = [(await ana.client.get("/")).status_code for _ in range(15)]
    assert statuses[0] == 200 and statuses[-1] == 429
    page = await ana.open()
    assert page.status == 429 and page.notice == "web.too_many"


async def test_rate_limit__per_link(people: People) -> None:
    ana = people()
    statuses = [(await ana.client.get("/start/GUESS123")).status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    assert (await ana.client.get("/start/OTHER456")).status_code == 200


async def test_forwarded_for__only_from_trusted_proxy(people: People) -> None:
    direct = people(WebConfig(rate_per_minute=3))
    for n in range(12):  # spoofed headers from an untrusted peer are ignored
        last = await direct.client.get("/", headers={"x-forwarded-for": f"10.9.9.{n}"})
    assert last.status_code == 429
    proxied = people(WebConfig(rate_per_minute=3, trusted_proxies=("127.0.0.1",)))
    for n in range(12):  # behind the proxy each forwarded client has its own bucket
        last = await proxied.client.get("/", headers={"x-forwarded-for": f"10.9.8.{n}"})
    assert last.status_code == 200


async def test_invitation_link__get_changes_nothing__begin_posts_code(
    people: People, db_path: Path
) -> None:
    ana = people()
    page = await ana.open("/start/ABCD2345")
    assert page.keys == ["web.invited"]
    begin_button = page.button("command.start")
    assert begin_button.fields["args"] == "ABCD2345"
    assert count(db_path, "people") == 0 and count(db_path, "interviews") == 0


async def test_spanish__chosen__page_in_spanish(people: People) -> None:
    ana = people()
    await begin(ana)
    page = await ana.press("lang_es")
    assert page.lang == "es" and "replies.language_set" in page.keys
    assert page.question == "child_name"
    assert (await ana.open()).lang == "es"


async def test_forget__erases_web_sessions_with_the_person(
    people: People, db_path: Path
) -> None:
    ana = people()
    await begin(ana)
    await ana.type("Sam")
    other = people()
    await other.open()
    assert count(db_path, "web_sessions") == 2
    page = await ana.command("forget")
    assert "clinician.forget_confirm" in page.keys
    page = await ana.press("button_erase")
    assert "clinician.erased" in page.keys
    assert count(db_path, "web_sessions") == 1  # only the other browser's
    assert answers_in(db_path) == []
    page = await ana.open()
    assert page.keys == ["web.welcome"]


async def test_question_page__small(people: People) -> None:
    ana = people()
    page = await begin(ana)
    css = await ana.client.get("/static/app.css")
    assert len(page.html.encode()) + len(css.content) < 30_000


async def test_healthz(people: People) -> None:
    response = await people().client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok"


async def test_access_log__never_prints_an_invitation_code(
    people: People, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    ana = people()
    with caplog.at_level(logging.INFO, logger="hearth.web.access"):
        await ana.open("/start/SECRETCODE99")
        await ana.open("/")
    logged = [r.getMessage() for r in caplog.records if r.name == "hearth.web.access"]
    assert any("/start/[code]" in line for line in logged)
    assert all("SECRETCODE99" not in line for line in logged) and len(logged) == 2


async def test_typed_slash_command__is_a_command(people: People) -> None:
    ana = people()
    await begin(ana)
    page = await ana.type("/pause")
    assert "replies.paused" in page.keys


async def test_new_browser__speaks_its_language(people: People) -> None:
    leo = people()
    leo.client.headers["accept-language"] = "es-MX,es;q=0.9"
    page = await leo.open()
    assert page.lang == "es" and page.keys == ["web.welcome"]
    page = await leo.command("start")
    assert page.lang == "es" and page.keys == ["replies.consent"]


async def test_resume_code__another_browser_continues__same_question(
    people: People, db_path: Path
) -> None:
    from tests.unit.test_resume_codes import SHOWN

    ana = people()
    await begin(ana)
    await ana.type("Sam")
    page = await ana.command("code")
    assert "resume.code_issued" in page.keys
    found = SHOWN.search(" ".join(page.texts))
    assert found
    laptop = people()  # another device: a new browser, a new web person
    page = await laptop.open()
    assert page.keys == ["web.welcome"]
    page = await laptop.post(
        "/continue", {**page.button("command.continue").fields, "code": found.group(1)})
    assert "resume.continued" in page.keys and page.question == "child_age"
    assert (await ana.open()).question != "child_age"  # the first browser no longer answers
    assert [item for item, _ in answers_in(db_path)] == ["child_name"]


async def test_wrong_resume_code__clear_message__nothing_moves(people: People) -> None:
    leo = people()
    page = await leo.open()
    page = await leo.post("/continue", {**page.button("command.continue").fields,
                                        "code": "ABCD-EFGH"})
    assert page.status == 200 and page.question is None
    assert page.keys and page.keys[0].startswith("resume.")


async def test_invitation_link__family_begins_on_the_web__clinicians_interview(
    store: Store, catalog: FlowCatalog, clock: Clock, db_path: Path
) -> None:
    from tests.integration.clinic import clinic_service, new_interview, register

    clinic = clinic_service(store, catalog, clock)
    doc = await register(clinic, "doc")
    code, interview_id = await new_interview(doc, "Sam")
    app = create_app(clinic, WebConfig(rate_per_minute=10_000))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://testserver") as client:
        family = WebPerson(client)
        page = await family.open(f"/start/{code}")
        assert page.keys == ["web.invited"]
        page = await family.command("start")
        assert page.keys == ["clinician.invite_claimed", "replies.consent"]
        page = await family.press("agree")
        assert page.question == "child_name"
        await family.type("Sam")
    with sqlite3.connect(db_path) as conn:
        respondent = conn.execute(
            "SELECT p.channel FROM interviews i JOIN people p ON p.id = i.respondent_id "
            "WHERE i.id = ?", (interview_id,)).fetchone()
    assert respondent == ("web",)
    assert [item for item, _ in answers_in(db_path)] == ["child_name"]


async def test_teacher__fills_the_minimap_in_a_browser(
    store: Store, catalog: FlowCatalog, clock: Clock, db_path: Path
) -> None:
    from tests.integration.clinic import clinic_service, register, submitted_history
    from tests.integration.test_informants import NOTE, TEACHER, ask_teacher

    clinic = clinic_service(store, catalog, clock)
    doc = await register(clinic, "doc")
    code, form = await ask_teacher(doc, await submitted_history(clinic, "doc", "fam"))
    app = create_app(clinic, WebConfig(rate_per_minute=10_000))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://testserver") as client:
        teacher = WebPerson(client)
        await teacher.open(f"/start/{code}")
        page = await teacher.command("start")
        assert "informants.informant_welcome" in page.keys
        page = await teacher.press("agree")
        for _ in range(40):
            if page.question is None:
                break
            if page.question == "mm_note":
                assert page.text_tag == "textarea"
                page = await teacher.type(NOTE)
            else:
                page = await teacher.press(TEACHER.get(page.question, "typical"))
        assert "replies.review" in page.keys
        await teacher.press("submit")
        page = await teacher.press("send_now")
        assert "replies.submitted" in page.keys
    with sqlite3.connect(db_path) as conn:
        state = conn.execute("SELECT state FROM interviews WHERE id = ?", (form,)).fetchone()
    assert state == ("submitted",)


async def test_family__developmental_history__sends__sees_their_summary(
    store: Store, clock: Clock
) -> None:
    """The scored interview on the web: after the confirmed send the page carries the
    family's own summary (the same as Telegram's), not only the thank-you."""
    service = DialogueService(store, FlowCatalog.bundled("developmental_history"), clock=clock)
    app = create_app(service, WebConfig(rate_per_minute=10_000))
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ana = WebPerson(client)
        page = await begin(ana)
        for _ in range(200):  # skip everything but the child's age: any answer may be skipped
            if page.question is None:
                break
            if page.question == "child_age":
                page = await ana.type("4 years")
            else:
                page = await ana.command("skip")
        if "replies.revisit_offer" in page.keys:
            page = await ana.press("to_review")
        assert "replies.review" in page.keys, page.keys
        await ana.press("submit")
        page = await ana.press("send_now")
    assert "replies.submitted" in page.keys
    assert "report.caregiver" in page.keys, page.keys  # the scored summary (bot/render.py)
