"""A family and a teacher answer on the web channel in a real browser, on a phone's screen.

Debian's chromium, headless, driven by Playwright; `hearth web` runs as a subprocess on
loopback with its own SQLite file. Pages are read through the contract's HTML hooks
(tests/browser/pages.py), never through their wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from flows.catalog import FlowCatalog
from tests.browser.pages import PHONE, Web, axe_blocking, resume_code
from tests.browser.server import Invitation, WebServer


@pytest.fixture
def new_web(browser: Browser, web_server: WebServer) -> Iterator[object]:
    """Opens a fresh browser context (a new person: own cookies) on a phone's screen."""
    contexts: list[BrowserContext] = []

    def make(locale: str = "en-US") -> Web:
        context = browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=1,
                                      is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Web(context.new_page(), web_server.url)

    yield make
    for context in contexts:
        context.close()


def fits_a_phone(web: Web, where: str) -> None:
    """No sideways scrolling at 360 px, and no text under 16 px."""
    assert web.scroll_width() <= PHONE["width"], f"{where}: scrolls sideways at 360 px"
    smallest = web.smallest_text_px()
    assert smallest >= 16, f"{where}: text of {smallest}px (16px at least on a phone)"


def begin(web: Web, link: str) -> None:
    """Open an invitation link and press its one button: the consent comes next."""
    web.page.goto(link)
    assert web.asked is None  # the landing page changes nothing until its form is sent
    web.begin()


def agree(web: Web) -> None:
    assert "replies.consent" in web.keys, web.keys
    web.choose("agree")


def edit_first_answer(web: Web) -> None:
    """From the review: change the first answer, by its button or by sending its number."""
    edits = web.page.locator('button[name="choice"][data-key^="edit"]')
    if edits.count():
        web._submit(edits.first)
    else:
        web.type("1")


def answer_to_review(web: Web, *, name: str = "Alex") -> None:
    """The whole sample interview, from its first question to the review, by taps and typing."""
    assert web.asked == "child_name"
    web.type(name)
    web.type("2 years 6 months")
    web.choose("foster")
    web.choose("3")
    web.type("2")
    web.choose("sleep")
    web.choose("done")
    web.choose("baby")
    web.choose("done")
    web.choose("3")
    web.type("Wakes at 3am most nights")
    web.choose("no")
    assert "replies.review" in web.keys, web.keys


def test_a_family_answers_pauses_resumes_on_another_device_edits_and_sends(
    new_web, web_server: WebServer, screenshots: Path | None
) -> None:
    invitation: Invitation = web_server.invite("Kit")
    phone: Web = new_web()

    phone.page.goto(invitation.link)
    fits_a_phone(phone, "invitation landing page")
    phone.screenshot(screenshots, "welcome")
    phone.begin()
    agree(phone)
    assert phone.asked == "child_name"
    fits_a_phone(phone, "a typed question")
    phone.type("Alex")
    phone.type("2 years 6 months")
    assert phone.asked == "respondent"
    assert {"parent", "foster", "kin", "clinician"} <= set(phone.option_keys())
    fits_a_phone(phone, "a question with options")
    phone.screenshot(screenshots, "question")
    phone.choose("foster")
    assert phone.asked == "sleep"
    phone.choose("3")
    assert phone.asked == "siblings"

    # Before leaving this phone the family asks for a resume code ("Get a resume code",
    # under every question), then pauses.
    phone.command("code")
    assert "resume.code_issued" in phone.keys, phone.keys
    code = resume_code(phone.text_of("resume.code_issued"))
    assert code, "no resume code shown to the family"
    assert phone.asked == "siblings"  # the question stays on screen under the code
    phone.command("pause")
    assert "replies.paused" in phone.keys, phone.keys

    # Another device: the same link again is not the interview; it asks for the resume code.
    laptop: Web = new_web()
    begin(laptop, invitation.link)
    assert laptop.asked is None, "a used link opened elsewhere showed the interview"
    assert laptop.page.locator('form[action="/continue"] #code').count() == 1, laptop.keys
    laptop.continue_with(code)
    assert laptop.asked == "siblings", laptop.keys  # where the family stopped

    # The first browser no longer holds the interview.
    phone.open("/")
    assert phone.asked is None, phone.keys

    laptop.type("2")
    laptop.choose("sleep")
    laptop.choose("done")
    laptop.choose("baby")
    laptop.choose("done")
    laptop.choose("3")
    laptop.type("Wakes at 3am most nights")
    laptop.choose("no")
    assert "replies.review" in laptop.keys, laptop.keys
    review = laptop.page.locator("main").inner_text()
    assert "Alex" in review and "foster" not in laptop.option_keys()
    fits_a_phone(laptop, "the review")
    laptop.screenshot(screenshots, "review")

    edit_first_answer(laptop)
    assert laptop.asked == "child_name", laptop.keys
    laptop.type("Robin")
    assert "replies.review_return" in laptop.keys, laptop.keys
    laptop.choose("show_answers")
    review = laptop.page.locator("main").inner_text()
    assert "Robin" in review and "Alex" not in review

    laptop.choose("submit")
    assert "replies.send_confirm" in laptop.keys, laptop.keys  # sending asks first
    laptop.choose("send_now")
    assert "replies.submitted" in laptop.keys, laptop.keys
    fits_a_phone(laptop, "the summary")
    laptop.screenshot(screenshots, "summary")

    # Neither the invitation nor the resume code is left in the server's log.
    log = web_server.log()
    assert invitation.code not in log and code not in log


def test_the_family_sees_its_resume_code_on_the_web(new_web, web_server: WebServer) -> None:
    web: Web = new_web()
    begin(web, web_server.invite("Kit").link)
    agree(web)
    web.command("code")  # "Get a resume code", under every question
    assert "resume.code_issued" in web.keys, web.keys
    code = resume_code(web.text_of("resume.code_issued"))
    assert code, web.text_of("resume.code_issued")
    assert web.asked == "child_name"  # the question stays on screen under the code
    # Shown once: the page drawn again (a reload, the back button) no longer holds it.
    web.open("/")
    assert code not in web.page.content()


def test_the_paused_page_offers_the_resume_code(new_web, web_server: WebServer) -> None:
    web: Web = new_web()
    begin(web, web_server.invite("Kit").link)
    agree(web)
    web.command("pause")
    assert "replies.paused" in web.keys, web.keys
    shown = resume_code(web.page.locator("main").inner_text())
    offered = web.page.locator('button[name="command"][value="code"]').count()
    assert shown or offered, web.keys


def test_keyboard_only_tab_reaches_an_option_and_enter_answers_it(
    new_web, web_server: WebServer
) -> None:
    web: Web = new_web()
    begin(web, web_server.invite("Kit").link)
    agree(web)
    web.type("Alex")
    web.type("2 years 6 months")
    assert web.asked == "respondent"

    page = web.page
    page.locator("body").focus()
    for _ in range(40):  # the options come early in the tab order, before navigation
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e && e.name === 'choice' ? e.dataset.key : null; }"
        )
        if focused:
            break
    else:
        pytest.fail("Tab never reached an option button")
    ring = page.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            return {visible: e.matches(':focus-visible'), outline,
                    shadow: s.boxShadow !== 'none'};
        }"""
    )
    assert ring["visible"] and (ring["outline"] or ring["shadow"]), f"focus not shown: {ring}"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert web.asked == "sleep", web.keys  # the focused option answered the question


@pytest.mark.parametrize("locale", ["en", "es"])
def test_accessibility_of_question_review_and_summary(
    new_web, web_server: WebServer, locale: str
) -> None:
    web: Web = new_web("es-419" if locale == "es" else "en-US")
    begin(web, web_server.invite("Kit").link)
    if locale == "es" and web.lang != "es":
        web.choose("lang_es")  # the consent offers the other language
    assert web.lang == locale
    problems = {"consent": axe_blocking(web)}
    agree(web)
    problems["question (typed)"] = axe_blocking(web)
    web.type("Alex")
    web.type("2 años 6 meses" if locale == "es" else "2 years 6 months")
    problems["question (options)"] = axe_blocking(web)
    web.choose("foster")
    web.choose("3")
    web.type("2")
    web.choose("sleep")
    web.choose("done")
    web.choose("baby")
    web.choose("done")
    web.choose("3")
    web.type("nada")
    web.choose("no")
    assert "replies.review" in web.keys, web.keys
    assert web.lang == locale
    problems["review"] = axe_blocking(web)
    web.choose("submit")
    web.choose("send_now")
    assert "replies.submitted" in web.keys, web.keys
    problems["summary"] = axe_blocking(web)
    web.open("/")
    problems["welcome"] = axe_blocking(web)
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_a_teacher_fills_the_minimap(new_web, web_server: WebServer) -> None:
    flows = FlowCatalog.bundled("sample")
    if "minimap" not in {flow.id for flow in flows.flows.values()}:
        pytest.skip("the teachers' mini-map flow (flows/data/minimap.yaml and /informant, "
                    "issue 19's informants part) is not here yet")
    minimap = flows.latest("minimap")
    # A second informant joins a family's developmental-history interview (their answers
    # go on its map): the family need not have answered yet.
    family = web_server.invite("Kit", flow="developmental_history")
    link = web_server.invite_informant(family.interview_id, "teacher")
    own = {item.id for section in minimap.sections for item in section.items}

    teacher: Web = new_web()
    begin(teacher, link)
    agree(teacher)
    asked: list[str] = []
    for _ in range(80):
        if "replies.review" in teacher.keys:
            break
        question = teacher.asked
        assert question, teacher.keys
        asked.append(question)
        fits_a_phone(teacher, f"mini-map question {question}")
        answers = [k for k in teacher.option_keys()
                   if k not in {"back", "skip", "done"} and not k.startswith("lang_")]
        if answers:
            teacher.choose(answers[0])
            if teacher.asked == question and "done" in teacher.option_keys():
                teacher.choose("done")  # a pick-all-that-fit question
        else:
            teacher.type("Calm most mornings")
    else:
        pytest.fail(f"the mini-map never reached its review: {asked}")
    # The teacher sees only their own form: every question asked is one of the mini-map's,
    # each once, and the form is the mini-map's whole length (about 25 items), not a part.
    assert {q.split("[")[0] for q in asked} <= own, set(asked) - own
    assert len(set(asked)) == len(asked) >= 20, asked
    teacher.choose("submit")
    teacher.choose("send_now")
    assert "replies.submitted" in teacher.keys, teacher.keys
